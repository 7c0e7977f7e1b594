import { join } from 'node:path';
import { SqliteEgressStore } from '../src/adapters/sqlite/sqlite-egress-store.js';
import { egressStoreConformance } from './conformance/egress-store.conformance.js';
import { tempDir } from './helpers.js';

egressStoreConformance('sqlite', async () => {
  const t = tempDir();
  const store = new SqliteEgressStore(join(t.dir, 'custody.db'));
  return {
    store,
    cleanup: async () => {
      await store.close();
      t.cleanup();
    },
  };
});
