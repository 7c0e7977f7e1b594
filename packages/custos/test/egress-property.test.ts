import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Custos } from '../src/composition-root.js';
import type { Principal } from '../src/domain/principal.js';
import { Aggregator } from '../src/services/egress/aggregation.js';
import { runExport } from '../src/services/egress/export-run.js';
import type { RecordFields } from '../src/services/record-service.js';
import { demoCustos } from './helpers.js';

const parent: Principal = {
  id: 'parent-engineer',
  org: 'parent',
  orgKind: 'parent',
  roles: ['engineer'],
  kind: 'person',
  jurisdiction: '',
  release: undefined,
};

const FIELDS = ['name', 'note', 'born', 'city', 'score', 'tier', 'region'] as const;
const SUBJECTS = 40;

/** Deterministic, unique, long-enough values: no two fields or records share a substring by chance. */
function seeded(i: number, rand: () => number): RecordFields {
  const token = (p: string): string =>
    `${p}${Math.floor(rand() * 36 ** 8)
      .toString(36)
      .padStart(8, 'q')}${i}`;
  return {
    name: token('nm'),
    note: token('nt'),
    born: `19${50 + (i % 50)}-0${1 + (i % 9)}-1${i % 10}`,
    city: `${['US', 'SG', 'FR'][i % 3]}-${token('ct')}`,
    score: 100_000_000 + Math.floor(rand() * 800_000_000),
    tier: ['gold', 'silver', 'bronze', 'tin'][Math.floor(rand() * 4)] ?? 'tin',
    region: ['north', 'south'][i % 2] ?? 'north',
  };
}

