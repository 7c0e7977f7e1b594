import type { Category, Mask, OrgKind, RawConfig } from './config-schema.js';
import type { EgressSpec } from './egress-config.js';
import type { GovernanceSpec } from './governance-config.js';
import type { MigrationSpec } from './migration-config.js';
import type { PostgresSpec } from './postgres-config.js';

/** A collection field with its (defaulted) classification. */
export interface FieldSpec {
  readonly name: string;
  readonly classification: Category;
}

/** A collection after normalisation: every field has a classification. */
export interface CollectionSpec {
  readonly id: string;
  readonly category: Category;
  readonly fields: readonly FieldSpec[];
}

/** Where the ledger lives: a SQLite file (`path`), or PostgreSQL shared by several processes. */
export interface LedgerStorageSpec {
  readonly driver: 'sqlite' | 'postgres';
  /** Set when `driver` is `postgres`. */
  readonly postgres: PostgresSpec | undefined;
  /** Multi-instance settings (used with `postgres`), defaults filled in. */
  readonly sequencer: {
    readonly lockRetryMs: number;
    readonly pollMs: number;
    readonly ackTimeoutMs: number;
    readonly retainMs: number;
  };
}

/** A store declaration: a SQLite file or a PostgreSQL schema. */
export type StoreSpec = SqliteStoreSpec | PostgresStoreSpec;

/** A record store in a SQLite file. */
export interface SqliteStoreSpec {
  readonly id: string;
  readonly driver: 'sqlite';
  readonly site: string;
  /** Absolute path of the SQLite file. */
  readonly path: string;
}

/** A record store in a PostgreSQL schema. */
export interface PostgresStoreSpec {
  readonly id: string;
  readonly driver: 'postgres';
  readonly site: string;
  /** Absent: lets callers read `spec.path` on any store without narrowing. */
  readonly path?: undefined;
  readonly postgres: PostgresSpec;
}

/** Where the custody store (subjects and wrapped keys) lives. */
export type CustodySpec =
  | { readonly driver: 'sqlite' /** Absolute path of the SQLite file. */; readonly path: string }
  | { readonly driver: 'postgres'; readonly postgres: PostgresSpec };

/** A declared principal (person or service) acting for an organisation. */
export interface PrincipalSpec {
  readonly id: string;
  readonly org: string;
  readonly orgKind: OrgKind;
  readonly roles: readonly string[];
  readonly kind: 'person' | 'service';
  readonly jurisdiction: string | undefined;
}

/** A jurisdiction and what of it the parent may see. */
export interface JurisdictionSpec {
  readonly id: string;
  readonly name: string | undefined;
  readonly ringFenced: boolean;
  readonly shareableWithParent: readonly Category[];
}

/** A masking rule; absent lists match everything. */
export interface MaskingRule {
  readonly roles?: readonly string[] | undefined;
  readonly orgKinds?: readonly OrgKind[] | undefined;
  readonly purposes?: readonly string[] | undefined;
  readonly collections?: readonly string[] | undefined;
  readonly fields: readonly string[];
  readonly mask: Mask;
}

/** The validated, normalised, frozen configuration every service is built from. */
export interface CustosConfig {
  /** Absolute path of the data directory. */
  readonly dataDir: string;
  readonly server: RawConfig['server'];
  readonly keys: { readonly provider: 'file'; readonly dir: string };
  readonly ledger: Omit<RawConfig['ledger'], 'driver' | 'postgres' | 'sequencer'> & {
    readonly origin: string;
    readonly path: string;
  } & LedgerStorageSpec;
  readonly jurisdictions: readonly JurisdictionSpec[];
  readonly auth: RawConfig['auth'];
  readonly purposes: readonly {
    readonly id: string;
    readonly description?: string | undefined;
    readonly maxDurationHours: number;
  }[];
  readonly masking: readonly MaskingRule[];
  /** Absolute path of the operator policy directory, if any. */
  readonly policy: { readonly dir: string | undefined };
  readonly organisations: readonly {
    readonly id: string;
    readonly kind: OrgKind;
    readonly name: string | undefined;
  }[];
  readonly sites: readonly { readonly id: string; readonly country: string; readonly operator: string }[];
  readonly stores: readonly StoreSpec[];
  readonly custody: CustodySpec;
  readonly collections: readonly CollectionSpec[];
  readonly residency: readonly {
    readonly jurisdiction: string;
    readonly category: Category;
    readonly sites: readonly string[];
  }[];
  readonly principals: readonly PrincipalSpec[];
  /** Gatekeeping: approvers, quorum, break-glass, policy board, alerts. */
  readonly governance: GovernanceSpec;
  /** Migration off legacy sites (docs/migration.md); no sources when the section is absent. */
  readonly migration: MigrationSpec;
  /** Egress: declared flows, data-type tags, volume thresholds (docs/egress.md). */
  readonly egress: EgressSpec;
  /** SHA-256 (hex) of the canonical configuration, recorded in the ledger at start. */
  readonly digest: string;
}
