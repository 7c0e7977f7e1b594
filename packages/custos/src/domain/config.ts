import type { Category, OrgKind, RawConfig } from './config-schema.js';

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

/** A store declaration. */
export interface StoreSpec {
  readonly id: string;
  readonly driver: 'sqlite';
  readonly site: string;
  /** Absolute path of the SQLite file. */
  readonly path: string;
}

/** A declared principal (person or service) acting for an organisation. */
export interface PrincipalSpec {
  readonly id: string;
  readonly org: string;
  readonly orgKind: OrgKind;
  readonly roles: readonly string[];
  readonly kind: 'person' | 'service';
  readonly jurisdiction: string | undefined;
}

/** The validated, normalised, frozen configuration every service is built from. */
export interface CustosConfig {
  /** Absolute path of the data directory. */
  readonly dataDir: string;
  readonly server: RawConfig['server'];
  readonly keys: { readonly provider: 'file'; readonly dir: string };
  readonly ledger: RawConfig['ledger'] & { readonly origin: string; readonly path: string };
  readonly jurisdictions: readonly { readonly id: string; readonly name: string | undefined }[];
  readonly organisations: readonly {
    readonly id: string;
    readonly kind: OrgKind;
    readonly name: string | undefined;
  }[];
  readonly sites: readonly { readonly id: string; readonly country: string; readonly operator: string }[];
  readonly stores: readonly StoreSpec[];
  readonly collections: readonly CollectionSpec[];
  readonly residency: readonly {
    readonly jurisdiction: string;
    readonly category: Category;
    readonly sites: readonly string[];
  }[];
  readonly principals: readonly PrincipalSpec[];
  /** SHA-256 (hex) of the canonical configuration, recorded in the ledger at start. */
  readonly digest: string;
}
