import { PostgresEgressStore } from '../src/adapters/postgres/postgres-egress-store.js';
import { egressStoreConformance } from './conformance/egress-store.conformance.js';
import { freshSchema, testPool, withPostgres } from './pg-helpers.js';

withPostgres('EgressStore conformance: postgres', (url) => {
  egressStoreConformance('postgres', async () => {
    const schema = freshSchema();
    const { pool, dropAndEnd } = testPool(url);
    const store = await PostgresEgressStore.open({ pool, schema });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await dropAndEnd(schema);
      },
    };
  });
});
