import { CompactRange, HASH_SIZE, hashChildren, hashChildrenAt, hashLeafInto } from '@custos/verify';
import type { LedgerTreeState } from '../../ports/ledger-store.js';

/** What appending a run of entries does to the tree: the new node hashes per level and the new state. */
export interface TreeBatch {
  /** `levels[l]`: hashes of the perfect level-`l` subtrees completed, from node `firstIndex >> l`. */
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
 * range, and the nodes are kept because proofs and tiles are served from them.
 */
export function buildTreeBatch(prev: LedgerTreeState, entries: readonly Uint8Array[]): TreeBatch {
  const old = frontierByLevel(prev);
  const start = prev.size;
  const end = start + entries.length;
  const leaves = new Uint8Array(entries.length * HASH_SIZE);
  for (let i = 0; i < entries.length; i++) hashLeafInto(entries[i] as Uint8Array, leaves, i * HASH_SIZE);
  const levels = [leaves];
  // At level l the batch completes nodes [lo, hi) = [start >> l, end >> l).
  let cur = leaves;
  let lo = start;
  let hi = end;
  for (let level = 0; ; level++) {
    const nlo = Math.floor(lo / 2);
    const nhi = Math.floor(hi / 2);
    if (nhi <= nlo) break;
    const next = new Uint8Array((nhi - nlo) * HASH_SIZE);
    for (let j = nlo; j < nhi; j++) {
      const right = (2 * j + 1 - lo) * HASH_SIZE;
      const out = (j - nlo) * HASH_SIZE;
      if (2 * j >= lo) {
        hashChildrenAt(cur, (2 * j - lo) * HASH_SIZE, right, next, out);
      } else {
        // The left sibling completed in an earlier batch: it is the old frontier's level-l root.
        const left = old[level] as Uint8Array;
        next.set(hashChildren(left, cur.subarray(right, right + HASH_SIZE)), out);
      }
    }
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
  return { levels, tree: { size: end, frontier }, root: range.root() };
}

/** The root hash of a stored tree state. */
export function rootOfTree(state: LedgerTreeState): Uint8Array {
  return new CompactRange({ size: state.size, hashes: state.frontier }).root();
}
