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
