import { Worker } from 'node:worker_threads';
import type { BundleCheckPool, BundleCheckResult } from '../audit/bundle-checker.js';
import { VerifyError, type VerifyErrorCode } from '../errors.js';
import type { CheckCall, CheckReply } from './bundle-check-worker.js';

type Pending = { resolve: (r: BundleCheckResult) => void; reject: (err: Error) => void };

interface Slot {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
  failed: Error | undefined;
}

/** The thread entry: the compiled file in the built package, the tsx boot when run from sources. */
function workerUrl(): URL {
  return import.meta.url.endsWith('.ts')
    ? new URL('./bundle-check-worker-boot.mjs', import.meta.url)
    : new URL('./bundle-check-worker.js', import.meta.url);
}

/** Options of {@link createWorkerCheckPool}. */
export interface WorkerCheckPoolOptions {
  /** The thread entry; tests substitute a failing one. Default: this package's checker thread. */
  readonly workerUrl?: URL;
}

/**
 * A {@link BundleCheckPool} of `threads` Node worker threads (Node only). Each bundle goes to the
 * thread with the fewest bundles in flight; results come back with their leaf hashes transferred,
 * not copied. If a thread dies, its bundles (and later ones sent to it) reject with a plain
 * Error, which the audit lets propagate like an I/O error: it is never reported as tampering.
 */
export function createWorkerCheckPool(
  threads: number,
  options: WorkerCheckPoolOptions = {},
): BundleCheckPool {
  const count = Math.max(1, Math.floor(threads));
  const url = options.workerUrl ?? workerUrl();
  let nextId = 1;
  const slots: Slot[] = Array.from({ length: count }, () => {
    const worker = new Worker(url);
    worker.unref();
    const slot: Slot = { worker, pending: new Map(), failed: undefined };
    worker.on('message', (reply: CheckReply) => {
      if ('ready' in reply) return;
      const p = slot.pending.get(reply.id);
      if (p === undefined) return;
      slot.pending.delete(reply.id);
      if (slot.pending.size === 0) worker.unref();
      if ('message' in reply) {
        p.reject(
          reply.code === undefined
            ? new Error(reply.message)
            : new VerifyError(reply.code as VerifyErrorCode, reply.message),
        );
        return;
      }
      p.resolve({
        count: reply.count,
        used: reply.used,
        firstMismatch: reply.firstMismatch,
        leafHashes: reply.leafHashes,
        invalid: reply.invalid,
      });
    });
    const fail = (why: string): void => {
      slot.failed ??= new Error(`bundle-checking thread ${why}`);
      for (const p of slot.pending.values()) p.reject(slot.failed);
      slot.pending.clear();
    };
    worker.on('error', (err) => fail(`failed: ${err.message}`));
    worker.on('exit', () => fail('exited'));
    return slot;
  });
  let closed = false;

  return {
    check(bundle, width, tile): Promise<BundleCheckResult> {
      if (closed) return Promise.reject(new Error('the bundle-checking pool is closed'));
      let slot = slots[0] as Slot;
      for (const s of slots) if (s.pending.size < slot.pending.size) slot = s;
      if (slot.failed !== undefined) return Promise.reject(slot.failed);
      const id = nextId++;
      return new Promise<BundleCheckResult>((resolve, reject) => {
        slot.pending.set(id, { resolve, reject });
        if (slot.pending.size === 1) slot.worker.ref();
        // Copies: the caller keeps its bytes (a bundle is ~128 KiB; the check costs far more).
        slot.worker.postMessage({ id, bundle, width, tile } satisfies CheckCall);
      });
    },
    async close(): Promise<void> {
      closed = true;
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}
