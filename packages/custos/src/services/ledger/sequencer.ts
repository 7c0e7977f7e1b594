import { checkEntryBytes, isVerifyError } from '@custos/verify';
import { CustosError, isCustosError } from '../../domain/errors.js';
import type {
  LedgerQueue,
  QueuedEntry,
  RejectedEntry,
  SequencedEntry,
  SequencerSession,
} from '../../ports/ledger-queue.js';
import type { LedgerTreeState } from '../../ports/ledger-store.js';
import { buildTreeBatch } from './tree-batch.js';
import { packEntries } from './tree-hashing.js';

/** Settings of the sequencer (from `config.ledger` and `config.ledger.sequencer`). */
export interface SequencerOptions {
  /** Most entries per transaction. */
  readonly maxBatch: number;
  /** How long a local entry arriving at an idle sequencer waits for others to join its batch. */
  readonly maxWaitMs: number;
  /** How often a process that is not the sequencer tries to take the lock. */
  readonly lockRetryMs: number;
  /** How often the sequencer looks at the queue without a notification. */
  readonly pollMs: number;
  /** Queue rows sequenced longer ago than this are deleted. */
  readonly retainMs: number;
  /** Told about queue rows refused as not ledger entries, after they left the queue. */
  readonly onRejected?: (rejected: readonly RejectedEntry[]) => void;
}

interface LocalEntry {
  readonly entry: Uint8Array;
  readonly resolve: (index: number) => void;
  readonly reject: (err: unknown) => void;
}

/** Counters for health, tests and benches. */
export interface SequencerStats {
  readonly terms: number;
  readonly batches: number;
  readonly queued: number;
  readonly local: number;
  /** Queue rows refused: not ledger entries. */
  readonly rejected: number;
}

const PRUNE_EVERY_MS = 60_000;

/**
 * Elects itself sequencer when it can (one process at a time per ledger holds the queue's exclusive
 * session) and then drains: queued entries from every process, oldest first, plus this process's own
 * entries, which skip the queue. Each batch is hashed into the tree and committed in one transaction
 * with the queue entries' indexes, so a crash anywhere leaves each entry either sequenced once or
 * still queued. The tree state is read from the database at the start of every term: a new
 * sequencer continues exactly where the last committed batch left the tree.
 */
export class LedgerSequencer {
  private readonly queue: LedgerQueue;
  private readonly options: SequencerOptions;
  private readonly onCommitted: (sequenced: readonly SequencedEntry[]) => void;
  private readonly fallback: ((entry: Uint8Array) => Promise<number>) | undefined;
  private local: LocalEntry[] = [];
  private session: SequencerSession | undefined;
  private wake: (() => void) | undefined;
  private dirty = true;
  /** Set when the current term's session is gone. */
  private lost = false;
  private closed = false;
  private loop: Promise<void> | undefined;
  private counts = { terms: 0, batches: 0, queued: 0, local: 0, rejected: 0 };

  constructor(
    queue: LedgerQueue,
    options: SequencerOptions,
    onCommitted: (sequenced: readonly SequencedEntry[]) => void,
    fallback?: (entry: Uint8Array) => Promise<number>,
  ) {
    this.queue = queue;
    this.options = options;
    this.onCommitted = onCommitted;
    this.fallback = fallback;
  }

  /** Starts contending for the lock (the first try is immediate). */
  start(): void {
    this.loop ??= this.run();
  }

  /** True while this process holds the sequencer session. */
  get active(): boolean {
    return this.session !== undefined;
  }

  /** Counters since start. */
  stats(): SequencerStats {
    return { ...this.counts };
  }

  /**
   * Appends one of this process's entries directly (no queue row): resolves with its index once
   * committed. Rejects with LEDGER_UNAVAILABLE when this process is not (or stops being) the sequencer.
   */
  submit(entry: Uint8Array): Promise<number> {
    if (this.session === undefined || this.closed) {
      return Promise.reject(new CustosError('LEDGER_UNAVAILABLE', 'this process is not the sequencer'));
    }
    return new Promise<number>((resolve, reject) => {
      this.local.push({ entry, resolve, reject });
      this.poke();
    });
  }

