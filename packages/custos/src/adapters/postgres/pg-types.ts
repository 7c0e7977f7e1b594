/**
 * The part of `pg` the PostgreSQL adapters use (after Kysely's `PostgresPool`): a pool that runs
 * one-shot queries and lends clients for transactions. Tests and other drivers can supply their own.
 */
export interface PgQueryResult<R> {
  readonly rows: R[];
  readonly rowCount: number | null;
}

/** A query; with a `name`, `pg` prepares it once per connection and reuses the plan. */
export interface PgQueryConfig {
  readonly name?: string;
  readonly text: string;
  readonly values?: unknown[];
}

/** Anything that runs a parameterised query. */
export interface PgQueryable {
  query<R = Record<string, unknown>>(
    query: string | PgQueryConfig,
    values?: unknown[],
  ): Promise<PgQueryResult<R>>;
}

/** A connection lent by the pool; `release(err)` with an error discards a broken connection. */
export interface PgPoolClient extends PgQueryable {
  release(err?: Error | boolean): void;
}

/** A connection pool. */
export interface PgPool extends PgQueryable {
  connect(): Promise<PgPoolClient>;
  end(): Promise<void>;
}
