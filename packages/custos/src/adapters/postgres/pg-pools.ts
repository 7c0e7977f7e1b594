import pg from 'pg';
import type { PgPoolOptions } from './pg-connection.js';
import type { PgPool } from './pg-types.js';

/** A pool lent by the registry; `release` ends the pool when its last user lets go. */
export interface PgPoolLease {
  readonly pool: PgPool;
  release(): Promise<void>;
}

/**
 * Shares one `pg.Pool` between stores that use the same database with the same options (each store
 * keeps its own schema, and every statement names it, so a shared connection carries no per-store
 * state). Pools are reference counted.
 */
export class PgPoolRegistry {
  private readonly pools = new Map<string, { pool: pg.Pool; users: number }>();

  /** Lends the pool for `options`, creating it on first use. */
  acquire(options: PgPoolOptions): PgPoolLease {
    const key = JSON.stringify(options);
    let entry = this.pools.get(key);
    if (!entry) {
      const pool = new pg.Pool({ ...options, query_timeout: options.query_timeout ?? 0 });
      // An idle connection that dies (server restart, network) is reported here; without a listener
      // Node would crash the process. The next query reconnects or fails with STORE_UNAVAILABLE.
      pool.on('error', () => {});
      entry = { pool, users: 0 };
      this.pools.set(key, entry);
    }
    entry.users++;
    const held = entry;
    let released = false;
    return {
      pool: held.pool,
      release: async () => {
        if (released) return;
        released = true;
        if (--held.users > 0) return;
        this.pools.delete(key);
        await held.pool.end();
      },
    };
  }
}
