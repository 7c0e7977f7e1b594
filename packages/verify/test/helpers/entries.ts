import type { LedgerEntry } from '@custos/verify';
import fc from 'fast-check';

/** A valid ledger entry; `i` varies the content. */
export function sampleEntry(i = 0, overrides: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    v: 1,
    type: 'access',
    time: new Date(Date.UTC(2026, 10, 29, 22, 0, 0, i % 1000)).toISOString(),
    principal: { id: `user-${i}`, org: 'operator-inc', orgKind: 'operator' },
    action: 'records.read',
    resource: {
      collection: 'profiles',
      category: 'protected',
      jurisdiction: 'US',
      site: 'us-trusted-cloud',
      subjectRef: `sr1:${'x'.repeat(22)}${i}`,
      count: 1,
    },
    purpose: 'support-ticket',
    decision: i % 3 === 0 ? 'deny' : 'allow',
    reasons: ['policy:standing-support'],
    policyVersion: 'v7',
    ...overrides,
  };
}

const text = (minLength: number) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.string({ minLength, maxLength: 12 }) },
    { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength, maxLength: 12 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'a'.repeat(1024),
        '\u{1F600}'.repeat(512),
        '\n'.repeat(1024),
        'é'.repeat(1024),
      ),
    },
  );

const detailValue = fc.oneof(
  text(0),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.boolean(),
  fc.array(text(0), { maxLength: 3 }),
);

/** Arbitrary valid ledger entries, spread over every field's edge cases. */
export const arbEntry: fc.Arbitrary<LedgerEntry> = fc.record(
  {
    v: fc.constant(1 as const),
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
      .date({
        min: new Date(Date.UTC(0, 0, 1) - 1970 * 0),
        max: new Date('9999-12-31T23:59:59.999Z'),
        noInvalidDate: true,
      })
      .filter((d) => d.getUTCFullYear() >= 0)
      .map((d) => d.toISOString()),
    principal: fc.record({
      id: text(1),
      org: text(1),
      orgKind: fc.constantFrom('custodian', 'operator', 'parent', 'cloud', 'auditor', 'system'),
    }),
    action: text(1),
    resource: fc.record(
      {
        collection: text(1),
        category: text(1),
        jurisdiction: text(1),
        site: text(1),
        subjectRef: fc.stringMatching(/^sr1:[A-Za-z0-9_-]{22,64}$/),
        count: fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER)),
      },
      { requiredKeys: [] },
    ),
    purpose: text(1),
    grantId: text(1),
    decision: fc.constantFrom('allow', 'deny', 'none'),
    reasons: fc.array(text(1), { maxLength: 3 }),
    policyVersion: text(1),
    release: text(1),
    details: fc.dictionary(text(1), detailValue, { maxKeys: 4 }),
  },
  { requiredKeys: ['v', 'type', 'time', 'principal', 'action', 'resource', 'decision', 'reasons'] },
) as fc.Arbitrary<LedgerEntry>;
