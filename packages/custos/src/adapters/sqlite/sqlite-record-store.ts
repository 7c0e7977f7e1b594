import { CustosError } from '../../domain/errors.js';
import type { ListQuery, RecordLocation, RecordStore, StoredRecord } from '../../ports/record-store.js';
import { migrateSqlite, openSqlite, type SqliteDatabase } from './sqlite-database.js';

const MIGRATIONS = [
  `CREATE TABLE records (
     collection TEXT NOT NULL,
     subject TEXT NOT NULL,
     id TEXT NOT NULL,
     key_version INTEGER NOT NULL,
     sealed BLOB NOT NULL,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (collection, subject, id)
   ) WITHOUT ROWID`,
];

interface Row {
  collection: string;
  subject: string;
  id: string;
  key_version: number;
  sealed: Buffer;
  updated_at: number;
}

function toRecord(row: Row): StoredRecord {
  return {
    subject: row.subject,
    collection: row.collection,
    id: row.id,
    keyVersion: row.key_version,
    sealed: row.sealed,
    updatedAt: row.updated_at,
  };
}

/** Point reads share one read snapshot for at most this many reads or one event-loop turn. */
const MAX_READS_PER_SNAPSHOT = 1000;

/**
 * The SQLite adapter of the `RecordStore` port: one file per store.
 *
 * Point reads run inside a short read transaction that is released at the next event-loop turn (or
 * after MAX_READS_PER_SNAPSHOT reads), which halves SQLite's per-read cost. Every write first ends
 * that snapshot, so a write is never held inside an uncommitted transaction and this process always
 * reads its own writes; other processes' writes become visible at the next turn.
 */
export class SqliteRecordStore implements RecordStore {
  readonly id: string;
  private readonly db: SqliteDatabase;
  private readonly stmts;
  private snapshotReads = 0;
  private snapshotOpen = false;

  constructor(id: string, path: string) {
    this.id = id;
    this.db = openSqlite(path);
    migrateSqlite(this.db, 'records', MIGRATIONS);
    const db = this.db;
    this.stmts = {
      put: db.prepare(
        `INSERT INTO records (collection, subject, id, key_version, sealed, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (collection, subject, id) DO UPDATE SET key_version = excluded.key_version,
           sealed = excluded.sealed, updated_at = excluded.updated_at`,
      ),
      insert: db.prepare(
        `INSERT INTO records (collection, subject, id, key_version, sealed, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (collection, subject, id) DO NOTHING`,
      ),
      replace: db.prepare(
        `UPDATE records SET key_version = ?, sealed = ?, updated_at = ?
         WHERE collection = ? AND subject = ? AND id = ? AND sealed = ?`,
      ),
      // Point reads fetch only what the caller lacks, as an array: half the cost of `SELECT *` objects.
      get: db
        .prepare(
          'SELECT key_version, sealed, updated_at FROM records WHERE collection = ? AND subject = ? AND id = ?',
        )
        .raw(true),
      del: db.prepare('DELETE FROM records WHERE collection = ? AND subject = ? AND id = ?'),
      listAll: db.prepare(
        'SELECT * FROM records WHERE collection = ? AND (subject, id) > (?, ?) ORDER BY subject, id LIMIT ?',
      ),
      listSubject: db.prepare(
        'SELECT * FROM records WHERE collection = ? AND subject = ? AND id > ? ORDER BY id LIMIT ?',
      ),
      scan: db.prepare(
        `SELECT collection, subject, id FROM records WHERE (collection, subject, id) > (?, ?, ?)
         ORDER BY collection, subject, id LIMIT ?`,
      ),
    };
  }

  private beginRead(): void {
    if (this.snapshotOpen) {
      if (++this.snapshotReads < MAX_READS_PER_SNAPSHOT) return;
      this.endRead();
    }
    this.db.exec('BEGIN');
    this.snapshotOpen = true;
    this.snapshotReads = 0;
    setImmediate(() => this.endRead());
  }

  private endRead(): void {
    if (!this.snapshotOpen) return;
    this.snapshotOpen = false;
    if (this.db.open && this.db.inTransaction) this.db.exec('COMMIT');
  }

  private write(r: StoredRecord): void {
    this.stmts.put.run(r.collection, r.subject, r.id, r.keyVersion, r.sealed, r.updatedAt);
  }

  async put(record: StoredRecord): Promise<void> {
    this.endRead();
    this.write(record);
  }

  async putMany(records: readonly StoredRecord[]): Promise<void> {
    this.endRead();
    this.db.transaction(() => {
      for (const r of records) this.write(r);
    })();
  }

  async insertNew(records: readonly StoredRecord[]): Promise<boolean[]> {
    this.endRead();
    const insert = this.stmts.insert;
    return this.db.transaction(() =>
      records.map(
        (r) => insert.run(r.collection, r.subject, r.id, r.keyVersion, r.sealed, r.updatedAt).changes > 0,
      ),
    )();
  }

  async replace(r: StoredRecord, expected: Uint8Array): Promise<boolean> {
    this.endRead();
    const changed = this.stmts.replace.run(
      r.keyVersion,
      r.sealed,
      r.updatedAt,
      r.collection,
      r.subject,
      r.id,
      expected,
    ).changes;
    return changed > 0;
  }

  async get(subject: string, collection: string, id: string): Promise<StoredRecord | undefined> {
    return this.getNow(subject, collection, id);
  }

  getNow(subject: string, collection: string, id: string): StoredRecord | undefined {
    this.beginRead();
    const row = this.stmts.get.get(collection, subject, id) as [number, Buffer, number] | undefined;
    return row
      ? { subject, collection, id, keyVersion: row[0], sealed: row[1], updatedAt: row[2] }
      : undefined;
  }

  async delete(subject: string, collection: string, id: string): Promise<boolean> {
    this.endRead();
    return this.stmts.del.run(collection, subject, id).changes > 0;
  }

  async list(query: ListQuery): Promise<StoredRecord[]> {
    const rows =
      query.subject === undefined
        ? this.stmts.listAll.all(
            query.collection,
            query.after?.subject ?? '',
            query.after?.id ?? '',
            query.limit,
          )
        : this.stmts.listSubject.all(query.collection, query.subject, query.after?.id ?? '', query.limit);
    return (rows as Row[]).map(toRecord);
  }

  async scan(after: RecordLocation | undefined, limit: number): Promise<RecordLocation[]> {
    return this.stmts.scan.all(
      after?.collection ?? '',
      after?.subject ?? '',
      after?.id ?? '',
      limit,
    ) as RecordLocation[];
  }

  /**
   * Commits run with `synchronous = NORMAL` (WAL): durable against a process crash, not yet against
   * power loss. A FULL checkpoint fsyncs the WAL and copies it into the database file.
   */
  async sync(): Promise<void> {
    this.endRead();
    for (let attempt = 0; ; attempt++) {
      const [r] = this.db.pragma('wal_checkpoint(FULL)') as { busy: number }[];
      if (r === undefined || r.busy === 0) return;
      if (attempt >= 50) {
        throw new CustosError('STORE_UNAVAILABLE', `store "${this.id}": cannot checkpoint (readers busy)`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async close(): Promise<void> {
    this.endRead();
    if (this.db.open) this.db.close();
  }
}
