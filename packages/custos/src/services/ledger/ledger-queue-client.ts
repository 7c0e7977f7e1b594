import { CustosError, isCustosError } from '../../domain/errors.js';
import type { LedgerQueue, SequencedEntry } from '../../ports/ledger-queue.js';
import type { LedgerSequencer } from './sequencer.js';

/** Settings of a process's queue client (from `config.ledger` and `config.ledger.sequencer`). */
export interface QueueClientOptions {
  /** Most entries per enqueue transaction. */
  readonly maxBatch: number;
  /** How long the first waiting entry waits for others to join its enqueue transaction. */
  readonly maxWaitMs: number;
  /** How often waiters look up their indexes without a notification. */
  readonly pollMs: number;
  /** An entry not sequenced this long after it was queued fails with LEDGER_UNAVAILABLE. */
  readonly ackTimeoutMs: number;
}

interface Waiter {
  readonly resolve: (index: number) => void;
  readonly reject: (err: unknown) => void;
  readonly timer: NodeJS.Timeout;
}

interface Pending {
  readonly entry: Uint8Array;
  readonly resolve: (index: number) => void;
  readonly reject: (err: unknown) => void;
}

function unavailable(err: unknown): CustosError {
  if (isCustosError(err, 'LEDGER_UNAVAILABLE')) return err;
  return new CustosError('LEDGER_UNAVAILABLE', 'the ledger cannot record');
}

/**
 * How one process appends to a shared ledger. While it is the sequencer, its entries go straight
 * into the sequencer's batches. Otherwise they are written to the queue (group commit: one
 * transaction per batch), and each append resolves only once its queue row has been sequenced,
 * with the index the sequencer gave it: durable and placed, never before. The index is learned from
 * the local sequencer, from a NOTIFY, or by polling; past `ackTimeoutMs` the append fails closed
 * (the entry may still be sequenced later: the ledger then holds a decision that was refused, never
 * the other way round).
 */
export class LedgerQueueClient {
  private readonly queue: LedgerQueue;
  private readonly sequencer: LedgerSequencer | undefined;
  private readonly options: QueueClientOptions;
  private readonly waiters = new Map<number, Waiter>();
  private pending: Pending[] = [];
  private flushing = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private looking = false;
  private lookAgain = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(queue: LedgerQueue, sequencer: LedgerSequencer | undefined, options: QueueClientOptions) {
    this.queue = queue;
    this.sequencer = sequencer;
    this.options = options;
    queue.onSequenced(() => void this.look());
  }

  /** Resolves waiters from the local sequencer's commits without asking the database. */
  settle(sequenced: readonly SequencedEntry[]): void {
    for (const s of sequenced) this.resolveWaiter(s.id, s.index);
  }

  /** True while this process is the sequencer. */
  isSequencer(): boolean {
    return this.sequencer?.active ?? false;
  }

  /** Appends one entry; resolves with its index once it is durable and sequenced. */
  append(entry: Uint8Array): Promise<number> {
    if (this.closed) return Promise.reject(new CustosError('LEDGER_UNAVAILABLE', 'the ledger is closed'));
    if (this.sequencer?.active) return this.sequencer.submit(entry);
    return this.appendQueued(entry);
  }

  /** Appends one entry through the queue, whatever this process's role. */
  appendQueued(entry: Uint8Array): Promise<number> {
    if (this.closed) return Promise.reject(new CustosError('LEDGER_UNAVAILABLE', 'the ledger is closed'));
    return new Promise<number>((resolve, reject) => {
      this.pending.push({ entry, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.flushing) return;
    if (this.pending.length >= this.options.maxBatch) {
      if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
      void this.flush();
    } else if (this.flushTimer === undefined) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        void this.flush();
      }, this.options.maxWaitMs);
    }
  }

  /** One enqueue transaction at a time; entries that arrive meanwhile form the next one. */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, this.options.maxBatch);
        let ids: number[];
        try {
          ids = await this.queue.enqueue(batch.map((p) => p.entry));
        } catch (err) {
          for (const p of batch) p.reject(unavailable(err));
          continue;
        }
        batch.forEach((p, i) => {
          this.wait(ids[i] as number, p);
        });
        this.ensurePolling();
      }
    } finally {
      this.flushing = false;
    }
  }

  private wait(id: number, p: Pending): void {
    const timer = setTimeout(() => {
      if (!this.waiters.delete(id)) return;
      p.reject(
        new CustosError('LEDGER_UNAVAILABLE', 'the ledger sequencer did not record the entry in time'),
      );
    }, this.options.ackTimeoutMs);
    timer.unref();
    this.waiters.set(id, { resolve: p.resolve, reject: p.reject, timer });
  }

  private resolveWaiter(id: number, index: number): void {
    const w = this.waiters.get(id);
    if (w === undefined) return;
    this.waiters.delete(id);
    clearTimeout(w.timer);
    w.resolve(index);
  }

  private ensurePolling(): void {
    if (this.pollTimer !== undefined || this.closed) return;
    this.pollTimer = setInterval(() => {
      if (this.waiters.size === 0) {
        clearInterval(this.pollTimer);
        this.pollTimer = undefined;
        return;
      }
      void this.look();
    }, this.options.pollMs);
    this.pollTimer.unref();
  }

  /** Looks up every waiting id (one lookup at a time; a trigger during one runs another after). */
  private async look(): Promise<void> {
    if (this.looking) {
      this.lookAgain = true;
      return;
    }
    this.looking = true;
    try {
      do {
        this.lookAgain = false;
        if (this.waiters.size === 0) break;
        try {
          for (const s of await this.queue.lookup([...this.waiters.keys()]))
            this.resolveWaiter(s.id, s.index);
        } catch {
          break; // the database is unreachable: the poll retries, the ack timeout bounds the wait
        }
      } while (this.lookAgain);
    } finally {
      this.looking = false;
    }
  }

  /** Fails every waiting append and stops. */
  close(): void {
    this.closed = true;
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    if (this.pollTimer !== undefined) clearInterval(this.pollTimer);
    const err = new CustosError('LEDGER_UNAVAILABLE', 'the ledger is closed');
    for (const p of this.pending.splice(0)) p.reject(err);
    for (const [id, w] of this.waiters) {
      clearTimeout(w.timer);
      w.reject(err);
      this.waiters.delete(id);
    }
  }
}
