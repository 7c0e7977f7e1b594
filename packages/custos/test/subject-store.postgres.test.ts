import { PostgresSubjectStore } from '../src/adapters/postgres/postgres-subject-store.js';
import { subjectStoreConformance } from './conformance/subject-store.conformance.js';
import { freshSchema, testPool, withPostgres } from './pg-helpers.js';

withPostgres('SubjectStore conformance: postgres', (url) => {
  subjectStoreConformance('postgres', async () => {
    const schema = freshSchema();
    const { pool, dropAndEnd } = testPool(url);
    const store = await PostgresSubjectStore.open({ pool, schema });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await dropAndEnd(schema);
      },
    };
  });
});
