import { mkdirSync } from 'node:fs';
import { FileKeyProvider } from './adapters/file-keys/file-key-provider.js';
import { openAdapters } from './adapters/open-adapters.js';
import { openLedgerAdapters } from './adapters/open-ledger.js';
import type { CustosConfig } from './domain/config.js';
import { type Clock, systemClock } from './ports/clock.js';
import type { KeyProvider } from './ports/key-provider.js';
import type { RecordStore } from './ports/record-store.js';
import type { SubjectStore } from './ports/subject-store.js';
import { AccessService, type GrantLookup } from './services/access/access-service.js';
import { Masker } from './services/access/masking.js';
import { Authenticator } from './services/auth/authenticator.js';
import { loadEmbeddedSigningKey, type SigningKeyPair } from './services/auth/embedded-signing-key.js';
import { loadLedgerKeys } from './services/ledger/ledger-keys.js';
import { LedgerService } from './services/ledger/ledger-service.js';
import { createSharedLedger } from './services/ledger/sequencer-shared-ledger.js';
import { Authorizer } from './services/policy/authorizer.js';
import { CedarEngine } from './services/policy/cedar-engine.js';
import { type LoadedPolicies, loadPolicies, type PolicyText } from './services/policy/policy-set.js';
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
  /** The validated Cedar policy set in force. */
  readonly policies: LoadedPolicies;
  readonly authorizer: Authorizer;
  readonly authenticator: Authenticator;
  /** Embedded mode's token signing key pair; undefined with OIDC. */
  readonly tokenKey: SigningKeyPair | undefined;
  /** The gateway: authorize, record, then serve. */
  readonly access: AccessService;
  /** Scans every registered store for misplaced records. */
  scanResidency(): Promise<ResidencyReport>;
  close(): Promise<void>;
}

/** Options that tests and tools inject. */
export interface CreateCustosOptions {
  readonly clock?: Clock;
  /** Finds valid grants for a request; the gatekeeping service plugs in here. Default: none. */
  readonly grants?: GrantLookup;
  /** Replaces the shipped and operator policies (tests, what-if). */
  readonly policies?: readonly PolicyText[];
  /** With a shared (PostgreSQL) ledger: contend to sequence it. Default true; tools may only queue. */
  readonly ledgerSequencer?: boolean;
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
  // Policies are validated before anything opens: an invalid policy set refuses to start.
  const policies = loadPolicies(config.policy.dir, options.policies);
  const authorizer = new Authorizer(config, new CedarEngine(policies));
  const tokenKey = config.auth.mode === 'embedded' ? loadEmbeddedSigningKey(config.keys.dir) : undefined;
  const authenticator = new Authenticator(config, clock, tokenKey?.publicKey);
  const ledgerKeys = loadLedgerKeys(config.keys.dir);
  // SQLite file, or PostgreSQL shared by several processes through a queue and one sequencer.
  const opened = await openLedgerAdapters(config);
  const shared =
    opened.queue === undefined
      ? undefined
      : createSharedLedger(opened.queue, {
          ...config.ledger,
          ...config.ledger.sequencer,
          sequence: options.ledgerSequencer ?? true,
        });
  const ledger = await LedgerService.open(opened.store, ledgerKeys, {
    ...config.ledger,
    clock,
    shared,
  }).catch(async (err: unknown) => {
    await shared?.close();
    await opened.store.close();
    throw err;
  });
  const access = new AccessService({
    config,
    authorizer,
    records,
    subjects,
    subjectStore,
    router,
    ledger,
    masker: new Masker(config, ledgerKeys.subjectRefKey),
    grants: options.grants ?? (async () => undefined),
  });
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
    policies,
    authorizer,
    authenticator,
    tokenKey,
    access,
    scanResidency: () => scanResidency(config, router, stores, subjectStore),
    async close() {
      await ledger.close();
      for (const s of stores.values()) await s.close();
      await subjectStore.close();
      await keyProvider.close();
    },
  };
}
