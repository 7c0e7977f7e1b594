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
 * narrow `ledger_sequenced (id, seq_index unique)` row takes its place, which waiters look up.
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
];

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
    /** Moves the tree from size $3 only: the atomic check that a batch starts at the stored size. */
    setTree: namedStatement(
      `UPDATE ${s}.ledger_tree SET size = $1, frontier = $2 WHERE id = 1 AND size = $3`,
    ),
    lockTree: namedStatement(`SELECT size FROM ${s}.ledger_tree WHERE id = 1 FOR UPDATE`),
    putEntries: namedStatement(`INSERT INTO ${e} (first, count, data)
      SELECT * FROM unnest($1::bigint[], $2::integer[], $3::bytea[])`),
    /** Replaces a chunk's earlier pieces and the new last piece ($4, at $2) by one row at $1. */
    mergeEntries:
      namedStatement(`WITH gone AS (DELETE FROM ${e} WHERE first >= $1 AND first < $2 RETURNING first, data)
      INSERT INTO ${e} (first, count, data) SELECT $1, ${LEDGER_CHUNK}, ${agg} || $3::bytea FROM gone`),
    putHashes: namedStatement(`INSERT INTO ${h} (level, first, data)
      SELECT * FROM unnest($1::integer[], $2::bigint[], $3::bytea[])`),
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

const columns = (pieces: readonly LedgerPiece[]): unknown[] => [
  pieces.map((p) => p.first),
  pieces.map((p) => p.count),
  pieces.map((p) => p.data),
];

/**
 * Writes one batch inside the caller's transaction. The tree row moves first, only from the
 * batch's `firstIndex`: that locks it, so a concurrent writer waits, then finds the size moved and
 * fails; nothing is written unless the batch starts at the stored size.
 */
export async function writeLedgerBatch(tx: PgQueryable, sql: LedgerSql, batch: LedgerBatch): Promise<void> {
  // Encode before any statement: an entry too long for a bundle fails here, with nothing sent.
  const entries = entryPieces(batch.firstIndex, batch.entries);
  const hashes = batch.levels.map((level, l) => hashPieces(Math.floor(batch.firstIndex / 2 ** l), level));
  const moved = await tx.query(sql.setTree, [
    batch.tree.size,
    Buffer.concat(batch.tree.frontier),
    batch.firstIndex,
  ]);
  if (moved.rowCount !== 1) {
    throw new CustosError('LEDGER_UNAVAILABLE', 'ledger size changed underneath this writer');
  }
  const plain = entries.filter((p) => p.mergeFrom === undefined);
  if (plain.length > 0) await tx.query(sql.putEntries, columns(plain));
  for (const p of entries) {
    if (p.mergeFrom !== undefined) await tx.query(sql.mergeEntries, [p.mergeFrom, p.first, p.data]);
  }
  const levels: number[] = [];
  const plainHashes: LedgerPiece[] = [];
  hashes.forEach((pieces, level) => {
    for (const p of pieces) {
      if (p.mergeFrom !== undefined) continue;
      levels.push(level);
      plainHashes.push(p);
    }
  });
  if (plainHashes.length > 0) {
    await tx.query(sql.putHashes, [levels, plainHashes.map((p) => p.first), plainHashes.map((p) => p.data)]);
  }
  for (const [level, pieces] of hashes.entries()) {
    for (const p of pieces) {
      if (p.mergeFrom !== undefined) await tx.query(sql.mergeHashes, [level, p.mergeFrom, p.first, p.data]);
    }
  }
}
