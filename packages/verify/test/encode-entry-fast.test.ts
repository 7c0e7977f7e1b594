import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import {
  encodeEntry,
  encodeEntryInputInto,
  encodeEntryInputText,
  encodeEntryReference,
  encodeEntryText,
  type LedgerEntry,
  parseEntry,
} from '../src/index.js';

function outcome(f: () => Uint8Array): string {
  try {
    return Buffer.from(f()).toString('hex');
  } catch (err) {
    return `throws ${(err as { code?: string }).code}`;
  }
}

const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.constantFrom('', '\ud800', 'a\udc00b', 'é', '"quote"', '\\', '\u2028', 'x'.repeat(1025)),
);
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

const good = fc.stringMatching(/^[a-z][a-z0-9:_-]{0,20}$/);
const validArb = fc.record(
  {
    v: fc.constant(1),
    type: fc.constantFrom(
      'access',
      'grant',
      'request',
      'approval',
      'policy',
      'egress',
      'migration',
      'release',
      'key',
      'system',
    ),
    time: fc
      .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
      .map((d) => d.toISOString()),
    principal: fc.record({
      id: good,
      org: good,
      orgKind: fc.constantFrom('custodian', 'operator', 'parent', 'cloud', 'auditor', 'system'),
    }),
    action: good,
    resource: fc.record(
      {
        collection: good,
        category: good,
        jurisdiction: good,
        site: good,
        subjectRef: fc.stringMatching(/^sr1:[A-Za-z0-9_-]{22,30}$/),
        count: fc.nat(),
      },
      { requiredKeys: [] },
    ),
    purpose: good,
    grantId: good,
    decision: fc.constantFrom('allow', 'deny', 'none'),
    reasons: fc.array(good, { maxLength: 3 }),
    policyVersion: good,
    release: good,
    details: fc.dictionary(
      good,
      fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.array(fc.string(), { maxLength: 2 })),
    ),
  },
  { requiredKeys: ['v', 'type', 'time', 'principal', 'action', 'resource', 'decision', 'reasons'] },
);

const hostileArb = fc.record(
  {
    v: fc.oneof(fc.constant(1), fc.constant(2)),
    type: fc.oneof(fc.constantFrom('access', 'grant', 'system', 'policy'), text),
    time: fc.oneof(
      fc
        .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
        .map((d) => d.toISOString()),
      fc.constantFrom('2026-02-30T00:00:00.000Z', '2026-11-29T22:00:00Z', 'yesterday'),
    ),
    principal: fc.oneof(
      fc.record({
        id: text,
        org: text,
        orgKind: fc.constantFrom('custodian', 'parent', 'operator', 'martian'),
      }),
      fc.constant({ id: 'a', org: 'b', orgKind: 'auditor', extra: 1 }),
    ),
    action: text,
    resource: fc.record(
      {
        collection: maybe(text),
        category: maybe(text),
        jurisdiction: maybe(text),
        site: maybe(text),
        subjectRef: maybe(fc.oneof(fc.constant('sr1:AAAAAAAAAAAAAAAAAAAAAAAA'), text)),
        count: maybe(fc.oneof(fc.nat(), fc.integer(), fc.double())),
      },
      { requiredKeys: [] },
    ),
    purpose: maybe(text),
    grantId: maybe(text),
    decision: fc.constantFrom('allow', 'deny', 'none', 'maybe'),
    reasons: fc.array(text, { maxLength: 3 }),
    policyVersion: maybe(text),
    release: maybe(text),
    details: maybe(
      fc.dictionary(
        text,
        fc.oneof(text, fc.integer(), fc.boolean(), fc.array(text, { maxLength: 2 }), fc.double()),
        {
          maxKeys: 4,
        },
      ),
    ),
  },
  { requiredKeys: ['v', 'type', 'time', 'principal', 'action', 'resource', 'decision', 'reasons'] },
);

const entryArb = fc.oneof({ arbitrary: validArb, weight: 3 }, { arbitrary: hostileArb, weight: 2 });

