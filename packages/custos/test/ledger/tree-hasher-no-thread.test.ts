import { describe, expect, it, vi } from 'vitest';

// As if the process were out of threads: every Worker constructor throws.
vi.mock('node:worker_threads', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:worker_threads')>();
  let attempts = 0;
  class NoWorker {
    constructor() {
      attempts++;
      throw Object.assign(new Error('cannot start a thread'), { code: 'ERR_WORKER_INIT_FAILED' });
    }
    static get attempts(): number {
      return attempts;
    }
  }
  return { ...real, Worker: NoWorker };
});

const { HASH_THREAD_MIN_BATCH, hashBatchHere, TreeHasher } = await import(
  '../../src/services/ledger/tree-hasher.js'
);
const { packEntries, portableTreeHashing } = await import('../../src/services/ledger/tree-hashing.js');
const { Worker } = await import('node:worker_threads');

describe('TreeHasher without threads', () => {
  it('hashes in place, for good, when no thread can be started', async () => {
    const hasher = new TreeHasher(true, portableTreeHashing);
    const entries = packEntries(
      Array.from({ length: 2 * HASH_THREAD_MIN_BATCH }, (_, i) => Buffer.from(`e${i}`)),
    );
    const empty = { size: 0, frontier: [] };
    const first = await hasher.hash(empty, entries);
    const second = await hasher.hash(first.tree, entries);
    expect(Buffer.from(first.root).equals(Buffer.from(hashBatchHere(empty, entries).root))).toBe(true);
    expect(second.tree.size).toBe(entries.lengths.length * 2);
    expect(hasher.threaded).toBe(false);
    // One failed attempt, not one per batch.
    expect((Worker as unknown as { attempts: number }).attempts).toBe(1);
    await hasher.close();
  });
});
