import { z } from 'zod';

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
    })
    .prefault({}),
  jurisdictions: z.array(z.strictObject({ id, name: z.string().optional() })).min(1),
  organisations: z.array(z.strictObject({ id, kind: z.enum(ORG_KINDS), name: z.string().optional() })).min(1),
  sites: z.array(z.strictObject({ id, country: z.string().min(2).max(3), operator: id })).min(1),
  stores: z.array(sqliteStore).min(1),
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
});

/** The configuration as written, after defaults. */
export type RawConfig = z.output<typeof configSchema>;
