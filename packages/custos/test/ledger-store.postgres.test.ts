import { PostgresLedgerStore } from '../src/adapters/postgres/postgres-ledger-store.js';
import { ledgerStoreConformance } from './conformance/ledger-store.conformance.js';
import { freshSchema, testPool, withPostgres } from './pg-helpers.js';

withPostgres('LedgerStore conformance: postgres', (url) => {
  ledgerStoreConformance('postgres', async () => {
    const schema = freshSchema('ledger');
    const admin = testPool(url);
    return {
      // Each open gets its own pool, which the store ends on close (as a lease from the registry would).
      open: async () => {
        const { pool } = testPool(url);
        return PostgresLedgerStore.open({ pool, schema, release: () => pool.end() });
      },
      dispose: () => admin.dropAndEnd(schema),
    };
  });
});
