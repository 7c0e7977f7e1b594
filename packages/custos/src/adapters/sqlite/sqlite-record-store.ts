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

/** The SQLite adapter of the `RecordStore` port: one file per store. */
export class SqliteRecordStore implements RecordStore {
  readonly id: string;
  private readonly db: SqliteDatabase;
  private readonly stmts;

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
      get: db.prepare('SELECT * FROM records WHERE collection = ? AND subject = ? AND id = ?'),
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

  private write(r: StoredRecord): void {
    this.stmts.put.run(r.collection, r.subject, r.id, r.keyVersion, r.sealed, r.updatedAt);
  }

  async put(record: StoredRecord): Promise<void> {
    this.write(record);
  }

  async putMany(records: readonly StoredRecord[]): Promise<void> {
    this.db.transaction(() => {
      for (const r of records) this.write(r);
    })();
  }

  async get(subject: string, collection: string, id: string): Promise<StoredRecord | undefined> {
    const row = this.stmts.get.get(collection, subject, id) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  async delete(subject: string, collection: string, id: string): Promise<boolean> {
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

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
