import { brotliCompressSync, brotliDecompressSync, constants as zlib } from 'node:zlib';
import { CustosError, isCustosError } from '../../domain/errors.js';
import type {
  LedgerBatch,
  LedgerStore,
  LedgerTreeState,
  StoredCheckpoint,
} from '../../ports/ledger-store.js';
import { migrateSqlite, openSqlite, type SqliteDatabase } from './sqlite-database.js';

/** Hashes per tile and entries per bundle (c2sp.org/tlog-tiles): pieces never cross a multiple of it. */
const CHUNK = 256;
const HASH = 32;
/** Page size of a new ledger database (the largest SQLite allows). */
export const LEDGER_PAGE_SIZE = 65_536;

/*
 * Layout. Entries and hashes are stored in "pieces": runs of consecutive items that never cross a
 * 256-item boundary, so every piece belongs to exactly one tile or bundle. A batch writes one piece
 * per chunk it touches (no rewrite of earlier data, whatever the batch size), and the piece that
 * completes a chunk merges the chunk's pieces into one row: a full tile or bundle is one row.
 * Entry pieces hold the entry-bundle encoding itself (uint16 length prefixes), compressed
 * (`codec` 1, see below) since schema version 2; rows written before (`codec` 0) stay as they are.
 */
const MIGRATIONS = [
  `CREATE TABLE ledger_entries (
     first INTEGER PRIMARY KEY,
     count INTEGER NOT NULL,
     data BLOB NOT NULL
   );
   CREATE TABLE ledger_hashes (
     level INTEGER NOT NULL,
     first INTEGER NOT NULL,
     data BLOB NOT NULL,
     PRIMARY KEY (level, first)
   ) WITHOUT ROWID;
   CREATE TABLE ledger_tree (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     size INTEGER NOT NULL,
     frontier BLOB NOT NULL
   );
   CREATE TABLE ledger_checkpoints (
     size INTEGER PRIMARY KEY,
     root BLOB NOT NULL,
     note TEXT NOT NULL,
     signed_at INTEGER NOT NULL
   );`,
  'ALTER TABLE ledger_entries ADD COLUMN codec INTEGER NOT NULL DEFAULT 0;',
];

/*
 * Entry compression. Entries repeat each other (the same keys, principal, purpose, release…), so
 * Brotli at quality 1 packs a bundle of 256 about twelvefold (≈ 490 → ≈ 40 bytes an entry) at
 * ≈ 1 µs an entry, on the writer thread. With every committed byte written twice (WAL, then the
 * database) and synced, durable appends were bound by the disk: the bytes written per entry fell
 * from ≈ 1,445 to ≈ 535 and appends rose by ≈ 20% (docs/ledger.md). Compression is storage only:
 * tiles, bundles and proofs are served exactly as before.
 */
