import { CustosError } from '../../domain/errors.js';
import { withTransaction } from './pg-transaction.js';
import type { PgPool } from './pg-types.js';

/** One migration step: SQL for the given (already quoted) schema name. */
export type PgMigration = (schema: string) => string;

/** What a migration run did: a status per component, like Kysely's `migrateToLatest()`. */
export interface PgMigrationReport {
  readonly schema: string;
  readonly component: string;
  /** Schema version found before the run (0 for a fresh database). */
  readonly from: number;
  /** Schema version after the run: the newest this code knows. */
  readonly to: number;
  /** Versions applied by this run, in order (empty when already current). */
  readonly applied: readonly number[];
}

/** Quotes a schema name for SQL. Names are validated identifiers; quoting guards anyway. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Brings `component` in `schema` to the newest version, in one transaction under an advisory lock
 * keyed by the schema, so that several processes starting at once migrate it exactly once.
 * Versions live in `<schema>.schema_version`, one row per component. A schema newer than this code
 * knows is refused with `SCHEMA_TOO_NEW`: older code must not write to tables it does not understand.
 */
export async function migratePostgres(
  pool: PgPool,
  schema: string,
  component: string,
  migrations: readonly PgMigration[],
): Promise<PgMigrationReport> {
  const q = quoteIdent(schema);
  return withTransaction(pool, async (tx) => {
    // Transaction-scoped: released at COMMIT or ROLLBACK, even if this process dies.
    await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`custos:migrate:${schema}`]);
    // Create only when missing: CREATE SCHEMA checks the CREATE privilege even when the schema exists.
    const exists = await tx.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (exists.rows.length === 0) await tx.query(`CREATE SCHEMA ${q}`);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS ${q}.schema_version (component text PRIMARY KEY, version integer NOT NULL)`,
    );
    const { rows } = await tx.query<{ version: number }>(
      `SELECT version FROM ${q}.schema_version WHERE component = $1`,
      [component],
    );
    const from = rows[0]?.version ?? 0;
    if (from > migrations.length) {
      throw new CustosError(
        'SCHEMA_TOO_NEW',
        `${component} schema in PostgreSQL schema "${schema}" is at version ${from}, newer than this Custos ` +
          `knows (${migrations.length}); it was written by a newer release. Upgrade Custos, or point it at another schema.`,
      );
    }
    const applied: number[] = [];
    for (let v = from; v < migrations.length; v++) {
      await tx.query(migrations[v]?.(q) ?? '');
      applied.push(v + 1);
    }
    await tx.query(
      `INSERT INTO ${q}.schema_version (component, version) VALUES ($1, $2)
       ON CONFLICT (component) DO UPDATE SET version = excluded.version`,
      [component, migrations.length],
    );
    return { schema, component, from, to: migrations.length, applied };
  });
}
