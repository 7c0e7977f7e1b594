import { describe, expect, it } from 'vitest';
import { expiresAt } from '../src/domain/egress-config.js';
import { fieldRuleSchema, flowSchema } from '../src/domain/egress-config-schema.js';
import { leaksWithheld, normalise, patternView, scanPatterns, withheld } from '../src/services/egress/dlp.js';
import { RowEncoder } from '../src/services/egress/export-format.js';
import { flowKey, generalise, pseudonymise } from '../src/services/egress/flow-transform.js';

const detector = (text: string) => scanPatterns(text)?.detector;

describe('DLP identifier patterns', () => {
  // Identifiers disguised with characters that render alike: each must still be found. The
  // escapes keep the invisible and look-alike characters visible in review.
  const DISGUISED: readonly (readonly [what: string, text: string, detector: string])[] = [
    ['fullwidth @', 'john.doe\uff20example.com', 'email'],
    ['zero-width space in the domain', 'john.doe@example\u200b.com', 'email'],
    ['a word joiner in the top-level domain', 'john@example.c\u2060om', 'email'],
    [
      'fullwidth letters and dot',
      '\uff4a\uff4f@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff43\uff4f\uff4d',
      'email',
    ],
    ['fullwidth digits', '\uff15\uff15\uff15-\uff11\uff12\uff13-\uff14\uff15\uff16\uff17', 'phone'],
    ['Arabic-Indic digits', '\u0665\u0665\u0665\u0661\u0662\u0663\u0664\u0665\u0666\u0667', 'phone'],
    [
      'Extended Arabic-Indic digits',
      '\u06f5\u06f5\u06f5-\u06f1\u06f2\u06f3-\u06f4\u06f5\u06f6\u06f7',
      'phone',
    ],
    ['Devanagari digits', '\u096b\u096b\u096b \u0967\u0968\u0969 \u096a\u096b\u096c\u096d', 'phone'],
    [
      'mathematical monospace digits',
      '\u{1d7fb}\u{1d7fb}\u{1d7fb}\u{1d7f7}\u{1d7f8}\u{1d7f9}\u{1d7fa}\u{1d7fb}\u{1d7fc}\u{1d7fd}',
      'phone',
    ],
    ['en-dash separators', '555\u2013123\u20134567', 'phone'],
    ['em-dash separators', '555\u2014123\u20144567', 'phone'],
    ['zero-width spaces between digits', '555\u200b123\u200b4567', 'phone'],
    ['fullwidth SSN', '\uff11\uff12\uff13-\uff14\uff15-\uff16\uff17\uff18\uff19', 'government-id'],
    ['SSN with non-breaking hyphens', '123\u201145\u20116789', 'government-id'],
    ['Arabic-Indic SSN', '\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669', 'government-id'],
  ];
  for (const [what, text, want] of DISGUISED)
    it(`finds an identifier disguised with ${what}`, () => {
      expect(detector(text)).toBe(want);
      expect(detector(JSON.stringify({ v: text }))).toBe(want);
    });

  it('the pattern view maps every decimal digit to ASCII, dashes to -, and drops format characters', () => {
    expect(patternView('\u0660\u0669\u06f0\u06f9\u0966\u096f\u{1d7ce}\u{1d7ff}\uff10\uff19')).toBe(
      '0909090909',
    );
    expect(patternView('a\u2010b\u2013c\u2014d\ufe63e')).toBe('a-b-c-d-e');
    expect(patternView('a\u200bb\u200cc\u200dd\u2060e\ufeff\u202ef')).toBe('abcdef');
    expect(patternView('p:AbC123dEf456gHi789jKl0')).toBe('p:AbC123dEf456gHi789jKl0');
  });

  it('finds emails in any case', () => {
    for (const t of ['jo@example.com', 'JO@EXAMPLE.COM', '{"a":"X.Y+z@Mail.Example.ORG"}'])
      expect(detector(t), t).toBe('email');
    for (const t of ['jo at example dot com', '@handle', 'a@b']) expect(detector(t), t).toBeUndefined();
  });

  it('finds phone numbers: international, separated, space-separated, unseparated, JSON numbers', () => {
    for (const t of [
      '+1-555-1234-5678',
      '+44 20 7946 0958',
      '(555) 123-4567',
      '555-123-4567',
      '555.123.4567',
      '555 123 4567',
      '5551234567',
      '15551234567',
      '5 5 5 1 2 3 4 5 6 7',
      '{"phone":15551234567}',
      'call,5551234567,now',
    ])
      expect(detector(t), t).toBe('phone');
    for (const t of [
      '2026-11-29',
      '1990',
      '12345678',
      '100..200',
      '{"n":12345}',
      'p:AbC123dEf456gHi789jKl0',
      '1234567890123456',
    ])
      expect(detector(t), t).toBeUndefined();
  });

  it('finds government ids: SSN with dashes, spaces or none; NRIC/FIN in any case; UK NI with spaces', () => {
    for (const t of [
      '123-45-6789',
      '123 45 6789',
      '123456789',
      '{"ssn":123456789}',
      'S1234567D',
      's1234567d',
      'g7654321x',
      'AB123456C',
      'ab123456c',
      'AB 12 34 56 C',
    ])
      expect(detector(t), t).toBe('government-id');
    for (const t of [
      '123-456-78',
      '12345678',
      'S123456D',
      'X1234567D',
      'DA123456C',
      'AB123456E',
      '123-45 6789',
    ])
      expect(detector(t), t).toBeUndefined();
  });
});

