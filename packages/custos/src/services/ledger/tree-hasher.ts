import { Worker } from 'node:worker_threads';
import type { LedgerTreeState } from '../../ports/ledger-store.js';
import { buildTreeBatch, type TreeBatch } from './tree-batch.js';
import { type EncodedEntries, type TreeHashing, treeHashing } from './tree-hashing.js';

/** A batch of entries with what appending them does to the tree. */
export interface HashedBatch extends TreeBatch {
  /** The entries' bytes, back to back (after the hashing thread: the buffer it handed back). */
  readonly entries: EncodedEntries;
}

/**
 * A copy of `e` in buffers of its own, to hand to the hashing thread: the original stays readable
 * here, so a batch in flight when the thread dies can still be hashed in place.
 */
function copyForThread(e: EncodedEntries): EncodedEntries {
  // Not e.blob.slice(): for a Buffer that is a view, and handing it over would detach its memory.
  const blob = new Uint8Array(e.blob.length);
  blob.set(e.blob);
  return { blob, lengths: Uint32Array.from(e.lengths) };
}

/** Hashes a batch on the calling thread (natively when the addon is loaded, unless `hashing` is given). */
export function hashBatchHere(
  prev: LedgerTreeState,
  entries: EncodedEntries,
  hashing: TreeHashing = treeHashing,
): HashedBatch {
  return { ...buildTreeBatch(prev, entries, hashing), entries };
}

/** A request to the hashing thread: the entries' bytes travel there and back without copies. */
export interface HashCall {
  readonly id: number;
  readonly prev: LedgerTreeState;
  readonly blob: Uint8Array;
  readonly lengths: Uint32Array;
}

/** The hashing thread's answer: `ready` once loaded, then one per call. */
export type HashReply =
  | { readonly ready: true }
  | {
      readonly id: number;
      readonly blob: Uint8Array;
      readonly lengths: Uint32Array;
      readonly levels: Uint8Array[];
      readonly tree: LedgerTreeState;
      readonly root: Uint8Array;
    }
  | { readonly id: number; readonly error: string };

/** Batches smaller than this are hashed on the calling thread: the hop would cost more. */
export const HASH_THREAD_MIN_BATCH = 256;

type Pending = { resolve: (b: HashedBatch) => void; reject: (err: Error) => void };

/**
 * Hashes ledger batches. With the native addon (`native/merkle.c`) a batch is hashed in one call
 * on the calling thread, faster than any hop to another thread. Without it, the leaf and node
 * hashes of a large batch are the biggest CPU cost of an append, so with `thread` set they run on
 * a helper thread, started on the first large batch, while the calling thread goes on encoding
 * the next entries. Until the thread is ready, for small batches, and for good if the thread ever
 * fails, batches are hashed on the calling thread instead: the result is the same pure function
 * of the entries either way.
 */
export class TreeHasher {
  private worker: Worker | undefined;
  private ready = false;
  private failed = false;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private onThread = 0;

  /**
   * @param thread - hash large batches on a helper thread when hashing is not native
   * @param hashing - how batches are hashed on the calling thread (default: native when loaded)
   */
  constructor(
    thread: boolean,
    private readonly hashing: TreeHashing = treeHashing,
  ) {
    this.thread = thread && hashing.implementation !== 'native';
  }

  private readonly thread: boolean;

  /** True when large batches are to go to a helper thread (the hashing is not native). */
  get usesThread(): boolean {
    return this.thread;
  }

  /** True once batches go to the helper thread (for tests and health). */
  get threaded(): boolean {
    return this.ready && !this.failed;
  }

  /** Batches whose hashes came back from the helper thread (for tests and health). */
  get threadedBatches(): number {
    return this.onThread;
  }

  /** Hashes `entries` onto the tree `prev`. */
  async hash(prev: LedgerTreeState, entries: EncodedEntries): Promise<HashedBatch> {
    if (!this.thread || this.failed || entries.lengths.length < HASH_THREAD_MIN_BATCH)
      return hashBatchHere(prev, entries, this.hashing);
    if (!this.ready) {
      this.start();
      return hashBatchHere(prev, entries, this.hashing);
    }
    try {
      // One buffer, handed over and back without further copies.
      return await this.call(prev, copyForThread(entries));
    } catch {
      return hashBatchHere(prev, entries, this.hashing);
    }
  }

  private start(): void {
    if (this.worker !== undefined) return;
    let worker: Worker;
    try {
      worker = new Worker(new URL('./hasher-worker-boot.mjs', import.meta.url));
    } catch {
      // No thread to be had (out of threads, say): hash in place from now on.
      this.failed = true;
      return;
    }
    this.worker = worker;
    worker.unref();
    worker.on('message', (reply: HashReply) => {
      if ('ready' in reply) {
        this.ready = true;
        return;
      }
      const p = this.pending.get(reply.id);
      if (p === undefined) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if ('error' in reply) {
        p.reject(new Error(reply.error));
        return;
      }
      this.onThread++;
      p.resolve({
        entries: { blob: reply.blob, lengths: reply.lengths },
        levels: reply.levels,
        tree: reply.tree,
        root: reply.root,
      });
    });
    const fail = (): void => {
      this.failed = true;
      for (const p of this.pending.values()) p.reject(new Error('hashing thread stopped'));
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', fail);
  }

  private call(prev: LedgerTreeState, encoded: EncodedEntries): Promise<HashedBatch> {
    const worker = this.worker as Worker;
    const id = this.nextId++;
    return new Promise<HashedBatch>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // A thread with work in flight keeps the process alive; an idle one does not.
      if (this.pending.size === 1) worker.ref();
      const call: HashCall = { id, prev, blob: encoded.blob, lengths: encoded.lengths };
      worker.postMessage(call, [encoded.blob.buffer as ArrayBuffer]);
    });
  }

  /** Stops the helper thread. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.failed = true;
    if (worker !== undefined) await worker.terminate();
  }
}
