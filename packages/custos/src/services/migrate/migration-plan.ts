import { isCustosError } from '../../domain/errors.js';
import { JurisdictionResolver } from './jurisdiction-resolver.js';
import { type MigrationContext, selectDatasets } from './migration-context.js';
import type { SourceRecord } from './source-record.js';
import { toSourceRecord } from './source-record.js';

/** One line of the inventory: source site × collection × jurisdiction × category. */
export interface PlanRow {
  readonly site: string;
  readonly dataset: string;
  readonly collection: string;
  /** `unknown` when no jurisdiction is known: such records are held back and count as protected. */
  readonly jurisdiction: string;
  readonly category: string;
  readonly records: number;
  /** Canonical plaintext bytes. */
  readonly bytes: number;
  /** Must move: the source site is not allowed for them. */
  readonly move: number;
  /** Already on an allowed site; still taken into custody on an allowed store, never across. */
  readonly compliant: number;
  /** Source copies to delete (or destroy) once verified at their target. */
  readonly delete: number;
  /** No known jurisdiction: held back until resolved. */
  readonly unknown: number;
  /** Sites the records go to. */
  readonly to: readonly string[];
}

/** The inventory `migrate plan` prints. */
export interface MigrationPlan {
  readonly rows: readonly PlanRow[];
  /** Records that cannot be read (malformed line, wrong column count, missing subject id). */
  readonly invalid: readonly { readonly dataset: string; readonly count: number; readonly first: string }[];
  /**
   * Source columns neither mapped nor in the dataset's `discard`: purge refuses such a dataset
   * (`MIGRATION_UNMAPPED_COLUMNS`), since deleting the rows would lose them.
   */
  readonly unmapped: readonly { readonly dataset: string; readonly columns: readonly string[] }[];
  /**
   * Datasets that cannot be migrated as declared (a database table whose id column is not a
   * unique, non-null key: `MIGRATION_KEY_NOT_UNIQUE`); `run` refuses them, the plan goes on.
   */
  readonly blocked: readonly { readonly dataset: string; readonly code: string; readonly message: string }[];
  readonly totals: Readonly<Record<PlanCount | 'invalid', number>>;
}

/** The counted columns of a plan row, summed in the totals. */
const PLAN_COUNTS = ['records', 'bytes', 'move', 'compliant', 'delete', 'unknown'] as const;
type PlanCount = (typeof PLAN_COUNTS)[number];

const PAGE = 5000;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Reads every selected source once (nothing is written) and builds the inventory. */
export async function buildPlan(ctx: MigrationContext, only?: readonly string[]): Promise<MigrationPlan> {
  const resolver = new JurisdictionResolver(ctx);
  const rows = new Map<string, Mutable<PlanRow> & { sites: Set<string> }>();
  const invalid: { dataset: string; count: number; first: string }[] = [];
  const unmapped: { dataset: string; columns: string[] }[] = [];
  const blocked: { dataset: string; code: string; message: string }[] = [];
  for (const { source, datasets } of selectDatasets(ctx, only)) {
    const reader = await ctx.openSource(source);
    try {
      for (const dataset of datasets) {
        const category = ctx.router.collection(dataset.collection).category;
        const bad = { dataset: dataset.id, count: 0, first: '' };
        const extra = new Set<string>();
        try {
          await reader.checkKey(dataset.location);
        } catch (err) {
          if (!isCustosError(err, 'MIGRATION_KEY_NOT_UNIQUE')) throw err;
          blocked.push({ dataset: dataset.id, code: err.code, message: err.message });
          continue;
        }
        for (let cursor: string | undefined; ; ) {
          const page = await reader.read(dataset.location, cursor, PAGE);
          if (page.items.length === 0) break;
          cursor = page.cursor;
          const good: SourceRecord[] = [];
          for (const item of page.items) {
            try {
              const r = toSourceRecord(dataset, item);
              for (const c of r.unmapped) extra.add(c);
              good.push(r);
            } catch (err) {
              if (!isCustosError(err)) throw err;
              if (bad.count++ === 0) bad.first = err.message;
            }
          }
          const juris = await resolver.resolve([...new Set(good.map((r) => r.subject))]);
          for (const r of good) {
            const j = juris.get(r.subject)?.jurisdiction;
            // Unknown jurisdiction counts as protected until it is resolved (DESIGN: never guessed).
            const cat = j === undefined ? 'protected' : category;
            const key = [source.site, dataset.id, j ?? 'unknown', cat].join('\u0000');
            let row = rows.get(key);
            if (!row) {
              row = {
                site: source.site,
                dataset: dataset.id,
                collection: dataset.collection,
                jurisdiction: j ?? 'unknown',
                category: cat,
                records: 0,
                bytes: 0,
                move: 0,
                compliant: 0,
                delete: 0,
                unknown: 0,
                to: [],
                sites: new Set(),
              };
              rows.set(key, row);
            }
            row.records++;
            row.bytes += r.plaintext.length;
            if (j === undefined) {
              row.unknown++;
              continue;
            }
            const target = ctx.router.allowedStores(j, category)[0];
            if (target === undefined) {
              row.unknown++;
              continue;
            }
            row.sites.add(target.site);
            if (ctx.router.isAllowed(j, category, source.site)) row.compliant++;
            else row.move++;
            row.delete++;
          }
        }
        if (bad.count > 0) invalid.push(bad);
        if (extra.size > 0) unmapped.push({ dataset: dataset.id, columns: [...extra].sort() });
      }
    } finally {
      await reader.close();
    }
  }
  const list = [...rows.values()].map(({ sites, ...r }) => ({ ...r, to: [...sites].sort() }));
  const counts = Object.fromEntries(
    PLAN_COUNTS.map((k) => [k, list.reduce((n, r) => n + r[k], 0)]),
  ) as Record<PlanCount, number>;
  return {
    rows: list,
    invalid,
    unmapped,
    blocked,
    totals: { ...counts, invalid: invalid.reduce((n, b) => n + b.count, 0) },
  };
}
