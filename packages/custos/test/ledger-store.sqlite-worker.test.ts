import { join } from 'node:path';
import { WorkerSqliteLedgerStore } from '../src/adapters/sqlite/worker-sqlite-ledger-store.js';
import { ledgerStoreConformance } from './conformance/ledger-store.conformance.js';
import { tempDir } from './helpers.js';

// The same suite, with writes on the ledger writer thread.
ledgerStoreConformance('sqlite (writer thread)', async () => {
  const t = tempDir('custos-ledger-store-w-');
  const path = join(t.dir, 'ledger.db');
  return {
    open: async () => new WorkerSqliteLedgerStore(path, { busyTimeoutMs: 200 }),
    dispose: async () => t.cleanup(),
  };
});
