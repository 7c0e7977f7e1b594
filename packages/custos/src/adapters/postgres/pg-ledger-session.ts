import pg from 'pg';
import type { PgPoolOptions } from './pg-connection.js';
import type { PgQueryable } from './pg-types.js';

/** A dedicated connection (not pooled): it holds session state such as an advisory lock or LISTEN. */
export interface PgSessionClient extends PgQueryable {
  on(
    event: 'notification',
    listener: (message: { channel: string; payload?: string | undefined }) => void,
  ): unknown;
  on(event: 'end', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  end(): Promise<void>;
}

/** Opens dedicated connections for one role (`sequencer`, `listener`). */
export type PgSessionFactory = (role: string) => Promise<PgSessionClient>;

/**
 * Dedicated connections with the store's resolved options. The application name carries the role
 * and the process id, so an operator (or a test) can see in `pg_stat_activity` which process sequences.
 */
export function pgSessionFactory(options: PgPoolOptions): PgSessionFactory {
  return async (role) => {
    const client = new pg.Client({
      connectionString: options.connectionString,
      statement_timeout: options.statement_timeout,
      query_timeout: options.query_timeout,
      connectionTimeoutMillis: options.connectionTimeoutMillis,
      keepAlive: true,
      keepAliveInitialDelayMillis: 1000,
      application_name: `custos-${role}/${process.pid}`,
      ssl: options.ssl,
    });
    // A lost connection is reported as 'end' to the session's owner; without an 'error' listener
    // Node would crash the process.
    client.on('error', () => {});
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => {});
      throw err;
    }
    return client;
  };
}
