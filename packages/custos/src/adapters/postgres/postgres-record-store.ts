import type { ListQuery, RecordLocation, RecordStore, StoredRecord } from '../../ports/record-store.js';
import { guardPg } from './pg-errors.js';
import { migratePostgres, type PgMigration, type PgMigrationReport, quoteIdent } from './pg-migrate.js';
import { namedStatement } from './pg-statement.js';
import { withTransaction } from './pg-transaction.js';
import type { PgPool } from './pg-types.js';

/**
 * Text keys use the "C" collation: byte-wise UTF-8 order, the order SQLite's memcmp gives, so
 * (collection, subject, id) pages come back in the same order from either adapter.
 */
const MIGRATIONS: readonly PgMigration[] = [
  (s) => `CREATE TABLE ${s}.records (
     collection text COLLATE "C" NOT NULL,
     subject text COLLATE "C" NOT NULL,
     id text COLLATE "C" NOT NULL,
     key_version integer NOT NULL,
     sealed bytea NOT NULL,
     updated_at bigint NOT NULL,
     PRIMARY KEY (collection, subject, id)
   )`,
];

/** Rows per `INSERT … SELECT FROM unnest(…)` statement; larger batches take several, in one transaction. */
const BULK_CHUNK = 5000;

/** Rows in runs of at most BULK_CHUNK, one statement each. */
function bulkChunks(rows: readonly StoredRecord[]): StoredRecord[][] {
  const chunks: StoredRecord[][] = [];
  for (let i = 0; i < rows.length; i += BULK_CHUNK) chunks.push(rows.slice(i, i + BULK_CHUNK));
  return chunks;
}

/** The column arrays a bulk `unnest` statement takes. */
function bulkParams(c: readonly StoredRecord[]): unknown[] {
  return [
    c.map((r) => r.collection),
    c.map((r) => r.subject),
    c.map((r) => r.id),
    c.map((r) => r.keyVersion),
    c.map((r) => toBuffer(r.sealed)),
    c.map((r) => r.updatedAt),
  ];
}

interface Row {
  collection: string;
  subject: string;
  id: string;
  key_version: number;
  sealed: Buffer;
  updated_at: string;
}

const toRecord = (r: Row): StoredRecord => ({
  subject: r.subject,
  collection: r.collection,
  id: r.id,
  keyVersion: r.key_version,
  sealed: r.sealed,
  updatedAt: Number(r.updated_at),
});

const toBuffer = (b: Uint8Array): Buffer =>
  Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/** Options of a PostgreSQL store: a pool (possibly shared) and the schema that holds its tables. */
export interface PostgresStoreOptions {
  readonly pool: PgPool;
  readonly schema: string;
  /** Runs at `close()`, for example to release a shared pool. */
  readonly release?: (() => Promise<void>) | undefined;
}

/** A record as the parameters $1..$6 of `put` and `replace`. */
function rowParams(r: StoredRecord): unknown[] {
  return [r.collection, r.subject, r.id, r.keyVersion, toBuffer(r.sealed), r.updatedAt];
}

/** The PostgreSQL adapter of the `RecordStore` port: one `records` table in the store's own schema. */
export class PostgresRecordStore implements RecordStore {
  readonly id: string;
  /** What the start-up migration did. */
  readonly migration: PgMigrationReport;
  private readonly pool: PgPool;
  private readonly release: (() => Promise<void>) | undefined;
  private readonly sql;
  private closed = false;

  private constructor(id: string, options: PostgresStoreOptions, migration: PgMigrationReport) {
    this.id = id;
    this.pool = options.pool;
    this.release = options.release;
    this.migration = migration;
    const t = `${quoteIdent(options.schema)}.records`;
    this.sql = {
      put: namedStatement(`INSERT INTO ${t} (collection, subject, id, key_version, sealed, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (collection, subject, id) DO UPDATE SET key_version = excluded.key_version,
          sealed = excluded.sealed, updated_at = excluded.updated_at`),
      putMany: namedStatement(`INSERT INTO ${t} (collection, subject, id, key_version, sealed, updated_at)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::integer[], $5::bytea[], $6::bigint[])
        ON CONFLICT (collection, subject, id) DO UPDATE SET key_version = excluded.key_version,
          sealed = excluded.sealed, updated_at = excluded.updated_at`),
      insertNew: namedStatement(`INSERT INTO ${t} (collection, subject, id, key_version, sealed, updated_at)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::integer[], $5::bytea[], $6::bigint[])
        ON CONFLICT (collection, subject, id) DO NOTHING RETURNING collection, subject, id`),
      replace: namedStatement(`UPDATE ${t} SET key_version = $4, sealed = $5, updated_at = $6
        WHERE collection = $1 AND subject = $2 AND id = $3 AND sealed = $7`),
      get: namedStatement(
        `SELECT key_version, sealed, updated_at FROM ${t} WHERE collection = $1 AND subject = $2 AND id = $3`,
      ),
      del: namedStatement(`DELETE FROM ${t} WHERE collection = $1 AND subject = $2 AND id = $3`),
      listAll: namedStatement(`SELECT * FROM ${t} WHERE collection = $1 AND (subject, id) > ($2, $3)
        ORDER BY subject, id LIMIT $4`),
      listSubject: namedStatement(
        `SELECT * FROM ${t} WHERE collection = $1 AND subject = $2 AND id > $3 ORDER BY id LIMIT $4`,
      ),
      scan: namedStatement(`SELECT collection, subject, id FROM ${t} WHERE (collection, subject, id) > ($1, $2, $3)
        ORDER BY collection, subject, id LIMIT $4`),
    };
  }