describe('encodeEntry (fast path)', () => {
  it('agrees with validate + RFC 8785 canonicalize on random, often invalid, entries', () => {
    let valid = 0;
    fc.assert(
      fc.property(entryArb, (e) => {
        const entry = e as unknown as LedgerEntry;
        const fast = outcome(() => encodeEntry(entry));
        expect(fast).toBe(outcome(() => encodeEntryReference(entry)));
        if (!fast.startsWith('throws')) valid++;
        if (!fast.startsWith('throws'))
          expect(parseEntry(encodeEntry(entry))).toEqual(JSON.parse(JSON.stringify(entry)));
      }),
      { numRuns: 5000 },
    );
    expect(valid).toBeGreaterThan(100);
  });

  it('encodes an input without v or time exactly as the entry { v: 1, ...input, time: time ?? now }', () => {
    const said = (f: () => string): string => {
      try {
        return f();
      } catch (err) {
        return `throws ${(err as { code?: string }).code}: ${(err as Error).message}`;
      }
    };
    let valid = 0;
    fc.assert(
      fc.property(
        entryArb,
        fc.boolean(),
        fc.constantFrom('drop', 'undefined', 'null', 'keep'),
        fc.constantFrom('2026-11-30T07:00:00.000Z', '2026-11-30T07:00:00Z'),
        (e, dropV, timeHow, defaultTime) => {
          const input: Record<string, unknown> = { ...e };
          if (dropV) delete input.v;
          if (timeHow === 'drop') delete input.time;
          if (timeHow === 'undefined') input.time = undefined;
          if (timeHow === 'null') input.time = null;
          const got = said(() => encodeEntryInputText(input, defaultTime));
          const want = said(() =>
            encodeEntryText({ v: 1, ...input, time: input.time ?? defaultTime } as unknown as LedgerEntry),
          );
          expect(got).toBe(want);
          if (!got.startsWith('throws')) valid++;
        },
      ),
      { numRuns: 3000 },
    );
    expect(valid).toBeGreaterThan(100);
  });

  it('checks the very first time it sees, even an empty one', async () => {
    // A fresh copy of the module: nothing has been encoded in it yet.
    vi.resetModules();
    const fresh = await import('../src/entry/encode-entry-fast.js');
    const entry = {
      v: 1,
      type: 'system',
      time: '',
      principal: { id: 'custos', org: 'custodian', orgKind: 'system' },
      action: 'start',
      resource: {},
      decision: 'none',
      reasons: [],
    } as unknown as LedgerEntry;
    expect(() => fresh.encodeEntryText(entry)).toThrow('time must be RFC 3339');
    vi.resetModules();
    const again = await import('../src/entry/encode-entry-fast.js');
    expect(() => again.encodeEntryInputText({ ...entry, time: '' }, '2026-11-30T07:00:00.000Z')).toThrow(
      'time must be RFC 3339',
    );
  });
});

