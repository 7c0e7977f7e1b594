import { z } from 'zod';

/**
 * Configuration of PostgreSQL-backed stores (record stores and the custody store). Every key is
 * documented in docs/postgres.md. Secrets never sit inline: a URL written in the config must not
 * carry a password (checked in `checkPostgresConfig`); the full URL or the password comes from an
 * environment variable or a file instead.
 */
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be an environment variable name');

/** A PostgreSQL schema name Custos may create: a lower-case SQL identifier that needs no quoting. */
export const pgSchemaName = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier (a-z, 0-9, _; at most 63)');

const tls = z.strictObject({
  /** PEM file of the CA(s) that sign the server certificate. */
  caFile: z.string().min(1).optional(),
  /** PEM client certificate and its key, for certificate authentication. */
  certFile: z.string().min(1).optional(),
  keyFile: z.string().min(1).optional(),
  /** Verify the server certificate chain and host name (default true). */
  rejectUnauthorized: z.boolean().default(true),
  /** Host name to verify the certificate against, when it differs from the URL's host. */
  serverName: z.string().min(1).optional(),
});

/** The connection keys shared by a postgres record store and a postgres custody store. */
export const postgresConnectionShape = {
  url: z.string().min(1).optional(),
  urlEnv: envName.optional(),
  urlFile: z.string().min(1).optional(),
  passwordEnv: envName.optional(),
  passwordFile: z.string().min(1).optional(),
  schema: pgSchemaName.optional(),
  poolSize: z.number().int().min(1).max(1000).default(10),
  statementTimeoutMs: z.number().int().min(0).max(3_600_000).default(5000),
  connectTimeoutMs: z.number().int().min(100).max(600_000).default(5000),
  tls: tls.optional(),
};

/** Where the custody store (subjects and their wrapped keys) lives. */
export const custodySchema = z
  .discriminatedUnion('driver', [
    z.strictObject({ driver: z.literal('sqlite'), path: z.string().min(1).default('custody.db') }),
    z.strictObject({ driver: z.literal('postgres'), ...postgresConnectionShape }),
  ])
  .default({ driver: 'sqlite', path: 'custody.db' });

/** The ledger's own PostgreSQL connection (`ledger.postgres`): the same keys; schema default `custos_ledger`. */
export const ledgerPostgresSchema = z.strictObject(postgresConnectionShape);

/** Multi-instance ledger settings (`ledger.sequencer`, docs/deployment.md). */
export const ledgerSequencerSchema = z.strictObject({
  /** How often a process that is not the sequencer tries to take the lock. Bounds failover. */
  lockRetryMs: z.number().int().min(50).max(60_000).default(1000),
  /** How often the sequencer and the waiters look at the queue without a notification. */
  pollMs: z.number().int().min(10).max(10_000).default(250),
  /** An append not sequenced this long after it was queued fails with LEDGER_UNAVAILABLE. */
  ackTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
  /** Sequenced queue rows are deleted after this long. */
  retainMs: z
    .number()
    .int()
    .min(60_000)
    .max(7 * 24 * 3_600_000)
    .default(600_000),
});

/** The postgres connection keys as written, after defaults. */
export type RawPostgresConnection = z.output<z.ZodObject<typeof postgresConnectionShape>>;
