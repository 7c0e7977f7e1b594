import { randomBytes } from 'node:crypto';
import { CompactRange, hashLeaf, rootFromLeafHashes, toBase64, toHex } from '@custos/verify';
import { CustosError, isCustosError } from '../../domain/errors.js';
import type { DatasetSpec, SourceSpec } from '../../domain/migration-config.js';
import type { MigrationSource, SourceItem } from '../../ports/migration-source.js';
import type { DatasetState, HeldRecord, MigratedRecord } from '../../ports/migration-state.js';
import type { StoredRecord } from '../../ports/record-store.js';
import { sealRecord } from '../envelope.js';
import { JurisdictionResolver } from './jurisdiction-resolver.js';
import {
  freshState,
  type MigrationContext,
  type MigrationProgress,
  migrationEntry,
  selectDatasets,
} from './migration-context.js';
import { type SourceRecord, toSourceRecord } from './source-record.js';
import { digestAtTarget, verifyAtTarget } from './target-verify.js';

/** What `migrate run` did for one dataset. */
export interface CopyReport {
  readonly dataset: string;
  readonly source: string;
  readonly site: string;
  readonly collection: string;
  /** `copied`: finished now or before; `failed`: stopped on an error (see `error`). */
  readonly status: 'copied' | 'failed' | 'purging' | 'purged';
  readonly copiedNow: number;
  readonly copied: number;
  readonly held: number;
  readonly bytes: number;
  readonly batches: number;
  /** RFC 6962 root over the copied records' digests, base64. */
  readonly root: string;
  /** Source columns neither mapped nor discarded: purge refuses the dataset until they are. */
  readonly unmapped: readonly string[];
  readonly error: { readonly code: string; readonly message: string } | undefined;
}

/** The Merkle range of a state, restored. */
export function rangeOf(state: DatasetState): CompactRange {
  return new CompactRange({
    size: state.range.size,
    hashes: state.range.hashes.map((h) => Buffer.from(h, 'hex')),
  });
}

function saveRange(range: CompactRange): DatasetState['range'] {
  const s = range.state();
  return { size: s.size, hashes: s.hashes.map((h) => toHex(h)) };
}

/** The state's unmapped columns with those of a batch's records (sorted, once each). */
function mergeUnmapped(prior: readonly string[] | undefined, records: readonly SourceRecord[]): string[] {
  const all = new Set(prior ?? []);
  for (const r of records) for (const c of r.unmapped) all.add(c);
  return [...all].sort();
}

/** Copies one dataset: the main pass from its cursor, then one retry pass over held-back records. */
class DatasetCopier {
  private readonly category;
  copiedNow = 0;

  constructor(
    private readonly ctx: MigrationContext,
    private readonly source: SourceSpec,
    private readonly dataset: DatasetSpec,
    private readonly reader: MigrationSource,
    private readonly resolver: JurisdictionResolver,
    private state: DatasetState,
    private readonly onProgress: ((p: MigrationProgress) => void) | undefined,
  ) {
    this.category = ctx.router.collection(dataset.collection).category;
  }

  get current(): DatasetState {
    return this.state;
  }

  /** Maps items, holding back bad ones when `skip` (or on a retry); `stop` throws the coded error. */
  private mapItems(
    items: readonly SourceItem[],
    retry: boolean,
  ): { good: SourceRecord[]; held: HeldRecord[] } {
    const good: SourceRecord[] = [];
    const held: HeldRecord[] = [];
    for (const item of items) {
      try {
        good.push(toSourceRecord(this.dataset, item));
      } catch (err) {
        if (!isCustosError(err, 'MIGRATION_RECORD_INVALID')) throw err;
        if (this.ctx.config.migration.onError === 'stop' && !retry) throw err;
        held.push({ sourceKey: item.key, at: item.at, reason: 'bad-record', detail: err.message });
      }
    }
    return { good, held };
  }

