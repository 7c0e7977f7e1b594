import { join } from 'node:path';
import { SqliteSubjectStore } from '../src/adapters/sqlite/sqlite-subject-store.js';
import { subjectStoreConformance } from './conformance/subject-store.conformance.js';
import { tempDir } from './helpers.js';

subjectStoreConformance('sqlite', async () => {
  const t = tempDir();
  const store = new SqliteSubjectStore(join(t.dir, 'custody.db'));
  return {
    store,
    cleanup: async () => {
      await store.close();
      t.cleanup();
    },
  };
});
