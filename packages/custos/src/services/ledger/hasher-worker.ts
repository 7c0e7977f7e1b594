import { parentPort } from 'node:worker_threads';
import { buildTreeBatch } from './tree-batch.js';
import type { HashCall, HashReply } from './tree-hasher.js';
import { portableTreeHashing } from './tree-hashing.js';

// The ledger hashing thread (see TreeHasher): computes a batch's leaf and node hashes, then hands
// the entries and the hashes back without copying them.
const port = parentPort;

port?.on('message', (call: HashCall) => {
  try {
    // The thread is only used where the native hashing is not: hash as the calling thread would.
    const built = buildTreeBatch(call.prev, call, portableTreeHashing);
    const transfer = [call.blob.buffer, ...built.levels.map((l) => l.buffer)] as ArrayBuffer[];
    port.postMessage(
      {
        id: call.id,
        blob: call.blob,
        lengths: call.lengths,
        levels: built.levels,
        tree: built.tree,
        root: built.root,
      } satisfies HashReply,
      transfer,
    );
  } catch (err) {
    port.postMessage({ id: call.id, error: (err as Error).message } satisfies HashReply);
  }
});
port?.postMessage({ ready: true } satisfies HashReply);
