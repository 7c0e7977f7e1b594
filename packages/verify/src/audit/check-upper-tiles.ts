import { equalHashAt } from '../encoding/bytes.js';
import { HASH_SIZE } from '../merkle/rfc6962.js';
import { subtreeRootOfHashes } from '../tiles/hash-tile.js';
import { TILE_WIDTH } from '../tiles/tile-path.js';
import type { FailureList } from './audit-report.js';
import { fetchTile, type TileSource } from './tile-source.js';

function rootOfGroup(group: readonly (Uint8Array | undefined)[]): Uint8Array | undefined {
  const buf = new Uint8Array(TILE_WIDTH * HASH_SIZE);
  for (let i = 0; i < TILE_WIDTH; i++) {
    const h = group[i];
    if (h === undefined) return undefined;
    buf.set(h, i * HASH_SIZE);
  }
  return subtreeRootOfHashes(buf, 0, TILE_WIDTH);
}

/**
 * Compares the served hash tiles of levels 1 and up with hashes recomputed from the entries.
 * At level l, hash j is MTH of entries [j·256^l, (j+1)·256^l) (c2sp.org/tlog-tiles). Ranges
 * whose level-0 mismatch was already reported are not reported again, and tiles past the last
 * recomputed hash (after a missing bundle) are skipped.
 */
export async function checkUpperTiles(
  source: TileSource,
  size: number,
  level8: readonly (Uint8Array | undefined)[],
  reported: readonly boolean[],
  failures: FailureList,
): Promise<void> {
  let hashes = level8;
  let seen = reported;
  for (let level = 1; Math.floor(size / TILE_WIDTH ** level) > 0; level++) {
    const count = Math.floor(size / TILE_WIDTH ** level);
    const span = TILE_WIDTH ** level;
    // Only tiles over recomputed hashes: past a missing bundle there is nothing to compare.
    for (let t = 0; t * TILE_WIDTH < Math.min(count, hashes.length); t++) {
      const width = Math.min(TILE_WIDTH, count - t * TILE_WIDTH);
      const tile = await fetchTile(source, { kind: 'hash', level, index: t, width });
      const first = t * TILE_WIDTH * span;
      if (tile.bytes === undefined) {
        failures.add({ check: 'hash-tile', index: first, message: `${tile.path} is missing` });
        continue;
      }
      if (tile.bytes.length !== (tile.fromFullTile ? TILE_WIDTH : width) * HASH_SIZE) {
        failures.add({
          check: 'hash-tile',
          index: first,
          code: 'TILE_MALFORMED',
          message: `${tile.path} has the wrong length`,
        });
        continue;
      }
      for (let j = 0; j < width; j++) {
        const k = t * TILE_WIDTH + j;
        const h = hashes[k];
        if (h === undefined || seen[k] === true) continue;
        if (!equalHashAt(h, tile.bytes, j * HASH_SIZE)) {
          const a = k * span;
          failures.add({
            check: 'hash-tile',
            index: a,
            message: `${tile.path} hash ${j} (entries ${a}..${a + span - 1}) does not match the recomputed hash`,
          });
          break;
        }
      }
    }
    // Next level: roots of complete groups of 256 hashes.
    const next: (Uint8Array | undefined)[] = [];
    const nextSeen: boolean[] = [];
    for (let g = 0; (g + 1) * TILE_WIDTH <= Math.min(count, hashes.length); g++) {
      const group = hashes.slice(g * TILE_WIDTH, (g + 1) * TILE_WIDTH);
      next.push(rootOfGroup(group));
      nextSeen.push(seen.slice(g * TILE_WIDTH, (g + 1) * TILE_WIDTH).some((x) => x));
    }
    hashes = next;
    seen = nextSeen;
  }
}
