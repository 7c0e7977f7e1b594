import type { FlowSpec } from '../../domain/egress-config.js';
import type { SubjectStore } from '../../ports/subject-store.js';
import type { RecordFields, RecordService } from '../record-service.js';
import type { ResidencyRouter } from '../residency-router.js';

/** One decrypted record of a flow's source. */
export interface SourceRecord {
  readonly subject: string;
  readonly collection: string;
  readonly fields: RecordFields;
}

/** What reading a flow's sources needs. */
export interface SourceDeps {
  readonly router: ResidencyRouter;
  readonly records: RecordService;
  readonly subjectStore: SubjectStore;
}

/**
 * Reads a flow's source collections a page at a time: for each collection, the stores residency
 * allows for the flow's source jurisdictions, in (subject, id) order. Rows of erased subjects, of
 * other jurisdictions, and rows sitting on a store their subject's jurisdiction does not allow
 * are skipped before decryption. Memory holds one page.
 */
export async function* readBatches(
  deps: SourceDeps,
  flow: FlowSpec,
  batchSize: number,
): AsyncGenerator<SourceRecord[]> {
  for (const collection of flow.sources) {
    const spec = deps.router.collection(collection);
    const allowedBy = new Map(
      flow.jurisdictions.map((j) => [
        j,
        new Set(deps.router.allowedStores(j, spec.category).map((s) => s.id)),
      ]),
    );
    const storeIds = [...new Set([...allowedBy.values()].flatMap((s) => [...s]))];
    for (const storeId of storeIds) {
      const store = deps.records.adapter(storeId);
      let after: { subject: string; id: string } | undefined;
      for (;;) {
        const page = await store.list({ collection, after, limit: batchSize });
        if (page.length === 0) break;
        const owners = await deps.subjectStore.getMany([...new Set(page.map((r) => r.subject))]);
        const batch: SourceRecord[] = [];
        for (const r of page) {
          const owner = owners.get(r.subject);
          if (!owner || owner.erasedAt !== undefined || !allowedBy.get(owner.jurisdiction)?.has(storeId))
            continue;
          batch.push({ subject: r.subject, collection, fields: await deps.records.openStored(r) });
        }
        if (batch.length > 0) yield batch;
        const last = page[page.length - 1];
        if (!last || page.length < batchSize) break;
        after = { subject: last.subject, id: last.id };
      }
    }
  }
}