  /** Copies, verifies, records in the ledger, and checkpoints one batch; nothing counts until the last step. */
  async batch(items: readonly SourceItem[], cursor: string | undefined, retry: boolean): Promise<void> {
    const { good, held } = this.mapItems(items, retry);
    const juris = await this.resolver.resolve([...new Set(good.map((r) => r.subject))]);
    // New subjects (jurisdiction from the accounts source) are registered in one transaction.
    const fresh = [...juris].filter(([, j]) => !j.registered && !j.erased && j.jurisdiction !== undefined);
    await this.ctx.subjects.registerMany(
      fresh.map(([id, j]) => ({ id, jurisdiction: j.jurisdiction as string })),
    );
    const now = this.ctx.clock.now();
    const byStore = new Map<string, { sealed: StoredRecord[]; from: SourceRecord[] }>();
    let copied: { r: SourceRecord; store: string }[] = [];
    const batchDigests = new Map<string, Buffer>();
    // One random draw per batch, cut into 12-byte IVs: each record still gets a fresh random IV.
    const ivs = randomBytes(12 * good.length);
    let sealed = 0;
    for (const r of good) {
      const j = juris.get(r.subject);
      if (j?.erased) {
        held.push({
          sourceKey: r.key,
          at: r.at,
          reason: 'subject-erased',
          detail: 'the subject has been erased',
        });
        continue;
      }
      if (j?.jurisdiction === undefined) {
        held.push({
          sourceKey: r.key,
          at: r.at,
          reason: 'unknown-jurisdiction',
          detail: 'no known jurisdiction for the subject: resolve it in the accounts source',
        });
        continue;
      }
      let store: string;
      try {
        store = this.ctx.router.storeForWrite(j.jurisdiction, this.category).id;
      } catch (err) {
        if (!isCustosError(err, 'RESIDENCY_VIOLATION')) throw err;
        held.push({ sourceKey: r.key, at: r.at, reason: 'no-allowed-store', detail: err.message });
        continue;
      }
      // Insert-if-absent: a record already at the target (a live write, another dataset, a
      // duplicate id) is never overwritten. The same digest is this record, already copied.
      const ident = `${r.subject}\u0000${r.id}`;
      const inBatch = batchDigests.get(ident);
      const there = inBatch ?? (await digestAtTarget(this.ctx, this.dataset, store, r.subject, r.id));
      if (there !== undefined) {
        if (there !== 'unreadable' && there.equals(r.digest)) {
          copied.push({ r, store });
          continue;
        }
        held.push({
          sourceKey: r.key,
          at: r.at,
          reason: 'conflict',
          detail: `MIGRATION_CONFLICT: ${store} already holds a different ${this.dataset.collection} record ${r.id} of this subject`,
        });
        continue;
      }
      batchDigests.set(ident, r.digest);
      // The cached handle synchronously when there is one: no promise per record.
      const handle = this.ctx.subjects.peek(r.subject) ?? (await this.ctx.subjects.open(r.subject));
      const key = { version: handle.current, key: handle.keys.get(handle.current) as Uint8Array };
      const binding = {
        id: r.id,
        subject: r.subject,
        collection: this.dataset.collection,
        keyVersion: key.version,
      };
      let list = byStore.get(store);
      if (!list) {
        list = { sealed: [], from: [] };
        byStore.set(store, list);
      }
      list.sealed.push({
        ...binding,
        sealed: sealRecord(key.key, binding, r.plaintext, ivs.subarray(12 * sealed, 12 * sealed + 12)),
        updatedAt: now,
      });
      list.from.push(r);
      sealed++;
      copied.push({ r, store });
    }
    // Insert-if-absent at the store itself: a live write that landed after the check above wins,
    // and the record is then judged like one found there (same digest: copied; else a conflict).
    // A lost identity takes every row of the batch with it: duplicates counted on its insert too.
    const identity = (store: string, r: SourceRecord): string => `${store}\u0000${r.subject}\u0000${r.id}`;
    const lost = new Set<string>();
    for (const [store, list] of byStore) {
      const inserted = await this.adapter(store).insertNew(list.sealed);
      for (let i = 0; i < inserted.length; i++) {
        if (inserted[i]) continue;
        const r = list.from[i] as SourceRecord;
        const there = await digestAtTarget(this.ctx, this.dataset, store, r.subject, r.id);
        if (there !== undefined && there !== 'unreadable' && there.equals(r.digest)) continue;
        lost.add(identity(store, r));
      }
    }
    if (lost.size > 0) {
      const kept: typeof copied = [];
      for (const c of copied) {
        if (!lost.has(identity(c.store, c.r))) {
          kept.push(c);
          continue;
        }
        held.push({
          sourceKey: c.r.key,
          at: c.r.at,
          reason: 'conflict',
          detail: `MIGRATION_CONFLICT: ${c.store} gained a different ${this.dataset.collection} record ${c.r.id} of this subject during the copy`,
        });
      }
      copied = kept;
    }
    const released = retry ? copied.map((c) => c.r.key) : [];
    if (retry && copied.length === 0) return;
    const records: MigratedRecord[] = copied.map((c, i) => ({
      seq: this.state.copied + i,
      sourceKey: c.r.key,
      subject: c.r.subject,
      id: c.r.id,
      digest: c.r.digest,
      store: c.store,
      deleted: false,
    }));
    await verifyAtTarget(this.ctx, this.dataset, records);
    const range = rangeOf(this.state);
    const leaves = records.map((r) => hashLeaf(r.digest));
    for (const leaf of leaves) range.appendLeafHash(leaf);
    const next: DatasetState = {
      ...this.state,
      cursor: retry ? this.state.cursor : cursor,
      batches: this.state.batches + 1,
      copied: this.state.copied + records.length,
      bytes: this.state.bytes + copied.reduce((n, c) => n + c.r.plaintext.length, 0),
      held: retry ? this.state.held - released.length : this.state.held + held.length,
      range: saveRange(range),
      unmapped: mergeUnmapped(this.state.unmapped, good),
      updatedAt: now,
    };
    // Fail closed: a batch the ledger cannot record is not checkpointed, so it is copied again.
    await this.ctx.ledger.append(
      migrationEntry(this.ctx, this.source, this.dataset, 'migrate.copy', records.length, {
        batch: next.batches,
        held: held.length,
        batchRoot: toBase64(rootFromLeafHashes(leaves)),
        datasetSize: range.size,
        datasetRoot: toBase64(range.root()),
        stores: [...byStore.keys()],
      }),
    );
    await this.ctx.state.commitCopy(next, records, retry ? [] : held, released);
    this.state = next;
    this.copiedNow += records.length;
  }

