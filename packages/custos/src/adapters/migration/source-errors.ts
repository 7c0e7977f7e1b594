import { CustosError } from '../../domain/errors.js';

/** The coded error for a source that cannot be read or written; names the source, never a secret. */
export function sourceUnavailable(source: string, what: string, cause?: unknown): CustosError {
  return new CustosError('MIGRATION_SOURCE_UNAVAILABLE', `migration source "${source}": ${what}`, {
    cause,
    details: [`source ${source}: ${what}`],
  });
}

/** Quotes an identifier (table or column name) for SQL. */
export function quoteName(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The table of a database location; config validation guarantees one. */
export function tableOf(location: { readonly table: string | undefined }, source: string): string {
  if (location.table === undefined) throw sourceUnavailable(source, 'dataset has no table');
  return location.table;
}

/**
 * The coded error for a database dataset whose id column cannot identify one row: paging by it
 * (`WHERE id > cursor`) would skip rows sharing a key, and deleting by it would remove rows never
 * verified. Names the source, table and column.
 */
export function keyNotUnique(
  source: string,
  table: string,
  column: string,
  counts: { rows: number; distinct: number; nulls: number },
): CustosError {
  const why = `id column "${column}" of table "${table}" is not unique and NOT NULL (${counts.rows} rows, ${counts.distinct} distinct ids, ${counts.nulls} NULL)`;
  return new CustosError('MIGRATION_KEY_NOT_UNIQUE', `migration source "${source}": ${why}`, {
    details: [`source ${source}: ${why}`],
  });
}
