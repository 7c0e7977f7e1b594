/**
 * Regressions from the migration review: each case lost or misreported data before its fix.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { isCustosError } from '../../src/domain/errors.js';
import { countSqlite, type MigrationWorld, newWorld, writeSqliteTable } from './migrate-helpers.js';

const ACCOUNTS = { source: 'db', table: 'accounts', subjectField: 'user_id', jurisdictionField: 'country' };

function dbSection(datasets: Record<string, unknown>[], extra: Record<string, unknown> = {}) {
  return {
    batchSize: 2,
    onError: 'skip',
    accounts: ACCOUNTS,
    sources: [{ id: 'db', site: 'us-legacy-dc', kind: 'sqlite', path: 'legacy.sqlite', datasets }],
    ...extra,
  };
}

const PROFILES = {
  collection: 'profiles',
  table: 'users',
  idField: 'pid',
  subjectField: 'user_id',
  fields: { email: 'email' },
};

function accounts(w: MigrationWorld, rows: [string, string][]): void {
  writeSqliteTable(join(w.dir, 'legacy.sqlite'), 'accounts', ['user_id', 'country'], rows);
}

/** A `users` table with no key constraint at all. */
function looseUsers(w: MigrationWorld, rows: (string | null)[][]): void {
  const db = new Database(join(w.dir, 'legacy.sqlite'));
  db.exec('CREATE TABLE users (pid, user_id, email)');
  const ins = db.prepare('INSERT INTO users VALUES (?, ?, ?)');
  for (const r of rows) ins.run(...r);
  db.close();
}

describe('migration review regressions', () => {
  let w: MigrationWorld | undefined;
  afterEach(async () => {
    await w?.cleanup();
    w = undefined;
  });

  it('refuses an id column with duplicate keys at plan, run and purge (MIGRATION_KEY_NOT_UNIQUE), deleting nothing', async () => {
    w = await newWorld(dbSection([PROFILES]));
    accounts(w, [['u1', 'US']]);
    // Two rows share p2 across the page boundary (batch size 2).
    looseUsers(w, [
      ['p1', 'u1', 'a@x'],
      ['p2', 'u1', 'b@x'],
      ['p2', 'u1', 'c@x'],
      ['p3', 'u1', 'd@x'],
    ]);
    const plan = await w.migration.plan().catch((e: unknown) => e);
    expect(isCustosError(plan, 'MIGRATION_KEY_NOT_UNIQUE'), String(plan)).toBe(true);
    expect((plan as Error).message).toContain('migration source "db": id column "pid" of table "users"');
    const run = await w.migration.run().catch((e: unknown) => e);
    expect(isCustosError(run, 'MIGRATION_KEY_NOT_UNIQUE'), String(run)).toBe(true);
    const purge = await w.migration.purge();
    expect(purge[0]?.status).toBe('failed');
    expect(countSqlite(join(w.dir, 'legacy.sqlite'), 'users')).toBe(4);
  });

  it('refuses NULL ids (MIGRATION_KEY_NOT_UNIQUE) instead of ending the scan early', async () => {
    w = await newWorld(dbSection([PROFILES]));
    accounts(w, [['u1', 'US']]);
    looseUsers(w, [
      ['p1', 'u1', 'a@x'],
      [null, 'u1', 'b@x'],
      [null, 'u1', 'c@x'],
    ]);
    const run = await w.migration.run().catch((e: unknown) => e);
    expect(isCustosError(run, 'MIGRATION_KEY_NOT_UNIQUE'), String(run)).toBe(true);
    expect((run as Error).message).toContain('2 NULL');
  });

  it('an accounts subject listed twice with different jurisdictions is unknown (held back), never last-wins', async () => {
    w = await newWorld(dbSection([PROFILES], { batchSize: 1 }));
    accounts(w, [
      ['u1', 'US'],
      ['u2', 'US'],
    ]);
    const db = new Database(join(w.dir, 'legacy.sqlite'));
    // No key on accounts: u2 appears again with another jurisdiction.
    db.exec(
      'CREATE TABLE acc2 AS SELECT * FROM accounts; DROP TABLE accounts; ALTER TABLE acc2 RENAME TO accounts',
    );
    db.prepare('INSERT INTO accounts VALUES (?, ?)').run('u2', 'SG');
    db.close();
    writeSqliteTable(
      join(w.dir, 'legacy.sqlite'),
      'users',
      ['pid', 'user_id', 'email'],
      [
        ['p1', 'u1', 'a@x'],
        ['p2', 'u2', 'b@x'],
      ],
    );
    const [r] = await w.migration.run();
    expect([r?.copied, r?.held]).toEqual([1, 1]);
    expect(await w.custos.subjectStore.get('u2')).toBeUndefined();
  });
});
