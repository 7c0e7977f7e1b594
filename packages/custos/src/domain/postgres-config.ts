import { isAbsolute, resolve } from 'node:path';
import type { CustodySpec, LedgerStorageSpec, StoreSpec } from './config.js';
import type { RawConfig } from './config-schema.js';
import { ledgerSequencerSchema, type RawPostgresConnection } from './postgres-config-schema.js';

/** Where a secret-bearing value comes from. Only a password-free URL may be inline. */
export type PgSource =
  | { readonly kind: 'inline'; readonly value: string }
  | { readonly kind: 'env'; readonly name: string }
  | { readonly kind: 'file'; readonly path: string };

/** TLS settings of a PostgreSQL connection; files are absolute paths. */
export interface PostgresTlsSpec {
  readonly caFile: string | undefined;
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
  readonly rejectUnauthorized: boolean;
  readonly serverName: string | undefined;
}

/** A normalised PostgreSQL connection: secrets are still references, resolved when the store opens. */
export interface PostgresSpec {
  /** Config path of the section, for messages (`stores[2]`, `custody`). */
  readonly where: string;
  readonly url: PgSource;
  readonly password: PgSource | undefined;
  /** The PostgreSQL schema holding this store's tables and its `schema_version` table. */
  readonly schema: string;
  readonly poolSize: number;
  readonly statementTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly tls: PostgresTlsSpec | undefined;
}

/** The default schema of a store: `custos_` and the id folded to a SQL identifier. */
export function defaultPgSchema(storeId: string): string {
  return `custos_${storeId.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`.slice(0, 63);
}

/** Problems with a password-free inline URL, or none. Never echoes the URL itself. */
export function checkInlineUrl(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a valid URL';
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    return 'must be a postgres:// or postgresql:// URL';
  }
  if (parsed.password !== '' || parsed.searchParams.has('password')) {
    return 'must not contain a password: give the URL in urlEnv/urlFile, or the password in passwordEnv/passwordFile';
  }
  return undefined;
}

/** Checks one postgres connection section; returns every problem, each prefixed with its path. */
export function checkPostgresConfig(raw: RawPostgresConnection, where: string): string[] {
  const problems: string[] = [];
  const given = (['url', 'urlEnv', 'urlFile'] as const).filter((k) => raw[k] !== undefined);
  if (given.length !== 1) {
    problems.push(`${where}: give exactly one of url, urlEnv, urlFile (found ${given.length})`);
  }
  if (raw.url !== undefined) {
    const problem = checkInlineUrl(raw.url);
    if (problem) problems.push(`${where}.url: ${problem}`);
  }
  if (raw.passwordEnv !== undefined && raw.passwordFile !== undefined) {
    problems.push(`${where}: give at most one of passwordEnv, passwordFile`);
  }
  if (raw.tls && (raw.tls.certFile === undefined) !== (raw.tls.keyFile === undefined)) {
    problems.push(`${where}.tls: certFile and keyFile go together`);
  }
  return problems;
}

/**
 * Normalises a checked postgres section. Files (urlFile, passwordFile, TLS files) are resolved
 * against `baseDir`, the directory of the configuration file.
 */
export function toPostgresSpec(
  raw: RawPostgresConnection,
  where: string,
  defaultSchema: string,
  baseDir: string,
): PostgresSpec {
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  const opt = (p: string | undefined): string | undefined => (p === undefined ? undefined : abs(p));
  const url: PgSource =
    raw.urlEnv !== undefined
      ? { kind: 'env', name: raw.urlEnv }
      : raw.urlFile !== undefined
        ? { kind: 'file', path: abs(raw.urlFile) }
        : { kind: 'inline', value: raw.url ?? '' };
  const password: PgSource | undefined =
    raw.passwordEnv !== undefined
      ? { kind: 'env', name: raw.passwordEnv }
      : raw.passwordFile !== undefined
        ? { kind: 'file', path: abs(raw.passwordFile) }
        : undefined;
  return {
    where,
    url,
    password,
    schema: raw.schema ?? defaultSchema,
    poolSize: raw.poolSize,
    statementTimeoutMs: raw.statementTimeoutMs,
    connectTimeoutMs: raw.connectTimeoutMs,
    tls: raw.tls
      ? {
          caFile: opt(raw.tls.caFile),
          certFile: opt(raw.tls.certFile),
          keyFile: opt(raw.tls.keyFile),
          rejectUnauthorized: raw.tls.rejectUnauthorized,
          serverName: raw.tls.serverName,
        }
      : undefined,
  };
}

