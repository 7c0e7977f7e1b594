import { CustosError } from '../../domain/errors.js';
import type { SubjectKeyRow, SubjectRow, SubjectStore } from '../../ports/subject-store.js';
import { guardPg } from './pg-errors.js';
import { migratePostgres, type PgMigration, type PgMigrationReport, quoteIdent } from './pg-migrate.js';
import { namedStatement } from './pg-statement.js';
import { withTransaction } from './pg-transaction.js';
import type { PgPool } from './pg-types.js';
import type { PostgresStoreOptions } from './postgres-record-store.js';

const MIGRATIONS: readonly PgMigration[] = [
  (s) => `CREATE TABLE ${s}.subjects (
     id text COLLATE "C" PRIMARY KEY,
     jurisdiction text NOT NULL,
     erased_at bigint
   );
   CREATE TABLE ${s}.subject_keys (
     subject text COLLATE "C" NOT NULL REFERENCES ${s}.subjects(id),
     version integer NOT NULL,
     kek_version integer NOT NULL,
     wrapped bytea NOT NULL,
     PRIMARY KEY (subject, version)
   );`,
  // The lowest KEK version new keys may be wrapped under, per jurisdiction (raised by rotations).
  (s) => `CREATE TABLE ${s}.kek_floors (
     jurisdiction text PRIMARY KEY,
     min_version integer NOT NULL
   );`,
];

interface Row {
  id: string;
  jurisdiction: string;
  erased_at: string | null;
}

interface KeyRow {
  subject: string;
  version: number;
  kek_version: number;
  wrapped: Buffer;
}

const toSubject = (r: Row): SubjectRow => ({
  id: r.id,
  jurisdiction: r.jurisdiction,
  erasedAt: r.erased_at === null ? undefined : Number(r.erased_at),
});

const toKeyRow = (r: KeyRow): SubjectKeyRow => ({
  subject: r.subject,
  version: r.version,
  kekVersion: r.kek_version,
  wrapped: r.wrapped,
});

/**
 * Creations and floor raises run in READ COMMITTED whatever the server's default: only there does a
 * statement take its snapshot after its locks, so a create that waited for a raise sees its floor.
 * Under REPEATABLE READ or SERIALIZABLE the snapshot is fixed first and the create would miss it.
 */
const READ_COMMITTED = 'BEGIN ISOLATION LEVEL READ COMMITTED';

interface CreateRow {
  created: number;
  stale: boolean | null;
}

function kekStale(jurisdiction: string): CustosError {
  return new CustosError('KEK_STALE', `a data key of ${jurisdiction} is wrapped under a retired KEK version`);
}

/** Errors from the custody store name it so. */
const NAME = 'custody';

/**
 * The PostgreSQL adapter of the `SubjectStore` port. Creation and erasure are each one statement
 * (data-modifying CTEs), so each is atomic without an explicit transaction.
 */
export class PostgresSubjectStore implements SubjectStore {
  /** What the start-up migration did. */
  readonly migration: PgMigrationReport;
  private readonly pool: PgPool;
  private readonly release: (() => Promise<void>) | undefined;
  private readonly sql;
  private closed = false;

  private constructor(options: PostgresStoreOptions, migration: PgMigrationReport) {
    this.pool = options.pool;
    this.release = options.release;
    this.migration = migration;
    const s = quoteIdent(options.schema);
    this.sql = {
      get: namedStatement(`SELECT id, jurisdiction, erased_at FROM ${s}.subjects WHERE id = $1`),
      getMany: namedStatement(
        `SELECT id, jurisdiction, erased_at FROM ${s}.subjects WHERE id = ANY($1::text[])`,
      ),
      // Refused as a whole (stale = true, nothing written) below the jurisdiction's KEK floor. Run in
      // READ COMMITTED, the statement locks subject_keys (ROW EXCLUSIVE) before its snapshot is
      // taken, so a floor raised under raiseKekFloor's table lock is seen (see there).
      create: namedStatement(`WITH floor AS (
          SELECT coalesce((SELECT min_version FROM ${s}.kek_floors WHERE jurisdiction = $2), 0) AS v),
        created AS (
          INSERT INTO ${s}.subjects (id, jurisdiction, erased_at) SELECT $1, $2, NULL FROM floor
          WHERE $5::integer >= floor.v ON CONFLICT DO NOTHING RETURNING id),
        keyed AS (
          INSERT INTO ${s}.subject_keys (subject, version, kek_version, wrapped)
          SELECT $3::text, $4::integer, $5::integer, $6::bytea FROM created RETURNING 1)
        SELECT (SELECT count(*) FROM keyed)::integer AS created, (SELECT $5::integer < v FROM floor) AS stale`),
      // Waits for every transaction writing subject_keys (a creation in flight) to end and holds
      // new ones off until the floor is committed; a rotation is rare, so the pause is brief.
      lockKeys: `LOCK TABLE ${s}.subject_keys IN SHARE ROW EXCLUSIVE MODE`,
      raiseFloor: namedStatement(`INSERT INTO ${s}.kek_floors (jurisdiction, min_version) VALUES ($1, $2)
        ON CONFLICT (jurisdiction) DO UPDATE SET min_version = greatest(${s}.kek_floors.min_version, excluded.min_version)`),
      keys: namedStatement(
        `SELECT subject, version, kek_version, wrapped FROM ${s}.subject_keys WHERE subject = $1 ORDER BY version`,
      ),
      erase: namedStatement(`WITH shredded AS (DELETE FROM ${s}.subject_keys WHERE subject = $1)
        UPDATE ${s}.subjects SET erased_at = $2 WHERE id = $1 AND erased_at IS NULL`),
      count: namedStatement(`SELECT count(*)::integer AS n FROM ${s}.subjects`),
      wrappedBefore: namedStatement(
        `SELECT k.subject, k.version, k.kek_version, k.wrapped FROM ${s}.subject_keys k
         JOIN ${s}.subjects j ON j.id = k.subject
         WHERE j.jurisdiction = $1 AND k.kek_version < $2 ORDER BY k.subject, k.version LIMIT $3`,
      ),
      rewrap: namedStatement(
        `UPDATE ${s}.subject_keys SET kek_version = $1, wrapped = $2
         WHERE subject = $3 AND version = $4 AND kek_version = $5`,
      ),
    };
  }

