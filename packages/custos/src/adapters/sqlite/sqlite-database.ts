import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/** A better-sqlite3 handle, as the adapters use it. */
export type SqliteDatabase = Database.Database;

/** Options for opening a SQLite file. */
export interface OpenSqliteOptions {
  /** `FULL` for the ledger (every commit durable), `NORMAL` for record stores. */
  readonly synchronous?: 'FULL' | 'NORMAL';
  readonly busyTimeoutMs?: number;
  readonly readonly?: boolean;
  /**
   * Page size in bytes for a database this call creates (SQLite fixes it when the first table is
   * written and, in WAL mode, for good); an existing database keeps its own.
   */
  readonly pageSize?: number;
}

/** Opens (creating if needed) a SQLite file in WAL mode with the pragmas Custos relies on. */
export function openSqlite(path: string, options: OpenSqliteOptions = {}): SqliteDatabase {
  if (!options.readonly && path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = new Database(path, { readonly: options.readonly ?? false });
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
  if (!options.readonly) {
    // Must come before WAL mode; ignored by a database that already has pages.
    if (options.pageSize !== undefined) db.pragma(`page_size = ${options.pageSize}`);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
  }
  db.pragma('foreign_keys = ON');
  return db;
}

/**
 * Applies numbered migrations inside a transaction and records the version in `schema_version`.
 * Refuses to open a database whose schema is newer than this code knows.
 */
export function migrateSqlite(db: SqliteDatabase, name: string, migrations: readonly string[]): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (component TEXT PRIMARY KEY, version INTEGER NOT NULL)');
  const apply = db.transaction(() => {
    const row = db.prepare('SELECT version FROM schema_version WHERE component = ?').get(name) as
      | { version: number }
      | undefined;
    const current = row?.version ?? 0;
    if (current > migrations.length) {
      throw new Error(
        `${name} schema version ${current} is newer than this Custos (knows ${migrations.length}); upgrade Custos`,
      );
    }
    for (let v = current; v < migrations.length; v++) db.exec(migrations[v] ?? '');
    db.prepare(
      'INSERT INTO schema_version (component, version) VALUES (?, ?) ON CONFLICT(component) DO UPDATE SET version = excluded.version',
    ).run(name, migrations.length);
  });
  apply.immediate();
}