/** The schema the custody store uses unless configured. */
export const DEFAULT_CUSTODY_SCHEMA = 'custos_custody';

/**
 * Checks every postgres section of a parsed config: connection keys, and that no two record
 * stores share one schema of one database (they would share one `records` table).
 */
export function checkPostgresSections(raw: RawConfig): string[] {
  const problems: string[] = [];
  const targets = new Map<string, number>();
  raw.stores.forEach((s, i) => {
    if (s.driver !== 'postgres') return;
    problems.push(...checkPostgresConfig(s, `stores[${i}]`));
    const at = s.url ?? (s.urlEnv !== undefined ? `env:${s.urlEnv}` : `file:${s.urlFile ?? ''}`);
    const key = `${at}#${s.schema ?? defaultPgSchema(s.id)}`;
    const prev = targets.get(key);
    if (prev !== undefined) problems.push(`stores[${i}].schema: same database schema as stores[${prev}]`);
    targets.set(key, i);
  });
  if (raw.custody.driver === 'postgres') problems.push(...checkPostgresConfig(raw.custody, 'custody'));
  problems.push(...checkLedgerStorage(raw.ledger));
  return problems;
}

/** The ledger's schema unless configured. */
export const DEFAULT_LEDGER_SCHEMA = 'custos_ledger';

/** Checks `ledger.driver`, `ledger.postgres` and `ledger.sequencer` together. */
function checkLedgerStorage(ledger: RawConfig['ledger']): string[] {
  if (ledger.driver !== 'postgres') {
    return ledger.postgres === undefined && ledger.sequencer === undefined
      ? []
      : ['ledger: postgres and sequencer need driver: postgres'];
  }
  if (ledger.postgres === undefined) return ['ledger.postgres: required when ledger.driver is postgres'];
  const problems = checkPostgresConfig(ledger.postgres, 'ledger.postgres');
  const seq = ledgerSequencerSchema.parse(ledger.sequencer ?? {});
  if (seq.ackTimeoutMs <= seq.lockRetryMs + seq.pollMs) {
    problems.push(
      'ledger.sequencer.ackTimeoutMs: must exceed lockRetryMs + pollMs, or failover fails appends',
    );
  }
  return problems;
}

/** Normalises where the ledger lives (SQLite unless `driver: postgres`), filling in sequencer defaults. */
export function toLedgerStorageSpec(ledger: RawConfig['ledger'], baseDir: string): LedgerStorageSpec {
  const postgres =
    ledger.driver === 'postgres' && ledger.postgres !== undefined
      ? toPostgresSpec(ledger.postgres, 'ledger.postgres', DEFAULT_LEDGER_SCHEMA, baseDir)
      : undefined;
  return {
    driver: ledger.driver ?? 'sqlite',
    postgres,
    sequencer: ledgerSequencerSchema.parse(ledger.sequencer ?? {}),
  };
}

/** Normalises the store list: SQLite paths against the data dir, postgres sections as above. */
export function toStoreSpecs(
  stores: RawConfig['stores'],
  inData: (p: string) => string,
  baseDir: string,
): StoreSpec[] {
  return stores.map((s, i): StoreSpec => {
    if (s.driver === 'sqlite') return { ...s, path: inData(s.path) };
    return {
      id: s.id,
      driver: 'postgres',
      site: s.site,
      postgres: toPostgresSpec(s, `stores[${i}]`, defaultPgSchema(s.id), baseDir),
    };
  });
}

/** Normalises the custody section (SQLite `custody.db` in the data dir by default). */
export function toCustodySpec(
  custody: RawConfig['custody'],
  inData: (p: string) => string,
  baseDir: string,
): CustodySpec {
  if (custody.driver === 'sqlite') return { driver: 'sqlite', path: inData(custody.path) };
  return {
    driver: 'postgres',
    postgres: toPostgresSpec(custody, 'custody', DEFAULT_CUSTODY_SCHEMA, baseDir),
  };
}
