import Database from 'better-sqlite3';
import type { SourceLocation } from '../../domain/migration-config.js';
import type { MigrationSource, SourcePage, SourceRow } from '../../ports/migration-source.js';
import { keyNotUnique, quoteName, sourceUnavailable, tableOf } from './source-errors.js';

/** A legacy SQLite database as a migration source: rows in key order, deleted in one transaction. */
export class SqliteMigrationSource implements MigrationSource {
  private readonly db: Database.Database;

  private constructor(
    readonly id: string,
    db: Database.Database,
  ) {
    this.db = db;
  }

  /** Opens an existing database file; a missing or unreadable file is `MIGRATION_SOURCE_UNAVAILABLE`. */
  static open(id: string, path: string): SqliteMigrationSource {
    try {
      const db = new Database(path, { fileMustExist: true });
      db.pragma('busy_timeout = 5000');
      return new SqliteMigrationSource(id, db);
    } catch (err) {
      throw sourceUnavailable(id, 'cannot open the SQLite database', err);
    }
  }

  private guard<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw sourceUnavailable(this.id, what, err);
    }
  }

  async read(location: SourceLocation, cursor: string | undefined, limit: number): Promise<SourcePage> {
    const t = quoteName(tableOf(location, this.id));
    const k = quoteName(location.keyField);
    const rows = this.guard('cannot read the table', () =>
      cursor === undefined
        ? this.db.prepare(`SELECT * FROM ${t} ORDER BY ${k} LIMIT ?`).all(limit)
        : this.db
            .prepare(`SELECT * FROM ${t} WHERE ${k} > ? ORDER BY ${k} LIMIT ?`)
            .all(JSON.parse(cursor), limit),
    ) as SourceRow[];
    const items = rows.map((row) => {
      const key = JSON.stringify(row[location.keyField] ?? null);
      return { at: `${location.keyField}=${key}`, key, row, error: undefined };
    });
    return { items, cursor: items.length === 0 ? undefined : items[items.length - 1]?.key };
  }

  async checkKey(location: SourceLocation): Promise<void> {
    const table = tableOf(location, this.id);
    const k = quoteName(location.keyField);
    const c = this.guard(
      'cannot check the id column',
      () =>
        this.db
          .prepare(
            `SELECT count(*) AS rows, count(DISTINCT ${k}) AS d, count(*) - count(${k}) AS nulls FROM ${quoteName(table)}`,
          )
          .get() as { rows: number; d: number; nulls: number },
    );
    if (c.nulls > 0 || c.d !== c.rows) {
      throw keyNotUnique(this.id, table, location.keyField, { rows: c.rows, distinct: c.d, nulls: c.nulls });
    }
  }

  async count(location: SourceLocation): Promise<number> {
    const t = quoteName(tableOf(location, this.id));
    return this.guard('cannot count the table', () =>
      Number((this.db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n),
    );
  }

  async exists(location: SourceLocation): Promise<boolean> {
    const table = tableOf(location, this.id);
    return this.guard(
      'cannot list tables',
      () =>
        this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !==
        undefined,
    );
  }

  async delete(
    location: SourceLocation,
    keys: readonly string[],
    confirm: (row: SourceRow) => boolean,
  ): Promise<number> {
    const t = quoteName(tableOf(location, this.id));
    const k = quoteName(location.keyField);
    return this.guard('cannot delete rows', () => {
      const get = this.db.prepare(`SELECT * FROM ${t} WHERE ${k} = ? LIMIT 2`);
      const del = this.db.prepare(`DELETE FROM ${t} WHERE ${k} = ?`);
      const tx = this.db.transaction(() => {
        let n = 0;
        for (const key of keys) {
          const value: unknown = JSON.parse(key);
          // The write lock is held: a key matching exactly one row deletes exactly the row confirmed.
          // A key shared by two rows (no unique constraint, a row added since) deletes nothing.
          const rows = get.all(value) as SourceRow[];
          if (rows.length === 1 && confirm(rows[0] as SourceRow)) n += del.run(value).changes;
        }
        return n;
      });
      return tx.immediate();
    });
  }

  async shred(): Promise<void> {
    throw sourceUnavailable(this.id, 'a SQLite source holds no key Custos could destroy');
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
