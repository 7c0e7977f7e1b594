import { PostgresRecordStore } from '../src/adapters/postgres/postgres-record-store.js';
import { recordStoreConformance } from './conformance/record-store.conformance.js';
import { freshSchema, testPool, withPostgres } from './pg-helpers.js';

withPostgres('RecordStore conformance: postgres', (url) => {
  recordStoreConformance('postgres', async () => {
    const schema = freshSchema();
    const { pool, dropAndEnd } = testPool(url);
    const store = await PostgresRecordStore.open('test', { pool, schema });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await dropAndEnd(schema);
      },
    };
  });
});
