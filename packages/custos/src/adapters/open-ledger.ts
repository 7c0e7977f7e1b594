import type { CustosConfig } from '../domain/config.js';
import { CustosError } from '../domain/errors.js';
import type { LedgerQueue } from '../ports/ledger-queue.js';
import type { LedgerStore } from '../ports/ledger-store.js';
import { resolvePgOptions } from './postgres/pg-connection.js';
import { pgSessionFactory } from './postgres/pg-ledger-session.js';
import { PgPoolRegistry } from './postgres/pg-pools.js';
import { PostgresLedgerQueue } from './postgres/postgres-ledger-queue.js';
import { PostgresLedgerStore } from './postgres/postgres-ledger-store.js';
import { SqliteLedgerStore } from './sqlite/sqlite-ledger-store.js';
import { WorkerSqliteLedgerStore } from './sqlite/worker-sqlite-ledger-store.js';

/** The ledger's adapters: its store and, when several processes share it, the shared queue. */
export interface OpenedLedger {
  readonly store: LedgerStore;
  /** Set for a PostgreSQL ledger (multi-instance mode); undefined for SQLite. */
  readonly queue: LedgerQueue | undefined;
}

/**
 * Opens the ledger store named by `ledger.driver`: the SQLite file, or the PostgreSQL schema
 * (migrated on open) with its queue. The PostgreSQL ledger has a pool of its own: its writes must
 * not wait behind record traffic.
 */
export async function openLedgerAdapters(config: CustosConfig): Promise<OpenedLedger> {
  const ledger = config.ledger;
  switch (ledger.driver) {
    case 'sqlite':
      return {
        // The writer thread keeps each commit's fsync off the thread that serves requests.
        store: ledger.writerThread
          ? new WorkerSqliteLedgerStore(ledger.path, { busyTimeoutMs: ledger.busyTimeoutMs })
          : new SqliteLedgerStore(ledger.path, { busyTimeoutMs: ledger.busyTimeoutMs }),
        queue: undefined,
      };
    case 'postgres': {
      const spec = ledger.postgres;
      if (spec === undefined) throw new CustosError('CONFIG_INVALID', 'ledger.postgres: required');
      const options = resolvePgOptions(spec);
      const lease = new PgPoolRegistry().acquire(options);
      try {
        const store = await PostgresLedgerStore.open({
          pool: lease.pool,
          schema: spec.schema,
          release: lease.release,
        });
        const queue = new PostgresLedgerQueue({
          pool: lease.pool,
          schema: spec.schema,
          sql: store.sql,
          sessions: pgSessionFactory(options),
        });
        return { store, queue };
      } catch (err) {
        await lease.release();
        throw err;
      }
    }
  }
}
