import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import type { CollectionSpec, CustosConfig, PrincipalSpec } from './config.js';
import { type Category, configSchema, type RawConfig } from './config-schema.js';
import { checkEgress, toEgressSpec } from './egress-config.js';
import { CustosError } from './errors.js';
import { checkGovernance, toGovernanceSpec } from './governance-config.js';
import { checkMigration, toMigrationSpec } from './migration-config.js';
import {
  checkPostgresSections,
  toCustodySpec,
  toLedgerStorageSpec,
  toStoreSpecs,
} from './postgres-config.js';

type Path = readonly (string | number)[];

/** Formats a config path as `stores[2].site`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(root)' : out;
}

function zodIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => `${formatPath([...issue.path, k])}: unknown key`).join('\n');
    }
    return `${formatPath(issue.path)}: ${issue.message}`;
  });
}

/** Checks references between sections and duplicate ids; returns every problem found. */
function crossCheck(raw: RawConfig): string[] {
  const problems: string[] = [];
  const ids = (section: string, items: readonly { id: string }[]): Set<string> => {
    const seen = new Set<string>();
    items.forEach((item, i) => {
      if (seen.has(item.id)) problems.push(`${section}[${i}].id: duplicate id "${item.id}"`);
      seen.add(item.id);
    });
    return seen;
  };
  const jurisdictions = ids('jurisdictions', raw.jurisdictions);
  const orgs = ids('organisations', raw.organisations);
  const sites = ids('sites', raw.sites);
  ids('stores', raw.stores);
  ids('collections', raw.collections);
  ids('principals', raw.principals);
  const ref = (path: Path, set: Set<string>, kind: string, value: string): void => {
    if (!set.has(value)) problems.push(`${formatPath(path)}: unknown ${kind} "${value}"`);
  };
  raw.sites.forEach((s, i) => {
    ref(['sites', i, 'operator'], orgs, 'organisation', s.operator);
  });
  const paths = new Map<string, number>();
  raw.stores.forEach((s, i) => {
    ref(['stores', i, 'site'], sites, 'site', s.site);
    if (s.driver !== 'sqlite') return;
    const prev = paths.get(s.path);
    if (prev !== undefined) problems.push(`stores[${i}].path: same file as stores[${prev}]`);
    paths.set(s.path, i);
  });
  problems.push(...checkPostgresSections(raw));
  problems.push(...checkMigration(raw));
  raw.collections.forEach((c, i) => {
    const names = new Set<string>();
    c.fields.forEach((f, j) => {
      const name = typeof f === 'string' ? f : f.name;
      if (names.has(name)) problems.push(`collections[${i}].fields[${j}]: duplicate field "${name}"`);
      names.add(name);
    });
  });
  const rules = new Set<string>();
  raw.residency.forEach((r, i) => {
    ref(['residency', i, 'jurisdiction'], jurisdictions, 'jurisdiction', r.jurisdiction);
    r.sites.forEach((s, j) => {
      ref(['residency', i, 'sites', j], sites, 'site', s);
    });
    const key = `${r.jurisdiction}/${r.category}`;
    if (rules.has(key)) problems.push(`residency[${i}]: duplicate rule for ${r.jurisdiction} ${r.category}`);
    rules.add(key);
  });
  const purposes = ids('purposes', raw.purposes);
  const collectionFields = new Map<string, Set<string>>();
  for (const c of raw.collections) {
    if (!collectionFields.has(c.id)) {
      collectionFields.set(c.id, new Set(c.fields.map((f) => (typeof f === 'string' ? f : f.name))));
    }
  }
  raw.masking.forEach((m, i) => {
    (m.purposes ?? []).forEach((p, j) => {
      ref(['masking', i, 'purposes', j], purposes, 'purpose', p);
    });
    (m.collections ?? []).forEach((c, j) => {
      if (!collectionFields.has(c))
        problems.push(`masking[${i}].collections[${j}]: unknown collection "${c}"`);
    });
    const scope = (m.collections ?? [...collectionFields.keys()]).map((c) => collectionFields.get(c));
    m.fields.forEach((f, j) => {
      if (!scope.some((fields) => fields?.has(f)))
        problems.push(`masking[${i}].fields[${j}]: unknown field "${f}"`);
    });
  });
  if (raw.auth.mode === 'oidc' && raw.auth.jwksUrl === undefined) {
    problems.push('auth.jwksUrl: required when auth.mode is "oidc"');
  }
  raw.principals.forEach((p, i) => {
    ref(['principals', i, 'org'], orgs, 'organisation', p.org);
    if (p.jurisdiction !== undefined) {
      ref(['principals', i, 'jurisdiction'], jurisdictions, 'jurisdiction', p.jurisdiction);
    }
  });
  problems.push(
    ...checkEgress(
      { organisations: raw.organisations, jurisdictions: raw.jurisdictions, collectionFields },
      raw.egress,
    ),
  );
  // Reachability of quorums is checked only on an otherwise clean config (it follows from the rest).
  problems.push(...checkGovernance(raw, raw.governance, problems.length === 0));
  return problems;
}

