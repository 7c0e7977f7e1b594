import type { CustosConfig } from '../domain/config.js';
import type { RecordLocation, RecordStore } from '../ports/record-store.js';
import type { SubjectStore } from '../ports/subject-store.js';
import type { ResidencyRouter } from './residency-router.js';

/** Why a record is out of place. */
export type ViolationReason = 'site-not-allowed' | 'unknown-subject' | 'unknown-collection';

/** One misplaced record. */
export interface ResidencyViolation {
  readonly store: string;
  readonly site: string;
  readonly collection: string;
  readonly subject: string;
  readonly id: string;
  readonly jurisdiction: string | undefined;
  readonly category: string | undefined;
  readonly reason: ViolationReason;
}

/** The result of scanning every registered store. */
export interface ResidencyReport {
  readonly stores: readonly { readonly store: string; readonly site: string; readonly records: number }[];
  readonly scanned: number;
  readonly violations: readonly ResidencyViolation[];
}

const PAGE = 1000;

/**
 * Reads every registered store directly (not through Custos's write path, so rows written around
 * Custos are seen) and reports each record whose site its subject's jurisdiction does not allow.
 * A record whose subject or collection Custos does not know counts as protected and misplaced.
 */
export async function scanResidency(
  config: CustosConfig,
  router: ResidencyRouter,
  stores: ReadonlyMap<string, RecordStore>,
  subjects: SubjectStore,
): Promise<ResidencyReport> {
  const violations: ResidencyViolation[] = [];
  const perStore: { store: string; site: string; records: number }[] = [];
  let scanned = 0;
  for (const spec of config.stores) {
    const store = stores.get(spec.id);
    if (!store) continue;
    let after: RecordLocation | undefined;
    let count = 0;
    for (;;) {
      const page = await store.scan(after, PAGE);
      if (page.length === 0) break;
      const known = await subjects.getMany([...new Set(page.map((r) => r.subject))]);
      for (const loc of page) {
        const base = {
          store: spec.id,
          site: spec.site,
          collection: loc.collection,
          subject: loc.subject,
          id: loc.id,
        };
        const subject = known.get(loc.subject);
        let collection: ReturnType<ResidencyRouter['collection']> | undefined;
        try {
          collection = router.collection(loc.collection);
        } catch {
          collection = undefined;
        }
        if (!collection) {
          violations.push({
            ...base,
            jurisdiction: subject?.jurisdiction,
            category: undefined,
            reason: 'unknown-collection',
          });
        } else if (!subject) {
          violations.push({
            ...base,
            jurisdiction: undefined,
            category: collection.category,
            reason: 'unknown-subject',
          });
        } else if (!router.isAllowed(subject.jurisdiction, collection.category, spec.site)) {
          violations.push({
            ...base,
            jurisdiction: subject.jurisdiction,
            category: collection.category,
            reason: 'site-not-allowed',
          });
        }
      }
      count += page.length;
      after = page[page.length - 1];
    }
    scanned += count;
    perStore.push({ store: spec.id, site: spec.site, records: count });
  }
  return { stores: perStore, scanned, violations };
}