describe('encodeEntryInputInto (bytes straight into a buffer)', () => {
  const T = '2026-11-30T07:00:00.000Z';
  const said = (f: () => string): string => {
    try {
      return f();
    } catch (err) {
      return `throws ${(err as { code?: string }).code}: ${(err as Error).message}`;
    }
  };
  const viaText = (input: object, time = T): string =>
    said(() => Buffer.from(encodeEntryInputText(input, time), 'utf8').toString('hex'));
  const into = (input: object, time = T, offset = 3): string =>
    said(() => {
      const out = Buffer.alloc(offset + 65_536 + 7, 0xee);
      const end = encodeEntryInputInto(input, time, out, offset);
      return out.subarray(offset, end).toString('hex');
    });

  it('gives the bytes and first error of the text encoder, first time and remembered', () => {
    let valid = 0;
    fc.assert(
      fc.property(
        fc.array(entryArb, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 40 }),
        (entries, dropDetails, offset) => {
          for (const e of entries) {
            const input: Record<string, unknown> = { ...e };
            if (dropDetails) delete input.details;
            const want = viaText(input);
            // Twice: the second time the prefix comes from memory.
            expect(into(input, T, offset)).toBe(want);
            expect(into(input, T, offset + 1)).toBe(want);
            if (!want.startsWith('throws')) valid++;
          }
        },
      ),
      { numRuns: 3000 },
    );
    expect(valid).toBeGreaterThan(300);
  });

  it('checks what follows a remembered prefix, and every member a remembered prefix skips', () => {
    const base = {
      type: 'access',
      principal: { id: 'svc-1', org: 'operator', orgKind: 'operator' },
      action: 'read',
      resource: {
        collection: 'profiles',
        count: 1,
        jurisdiction: 'US',
        subjectRef: 'sr1:AAAAAAAAAAAAAAAAAAAAAAAA',
      },
      purpose: 'support',
      decision: 'allow',
      reasons: ['permit-support'],
      release: 'sha256:00',
    };
    expect(into(base)).toBe(viaText(base));
    expect(into(base)).not.toMatch(/^throws/);
    const variants: Record<string, unknown>[] = [
      { ...base, resource: { ...base.resource, subjectRef: 'sr1:AAAA' } },
      { ...base, resource: { ...base.resource, subjectRef: 'sr1:AAAAAAAAAAAAAAAAAAAAAAA=' } },
      { ...base, resource: { ...base.resource, subjectRef: 'subject-42' } },
      { ...base, resource: { ...base.resource, extra: 1 } },
      { ...base, principal: { ...base.principal, extra: 1 } },
      { ...base, extra: 1 },
      { ...base, v: 2 },
      { ...base, type: 'nonsense' },
      { ...base, time: '2026-02-30T00:00:00.000Z' },
      { ...base, resource: { ...base.resource, count: -1 } },
      { ...base, resource: { ...base.resource, count: 1.5 } },
      { ...base, resource: { ...base.resource, count: '1' } },
      { ...base, reasons: 'permit-support' },
      { ...base, reasons: ['permit-support', ''] },
      { ...base, principal: { ...base.principal, orgKind: 'martian' } },
      { ...base, time: '2026-11-30T07:00:01.000Z' },
      { ...base, details: { note: 'x' } },
      { ...base, resource: { ...base.resource, subjectRef: undefined } },
    ];
    for (const v of variants) expect(into(v), JSON.stringify(v)).toBe(viaText(v));
    // Still right after all of that.
    expect(into(base)).toBe(viaText(base));
  });

  it('encodes details like the text encoder, remembered or not', () => {
    const base = {
      type: 'access',
      principal: { id: 'svc-1', org: 'operator', orgKind: 'operator' },
      action: 'read',
      resource: { collection: 'profiles', subjectRef: 'sr1:AAAAAAAAAAAAAAAAAAAAAAAA' },
      decision: 'allow',
      reasons: ['permit-support'],
    };
    const cases: unknown[] = [
      { principalRoles: ['support'], principalKind: 'service', principalJurisdiction: 'US' },
      { principalRoles: [], principalKind: 'service' },
      {},
      { b: 1, a: 'x', c: true, d: false, e: ['', 'y'], f: '' },
      { n: -0, m: 1e21, k: 0.1, j: -5 },
      { skipped: undefined, kept: 'v' },
      { '': undefined },
      { '': 'x' },
      { nan: Number.NaN },
      { inf: Number.POSITIVE_INFINITY },
      { nested: { a: 1 } },
      { nil: null },
      { arr: [1] },
      { é: 'ü', 'zz\u2028': ['\u0000'] },
      { lone: '\ud800' },
      'not an object',
      ['array'],
    ];
    for (const details of cases) {
      const entry = { ...base, details };
      const want = viaText(entry);
      expect(into(entry), JSON.stringify(details)).toBe(want);
      expect(into(entry), JSON.stringify(details)).toBe(want);
    }
  });

  it('reads each member once: a getter cannot make it remember bytes it did not write', () => {
    const plain = {
      type: 'access',
      principal: { id: 'svc-9', org: 'operator', orgKind: 'operator' },
      action: 'read',
      resource: { collection: 'c9', subjectRef: 'sr1:BBBBBBBBBBBBBBBBBBBBBBBB' },
      decision: 'allow',
      reasons: ['r9'],
    };
    let reads = 0;
    const fickle = {
      ...plain,
      get action() {
        reads++;
        return reads % 2 === 1 ? 'read' : 'delete';
      },
    };
    const once = into(fickle);
    expect(once).not.toMatch(/^throws/);
    // Whatever it read, the plain entry of the same values is still encoded right.
    expect(into(plain)).toBe(viaText(plain));
    let refs = 0;
    const vanishing = {
      ...plain,
      resource: {
        collection: 'c9',
        get subjectRef() {
          refs++;
          return refs === 1 ? undefined : 'sr1:BBBBBBBBBBBBBBBBBBBBBBBB';
        },
      },
    };
    into(vanishing);
    const noRef = { ...plain, resource: { collection: 'c9' } };
    expect(into(noRef)).toBe(viaText(noRef));
    expect(into(plain)).toBe(viaText(plain));
  });

  it('a getter that encodes another entry neither corrupts this one nor what it remembers', () => {
    const inner = {
      type: 'system',
      principal: { id: 'custos', org: 'custodian', orgKind: 'system' },
      action: 'start',
      resource: {},
      decision: 'none',
      reasons: [],
    };
    let innerBytes = '';
    const outer = {
      type: 'access',
      principal: { id: 'svc-8', org: 'operator', orgKind: 'operator' },
      get action() {
        innerBytes = into(inner);
        return 'read';
      },
      resource: { collection: 'c8' },
      decision: 'allow',
      reasons: ['r8'],
    };
    const plainOuter = { ...outer, action: 'read' };
    expect(into(outer)).toBe(viaText(plainOuter));
    expect(innerBytes).toBe(viaText(inner));
    expect(into(inner)).toBe(viaText(inner));
    expect(into(plainOuter)).toBe(viaText(plainOuter));
  });

  it('refuses an entry longer than 65535 bytes and needs room for one', () => {
    const big = {
      type: 'access',
      principal: { id: 'svc', org: 'operator', orgKind: 'operator' },
      action: 'read',
      resource: {},
      decision: 'allow',
      reasons: Array.from({ length: 70 }, (_, i) => `${i}${'r'.repeat(1000)}`),
    };
    expect(into(big)).toMatch(/^throws ENTRY_INVALID: .*65535 bytes/);
    expect(() => encodeEntryInputInto({}, T, new Uint8Array(65_535), 0)).toThrow(RangeError);
  });
});
