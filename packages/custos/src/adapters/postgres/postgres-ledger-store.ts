import { CustosError, isCustosError } from '../../domain/errors.js';
import type {
  LedgerBatch,
  LedgerStore,
  LedgerTreeState,
  StoredCheckpoint,
} from '../../ports/ledger-store.js';
import { toStoreError } from './pg-errors.js';
import { decodeBundle, encodeBundle, LEDGER_CHUNK, LEDGER_HASH } from './pg-ledger-pieces.js';
import { commitLedgerBatch, LEDGER_MIGRATIONS, type LedgerSql, ledgerSql } from './pg-ledger-sql.js';
import { migratePostgres, type PgMigrationReport } from './pg-migrate.js';
import { withTransaction } from './pg-transaction.js';
import type { PgPool } from './pg-types.js';
import type { PostgresStoreOptions } from './postgres-record-store.js';

interface PieceRow {
  first: string;
  count: number;
  data: Buffer;
}
interface CheckpointRow {
  size: string;
  root: Buffer;
  note: string;
  signed_at: string;
}

const toCheckpoint = (row: CheckpointRow): StoredCheckpoint => ({
  size: Number(row.size),
  root: new Uint8Array(row.root),
  note: row.note,
  signedAt: Number(row.signed_at),
});

/**
 * Maps any failure to LEDGER_UNAVAILABLE (or keeps a ledger code). The message says what failed and
 * a PostgreSQL error code only: never the URL, a password or the driver's text.
 */
export function toLedgerError(err: unknown, what: string): CustosError {
  if (isCustosError(err, 'LEDGER_UNAVAILABLE') || isCustosError(err, 'LEDGER_FORK_REFUSED')) return err;
  if (isCustosError(err, 'LEDGER_MOVED')) return err;
  if (isCustosError(err, 'SCHEMA_TOO_NEW')) return err;
  const reason = /\(([^)]*)\)$/.exec(toStoreError(err, 'ledger').message)?.[1] ?? 'failed';
  return new CustosError('LEDGER_UNAVAILABLE', `ledger store cannot ${what} (PostgreSQL: ${reason})`);
}

/** Decodes a stored frontier (concatenated 32-byte hashes). */
export function toTreeState(row: { size: string; frontier: Buffer } | undefined): LedgerTreeState {
  if (row === undefined) return { size: 0, frontier: [] };
  const frontier: Uint8Array[] = [];
  for (let off = 0; off < row.frontier.length; off += LEDGER_HASH) {
    frontier.push(new Uint8Array(row.frontier.subarray(off, off + LEDGER_HASH)));
  }
  return { size: Number(row.size), frontier };
}

/**
 * The PostgreSQL adapter of the `LedgerStore` port, in its own schema (default `custos_ledger`).
 * Same layout and guarantees as the SQLite adapter: a batch is one transaction that first moves the
 * tree row from the batch's first index (so two writers can never both append at one size), and the
 * checkpoint history is checked and extended under a table lock, so the no-fork rule holds across
 * every process sharing the database.
 */
export class PostgresLedgerStore implements LedgerStore {
  /** What the start-up migration did. */
  readonly migration: PgMigrationReport;
  readonly schema: string;
  /** The ledger's statements, for the multi-instance queue adapter that shares the schema. */
  readonly sql: LedgerSql;
  private readonly pool: PgPool;
  private readonly release: (() => Promise<void>) | undefined;
  private closed = false;

  private constructor(options: PostgresStoreOptions, migration: PgMigrationReport) {
    this.pool = options.pool;
    this.release = options.release;
    this.schema = options.schema;
    this.migration = migration;
    this.sql = ledgerSql(options.schema);
  }

  /** Migrates the ledger schema to the newest version, then returns the store. */
  static async open(options: PostgresStoreOptions): Promise<PostgresLedgerStore> {
    try {
      const migration = await migratePostgres(options.pool, options.schema, 'ledger', LEDGER_MIGRATIONS);
      return new PostgresLedgerStore(options, migration);
    } catch (err) {
      throw toLedgerError(err, 'open its database');
    }
  }

  /** Runs `fn` on the pool unless closed; every failure becomes LEDGER_UNAVAILABLE. */
  private async run<T>(what: string, fn: (pool: PgPool) => Promise<T>): Promise<T> {
    if (this.closed) throw new CustosError('LEDGER_UNAVAILABLE', 'the ledger store is closed');
    try {
      return await fn(this.pool);
    } catch (err) {
      throw toLedgerError(err, what);
    }
  }

  readTree(): Promise<LedgerTreeState> {
    return this.run('read its tree state', async (pool) => {
      const { rows } = await pool.query<{ size: string; frontier: Buffer }>(this.sql.tree);
      return toTreeState(rows[0]);
    });
  }