  /** Migrates the store's schema to the newest version, then returns the store. */
  static async open(id: string, options: PostgresStoreOptions): Promise<PostgresRecordStore> {
    const migration = await guardPg(id, () =>
      migratePostgres(options.pool, options.schema, 'records', MIGRATIONS),
    );
    return new PostgresRecordStore(id, options, migration);
  }

  async put(r: StoredRecord): Promise<void> {
    await guardPg(this.id, () => this.pool.query(this.sql.put, rowParams(r)));
  }

  async putMany(records: readonly StoredRecord[]): Promise<void> {
    // One statement may not touch a row twice (ON CONFLICT DO UPDATE), so keep the last write per
    // key, as a loop of single puts would.
    const latest = new Map<string, StoredRecord>();
    for (const r of records) latest.set(JSON.stringify([r.collection, r.subject, r.id]), r);
    const rows = [...latest.values()];
    if (rows.length === 0) return;
    const chunks = bulkChunks(rows);
    const params = bulkParams;
    await guardPg(this.id, async () => {
      if (chunks.length === 1) {
        await this.pool.query(this.sql.putMany, params(rows));
        return;
      }
      await withTransaction(this.pool, async (tx) => {
        for (const c of chunks) await tx.query(this.sql.putMany, params(c));
      });
    });
  }

  async insertNew(records: readonly StoredRecord[]): Promise<boolean[]> {
    const keyOf = (r: { collection: string; subject: string; id: string }): string =>
      JSON.stringify([r.collection, r.subject, r.id]);
    // The first record per key is the candidate; a later duplicate in the call is never inserted.
    const first = new Map<string, number>();
    records.forEach((r, i) => {
      if (!first.has(keyOf(r))) first.set(keyOf(r), i);
    });
    const rows = [...first.values()].map((i) => records[i] as StoredRecord);
    const inserted = new Set<string>();
    if (rows.length > 0) {
      const chunks = bulkChunks(rows);
      const params = bulkParams;
      type Key = { collection: string; subject: string; id: string };
      await guardPg(this.id, () =>
        withTransaction(this.pool, async (tx) => {
          for (const c of chunks) {
            const { rows: done } = await tx.query<Key>(this.sql.insertNew, params(c));
            for (const k of done) inserted.add(keyOf(k));
          }
        }),
      );
    }
    return records.map((r, i) => first.get(keyOf(r)) === i && inserted.has(keyOf(r)));
  }

  async replace(r: StoredRecord, expected: Uint8Array): Promise<boolean> {
    const result = await guardPg(this.id, () =>
      this.pool.query(this.sql.replace, [...rowParams(r), toBuffer(expected)]),
    );
    return (result.rowCount ?? 0) > 0;
  }

  async get(subject: string, collection: string, id: string): Promise<StoredRecord | undefined> {
    const { rows } = await guardPg(this.id, () =>
      this.pool.query<Pick<Row, 'key_version' | 'sealed' | 'updated_at'>>(this.sql.get, [
        collection,
        subject,
        id,
      ]),
    );
    const row = rows[0];
    return row
      ? {
          subject,
          collection,
          id,
          keyVersion: row.key_version,
          sealed: row.sealed,
          updatedAt: Number(row.updated_at),
        }
      : undefined;
  }

  async delete(subject: string, collection: string, id: string): Promise<boolean> {
    const result = await guardPg(this.id, () => this.pool.query(this.sql.del, [collection, subject, id]));
    return (result.rowCount ?? 0) > 0;
  }

  async list(query: ListQuery): Promise<StoredRecord[]> {
    const { rows } = await guardPg(this.id, () =>
      query.subject === undefined
        ? this.pool.query<Row>(this.sql.listAll, [
            query.collection,
            query.after?.subject ?? '',
            query.after?.id ?? '',
            query.limit,
          ])
        : this.pool.query<Row>(this.sql.listSubject, [
            query.collection,
            query.subject,
            query.after?.id ?? '',
            query.limit,
          ]),
    );
    return rows.map(toRecord);
  }

  async scan(after: RecordLocation | undefined, limit: number): Promise<RecordLocation[]> {
    const { rows } = await guardPg(this.id, () =>
      this.pool.query<RecordLocation>(this.sql.scan, [
        after?.collection ?? '',
        after?.subject ?? '',
        after?.id ?? '',
        limit,
      ]),
    );
    return rows.map((r) => ({ collection: r.collection, subject: r.subject, id: r.id }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.release?.();
  }
}