function normalise(raw: RawConfig, baseDir: string): CustosConfig {
  const dataDir = isAbsolute(raw.dataDir) ? raw.dataDir : resolve(baseDir, raw.dataDir);
  const inData = (p: string): string => (isAbsolute(p) ? p : resolve(dataDir, p));
  const orgKind = new Map(raw.organisations.map((o) => [o.id, o.kind]));
  const collections: CollectionSpec[] = raw.collections.map((c) => ({
    id: c.id,
    category: c.category,
    fields: c.fields.map((f) =>
      typeof f === 'string'
        ? { name: f, classification: 'protected' as Category }
        : { name: f.name, classification: f.classification ?? 'protected' },
    ),
  }));
  const principals: PrincipalSpec[] = raw.principals.map((p) => ({
    id: p.id,
    org: p.org,
    orgKind: orgKind.get(p.org) ?? 'operator',
    roles: p.roles,
    kind: p.kind,
    jurisdiction: p.jurisdiction,
  }));
  const firstJurisdiction = raw.jurisdictions[0]?.id ?? 'default';
  const config: CustosConfig = {
    dataDir,
    server: raw.server,
    keys: { provider: raw.keys.provider, dir: inData(raw.keys.dir) },
    ledger: {
      ...raw.ledger,
      origin: raw.ledger.origin ?? `localhost/custos/${firstJurisdiction}`,
      path: inData(raw.ledger.path),
      ...toLedgerStorageSpec(raw.ledger, baseDir),
    },
    jurisdictions: raw.jurisdictions.map((j) => ({
      id: j.id,
      name: j.name,
      ringFenced: j.ringFenced,
      shareableWithParent: j.shareableWithParent,
    })),
    auth: raw.auth,
    purposes: raw.purposes,
    masking: raw.masking,
    policy: { dir: raw.policy.dir === undefined ? undefined : resolve(baseDir, raw.policy.dir) },
    organisations: raw.organisations.map((o) => ({ id: o.id, kind: o.kind, name: o.name })),
    sites: raw.sites,
    stores: toStoreSpecs(raw.stores, inData, baseDir),
    custody: toCustodySpec(raw.custody, inData, baseDir),
    collections,
    residency: raw.residency,
    principals,
    governance: toGovernanceSpec(raw.governance, baseDir),
    migration: toMigrationSpec(raw.migration, inData, baseDir),
    egress: toEgressSpec(
      raw.egress,
      raw.jurisdictions.map((j) => j.id),
    ),
    digest: createHash('sha256').update(JSON.stringify(raw)).digest('hex'),
  };
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * Validates a parsed config object: schema, then cross-section references.
 * Throws `CONFIG_INVALID` listing every problem with its path.
 */
export function validateConfig(input: unknown, baseDir: string): CustosConfig {
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    const details = zodIssues(parsed.error).flatMap((l) => l.split('\n'));
    throw new CustosError('CONFIG_INVALID', `configuration has ${details.length} error(s)`, { details });
  }
  const problems = crossCheck(parsed.data);
  if (problems.length > 0) {
    throw new CustosError('CONFIG_INVALID', `configuration has ${problems.length} error(s)`, {
      details: problems,
    });
  }
  return normalise(parsed.data, baseDir);
}

/** Parses YAML text into a config; YAML syntax errors are reported with their line and column. */
export function parseConfigText(text: string, baseDir: string): CustosConfig {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const details = doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      const where = pos ? `line ${pos.line}, column ${pos.col}` : 'yaml';
      const first = (e.message.split('\n')[0] ?? 'syntax error').replace(/ at line \d+, column \d+:?$/, '');
      return `${where}: ${first}`;
    });
    throw new CustosError('CONFIG_INVALID', 'configuration is not valid YAML', { details });
  }
  return validateConfig(doc.toJS({ maxAliasCount: 100 }), baseDir);
}

/** Reads and validates a `custos.yaml` file. */
export function loadConfigFile(file: string): CustosConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new CustosError('CONFIG_NOT_FOUND', `cannot read configuration file ${file}`, {
      cause,
      details: [`${file}: file not found or unreadable`],
    });
  }
  return parseConfigText(text, dirname(resolve(file)));
}
