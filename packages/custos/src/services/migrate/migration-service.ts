import { toBase64 } from '@custos/verify';
import {
  freshState,
  type MigrationContext,
  type MigrationProgress,
  selectDatasets,
} from './migration-context.js';
import { type CopyReport, rangeOf, runCopy } from './migration-copy.js';
import { buildPlan, type MigrationPlan } from './migration-plan.js';
import { certificatePath, type PurgeReport, runPurge } from './migration-purge.js';

/** Where one dataset stands (`migrate status`). */
export interface DatasetStatus {
  readonly dataset: string;
  readonly site: string;
  readonly phase: 'not-started' | 'copying' | 'copied' | 'purging' | 'pending-destruction' | 'purged';
  readonly copied: number;
  readonly held: number;
  readonly deleted: number;
  readonly batches: number;
  /** RFC 6962 root over the copied records' digests, base64. */
  readonly root: string;
  readonly pending: string | undefined;
  readonly certificate: string | undefined;
}

/** Migration off legacy sites: plan, run, purge, status (docs/migration.md). */
export class MigrationService {
  constructor(private readonly ctx: MigrationContext) {}

  /** The inventory of the selected sources (all when `only` is empty). */
  plan(only?: readonly string[]): Promise<MigrationPlan> {
    return buildPlan(this.ctx, only);
  }

  /** Copies and verifies; resumable and idempotent. */
  run(only?: readonly string[], onProgress?: (p: MigrationProgress) => void): Promise<CopyReport[]> {
    return this.locked(() => runCopy(this.ctx, only, onProgress));
  }

  /** Runs `fn` holding the state store's exclusive lock (`MIGRATION_BUSY` when another process has it). */
  private async locked<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.ctx.state.lock();
    try {
      return await fn();
    } finally {
      await release();
    }
  }

  /** Deletes verified source copies and issues certificates. */
  purge(only?: readonly string[], onProgress?: (p: MigrationProgress) => void): Promise<PurgeReport[]> {
    return this.locked(() => runPurge(this.ctx, only, onProgress));
  }

  /** Every configured dataset (or only the selected ones) with its checkpointed state. */
  async status(only?: readonly string[]): Promise<DatasetStatus[]> {
    const out: DatasetStatus[] = [];
    for (const { source, datasets } of selectDatasets(this.ctx, only)) {
      for (const d of datasets) {
        const s = await this.ctx.state.dataset(d.id);
        const state = s ?? freshState(d.id, 0);
        out.push({
          dataset: d.id,
          site: source.site,
          phase: s === undefined ? 'not-started' : s.phase,
          copied: state.copied,
          held: state.held,
          deleted: state.deleted,
          batches: state.batches,
          root: toBase64(rangeOf(state).root()),
          pending: state.pending,
          certificate: state.certificate === undefined ? undefined : certificatePath(this.ctx, d),
        });
      }
    }
    return out;
  }

  /** Closes the state store. */
  close(): Promise<void> {
    return this.ctx.state.close();
  }
}