  private adapter(id: string) {
    const store = this.ctx.stores.get(id);
    if (!store) throw new CustosError('STORE_UNKNOWN', `store "${id}" is not open`);
    return store;
  }

  /** The main pass: batches from the checkpointed cursor to the end of the source. */
  async copyAll(): Promise<void> {
    const total = await this.reader.count(this.dataset.location);
    const batchSize = this.ctx.config.migration.batchSize;
    for (;;) {
      const page = await this.reader.read(this.dataset.location, this.state.cursor, batchSize);
      if (page.items.length === 0) break;
      await this.batch(page.items, page.cursor, false);
      this.onProgress?.({
        dataset: this.dataset.id,
        step: 'copy',
        done: this.state.copied + this.state.held,
        total: Math.max(total, this.state.copied + this.state.held),
      });
    }
  }

  /** Retries held-back records (their subject may now be known): one scan of the source. */
  async retryHeld(): Promise<void> {
    const keys = new Set<string>();
    for (let after = ''; ; ) {
      const page = await this.ctx.state.held(this.dataset.id, after, 10_000);
      if (page.length === 0) break;
      for (const h of page) keys.add(h.sourceKey);
      after = page[page.length - 1]?.sourceKey ?? '';
    }
    let cursor: string | undefined;
    for (;;) {
      const page = await this.reader.read(this.dataset.location, cursor, this.ctx.config.migration.batchSize);
      if (page.items.length === 0) break;
      cursor = page.cursor;
      const wanted = page.items.filter((i) => keys.has(i.key));
      if (wanted.length > 0) await this.batch(wanted, undefined, true);
    }
  }
}

