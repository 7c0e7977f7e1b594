import { HASH_SIZE, hashLeafInto } from '../merkle/rfc6962.js';
import { encodeEntryBundle } from './entry-bundle.js';
import { subtreeRootOfHashes } from './hash-tile.js';
import { entryBundlePath, hashTilePath, TILE_WIDTH } from './tile-path.js';

/**
 * Builds every tile and entry bundle of the log holding `entries` (as served at one tree size):
 * full tiles and bundles, plus the partial ones of the final size. Returns path → bytes, paths
 * relative to the log prefix. For tests, fixtures and small logs; it holds everything in memory.
 */
export function buildTiles(entries: readonly Uint8Array[]): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const size = entries.length;
  for (let start = 0; start < size; start += TILE_WIDTH) {
    const chunk = entries.slice(start, start + TILE_WIDTH);
    out.set(entryBundlePath(start / TILE_WIDTH, chunk.length), encodeEntryBundle(chunk));
  }
  // Level 0 holds leaf hashes; level l + 1 holds the roots of full level-l tiles.
  let hashes = new Uint8Array(size * HASH_SIZE);
  entries.forEach((e, i) => {
    hashLeafInto(e, hashes, i * HASH_SIZE);
  });
  for (let level = 0; hashes.length > 0; level++) {
    const count = hashes.length / HASH_SIZE;
    const full = Math.floor(count / TILE_WIDTH);
    const next = new Uint8Array(full * HASH_SIZE);
    for (let t = 0; t * TILE_WIDTH < count; t++) {
      const width = Math.min(TILE_WIDTH, count - t * TILE_WIDTH);
      const tile = hashes.slice(t * TILE_WIDTH * HASH_SIZE, (t * TILE_WIDTH + width) * HASH_SIZE);
      out.set(hashTilePath(level, t, width), tile);
      if (width === TILE_WIDTH) next.set(subtreeRootOfHashes(tile, 0, TILE_WIDTH), t * HASH_SIZE);
    }
    hashes = next;
  }
  return out;
}
