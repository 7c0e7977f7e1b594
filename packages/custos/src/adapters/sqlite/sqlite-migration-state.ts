import { closeSync, openSync, readFileSync, realpathSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CustosError } from '../../domain/errors.js';
import type {
  DatasetState,
  HeldRecord,
  MigratedRecord,
  MigrationStateStore,
} from '../../ports/migration-state.js';
import { migrateSqlite, openSqlite, type SqliteDatabase } from './sqlite-database.js';

const MIGRATIONS = [
  `CREATE TABLE migration_datasets (dataset TEXT PRIMARY KEY, state TEXT NOT NULL);
   CREATE TABLE migration_records (
     dataset TEXT NOT NULL, seq INTEGER NOT NULL, source_key TEXT NOT NULL, subject TEXT NOT NULL,
     id TEXT NOT NULL, digest BLOB NOT NULL, store TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (dataset, seq)) WITHOUT ROWID;
   CREATE TABLE migration_held (
     dataset TEXT NOT NULL, source_key TEXT NOT NULL, at TEXT NOT NULL, reason TEXT NOT NULL,
     detail TEXT NOT NULL, PRIMARY KEY (dataset, source_key)) WITHOUT ROWID;`,
];

interface RecordRow {
  seq: number;
  source_key: string;
  subject: string;
  id: string;
  digest: Buffer;
  store: string;
  deleted: number;
}

/** Converts a stored record row. */
export function toMigratedRecord(r: RecordRow): MigratedRecord {
  return {
    seq: Number(r.seq),
    sourceKey: r.source_key,
    subject: r.subject,
    id: r.id,
    digest: new Uint8Array(r.digest),
    store: r.store,
    deleted: Boolean(r.deleted),
  };
}

/** Lock files (real paths) held by this process (its main thread: module state is per thread). */
const heldHere = new Map<string, symbol>();

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8'));
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const WHICH = { copied: 'AND deleted = 0', deleted: 'AND deleted = 1', all: '' } as const;

/** The SQLite adapter of `MigrationStateStore` (`synchronous = FULL`: a committed checkpoint survives power loss). */
export class SqliteMigrationState implements MigrationStateStore {
  private readonly db: SqliteDatabase;
  private readonly stmts;

  constructor(private readonly path: string) {
    this.db = openSqlite(path, { synchronous: 'FULL' });
    migrateSqlite(this.db, 'migration', MIGRATIONS);
    const db = this.db;
    this.stmts = {
      get: db.prepare('SELECT state FROM migration_datasets WHERE dataset = ?').pluck(),
      all: db.prepare('SELECT state FROM migration_datasets ORDER BY dataset').pluck(),
      save: db.prepare(
        'INSERT INTO migration_datasets (dataset, state) VALUES (?, ?) ON CONFLICT (dataset) DO UPDATE SET state = excluded.state',
      ),
      insert: db.prepare(
        `INSERT INTO migration_records (dataset, seq, source_key, subject, id, digest, store)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ),
      hold: db.prepare(
        `INSERT INTO migration_held (dataset, source_key, at, reason, detail) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (dataset, source_key) DO UPDATE SET at = excluded.at, reason = excluded.reason, detail = excluded.detail`,
      ),
      release: db.prepare('DELETE FROM migration_held WHERE dataset = ? AND source_key = ?'),
      held: db.prepare(
        'SELECT source_key, at, reason, detail FROM migration_held WHERE dataset = ? AND source_key > ? ORDER BY source_key LIMIT ?',
      ),
      countHeld: db.prepare('SELECT count(*) FROM migration_held WHERE dataset = ?').pluck(),
      markDeleted: db.prepare('UPDATE migration_records SET deleted = 1 WHERE dataset = ? AND seq = ?'),
      records: Object.fromEntries(
        Object.entries(WHICH).map(([k, cond]) => [
          k,
          db.prepare(
            `SELECT seq, source_key, subject, id, digest, store, deleted FROM migration_records
             WHERE dataset = ? AND seq > ? ${cond} ORDER BY seq LIMIT ?`,
          ),
        ]),
      ),
    };
  }

  private put(state: DatasetState): void {
    this.stmts.save.run(state.dataset, JSON.stringify(state));
  }

  async dataset(id: string): Promise<DatasetState | undefined> {
    const text = this.stmts.get.get(id) as string | undefined;
    return text === undefined ? undefined : (JSON.parse(text) as DatasetState);
  }

  async datasets(): Promise<DatasetState[]> {
    return (this.stmts.all.all() as string[]).map((t) => JSON.parse(t) as DatasetState);
  }

  async commitCopy(
    state: DatasetState,
    records: readonly MigratedRecord[],
    held: readonly HeldRecord[],
    released: readonly string[],
  ): Promise<void> {
    this.db.transaction(() => {
      for (const r of records) {
        this.stmts.insert.run(state.dataset, r.seq, r.sourceKey, r.subject, r.id, r.digest, r.store);
      }
      for (const h of held) this.stmts.hold.run(state.dataset, h.sourceKey, h.at, h.reason, h.detail);
      for (const k of released) this.stmts.release.run(state.dataset, k);
      this.put(state);
    })();
  }

  async records(
    dataset: string,
    afterSeq: number,
    limit: number,
    which: 'copied' | 'deleted' | 'all',
  ): Promise<MigratedRecord[]> {
    const stmt = this.stmts.records[which];
    return ((stmt?.all(dataset, afterSeq, limit) ?? []) as RecordRow[]).map(toMigratedRecord);
  }

  async held(dataset: string, afterKey: string, limit: number): Promise<HeldRecord[]> {
    return (
      this.stmts.held.all(dataset, afterKey, limit) as {
        source_key: string;
        at: string;
        reason: HeldRecord['reason'];
        detail: string;
      }[]
    ).map((r) => ({ sourceKey: r.source_key, at: r.at, reason: r.reason, detail: r.detail }));
  }

  async countHeld(dataset: string): Promise<number> {
    return Number(this.stmts.countHeld.get(dataset));
  }

  async commitDelete(state: DatasetState, seqs: readonly number[]): Promise<void> {
    this.db.transaction(() => {
      for (const s of seqs) this.stmts.markDeleted.run(state.dataset, s);
      this.put(state);
    })();
  }

  async save(state: DatasetState): Promise<void> {
    this.put(state);
  }

  /**
   * A lock file next to the database, created with O_EXCL and holding the owner's pid. A file left
   * by a process that no longer exists (killed) is taken over.
   */
  async lock(): Promise<() => Promise<void>> {
    // The real path: two names for one database (a symlink, a bind mount) are one lock.
    const file = join(realpathSync(dirname(resolve(this.path))), `${basename(this.path)}.lock`);
    // The pid in the file cannot tell two holders in this process apart: they are counted here.
    if (!heldHere.has(file)) {
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          const fd = openSync(file, 'wx', 0o600);
          writeSync(fd, String(process.pid));
          closeSync(fd);
          const mine = Symbol(file);
          heldHere.set(file, mine);
          return async () => {
            // Only this holder's own release frees the lock, and only once.
            if (heldHere.get(file) !== mine) return;
            heldHere.delete(file);
            if (readPid(file) === process.pid) rmSync(file, { force: true });
          };
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
          const pid = readPid(file);
          // Our own pid on a file this process does not hold: left by a dead process whose pid was reused.
          if (pid !== undefined && pid !== process.pid && alive(pid)) break;
          rmSync(file, { force: true });
        }
      }
    }
    throw new CustosError(
      'MIGRATION_BUSY',
      `another migration process (pid ${readPid(file) ?? '?'}) holds ${file}`,
    );
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
