import type { CustosConfig } from '../../domain/config.js';
import { CustosError } from '../../domain/errors.js';
import type { AccessScope, ScopeAction, ScopeEstimate } from '../../ports/access-store.js';
import type { RecordStore } from '../../ports/record-store.js';
import type { SubjectStore } from '../../ports/subject-store.js';
import type { ResidencyRouter } from '../residency-router.js';

/** A scope as a caller writes it: subjects are a list of ids, or `{ jurisdiction }` for a bulk filter. */
export interface ScopeInput {
  readonly collections: readonly string[];
  readonly subjects: readonly string[] | { readonly jurisdiction: string };
  readonly fields?: readonly string[] | undefined;
  readonly actions?: readonly ScopeAction[] | undefined;
}

/** Most subject ids one request may list; larger scopes use a filter. */
export const MAX_SUBJECT_IDS = 1000;
/** Record locations an estimate reads before it stops counting (and says it is not exact). */
const MAX_SCAN = 200_000;
const ACTIONS: readonly ScopeAction[] = ['read', 'list', 'write', 'delete'];

function invalid(message: string): never {
  throw new CustosError('SCOPE_INVALID', message);
}

function unique<T>(items: readonly T[], what: string): T[] {
  if (new Set(items).size !== items.length) invalid(`${what} must not repeat`);
  return [...items];
}

/** Checks a scope against the configuration (collections, fields, actions, jurisdiction). */
export function validateScope(config: CustosConfig, input: ScopeInput): AccessScope {
  if (input.collections.length === 0) invalid('scope names no collection');
  const collections = unique(input.collections, 'collections');
  const specs = collections.map(
    (c) =>
      config.collections.find((x) => x.id === c) ?? invalid('scope.collections names an unknown collection'),
  );
  const fields = unique(input.fields ?? [], 'fields');
  for (const f of fields) {
    if (!specs.some((s) => s.fields.some((x) => x.name === f)))
      invalid('scope.fields names a field in none of the collections');
  }
  const actions = unique<ScopeAction>(input.actions ?? ['read'], 'actions');
  if (actions.length === 0) invalid('scope names no action');
  for (const a of actions) if (!ACTIONS.includes(a)) invalid('scope.actions names an unknown action');
  const s = input.subjects;
  if ('jurisdiction' in s) {
    if (!config.jurisdictions.some((j) => j.id === s.jurisdiction))
      invalid('scope.subjects names an unknown jurisdiction');
    return { collections, fields, actions, subjects: { kind: 'filter', jurisdiction: s.jurisdiction } };
  }
  const ids = s as readonly string[];
  if (ids.length === 0) invalid('scope names no subject');
  if (ids.length > MAX_SUBJECT_IDS)
    invalid(`more than ${MAX_SUBJECT_IDS} subjects: use a jurisdiction filter`);
  return { collections, fields, actions, subjects: { kind: 'ids', ids: unique(ids, 'subjects') } };
}

/** What an estimate reads. */
export interface EstimateDeps {
  readonly config: CustosConfig;
  readonly router: ResidencyRouter;
  readonly stores: ReadonlyMap<string, RecordStore>;
  readonly subjectStore: SubjectStore;
}

/**
 * Counts the subjects and records a scope reaches, from the stores themselves: a subject list
 * counts each listed subject's records in the residency-allowed stores; a jurisdiction filter
 * scans record locations (no ciphertext) and counts the distinct subjects of that jurisdiction.
 * Unknown subject ids are refused.
 */
export async function estimateScope(deps: EstimateDeps, scope: AccessScope): Promise<ScopeEstimate> {
  const categories = new Map(scope.collections.map((c) => [c, deps.router.collection(c).category]));
  if (scope.subjects.kind === 'ids') {
    const rows = await deps.subjectStore.getMany(scope.subjects.ids);
    const unknown = scope.subjects.ids.length - rows.size;
    if (unknown > 0) invalid(`${unknown} of the subjects are unknown`);
    let records = 0;
    let exact = true;
    for (const row of rows.values()) {
      if (row.erasedAt !== undefined) continue;
      for (const [collection, category] of categories) {
        for (const spec of deps.router.allowedStores(row.jurisdiction, category)) {
          const page = await deps.stores.get(spec.id)?.list({ collection, subject: row.id, limit: 10_000 });
          records += page?.length ?? 0;
          if ((page?.length ?? 0) >= 10_000) exact = false;
        }
      }
    }
    return { subjects: rows.size, records, exact };
  }
  const jurisdiction = scope.subjects.jurisdiction;
  const storeIds = new Set<string>();
  for (const category of categories.values())
    for (const s of deps.router.allowedStores(jurisdiction, category)) storeIds.add(s.id);
  const perSubject = new Map<string, number>();
  let scanned = 0;
  for (const id of storeIds) {
    const store = deps.stores.get(id);
    let after: Awaited<ReturnType<RecordStore['scan']>>[number] | undefined;
    while (store && scanned < MAX_SCAN) {
      const page = await store.scan(after, 5000);
      if (page.length === 0) break;
      scanned += page.length;
      for (const loc of page)
        if (categories.has(loc.collection))
          perSubject.set(loc.subject, (perSubject.get(loc.subject) ?? 0) + 1);
      after = page[page.length - 1];
    }
  }
  let subjects = 0;
  let records = 0;
  const ids = [...perSubject.keys()];
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await deps.subjectStore.getMany(ids.slice(i, i + 500));
    for (const row of rows.values()) {
      if (row.jurisdiction !== jurisdiction || row.erasedAt !== undefined) continue;
      subjects++;
      records += perSubject.get(row.id) ?? 0;
    }
  }
  return { subjects, records, exact: false };
}