  appendBatch(batch: LedgerBatch): Promise<void> {
    return this.run('commit a batch', async (pool) => {
      const client = await pool.connect();
      try {
        await commitLedgerBatch(client, this.sql, batch);
        client.release();
      } catch (err) {
        // A failed commit may have left the connection in any state: do not reuse it.
        client.release(true);
        throw err;
      }
    });
  }

  private pieces(start: number, end: number): Promise<PieceRow[]> {
    return this.run('read entries', async (pool) => {
      const { rows } = await pool.query<PieceRow>(this.sql.entryPieces, [
        start - (start % LEDGER_CHUNK),
        end,
      ]);
      return rows;
    });
  }

  async readEntries(start: number, end: number): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    for (const row of await this.pieces(start, end)) {
      const first = Number(row.first);
      decodeBundle(row.data).forEach((entry, i) => {
        if (first + i >= start && first + i < end) out.push(entry);
      });
    }
    return out;
  }

  async readEntryBundle(start: number, end: number): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    for (const row of await this.pieces(start, end)) {
      const first = Number(row.first);
      if (first >= start && first + row.count <= end) {
        parts.push(row.data);
        continue;
      }
      // Only a piece that straddles the requested range is decoded and trimmed.
      const kept = decodeBundle(row.data).filter((_, i) => first + i >= start && first + i < end);
      parts.push(encodeBundle(kept, 0, kept.length));
    }
    return Buffer.concat(parts);
  }

  async readHashes(level: number, start: number, end: number): Promise<Uint8Array> {
    if (end - start === 1) {
      const rows = await this.run('read tree hashes', async (pool) => {
        return (await pool.query<{ data: Buffer }>(this.sql.hashAt, [start, level])).rows;
      });
      const data = rows[0]?.data;
      if (data === undefined || data.length !== LEDGER_HASH) {
        throw new CustosError('LEDGER_UNAVAILABLE', 'ledger tree hashes are missing');
      }
      return new Uint8Array(data.buffer, data.byteOffset, LEDGER_HASH);
    }
    const rows = await this.run('read tree hashes', async (pool) => {
      const q = await pool.query<{ first: string; data: Buffer }>(this.sql.hashPieces, [
        level,
        start - (start % LEDGER_CHUNK),
        end,
      ]);
      return q.rows;
    });
    const out = new Uint8Array((end - start) * LEDGER_HASH);
    let covered = 0;
    for (const row of rows) {
      const first = Number(row.first);
      const lo = Math.max(start, first);
      const hi = Math.min(end, first + row.data.length / LEDGER_HASH);
      if (hi <= lo) continue;
      out.set(
        row.data.subarray((lo - first) * LEDGER_HASH, (hi - first) * LEDGER_HASH),
        (lo - start) * LEDGER_HASH,
      );
      covered += hi - lo;
    }
    if (covered !== end - start)
      throw new CustosError('LEDGER_UNAVAILABLE', 'ledger tree hashes are missing');
    return out;
  }

  saveCheckpoint(cp: StoredCheckpoint): Promise<void> {
    return this.run('record a checkpoint', (pool) =>
      withTransaction(pool, async (tx) => {
        // Readers go on; a second saver waits here, then compares against what the first recorded.
        await tx.query(this.sql.lockCheckpoints);
        const last = (await tx.query<CheckpointRow>(this.sql.lastCheckpoint)).rows[0];
        if (last !== undefined) {
          const size = Number(last.size);
          if (cp.size < size) {
            throw new CustosError(
              'LEDGER_FORK_REFUSED',
              `refusing to record a checkpoint smaller than size ${size}`,
            );
          }
          if (cp.size === size) {
            if (!Buffer.from(cp.root).equals(last.root)) {
              throw new CustosError(
                'LEDGER_FORK_REFUSED',
                `refusing to record a second root for size ${size}`,
              );
            }
            return;
          }
        }
        await tx.query(this.sql.putCheckpoint, [cp.size, Buffer.from(cp.root), cp.note, cp.signedAt]);
      }),
    );
  }

  lastCheckpoint(): Promise<StoredCheckpoint | undefined> {
    return this.run('read checkpoints', async (pool) => {
      const row = (await pool.query<CheckpointRow>(this.sql.lastCheckpoint)).rows[0];
      return row === undefined ? undefined : toCheckpoint(row);
    });
  }

  listCheckpoints(afterSize: number, limit: number): Promise<StoredCheckpoint[]> {
    return this.run('read checkpoints', async (pool) => {
      const { rows } = await pool.query<CheckpointRow>(this.sql.listCheckpoints, [afterSize, limit]);
      return rows.map(toCheckpoint);
    });
  }

  /** Takes and releases the tree row's lock: fails on a read-only replica or an unreachable server. */
  probeWritable(): Promise<void> {
    return this.run('take its write lock', (pool) =>
      withTransaction(pool, async (tx) => {
        await tx.query(this.sql.lockTree);
      }),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.release?.();
  }
}
