import { join } from 'node:path';
import { SqliteAccessStore } from '../src/adapters/sqlite/sqlite-access-store.js';
import { accessStoreConformance } from './conformance/access-store.conformance.js';
import { tempDir } from './helpers.js';

accessStoreConformance('sqlite', async () => {
  const t = tempDir();
  const store = new SqliteAccessStore(join(t.dir, 'custody.db'));
  return {
    store,
    cleanup: async () => {
      await store.close();
      t.cleanup();
    },
  };
});
