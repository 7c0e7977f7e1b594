import { VerifyError } from '../errors.js';
import { checkSize } from '../merkle/tree-math.js';
import { TILE_WIDTH, type TileRef } from './tile-path.js';

/**
 * Lists every hash tile of a tree of `size` leaves, level by level: at level l there are
 * floor(size / 256^l) hashes, in full tiles plus one partial tile of the remainder
 * (c2sp.org/tlog-tiles §Partial Tiles; e.g. size 256 → tile/0/000 and tile/1/000.p/1).
 */
export function hashTilesForSize(size: number): TileRef[] {
  checkSize(size, 'size');
  const out: TileRef[] = [];
  let hashes = size;
  for (let level = 0; hashes > 0; level++) {
    const full = Math.floor(hashes / TILE_WIDTH);
    for (let index = 0; index < full; index++) out.push({ kind: 'hash', level, index, width: TILE_WIDTH });
    const rest = hashes % TILE_WIDTH;
    if (rest > 0) out.push({ kind: 'hash', level, index: full, width: rest });
    hashes = Math.floor(hashes / TILE_WIDTH);
  }
  return out;
}

/** Lists every entry bundle of a tree of `size` leaves: full bundles, then one partial bundle if needed. */
export function entryBundlesForSize(size: number): TileRef[] {
  checkSize(size, 'size');
  const out: TileRef[] = [];
  const full = Math.floor(size / TILE_WIDTH);
  for (let index = 0; index < full; index++) out.push({ kind: 'entries', index, width: TILE_WIDTH });
  const rest = size % TILE_WIDTH;
  if (rest > 0) out.push({ kind: 'entries', index: full, width: rest });
  return out;
}

/** The tile (full or partial) that holds hash `index` of tile level `level` in a tree of `size` leaves. */
export function hashTileFor(level: number, index: number, size: number): TileRef {
  checkSize(size, 'size');
  const hashes = Math.floor(size / TILE_WIDTH ** level);
  if (!Number.isSafeInteger(index) || index < 0 || index >= hashes) {
    throw new VerifyError('RANGE_INVALID', 'no such hash at this level for this tree size');
  }
  const tileIndex = Math.floor(index / TILE_WIDTH);
  const width = Math.min(TILE_WIDTH, hashes - tileIndex * TILE_WIDTH);
  return { kind: 'hash', level, index: tileIndex, width };
}
