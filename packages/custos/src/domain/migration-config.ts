import type { RawConfig } from './config-schema.js';
import type { RawMigration } from './migration-config-schema.js';
import { checkPostgresConfig, type PostgresSpec, toPostgresSpec } from './postgres-config.js';

/** Kinds of legacy source. */
export type SourceKind = 'sqlite' | 'postgres' | 'ndjson' | 'csv';

/** A collection field and the source field it is copied from. */
export interface FieldMapping {
  /** Collection field name. */
  readonly name: string;
  /** Source field (column, JSON member, CSV header). */
  readonly from: string;
}

/** Where a dataset's rows are: a table of a database source, or a file. */
export interface SourceLocation {
  readonly table: string | undefined;
  /** Absolute path of the file. */
  readonly file: string | undefined;
  /** The field that identifies a row (database sources order and delete by it). */
  readonly keyField: string;
}

/** One table or file of a source, copied into one collection. Its id is `<source>/<collection>`. */
export interface DatasetSpec {
  readonly id: string;
  readonly source: string;
  readonly collection: string;
  readonly location: SourceLocation;
  readonly idField: string;
  readonly subjectField: string;
  /** Sorted by collection field name, so the copied plaintext is canonical (RFC 8785 member order). */
  readonly fields: readonly FieldMapping[];
  /** Source columns deliberately not copied (sorted); signed into the deletion certificate. */
  readonly discard: readonly string[];
}

/** A legacy source, normalised. */
export interface SourceSpec {
  readonly id: string;
  readonly site: string;
  readonly kind: SourceKind;
  /** SQLite: absolute path of the database file. */
  readonly path: string | undefined;
  readonly postgres: PostgresSpec | undefined;
  readonly deletable: boolean;
  /** Absolute path of the AES-256 key the (file) source is sealed with, if Custos holds one. */
  readonly keyFile: string | undefined;
  readonly datasets: readonly DatasetSpec[];
}

/** The accounts source: where subjects' home jurisdictions come from. */
export interface AccountsSpec {
  readonly source: string;
  readonly location: SourceLocation;
  readonly subjectField: string;
  readonly jurisdictionField: string;
  readonly values: Readonly<Record<string, string>> | undefined;
}

/** The `migration` section, normalised; no sources when it is absent. */
export interface MigrationSpec {
  readonly batchSize: number;
  readonly onError: 'stop' | 'skip';
  readonly state:
    | { readonly driver: 'sqlite'; readonly path: string }
    | { readonly driver: 'postgres'; readonly postgres: PostgresSpec };
  /** Absolute path of the certificates directory. */
  readonly certificatesDir: string;
  readonly accounts: AccountsSpec | undefined;
  readonly sources: readonly SourceSpec[];
}

/** Default PostgreSQL schema of the migration state store. */
export const DEFAULT_MIGRATION_SCHEMA = 'custos_migration';

const FILE_KINDS: ReadonlySet<string> = new Set(['ndjson', 'csv']);

/** Checks where a dataset (or the accounts source) points, for the kind of its source. */
function checkLocation(
  at: string,
  kind: string,
  loc: { table?: string | undefined; file?: string | undefined },
): string[] {
  if (FILE_KINDS.has(kind)) {
    const problems = loc.file === undefined ? [`${at}.file: required for a ${kind} source`] : [];
    if (loc.table !== undefined) problems.push(`${at}.table: not used by a ${kind} source (give file)`);
    return problems;
  }
  const problems = loc.table === undefined ? [`${at}.table: required for a ${kind} source`] : [];
  if (loc.file !== undefined) problems.push(`${at}.file: not used by a ${kind} source (give table)`);
  return problems;
}

/**
 * Cross-checks the `migration` section against the rest of the configuration; returns every
 * problem with its path (`migration.sources[1].datasets[0].collection: unknown collection "x"`).
 */
