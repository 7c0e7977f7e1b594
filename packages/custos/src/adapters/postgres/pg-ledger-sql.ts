import { CustosError } from '../../domain/errors.js';
import type { LedgerBatch } from '../../ports/ledger-store.js';
import { entryPieces, hashPieces, LEDGER_CHUNK, type LedgerPiece } from './pg-ledger-pieces.js';
import type { PgMigration } from './pg-migrate.js';
import { quoteIdent } from './pg-migrate.js';
import { namedStatement } from './pg-statement.js';
import type { PgQueryable } from './pg-types.js';

/**
 * The ledger's tables, the same layout as the SQLite adapter's (docs/ledger.md): entries and hashes
 * in pieces that never cross a 256-item boundary, one row per full tile; the tree state in one row
 * (created empty, so a writer can lock it); the no-fork checkpoint history. Plus the queue of the
 * multi-instance mode (docs/deployment.md): entries written by any instance, each mapped to exactly
 * one tree index by the sequencer in the transaction that appends it: the queue row is deleted and a
 * narrow `ledger_sequenced (id, seq_index unique)` row takes its place, which waiters look up. A
 * queue row that is not a ledger entry moves to `ledger_rejected` instead (migration 2).
 */
export const LEDGER_MIGRATIONS: readonly PgMigration[] = [
  (s) => `CREATE TABLE ${s}.ledger_entries (
     first bigint PRIMARY KEY,
     count integer NOT NULL,
     data bytea NOT NULL
   );
   CREATE TABLE ${s}.ledger_hashes (
     level integer NOT NULL,
     first bigint NOT NULL,
     data bytea NOT NULL,
     PRIMARY KEY (level, first)
   );
   CREATE TABLE ${s}.ledger_tree (
     id integer PRIMARY KEY CHECK (id = 1),
     size bigint NOT NULL,
     frontier bytea NOT NULL
   );
   INSERT INTO ${s}.ledger_tree (id, size, frontier) VALUES (1, 0, ''::bytea);
   CREATE TABLE ${s}.ledger_checkpoints (
     size bigint PRIMARY KEY,
     root bytea NOT NULL,
     note text NOT NULL,
     signed_at bigint NOT NULL
   );
   CREATE TABLE ${s}.ledger_queue (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     ord integer NOT NULL,
     entry bytea NOT NULL,
     enqueued_at timestamptz NOT NULL DEFAULT now()
   );
   CREATE TABLE ${s}.ledger_sequenced (
     id bigint PRIMARY KEY,
     seq_index bigint NOT NULL UNIQUE,
     sequenced_at timestamptz NOT NULL DEFAULT now()
   );`,
  // Queue rows the sequencer refused (not a ledger entry): kept, out of the queue, for investigation.
  (s) => `CREATE TABLE ${s}.ledger_rejected (
     id bigint PRIMARY KEY,
     entry bytea NOT NULL,
     reason text NOT NULL,
     enqueued_at timestamptz NOT NULL,
     rejected_at timestamptz NOT NULL DEFAULT now()
   );`,
];

/**
 * The common table expressions of a batch write: tree move (t), entry pieces, hash pieces. The
 * tree moves only from the tree the batch was placed on: size $3 and frontier $10.
 */
function appendCte(s: string): string {
  return `WITH t AS (UPDATE ${s}.ledger_tree SET size = $1, frontier = $2
      WHERE id = 1 AND size = $3 AND frontier = $10 RETURNING 1),
    e AS (INSERT INTO ${s}.ledger_entries (first, count, data)
      SELECT * FROM unnest($4::bigint[], $5::integer[], $6::bytea[]) WHERE EXISTS (SELECT 1 FROM t)),
    h AS (INSERT INTO ${s}.ledger_hashes (level, first, data)
      SELECT * FROM unnest($7::integer[], $8::bigint[], $9::bytea[]) WHERE EXISTS (SELECT 1 FROM t))`;
}

