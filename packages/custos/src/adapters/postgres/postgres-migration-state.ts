import { CustosError } from '../../domain/errors.js';
import type {
  DatasetState,
  HeldRecord,
  MigratedRecord,
  MigrationStateStore,
} from '../../ports/migration-state.js';
import { toMigratedRecord } from '../sqlite/sqlite-migration-state.js';
import { guardPg } from './pg-errors.js';
import { migratePostgres, type PgMigration, quoteIdent } from './pg-migrate.js';
import { withTransaction } from './pg-transaction.js';
import type { PgPool, PgQueryable } from './pg-types.js';

const MIGRATIONS: readonly PgMigration[] = [
  (s) => `CREATE TABLE ${s}.migration_datasets (dataset text COLLATE "C" PRIMARY KEY, state text NOT NULL);
   CREATE TABLE ${s}.migration_records (
     dataset text COLLATE "C" NOT NULL, seq bigint NOT NULL, source_key text COLLATE "C" NOT NULL,
     subject text NOT NULL, id text NOT NULL, digest bytea NOT NULL, store text NOT NULL,
     deleted boolean NOT NULL DEFAULT false,
     PRIMARY KEY (dataset, seq));
   CREATE TABLE ${s}.migration_held (
     dataset text COLLATE "C" NOT NULL, source_key text COLLATE "C" NOT NULL, at text NOT NULL,
     reason text NOT NULL, detail text NOT NULL, PRIMARY KEY (dataset, source_key));`,
];

const WHICH = { copied: 'AND NOT deleted', deleted: 'AND deleted', all: '' } as const;

/** The PostgreSQL adapter of `MigrationStateStore`: three tables in the state's own schema. */
export class PostgresMigrationState implements MigrationStateStore {
  private readonly schema: string;
  private readonly t: { datasets: string; records: string; held: string };

  private constructor(
    private readonly pool: PgPool,
    schema: string,
    private readonly release: (() => Promise<void>) | undefined,
  ) {
    this.schema = schema;
    const q = quoteIdent(schema);
    this.t = {
      datasets: `${q}.migration_datasets`,
      records: `${q}.migration_records`,
      held: `${q}.migration_held`,
    };
  }

  /** Migrates the schema to the newest version, then returns the store. */
  static async open(options: {
    pool: PgPool;
    schema: string;
    release?: (() => Promise<void>) | undefined;
  }): Promise<PostgresMigrationState> {
    await guardPg('migration', () => migratePostgres(options.pool, options.schema, 'migration', MIGRATIONS));
    return new PostgresMigrationState(options.pool, options.schema, options.release);
  }

  private put(q: PgQueryable, state: DatasetState): Promise<unknown> {
    return q.query(
      `INSERT INTO ${this.t.datasets} (dataset, state) VALUES ($1, $2)
       ON CONFLICT (dataset) DO UPDATE SET state = excluded.state`,
      [state.dataset, JSON.stringify(state)],
    );
  }

  async dataset(id: string): Promise<DatasetState | undefined> {
    const { rows } = await guardPg('migration', () =>
      this.pool.query<{ state: string }>(`SELECT state FROM ${this.t.datasets} WHERE dataset = $1`, [id]),
    );
    return rows[0] === undefined ? undefined : (JSON.parse(rows[0].state) as DatasetState);
  }

  async datasets(): Promise<DatasetState[]> {
    const { rows } = await guardPg('migration', () =>
      this.pool.query<{ state: string }>(`SELECT state FROM ${this.t.datasets} ORDER BY dataset`),
    );
    return rows.map((r) => JSON.parse(r.state) as DatasetState);
  }

