import type { LedgerBatch, StoredCheckpoint } from '../../../ports/ledger-store.js';

/** A batch packed for postMessage: one contiguous blob, so no pooled buffer is cloned whole. */
export interface PackedBatch {
  readonly firstIndex: number;
  readonly blob: Uint8Array;
  readonly lengths: Uint32Array;
  readonly levels: readonly Uint8Array[];
  readonly treeSize: number;
  readonly frontier: readonly Uint8Array[];
  readonly priorFrontier: readonly Uint8Array[];
}

/** A call from the main thread. */
export type WorkerCall =
  | { readonly id: number; readonly op: 'append'; readonly batch: PackedBatch }
  | { readonly id: number; readonly op: 'checkpoint'; readonly checkpoint: StoredCheckpoint }
  | { readonly id: number; readonly op: 'probe' }
  | { readonly id: number; readonly op: 'close' };

/** The worker's answer. */
export type WorkerReply =
  | { readonly id: number; readonly ok: true }
  | { readonly id: number; readonly ok: false; readonly code: string; readonly message: string };

/** What the worker needs to open the store. */
export interface WorkerInit {
  readonly path: string;
  readonly busyTimeoutMs: number;
  /** Whether the writer packs entry pieces (`SqliteLedgerStoreOptions.compressEntries`). */
  readonly compressEntries: boolean;
}

/** Copies a view into a fresh, exactly sized array (structured clone copies whole ArrayBuffers). */
function own(a: Uint8Array): Uint8Array {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a : a.slice();
}

/** Packs a batch for the worker. */
export function packBatch(batch: LedgerBatch): PackedBatch {
  let total = 0;
  for (const e of batch.entries) total += e.length;
  const blob = new Uint8Array(total);
  const lengths = new Uint32Array(batch.entries.length);
  let off = 0;
  batch.entries.forEach((e, i) => {
    blob.set(e, off);
    off += e.length;
    lengths[i] = e.length;
  });
  return {
    firstIndex: batch.firstIndex,
    blob,
    lengths,
    levels: batch.levels.map(own),
    treeSize: batch.tree.size,
    frontier: batch.tree.frontier.map(own),
    priorFrontier: batch.priorFrontier.map(own),
  };
}

/** Unpacks a batch in the worker (views into the blob, no copies). */
export function unpackBatch(p: PackedBatch): LedgerBatch {
  const entries: Uint8Array[] = [];
  let off = 0;
  for (const len of p.lengths) {
    entries.push(p.blob.subarray(off, off + len));
    off += len;
  }
  return {
    firstIndex: p.firstIndex,
    priorFrontier: p.priorFrontier,
    entries,
    levels: p.levels,
    tree: { size: p.treeSize, frontier: p.frontier },
  };
}
