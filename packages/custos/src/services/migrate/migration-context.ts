import type { NoteSigner } from '@custos/verify';
import type { CustosConfig } from '../../domain/config.js';
import type { DatasetSpec, SourceSpec } from '../../domain/migration-config.js';
import type { Clock } from '../../ports/clock.js';
import type { MigrationSource } from '../../ports/migration-source.js';
import type { DatasetState, MigrationStateStore } from '../../ports/migration-state.js';
import type { RecordStore } from '../../ports/record-store.js';
import type { SubjectStore } from '../../ports/subject-store.js';
import type { LedgerEntryInput, LedgerService } from '../ledger/ledger-service.js';
import type { ResidencyRouter } from '../residency-router.js';
import type { SubjectKeys } from '../subject-keys.js';

/** What the migration services are built from (see `migration-root.ts`). */
export interface MigrationContext {
  readonly config: CustosConfig;
  readonly router: ResidencyRouter;
  readonly subjects: SubjectKeys;
  readonly subjectStore: SubjectStore;
  readonly stores: ReadonlyMap<string, RecordStore>;
  readonly ledger: LedgerService;
  readonly state: MigrationStateStore;
  readonly openSource: (spec: SourceSpec) => Promise<MigrationSource>;
  /** Signs deletion certificates: the custodian's ledger key, so one verifier key checks both. */
  readonly signer: NoteSigner;
  readonly clock: Clock;
}

/** Progress of one dataset, for a progress bar. */
export interface MigrationProgress {
  readonly dataset: string;
  readonly step: 'copy' | 'purge';
  readonly done: number;
  readonly total: number;
}

/** The state of a dataset never seen before. */
export function freshState(dataset: string, now: number): DatasetState {
  return {
    dataset,
    phase: 'copying',
    cursor: undefined,
    batches: 0,
    copied: 0,
    bytes: 0,
    held: 0,
    deleted: 0,
    range: { size: 0, hashes: [] },
    pending: undefined,
    certificate: undefined,
    updatedAt: now,
  };
}

/** A `migration` ledger entry about a dataset, by the custodian's migration tool. */
export function migrationEntry(
  ctx: MigrationContext,
  source: SourceSpec,
  dataset: DatasetSpec,
  action: string,
  count: number,
  details: NonNullable<LedgerEntryInput['details']>,
  time?: string,
): LedgerEntryInput {
  const custodian = ctx.config.organisations.find((o) => o.kind === 'custodian');
  return {
    type: 'migration',
    ...(time === undefined ? {} : { time }),
    principal: { id: 'custos-migrate', org: custodian?.id ?? 'custos', orgKind: 'custodian' },
    action,
    resource: { collection: dataset.collection, site: source.site, count },
    decision: 'none',
    reasons: [],
    details: { dataset: dataset.id, ...details },
  };
}

/** Every configured source with its datasets, optionally only the given source or dataset ids. */
export function selectDatasets(
  ctx: MigrationContext,
  only: readonly string[] | undefined,
): { source: SourceSpec; datasets: DatasetSpec[] }[] {
  return ctx.config.migration.sources
    .map((source) => ({
      source,
      datasets: source.datasets.filter(
        (d) => only === undefined || only.length === 0 || only.includes(d.id) || only.includes(source.id),
      ),
    }))
    .filter((s) => s.datasets.length > 0);
}
