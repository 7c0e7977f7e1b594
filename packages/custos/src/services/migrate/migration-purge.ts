import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashLeaf, rootFromLeafHashes, toBase64, toHex } from '@custos/verify';
import { CustosError, isCustosError } from '../../domain/errors.js';
import type { DatasetSpec, SourceSpec } from '../../domain/migration-config.js';
import type { MigrationSource, SourceRow } from '../../ports/migration-source.js';
import type { DatasetState, MigratedRecord } from '../../ports/migration-state.js';
import {
  CERTIFICATE_FORMAT,
  type CertificateFile,
  certificateDigest,
  type DeletionCertificate,
  type DeletionMethod,
  digestsRoot,
  signCertificate,
} from './deletion-certificate.js';
import {
  type MigrationContext,
  type MigrationProgress,
  migrationEntry,
  selectDatasets,
} from './migration-context.js';
import { mapRow } from './source-record.js';
import { verifyAtTarget } from './target-verify.js';

/** What `migrate purge` did for one dataset. */
export interface PurgeReport {
  readonly dataset: string;
  readonly status: 'purged' | 'pending-destruction' | 'failed';
  readonly deletedNow: number;
  readonly deleted: number;
  readonly heldBack: number;
  /** Path of the certificate file, once issued. */
  readonly certificate: string | undefined;
  readonly error: { readonly code: string; readonly message: string } | undefined;
}

const identity = (subject: string, id: string): string => `${subject}\u0000${id}`;

/** Pages through a dataset's records of one kind. */
async function* pages(ctx: MigrationContext, dataset: string, which: 'copied' | 'deleted' | 'all') {
  for (let after = -1; ; ) {
    const page = await ctx.state.records(dataset, after, ctx.config.migration.batchSize, which);
    if (page.length === 0) return;
    yield page;
    after = page[page.length - 1]?.seq ?? after;
  }
}

class DatasetPurger {
  deletedNow = 0;

  constructor(
    private readonly ctx: MigrationContext,
    private readonly source: SourceSpec,
    private readonly dataset: DatasetSpec,
    private readonly reader: MigrationSource,
    private state: DatasetState,
    private readonly onProgress: ((p: MigrationProgress) => void) | undefined,
  ) {}

  get current(): DatasetState {
    return this.state;
  }

  private async save(patch: Partial<DatasetState>): Promise<void> {
    this.state = { ...this.state, ...patch, updatedAt: this.ctx.clock.now() };
    await this.ctx.state.save(this.state);
  }

  private entry(action: string, count: number, details: Record<string, string | number>) {
    return migrationEntry(this.ctx, this.source, this.dataset, action, count, details);
  }

  /** Deletes verified records from a source that can delete rows, batch by batch. */
  async deleteVerified(): Promise<void> {
    if (this.state.phase === 'copied') await this.save({ phase: 'purging' });
    for await (const page of pages(this.ctx, this.dataset.id, 'copied')) {
      // Verified present at the target now, not only when copied: nothing is deleted otherwise.
      await verifyAtTarget(this.ctx, this.dataset, page);
      // Recorded before the deletion: if the ledger cannot record, nothing is deleted (fail closed).
      await this.ctx.ledger.append(
        this.entry('migrate.purge', page.length, {
          fromSeq: page[0]?.seq ?? 0,
          toSeq: page[page.length - 1]?.seq ?? 0,
          batchRoot: toBase64(rootFromLeafHashes(page.map((r) => hashLeaf(r.digest)))),
        }),
      );
      // The verified copies durable against power loss before their source rows go.
      for (const id of new Set(page.map((r) => r.store))) await this.ctx.stores.get(id)?.sync?.();
      const want = new Map(page.map((r) => [identity(r.subject, r.id), toHex(r.digest)]));
      const changed = new Set<string>();
      const confirm = (row: SourceRow): boolean => {
        let mapped: ReturnType<typeof mapRow>;
        try {
          mapped = mapRow(this.dataset, row, '', '');
        } catch {
          return false;
        }
        // A column neither copied nor discarded would be lost: the row stays (and blocks the certificate).
        if (mapped.unmapped.length > 0) return false;
        const ident = identity(mapped.subject, mapped.id);
        const digest = want.get(ident);
        if (digest === undefined) return false;
        // A row changed since its copy is not what was verified: it stays (and blocks the certificate).
        if (digest !== mapped.digest.toString('hex')) {
          changed.add(ident);
          return false;
        }
        return true;
      };
      await this.reader.delete(
        this.dataset.location,
        page.map((r) => r.sourceKey),
        confirm,
      );
      await this.markDeleted(page.filter((r) => !changed.has(identity(r.subject, r.id))));
    }
  }

