import { parentPort, workerData } from 'node:worker_threads';
import { isCustosError } from '../../../domain/errors.js';
import { SqliteLedgerStore } from '../sqlite-ledger-store.js';
import { unpackBatch, type WorkerCall, type WorkerInit, type WorkerReply } from './ledger-worker-protocol.js';

// The ledger writer thread: owns the write connection, so a commit's fsync blocks this thread,
// not the one serving requests.
const init = workerData as WorkerInit;
const port = parentPort;
let store: SqliteLedgerStore | undefined;
let openError: { code: string; message: string } | undefined;
try {
  store = new SqliteLedgerStore(init.path, {
    busyTimeoutMs: init.busyTimeoutMs,
    mmapBytes: 0,
    compressEntries: init.compressEntries,
  });
} catch (err) {
  openError = { code: isCustosError(err) ? err.code : 'LEDGER_UNAVAILABLE', message: (err as Error).message };
}

async function handle(call: WorkerCall): Promise<void> {
  if (!store) throw Object.assign(new Error(openError?.message ?? 'ledger store is not open'), openError);
  switch (call.op) {
    case 'append':
      return store.appendBatch(unpackBatch(call.batch));
    case 'checkpoint':
      return store.saveCheckpoint(call.checkpoint);
    case 'probe':
      return store.probeWritable();
    case 'close':
      return store.close();
  }
}

port?.on('message', (call: WorkerCall) => {
  handle(call).then(
    () => port.postMessage({ id: call.id, ok: true } satisfies WorkerReply),
    (err: unknown) => {
      const code = isCustosError(err) ? err.code : ((err as { code?: string }).code ?? 'LEDGER_UNAVAILABLE');
      port.postMessage({
        id: call.id,
        ok: false,
        code,
        message: (err as Error).message,
      } satisfies WorkerReply);
    },
  );
});
