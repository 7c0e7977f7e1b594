import { CustosError } from '../../domain/errors.js';
import type { SubjectKeyRow, SubjectRow, SubjectStore } from '../../ports/subject-store.js';
import { migrateSqlite, openSqlite, type SqliteDatabase } from './sqlite-database.js';

const MIGRATIONS = [
  `CREATE TABLE subjects (
     id TEXT PRIMARY KEY,
     jurisdiction TEXT NOT NULL,
     erased_at INTEGER
   ) WITHOUT ROWID;
   CREATE TABLE subject_keys (
     subject TEXT NOT NULL REFERENCES subjects(id),
     version INTEGER NOT NULL,
     kek_version INTEGER NOT NULL,
     wrapped BLOB NOT NULL,
     PRIMARY KEY (subject, version)
   ) WITHOUT ROWID;`,
  // The lowest KEK version new keys may be wrapped under, per jurisdiction (raised by rotations).
  `CREATE TABLE kek_floors (
     jurisdiction TEXT PRIMARY KEY,
     min_version INTEGER NOT NULL
   ) WITHOUT ROWID;`,
];

interface Row {
  id: string;
  jurisdiction: string;
  erased_at: number | null;
}

interface KeyRow {
  subject: string;
  version: number;
  kek_version: number;
  wrapped: Buffer;
}

const toSubject = (r: Row): SubjectRow => ({
  id: r.id,
  jurisdiction: r.jurisdiction,
  erasedAt: r.erased_at ?? undefined,
});

const toKeyRow = (r: KeyRow): SubjectKeyRow => ({
  subject: r.subject,
  version: r.version,
  kekVersion: r.kek_version,
  wrapped: r.wrapped,
});

function kekStale(jurisdiction: string): CustosError {
  return new CustosError('KEK_STALE', `a data key of ${jurisdiction} is wrapped under a retired KEK version`);
}

/** The SQLite adapter of the `SubjectStore` port (the custodian's key database). */
export class SqliteSubjectStore implements SubjectStore {
  private readonly db: SqliteDatabase;
  private readonly stmts;

  constructor(path: string) {
    this.db = openSqlite(path, { synchronous: 'FULL' });
    migrateSqlite(this.db, 'subjects', MIGRATIONS);
    const db = this.db;
    this.stmts = {
      get: db.prepare('SELECT * FROM subjects WHERE id = ?'),
      insert: db.prepare(
        'INSERT INTO subjects (id, jurisdiction, erased_at) VALUES (?, ?, NULL) ON CONFLICT DO NOTHING',
      ),
      insertKey: db.prepare(
        'INSERT INTO subject_keys (subject, version, kek_version, wrapped) VALUES (?, ?, ?, ?)',
      ),
      keys: db.prepare('SELECT * FROM subject_keys WHERE subject = ? ORDER BY version'),
      delKeys: db.prepare('DELETE FROM subject_keys WHERE subject = ?'),
      markErased: db.prepare('UPDATE subjects SET erased_at = ? WHERE id = ? AND erased_at IS NULL'),
      count: db.prepare('SELECT count(*) AS n FROM subjects'),
      wrappedBefore: db.prepare(
        `SELECT k.* FROM subject_keys k JOIN subjects s ON s.id = k.subject
         WHERE s.jurisdiction = ? AND k.kek_version < ? ORDER BY k.subject, k.version LIMIT ?`,
      ),
      floor: db.prepare('SELECT min_version FROM kek_floors WHERE jurisdiction = ?'),
      raiseFloor: db.prepare(
        `INSERT INTO kek_floors (jurisdiction, min_version) VALUES (?, ?)
         ON CONFLICT (jurisdiction) DO UPDATE SET min_version = max(min_version, excluded.min_version)`,
      ),
      rewrap: db.prepare(
        'UPDATE subject_keys SET kek_version = ?, wrapped = ? WHERE subject = ? AND version = ? AND kek_version = ?',
      ),
    };
  }

  async get(id: string): Promise<SubjectRow | undefined> {
    const row = this.stmts.get.get(id) as Row | undefined;
    return row ? toSubject(row) : undefined;
  }

  async getMany(ids: readonly string[]): Promise<Map<string, SubjectRow>> {
    const out = new Map<string, SubjectRow>();
    for (const id of ids) {
      const row = this.stmts.get.get(id) as Row | undefined;
      if (row) out.set(id, toSubject(row));
    }
    return out;
  }

  private insertOne(subject: SubjectRow, key: SubjectKeyRow): boolean {
    const floor = this.stmts.floor.get(subject.jurisdiction) as { min_version: number } | undefined;
    if (floor !== undefined && key.kekVersion < floor.min_version) throw kekStale(subject.jurisdiction);
    if (this.stmts.insert.run(subject.id, subject.jurisdiction).changes === 0) return false;
    this.stmts.insertKey.run(key.subject, key.version, key.kekVersion, key.wrapped);
    return true;
  }

  async create(subject: SubjectRow, key: SubjectKeyRow): Promise<boolean> {
    // IMMEDIATE: the floor is read under the write lock, so no rotation moves it in between.
    return this.db.transaction(() => this.insertOne(subject, key)).immediate();
  }

  async createMany(
    entries: readonly { readonly subject: SubjectRow; readonly key: SubjectKeyRow }[],
  ): Promise<number> {
    return this.db
      .transaction(() => entries.filter((e) => this.insertOne(e.subject, e.key)).length)
      .immediate();
  }

  async keys(id: string): Promise<SubjectKeyRow[]> {
    return (this.stmts.keys.all(id) as KeyRow[]).map(toKeyRow);
  }

  async keysWrappedBefore(jurisdiction: string, kekVersion: number, limit: number): Promise<SubjectKeyRow[]> {
    return (this.stmts.wrappedBefore.all(jurisdiction, kekVersion, limit) as KeyRow[]).map(toKeyRow);
  }

  async rewrap(row: SubjectKeyRow, fromKekVersion: number): Promise<boolean> {
    const { subject, version, kekVersion, wrapped } = row;
    return this.stmts.rewrap.run(kekVersion, wrapped, subject, version, fromKekVersion).changes > 0;
  }

  async raiseKekFloor(jurisdiction: string, kekVersion: number): Promise<void> {
    // One writer at a time: every creation before this one has committed, every later one sees it.
    this.db.transaction(() => this.stmts.raiseFloor.run(jurisdiction, kekVersion)).immediate();
  }

  async erase(id: string, at: number): Promise<boolean> {
    return this.db.transaction(() => {
      this.stmts.delKeys.run(id);
      return this.stmts.markErased.run(at, id).changes > 0;
    })();
  }

  async count(): Promise<number> {
    return (this.stmts.count.get() as { n: number }).n;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
