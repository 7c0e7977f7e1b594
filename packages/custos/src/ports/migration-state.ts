/** Where a dataset stands. */
export type DatasetPhase = 'copying' | 'copied' | 'purging' | 'pending-destruction' | 'purged';

/** The durable checkpoint of one dataset (`<source>/<collection>`). */
export interface DatasetState {
  readonly dataset: string;
  readonly phase: DatasetPhase;
  /** Source cursor after the last committed batch; undefined before the first. */
  readonly cursor: string | undefined;
  readonly batches: number;
  /** Records copied and verified (sequence numbers 0..copied-1 are assigned in copy order). */
  readonly copied: number;
  /** Canonical plaintext bytes copied. */
  readonly bytes: number;
  /** Records held back (unknown jurisdiction, bad record); they stay at the source. */
  readonly held: number;
  /** Records deleted (or destroyed) at the source after verification. */
  readonly deleted: number;
  /** RFC 6962 compact range over the copied records' digests, in sequence order (hex hashes). */
  readonly range: { readonly size: number; readonly hashes: readonly string[] };
  /**
   * Custos's own destruction of the source's archive key: `started` is saved (with a
   * `migrate.crypto-shred` ledger entry) just before it, `done` (with `migrate.shredded`) after it.
   * Only then is a certificate's method `crypto-shred`; a purge killed in between shreds again
   * (idempotent) and goes on.
   */
  readonly shred?: 'started' | 'done';
  /** Source columns seen that are neither mapped nor discarded (purge refuses while any remain). */
  readonly unmapped?: readonly string[];
  /** Why destruction is pending, when it is. */
  readonly pending: string | undefined;
  /** The issued deletion certificate (the file's JSON), once issued. */
  readonly certificate: string | undefined;
  readonly updatedAt: number;
}

/** One copied record: where it came from, where it went, and the digest verified at its target. */
export interface MigratedRecord {
  readonly seq: number;
  readonly sourceKey: string;
  readonly subject: string;
  readonly id: string;
  /** SHA-256 of the record's canonical (RFC 8785) JSON. */
  readonly digest: Uint8Array;
  readonly store: string;
  readonly deleted: boolean;
}

/** Why a record is held back at its source. */
export type HeldReason =
  | 'unknown-jurisdiction'
  | 'bad-record'
  | 'no-allowed-store'
  | 'subject-erased'
  /** The target already holds a different record under the same (collection, subject, id). */
  | 'conflict';

/** A record held back at its source: never copied, never deleted. */
export interface HeldRecord {
  readonly sourceKey: string;
  /** Where it is (`line 7`, `id=42`). */
  readonly at: string;
  readonly reason: HeldReason;
  /** The coded reason, safe to show (no field values). */
  readonly detail: string;
}

/**
 * Durable migration checkpoints. Every write is one transaction: a batch's records, its held rows
 * and the dataset's new cursor commit together or not at all, which is what makes a run resumable
 * after a kill at any point.
 */
export interface MigrationStateStore {
  dataset(id: string): Promise<DatasetState | undefined>;
  datasets(): Promise<DatasetState[]>;
  /**
   * Commits a copied batch: inserts `records` (a sequence number already recorded is left as it
   * is: a batch re-run after a crash gets the same numbers from the same cursor),
   * records `held` rows, forgets `released` held keys (now copied), and saves `state`.
   */
  commitCopy(
    state: DatasetState,
    records: readonly MigratedRecord[],
    held: readonly HeldRecord[],
    released: readonly string[],
  ): Promise<void>;
  /** Records by sequence after `afterSeq`: `copied` (not yet deleted), `deleted`, or `all`. */
  records(
    dataset: string,
    afterSeq: number,
    limit: number,
    which: 'copied' | 'deleted' | 'all',
  ): Promise<MigratedRecord[]>;
  /** Held rows in source-key order after `afterKey`. */
  held(dataset: string, afterKey: string, limit: number): Promise<HeldRecord[]>;
  countHeld(dataset: string): Promise<number>;
  /** Marks records deleted at the source and saves `state`, in one transaction. */
  commitDelete(state: DatasetState, seqs: readonly number[]): Promise<void>;
  save(state: DatasetState): Promise<void>;
  /**
   * Takes the store's exclusive migration lock (one `run` or `purge` at a time per state store);
   * resolves with its release. Another holder is `MIGRATION_BUSY`.
   */
  lock(): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
