/** Limits of a group commit. */
export interface GroupCommitOptions {
  /** Most items per transaction. */
  readonly maxBatch: number;
  /** Longest time the first waiting item waits for others to join its transaction. */
  readonly maxWaitMs: number;
  /**
   * Most batches committing at once (default 1). With 2, the next batch is prepared while the
   * previous one is being written; `commit` must then place batches in the order it is called.
   */
  readonly maxInFlight?: number;
}

/** Counters of a group commit, for tests, health and benches. */
export interface GroupCommitStats {
  readonly batches: number;
  readonly items: number;
  readonly failedBatches: number;
}

/** Commits a batch durably and returns the index of its first item; rejects to fail the whole batch. */
export type CommitBatch<T> = (items: T[]) => Promise<number>;

/**
 * Group commit: concurrent submissions are queued and written in one transaction, at most
 * `maxInFlight` transactions at a time. A submission waits at most `maxWaitMs` (plus the running
 * commits) before its batch starts; items queued during a commit go into the next one. Each
 * promise settles only after its own batch's commit settled: resolved with the item's index, or
 * rejected with the error.
 */
export class GroupCommit<T> {
  private items: T[] = [];
  private resolves: ((placed: { index: number }) => void)[] = [];
  private rejects: ((err: unknown) => void)[] = [];
  private inFlight = 0;
  private readonly maxInFlight: number;
  private timer: NodeJS.Timeout | undefined;
  private counts = { batches: 0, items: 0, failedBatches: 0 };
  private readonly commit: CommitBatch<T>;
  private readonly options: GroupCommitOptions;

  constructor(commit: CommitBatch<T>, options: GroupCommitOptions) {
    this.commit = commit;
    this.options = options;
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 1);
  }

  /** Queues one item; resolves with its index once its batch is committed. */
  submit(item: T): Promise<{ index: number }> {
    return new Promise<{ index: number }>((resolve, reject) => {
      this.items.push(item);
      this.resolves.push(resolve);
      this.rejects.push(reject);
      this.schedule();
    });
  }

  /** Items waiting for a transaction. */
  get pending(): number {
    return this.items.length;
  }

  /** Counters since creation. */
  stats(): GroupCommitStats {
    return { ...this.counts };
  }

  private schedule(): void {
    if (this.inFlight >= this.maxInFlight) return;
    if (this.items.length >= this.options.maxBatch) {
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = undefined;
      this.start();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (this.inFlight >= this.maxInFlight || this.items.length === 0) return;
        this.inFlight++;
        void this.run();
      }, this.options.maxWaitMs);
    }
  }

  /** Reserves a commit slot now and runs the batch on the next turn. */
  private start(): void {
    this.inFlight++;
    setImmediate(() => void this.run());
  }

  private async run(): Promise<void> {
    const n = Math.min(this.items.length, this.options.maxBatch);
    const items = this.items.splice(0, n);
    const resolves = this.resolves.splice(0, n);
    const rejects = this.rejects.splice(0, n);
    // Items left over for a free slot have already waited: prepare their batch meanwhile.
    if (this.items.length > 0 && this.inFlight < this.maxInFlight) this.start();
    let first: number;
    try {
      first = n > 0 ? await this.commit(items) : 0;
    } catch (err) {
      this.counts.failedBatches++;
      this.next();
      for (const reject of rejects) reject(err);
      return;
    }
    if (n > 0) {
      this.counts.batches++;
      this.counts.items += n;
    }
    this.next();
    for (let i = 0; i < n; i++) (resolves[i] as (placed: { index: number }) => void)({ index: first + i });
  }

  /**
   * Frees this batch's slot and, when items are waiting, starts their batch at once: before this
   * batch's callers are told, because what they do next (often: submit again) runs first and
   * would otherwise keep the next batch from starting, and the writer idle, until it is done.
   */
  private next(): void {
    this.inFlight--;
    if (this.items.length > 0 && this.inFlight < this.maxInFlight) {
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = undefined;
      this.inFlight++;
      void this.run();
    }
  }
}