  async commitCopy(
    state: DatasetState,
    records: readonly MigratedRecord[],
    held: readonly HeldRecord[],
    released: readonly string[],
  ): Promise<void> {
    await guardPg('migration', () =>
      withTransaction(this.pool, async (tx) => {
        if (records.length > 0) {
          await tx.query(
            `INSERT INTO ${this.t.records} (dataset, seq, source_key, subject, id, digest, store)
             SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::bytea[], $7::text[])
             ON CONFLICT DO NOTHING`,
            [
              state.dataset,
              records.map((r) => r.seq),
              records.map((r) => r.sourceKey),
              records.map((r) => r.subject),
              records.map((r) => r.id),
              records.map((r) => Buffer.from(r.digest)),
              records.map((r) => r.store),
            ],
          );
        }
        for (const h of held) {
          await tx.query(
            `INSERT INTO ${this.t.held} (dataset, source_key, at, reason, detail) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (dataset, source_key) DO UPDATE SET at = excluded.at, reason = excluded.reason, detail = excluded.detail`,
            [state.dataset, h.sourceKey, h.at, h.reason, h.detail],
          );
        }
        if (released.length > 0) {
          await tx.query(`DELETE FROM ${this.t.held} WHERE dataset = $1 AND source_key = ANY($2::text[])`, [
            state.dataset,
            [...released],
          ]);
        }
        await this.put(tx, state);
      }),
    );
  }

  async records(
    dataset: string,
    afterSeq: number,
    limit: number,
    which: 'copied' | 'deleted' | 'all',
  ): Promise<MigratedRecord[]> {
    const { rows } = await guardPg('migration', () =>
      this.pool.query<{
        seq: string;
        source_key: string;
        subject: string;
        id: string;
        digest: Buffer;
        store: string;
        deleted: boolean;
      }>(
        `SELECT seq, source_key, subject, id, digest, store, deleted FROM ${this.t.records}
         WHERE dataset = $1 AND seq > $2 ${WHICH[which]} ORDER BY seq LIMIT $3`,
        [dataset, afterSeq, limit],
      ),
    );
    return rows.map((r) => toMigratedRecord({ ...r, seq: Number(r.seq), deleted: r.deleted ? 1 : 0 }));
  }

  async held(dataset: string, afterKey: string, limit: number): Promise<HeldRecord[]> {
    const { rows } = await guardPg('migration', () =>
      this.pool.query<{ source_key: string; at: string; reason: HeldRecord['reason']; detail: string }>(
        `SELECT source_key, at, reason, detail FROM ${this.t.held}
         WHERE dataset = $1 AND source_key > $2 ORDER BY source_key LIMIT $3`,
        [dataset, afterKey, limit],
      ),
    );
    return rows.map((r) => ({ sourceKey: r.source_key, at: r.at, reason: r.reason, detail: r.detail }));
  }

  async countHeld(dataset: string): Promise<number> {
    const { rows } = await guardPg('migration', () =>
      this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.t.held} WHERE dataset = $1`, [
        dataset,
      ]),
    );
    return Number(rows[0]?.n ?? 0);
  }

  async commitDelete(state: DatasetState, seqs: readonly number[]): Promise<void> {
    await guardPg('migration', () =>
      withTransaction(this.pool, async (tx) => {
        if (seqs.length > 0) {
          await tx.query(
            `UPDATE ${this.t.records} SET deleted = true WHERE dataset = $1 AND seq = ANY($2::bigint[])`,
            [state.dataset, [...seqs]],
          );
        }
        await this.put(tx, state);
      }),
    );
  }

  async save(state: DatasetState): Promise<void> {
    await guardPg('migration', () => this.put(this.pool, state));
  }

  /** A session advisory lock keyed by the state schema, held on one connection until released. */
  async lock(): Promise<() => Promise<void>> {
    const client = await guardPg('migration', () => this.pool.connect());
    const key = `custos-migrate:${this.schema}`;
    try {
      const { rows } = await client.query<{ ok: boolean }>(
        'SELECT pg_try_advisory_lock(hashtext($1)) AS ok',
        [key],
      );
      if (rows[0]?.ok !== true) {
        throw new CustosError(
          'MIGRATION_BUSY',
          `another migration process holds the lock of schema ${this.schema}`,
        );
      }
    } catch (err) {
      client.release();
      throw err;
    }
    let released = false;
    return async () => {
      // Once: a second release must not touch a connection that is back in the pool.
      if (released) return;
      released = true;
      try {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [key]);
      } finally {
        client.release();
      }
    };
  }

  async close(): Promise<void> {
    await this.release?.();
  }
}