describe('DLP withheld values', () => {
  const w = (v: string, column?: string) => withheld(v, column) ?? { norm: '' };
  const row = (...values: (string | number | null)[]) => values.map((v, i) => [`c${i}`, v] as const);

  it('normalises both sides: case, separators, whitespace and commas', () => {
    expect(normalise('+1 (555) 123-4567')).toBe('15551234567');
    expect(normalise('Jo.Smith@Example.com')).toBe('josmithexamplecom');
    expect(leaksWithheld(row('x', '1-555-123-4567'), [w('+1 (555) 123 4567')])).toBe(true);
    expect(leaksWithheld(row('JO SMITH'), [w('jo.smith')])).toBe(true);
    expect(leaksWithheld(row('1,234,567'), [w('1234567')])).toBe(true);
    expect(leaksWithheld(row(7654321), [w('7,654,321')])).toBe(true);
  });

  it('finds a value split across adjacent cells, short or long', () => {
    expect(leaksWithheld(row('jo.smi', 'th@example.com'), [w('jo.smith@example.com')])).toBe(true);
    expect(leaksWithheld(row('ab', '12'), [w('AB-12')])).toBe(true);
    expect(leaksWithheld(row('ab', 'zz', '12'), [w('AB-12')])).toBe(false);
  });

  it('looks for values of 4 or more characters; short ones only as whole cells (no common-word explosion)', () => {
    expect(withheld('abc')).toBeUndefined();
    expect(withheld('US')).toBeUndefined();
    expect(leaksWithheld(row('Male'), [w('male')])).toBe(true);
    expect(leaksWithheld(row('female'), [w('male')])).toBe(false);
    expect(leaksWithheld(row('1990'), [w('1990')])).toBe(true);
    expect(leaksWithheld(row('born 1990 in town'), [w('1990')])).toBe(false);
    expect(leaksWithheld(row('see london bridge'), [w('London')])).toBe(true);
  });

  it('a generalised value never trips the check against its own cell, but does elsewhere', () => {
    const bucket = generalise({ field: 'n', rule: 'generalise', to: 'bucket', width: 100 }, 1000);
    expect(bucket).toBe('1000..1100');
    expect(leaksWithheld([['n', bucket]], [w('1000', 'n')])).toBe(false);
    expect(
      leaksWithheld(
        [
          ['n', bucket],
          ['m', '1000'],
        ],
        [w('1000', 'n')],
      ),
    ).toBe(true);
  });
});

