import { HASH_SIZE } from '../merkle/rfc6962.js';
import { MAX_ENTRY_SIZE } from '../tiles/entry-bundle.js';
import { TILE_WIDTH } from '../tiles/tile-path.js';

/** Largest checkpoint read: a real one is a few hundred bytes, 100 signature lines a few KiB. */
export const MAX_CHECKPOINT_BYTES = 1024 * 1024;
/** Largest hash tile: 256 hashes of 32 bytes (c2sp.org/tlog-tiles). */
export const MAX_HASH_TILE_BYTES = TILE_WIDTH * HASH_SIZE;
/** Largest entry bundle: 256 entries, each a uint16 length and at most 65,535 bytes. */
export const MAX_ENTRY_BUNDLE_BYTES = TILE_WIDTH * (2 + MAX_ENTRY_SIZE);

/**
 * The most bytes the verifier reads for a path under the log prefix: anything longer is not a
 * valid checkpoint, tile or bundle, and reading it whole would let a hostile log exhaust memory.
 */
export function maxBytesFor(path: string): number {
  if (path === 'checkpoint') return MAX_CHECKPOINT_BYTES;
  if (path.startsWith('tile/entries/')) return MAX_ENTRY_BUNDLE_BYTES;
  return MAX_HASH_TILE_BYTES;
}
