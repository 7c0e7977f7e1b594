import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/services/ledger/group-commit.js';

/** A commit that places batches one after the other and can be held open and failed. */
function committer(): {
  commit: (items: number[]) => Promise<number>;
  batches: number[][];
  release: () => void;
  failNext: () => void;
  log: string[];
} {
  let size = 0;
  let hold: (() => void)[] = [];
  let fail = false;
  const batches: number[][] = [];
  const log: string[] = [];
  return {
    batches,
    log,
    commit: async (items) => {
      const first = size;
      size += items.length;
      batches.push(items);
      log.push(`commit ${batches.length} started`);
      await new Promise<void>((r) => hold.push(r));
      if (fail) {
        fail = false;
        size = first;
        throw new Error('disk full');
      }
      return first;
    },
    release: () => {
      const waiting = hold;
      hold = [];
      for (const r of waiting) r();
    },
    failNext: () => {
      fail = true;
    },
  };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('GroupCommit', () => {
  it('batches concurrent items up to maxBatch, with dense indexes in submission order', async () => {
    const c = committer();
    const gc = new GroupCommit(c.commit, { maxBatch: 4, maxWaitMs: 1, maxInFlight: 1 });
    const done = Array.from({ length: 10 }, (_, i) => gc.submit(i));
    for (let i = 0; i < 5; i++) {
      await tick();
      c.release();
    }
    expect((await Promise.all(done)).map((p) => p.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(c.batches).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    expect(gc.stats()).toEqual({ batches: 3, items: 10, failedBatches: 0 });
  });

  it('starts the next batch before the finished batch its callers hear back', async () => {
    const c = committer();
    const gc = new GroupCommit(c.commit, { maxBatch: 2, maxWaitMs: 1, maxInFlight: 1 });
    const first = [gc.submit(1), gc.submit(2)];
    await tick();
    // Queued while the first batch commits.
    const second = [gc.submit(3), gc.submit(4)];
    void first[0]?.then(() => c.log.push('caller of batch 1 continues'));
    c.release();
    await Promise.all(first);
    await tick();
    expect(c.log).toEqual(['commit 1 started', 'commit 2 started', 'caller of batch 1 continues']);
    c.release();
    expect((await Promise.all(second)).map((p) => p.index)).toEqual([2, 3]);
  });

  it('fails only the batch whose commit failed, and goes on with the next', async () => {
    const c = committer();
    const gc = new GroupCommit(c.commit, { maxBatch: 2, maxWaitMs: 1, maxInFlight: 1 });
    const a = [gc.submit(1), gc.submit(2)];
    const b = [gc.submit(3), gc.submit(4)];
    await tick();
    c.failNext();
    c.release();
    await expect(a[0]).rejects.toThrow('disk full');
    await expect(a[1]).rejects.toThrow('disk full');
    await tick();
    c.release();
    expect((await Promise.all(b)).map((p) => p.index)).toEqual([0, 1]);
    expect(gc.stats()).toEqual({ batches: 1, items: 2, failedBatches: 1 });
  });

  it('keeps at most maxInFlight commits open', async () => {
    const c = committer();
    const gc = new GroupCommit(c.commit, { maxBatch: 1, maxWaitMs: 1, maxInFlight: 2 });
    const all = Array.from({ length: 5 }, (_, i) => gc.submit(i));
    for (let i = 0; i < 5; i++) await tick();
    expect(c.batches.length).toBe(2);
    for (let i = 0; i < 5; i++) {
      c.release();
      await tick();
      await tick();
    }
    expect((await Promise.all(all)).map((p) => p.index)).toEqual([0, 1, 2, 3, 4]);
  });
});
