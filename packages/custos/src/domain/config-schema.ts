import { z } from 'zod';
import { egressSchema } from './egress-config-schema.js';
import { governanceSchema } from './governance-config-schema.js';
import { migrationSchema } from './migration-config-schema.js';
import {
  custodySchema,
  ledgerPostgresSchema,
  ledgerSequencerSchema,
  postgresConnectionShape,
} from './postgres-config-schema.js';

/** Identifier syntax shared by every configured id: lower-case words, digits, `-` and `_`. */
const id = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'must be 1-63 letters, digits, ".", "_" or "-"');

/** Record and field categories. `protected` is the default for anything unclassified. */
export const CATEGORIES = ['protected', 'public', 'interoperability', 'aggregate'] as const;
/** A data category: `protected`, or one of the excepted classes. */
export type Category = (typeof CATEGORIES)[number];

/** Organisation kinds; `kind` drives policy. */
export const ORG_KINDS = ['custodian', 'operator', 'parent', 'cloud', 'auditor'] as const;
/** An organisation kind. */
export type OrgKind = (typeof ORG_KINDS)[number];

const field = z.union([
  id,
  z.strictObject({
    name: id,
    classification: z.enum(CATEGORIES).optional(),
  }),
]);

const sqliteStore = z.strictObject({
  id,
  driver: z.literal('sqlite'),
  site: id,
  path: z.string().min(1),
});

const postgresStore = z.strictObject({
  id,
  driver: z.literal('postgres'),
  site: id,
  ...postgresConnectionShape,
});

/** Field masks a decision can apply. */
export const MASKS = ['last4', 'hash', 'year', 'redact', 'drop'] as const;
/** A field mask. */
export type Mask = (typeof MASKS)[number];

/** Authentication settings (JWT bearer tokens). */
export const authSchema = z
  .strictObject({
    /** `embedded`: Custos signs its own tokens; `oidc`: tokens come from an identity provider. */
    mode: z.enum(['embedded', 'oidc']).default('embedded'),
    issuer: z.string().min(1).default('urn:custos:embedded'),
    audience: z.string().min(1).default('custos'),
    jwksUrl: z.url().optional(),
    algorithms: z
      .array(z.enum(['EdDSA', 'ES256', 'ES384', 'RS256', 'PS256']))
      .min(1)
      .default(['EdDSA', 'ES256', 'RS256']),
    clockToleranceSec: z.number().int().min(0).max(300).default(5),
    maxTokenTtlSec: z
      .number()
      .int()
      .min(60)
      .max(30 * 24 * 3600)
      .default(24 * 3600),
    claims: z
      .strictObject({
        principal: z.string().min(1).default('sub'),
        org: z.string().min(1).default('org'),
        roles: z.string().min(1).default('roles'),
        kind: z.string().min(1).default('principal_kind'),
        jurisdiction: z.string().min(1).default('jurisdiction'),
        release: z.string().min(1).default('release'),
      })
      .prefault({}),
  })
  .prefault({});

/** A declared purpose of access. */
export const purposeSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,62}$/, 'must be a letter then letters, digits, "_" or "-"'),
  description: z.string().optional(),
  /** The longest grant a request with this purpose may ask for. */
  maxDurationHours: z
    .number()
    .positive()
    .max(24 * 365)
    .default(8),
});

/** A masking rule: principals with any of `roles` (and of `orgKinds`), for any of `purposes`, see `fields` masked. */
export const maskingRuleSchema = z.strictObject({
  roles: z.array(id).optional(),
  orgKinds: z.array(z.enum(ORG_KINDS)).optional(),
  purposes: z.array(z.string()).optional(),
  collections: z.array(id).optional(),
  fields: z.array(id).min(1),
  mask: z.enum(MASKS),
});

/** The zod schema of `custos.yaml`. Cross-section references are checked in `validateConfig`. */
export const configSchema = z.strictObject({
  version: z.literal(1),
  dataDir: z.string().min(1).default('./custos-data'),
  server: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8470),
      bodyLimit: z
        .number()
        .int()
        .min(1024)
        .max(16 * 1024 * 1024)
        .default(1024 * 1024),
    })
    .prefault({}),
  keys: z
    .strictObject({
      provider: z.literal('file').default('file'),
      dir: z.string().min(1).default('keys'),
    })
    .prefault({}),
  ledger: z
    .strictObject({
      origin: z.string().min(1).optional(),
      path: z.string().min(1).default('ledger.db'),
      checkpointIntervalMs: z.number().int().min(10).max(3_600_000).default(1000),
      maxBatch: z.number().int().min(1).max(10_000).default(512),
      maxWaitMs: z.number().int().min(0).max(1000).default(2),
      busyTimeoutMs: z.number().int().min(0).max(60_000).default(2000),
      /** SQLite ledger: commit on a worker thread so fsyncs never stall request handling. */
      writerThread: z.boolean().default(true),
      /** Hash large batches (at least 256 entries) on a helper thread while the next are encoded. */
      hashThread: z.boolean().default(true),
      /** `sqlite` (default: `path`) or `postgres` (`postgres` section; several processes may share it). */
      driver: z.enum(['sqlite', 'postgres']).optional(),
      postgres: ledgerPostgresSchema.optional(),
      sequencer: ledgerSequencerSchema.optional(),
    })
    .prefault({}),
  jurisdictions: z
    .array(
      z.strictObject({
        id,
        name: z.string().optional(),
        /** Ring-fenced: the parent is kept away from every category not listed as shareable. */
        ringFenced: z.boolean().default(true),
        shareableWithParent: z.array(z.enum(CATEGORIES)).default(['public']),
      }),
    )
    .min(1),
  organisations: z.array(z.strictObject({ id, kind: z.enum(ORG_KINDS), name: z.string().optional() })).min(1),
  sites: z.array(z.strictObject({ id, country: z.string().min(2).max(3), operator: id })).min(1),
  stores: z.array(z.discriminatedUnion('driver', [sqliteStore, postgresStore])).min(1),
  /** Where subjects and their wrapped data keys live (see docs/postgres.md). */
  custody: custodySchema,
  collections: z
    .array(
      z.strictObject({
        id,
        category: z.enum(CATEGORIES),
        fields: z.array(field).min(1),
      }),
    )
    .min(1),
  residency: z.array(
    z.strictObject({
      jurisdiction: id,
      category: z.enum(CATEGORIES),
      sites: z.array(id),
    }),
  ),
  auth: authSchema,
  purposes: z
    .array(purposeSchema)
    .min(1)
    .default([
      { id: 'service', maxDurationHours: 8 },
      { id: 'custody', maxDurationHours: 8 },
    ]),
  masking: z.array(maskingRuleSchema).default([]),
  policy: z.strictObject({ dir: z.string().min(1).optional() }).prefault({}),
  principals: z
    .array(
      z.strictObject({
        id,
        org: id,
        roles: z.array(id).default([]),
        kind: z.enum(['person', 'service']).default('person'),
        jurisdiction: id.optional(),
      }),
    )
    .default([]),
  /** Access requests, quorum, break-glass, policy board, alerts (see docs/gatekeeping.md). */
  governance: governanceSchema.unwrap().optional(),
  /** Migration off legacy sites (see docs/migration.md). */
  migration: migrationSchema,
  /** Declared egress flows, data-type tags and volume thresholds (see docs/egress.md). */
  egress: egressSchema,
});

/** The configuration as written, after defaults. */
export type RawConfig = z.output<typeof configSchema>;
