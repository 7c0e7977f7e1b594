/**
 * The compact-range state of the ledger's Merkle tree: its size and the roots of the perfect
 * subtrees that cover it, largest (leftmost) first, one per set bit of `size`.
 */
export interface LedgerTreeState {
  readonly size: number;
  readonly frontier: readonly Uint8Array[];
}

/**
 * One group-commit batch, written atomically: either all of it is durable or none of it is.
 * `levels[l]` holds the hashes (32 bytes each, concatenated) of the perfect subtrees of level `l`
 * completed by this batch, starting at node index `firstIndex >> l` (level 0 are the leaf hashes).
 * A level the service does not keep is empty (it keeps every fourth: see `KEPT_LEVEL_STEP`); the
 * store writes what it is given.
 */
export interface LedgerBatch {
  /** Index of the first entry; must equal the stored tree size (the store refuses otherwise). */
  readonly firstIndex: number;
  /**
   * The frontier of the tree the batch was placed on (size `firstIndex`); must equal the stored
   * one. With the size alone, a batch placed on a tree another writer has since replaced by one of
   * the same size would be accepted, and its hashes would not be those of the stored entries.
   */
  readonly priorFrontier: readonly Uint8Array[];
  /** Canonical entry bytes, each at most 65535 bytes. */
  readonly entries: readonly Uint8Array[];
  readonly levels: readonly Uint8Array[];
  /** The tree state after the batch. */
  readonly tree: LedgerTreeState;
}

/** A checkpoint the ledger has signed, as kept in the no-fork history. */
export interface StoredCheckpoint {
  readonly size: number;
  readonly root: Uint8Array;
  /** The complete signed note (c2sp.org/tlog-checkpoint). */
  readonly note: string;
  /** Milliseconds since the epoch when it was signed. */
  readonly signedAt: number;
}

/**
 * The port every ledger database implements (SQLite, PostgreSQL). Methods are async so that
 * networked adapters fit; nothing here assumes a SQL dialect. Write failures reject with
 * `CustosError('LEDGER_UNAVAILABLE')` and leave the store as it was before the call.
 */
export interface LedgerStore {
  /** Reads the committed tree state (size 0 and no frontier for a new ledger). */
  readTree(): Promise<LedgerTreeState>;
  /**
   * Commits a batch atomically and durably. When the stored tree is not the one the batch was
   * placed on (another size, or another frontier), rejects with `LEDGER_MOVED` and writes nothing:
   * the caller may place the batch again on the stored tree.
   */
  appendBatch(batch: LedgerBatch): Promise<void>;
  /** Reads the canonical bytes of entries [start, end); missing entries are simply absent. */
  readEntries(start: number, end: number): Promise<Uint8Array[]>;
  /**
   * Reads the entries [start, end) as a c2sp.org/tlog-tiles entry bundle (uint16 length
   * prefixes). Stored bytes are returned as they are, so damage reaches the verifier.
   */
  readEntryBundle(start: number, end: number): Promise<Uint8Array>;
  /** Reads the stored hashes of level `level`, nodes [start, end), concatenated. */
  readHashes(level: number, start: number, end: number): Promise<Uint8Array>;
  /**
   * Records a signed checkpoint. Rejects with `LEDGER_FORK_REFUSED` when it is smaller than the
   * last one recorded, or the same size with another root; a repeat of the last one is a no-op.
   */
  saveCheckpoint(checkpoint: StoredCheckpoint): Promise<void>;
  /** The largest checkpoint recorded, if any. */
  lastCheckpoint(): Promise<StoredCheckpoint | undefined>;
  /** Recorded checkpoints with size greater than `afterSize`, smallest first, at most `limit`. */
  listCheckpoints(afterSize: number, limit: number): Promise<StoredCheckpoint[]>;
  /** Resolves when the store can take a write right now (takes and releases the write lock). */
  probeWritable(): Promise<void>;
  close(): Promise<void>;
}