function report(
  source: SourceSpec,
  dataset: DatasetSpec,
  state: DatasetState,
  copiedNow: number,
  error: unknown,
): CopyReport {
  const phase = state.phase;
  return {
    dataset: dataset.id,
    source: source.id,
    site: source.site,
    collection: dataset.collection,
    status:
      error !== undefined
        ? 'failed'
        : phase === 'purged'
          ? 'purged'
          : phase === 'copying' || phase === 'copied'
            ? 'copied'
            : 'purging',
    copiedNow,
    copied: state.copied,
    held: state.held,
    bytes: state.bytes,
    batches: state.batches,
    root: toBase64(rangeOf(state).root()),
    unmapped: state.unmapped ?? [],
    error:
      error === undefined
        ? undefined
        : isCustosError(error)
          ? { code: error.code, message: error.message }
          : { code: 'INTERNAL', message: 'unexpected failure' },
  };
}

/**
 * `migrate run`: copies every selected dataset through the residency router into the allowed
 * stores, sealed under the subjects' keys, in batches; each batch is read back and verified, recorded
 * in the ledger and checkpointed. Resumable and idempotent. With `onError: stop` the first error
 * ends the run (earlier batches stay committed); with `skip` bad records are held back and other
 * sources continue.
 */
export async function runCopy(
  ctx: MigrationContext,
  only: readonly string[] | undefined,
  onProgress?: (p: MigrationProgress) => void,
): Promise<CopyReport[]> {
  const reports: CopyReport[] = [];
  const resolver = new JurisdictionResolver(ctx);
  const stop = ctx.config.migration.onError === 'stop';
  for (const { source, datasets } of selectDatasets(ctx, only)) {
    let reader: MigrationSource | undefined;
    try {
      for (const dataset of datasets) {
        const initial = (await ctx.state.dataset(dataset.id)) ?? freshState(dataset.id, ctx.clock.now());
        // After purge began, only held-back rows are retried (their account may have appeared).
        if (
          initial.phase === 'purged' ||
          (initial.phase !== 'copying' && initial.phase !== 'copied' && initial.held === 0)
        ) {
          reports.push(report(source, dataset, initial, 0, undefined));
          continue;
        }
        reader ??= await ctx.openSource(source);
        const copier = new DatasetCopier(ctx, source, dataset, reader, resolver, initial, onProgress);
        try {
          await reader.checkKey(dataset.location);
          if (initial.phase === 'copying') {
            await copier.copyAll();
            await ctx.state.save({ ...copier.current, phase: 'copied', updatedAt: ctx.clock.now() });
          }
          if (copier.current.held > 0) await copier.retryHeld();
          const done = (await ctx.state.dataset(dataset.id)) ?? copier.current;
          reports.push(report(source, dataset, done, copier.copiedNow, undefined));
        } catch (err) {
          reports.push(report(source, dataset, copier.current, copier.copiedNow, err));
          if (stop || !isCustosError(err, 'MIGRATION_SOURCE_UNAVAILABLE')) throw err;
          break;
        }
      }
    } catch (err) {
      if (stop || !isCustosError(err, 'MIGRATION_SOURCE_UNAVAILABLE')) throw withReports(err, reports);
      if (!reports.some((r) => r.source === source.id)) {
        for (const d of datasets) reports.push(report(source, d, freshState(d.id, 0), 0, err));
      }
    } finally {
      await reader?.close();
    }
  }
  return reports;
}

/** Attaches the reports gathered so far to an error that ends the run, for the CLI to print. */
function withReports(err: unknown, reports: CopyReport[]): unknown {
  if (err instanceof CustosError) (err as CustosError & { reports?: CopyReport[] }).reports = reports;
  return err;
}
