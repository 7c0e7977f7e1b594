import { mkdirSync } from 'node:fs';
import { FileKeyProvider } from './adapters/file-keys/file-key-provider.js';
import { openAdapters } from './adapters/open-adapters.js';
import { openLedgerAdapters } from './adapters/open-ledger.js';
import { openWebhookSinks } from './adapters/webhook/webhook-sink.js';
import type { CustosConfig } from './domain/config.js';
import type { AccessStore } from './ports/access-store.js';
import type { AlertSink } from './ports/alert-sink.js';
import { type Clock, systemClock } from './ports/clock.js';
import type { EgressStore } from './ports/egress-store.js';
import type { KeyProvider } from './ports/key-provider.js';
import type { RejectedEntry } from './ports/ledger-queue.js';
import type { RecordStore } from './ports/record-store.js';
import type { SubjectStore } from './ports/subject-store.js';
import { AccessService, type GrantLookup } from './services/access/access-service.js';
import { Masker } from './services/access/masking.js';
import { Authenticator } from './services/auth/authenticator.js';
import { loadEmbeddedSigningKey, type SigningKeyPair } from './services/auth/embedded-signing-key.js';
import { EgressService } from './services/egress/egress-service.js';
import { loadActivePolicies } from './services/gatekeeping/active-policies.js';
import { GatekeepingService } from './services/gatekeeping/gatekeeping-service.js';
import { LateAlerts } from './services/gatekeeping/late-alerts.js';
import { loadLedgerKeys, loadOrCreate } from './services/ledger/ledger-keys.js';
import { LedgerService } from './services/ledger/ledger-service.js';
import { createSharedLedger } from './services/ledger/sequencer-shared-ledger.js';
import { Authorizer } from './services/policy/authorizer.js';
import { CedarEngine } from './services/policy/cedar-engine.js';
import type { LoadedPolicies, PolicyText } from './services/policy/policy-set.js';
import { RecordService } from './services/record-service.js';
import { ResidencyRouter } from './services/residency-router.js';
import { type ResidencyReport, scanResidency } from './services/residency-scan.js';
import { SubjectKeys } from './services/subject-keys.js';

/** File (in the keys directory) of the custodian key behind flow pseudonyms. */
export const EGRESS_KEY_FILE = 'egress-pseudonym.key';

/** Most queue ids and reasons one `ledger.rejected` alert lists (its `count` is the whole batch). */
const MAX_ALERT_ITEMS = 100;

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
  /** The validated Cedar policy set in force (changes when a governed proposal is activated). */
  readonly policies: LoadedPolicies;
  readonly authorizer: Authorizer;
  readonly authenticator: Authenticator;
  /** Embedded mode's token signing key pair; undefined with OIDC. */
  readonly tokenKey: SigningKeyPair | undefined;
  /** The gateway: authorize, record, then serve. */
  readonly access: AccessService;
  /** Requests, quorum, grants, break-glass, governed policy changes (docs/gatekeeping.md). */
  readonly gatekeeping: GatekeepingService;
  /** Where gatekeeping keeps its state (the custody database). */
  readonly accessStore: AccessStore;
  /** The egress firewall: declared flows, exports, metering, flow governance (docs/egress.md). */
  readonly egress: EgressService;
  /** Egress volume counters and governed flows (the custody database). */
  readonly egressStore: EgressStore;
  /** Scans every registered store for misplaced records. */
  scanResidency(): Promise<ResidencyReport>;
  close(): Promise<void>;
}

/** Options that tests and tools inject. */
export interface CreateCustosOptions {
  readonly clock?: Clock;
  /** Finds valid grants for a request. Default: the gatekeeping service's lookup. */
  readonly grants?: GrantLookup;
  /** Alert sinks in addition to the configured webhooks. */
  readonly alertSinks?: readonly AlertSink[];
  /** Told about alerts a sink gave up on. */
  readonly onAlertFailure?: (sink: string, type: string, err: unknown) => void;
  /** Replaces the shipped and operator policies (tests, what-if). */
  readonly policies?: readonly PolicyText[];
  /** With a shared (PostgreSQL) ledger: contend to sequence it. Default true; tools may only queue. */
  readonly ledgerSequencer?: boolean;
}

