import { PostgresAccessStore } from '../src/adapters/postgres/postgres-access-store.js';
import { accessStoreConformance } from './conformance/access-store.conformance.js';
import { freshSchema, testPool, withPostgres } from './pg-helpers.js';

withPostgres('AccessStore conformance: postgres', (url) => {
  accessStoreConformance('postgres', async () => {
    const schema = freshSchema();
    const { pool, dropAndEnd } = testPool(url);
    const store = await PostgresAccessStore.open({ pool, schema });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await dropAndEnd(schema);
      },
    };
  });
});