  /**
   * Deletes at the source, without copying, the held-back rows of subjects erased in Custos
   * (re-checked now), after a ledger entry; they are then no longer held back.
   */
  async deleteErased(): Promise<void> {
    const erased = await erasedHeldRows(this.ctx, this.reader, this.dataset);
    if (erased.keys.length === 0) return;
    await this.ctx.ledger.append(
      this.entry('migrate.erased-delete', erased.keys.length, { subjects: erased.subjects.size }),
    );
    await this.reader.delete(this.dataset.location, erased.keys, (row) => {
      try {
        return erased.subjects.has(mapRow(this.dataset, row, '', '').subject);
      } catch {
        return false;
      }
    });
    // Released from held back: one still at the source is then a leftover, and blocks the certificate.
    this.state = await releaseHeld(this.ctx, this.state, erased.keys);
  }

  private async markDeleted(records: readonly MigratedRecord[]): Promise<void> {
    this.state = {
      ...this.state,
      deleted: this.state.deleted + records.length,
      updatedAt: this.ctx.clock.now(),
    };
    await this.ctx.state.commitDelete(
      this.state,
      records.map((r) => r.seq),
    );
    this.deletedNow += records.length;
    this.onProgress?.({
      dataset: this.dataset.id,
      step: 'purge',
      done: this.state.deleted,
      total: this.state.copied,
    });
  }

  /** Marks every copied record destroyed (after verifying each at its target). */
  async markAllDestroyed(): Promise<void> {
    for await (const page of pages(this.ctx, this.dataset.id, 'copied')) {
      await verifyAtTarget(this.ctx, this.dataset, page);
      await this.markDeleted(page);
    }
  }

  private async pendingDestruction(reason: string): Promise<never> {
    if (this.state.phase !== 'pending-destruction' || this.state.pending !== reason) {
      await this.ctx.ledger.append(this.entry('migrate.pending-destruction', this.state.copied, { reason }));
      await this.save({ phase: 'pending-destruction', pending: reason });
    }
    throw new CustosError('DESTRUCTION_PENDING', `dataset ${this.dataset.id}: ${reason}`, {
      details: [`${this.dataset.id}: ${reason}`],
    });
  }

  /**
   * A source that cannot delete rows: crypto-shred it, or record a pending destruction. The
   * held-back and unfinished checks come first on every path. `crypto-shred` is certified only when
   * Custos itself destroyed the key (the persisted `shredded` flag); a file or key found missing
   * proves nothing and is `MIGRATION_SOURCE_UNAVAILABLE`. A source without a key is `destroyed`
   * only once Custos recorded it pending destruction and it is then gone.
   */
  async destroyArchive(siblings: readonly DatasetState[]): Promise<DeletionMethod> {
    if (this.state.shred === 'done') {
      await this.markAllDestroyed();
      return 'crypto-shred';
    }
    if (this.state.shred === 'started') return this.shred();
    const unfinished =
      siblings.length < this.source.datasets.length || siblings.some((s) => s.phase === 'copying');
    if (unfinished) await this.pendingDestruction('not every dataset of the source has been copied');
    // Rows of subjects erased in Custos (re-checked now) do not hold the archive back: destroying
    // it destroys them too, which is what their erasure asks for. Every other held row does. They
    // can only be told apart while the archive can still be read.
    const present = await this.reader.exists(this.dataset.location);
    const erased: ErasedSibling[] = [];
    let held = 0;
    for (const state of siblings) {
      const spec = this.source.datasets.find((d) => d.id === state.dataset);
      const rows =
        !present || spec === undefined || state.held === 0
          ? undefined
          : await erasedHeldRows(this.ctx, this.reader, spec);
      if (spec !== undefined && rows !== undefined && rows.keys.length > 0)
        erased.push({ spec, state, rows });
      held += Math.max(0, state.held - (rows?.keys.length ?? 0));
    }
    if (held > 0) {
      await this.pendingDestruction(
        `${held} record(s) held back would be destroyed with the source: resolve them first`,
      );
    }
    if (this.source.keyFile === undefined) {
      if (present) {
        // Whoever destroys the archive destroys these rows with it.
        await this.releaseErased(erased, 'migrate.erased-pending-destruction');
        await this.pendingDestruction(
          'the source cannot delete rows and Custos holds no key to it: destroy it, then run purge again',
        );
      }
      if (this.state.phase !== 'pending-destruction') {
        throw sourceGone(
          this.source.id,
          'the file is missing, but Custos never recorded it pending destruction',
        );
      }
      await this.markAllDestroyed();
      return 'destroyed';
    }
    if (!present || !existsSync(this.source.keyFile)) {
      throw sourceGone(this.source.id, 'the archive or its key is missing: Custos did not destroy it');
    }
    for (const s of this.source.datasets) {
      for await (const page of pages(this.ctx, s.id, 'copied')) await verifyAtTarget(this.ctx, s, page);
    }
    // Every check passed: the shred that follows destroys them.
    await this.releaseErased(erased, 'migrate.erased-destroy');
    await this.ctx.ledger.append(
      this.entry('migrate.crypto-shred', this.state.copied, { datasets: this.source.datasets.length }),
    );
    await this.markShred('started');
    return this.shred();
  }

