import { CompactRange, HASH_SIZE } from '@custos/verify';
import type { LedgerTreeState } from '../../ports/ledger-store.js';
import { type EncodedEntries, type TreeHashing, treeHashing } from './tree-hashing.js';

/**
 * Node hashes are kept for every KEPT_LEVEL_STEP-th level only (0, 4, 8, …): the tiles' levels
 * (0, 8, 16, …) among them. A node of a level in between is recomputed from at most
 * 2^(KEPT_LEVEL_STEP-1) kept hashes below it when a proof needs it (`LedgerReader`). Keeping
 * every level made each commit rewrite one partly filled page per level, which cost more disk
 * writes than the entries themselves.
 */
export const KEPT_LEVEL_STEP = 4;

/** What appending a run of entries does to the tree: the new node hashes per level and the new state. */
export interface TreeBatch {
  /**
   * `levels[l]`: hashes of the perfect level-`l` subtrees completed, from node `firstIndex >> l`,
   * for the kept levels (multiples of KEPT_LEVEL_STEP); empty for the others.
   */
  readonly levels: Uint8Array[];
  readonly tree: LedgerTreeState;
  readonly root: Uint8Array;
}

/** The compact range's frontier indexed by level: the level-`l` root exists iff bit `l` of size is set. */
function frontierByLevel(state: LedgerTreeState): (Uint8Array | undefined)[] {
  const byLevel: (Uint8Array | undefined)[] = [];
  let i = 0;
  for (let level = 52; level >= 0; level--) {
    if (Math.floor(state.size / 2 ** level) % 2 === 1) byLevel[level] = state.frontier[i++];
  }
  return byLevel;
}

/**
 * Appends `entries` to the tree `prev` in memory (no I/O): hashes the leaves (RFC 6962 §2.1), then
 * every interior node they complete, level by level. About two hashes per entry, like a compact
 * range, and the nodes are kept because proofs and tiles are served from them. Each level is one
 * call of `hashing` (the native addon hashes it in one go), but for a node whose left child
 * completed in an earlier batch.
 */
export function buildTreeBatch(
  prev: LedgerTreeState,
  entries: EncodedEntries,
  hashing: TreeHashing = treeHashing,
): TreeBatch {
  const old = frontierByLevel(prev);
  const start = prev.size;
  const end = start + entries.lengths.length;
  const leaves = new Uint8Array(entries.lengths.length * HASH_SIZE);
  hashing.leaves(entries, leaves);
  const levels = [leaves];
  const pair = new Uint8Array(2 * HASH_SIZE);
  // At level l the batch completes nodes [lo, hi) = [start >> l, end >> l).
  let cur = leaves;
  let lo = start;
  let hi = end;
  for (let level = 0; ; level++) {
    const nlo = Math.floor(lo / 2);
    const nhi = Math.floor(hi / 2);
    if (nhi <= nlo) break;
    const next = new Uint8Array((nhi - nlo) * HASH_SIZE);
    let j = nlo;
    if (2 * j < lo) {
      // The left sibling completed in an earlier batch: it is the old frontier's level-l root.
      pair.set(old[level] as Uint8Array, 0);
      pair.set(cur.subarray(0, HASH_SIZE), HASH_SIZE);
      hashing.nodes(pair, next.subarray(0, HASH_SIZE));
      j++;
    }
    // Every other node's children lie side by side in this batch's level l.
    hashing.nodes(
      cur.subarray((2 * j - lo) * HASH_SIZE, (2 * nhi - lo) * HASH_SIZE),
      next.subarray((j - nlo) * HASH_SIZE),
    );
    levels.push(next);
    cur = next;
    lo = nlo;
    hi = nhi;
  }
  const frontier: Uint8Array[] = [];
  for (let level = 52; level >= 0; level--) {
    const width = 2 ** level;
    if (Math.floor(end / width) % 2 === 0) continue;
    const index = Math.floor(end / width) - 1;
    const first = Math.floor(start / width);
    const run = levels[level];
    frontier.push(
      run !== undefined && index >= first
        ? run.slice((index - first) * HASH_SIZE, (index - first + 1) * HASH_SIZE)
        : (old[level] as Uint8Array),
    );
  }
  const range = new CompactRange({ size: end, hashes: frontier });
  // A fresh empty array per level: the hashing thread transfers each level's buffer.
  const kept = levels.map((run, level) => (level % KEPT_LEVEL_STEP === 0 ? run : new Uint8Array(0)));
  return { levels: kept, tree: { size: end, frontier }, root: range.root() };
}

/** The root hash of a stored tree state. */
export function rootOfTree(state: LedgerTreeState): Uint8Array {
  return new CompactRange({ size: state.size, hashes: state.frontier }).root();
}
