import { wasmSha256 } from '../crypto/sha256-wasm.js';
import { VerifyError } from '../errors.js';
import { HASH_SIZE, hashChildrenAt } from '../merkle/rfc6962.js';
import { TILE_HEIGHT, TILE_WIDTH } from './tile-path.js';

/** Concatenates 32-byte hashes into a hash tile. */
export function encodeHashTile(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length > TILE_WIDTH) throw new VerifyError('TILE_MALFORMED', 'a tile holds at most 256 hashes');
  const out = new Uint8Array(hashes.length * HASH_SIZE);
  hashes.forEach((h, i) => {
    if (h.length !== HASH_SIZE) throw new VerifyError('TILE_MALFORMED', 'tile hashes must be 32 bytes');
    out.set(h, i * HASH_SIZE);
  });
  return out;
}

/** Splits a hash tile into 32-byte views; throws TILE_MALFORMED unless it holds exactly `width` hashes. */
export function decodeHashTile(tile: Uint8Array, width: number = TILE_WIDTH): Uint8Array[] {
  if (tile.length !== width * HASH_SIZE)
    throw new VerifyError('TILE_MALFORMED', `tile must hold ${width} hashes`);
  const out: Uint8Array[] = [];
  for (let i = 0; i < width; i++) out.push(tile.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE));
  return out;
}

/**
 * Hashes `count` (a power of two) consecutive 32-byte hashes of `hashes`, starting at hash
 * `start`, up to their perfect-subtree root. Works in a scratch copy, so `hashes` is unchanged.
 */
export function subtreeRootOfHashes(hashes: Uint8Array, start: number, count: number): Uint8Array {
  if (start < 0 || (start + count) * HASH_SIZE > hashes.length || count < 1 || (count & (count - 1)) !== 0) {
    throw new VerifyError('TILE_MALFORMED', 'hash range is not a complete subtree of the tile');
  }
  // Four nodes at a time where WebAssembly SIMD runs; a level of one or two gains nothing.
  const batch = count >= 8 ? wasmSha256() : undefined;
  if (batch !== undefined) return batch.subtreeRoot(hashes, start, count);
  const work = hashes.slice(start * HASH_SIZE, (start + count) * HASH_SIZE);
  for (let n = count; n > 1; n /= 2) {
    for (let i = 0; i < n / 2; i++)
      hashChildrenAt(work, 2 * i * HASH_SIZE, (2 * i + 1) * HASH_SIZE, work, i * HASH_SIZE);
  }
  return work.slice(0, HASH_SIZE);
}

/** Where a perfect-subtree node lives in the tiles: tile (level, index) and the hash range inside it. */
export interface TileNodeLocation {
  readonly tileLevel: number;
  readonly tileIndex: number;
  readonly start: number;
  readonly count: number;
}

/**
 * Locates node (level, index): tile level L = floor(level / 8) stores tree level 8L, so the node
 * is the root of 2^(level - 8L) consecutive hashes of one tile (c2sp.org/tlog-tiles §Merkle Tree).
 */
export function locateNodeInTiles(level: number, index: number): TileNodeLocation {
  const tileLevel = Math.floor(level / TILE_HEIGHT);
  const count = 2 ** (level - tileLevel * TILE_HEIGHT);
  const first = index * count;
  return { tileLevel, tileIndex: Math.floor(first / TILE_WIDTH), start: first % TILE_WIDTH, count };
}

/** Reads a hash tile's bytes (full or partial, as long as it covers the hashes asked for). */
export type ReadHashTile = (level: number, index: number) => Uint8Array;

/** Computes the hash of the perfect subtree (level, index) from stored hash tiles; usable as a GetNode. */
export function nodeFromTiles(level: number, index: number, readTile: ReadHashTile): Uint8Array {
  const loc = locateNodeInTiles(level, index);
  const tile = readTile(loc.tileLevel, loc.tileIndex);
  if (loc.count === 1) {
    if ((loc.start + 1) * HASH_SIZE > tile.length)
      throw new VerifyError('TILE_MALFORMED', 'tile is too short');
    return tile.slice(loc.start * HASH_SIZE, (loc.start + 1) * HASH_SIZE);
  }
  return subtreeRootOfHashes(tile, loc.start, loc.count);
}