/** The ledger statements for one schema (named: prepared once per connection). */
export type LedgerSql = ReturnType<typeof ledgerSql>;

/** Builds the ledger's statements for `schema`. */
export function ledgerSql(schema: string) {
  const s = quoteIdent(schema);
  const e = `${s}.ledger_entries`;
  const h = `${s}.ledger_hashes`;
  const c = `${s}.ledger_checkpoints`;
  const agg = `coalesce(string_agg(data, ''::bytea ORDER BY first), ''::bytea)`;
  return {
    tree: namedStatement(`SELECT size, frontier FROM ${s}.ledger_tree WHERE id = 1`),
    lockTree: namedStatement(`SELECT size FROM ${s}.ledger_tree WHERE id = 1 FOR UPDATE`),
    /**
     * A batch's tree move and its new pieces in one statement. The tree moves only from the tree the
     * batch was placed on (size $3, frontier $10): the atomic check that the batch starts on the
     * stored tree; the inserts run only if it moved.
     */
    append: namedStatement(`${appendCte(s)} SELECT (SELECT count(*) FROM t)::integer AS moved`),
    /**
     * The same, plus the move of queued entries ($11 ids) to their indexes ($12): only rows still
     * queued are deleted, so `assigned` proves each got exactly one; and a NOTIFY ($13, $14).
     */
    appendQueued: namedStatement(`${appendCte(s)},
        m AS (SELECT * FROM unnest($11::bigint[], $12::bigint[]) AS u(id, idx)),
        gone AS (DELETE FROM ${s}.ledger_queue q USING m WHERE q.id = m.id AND EXISTS (SELECT 1 FROM t)
          RETURNING q.id),
        done AS (INSERT INTO ${s}.ledger_sequenced (id, seq_index)
          SELECT m.id, m.idx FROM m JOIN gone ON gone.id = m.id RETURNING 1)
      SELECT (SELECT count(*) FROM t)::integer AS moved, (SELECT count(*) FROM done)::integer AS assigned,
        pg_notify($13, $14),
        -- Aborts the whole statement (division by zero) if the tree moved but a row was no longer
        -- queued: a batch never places an entry twice, even without an explicit transaction.
        1 / ((SELECT count(*) FROM t) = 0 OR (SELECT count(*) FROM done) = cardinality($11::bigint[]))::integer
          AS guard`),
    /** Replaces a chunk's earlier pieces and the new last piece ($4, at $2) by one row at $1. */
    mergeEntries:
      namedStatement(`WITH gone AS (DELETE FROM ${e} WHERE first >= $1 AND first < $2 RETURNING first, data)
      INSERT INTO ${e} (first, count, data) SELECT $1, ${LEDGER_CHUNK}, ${agg} || $3::bytea FROM gone`),
    mergeHashes:
      namedStatement(`WITH gone AS (DELETE FROM ${h} WHERE level = $1 AND first >= $2 AND first < $3
        RETURNING first, data)
      INSERT INTO ${h} (level, first, data) SELECT $1, $2, ${agg} || $4::bytea FROM gone`),
    entryPieces: namedStatement(
      `SELECT first, count, data FROM ${e} WHERE first >= $1 AND first < $2 ORDER BY first`,
    ),
    hashPieces: namedStatement(
      `SELECT first, data FROM ${h} WHERE level = $1 AND first >= $2 AND first < $3 ORDER BY first`,
    ),
    /** One hash out of its piece: 32 bytes, not the whole 8 KiB tile row. */
    hashAt: namedStatement(`SELECT substring(data FROM ($1::bigint - first)::integer * 32 + 1 FOR 32) AS data
      FROM ${h} WHERE level = $2 AND first <= $1 ORDER BY first DESC LIMIT 1`),
    lockCheckpoints: `LOCK TABLE ${c} IN SHARE ROW EXCLUSIVE MODE`,
    lastCheckpoint: namedStatement(`SELECT size, root, note, signed_at FROM ${c} ORDER BY size DESC LIMIT 1`),
    listCheckpoints: namedStatement(
      `SELECT size, root, note, signed_at FROM ${c} WHERE size > $1 ORDER BY size LIMIT $2`,
    ),
    putCheckpoint: namedStatement(`INSERT INTO ${c} (size, root, note, signed_at) VALUES ($1, $2, $3, $4)`),
  };
}

