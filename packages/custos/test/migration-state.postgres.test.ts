import { PostgresMigrationState } from '../src/adapters/postgres/postgres-migration-state.js';
import { migrationStateConformance } from './conformance/migration-state.conformance.js';
import { freshSchema, testPool, withPostgres } from './pg-helpers.js';

withPostgres('MigrationStateStore conformance: postgres', (url) => {
  migrationStateConformance('postgres', async () => {
    const schema = freshSchema();
    const { pool, dropAndEnd } = testPool(url);
    const store = await PostgresMigrationState.open({ pool, schema });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await dropAndEnd(schema);
      },
    };
  });
});
