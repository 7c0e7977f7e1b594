import type { SourceLocation } from '../domain/migration-config.js';

/** One row of a legacy source, as parsed: field name to value. Values are untrusted. */
export type SourceRow = Readonly<Record<string, unknown>>;

/** A row read from a source, or the reason it could not be parsed. */
export interface SourceItem {
  /** Where the row is, for messages: `id=42`, `line 7`. Never a field value other than the key. */
  readonly at: string;
  /**
   * Identifies the row across runs: a database row's key value (JSON), a file line's SHA-256.
   * Held-back rows are remembered by it, so a leftover scan can tell them from rows left behind.
   */
  readonly key: string;
  readonly row: SourceRow | undefined;
  /** Set when the row cannot be parsed (malformed NDJSON line, wrong CSV column count). */
  readonly error: string | undefined;
}

/** A page of rows and the cursor to resume after its last row. */
export interface SourcePage {
  readonly items: readonly SourceItem[];
  /** Opaque resume point; undefined with an empty page. */
  readonly cursor: string | undefined;
}

/**
 * The port every legacy source implements (SQLite, PostgreSQL, NDJSON, CSV). Reads page through a
 * table or file in a stable order, resumable from an opaque cursor; deletion is confirmed row by row.
 */
export interface MigrationSource {
  readonly id: string;
  /** The next `limit` rows after `cursor` (from the start when undefined); an empty page at the end. */
  read(location: SourceLocation, cursor: string | undefined, limit: number): Promise<SourcePage>;
  /**
   * Refuses (`MIGRATION_KEY_NOT_UNIQUE`) a database table whose key column is not unique and NOT
   * NULL: rows are paged and deleted by it, so a shared or NULL key would skip or over-delete rows.
   * File sources key rows by line and accept any file.
   */
  checkKey(location: SourceLocation): Promise<void>;
  /** Number of rows (for progress and ETA, and the leftover scan's row count). */
  count(location: SourceLocation): Promise<number>;
  /** False when the table or file no longer exists (destroyed): a leftover scan then finds nothing. */
  exists(location: SourceLocation): Promise<boolean>;
  /**
   * Deletes the rows among `keys` (database sources; file sources look at every row) for which
   * `confirm` holds, in one transaction or one atomic file replacement. Resolves with the number deleted.
   */
  delete(
    location: SourceLocation,
    keys: readonly string[],
    confirm: (row: SourceRow) => boolean,
  ): Promise<number>;
  /**
   * Crypto-shreds a sealed source: destroys the key Custos holds, so no copy of it can be read
   * again. Sources without such a key refuse with `MIGRATION_SOURCE_UNAVAILABLE`.
   */
  shred(): Promise<void>;
  close(): Promise<void>;
}
