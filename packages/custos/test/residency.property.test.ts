import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCustos } from '../src/composition-root.js';
import { CATEGORIES } from '../src/domain/config-schema.js';
import { CustosError } from '../src/domain/errors.js';
import { configFrom, TestClock, tempDir } from './helpers.js';

const SITES = ['us-trusted-cloud', 'us-legacy-dc', 'sg-backup', 'us-public-cloud'] as const;
const FORBIDDEN_FOR_US_PROTECTED = new Set(['us-legacy-dc', 'sg-backup', 'us-public-cloud']);

const worldArb = fc.record({
  // one to three stores per site, in random order
  stores: fc.shuffledSubarray(
    SITES.flatMap((site) => [0, 1, 2].map((n) => ({ id: `${site}-${n}`, site }))),
    { minLength: 1 },
  ),
  // random rules for every (jurisdiction, category) except US protected, which is pinned
  rules: fc.array(
    fc.record({
      jurisdiction: fc.constantFrom('US', 'SG'),
      category: fc.constantFrom(...CATEGORIES),
      sites: fc.subarray([...SITES]),
    }),
    { maxLength: 8 },
  ),
  writes: fc.array(
    fc.record({
      subject: fc.constantFrom('us-a', 'us-b', 'sg-a', 'sg-b'),
      collection: fc.constantFrom('profiles', 'videos', 'interop', 'metrics'),
      explicit: fc.option(fc.constantFrom(...SITES.flatMap((s) => [0, 1, 2].map((n) => `${s}-${n}`))), {
        nil: undefined,
      }),
      id: fc.stringMatching(/^[a-z0-9]{1,8}$/),
    }),
    { minLength: 1, maxLength: 25 },
  ),
});

const CATEGORY_OF: Record<string, string> = {
  profiles: 'protected',
  videos: 'public',
  interop: 'interoperability',
  metrics: 'aggregate',
};

describe('residency router (property)', () => {
  it('never lets protected US data onto sg-backup, us-legacy-dc or us-public-cloud, over random configs and records', async () => {
    await fc.assert(
      fc.asyncProperty(worldArb, async (world) => {
        const t = tempDir();
        const seen = new Set<string>();
        const rules = [
          { jurisdiction: 'US', category: 'protected', sites: ['us-trusted-cloud'] },
          ...world.rules.filter((r) => {
            const k = `${r.jurisdiction}/${r.category}`;
            if (k === 'US/protected' || seen.has(k)) return false;
            seen.add(k);
            return true;
          }),
        ];
        const config = configFrom(
          {
            version: 1,
            dataDir: t.dir,
            jurisdictions: [{ id: 'US' }, { id: 'SG' }],
            organisations: [{ id: 'org', kind: 'operator' }],
            sites: SITES.map((id) => ({ id, country: id.startsWith('sg') ? 'SG' : 'US', operator: 'org' })),
            stores: world.stores.map((s) => ({
              id: s.id,
              driver: 'sqlite',
              site: s.site,
              path: `${s.id}.db`,
            })),
            collections: Object.entries(CATEGORY_OF).map(([id, category]) => ({
              id,
              category,
              fields: ['v'],
            })),
            residency: rules,
          },
          t.dir,
        );
        const custos = await createCustos(config, { clock: new TestClock() });
        try {
          for (const s of ['us-a', 'us-b']) await custos.subjects.register(s, 'US');
          for (const s of ['sg-a', 'sg-b']) await custos.subjects.register(s, 'SG');
          const totalRows = async (): Promise<number> => {
            let n = 0;
            for (const st of custos.stores.values()) n += (await st.scan(undefined, 10_000)).length;
            return n;
          };
          for (const w of world.writes) {
            const jurisdiction = w.subject.startsWith('us') ? 'US' : 'SG';
            const category = CATEGORY_OF[w.collection] ?? 'protected';
            const before = await totalRows();
            const existed = await custos.records
              .get(w.subject, w.collection, w.id)
              .then(() => true)
              .catch(() => false);
            try {
              const receipt = await custos.records.put(
                w.subject,
                w.collection,
                w.id,
                { v: 1 },
                { store: w.explicit },
              );
              const allowed =
                rules.find((r) => r.jurisdiction === jurisdiction && r.category === category)?.sites ?? [];
              expect(allowed).toContain(receipt.site);
              if (jurisdiction === 'US' && category === 'protected') {
                expect(FORBIDDEN_FOR_US_PROTECTED.has(receipt.site)).toBe(false);
              }
            } catch (err) {
              expect(err).toBeInstanceOf(CustosError);
              expect(['RESIDENCY_VIOLATION', 'STORE_UNKNOWN']).toContain((err as CustosError).code);
              // A refused write leaves every store exactly as it was.
              expect(await totalRows()).toBe(before);
              if (!existed) {
                await expect(custos.records.get(w.subject, w.collection, w.id)).rejects.toThrow();
              }
            }
          }
          const report = await custos.scanResidency();
          expect(report.violations).toEqual([]);
          for (const [id, st] of custos.stores) {
            const site = config.stores.find((s) => s.id === id)?.site ?? '';
            for (const loc of await st.scan(undefined, 10_000)) {
              if (loc.subject.startsWith('us') && CATEGORY_OF[loc.collection] === 'protected') {
                expect(FORBIDDEN_FOR_US_PROTECTED.has(site)).toBe(false);
              }
            }
          }
        } finally {
          await custos.close();
          t.cleanup();
        }
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