  /**
   * Records in the ledger (first: fail closed), then releases from held back, the rows of erased
   * subjects that the archive's destruction takes with it, for each dataset of the archive.
   */
  private async releaseErased(erased: readonly ErasedSibling[], action: string): Promise<void> {
    for (const { spec, state, rows } of erased) {
      await this.ctx.ledger.append(
        migrationEntry(this.ctx, this.source, spec, action, rows.keys.length, {
          subjects: rows.subjects.size,
        }),
      );
      const current =
        spec.id === this.dataset.id ? this.state : ((await this.ctx.state.dataset(spec.id)) ?? state);
      const next = await releaseHeld(this.ctx, current, rows.keys);
      if (spec.id === this.dataset.id) this.state = next;
    }
  }

  /** Destroys the key (idempotent), then records it done for every dataset of the archive. */
  private async shred(): Promise<DeletionMethod> {
    await this.reader.shred();
    await this.markShred('done');
    await this.ctx.ledger.append(
      this.entry('migrate.shredded', this.state.copied, { datasets: this.source.datasets.length }),
    );
    await this.markAllDestroyed();
    return 'crypto-shred';
  }

  /** Saves the shred step on every dataset of the archive (they share the key). */
  private async markShred(step: 'started' | 'done'): Promise<void> {
    for (const s of this.source.datasets) {
      if (s.id === this.dataset.id) continue;
      const st = await this.ctx.state.dataset(s.id);
      if (st !== undefined)
        await this.ctx.state.save({ ...st, shred: step, updatedAt: this.ctx.clock.now() });
    }
    await this.save({ shred: step });
  }

  /**
   * No certificate while rows are held back at the dataset: records `DESTRUCTION_PENDING` naming
   * the first of them. A later `run` (after their accounts appear) copies them; purge then certifies.
   */
  async heldBack(): Promise<never> {
    const first = await this.ctx.state.held(this.dataset.id, '', 5);
    const where = first.map((h) => `${h.at} (${h.reason})`).join(', ');
    const reason = `${this.state.held} record(s) held back at the source, e.g. ${where}: resolve them and run again`;
    if (this.state.pending !== reason) await this.save({ pending: reason });
    throw new CustosError('DESTRUCTION_PENDING', `dataset ${this.dataset.id}: ${reason}`, {
      details: [`${this.dataset.id}: ${reason}`],
    });
  }

  /** Counts source rows still present that are not held back; a certificate needs zero. */
  async leftovers(): Promise<number> {
    // Destroyed: shredded by Custos (unreadable for good), or gone after a recorded pending destruction.
    if (this.state.shred === 'done' || !(await this.reader.exists(this.dataset.location))) return 0;
    await this.reader.checkKey(this.dataset.location);
    const held = new Set<string>();
    for (let after = ''; ; ) {
      const page = await this.ctx.state.held(this.dataset.id, after, 10_000);
      if (page.length === 0) break;
      for (const h of page) held.add(h.sourceKey);
      after = page[page.length - 1]?.sourceKey ?? '';
    }
    let left = 0;
    let heldSeen = 0;
    for (let cursor: string | undefined; ; ) {
      const page = await this.reader.read(this.dataset.location, cursor, this.ctx.config.migration.batchSize);
      if (page.items.length === 0) break;
      cursor = page.cursor;
      for (const item of page.items) {
        if (held.has(item.key)) heldSeen++;
        else left++;
      }
    }
    // The scan pages by key; the row count cannot miss a row the paging skipped.
    const total = await this.reader.count(this.dataset.location);
    return Math.max(left, total - heldSeen);
  }