/** Queued entries a sequencer's batch places, and the channel to notify their waiters on. */
export interface QueuedPlacement {
  readonly ids: readonly number[];
  readonly indexes: readonly number[];
  readonly channel: string;
}

/**
 * Commits one batch on `conn` (a connection, not a pool): one statement for the tree move and every
 * new piece (and, for a sequencer, the queue rows' indexes), atomic on its own; when the batch
 * completes tiles, that statement and one merge per tile run in a transaction. Nothing is written
 * unless the batch starts at the stored size: the tree row's update locks it, so a concurrent
 * writer waits, then finds the size moved and fails.
 */
export async function commitLedgerBatch(
  conn: PgQueryable,
  sql: LedgerSql,
  batch: LedgerBatch,
  queued?: QueuedPlacement,
): Promise<void> {
  // Encode before any statement: an entry too long for a bundle fails here, with nothing sent.
  const entries = entryPieces(batch.firstIndex, batch.entries);
  const hashes = batch.levels.flatMap((level, l) =>
    hashPieces(Math.floor(batch.firstIndex / 2 ** l), level).map((p) => ({ ...p, level: l })),
  );
  const merges =
    entries.some((p) => p.mergeFrom !== undefined) || hashes.some((p) => p.mergeFrom !== undefined);
  if (!merges) {
    await writePieces(conn, sql, batch, entries, hashes, queued);
    return;
  }
  await conn.query('BEGIN');
  try {
    await writePieces(conn, sql, batch, entries, hashes, queued);
    await conn.query('COMMIT');
  } catch (err) {
    await conn.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

async function writePieces(
  tx: PgQueryable,
  sql: LedgerSql,
  batch: LedgerBatch,
  entries: readonly LedgerPiece[],
  hashes: readonly (LedgerPiece & { readonly level: number })[],
  queued: QueuedPlacement | undefined,
): Promise<void> {
  const plain = entries.filter((p) => p.mergeFrom === undefined);
  const plainHashes = hashes.filter((p) => p.mergeFrom === undefined);
  const params: unknown[] = [
    batch.tree.size,
    Buffer.concat(batch.tree.frontier),
    batch.firstIndex,
    plain.map((p) => p.first),
    plain.map((p) => p.count),
    plain.map((p) => p.data),
    plainHashes.map((p) => p.level),
    plainHashes.map((p) => p.first),
    plainHashes.map((p) => p.data),
    Buffer.concat(batch.priorFrontier),
  ];
  const { rows } =
    queued === undefined
      ? await tx.query<{ moved: number; assigned?: number }>(sql.append, params)
      : await tx.query<{ moved: number; assigned?: number }>(sql.appendQueued, [
          ...params,
          queued.ids,
          queued.indexes,
          queued.channel,
          String(batch.tree.size),
        ]);
  const row = rows[0];
  if (row?.moved !== 1)
    throw new CustosError('LEDGER_MOVED', 'the ledger tree changed underneath this writer');
  if (queued !== undefined && row.assigned !== queued.ids.length) {
    throw new CustosError('LEDGER_UNAVAILABLE', 'a queued ledger entry was already sequenced');
  }
  for (const p of entries) {
    if (p.mergeFrom !== undefined) await tx.query(sql.mergeEntries, [p.mergeFrom, p.first, p.data]);
  }
  for (const p of hashes) {
    if (p.mergeFrom !== undefined) await tx.query(sql.mergeHashes, [p.level, p.mergeFrom, p.first, p.data]);
  }
}