  private poke(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      let session: SequencerSession | undefined;
      try {
        session = await this.queue.tryAcquire();
      } catch {
        session = undefined; // the database is unreachable: try again later
      }
      if (session === undefined) {
        await this.sleep(this.options.lockRetryMs);
        continue;
      }
      try {
        await this.term(session);
      } catch {
        // The session failed or was lost; whatever was not committed is still queued.
      } finally {
        this.session = undefined;
        this.handOver();
        await session.release().catch(() => {});
      }
      if (!this.closed) await this.sleep(this.options.lockRetryMs);
    }
  }

  /**
   * Local entries that no batch took yet go to the queue when the session is lost, where the next
   * sequencer finds them; only those of a batch whose commit failed (outcome unknown) are refused.
   */
  private handOver(): void {
    const fallback = this.fallback;
    if (fallback === undefined || this.closed) {
      this.failLocal(new CustosError('LEDGER_UNAVAILABLE', 'the ledger sequencer lost its session'));
      return;
    }
    const local = this.local;
    this.local = [];
    for (const l of local) fallback(l.entry).then(l.resolve, l.reject);
  }

  private failLocal(err: CustosError): void {
    const local = this.local;
    this.local = [];
    for (const l of local) l.reject(err);
  }

  /** One term as sequencer: from the committed tree, drain until the session ends. */
  private async term(session: SequencerSession): Promise<void> {
    this.lost = false;
    let tree: LedgerTreeState = await session.readTree();
    void session.lost.then(() => {
      this.lost = true;
      this.poke();
    });
    session.onEnqueued(() => {
      this.dirty = true;
      this.poke();
    });
    this.session = session;
    this.dirty = true;
    this.counts.terms++;
    let pruned = Date.now();
    while (!this.closed && !this.lost) {
      if (!this.dirty && this.local.length === 0) {
        const woke = await this.wakeOrPoll();
        if (woke && this.options.maxWaitMs > 0)
          await new Promise((r) => setTimeout(r, this.options.maxWaitMs));
        continue;
      }
      tree = await this.drain(session, tree);
      if (Date.now() - pruned > PRUNE_EVERY_MS) {
        pruned = Date.now();
        await session.prune(this.options.retainMs);
      }
    }
  }

  /** Waits for a poke (true) or the poll interval (false, and the queue is looked at). */
  private async wakeOrPoll(): Promise<boolean> {
    let poked = true;
    const timer = setTimeout(() => {
      poked = false;
      this.dirty = true;
      this.poke();
    }, this.options.pollMs);
    await new Promise<void>((resolve) => {
      this.wake = resolve;
    });
    clearTimeout(timer);
    return poked;
  }

  /** Commits one batch of queued and local entries; returns the new tree. */
  private async drain(session: SequencerSession, tree: LedgerTreeState): Promise<LedgerTreeState> {
    const max = this.options.maxBatch;
    // Local entries take at most half a batch while the queue has work: neither side starves.
    const localShare = Math.min(this.local.length, this.dirty ? Math.ceil(max / 2) : max);
    let queued: QueuedEntry[] = [];
    if (this.dirty) {
      this.dirty = false;
      queued = await session.pending(max - localShare);
      if (queued.length === max - localShare) this.dirty = true;
      queued = await this.refuseInvalid(session, queued);
    }
    // A session already gone takes no batch: its local entries go to the queue (handOver).
    if (this.lost) return tree;
    const local = this.local.splice(0, Math.min(this.local.length, max - queued.length));
    if (queued.length + local.length === 0) return tree;
    const entries = [...queued.map((q) => q.entry), ...local.map((l) => l.entry)];
    const built = buildTreeBatch(tree, packEntries(entries));
    const sequenced = queued.map((q, i) => ({ id: q.id, index: tree.size + i }));
    try {
      await session.commit(
        {
          firstIndex: tree.size,
          priorFrontier: tree.frontier,
          entries,
          levels: built.levels,
          tree: built.tree,
        },
        sequenced,
      );
    } catch (err) {
      // Callers see the ledger's one failure code; LEDGER_MOVED (another writer moved the tree)
      // says why, as the cause.
      const failure = isCustosError(err, 'LEDGER_MOVED')
        ? new CustosError('LEDGER_UNAVAILABLE', 'the ledger cannot record', { cause: err })
        : err;
      for (const l of local) l.reject(failure);
      throw err;
    }
    this.counts.batches++;
    this.counts.queued += queued.length;
    this.counts.local += local.length;
    local.forEach((l, i) => {
      l.resolve(tree.size + queued.length + i);
    });
    if (sequenced.length > 0) this.onCommitted(sequenced);
    return built.tree;
  }

  /**
   * Any process with write access to the queue can put bytes in it; only ledger entries (canonical
   * schema v1 JSON of at most 65535 bytes, as every process encodes them) may enter the tree. One
   * that is not would fail every batch it is in (and stall the ledger) or put an entry in the log
   * that no verifier accepts, so it leaves the queue for the rejected table, and the rest goes on.
   */
  private async refuseInvalid(session: SequencerSession, queued: QueuedEntry[]): Promise<QueuedEntry[]> {
    const rejected: RejectedEntry[] = [];
    for (const q of queued) {
      try {
        checkEntryBytes(q.entry);
      } catch (err) {
        // Only the check's verdict refuses a row; anything else (a bug) fails the term, which retries.
        if (!isVerifyError(err) || err.code !== 'ENTRY_INVALID') throw err;
        rejected.push({ id: q.id, reason: err.message });
      }
    }
    if (rejected.length === 0) return queued;
    await session.reject(rejected);
    this.counts.rejected += rejected.length;
    try {
      this.options.onRejected?.(rejected);
    } catch {
      // A listener's failure must not stop sequencing.
    }
    const refused = new Set(rejected.map((r) => r.id));
    return queued.filter((q) => !refused.has(q.id));
  }

  /** Stops contending, ends the session (releasing the lock) and rejects local entries not committed. */
  async close(): Promise<void> {
    this.closed = true;
    await this.session?.release().catch(() => {});
    this.poke();
    await this.loop;
    this.failLocal(new CustosError('LEDGER_UNAVAILABLE', 'the ledger is closed'));
  }
}