/** The composition root: turns the configuration into adapters and services. */
export async function createCustos(config: CustosConfig, options: CreateCustosOptions = {}): Promise<Custos> {
  const clock = options.clock ?? systemClock;
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  // Webhook secrets are read first: a missing one refuses to start before anything opens.
  const sinks = [...openWebhookSinks(config.governance.webhooks, clock), ...(options.alertSinks ?? [])];
  const keyProvider = new FileKeyProvider(config.keys.dir);
  // Custody and record stores, SQLite or PostgreSQL by each one's `driver` (migrated on open).
  const { subjectStore, stores, accessStore, egressStore } = await openAdapters(config);
  const router = new ResidencyRouter(config);
  const subjects = new SubjectKeys(subjectStore, keyProvider, clock);
  const records = new RecordService(router, subjects, stores, clock);
  // Policies are validated before anything opens: an invalid policy set refuses to start.
  // The set last activated through governance, if any, else the shipped and operator policies.
  const policies = await loadActivePolicies(accessStore, config, options.policies);
  const authorizer = new Authorizer(config, new CedarEngine(policies));
  const tokenKey = config.auth.mode === 'embedded' ? loadEmbeddedSigningKey(config.keys.dir) : undefined;
  const authenticator = new Authenticator(config, clock, tokenKey?.publicKey);
  const ledgerKeys = loadLedgerKeys(config.keys.dir);
  // SQLite file, or PostgreSQL shared by several processes through a queue and one sequencer.
  const opened = await openLedgerAdapters(config);
  // The sequencer starts before the alert dispatcher exists: queue rows it refuses meanwhile (at
  // start-up, when leftovers are drained) are reported once the dispatcher is there.
  const rejectedAlerts = new LateAlerts<readonly RejectedEntry[]>((alerts, rejected) =>
    alerts.emit('ledger.rejected', {
      count: rejected.length,
      // One alert per batch: the first ids and reasons, and how many there were.
      queueIds: rejected.slice(0, MAX_ALERT_ITEMS).map((r) => String(r.id)),
      reasons: rejected.slice(0, MAX_ALERT_ITEMS).map((r) => r.reason),
    }),
  );
  const shared =
    opened.queue === undefined
      ? undefined
      : createSharedLedger(opened.queue, {
          ...config.ledger,
          ...config.ledger.sequencer,
          sequence: options.ledgerSequencer ?? true,
          onRejected: (rejected) => rejectedAlerts.emit(rejected),
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
  const gatekeeping = new GatekeepingService({
    config,
    store: accessStore,
    ledger,
    clock,
    authorizer,
    policies,
    router,
    stores,
    subjectStore,
    subjects,
    sinks,
    onAlertFailure: options.onAlertFailure,
  });
  rejectedAlerts.attach(gatekeeping.alerts);
  const access = new AccessService({
    config,
    authorizer,
    records,
    subjects,
    subjectStore,
    router,
    ledger,
    masker: new Masker(config, ledgerKeys.subjectRefKey),
    grants: options.grants ?? gatekeeping.grantLookup,
  });
  const egress = new EgressService({
    config,
    router,
    records,
    subjectStore,
    ledger,
    store: egressStore,
    alerts: gatekeeping.alerts,
    clock,
    // The custodian key behind every flow's pseudonymisation key (one HKDF derivation per flow).
    custodianKey: loadOrCreate(config.keys.dir, EGRESS_KEY_FILE),
    authorizer,
    governance: gatekeeping.governance,
    accessStore,
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
    get policies() {
      return gatekeeping.policy.policies;
    },
    authorizer,
    authenticator,
    tokenKey,
    access,
    gatekeeping,
    accessStore,
    egress,
    egressStore,
    scanResidency: () => scanResidency(config, router, stores, subjectStore),
    async close() {
      await gatekeeping.close();
      await ledger.close();
      for (const s of stores.values()) await s.close();
      await accessStore.close();
      await egressStore.close();
      await subjectStore.close();
      await keyProvider.close();
    },
  };
}
