import { createHash } from 'node:crypto';
import {
  DATA_TYPES,
  type DataType,
  DEFAULT_THRESHOLDS,
  type GENERALISATIONS,
  type METRICS,
  type RawEgress,
  type RawFlow,
} from './egress-config-schema.js';

/** A field rule after normalisation. */
export type FieldRuleSpec =
  | { readonly field: string; readonly rule: 'allow' | 'drop' | 'pseudonymise' }
  | {
      readonly field: string;
      readonly rule: 'generalise';
      readonly to: (typeof GENERALISATIONS)[number];
      readonly width: number | undefined;
    };

/** An aggregation metric; `as` is its output column. */
export interface MetricSpec {
  readonly kind: (typeof METRICS)[number];
  readonly field: string | undefined;
  readonly as: string;
}

/** A validated flow, from the config or activated through governance. */
export interface FlowSpec {
  readonly id: string;
  readonly destination: string;
  readonly destinationJurisdiction: string;
  readonly purpose: string;
  readonly sources: readonly string[];
  /** Source jurisdictions, defaulted to every configured one. */
  readonly jurisdictions: readonly string[];
  readonly fields: readonly FieldRuleSpec[];
  readonly subject: 'drop' | 'pseudonymise';
  readonly aggregate:
    | {
        readonly groupBy: readonly string[];
        readonly metrics: readonly MetricSpec[];
        readonly minGroupSize: number;
      }
    | undefined;
  /** Persons per data type over 12 months: the flow's limits, else the section's, else 28 CFR 202.205. */
  readonly limits: Readonly<Record<DataType, number>>;
  /** Milliseconds since the epoch from which the flow is refused. */
  readonly expiresAt: number;
  /** `sha256:<hex>` of the declaration: what a governed change names as its base. */
  readonly version: string;
  readonly origin: 'config' | 'governance';
}

/** The validated, normalised egress section. */
export interface EgressSpec {
  /** collection → field → regulated data type. */
  readonly dataTypes: Readonly<Record<string, Readonly<Record<string, DataType>>>>;
  readonly thresholds: Readonly<Record<DataType, number>>;
  readonly batchSize: number;
  readonly flows: readonly FlowSpec[];
}

/** What flow checks need to know of the rest of the configuration. */
export interface FlowWorld {
  readonly organisations: readonly { readonly id: string }[];
  readonly jurisdictions: readonly { readonly id: string }[];
  /** Collection id → its field names. */
  readonly collectionFields: ReadonlyMap<string, ReadonlySet<string>>;
}

/**
 * Checks one flow's references (organisation, collections, jurisdictions, fields, aggregation);
 * every problem is reported with its exact path under `at` (e.g. `egress.flows[2]`).
 */
export function checkFlow(world: FlowWorld, flow: RawFlow, at: string): string[] {
  const problems: string[] = [];
  if (!world.organisations.some((o) => o.id === flow.destination))
    problems.push(`${at}.destination: unknown organisation "${flow.destination}"`);
  const fields = new Set<string>();
  flow.sources.forEach((c, j) => {
    const f = world.collectionFields.get(c);
    if (f === undefined) problems.push(`${at}.sources[${j}]: unknown collection "${c}"`);
    for (const name of f ?? []) fields.add(name);
  });
  (flow.jurisdictions ?? []).forEach((j, k) => {
    if (!world.jurisdictions.some((x) => x.id === j))
      problems.push(`${at}.jurisdictions[${k}]: unknown jurisdiction "${j}"`);
  });
  const rules = new Map<string, RawFlow['fields'][number]['rule']>();
  flow.fields.forEach((r, j) => {
    if (!fields.has(r.field))
      problems.push(`${at}.fields[${j}].field: "${r.field}" is not a field of the flow's sources`);
    if (rules.has(r.field)) problems.push(`${at}.fields[${j}].field: duplicate rule for "${r.field}"`);
    rules.set(r.field, r.rule);
  });
  const agg = flow.aggregate;
  if (agg) {
    if (flow.subject !== 'drop')
      problems.push(`${at}.subject: an aggregating flow never outputs subjects; use drop`);
    agg.groupBy.forEach((g, j) => {
      const rule = rules.get(g);
      if (rule === undefined || rule === 'drop')
        problems.push(`${at}.aggregate.groupBy[${j}]: "${g}" must be a field the flow lets out`);
    });
    agg.metrics.forEach((m, j) => {
      if (m.field !== undefined && rules.get(m.field) !== 'allow')
        problems.push(`${at}.aggregate.metrics[${j}].field: "${m.field}" must be a field with rule allow`);
    });
    const names = new Set(agg.groupBy);
    agg.metrics.forEach((m, j) => {
      const name = metricName(m);
      if (names.has(name)) problems.push(`${at}.aggregate.metrics[${j}]: duplicate output column "${name}"`);
      names.add(name);
    });
  }
  if (Number.isNaN(Date.parse(flow.expires))) problems.push(`${at}.expires: not a date`);
  return problems;
}

