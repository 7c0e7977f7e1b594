import { z } from 'zod';

/**
 * The `egress` section of `custos.yaml`: which fields carry which regulated data type, the volume
 * thresholds per data type, and the declared flows. References to other sections are checked in
 * `checkEgress` (egress-config.ts); every key is documented in docs/egress.md.
 */
const id = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'must be 1-63 letters, digits, ".", "_" or "-"');

/**
 * Regulated data types of 28 CFR 202.205 (bulk thresholds), as tags on fields. Biometric
 * identifiers and precise geolocation share a threshold but are counted apart.
 */
export const DATA_TYPES = [
  'genomic',
  'biometric',
  'precise-geolocation',
  'health',
  'financial',
  'personal-identifiers',
] as const;
/** A regulated data type. */
export type DataType = (typeof DATA_TYPES)[number];

/**
 * Default persons per counterparty over 12 months: 28 CFR 202.205 "bulk" thresholds. A transfer
 * that would take the distinct persons over the limit is refused (so the limit itself is allowed).
 */
export const DEFAULT_THRESHOLDS: Readonly<Record<DataType, number>> = Object.freeze({
  genomic: 100,
  biometric: 1000,
  'precise-geolocation': 1000,
  health: 10_000,
  financial: 10_000,
  'personal-identifiers': 100_000,
});

/** What a field rule does to a field on its way out. */
export const FIELD_RULES = ['allow', 'drop', 'pseudonymise', 'generalise'] as const;
/** How `generalise` coarsens a value. */
export const GENERALISATIONS = ['year', 'month', 'country', 'bucket'] as const;
/** Aggregation metrics. */
export const METRICS = ['count', 'sum', 'distinct-subjects'] as const;

const limit = z.number().int().min(0).max(1_000_000_000);
const limits = z.strictObject(
  Object.fromEntries(DATA_TYPES.map((t) => [t, limit.optional()])) as {
    [K in DataType]: z.ZodOptional<typeof limit>;
  },
);

/** One field rule of a flow. */
export const fieldRuleSchema = z
  .strictObject({
    field: id,
    rule: z.enum(FIELD_RULES),
    /** For `generalise`: what to coarsen to. */
    to: z.enum(GENERALISATIONS).optional(),
    /** For `generalise: bucket`: the bucket width. */
    width: z.number().positive().max(1e12).optional(),
  })
  .refine((r) => (r.rule === 'generalise') === (r.to !== undefined), {
    message: '`to` is required with rule generalise, and only with it',
    path: ['to'],
  })
  .refine((r) => (r.to === 'bucket') === (r.width !== undefined), {
    message: '`width` is required with to: bucket, and only with it',
    path: ['width'],
  });

const metric = z
  .strictObject({ kind: z.enum(METRICS), field: id.optional(), as: id.optional() })
  .refine((m) => (m.kind === 'sum') === (m.field !== undefined), {
    message: '`field` is required with kind sum, and only with it',
    path: ['field'],
  });

/** One declared flow: where data may go, what of it, transformed how, and how much. */
export const flowSchema = z.strictObject({
  id,
  /** The receiving organisation; its principals (and only they) may run the export. */
  destination: id,
  /** Where the data goes (ISO country code, free: it may be outside every configured jurisdiction). */
  destinationJurisdiction: z.string().regex(/^[A-Z]{2,3}$/, 'must be an ISO country code like CN or SG'),
  purpose: z.string().min(1).max(500),
  /** Source collections. */
  sources: z.array(id).min(1).max(16),
  /** Subjects of these jurisdictions only (default: every configured jurisdiction). */
  jurisdictions: z.array(id).min(1).optional(),
  /** Field rules; a field no rule names is dropped. */
  fields: z.array(fieldRuleSchema).min(1).max(256),
  /** The subject id: dropped (default) or pseudonymised with the flow's key. */
  subject: z.enum(['drop', 'pseudonymise']).default('drop'),
  aggregate: z
    .strictObject({
      groupBy: z.array(id).max(16).default([]),
      metrics: z.array(metric).min(1).max(16),
      /** Groups with fewer distinct subjects than this are suppressed (and counted). */
      minGroupSize: z.number().int().min(1).max(1_000_000),
    })
    .optional(),
  /** Persons per data type over a rolling 12 months for this flow's counterparty (defaults: 28 CFR 202.205). */
  limits: limits.optional(),
  /** The flow is refused from this date on (ISO date or date-time): re-evaluate and re-declare it. */
  expires: z.iso.date().or(z.iso.datetime({ offset: true })),
});

/** A flow as written in the config or proposed through the API. */
export type RawFlow = z.output<typeof flowSchema>;

/** The zod schema of the `egress` section. */
export const egressSchema = z
  .strictObject({
    /** Regulated data type of collection fields: what the volume limits count. */
    dataTypes: z.array(z.strictObject({ collection: id, field: id, type: z.enum(DATA_TYPES) })).default([]),
    /** Thresholds overriding the 28 CFR 202.205 defaults for every counterparty. */
    thresholds: limits.optional(),
    /** Records per batch: metering, DLP and output proceed a batch at a time. */
    batchSize: z.number().int().min(1).max(10_000).default(256),
    flows: z.array(flowSchema).default([]),
  })
  .prefault({});

/** The `egress` section after defaults. */
export type RawEgress = z.output<typeof egressSchema>;
