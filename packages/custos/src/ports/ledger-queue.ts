import type { LedgerBatch, LedgerTreeState } from './ledger-store.js';

/** An entry waiting in the shared queue. */
export interface QueuedEntry {
  /** Queue id: unique, a safe integer, increasing in allocation order. */
  readonly id: number;
  /** Canonical entry bytes. */
  readonly entry: Uint8Array;
}

/** A queue entry's place in the tree, assigned exactly once by the sequencer. */
export interface SequencedEntry {
  readonly id: number;
  readonly index: number;
}

/** A queue entry the sequencer refused to place: not a ledger entry (too long, not canonical, not schema v1). */
export interface RejectedEntry {
  readonly id: number;
  /** Why, in the words of the entry check (never the entry's content). */
  readonly reason: string;
}

/**
 * The shared queue of a ledger that several gateway processes append to (PostgreSQL). Any process
 * writes entries durably to the queue; one sequencer at a time, holding an exclusive session,
 * appends them to the tree. Failures reject with `CustosError('LEDGER_UNAVAILABLE')`.
 */
export interface LedgerQueue {
  /** Writes entries durably in one transaction; resolves with their queue ids, in order. */
  enqueue(entries: readonly Uint8Array[]): Promise<number[]>;
  /** The tree indexes of those of `ids` that have been sequenced. */
  lookup(ids: readonly number[]): Promise<SequencedEntry[]>;
  /** Calls `listener` after entries were sequenced (best effort: callers also poll). */
  onSequenced(listener: () => void): void;
  /** Tries to become the sequencer: an exclusive session, or undefined while another process holds it. */
  tryAcquire(): Promise<SequencerSession | undefined>;
  close(): Promise<void>;
}

/**
 * The exclusive right to append to the tree (a PostgreSQL session-level advisory lock held on a
 * dedicated connection, which also carries every write: the lock and the writes live and die
 * together).
 */
export interface SequencerSession {
  /** Resolves when the session is gone (connection lost, or released): stop sequencing at once. */
  readonly lost: Promise<void>;
  /** The committed tree state. */
  readTree(): Promise<LedgerTreeState>;
  /** Up to `limit` queued entries not yet sequenced, oldest first. */
  pending(limit: number): Promise<QueuedEntry[]>;
  /** Calls `listener` after another process enqueued entries (best effort). */
  onEnqueued(listener: () => void): void;
  /**
   * Appends `batch` and records each queued entry's index, in one transaction: either the tree
   * grew and every listed queue entry has its index, or nothing changed. Rejects (changing nothing)
   * if a listed entry already has an index.
   */
  commit(batch: LedgerBatch, sequenced: readonly SequencedEntry[]): Promise<void>;
  /**
   * Moves queue entries that are not ledger entries out of the queue, in one transaction, into a
   * table of rejected entries kept for investigation (bytes, reason, times). They never get an
   * index; their writers' appends time out and fail closed. Ids no longer queued are skipped.
   */
  reject(rejected: readonly RejectedEntry[]): Promise<void>;
  /** Forgets the indexes of queue entries sequenced more than `ageMs` ago; resolves with how many. */
  prune(ageMs: number): Promise<number>;
  /** Ends the session (and with it the lock). */
  release(): Promise<void>;
}
