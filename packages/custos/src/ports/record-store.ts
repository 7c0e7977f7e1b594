/** One encrypted record as a store holds it. The store never sees plaintext. */
export interface StoredRecord {
  readonly subject: string;
  readonly collection: string;
  readonly id: string;
  /** Version of the subject's data key the record was sealed with (bound into the AAD). */
  readonly keyVersion: number;
  /** `iv(12) ‖ ciphertext ‖ tag(16)`. */
  readonly sealed: Uint8Array;
  /** Milliseconds since the epoch of the last write. */
  readonly updatedAt: number;
}

/** Where a record sits, without its contents: what a residency scan reads. */
export interface RecordLocation {
  readonly subject: string;
  readonly collection: string;
  readonly id: string;
}

/** A page request over a collection, ordered by (subject, id). */
export interface ListQuery {
  readonly collection: string;
  readonly subject?: string | undefined;
  /** Opaque resume point: the last (subject, id) of the previous page. */
  readonly after?: { readonly subject: string; readonly id: string } | undefined;
  readonly limit: number;
}

/**
 * The port every record database implements (SQLite, PostgreSQL). All methods are async so that
 * networked adapters fit; no method assumes a particular SQL dialect.
 */
export interface RecordStore {
  readonly id: string;
  /** Inserts or replaces a record. */
  put(record: StoredRecord): Promise<void>;
  /** Inserts or replaces many records in one transaction. */
  putMany(records: readonly StoredRecord[]): Promise<void>;
  /**
   * Inserts, in one transaction, each record whose (collection, subject, id) does not exist yet,
   * and never replaces one: a copy must not overwrite a write that landed after it looked. Resolves
   * with, per record in order, whether it was inserted (a later duplicate in the same call is not).
   */
  insertNew(records: readonly StoredRecord[]): Promise<boolean[]>;
  /**
   * Replaces a record only while its stored `sealed` bytes are still `expected`: a compare-and-set
   * for read-modify-write. Every seal draws a fresh IV, so the sealed bytes identify one write.
   * Resolves false (and writes nothing) when the record changed or is gone.
   */
  replace(record: StoredRecord, expected: Uint8Array): Promise<boolean>;
  get(subject: string, collection: string, id: string): Promise<StoredRecord | undefined>;
  /**
   * Optional: the same point read, synchronously, for adapters that can answer without I/O waits
   * (embedded SQLite). Callers use it to skip promise hops on the hot read path and fall back to
   * `get` when it is absent. It must return exactly what `get` would.
   */
  getNow?(subject: string, collection: string, id: string): StoredRecord | undefined;
  /** Deletes a record; resolves true when it existed. */
  delete(subject: string, collection: string, id: string): Promise<boolean>;
  list(query: ListQuery): Promise<StoredRecord[]>;
  /** Walks every record's location in (collection, subject, id) order, a page at a time. */
  scan(after: RecordLocation | undefined, limit: number): Promise<RecordLocation[]>;
  /**
   * Makes every committed write durable against power loss. Optional: stores whose commits are
   * already durable (PostgreSQL) omit it. Migration calls it before deleting source copies.
   */
  sync?(): Promise<void>;
  close(): Promise<void>;
}
