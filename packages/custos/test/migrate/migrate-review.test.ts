/**
 * Regressions from the migration review: each case lost or misreported data before its fix.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { demoLegacySources } from '../../src/demo/demo-legacy.js';
import { isCustosError } from '../../src/domain/errors.js';
import type { LedgerStore } from '../../src/ports/ledger-store.js';
import type { MigrationStateStore } from '../../src/ports/migration-state.js';
import type { MigrationContext } from '../../src/services/migrate/migration-context.js';
import { runCli } from '../cli-helpers.js';
import {
  countSqlite,
  type MigrationWorld,
  newWorld,
  targetLocations,
  writeSqliteTable,
} from './migrate-helpers.js';

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

/** The migration state store behind a world's service. */
function stateOf(w: MigrationWorld): MigrationStateStore {
  return (w.migration as unknown as { ctx: MigrationContext }).ctx.state;
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

  it('reports an id column with duplicate keys in the plan and refuses it at run and purge (MIGRATION_KEY_NOT_UNIQUE), deleting nothing', async () => {
    w = await newWorld(dbSection([PROFILES]));
    accounts(w, [['u1', 'US']]);
    // Two rows share p2 across the page boundary (batch size 2).
    looseUsers(w, [
      ['p1', 'u1', 'a@x'],
      ['p2', 'u1', 'b@x'],
      ['p2', 'u1', 'c@x'],
      ['p3', 'u1', 'd@x'],
    ]);
    // The plan reports the dataset as blocked and goes on with the others.
    const plan = await w.migration.plan();
    expect(plan.blocked).toHaveLength(1);
    expect(plan.blocked[0]?.dataset).toBe('db/profiles');
    expect(plan.blocked[0]?.code).toBe('MIGRATION_KEY_NOT_UNIQUE');
    expect(plan.blocked[0]?.message).toContain('migration source "db": id column "pid" of table "users"');
    expect(plan.rows.filter((r) => r.dataset === 'db/profiles')).toEqual([]);
    const cli = await runCli('migrate', 'plan', '-c', w.configPath);
    expect(cli.code).toBe(1);
    expect(cli.out).toContain('db/profiles cannot be migrated as declared: MIGRATION_KEY_NOT_UNIQUE');
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

  it('a missing archive key or sealed file is MIGRATION_SOURCE_UNAVAILABLE, never a crypto-shred certificate', async () => {
    for (const gone of ['sg-backup-archive.key', 'sg-backup-watch-history.ndjson.sealed']) {
      w = await newWorld();
      demoLegacySources(w.dir);
      await w.migration.run(['sg-backup-archive']);
      rmSync(join(w.dir, 'legacy', gone));
      const [r] = await w.migration.purge(['sg-backup-archive']);
      expect([r?.status, r?.error?.code, r?.certificate]).toEqual([
        'failed',
        'MIGRATION_SOURCE_UNAVAILABLE',
        undefined,
      ]);
      await w.cleanup();
      w = undefined;
    }
  });

  it('crypto-shred is certified after Custos destroyed the key itself, and a purge killed mid-shred resumes', async () => {
    w = await newWorld();
    demoLegacySources(w.dir);
    await w.migration.run(['sg-backup-archive']);
    const [r] = await w.migration.purge(['sg-backup-archive']);
    expect(r?.status).toBe('purged');
    const cert = JSON.parse(readFileSync(r?.certificate as string, 'utf8')) as { note: string };
    expect(cert.note).toContain('"method":"crypto-shred"');
    const [st] = (await w.migration.status()).filter((s) => s.dataset.startsWith('sg-backup-archive/'));
    expect(st?.phase).toBe('purged');
    await w.cleanup();

    // Killed after the key was destroyed, before `done` was saved: the resumed purge finishes it.
    w = await newWorld();
    demoLegacySources(w.dir);
    await w.migration.run(['sg-backup-archive']);
    const state = stateOf(w);
    for (const d of await state.datasets()) {
      if (d.dataset.startsWith('sg-backup-archive/')) await state.save({ ...d, shred: 'started' });
    }
    rmSync(join(w.dir, 'legacy', 'sg-backup-archive.key'));
    const [again] = await w.migration.purge(['sg-backup-archive']);
    expect(again?.status).toBe('purged');
  });

  it('a file missing without Custos having recorded it pending destruction is not "destroyed"', async () => {
    w = await newWorld({
      batchSize: 2,
      accounts: { source: 'db', table: 'accounts', subjectField: 'user_id', jurisdictionField: 'country' },
      sources: [
        { id: 'db', site: 'us-legacy-dc', kind: 'sqlite', path: 'legacy.sqlite', datasets: [PROFILES] },
        {
          id: 'archive',
          site: 'sg-backup',
          kind: 'ndjson',
          deletable: false,
          datasets: [
            { collection: 'watch_history', file: 'w.ndjson', subjectField: 'uid', fields: ['video_id'] },
          ],
        },
      ],
    });
    accounts(w, [['u1', 'US']]);
    writeSqliteTable(join(w.dir, 'legacy.sqlite'), 'users', ['pid', 'user_id', 'email'], []);
    writeFileSync(join(w.dir, 'w.ndjson'), '{"id":"w1","uid":"u1","video_id":"v1"}\n');
    await w.migration.run(['archive']);
    rmSync(join(w.dir, 'w.ndjson'));
    const [r] = await w.migration.purge(['archive']);
    expect([r?.status, r?.error?.code]).toEqual(['failed', 'MIGRATION_SOURCE_UNAVAILABLE']);
  });

  it('never overwrites a target record: a second dataset with the same ids and a live record are held back (conflict)', async () => {
    const second = { ...PROFILES, table: 'users_old' };
    w = await newWorld({
      ...dbSection([PROFILES]),
      sources: [
        { id: 'db', site: 'us-legacy-dc', kind: 'sqlite', path: 'legacy.sqlite', datasets: [PROFILES] },
        { id: 'old', site: 'us-legacy-dc', kind: 'sqlite', path: 'legacy.sqlite', datasets: [second] },
      ],
    });
    accounts(w, [
      ['u1', 'US'],
      ['u2', 'US'],
    ]);
    const db = join(w.dir, 'legacy.sqlite');
    writeSqliteTable(
      db,
      'users',
      ['pid', 'user_id', 'email'],
      [
        ['p1', 'u1', 'new@x'],
        ['p2', 'u2', 'same@x'],
      ],
    );
    writeSqliteTable(
      db,
      'users_old',
      ['pid', 'user_id', 'email'],
      [
        ['p1', 'u1', 'old@x'],
        ['p2', 'u2', 'same@x'],
      ],
    );
    const reports = await w.migration.run();
    expect(reports.map((r) => [r.dataset, r.copied, r.held])).toEqual([
      ['db/profiles', 2, 0],
      ['old/profiles', 1, 1],
    ]);
    const p1 = await w.custos.records.get('u1', 'profiles', 'p1');
    expect(JSON.stringify(p1)).toContain('new@x');
    // The held-back row blocks nothing it should not, and is never deleted at the source.
    await w.migration.purge(['old']);
    expect(countSqlite(db, 'users_old')).toBe(1);
    await w.cleanup();

    w = await newWorld(dbSection([{ ...PROFILES, table: 'users_live' }]));
    accounts(w, [['u3', 'US']]);
    writeSqliteTable(
      join(w.dir, 'legacy.sqlite'),
      'users_live',
      ['pid', 'user_id', 'email'],
      [['p3', 'u3', 'legacy@x']],
    );
    // A live record written through the gateway before the migration.
    await w.custos.subjects.registerMany([{ id: 'u3', jurisdiction: 'US' }]);
    await w.custos.records.put('u3', 'profiles', 'p3', { email: 'live@x' });
    const [live] = await w.migration.run();
    expect([live?.copied, live?.held]).toEqual([0, 1]);
    expect(JSON.stringify(await w.custos.records.get('u3', 'profiles', 'p3'))).toContain('live@x');
  });

  it('never overwrites a live write that lands between its check and its insert (conflict)', async () => {
    w = await newWorld(dbSection([{ ...PROFILES, table: 'users_race' }]));
    accounts(w, [
      ['u3', 'US'],
      ['u4', 'US'],
    ]);
    const db = join(w.dir, 'legacy.sqlite');
    writeSqliteTable(
      db,
      'users_race',
      ['pid', 'user_id', 'email'],
      [
        ['p3', 'u3', 'legacy@x'],
        ['p4', 'u4', 'other@x'],
      ],
    );
    await w.custos.subjects.registerMany([{ id: 'u3', jurisdiction: 'US' }]);
    const world = w;
    // The gateway writes p3 just after the migration looked and found nothing there.
    const ctx = (w.migration as unknown as { ctx: MigrationContext }).ctx;
    let raced = false;
    for (const store of ctx.stores.values()) {
      const insertNew = store.insertNew.bind(store);
      store.insertNew = async (records) => {
        if (!raced && records.some((r) => r.id === 'p3')) {
          raced = true;
          await world.custos.records.put('u3', 'profiles', 'p3', { email: 'live@x' });
        }
        return insertNew(records);
      };
    }
    const reports = await w.migration.run();
    expect(raced).toBe(true);
    expect(reports.map((r) => [r.copied, r.held])).toEqual([[1, 1]]);
    expect(JSON.stringify(await w.custos.records.get('u3', 'profiles', 'p3'))).toContain('live@x');
    expect(JSON.stringify(await w.custos.records.get('u4', 'profiles', 'p4'))).toContain('other@x');
    // The held-back source row is never deleted.
    await w.migration.purge();
    expect(countSqlite(db, 'users_race')).toBe(1);
  });

  it('reports unmapped source columns; purge refuses them (MIGRATION_UNMAPPED_COLUMNS) unless discarded, and signs the discard list', async () => {
    const rows = [
      ['p1', 'u1', 'a@x', '555-1'],
      ['p2', 'u1', 'b@x', '555-2'],
    ];
    w = await newWorld(dbSection([PROFILES]));
    accounts(w, [['u1', 'US']]);
    writeSqliteTable(join(w.dir, 'legacy.sqlite'), 'users', ['pid', 'user_id', 'email', 'phone'], rows);
    expect((await w.migration.plan()).unmapped).toEqual([{ dataset: 'db/profiles', columns: ['phone'] }]);
    const [run] = await w.migration.run();
    expect(run?.unmapped).toEqual(['phone']);
    const [refused] = await w.migration.purge();
    expect([refused?.status, refused?.error?.code]).toEqual(['failed', 'MIGRATION_UNMAPPED_COLUMNS']);
    expect(countSqlite(join(w.dir, 'legacy.sqlite'), 'users')).toBe(2);
    await w.cleanup();

    w = await newWorld(dbSection([{ ...PROFILES, discard: ['phone'] }]));
    accounts(w, [['u1', 'US']]);
    writeSqliteTable(join(w.dir, 'legacy.sqlite'), 'users', ['pid', 'user_id', 'email', 'phone'], rows);
    expect((await w.migration.plan()).unmapped).toEqual([]);
    await w.migration.run();
    const [purged] = await w.migration.purge();
    expect(purged?.status).toBe('purged');
    const cert = JSON.parse(readFileSync(purged?.certificate as string, 'utf8')) as { note: string };
    expect(cert.note).toContain('"discarded":["phone"]');
  });

  it("deletes an erased subject's legacy rows at the source without copying them (ledgered), then certifies", async () => {
    w = await newWorld(dbSection([PROFILES]));
    accounts(w, [
      ['u1', 'US'],
      ['u2', 'US'],
    ]);
    writeSqliteTable(
      join(w.dir, 'legacy.sqlite'),
      'users',
      ['pid', 'user_id', 'email'],
      [
        ['p1', 'u1', 'a@x'],
        ['p2', 'u2', 'b@x'],
        ['p3', 'u2', 'c@x'],
      ],
    );
    await w.custos.subjects.registerMany([{ id: 'u2', jurisdiction: 'US' }]);
    await w.custos.subjects.erase('u2');
    const [run] = await w.migration.run();
    expect([run?.copied, run?.held]).toEqual([1, 2]);
    const [purge] = await w.migration.purge();
    expect([purge?.status, purge?.heldBack]).toEqual(['purged', 0]);
    expect(countSqlite(join(w.dir, 'legacy.sqlite'), 'users')).toBe(0);
    expect((await targetLocations(w.custos)).filter((l) => l.includes('/u2/'))).toEqual([]);
  });

  it('a lost insert takes the duplicates of its row in the same batch with it (conflict, no failed run)', async () => {
    w = await newWorld({
      ...dbSection([PROFILES]),
      batchSize: 10,
      sources: [
        { id: 'db', site: 'us-legacy-dc', kind: 'sqlite', path: 'legacy.sqlite', datasets: [PROFILES] },
        {
          id: 'files',
          site: 'us-legacy-dc',
          kind: 'ndjson',
          datasets: [
            { collection: 'watch_history', file: 'w.ndjson', subjectField: 'uid', fields: ['video_id'] },
          ],
        },
      ],
    });
    accounts(w, [['u1', 'US']]);
    writeSqliteTable(join(w.dir, 'legacy.sqlite'), 'users', ['pid', 'user_id', 'email'], []);
    const line = '{"id":"w1","uid":"u1","video_id":"v1"}\n';
    writeFileSync(join(w.dir, 'w.ndjson'), line + line);
    await w.custos.subjects.registerMany([{ id: 'u1', jurisdiction: 'US' }]);
    const world = w;
    const ctx = (w.migration as unknown as { ctx: MigrationContext }).ctx;
    let raced = false;
    for (const store of ctx.stores.values()) {
      const insertNew = store.insertNew.bind(store);
      store.insertNew = async (records) => {
        if (!raced && records.some((r) => r.id === 'w1')) {
          raced = true;
          await world.custos.records.put('u1', 'watch_history', 'w1', { video_id: 'LIVE' });
        }
        return insertNew(records);
      };
    }
    const reports = await w.migration.run(['files']);
    expect(raced).toBe(true);
    expect(reports.map((r) => [r.status, r.copied, r.held])).toEqual([['copied', 0, 2]]);
    expect(JSON.stringify(await w.custos.records.get('u1', 'watch_history', 'w1'))).toContain('LIVE');
  });

  it("an erased subject's rows do not hold back an archive's destruction: the crypto-shred destroys them too (ledgered)", async () => {
    w = await newWorld();
    demoLegacySources(w.dir);
    // legacy-0001 (US) has rows in the sealed archive; the subject is erased before the migration.
    await w.custos.subjects.registerMany([{ id: 'legacy-0001', jurisdiction: 'US' }]);
    await w.custos.subjects.erase('legacy-0001');
    const [run] = await w.migration.run(['sg-backup-archive']);
    expect(run?.held).toBe(1);
    const before = w.custos.ledger.size;
    const [purge] = await w.migration.purge(['sg-backup-archive']);
    expect([purge?.status, purge?.heldBack, purge?.error?.code]).toEqual(['purged', 0, undefined]);
    expect(purge?.certificate).toBeDefined();
    const store = (w.custos.ledger as unknown as { store: LedgerStore }).store;
    const entries = await store.readEntries(before, w.custos.ledger.size);
    const texts = entries.map((e) => Buffer.from(e).toString('utf8'));
    const erased = texts.find((t) => t.includes('"migrate.erased-destroy"'));
    expect(erased).toContain('"count":1');
    // Recorded before the key was destroyed.
    expect(texts.findIndex((t) => t.includes('"migrate.erased-destroy"'))).toBeLessThan(
      texts.findIndex((t) => t.includes('"migrate.shredded"')),
    );
    expect(existsSync(join(w.dir, 'legacy', 'sg-backup-archive.key'))).toBe(false);
  });

  it('one migration process per state store: a live lock holder makes run and purge MIGRATION_BUSY; a dead one is taken over', async () => {
    w = await newWorld(dbSection([PROFILES]));
    accounts(w, [['u1', 'US']]);
    writeSqliteTable(
      join(w.dir, 'legacy.sqlite'),
      'users',
      ['pid', 'user_id', 'email'],
      [['p1', 'u1', 'a@x']],
    );
    const lock = join(w.dir, 'migration.db.lock');
    // The parent process is alive: it stands for another migration process.
    writeFileSync(lock, String(process.ppid));
    const busy = await w.migration.run().catch((e: unknown) => e);
    expect(isCustosError(busy, 'MIGRATION_BUSY'), String(busy)).toBe(true);
    const busyPurge = await w.migration.purge().catch((e: unknown) => e);
    expect(isCustosError(busyPurge, 'MIGRATION_BUSY')).toBe(true);
    // A holder that no longer exists (killed) leaves a stale lock, which is taken over and released.
    writeFileSync(lock, '4194303');
    const [r] = await w.migration.run();
    expect(r?.copied).toBe(1);
    expect(existsSync(lock)).toBe(false);
  });

  it('makes the verified copies durable (store sync) before deleting their source rows', async () => {
    w = await newWorld(dbSection([PROFILES]));
    accounts(w, [['u1', 'US']]);
    const db = join(w.dir, 'legacy.sqlite');
    writeSqliteTable(
      db,
      'users',
      ['pid', 'user_id', 'email'],
      [
        ['p1', 'u1', 'a@x'],
        ['p2', 'u1', 'b@x'],
      ],
    );
    await w.migration.run();
    const synced: number[] = [];
    for (const store of w.custos.stores.values()) {
      const sync = store.sync?.bind(store);
      if (sync === undefined) continue;
      (store as { sync?: () => Promise<void> }).sync = async () => {
        synced.push(countSqlite(db, 'users'));
        await sync();
      };
    }
    const [r] = await w.migration.purge();
    expect(r?.status).toBe('purged');
    expect(synced[0]).toBe(2);
  });

  it('files: a Latin-1 byte is MIGRATION_RECORD_INVALID, never copied as U+FFFD; kept lines keep their bytes and CRLF', async () => {
    w = await newWorld({
      batchSize: 2,
      onError: 'skip',
      accounts: ACCOUNTS,
      sources: [
        { id: 'db', site: 'us-legacy-dc', kind: 'sqlite', path: 'legacy.sqlite', datasets: [PROFILES] },
        {
          id: 'export',
          site: 'us-public-cloud',
          kind: 'ndjson',
          datasets: [
            { collection: 'watch_history', file: 'w.ndjson', subjectField: 'uid', fields: ['video_id'] },
          ],
        },
      ],
    });
    accounts(w, [['u1', 'US']]);
    writeSqliteTable(join(w.dir, 'legacy.sqlite'), 'users', ['pid', 'user_id', 'email'], []);
    const latin1 = Buffer.concat([
      Buffer.from('{"id":"w2","uid":"u1","video_id":"caf'),
      Buffer.from([0xe9]),
      Buffer.from('"}\r\n'),
    ]);
    const file = join(w.dir, 'w.ndjson');
    writeFileSync(
      file,
      Buffer.concat([
        Buffer.from('{"id":"w1","uid":"u1","video_id":"v1"}\r\n'),
        latin1,
        Buffer.from('{"id":"w3","uid":"u1","video_id":"v3"}'),
      ]),
    );
    const [run] = (await w.migration.run(['export'])) ?? [];
    expect([run?.copied, run?.held]).toEqual([2, 1]);
    const held = await stateOf(w).held('export/watch_history', '', 10);
    expect(held[0]?.reason).toBe('bad-record'); // a MIGRATION_RECORD_INVALID, held back under skip
    expect(held[0]?.detail).toContain('line 2: not valid UTF-8');
    await w.migration.purge(['export']);
    // The kept line, byte for byte (the Latin-1 byte and its CRLF).
    expect(readFileSync(file).equals(latin1)).toBe(true);
  });

  it('migrate status --dataset shows only the selected datasets or sources', async () => {
    w = await newWorld();
    const datasets = (out: string): string[] =>
      out
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split(/\s+/)[0] ?? '');
    expect((await w.migration.status()).length).toBe(4);
    const one = await runCli('migrate', 'status', '-c', w.configPath, '--dataset', 'us-legacy-db/messages');
    expect(one.code).toBe(0);
    expect(datasets(one.out)).toEqual(['us-legacy-db/messages']);
    const source = await runCli(
      'migrate',
      'status',
      '-c',
      w.configPath,
      '--json',
      '--dataset',
      'us-legacy-db',
    );
    expect((JSON.parse(source.out) as { dataset: string }[]).map((s) => s.dataset)).toEqual([
      'us-legacy-db/profiles',
      'us-legacy-db/messages',
    ]);
  });
});