function metricName(m: { kind: string; field?: string | undefined; as?: string | undefined }): string {
  if (m.as !== undefined) return m.as;
  if (m.kind === 'sum') return `sum_${m.field ?? ''}`;
  return m.kind === 'count' ? 'count' : 'subjects';
}

/** Checks the egress section against the rest of the configuration. */
export function checkEgress(world: FlowWorld, egress: RawEgress): string[] {
  const problems: string[] = [];
  const tagged = new Set<string>();
  egress.dataTypes.forEach((d, i) => {
    const fields = world.collectionFields.get(d.collection);
    if (fields === undefined)
      problems.push(`egress.dataTypes[${i}].collection: unknown collection "${d.collection}"`);
    else if (!fields.has(d.field))
      problems.push(`egress.dataTypes[${i}].field: unknown field "${d.field}" in ${d.collection}`);
    const key = `${d.collection}.${d.field}`;
    if (tagged.has(key)) problems.push(`egress.dataTypes[${i}]: duplicate tag for ${key}`);
    tagged.add(key);
  });
  const ids = new Set<string>();
  egress.flows.forEach((f, i) => {
    if (ids.has(f.id)) problems.push(`egress.flows[${i}].id: duplicate id "${f.id}"`);
    ids.add(f.id);
    problems.push(...checkFlow(world, f, `egress.flows[${i}]`));
  });
  return problems;
}

/** Canonical JSON (sorted keys) of a declaration, for its version. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Normalises a checked flow declaration. */
export function toFlowSpec(
  flow: RawFlow,
  defaults: { jurisdictions: readonly string[]; thresholds: Readonly<Record<DataType, number>> },
  origin: FlowSpec['origin'],
): FlowSpec {
  const limits = { ...defaults.thresholds };
  for (const t of DATA_TYPES) {
    const v = flow.limits?.[t];
    if (v !== undefined) limits[t] = v;
  }
  return {
    id: flow.id,
    destination: flow.destination,
    destinationJurisdiction: flow.destinationJurisdiction,
    purpose: flow.purpose,
    sources: [...flow.sources],
    jurisdictions: [...(flow.jurisdictions ?? defaults.jurisdictions)],
    fields: flow.fields.map((r) =>
      r.rule === 'generalise'
        ? { field: r.field, rule: r.rule, to: r.to ?? 'year', width: r.width }
        : { field: r.field, rule: r.rule },
    ),
    subject: flow.subject,
    aggregate:
      flow.aggregate === undefined
        ? undefined
        : {
            groupBy: [...flow.aggregate.groupBy],
            metrics: flow.aggregate.metrics.map((m) => ({ kind: m.kind, field: m.field, as: metricName(m) })),
            minGroupSize: flow.aggregate.minGroupSize,
          },
    limits,
    expiresAt: Date.parse(flow.expires),
    version: `sha256:${createHash('sha256').update(canonical(flow)).digest('hex')}`,
    origin,
  };
}

/** The thresholds in force: the section's overrides on top of 28 CFR 202.205. */
export function thresholdsOf(egress: RawEgress): Record<DataType, number> {
  const out = { ...DEFAULT_THRESHOLDS };
  for (const t of DATA_TYPES) {
    const v = egress.thresholds?.[t];
    if (v !== undefined) out[t] = v;
  }
  return out;
}

/** Normalises the egress section (after `checkEgress` found nothing). */
export function toEgressSpec(egress: RawEgress, jurisdictions: readonly string[]): EgressSpec {
  const dataTypes: Record<string, Record<string, DataType>> = {};
  for (const d of egress.dataTypes) {
    const fields = dataTypes[d.collection] ?? {};
    fields[d.field] = d.type;
    dataTypes[d.collection] = fields;
  }
  const thresholds = thresholdsOf(egress);
  return {
    dataTypes,
    thresholds,
    batchSize: egress.batchSize,
    flows: egress.flows.map((f) => toFlowSpec(f, { jurisdictions, thresholds }, 'config')),
  };
}