  /** Signs the certificate, records it in the ledger, writes the file, and marks the dataset purged. */
  async certify(method: DeletionMethod): Promise<string> {
    const digests: string[] = [];
    for await (const page of pages(this.ctx, this.dataset.id, 'deleted')) {
      for (const r of page) digests.push(toHex(r.digest));
    }
    const issuedAt = new Date(this.ctx.clock.now()).toISOString();
    const cert: DeletionCertificate = {
      format: CERTIFICATE_FORMAT,
      dataset: this.dataset.id,
      source: this.source.id,
      site: this.source.site,
      collection: this.dataset.collection,
      method,
      count: digests.length,
      root: digestsRoot(digests),
      heldBack: this.state.held,
      discarded: this.dataset.discard,
      leftover: 0,
      issuedAt,
      ledgerOrigin: this.ctx.ledger.origin,
    };
    const { note, text } = await signCertificate(cert, this.ctx.signer);
    const { index } = await this.ctx.ledger.append(
      migrationEntry(
        this.ctx,
        this.source,
        this.dataset,
        'migrate.certificate',
        cert.count,
        { certificate: certificateDigest(text), root: cert.root, method },
        issuedAt,
      ),
    );
    const file: CertificateFile = {
      format: CERTIFICATE_FORMAT,
      note,
      digests,
      ledger: await this.ctx.ledger.receipt(index),
      verifierKey: this.ctx.ledger.verifierKey,
    };
    const json = `${JSON.stringify(file, null, 1)}\n`;
    const path = certificatePath(this.ctx, this.dataset);
    mkdirSync(this.ctx.config.migration.certificatesDir, { recursive: true, mode: 0o700 });
    const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(tmp, json, { mode: 0o600 });
    renameSync(tmp, path);
    await this.save({ phase: 'purged', pending: undefined, certificate: json });
    return path;
  }
}

/** A source found gone without Custos destroying it: never taken as proof of destruction. */
function sourceGone(source: string, what: string): CustosError {
  return new CustosError('MIGRATION_SOURCE_UNAVAILABLE', `migration source "${source}": ${what}`, {
    details: [`source ${source}: ${what}`],
  });
}

/** Where a dataset's certificate file is written. */
export function certificatePath(ctx: MigrationContext, dataset: DatasetSpec): string {
  return join(ctx.config.migration.certificatesDir, `${dataset.source}--${dataset.collection}.json`);
}

function failed(dataset: string, state: DatasetState | undefined, err: unknown, deletedNow = 0): PurgeReport {
  return {
    dataset,
    status: isCustosError(err, 'DESTRUCTION_PENDING') ? 'pending-destruction' : 'failed',
    deletedNow,
    deleted: state?.deleted ?? 0,
    heldBack: state?.held ?? 0,
    certificate: undefined,
    error: isCustosError(err)
      ? { code: err.code, message: err.message }
      : { code: 'INTERNAL', message: 'unexpected failure' },
  };
}

/** Held-back rows whose subject Custos has erased: their source keys and the subjects. */
interface ErasedRows {
  readonly keys: string[];
  readonly subjects: ReadonlySet<string>;
}

/**
 * The dataset's rows held back as `subject-erased` whose subject is still erased in Custos,
 * re-checked now. Reads the source to map each such row to its subject; a row that no longer maps
 * stays held back.
 */
async function erasedHeldRows(
  ctx: MigrationContext,
  reader: MigrationSource,
  dataset: DatasetSpec,
): Promise<ErasedRows> {
  const held = new Set<string>();
  for (let after = ''; ; ) {
    const page = await ctx.state.held(dataset.id, after, 10_000);
    if (page.length === 0) break;
    for (const h of page) if (h.reason === 'subject-erased') held.add(h.sourceKey);
    after = page[page.length - 1]?.sourceKey ?? '';
  }
  if (held.size === 0) return { keys: [], subjects: new Set() };
  const subjectOf = new Map<string, string>();
  for (let cursor: string | undefined; ; ) {
    const page = await reader.read(dataset.location, cursor, ctx.config.migration.batchSize);
    if (page.items.length === 0) break;
    cursor = page.cursor;
    for (const item of page.items) {
      if (!held.has(item.key) || item.row === undefined) continue;
      try {
        subjectOf.set(item.key, mapRow(dataset, item.row, '', '').subject);
      } catch {
        // not a mappable row: it stays held back
      }
    }
  }
  const known = await ctx.subjectStore.getMany([...new Set(subjectOf.values())]);
  const subjects = new Set([...known].filter(([, r]) => r.erasedAt !== undefined).map(([id]) => id));
  return { keys: [...subjectOf].filter(([, s]) => subjects.has(s)).map(([k]) => k), subjects };
}

