import { z } from 'zod';
import { postgresConnectionShape } from './postgres-config-schema.js';

/**
 * The `migration` section of `custos.yaml` (docs/migration.md): legacy sources to copy into
 * custody, where subject jurisdictions come from, and how a run behaves. Cross-references (sites,
 * collections, fields, the accounts source) are checked in `checkMigration`.
 */
const id = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'must be 1-63 letters, digits, ".", "_" or "-"');

/** A table or column name in a legacy database: a plain SQL identifier, quoted when used. */
const sqlName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'must be a SQL identifier (letters, digits, _; at most 63)');

/** A field (column, JSON member, CSV header) of a source row. */
const sourceField = z.string().min(1).max(128);

/** One table or file of a source, copied into one collection. */
export const migrationDatasetSchema = z.strictObject({
  collection: id,
  /** Database sources: the table. */
  table: sqlName.optional(),
  /** File sources: the NDJSON or CSV file, relative to the data directory. */
  file: z.string().min(1).optional(),
  /** The source field holding the record id (unique in the table or file). */
  idField: sourceField.default('id'),
  /** The source field holding the subject id. */
  subjectField: sourceField,
  /** Collection fields to copy: a list (same names at source), or a map of collection field: source field. */
  fields: z.union([z.array(sourceField).min(1), z.record(z.string(), sourceField)]),
  /**
   * Source columns deliberately not copied: purge deletes them with their rows, and the certificate
   * lists them. Any other unmapped column makes purge refuse (`MIGRATION_UNMAPPED_COLUMNS`).
   */
  discard: z.array(sourceField).default([]),
});

/** A legacy source: a SQLite file, a PostgreSQL database, or NDJSON / CSV export files. */
export const migrationSourceSchema = z.strictObject({
  id,
  /** The site the source sits on. */
  site: id,
  kind: z.enum(['sqlite', 'postgres', 'ndjson', 'csv']),
  /** SQLite: the database file. */
  path: z.string().min(1).optional(),
  /** PostgreSQL: the connection (same keys as a postgres store; `schema` is where the tables are). */
  postgres: z.strictObject(postgresConnectionShape).optional(),
  /** False for sources that cannot delete rows (an archive): purge crypto-shreds or records a pending destruction. */
  deletable: z.boolean().default(true),
  /** File sources sealed with AES-256-GCM under a key Custos holds (so it can crypto-shred them). */
  encryption: z.strictObject({ keyFile: z.string().min(1) }).optional(),
  datasets: z.array(migrationDatasetSchema).min(1),
});

/** Where migration state (checkpoints, copied-record digests) is kept. */
const stateSchema = z
  .discriminatedUnion('driver', [
    z.strictObject({ driver: z.literal('sqlite'), path: z.string().min(1).default('migration.db') }),
    z.strictObject({ driver: z.literal('postgres'), ...postgresConnectionShape }),
  ])
  .default({ driver: 'sqlite', path: 'migration.db' });

/** The `migration` section. */
export const migrationSchema = z
  .strictObject({
    /** Records per batch: one target transaction, one read-back, one ledger entry, one checkpoint. */
    batchSize: z.number().int().min(1).max(50_000).default(1000),
    /** A bad record: `stop` the run, or `skip` it (held back, reported, never deleted). */
    onError: z.enum(['stop', 'skip']).default('stop'),
    state: stateSchema,
    /** Directory (in the data dir) where deletion certificates are written. */
    certificates: z.string().min(1).default('certificates'),
    /** Where subjects' home jurisdictions come from, for subjects Custos does not know yet. */
    accounts: z
      .strictObject({
        source: id,
        table: sqlName.optional(),
        file: z.string().min(1).optional(),
        subjectField: sourceField,
        jurisdictionField: sourceField,
        /** Source value → jurisdiction id (default: the value itself). */
        values: z.record(z.string(), id).optional(),
      })
      .optional(),
    sources: z.array(migrationSourceSchema).default([]),
  })
  .optional();

/** The `migration` section as written, after defaults. */
export type RawMigration = z.output<typeof migrationSchema>;
