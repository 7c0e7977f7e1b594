import { mkdirSync } from 'node:fs';
import { FileKeyProvider } from './adapters/file-keys/file-key-provider.js';
import { openAdapters } from './adapters/open-adapters.js';
import { SqliteLedgerStore } from './adapters/sqlite/sqlite-ledger-store.js';
import type { CustosConfig } from './domain/config.js';
import { type Clock, systemClock } from './ports/clock.js';
import type { KeyProvider } from './ports/key-provider.js';
import type { RecordStore } from './ports/record-store.js';
import type { SubjectStore } from './ports/subject-store.js';
import { loadLedgerKeys } from './services/ledger/ledger-keys.js';
import { LedgerService } from './services/ledger/ledger-service.js';
import { RecordService } from './services/record-service.js';
import { ResidencyRouter } from './services/residency-router.js';
import { type ResidencyReport, scanResidency } from './services/residency-scan.js';
import { SubjectKeys } from './services/subject-keys.js';

/** Everything Custos is made of, built from one validated configuration. */
export interface Custos {
  readonly config: CustosConfig;
  readonly clock: Clock;
  readonly router: ResidencyRouter;
  readonly keyProvider: KeyProvider;
  readonly subjectStore: SubjectStore;
  readonly subjects: SubjectKeys;
  readonly stores: ReadonlyMap<string, RecordStore>;
  readonly records: RecordService;
  /** The verifiable access ledger. */
  readonly ledger: LedgerService;
  /** Scans every registered store for misplaced records. */
  scanResidency(): Promise<ResidencyReport>;
  close(): Promise<void>;
}

/** Options that tests and tools inject. */
export interface CreateCustosOptions {
  readonly clock?: Clock;
}

/** The composition root: turns the configuration into adapters and services. */
export async function createCustos(config: CustosConfig, options: CreateCustosOptions = {}): Promise<Custos> {
  const clock = options.clock ?? systemClock;
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const keyProvider = new FileKeyProvider(config.keys.dir);
  // Custody and record stores, SQLite or PostgreSQL by each one's `driver` (migrated on open).
  const { subjectStore, stores } = await openAdapters(config);
  const router = new ResidencyRouter(config);
  const subjects = new SubjectKeys(subjectStore, keyProvider, clock);
  const records = new RecordService(router, subjects, stores, clock);
  const ledger = await LedgerService.open(
    new SqliteLedgerStore(config.ledger.path, { busyTimeoutMs: config.ledger.busyTimeoutMs }),
    loadLedgerKeys(config.keys.dir),
    { ...config.ledger, clock },
  );
  return {
    config,
    clock,
    router,
    keyProvider,
    subjectStore,
    subjects,
    stores,
    records,
    ledger,
    scanResidency: () => scanResidency(config, router, stores, subjectStore),
    async close() {
      await ledger.close();
      for (const s of stores.values()) await s.close();
      await subjectStore.close();
      await keyProvider.close();
    },
  };
}