/** A dataset of an archive with its held-back rows of erased subjects. */
interface ErasedSibling {
  readonly spec: DatasetSpec;
  readonly state: DatasetState;
  readonly rows: ErasedRows;
}

/** Releases rows from held back and saves the dataset's state; returns the new state. */
async function releaseHeld(
  ctx: MigrationContext,
  state: DatasetState,
  keys: readonly string[],
): Promise<DatasetState> {
  const next = { ...state, held: Math.max(0, state.held - keys.length), updatedAt: ctx.clock.now() };
  await ctx.state.commitCopy(next, [], [], keys);
  return next;
}

/**
 * `migrate purge`: for each copied dataset, deletes at the source only the records verified at
 * their target (or crypto-shreds an archive Custos holds the key to, or records a pending
 * destruction), scans the source for leftovers, and issues a signed deletion certificate that is
 * appended to the ledger. Resumable: a kill at any point, and a re-run finishes the job.
 */
export async function runPurge(
  ctx: MigrationContext,
  only: readonly string[] | undefined,
  onProgress?: (p: MigrationProgress) => void,
): Promise<PurgeReport[]> {
  const reports: PurgeReport[] = [];
  for (const { source, datasets } of selectDatasets(ctx, only)) {
    let reader: MigrationSource | undefined;
    try {
      for (const dataset of datasets) {
        const state = await ctx.state.dataset(dataset.id);
        if (state?.phase === 'purged') {
          reports.push({
            dataset: dataset.id,
            status: 'purged',
            deletedNow: 0,
            deleted: state.deleted,
            heldBack: state.held,
            certificate: certificatePath(ctx, dataset),
            error: undefined,
          });
          continue;
        }
        if (state === undefined || state.phase === 'copying') {
          reports.push(
            failed(
              dataset.id,
              state,
              new CustosError('MIGRATION_NOT_READY', `dataset ${dataset.id}: run the copy first`),
            ),
          );
          continue;
        }
        let purger: DatasetPurger | undefined;
        try {
          reader ??= await ctx.openSource(source);
          purger = new DatasetPurger(ctx, source, dataset, reader, state, onProgress);
          if (source.deletable) await reader.checkKey(dataset.location);
          const unmapped = (state.unmapped ?? []).filter(
            (c) => !dataset.discard.includes(c) && !dataset.fields.some((f) => f.from === c),
          );
          if (unmapped.length > 0) {
            const cols = unmapped.join(', ');
            throw new CustosError(
              'MIGRATION_UNMAPPED_COLUMNS',
              `dataset ${dataset.id}: source column(s) ${cols} are neither mapped nor listed in discard; purge would delete them uncopied`,
              { details: [`${dataset.id}: unmapped ${cols}`] },
            );
          }
          let method: DeletionMethod = 'delete';
          if (source.deletable) {
            await purger.deleteVerified();
            await purger.deleteErased();
          } else {
            const siblings = (await ctx.state.datasets()).filter((s) =>
              s.dataset.startsWith(`${source.id}/`),
            );
            method = await purger.destroyArchive(siblings);
          }
          const left = await purger.leftovers();
          if (left > 0) {
            throw new CustosError(
              'MIGRATION_NOT_READY',
              `dataset ${dataset.id}: the leftover scan found ${left} record(s) still at the source; no certificate`,
            );
          }
          if (purger.current.held > 0) await purger.heldBack();
          const path = await purger.certify(method);
          reports.push({
            dataset: dataset.id,
            status: 'purged',
            deletedNow: purger.deletedNow,
            deleted: purger.current.deleted,
            heldBack: purger.current.held,
            certificate: path,
            error: undefined,
          });
        } catch (err) {
          reports.push(failed(dataset.id, purger?.current ?? state, err, purger?.deletedNow));
          if (isCustosError(err, 'LEDGER_UNAVAILABLE') || !isCustosError(err)) throw err;
        }
      }
    } catch (err) {
      if (!isCustosError(err, 'MIGRATION_SOURCE_UNAVAILABLE')) throw err;
      for (const d of datasets)
        if (!reports.some((r) => r.dataset === d.id)) reports.push(failed(d.id, undefined, err));
    } finally {
      await reader?.close();
    }
  }
  return reports;
}