export function checkMigration(raw: RawConfig): string[] {
  const m = raw.migration;
  if (m === undefined) return [];
  const problems: string[] = [];
  const sites = new Set(raw.sites.map((s) => s.id));
  const jurisdictions = new Set(raw.jurisdictions.map((j) => j.id));
  // The first declaration of a collection counts (a duplicate id is reported on its own).
  const fields = new Map<string, Set<string>>();
  for (const c of raw.collections) {
    if (!fields.has(c.id))
      fields.set(c.id, new Set(c.fields.map((f) => (typeof f === 'string' ? f : f.name))));
  }
  const kinds = new Map<string, string>();
  m.sources.forEach((s, i) => {
    const at = `migration.sources[${i}]`;
    if (kinds.has(s.id)) problems.push(`${at}.id: duplicate id "${s.id}"`);
    kinds.set(s.id, s.kind);
    if (!sites.has(s.site)) problems.push(`${at}.site: unknown site "${s.site}"`);
    if (s.kind === 'sqlite' && s.path === undefined)
      problems.push(`${at}.path: required for a sqlite source`);
    if (s.kind !== 'sqlite' && s.path !== undefined)
      problems.push(`${at}.path: only a sqlite source has a path`);
    if (s.kind === 'postgres') {
      if (s.postgres === undefined) problems.push(`${at}.postgres: required for a postgres source`);
      else problems.push(...checkPostgresConfig(s.postgres, `${at}.postgres`));
    } else if (s.postgres !== undefined) problems.push(`${at}.postgres: only a postgres source has one`);
    if (s.encryption !== undefined && !FILE_KINDS.has(s.kind)) {
      problems.push(`${at}.encryption: only ndjson and csv sources can be sealed`);
    }
    const collections = new Set<string>();
    s.datasets.forEach((d, j) => {
      const dat = `${at}.datasets[${j}]`;
      problems.push(...checkLocation(dat, s.kind, d));
      const declared = fields.get(d.collection);
      if (declared === undefined) {
        problems.push(`${dat}.collection: unknown collection "${d.collection}"`);
        return;
      }
      if (collections.has(d.collection)) {
        problems.push(`${dat}.collection: "${d.collection}" is already copied from this source`);
      }
      collections.add(d.collection);
      const names = Array.isArray(d.fields) ? d.fields : Object.keys(d.fields);
      names.forEach((name, k) => {
        const key = Array.isArray(d.fields) ? k : name;
        if (!declared.has(name)) {
          problems.push(
            `${dat}.fields${typeof key === 'number' ? `[${key}]` : `.${key}`}: unknown field "${name}" in ${d.collection}`,
          );
        }
      });
    });
  });
  if (m.accounts !== undefined) {
    const kind = kinds.get(m.accounts.source);
    if (kind === undefined) problems.push(`migration.accounts.source: unknown source "${m.accounts.source}"`);
    else problems.push(...checkLocation('migration.accounts', kind, m.accounts));
    for (const [value, j] of Object.entries(m.accounts.values ?? {})) {
      if (!jurisdictions.has(j))
        problems.push(`migration.accounts.values.${value}: unknown jurisdiction "${j}"`);
    }
  }
  if (m.state.driver === 'postgres') problems.push(...checkPostgresConfig(m.state, 'migration.state'));
  return problems;
}

function toFieldMappings(fields: readonly string[] | Readonly<Record<string, string>>): FieldMapping[] {
  const list = Array.isArray(fields)
    ? fields.map((f: string) => ({ name: f, from: f }))
    : Object.entries(fields).map(([name, from]) => ({ name, from }));
  // UTF-16 code unit order: the member order RFC 8785 (JCS) prescribes.
  return list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Normalises a checked `migration` section; source paths resolve against the data directory. */
export function toMigrationSpec(
  raw: RawMigration,
  inData: (p: string) => string,
  baseDir: string,
): MigrationSpec {
  const abs = inData;
  const m = raw ?? { batchSize: 1000, onError: 'stop' as const, certificates: 'certificates', sources: [] };
  const loc = (
    l: { table?: string | undefined; file?: string | undefined },
    keyField: string,
  ): SourceLocation => ({
    table: l.table,
    file: l.file === undefined ? undefined : abs(l.file),
    keyField,
  });
  const state: MigrationSpec['state'] =
    raw === undefined || raw.state.driver === 'sqlite'
      ? { driver: 'sqlite', path: inData(raw?.state.driver === 'sqlite' ? raw.state.path : 'migration.db') }
      : {
          driver: 'postgres',
          postgres: toPostgresSpec(raw.state, 'migration.state', DEFAULT_MIGRATION_SCHEMA, baseDir),
        };
  return {
    batchSize: m.batchSize,
    onError: m.onError,
    state,
    certificatesDir: inData(m.certificates),
    accounts:
      raw?.accounts === undefined
        ? undefined
        : {
            source: raw.accounts.source,
            location: loc(raw.accounts, raw.accounts.subjectField),
            subjectField: raw.accounts.subjectField,
            jurisdictionField: raw.accounts.jurisdictionField,
            values: raw.accounts.values,
          },
    sources: m.sources.map((s, i) => ({
      id: s.id,
      site: s.site,
      kind: s.kind,
      path: s.path === undefined ? undefined : abs(s.path),
      postgres:
        s.postgres === undefined
          ? undefined
          : toPostgresSpec(s.postgres, `migration.sources[${i}].postgres`, 'public', baseDir),
      deletable: s.deletable,
      keyFile: s.encryption === undefined ? undefined : abs(s.encryption.keyFile),
      datasets: s.datasets.map((d) => ({
        id: `${s.id}/${d.collection}`,
        source: s.id,
        collection: d.collection,
        location: loc(d, d.idField),
        idField: d.idField,
        subjectField: d.subjectField,
        fields: toFieldMappings(d.fields),
        discard: [...new Set(d.discard)].sort(),
      })),
    })),
  };
}
