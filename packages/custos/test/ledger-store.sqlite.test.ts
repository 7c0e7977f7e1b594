import { join } from 'node:path';
import { SqliteLedgerStore } from '../src/adapters/sqlite/sqlite-ledger-store.js';
import { ledgerStoreConformance } from './conformance/ledger-store.conformance.js';
import { tempDir } from './helpers.js';

ledgerStoreConformance('sqlite', async () => {
  const t = tempDir('custos-ledger-store-');
  const path = join(t.dir, 'ledger.db');
  return {
    open: async () => new SqliteLedgerStore(path, { busyTimeoutMs: 200 }),
    dispose: async () => t.cleanup(),
  };
});
