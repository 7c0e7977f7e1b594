import { createEd25519NoteSigner } from '@custos/verify';
import { openMigrationSource } from './adapters/migration/open-migration-source.js';
import { resolvePgOptions } from './adapters/postgres/pg-connection.js';
import { PgPoolRegistry } from './adapters/postgres/pg-pools.js';
import { PostgresMigrationState } from './adapters/postgres/postgres-migration-state.js';
import { SqliteMigrationState } from './adapters/sqlite/sqlite-migration-state.js';
import type { Custos } from './composition-root.js';
import type { MigrationSpec, SourceSpec } from './domain/migration-config.js';
import type { MigrationSource } from './ports/migration-source.js';
import type { MigrationStateStore } from './ports/migration-state.js';
import { loadLedgerKeys } from './services/ledger/ledger-keys.js';
import { MigrationService } from './services/migrate/migration-service.js';
import { SubjectKeys } from './services/subject-keys.js';

/** How long the migration keeps unwrapped subject keys (it re-checks erasure per batch). */
export const MIGRATION_KEY_CACHE_MS = 10 * 60_000;

/** Opens the migration state store the configuration names (SQLite file or PostgreSQL schema). */
export async function openMigrationState(spec: MigrationSpec['state']): Promise<MigrationStateStore> {
  switch (spec.driver) {
    case 'sqlite':
      return new SqliteMigrationState(spec.path);
    case 'postgres': {
      const lease = new PgPoolRegistry().acquire(resolvePgOptions(spec.postgres));
      try {
        return await PostgresMigrationState.open({
          pool: lease.pool,
          schema: spec.postgres.schema,
          release: lease.release,
        });
      } catch (err) {
        await lease.release();
        throw err;
      }
    }
  }
}

/** Options tests inject. */
export interface MigrationOptions {
  /** Replaces the source adapters (tests). */
  readonly openSource?: (spec: SourceSpec) => Promise<MigrationSource>;
}

/**
 * Composes the migration service on an open Custos: the state store, the legacy source adapters,
 * and the custodian's ledger key as the certificate signer. Part of the composition root; kept
 * apart so that `serve` never opens migration state.
 */
export async function createMigration(
  custos: Custos,
  options: MigrationOptions = {},
): Promise<MigrationService> {
  const config = custos.config;
  const signer = await createEd25519NoteSigner(
    custos.ledger.origin,
    loadLedgerKeys(config.keys.dir).signingSeed,
  );
  const state = await openMigrationState(config.migration.state);
  return new MigrationService({
    config,
    router: custos.router,
    // Its own key cache, kept for minutes: erasure is re-checked against the store for every batch.
    subjects: new SubjectKeys(
      custos.subjectStore,
      custos.keyProvider,
      custos.clock,
      100_000,
      MIGRATION_KEY_CACHE_MS,
    ),
    subjectStore: custos.subjectStore,
    stores: custos.stores,
    ledger: custos.ledger,
    state,
    openSource: options.openSource ?? openMigrationSource,
    signer,
    clock: custos.clock,
  });
}