const CODEC_RAW = 0;
const CODEC_BROTLI = 1;
const COMPRESS_OPTIONS = {
  params: { [zlib.BROTLI_PARAM_QUALITY]: 1, [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT },
};

function damaged(cause?: unknown): CustosError {
  return new CustosError('LEDGER_UNAVAILABLE', 'ledger entry storage is damaged', { cause });
}

/** The bundle bytes of a stored entry piece, decompressed when it is packed. */
function unpackPiece(row: StoredPieceRow): Buffer {
  const { count, data, codec } = row;
  if (codec === CODEC_RAW) return data;
  if (codec !== CODEC_BROTLI) throw damaged();
  // Bounded by the largest piece its entries can make, and a piece holds at most one chunk of
  // 256: a damaged row (whatever count it claims) cannot balloon. A row moved or miscounted
  // still unpacks, and the verifier names what it breaks (the tamper suite swaps rows).
  const entries = Math.min(CHUNK, Math.max(1, Number.isInteger(count) ? count : CHUNK));
  try {
    return brotliDecompressSync(data, { maxOutputLength: entries * (2 + 65_535) });
  } catch (cause) {
    throw damaged(cause);
  }
}

interface PieceRow {
  first: number;
  count: number;
  data: Buffer;
}
interface StoredPieceRow extends PieceRow {
  codec: number;
}
interface CheckpointRow {
  size: number;
  root: Buffer;
  note: string;
  signed_at: number;
}

/** Options of the SQLite ledger store. */
export interface SqliteLedgerStoreOptions {
  /** How long a writer waits for a lock held by another connection before failing. */
  readonly busyTimeoutMs?: number;
  /** Bytes of the file to memory-map for reads (default 1 GiB; 0 disables). */
  readonly mmapBytes?: number;
  /** Compress entry pieces as they are written (default true); reads take either form. */
  readonly compressEntries?: boolean;
}

function unavailable(what: string, cause: unknown): CustosError {
  // LEDGER_MOVED and the others the store raised itself pass as they are.
  if (isCustosError(cause)) return cause;
  return new CustosError('LEDGER_UNAVAILABLE', `ledger store cannot ${what}`, { cause });
}

function toCheckpoint(row: CheckpointRow): StoredCheckpoint {
  return { size: row.size, root: new Uint8Array(row.root), note: row.note, signedAt: row.signed_at };
}

/** Encodes entries as bundle bytes: each prefixed by its big-endian uint16 length. */
function encodePiece(entries: readonly Uint8Array[], from: number, to: number): Buffer {
  let total = 0;
  for (let i = from; i < to; i++) total += 2 + (entries[i] as Uint8Array).length;
  const out = Buffer.allocUnsafe(total);
  let off = 0;
  for (let i = from; i < to; i++) {
    const e = entries[i] as Uint8Array;
    out.writeUInt16BE(e.length, off);
    out.set(e, off + 2);
    off += 2 + e.length;
  }
  return out;
}

/** Splits bundle bytes into entries; throws when the bytes are damaged. */
function decodePiece(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let off = 0;
  while (off < data.length) {
    if (off + 2 > data.length) throw damaged();
    const len = ((data[off] as number) << 8) | (data[off + 1] as number);
    if (off + 2 + len > data.length) throw damaged();
    out.push(data.subarray(off + 2, off + 2 + len));
    off += 2 + len;
  }
  return out;
}

/**
 * The SQLite adapter of the `LedgerStore` port: its own file, WAL with `synchronous = FULL`, so a
 * committed batch survives power loss. Writes take the write lock up front (`BEGIN IMMEDIATE`) and
 * give up after `busyTimeoutMs`.
 */
export class SqliteLedgerStore implements LedgerStore {
  private readonly db: SqliteDatabase;
  private readonly stmts;
  private readonly commitBatch: (batch: LedgerBatch) => void;
  private readonly commitCheckpoint: (cp: StoredCheckpoint) => void;
  private readonly compress: boolean;

  constructor(path: string, options: SqliteLedgerStoreOptions = {}) {
    this.compress = options.compressEntries ?? true;
    try {
      this.db = openSqlite(path, {
        synchronous: 'FULL',
        busyTimeoutMs: options.busyTimeoutMs ?? 2000,
        // Entries are written in runs of ~125 KiB: large pages cut the writes (and WAL frames) per
        // batch about sixteenfold against the default 4 KiB.
        pageSize: LEDGER_PAGE_SIZE,
      });
      // Proofs and tiles are random reads over the hash rows: map the file and keep a larger
      // page cache than the default 2 MiB, so a read costs no system call.
      this.db.pragma(`mmap_size = ${options.mmapBytes ?? 1 << 30}`);
      this.db.pragma('cache_size = -65536');
      migrateSqlite(this.db, 'ledger', MIGRATIONS);
    } catch (cause) {
      throw unavailable('open its database', cause);
    }
    const db = this.db;
    this.stmts = {
      tree: db.prepare('SELECT size, frontier FROM ledger_tree WHERE id = 1'),
      setTree: db.prepare(
        `INSERT INTO ledger_tree (id, size, frontier) VALUES (1, ?, ?)
         ON CONFLICT (id) DO UPDATE SET size = excluded.size, frontier = excluded.frontier`,
      ),
      putEntries: db.prepare('INSERT INTO ledger_entries (first, count, data, codec) VALUES (?, ?, ?, ?)'),
      entryPieces: db.prepare(
        'SELECT first, count, data, codec FROM ledger_entries WHERE first >= ? AND first < ? ORDER BY first',
      ),
      delEntries: db.prepare('DELETE FROM ledger_entries WHERE first >= ? AND first < ?'),
      putHashes: db.prepare('INSERT INTO ledger_hashes (level, first, data) VALUES (?, ?, ?)'),
      hashPieces: db.prepare(
        'SELECT first, data FROM ledger_hashes WHERE level = ? AND first >= ? AND first < ? ORDER BY first',
      ),
      // A short run of hashes out of the piece holding its first: substr reads just those bytes,
      // not the whole 8 KiB tile row (short when the run goes on in the next piece).
      hashRun: db.prepare(
        `SELECT substr(data, (? - first) * 32 + 1, ?) AS data FROM ledger_hashes
         WHERE level = ? AND first <= ? ORDER BY first DESC LIMIT 1`,
      ),
      delHashes: db.prepare('DELETE FROM ledger_hashes WHERE level = ? AND first >= ? AND first < ?'),
      lastCheckpoint: db.prepare('SELECT * FROM ledger_checkpoints ORDER BY size DESC LIMIT 1'),
      listCheckpoints: db.prepare('SELECT * FROM ledger_checkpoints WHERE size > ? ORDER BY size LIMIT ?'),
      putCheckpoint: db.prepare(
        'INSERT INTO ledger_checkpoints (size, root, note, signed_at) VALUES (?, ?, ?, ?)',
      ),
    };
    const batchTx = db.transaction((batch: LedgerBatch) => this.writeBatch(batch));
    this.commitBatch = (batch) => batchTx.immediate(batch);
    const cpTx = db.transaction((cp: StoredCheckpoint) => this.writeCheckpoint(cp));
    this.commitCheckpoint = (cp) => cpTx.immediate(cp);
  }

  /** True when the stored tree is the one a batch was placed on: same size and frontier. */
  private placedOnStored(batch: LedgerBatch): boolean {
    const row = this.stmts.tree.get() as { size: number; frontier: Buffer } | undefined;
    const size = row?.size ?? 0;
    const frontier = row?.frontier ?? Buffer.alloc(0);
    return size === batch.firstIndex && frontier.equals(Buffer.concat(batch.priorFrontier));
  }

  private writeBatch(batch: LedgerBatch): void {
    const { firstIndex, entries } = batch;
    if (!this.placedOnStored(batch)) {
      throw new CustosError('LEDGER_MOVED', 'the ledger tree changed underneath this writer');
    }
    const end = firstIndex + entries.length;
    for (let from = firstIndex; from < end; ) {
      const to = Math.min(end, (Math.floor(from / CHUNK) + 1) * CHUNK);
      this.putPiece(from, to - from, encodePiece(entries, from - firstIndex, to - firstIndex));
      if (to % CHUNK === 0 && from % CHUNK !== 0) this.mergeEntries(to - CHUNK);
      from = to;
    }
    batch.levels.forEach((hashes, level) => {
      const start = Math.floor(firstIndex / 2 ** level);
      const stop = start + hashes.length / HASH;
      for (let from = start; from < stop; ) {
        const to = Math.min(stop, (Math.floor(from / CHUNK) + 1) * CHUNK);
        this.stmts.putHashes.run(level, from, hashes.subarray((from - start) * HASH, (to - start) * HASH));
        if (to % CHUNK === 0 && from % CHUNK !== 0) this.mergeHashes(level, to - CHUNK);
        from = to;
      }
    });
    this.stmts.setTree.run(batch.tree.size, Buffer.concat(batch.tree.frontier));
  }

  private putPiece(first: number, count: number, bundle: Buffer): void {
    if (this.compress) {
      this.stmts.putEntries.run(first, count, brotliCompressSync(bundle, COMPRESS_OPTIONS), CODEC_BROTLI);
    } else this.stmts.putEntries.run(first, count, bundle, CODEC_RAW);
  }

  private mergeEntries(chunkStart: number): void {
    const rows = this.stmts.entryPieces.all(chunkStart, chunkStart + CHUNK) as StoredPieceRow[];
    this.stmts.delEntries.run(chunkStart, chunkStart + CHUNK);
    this.putPiece(chunkStart, CHUNK, Buffer.concat(rows.map(unpackPiece)));
  }

  private mergeHashes(level: number, chunkStart: number): void {
    const rows = this.stmts.hashPieces.all(level, chunkStart, chunkStart + CHUNK) as PieceRow[];
    this.stmts.delHashes.run(level, chunkStart, chunkStart + CHUNK);
    this.stmts.putHashes.run(level, chunkStart, Buffer.concat(rows.map((r) => r.data)));
  }

  private writeCheckpoint(cp: StoredCheckpoint): void {
    const row = this.stmts.lastCheckpoint.get() as CheckpointRow | undefined;
    if (row !== undefined) {
      if (cp.size < row.size) {
        throw new CustosError(
          'LEDGER_FORK_REFUSED',
          `refusing to record a checkpoint smaller than size ${row.size}`,
        );
      }
      if (cp.size === row.size) {
        if (!Buffer.from(cp.root).equals(row.root)) {
          throw new CustosError(
            'LEDGER_FORK_REFUSED',
            `refusing to record a second root for size ${row.size}`,
          );
        }
        return;
      }
    }
    this.stmts.putCheckpoint.run(cp.size, Buffer.from(cp.root), cp.note, cp.signedAt);
  }

  async readTree(): Promise<LedgerTreeState> {
    try {
      const row = this.stmts.tree.get() as { size: number; frontier: Buffer } | undefined;
      if (row === undefined) return { size: 0, frontier: [] };
      const frontier: Uint8Array[] = [];
      for (let off = 0; off < row.frontier.length; off += HASH) {
        frontier.push(new Uint8Array(row.frontier.subarray(off, off + HASH)));
      }
      return { size: row.size, frontier };
    } catch (cause) {
      throw unavailable('read its tree state', cause);
    }
  }

  async appendBatch(batch: LedgerBatch): Promise<void> {
    try {
      this.commitBatch(batch);
    } catch (cause) {
      throw unavailable('commit a batch', cause);
    }
  }

  private pieces(start: number, end: number): PieceRow[] {
    let rows: StoredPieceRow[];
    try {
      rows = this.stmts.entryPieces.all(start - (start % CHUNK), end) as StoredPieceRow[];
    } catch (cause) {
      throw unavailable('read entries', cause);
    }
    return rows.map((r) => ({ first: r.first, count: r.count, data: unpackPiece(r) }));
  }

  async readEntries(start: number, end: number): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    for (const row of this.pieces(start, end)) {
      decodePiece(row.data).forEach((entry, i) => {
        const index = row.first + i;
        if (index >= start && index < end) out.push(entry);
      });
    }
    return out;
  }

  async readEntryBundle(start: number, end: number): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    for (const row of this.pieces(start, end)) {
      if (row.first >= start && row.first + row.count <= end) {
        parts.push(row.data);
        continue;
      }
      // Only a piece that straddles the requested range is decoded and trimmed.
      const kept = decodePiece(row.data).filter((_, i) => row.first + i >= start && row.first + i < end);
      parts.push(encodePiece(kept, 0, kept.length));
    }
    return Buffer.concat(parts);
  }

  async readHashes(level: number, start: number, end: number): Promise<Uint8Array> {
    // Proofs read one hash, or the few (up to 8) a node of an unkept level is hashed up from.
    if (end - start <= 8 && end > start) {
      let row: { data: Buffer } | undefined;
      try {
        row = this.stmts.hashRun.get(start, (end - start) * HASH, level, start) as
          | { data: Buffer }
          | undefined;
      } catch (cause) {
        throw unavailable('read tree hashes', cause);
      }
      if (row !== undefined && row.data.length === (end - start) * HASH) {
        return new Uint8Array(row.data.buffer, row.data.byteOffset, row.data.length);
      }
      if (end - start === 1) throw new CustosError('LEDGER_UNAVAILABLE', 'ledger tree hashes are missing');
    }
    const out = new Uint8Array((end - start) * HASH);
    let covered = 0;
    try {
      const rows = this.stmts.hashPieces.all(level, start - (start % CHUNK), end) as PieceRow[];
      for (const row of rows) {
        const lo = Math.max(start, row.first);
        const hi = Math.min(end, row.first + row.data.length / HASH);
        if (hi <= lo) continue;
        out.set(row.data.subarray((lo - row.first) * HASH, (hi - row.first) * HASH), (lo - start) * HASH);
        covered += hi - lo;
      }
    } catch (cause) {
      throw unavailable('read tree hashes', cause);
    }
    if (covered !== end - start)
      throw new CustosError('LEDGER_UNAVAILABLE', 'ledger tree hashes are missing');
    return out;
  }

  async saveCheckpoint(checkpoint: StoredCheckpoint): Promise<void> {
    try {
      this.commitCheckpoint(checkpoint);
    } catch (cause) {
      throw unavailable('record a checkpoint', cause);
    }
  }

  async lastCheckpoint(): Promise<StoredCheckpoint | undefined> {
    try {
      const row = this.stmts.lastCheckpoint.get() as CheckpointRow | undefined;
      return row === undefined ? undefined : toCheckpoint(row);
    } catch (cause) {
      throw unavailable('read checkpoints', cause);
    }
  }

  async listCheckpoints(afterSize: number, limit: number): Promise<StoredCheckpoint[]> {
    try {
      return (this.stmts.listCheckpoints.all(afterSize, limit) as CheckpointRow[]).map(toCheckpoint);
    } catch (cause) {
      throw unavailable('read checkpoints', cause);
    }
  }

  async probeWritable(): Promise<void> {
    try {
      this.db.exec('BEGIN IMMEDIATE');
      this.db.exec('ROLLBACK');
    } catch (cause) {
      throw unavailable('take its write lock', cause);
    }
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
