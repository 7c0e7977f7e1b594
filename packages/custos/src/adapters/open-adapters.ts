import type { CustodySpec, CustosConfig, StoreSpec } from '../domain/config.js';
import type { PostgresSpec } from '../domain/postgres-config.js';
import type { AccessStore } from '../ports/access-store.js';
import type { EgressStore } from '../ports/egress-store.js';
import type { RecordStore } from '../ports/record-store.js';
import type { SubjectStore } from '../ports/subject-store.js';
import { resolvePgOptions } from './postgres/pg-connection.js';
import { type PgPoolLease, PgPoolRegistry } from './postgres/pg-pools.js';
import { PostgresAccessStore } from './postgres/postgres-access-store.js';
import { PostgresEgressStore } from './postgres/postgres-egress-store.js';
import { PostgresRecordStore } from './postgres/postgres-record-store.js';
import { PostgresSubjectStore } from './postgres/postgres-subject-store.js';
import { SqliteAccessStore } from './sqlite/sqlite-access-store.js';
import { SqliteEgressStore } from './sqlite/sqlite-egress-store.js';
import { SqliteRecordStore } from './sqlite/sqlite-record-store.js';
import { SqliteSubjectStore } from './sqlite/sqlite-subject-store.js';

/** The stateful adapters chosen by the configuration's drivers. */
export interface OpenedAdapters {
  readonly subjectStore: SubjectStore;
  /** Record stores by store id, in configuration order. */
  readonly stores: Map<string, RecordStore>;
  /** Gatekeeping's requests, grants and proposals: in the custody database, beside the subjects. */
  readonly accessStore: AccessStore;
  /** Egress volume counters and governed flows: in the custody database too. */
  readonly egressStore: EgressStore;
}

async function withLease<T>(
  pools: PgPoolRegistry,
  spec: PostgresSpec,
  open: (lease: PgPoolLease) => Promise<T>,
): Promise<T> {
  const lease = pools.acquire(resolvePgOptions(spec));
  try {
    return await open(lease);
  } catch (err) {
    await lease.release();
    throw err;
  }
}

function openRecordStore(spec: StoreSpec, pools: PgPoolRegistry): Promise<RecordStore> {
  switch (spec.driver) {
    case 'sqlite':
      return Promise.resolve(new SqliteRecordStore(spec.id, spec.path));
    case 'postgres':
      return withLease(pools, spec.postgres, (lease) =>
        PostgresRecordStore.open(spec.id, {
          pool: lease.pool,
          schema: spec.postgres.schema,
          release: lease.release,
        }),
      );
  }
}

function openSubjectStore(spec: CustodySpec, pools: PgPoolRegistry): Promise<SubjectStore> {
  switch (spec.driver) {
    case 'sqlite':
      return Promise.resolve(new SqliteSubjectStore(spec.path));
    case 'postgres':
      return withLease(pools, spec.postgres, (lease) =>
        PostgresSubjectStore.open({ pool: lease.pool, schema: spec.postgres.schema, release: lease.release }),
      );
  }
}

function openAccessStore(spec: CustodySpec, pools: PgPoolRegistry): Promise<AccessStore> {
  switch (spec.driver) {
    case 'sqlite':
      return Promise.resolve(new SqliteAccessStore(spec.path));
    case 'postgres':
      return withLease(pools, spec.postgres, (lease) =>
        PostgresAccessStore.open({ pool: lease.pool, schema: spec.postgres.schema, release: lease.release }),
      );
  }
}

function openEgressStore(spec: CustodySpec, pools: PgPoolRegistry): Promise<EgressStore> {
  switch (spec.driver) {
    case 'sqlite':
      return Promise.resolve(new SqliteEgressStore(spec.path));
    case 'postgres':
      return withLease(pools, spec.postgres, (lease) =>
        PostgresEgressStore.open({ pool: lease.pool, schema: spec.postgres.schema, release: lease.release }),
      );
  }
}

/**
 * Opens the custody store and every record store with the adapter its `driver` names, running
 * schema migrations. Stores on the same PostgreSQL database with the same options share one pool.
 * If any store fails to open, the ones already open are closed before the error propagates.
 */
export async function openAdapters(config: CustosConfig): Promise<OpenedAdapters> {
  const pools = new PgPoolRegistry();
  const opened: { close(): Promise<void> }[] = [];
  try {
    const subjectStore = await openSubjectStore(config.custody, pools);
    opened.push(subjectStore);
    const accessStore = await openAccessStore(config.custody, pools);
    opened.push(accessStore);
    const egressStore = await openEgressStore(config.custody, pools);
    opened.push(egressStore);
    const stores = new Map<string, RecordStore>();
    for (const spec of config.stores) {
      const store = await openRecordStore(spec, pools);
      opened.push(store);
      stores.set(spec.id, store);
    }
    return { subjectStore, stores, accessStore, egressStore };
  } catch (err) {
    for (const s of opened.reverse()) await s.close().catch(() => {});
    throw err;
  }
}
