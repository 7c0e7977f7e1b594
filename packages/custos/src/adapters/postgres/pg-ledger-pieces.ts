import { CustosError } from '../../domain/errors.js';

/** Hashes per tile and entries per bundle (c2sp.org/tlog-tiles): pieces never cross a multiple of it. */
export const LEDGER_CHUNK = 256;
/** Bytes of one tree hash. */
export const LEDGER_HASH = 32;

/** One run of consecutive items inside one 256-item chunk. */
export interface LedgerPiece {
  /** Position of the first item (tree index for entries, node index for hashes). */
  readonly first: number;
  readonly count: number;
  readonly data: Buffer;
  /**
   * Start of its chunk when this piece completes a chunk that earlier pieces began: the writer
   * then merges the chunk's pieces into one row. Undefined otherwise.
   */
  readonly mergeFrom: number | undefined;
}

/** Splits [start, start + count) into chunk-aligned runs: `[from, to)` pairs. */
export function chunkRuns(start: number, count: number): [number, number][] {
  const runs: [number, number][] = [];
  const end = start + count;
  for (let from = start; from < end; ) {
    const to = Math.min(end, (Math.floor(from / LEDGER_CHUNK) + 1) * LEDGER_CHUNK);
    runs.push([from, to]);
    from = to;
  }
  return runs;
}

function mergeFrom(from: number, to: number): number | undefined {
  return to % LEDGER_CHUNK === 0 && from % LEDGER_CHUNK !== 0 ? to - LEDGER_CHUNK : undefined;
}

/** Encodes entries [from, to) as entry-bundle bytes: each prefixed by its big-endian uint16 length. */
export function encodeBundle(entries: readonly Uint8Array[], from: number, to: number): Buffer {
  let total = 0;
  for (let i = from; i < to; i++) total += 2 + (entries[i] as Uint8Array).length;
  const out = Buffer.allocUnsafe(total);
  let off = 0;
  for (let i = from; i < to; i++) {
    const e = entries[i] as Uint8Array;
    out.writeUInt16BE(e.length, off); // throws RangeError for an entry over 65535 bytes
    out.set(e, off + 2);
    off += 2 + e.length;
  }
  return out;
}

/** Splits bundle bytes into entries; throws LEDGER_UNAVAILABLE when the bytes are damaged. */
export function decodeBundle(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let off = 0;
  while (off < data.length) {
    const len = off + 2 <= data.length ? ((data[off] as number) << 8) | (data[off + 1] as number) : -1;
    if (len < 0 || off + 2 + len > data.length) {
      throw new CustosError('LEDGER_UNAVAILABLE', 'ledger entry storage is damaged');
    }
    out.push(data.subarray(off + 2, off + 2 + len));
    off += 2 + len;
  }
  return out;
}

/** The entry pieces a batch writes, starting at tree index `firstIndex`. */
export function entryPieces(firstIndex: number, entries: readonly Uint8Array[]): LedgerPiece[] {
  return chunkRuns(firstIndex, entries.length).map(([from, to]) => ({
    first: from,
    count: to - from,
    data: encodeBundle(entries, from - firstIndex, to - firstIndex),
    mergeFrom: mergeFrom(from, to),
  }));
}

/** The hash pieces of one level of a batch: `hashes` are nodes from `start` on, 32 bytes each. */
export function hashPieces(start: number, hashes: Uint8Array): LedgerPiece[] {
  const buf = Buffer.from(hashes.buffer, hashes.byteOffset, hashes.byteLength);
  return chunkRuns(start, hashes.length / LEDGER_HASH).map(([from, to]) => ({
    first: from,
    count: to - from,
    data: buf.subarray((from - start) * LEDGER_HASH, (to - start) * LEDGER_HASH),
    mergeFrom: mergeFrom(from, to),
  }));
}