describe('egress properties', () => {
  let custos: Custos;
  let cleanup: () => Promise<void>;
  const data = new Map<string, RecordFields[]>();
  beforeAll(async () => {
    ({ custos, cleanup } = await demoCustos({
      mutate: (c) => {
        (c.collections as unknown[]).push({ id: 'people', category: 'protected', fields: [...FIELDS] });
      },
    }));
    let a = 7;
    const rand = (): number => {
      a = (a * 1103515245 + 12345) % 2 ** 31;
      return a / 2 ** 31;
    };
    for (let s = 0; s < SUBJECTS; s++) {
      const subject = `subject-${String(s).padStart(4, '0')}`;
      await custos.subjects.register(subject, s % 4 === 0 ? 'SG' : 'US');
      const recs: RecordFields[] = [];
      for (let r = 0; r < 1 + (s % 3); r++) {
        const f = seeded(s * 10 + r, rand);
        await custos.records.put(subject, 'people', `r${r}`, f);
        recs.push(f);
      }
      data.set(subject, recs);
    }
  });
  afterAll(async () => {
    await cleanup();
  });

  const deps = () => ({
    config: custos.config,
    router: custos.router,
    records: custos.records,
    subjectStore: custos.subjectStore,
    ledger: custos.ledger,
    store: custos.egressStore,
    alerts: custos.gatekeeping.alerts,
    clock: custos.clock,
    custodianKey: randomBytes(32),
  });

  let runs = 0;
  async function run(declaration: Record<string, unknown>, format: 'ndjson' | 'csv'): Promise<string> {
    const flow = custos.egress.flows.parse({
      id: `prop-${++runs}`,
      destination: 'parent',
      destinationJurisdiction: 'CN',
      purpose: 'property test',
      sources: ['people'],
      expires: '2099-01-01',
      ...declaration,
    });
    // No stop is expected: a transform that let an original through would trip the DLP check
    // (EGRESS_DLP_BLOCKED thrown here), and one that got past it too would fail the byte check.
    let out = '';
    for await (const c of runExport(deps(), { principal: parent, flow, format, startIndex: 0 })) out += c;
    expect(out).toMatch(/export-end.*complete/);
    return out;
  }

  const rule = fc.oneof(
    fc.constant({ rule: 'allow' }),
    fc.constant({ rule: 'drop' }),
    fc.constant({ rule: 'pseudonymise' }),
    fc.constant({ rule: 'generalise', to: 'year' }),
    fc.constant({ rule: 'generalise', to: 'month' }),
    fc.constant({ rule: 'generalise', to: 'country' }),
    fc.constant({ rule: 'generalise', to: 'bucket', width: 1000 }),
    fc.constant(undefined),
  );

  it('never outputs the original of a dropped, pseudonymised or unnamed field, nor a subject id', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.tuple(...FIELDS.map(() => rule)),
        fc.constantFrom('drop', 'pseudonymise'),
        fc.constantFrom('ndjson', 'csv'),
        async (rules, subject, format) => {
          const fields = FIELDS.flatMap((field, i) => (rules[i] ? [{ field, ...rules[i] }] : []));
          if (fields.length === 0) fields.push({ field: 'tier', rule: 'drop' });
          const out = await run({ fields, subject }, format as 'ndjson' | 'csv');
          const withheld = new Set(
            fields
              .filter((f) => f.rule === 'drop' || f.rule === 'pseudonymise')
              .map((f) => f.field as string),
          );
          for (const name of FIELDS) if (!fields.some((f) => f.field === name)) withheld.add(name);
          for (const [s, recs] of data) {
            expect(out.includes(s)).toBe(false);
            for (const rec of recs)
              for (const name of withheld) {
                const v = String(rec[name]);
                if (v.length >= 5 && out.includes(v)) throw new Error(`${name} value leaked (${format})`);
              }
          }
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);

  it('outputs no group of fewer than k persons, and counts every suppressed group', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.subarray(['tier', 'region', 'born'] as const, { minLength: 1 }),
        fc.integer({ min: 1, max: 12 }),
        async (groupBy, k) => {
          const fields: { field: string; rule: string; to?: string }[] = groupBy.map((g) =>
            g === 'born' ? { field: g, rule: 'generalise', to: 'year' } : { field: g, rule: 'allow' },
          );
          fields.push({ field: 'score', rule: 'allow' });
          const out = await run(
            {
              fields,
              aggregate: {
                groupBy,
                metrics: [{ kind: 'count' }, { kind: 'distinct-subjects' }, { kind: 'sum', field: 'score' }],
                minGroupSize: k,
              },
            },
            'ndjson',
          );
          const lines = out
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l) as Record<string, unknown>);
          const trailer = lines.pop() ?? {};
          // The expected groups, recomputed from the source data.
          const groups = new Map<string, Set<string>>();
          for (const [s, recs] of data)
            for (const rec of recs) {
              const key = JSON.stringify(
                groupBy.map((g) => (g === 'born' ? String(rec.born).slice(0, 4) : rec[g])),
              );
              groups.set(key, (groups.get(key) ?? new Set()).add(s));
            }
          const small = [...groups.values()].filter((g) => g.size < k).length;
          for (const row of lines) expect(row.subjects as number).toBeGreaterThanOrEqual(k);
          expect(lines.length).toBe(groups.size - small);
          expect(trailer.suppressedGroups).toBe(small);
          const entry = JSON.parse((await custos.ledger.receipt(trailer.ledgerIndex as number)).entry);
          expect(entry.details.suppressedGroups).toBe(small);
        },
      ),
      { numRuns: 25 },
    );
  }, 120_000);

  it('Aggregator: every group is output (k or more persons) or suppressed and counted', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 5 })), {
          maxLength: 300,
        }),
        fc.integer({ min: 1, max: 10 }),
        (rows, k) => {
          const agg = new Aggregator(['g'], [{ kind: 'distinct-subjects', field: undefined, as: 'n' }], k);
          const persons = new Map<number, Set<number>>();
          for (const [s, g] of rows) {
            agg.add(`s${s}`, { g });
            persons.set(g, (persons.get(g) ?? new Set()).add(s));
          }
          const res = agg.result();
          for (const r of res.rows) expect(r.n as number).toBeGreaterThanOrEqual(k);
          const small = [...persons.values()].filter((p) => p.size < k).length;
          expect(res.suppressedGroups).toBe(small);
          expect(res.rows.length + small).toBe(persons.size);
        },
      ),
      { numRuns: 300 },
    );
  });
});
