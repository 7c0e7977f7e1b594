import { join } from 'node:path';
import { SqliteMigrationState } from '../src/adapters/sqlite/sqlite-migration-state.js';
import { migrationStateConformance } from './conformance/migration-state.conformance.js';
import { tempDir } from './helpers.js';

migrationStateConformance('sqlite', async () => {
  const t = tempDir();
  const store = new SqliteMigrationState(join(t.dir, 'migration.db'));
  return {
    store,
    cleanup: async () => {
      await store.close();
      t.cleanup();
    },
  };
});
