import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { LEDGER_PAGE_SIZE, SqliteLedgerStore } from '../src/adapters/sqlite/sqlite-ledger-store.js';
import { ledgerStoreConformance } from './conformance/ledger-store.conformance.js';
import { tempDir } from './helpers.js';

ledgerStoreConformance('sqlite', async () => {
  const t = tempDir('custos-ledger-store-');
  const path = join(t.dir, 'ledger.db');
  return {
    open: async () => new SqliteLedgerStore(path, { busyTimeoutMs: 200 }),
    dispose: async () => t.cleanup(),
  };
});

describe('SqliteLedgerStore page size', () => {
  const pageSize = (path: string): number => {
    const db = new Database(path, { readonly: true });
    try {
      return db.pragma('page_size', { simple: true }) as number;
    } finally {
      db.close();
    }
  };

  it('creates a new ledger with large pages, and leaves an existing one as it is', async () => {
    const t = tempDir('custos-ledger-page-');
    try {
      const fresh = join(t.dir, 'fresh.db');
      await new SqliteLedgerStore(fresh).close();
      expect(pageSize(fresh)).toBe(LEDGER_PAGE_SIZE);

      const old = join(t.dir, 'old.db');
      const db = new Database(old);
      db.pragma('page_size = 4096');
      db.exec('CREATE TABLE keep (x)');
      db.close();
      const store = new SqliteLedgerStore(old);
      expect(await store.readTree()).toEqual({ size: 0, frontier: [] });
      await store.close();
      expect(pageSize(old)).toBe(4096);
    } finally {
      t.cleanup();
    }
  });
});
