import {
  canonicalize,
  encodeEntry,
  isVerifyError,
  type LedgerEntry,
  parseEntry,
  type VerifyErrorCode,
  validateEntry,
} from '@custos/verify';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkEntryBytes } from '../src/entry/check-entry-bytes.js';
import { arbEntry, sampleEntry } from './helpers/entries.js';

const enc = (s: string) => new TextEncoder().encode(s);

function codeOf(f: () => unknown): VerifyErrorCode | undefined {
  try {
    f();
  } catch (err) {
    if (isVerifyError(err)) return err.code;
    throw err;
  }
  return undefined;
}

/** Both the reference parser and the fast audit check; they must agree. */
function accepts(bytes: Uint8Array): boolean {
  const slow = codeOf(() => parseEntry(bytes));
  const fast = codeOf(() => checkEntryBytes(bytes));
  expect(fast).toBe(slow);
  if (slow !== undefined) expect(slow).toBe('ENTRY_INVALID');
  return slow === undefined;
}

function withField(patch: Record<string, unknown>): Uint8Array {
  return enc(canonicalize({ ...sampleEntry(), ...patch }));
}

describe('ledger entry schema v1', () => {
  it('encodes canonically and parses back', () => {
    const e = sampleEntry(7);
    const bytes = encodeEntry(e);
    expect(new TextDecoder().decode(bytes)).toBe(canonicalize(e));
    expect(parseEntry(bytes)).toEqual(e);
    expect(accepts(bytes)).toBe(true);
    const minimal: LedgerEntry = {
      v: 1,
      type: 'system',
      time: '2026-11-29T22:00:00.000Z',
      principal: { id: 'custos', org: 'custos', orgKind: 'system' },
      action: 'start',
      resource: {},
      decision: 'none',
      reasons: [],
    };
    expect(accepts(encodeEntry(minimal))).toBe(true);
    expect(accepts(encodeEntry({ ...minimal, details: {} }))).toBe(true);
  });

  it.each([
    ['v 2', { v: 2 }],
    ['v as string', { v: '1' }],
    ['unknown type', { type: 'read' }],
    ['unknown decision', { decision: 'maybe' }],
    ['time without milliseconds', { time: '2026-11-29T22:00:00Z' }],
    ['time with offset', { time: '2026-11-29T22:00:00.000+01:00' }],
    ['time on 30 February', { time: '2026-02-30T00:00:00.000Z' }],
    ['time on 29 February of a common year', { time: '2026-02-29T00:00:00.000Z' }],
    ['time at hour 24', { time: '2026-11-29T24:00:00.000Z' }],
    ['time with second 60', { time: '2026-11-29T23:59:60.000Z' }],
    ['time in lowercase', { time: '2026-11-29t22:00:00.000z' }],
    ['principal orgKind unknown', { principal: { id: 'a', org: 'b', orgKind: 'vendor' } }],
    ['principal with extra field', { principal: { id: 'a', org: 'b', orgKind: 'parent', role: 'x' } }],
    ['principal missing id', { principal: { org: 'b', orgKind: 'parent' } }],
    ['principal empty id', { principal: { id: '', org: 'b', orgKind: 'parent' } }],
    ['empty action', { action: '' }],
    ['action of 1025 characters', { action: 'a'.repeat(1025) }],
    ['raw subject id', { resource: { subjectRef: 'alice@example.com' } }],
    ['subjectRef too short', { resource: { subjectRef: `sr1:${'a'.repeat(21)}` } }],
    ['subjectRef too long', { resource: { subjectRef: `sr1:${'a'.repeat(65)}` } }],
    ['subjectRef with bad characters', { resource: { subjectRef: `sr1:${'a'.repeat(21)}+` } }],
    ['negative count', { resource: { count: -1 } }],
    ['fractional count', { resource: { count: 1.5 } }],
    ['unsafe count', { resource: { count: 2 ** 53 } }],
    ['unknown resource field', { resource: { table: 'x' } }],
    ['reasons not an array', { reasons: 'because' }],
    ['empty reason', { reasons: [''] }],
    ['nested details', { details: { a: { b: 1 } } }],
    ['null in details', { details: { a: null } }],
    ['number array in details', { details: { a: [1] } }],
    ['empty details key', { details: { '': 'x' } }],
    ['unknown top-level field', { note: 'hi' }],
    ['null purpose', { purpose: null }],
    ['empty grantId', { grantId: '' }],
  ])('rejects %s with ENTRY_INVALID', (_name, patch) => {
    expect(accepts(withField(patch))).toBe(false);
    expect(codeOf(() => validateEntry({ ...sampleEntry(), ...patch }))).toBe('ENTRY_INVALID');
  });

  it('rejects missing required fields', () => {
    for (const k of ['v', 'type', 'time', 'principal', 'action', 'resource', 'decision', 'reasons']) {
      const e: Record<string, unknown> = { ...sampleEntry() };
      delete e[k];
      expect(accepts(enc(canonicalize(e)))).toBe(false);
    }
  });

  it.each([
    ['whitespace', (s: string) => s.replace(':', ': ')],
    ['a trailing newline', (s: string) => `${s}\n`],
    ['a leading BOM', (s: string) => `\ufeff${s}`],
    [
      'swapped key order',
      (s: string) =>
        s.replace(
          '{"action":"records.read","decision":"allow",',
          '{"decision":"allow","action":"records.read",',
        ),
    ],
    [
      'a duplicate key',
      (s: string) => s.replace('{"action":"records.read",', '{"action":"x","action":"records.read",'),
    ],
    ['an escaped slash', (s: string) => s.replace('records.read', 'records\\/read')],
    ['an escaped letter', (s: string) => s.replace('records.read', '\\u0072ecords.read')],
    ['an uppercase hex escape', (s: string) => s.replace('records.read', 'records\\u001Fread')],
    ['a long escape for a newline', (s: string) => s.replace('records.read', 'records\\u000aread')],
    ['a non-canonical number', (s: string) => s.replace('"count":1', '"count":1.0')],
    ['an exponent number', (s: string) => s.replace('"count":1', '"count":1e0')],
    ['a leading zero', (s: string) => s.replace('"count":1', '"count":01')],
    ['"v":1.0', (s: string) => s.replace('"v":1', '"v":1.0')],
  ])('rejects bytes with %s (not RFC 8785 canonical)', (_name, mutate) => {
    const canonical = canonicalize(sampleEntry(1));
    const mutated = mutate(canonical);
    expect(mutated).not.toBe(canonical);
    expect(accepts(enc(mutated))).toBe(false);
  });

  // The fast check reads short plain integers without Number(); both paths must agree on the
  // tokens around that shortcut: digit counts 15/16/17, zeros, signs, fractions and exponents.
  it.each([
    ['0', true],
    ['7', true],
    ['123456789012345', true],
    ['999999999999999', true],
    ['9007199254740991', true],
    ['9007199254740992', false],
    ['1234567890123456', true],
    ['12345678901234567', false],
    ['00', false],
    ['01', false],
    ['000000000000001', false],
    ['-0', false],
    ['-1', false],
    ['+1', false],
    ['1.0', false],
    ['1.5', false],
    ['1e3', false],
    ['1E3', false],
    ['', false],
  ])('count token %s is accepted only if canonical and a safe non-negative integer: %s', (token, ok) => {
    const canonical = canonicalize(sampleEntry(1));
    expect(canonical).toContain('"count":1,');
    expect(accepts(enc(canonical.replace('"count":1,', `"count":${token},`)))).toBe(ok);
  });

  it('rejects invalid UTF-8, overlong encodings, surrogates and oversized entries', () => {
    const base = enc(canonicalize(sampleEntry(1)));
    const at = new TextDecoder().decode(base).indexOf('records.read');
    for (const bad of [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]]) {
      const b = new Uint8Array([...base.subarray(0, at), ...bad, ...base.subarray(at)]);
      expect(accepts(b)).toBe(false);
    }
    // A lone surrogate can only arrive escaped; JCS (I-JSON) has no form for it.
    expect(accepts(enc(canonicalize(sampleEntry(1)).replace('records.read', '\\ud800')))).toBe(false);
    expect(codeOf(() => encodeEntry({ ...sampleEntry(), action: '\ud800' }))).toBe('ENTRY_INVALID');
    const big = {
      ...sampleEntry(),
      details: Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`k${i}`, 'x'.repeat(1000)])),
    };
    expect(accepts(enc(canonicalize(big)))).toBe(false);
    expect(codeOf(() => encodeEntry(big as LedgerEntry))).toBe('ENTRY_INVALID');
  });

  it('accepts every random valid entry, on both paths', () => {
    fc.assert(
      fc.property(arbEntry, (e) => {
        const bytes = encodeEntry(e);
        expect(accepts(bytes)).toBe(true);
        expect(parseEntry(bytes)).toEqual(JSON.parse(canonicalize(e)));
      }),
      { numRuns: 500 },
    );
  });

  it('the fast audit check agrees with parseEntry on mutated entries', () => {
    const mutation = fc.record({ op: fc.nat(3), pos: fc.nat(), byte: fc.nat(255) });
    fc.assert(
      fc.property(arbEntry, fc.array(mutation, { minLength: 1, maxLength: 3 }), (e, ops) => {
        let b = Array.from(encodeEntry(e));
        for (const { op, pos, byte } of ops) {
          const i = pos % (b.length + 1);
          if (op === 0) b[i % b.length] = byte;
          else if (op === 1) b.splice(i, 0, byte);
          else if (op === 2) b.splice(i % b.length, 1);
          else b = [...b.slice(0, i), ...b.slice(i, i + 8).reverse(), ...b.slice(i + 8)];
        }
        accepts(new Uint8Array(b));
      }),
      { numRuns: 1500 },
    );
  });

  it('the fast audit check agrees with parseEntry on near-miss JSON', () => {
    const anyJson = fc.jsonValue({ maxDepth: 2 });
    fc.assert(
      fc.property(
        arbEntry,
        fc.dictionary(
          fc.constantFrom(
            'v',
            'type',
            'time',
            'principal',
            'action',
            'resource',
            'details',
            'reasons',
            'extra',
          ),
          anyJson,
        ),
        (e, patch) => {
          const obj = { ...e, ...patch };
          let text: string;
          try {
            text = canonicalize(obj);
          } catch {
            text = JSON.stringify(obj);
          }
          accepts(enc(text));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