  /** Migrates the custody schema to the newest version, then returns the store. */
  static async open(options: PostgresStoreOptions): Promise<PostgresSubjectStore> {
    const migration = await guardPg(NAME, () =>
      migratePostgres(options.pool, options.schema, 'subjects', MIGRATIONS),
    );
    return new PostgresSubjectStore(options, migration);
  }

  async get(id: string): Promise<SubjectRow | undefined> {
    const { rows } = await guardPg(NAME, () => this.pool.query<Row>(this.sql.get, [id]));
    return rows[0] ? toSubject(rows[0]) : undefined;
  }

  async getMany(ids: readonly string[]): Promise<Map<string, SubjectRow>> {
    const out = new Map<string, SubjectRow>();
    if (ids.length === 0) return out;
    const { rows } = await guardPg(NAME, () => this.pool.query<Row>(this.sql.getMany, [[...ids]]));
    for (const r of rows) out.set(r.id, toSubject(r));
    return out;
  }

  private static params(subject: SubjectRow, key: SubjectKeyRow): unknown[] {
    const wrapped = Buffer.from(key.wrapped.buffer, key.wrapped.byteOffset, key.wrapped.byteLength);
    return [subject.id, subject.jurisdiction, key.subject, key.version, key.kekVersion, wrapped];
  }

  async create(subject: SubjectRow, key: SubjectKeyRow): Promise<boolean> {
    const { rows } = await guardPg(NAME, () =>
      withTransaction(
        this.pool,
        (tx) => tx.query<CreateRow>(this.sql.create, PostgresSubjectStore.params(subject, key)),
        READ_COMMITTED,
      ),
    );
    if (rows[0]?.stale === true) throw kekStale(subject.jurisdiction);
    return (rows[0]?.created ?? 0) > 0;
  }

  async createMany(
    entries: readonly { readonly subject: SubjectRow; readonly key: SubjectKeyRow }[],
  ): Promise<number> {
    return guardPg(NAME, () =>
      withTransaction(
        this.pool,
        async (tx) => {
          let created = 0;
          for (const e of entries) {
            const { rows } = await tx.query<CreateRow>(
              this.sql.create,
              PostgresSubjectStore.params(e.subject, e.key),
            );
            // Thrown inside the transaction: it rolls back, nothing of this call is written.
            if (rows[0]?.stale === true) throw kekStale(e.subject.jurisdiction);
            created += rows[0]?.created ?? 0;
          }
          return created;
        },
        READ_COMMITTED,
      ),
    );
  }

  async raiseKekFloor(jurisdiction: string, kekVersion: number): Promise<void> {
    await guardPg(NAME, () =>
      withTransaction(
        this.pool,
        async (tx) => {
          await tx.query(this.sql.lockKeys);
          await tx.query(this.sql.raiseFloor, [jurisdiction, kekVersion]);
        },
        READ_COMMITTED,
      ),
    );
  }

  async keys(id: string): Promise<SubjectKeyRow[]> {
    const { rows } = await guardPg(NAME, () => this.pool.query<KeyRow>(this.sql.keys, [id]));
    return rows.map(toKeyRow);
  }

  async keysWrappedBefore(jurisdiction: string, kekVersion: number, limit: number): Promise<SubjectKeyRow[]> {
    const { rows } = await guardPg(NAME, () =>
      this.pool.query<KeyRow>(this.sql.wrappedBefore, [jurisdiction, kekVersion, limit]),
    );
    return rows.map(toKeyRow);
  }

  async rewrap(row: SubjectKeyRow, fromKekVersion: number): Promise<boolean> {
    const wrapped = Buffer.from(row.wrapped.buffer, row.wrapped.byteOffset, row.wrapped.byteLength);
    const result = await guardPg(NAME, () =>
      this.pool.query(this.sql.rewrap, [row.kekVersion, wrapped, row.subject, row.version, fromKekVersion]),
    );
    return (result.rowCount ?? 0) > 0;
  }

  async erase(id: string, at: number): Promise<boolean> {
    const result = await guardPg(NAME, () => this.pool.query(this.sql.erase, [id, at]));
    return (result.rowCount ?? 0) > 0;
  }

  async count(): Promise<number> {
    const { rows } = await guardPg(NAME, () => this.pool.query<{ n: number }>(this.sql.count));
    return rows[0]?.n ?? 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.release?.();
  }
}
