import type Database from 'better-sqlite3';
import type { SqliteDatabase } from './sqlite-database.js';

/** A prepared better-sqlite3 statement. */
export type SqliteStatement = Database.Statement<unknown[]>;

/**
 * Returns a function that prepares each SQL text once and reuses it afterwards (the grant lookup
 * runs on every gateway request; compiling it each time would dominate).
 */
export function statementCache(db: SqliteDatabase): (sql: string) => SqliteStatement {
  const statements = new Map<string, SqliteStatement>();
  return (sql) => {
    let s = statements.get(sql);
    if (s === undefined) {
      s = db.prepare(sql);
      statements.set(sql, s);
    }
    return s;
  };
}