describe('generalisation', () => {
  const bucket = (width: number, v: string | number) =>
    generalise({ field: 'n', rule: 'generalise', to: 'bucket', width }, v);
  const country = (v: string | number) =>
    generalise({ field: 'c', rule: 'generalise', to: 'country', width: undefined }, v);

  it('buckets with integer arithmetic: no float artefacts, negatives, bounds', () => {
    expect(bucket(10, 0.3)).toBe('0..10');
    expect(bucket(3, 10.7)).toBe('9..12');
    expect(bucket(5, -3)).toBe('-5..0');
    expect(bucket(5, -5)).toBe('-5..0');
    expect(bucket(7, '700')).toBe('700..707');
    expect(bucket(1000, 123_456_789)).toBe('123456000..123457000');
    expect(bucket(10, 1e300)).toBeNull();
    expect(bucket(10, '1e3')).toBeNull();
    expect(bucket(10, '0x10')).toBeNull();
    expect(bucket(10, ' ')).toBeNull();
  });

  it('the schema wants a whole bucket width of at least 2, and k of at least 2', () => {
    const rule = (width: number) =>
      fieldRuleSchema.safeParse({ field: 'n', rule: 'generalise', to: 'bucket', width });
    expect(rule(10).success).toBe(true);
    expect(rule(1).success).toBe(false);
    expect(rule(2.5).success).toBe(false);
    const flow = (k: number) =>
      flowSchema.safeParse({
        id: 'f',
        destination: 'o',
        destinationJurisdiction: 'US',
        purpose: 'p',
        sources: ['c'],
        fields: [{ field: 'a', rule: 'allow' }],
        aggregate: { groupBy: ['a'], metrics: [{ kind: 'count' }], minGroupSize: k },
        expires: '2030-01-01',
      });
    expect(flow(2).success).toBe(true);
    expect(flow(1).success).toBe(false);
  });

  it('country: ISO codes and subdivisions of known countries only; free text is null', () => {
    expect(country('US')).toBe('US');
    expect(country('sg')).toBe('SG');
    expect(country('us-ca')).toBe('US');
    expect(country('GB-LND')).toBe('GB');
    for (const v of ['Hi there', 'In the city', 'XX', 'ZZ', 'EU', 'Hello', 'US/Seattle, 5th Ave', 'u s', 12])
      expect(country(v), String(v)).toBeNull();
  });
});

describe('CSV output', () => {
  it("neutralises formula cells with a leading ' (and still quotes them when needed)", () => {
    const enc = new RowEncoder('csv', ['a', 'b']);
    const out = enc.encode([
      { a: '=HYPERLINK("x")', b: '+1' },
      { a: '-2+3', b: '@SUM(A1)' },
      { a: '\tx', b: '\rx' },
      { a: -5, b: 'plain' },
    ]);
    expect(out.split('\n')).toEqual([
      'a,b',
      `"'=HYPERLINK(""x"")",'+1`,
      `'-2+3,'@SUM(A1)`,
      `'\tx,"'\rx"`,
      '-5,plain',
      '',
    ]);
  });
});

describe('pseudonym keys and expiry', () => {
  it('the same flow id to another destination gives other pseudonyms', () => {
    const custodian = Buffer.alloc(32, 7);
    const a = pseudonymise(flowKey(custodian, 'interop', 'parent'), 'us-user-00001');
    const b = pseudonymise(flowKey(custodian, 'interop', 'operator'), 'us-user-00001');
    expect(a).toMatch(/^p:/);
    expect(a).not.toBe(b);
    expect(pseudonymise(flowKey(custodian, 'interop', 'parent'), 'us-user-00001')).toBe(a);
  });

  it('a date-only expiry is the end of that day (UTC); a date-time is that instant', () => {
    expect(expiresAt('2027-12-31')).toBe(Date.parse('2028-01-01T00:00:00Z'));
    expect(expiresAt('2027-12-31T12:00:00Z')).toBe(Date.parse('2027-12-31T12:00:00Z'));
  });
});

describe('egress key file errors', () => {
  it('name the key file, not a ledger key', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { loadOrCreate } = await import('../src/services/ledger/ledger-keys.js');
    const dir = mkdtempSync(join(tmpdir(), 'custos-key-'));
    try {
      writeFileSync(join(dir, 'egress-pseudonym.key'), 'short');
      expect(() => loadOrCreate(dir, 'egress-pseudonym.key')).toThrow(
        expect.objectContaining({
          code: 'KEY_UNAVAILABLE',
          message: 'key file egress-pseudonym.key is corrupt (it must hold 32 bytes)',
        }),
      );
      expect(() => loadOrCreate(join(dir, 'missing'), 'egress-pseudonym.key')).toThrow(
        expect.objectContaining({ message: expect.not.stringContaining('ledger key') }),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
