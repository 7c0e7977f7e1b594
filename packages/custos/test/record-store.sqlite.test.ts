import { join } from 'node:path';
import { SqliteRecordStore } from '../src/adapters/sqlite/sqlite-record-store.js';
import { recordStoreConformance } from './conformance/record-store.conformance.js';
import { tempDir } from './helpers.js';

recordStoreConformance('sqlite', async () => {
  const t = tempDir();
  const store = new SqliteRecordStore('test', join(t.dir, 'records.db'));
  return {
    store,
    cleanup: async () => {
      await store.close();
      t.cleanup();
    },
  };
});
