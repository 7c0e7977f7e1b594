import { VerifyError } from '../errors.js';
import { emptyRoot, HASH_SIZE, hashChildren } from './rfc6962.js';
import { checkSize, popCount } from './tree-math.js';

/** Serialisable state of a {@link CompactRange}: the tree size and the frontier hashes, largest subtree first. */
export interface CompactRangeState {
  readonly size: number;
  readonly hashes: readonly Uint8Array[];
}

/**
 * The frontier of an append-only RFC 6962 tree: the roots of the perfect subtrees that cover
 * leaves [0, size), one per set bit of size, largest (leftmost) first. Appending merges equal
 * subtrees like a binary counter, about 1 hash per leaf amortised (2 counting the leaf hash).
 */
export class CompactRange {
  #size: number;
  readonly #hashes: Uint8Array[];

  /** Creates an empty range, or restores one from {@link CompactRangeState} (validated). */
  constructor(state?: CompactRangeState) {
    if (state === undefined) {
      this.#size = 0;
      this.#hashes = [];
      return;
    }
    checkSize(state.size, 'compact range size');
    if (state.hashes.length !== popCount(state.size)) {
      throw new VerifyError('RANGE_INVALID', 'compact range has the wrong number of hashes for its size');
    }
    for (const h of state.hashes) {
      if (h.length !== HASH_SIZE)
        throw new VerifyError('RANGE_INVALID', 'compact range hashes must be 32 bytes');
    }
    this.#size = state.size;
    this.#hashes = state.hashes.map((h) => h.slice());
  }

  /** Number of leaves covered. */
  get size(): number {
    return this.#size;
  }

  /** Appends one leaf hash. */
  appendLeafHash(leafHash: Uint8Array): void {
    this.appendSubtree(leafHash, 0);
  }

  /**
   * Appends the root of a perfect subtree of 2^level leaves. The current size must be a
   * multiple of 2^level (the subtree must be aligned), as with whole tiles or bundles.
   */
  appendSubtree(hash: Uint8Array, level: number): void {
    if (hash.length !== HASH_SIZE) throw new VerifyError('INPUT_INVALID', 'hash must be 32 bytes');
    const width = 2 ** level;
    if (!Number.isInteger(level) || level < 0 || this.#size % width !== 0) {
      throw new VerifyError('RANGE_INVALID', 'subtree is not aligned with the compact range');
    }
    let h = hash;
    let count = this.#size / width;
    // Each set low bit of count means an equal-size subtree on the frontier to merge with.
    while (count % 2 === 1) {
      const left = this.#hashes.pop() as Uint8Array;
      h = hashChildren(left, h);
      count = (count - 1) / 2;
    }
    this.#hashes.push(h);
    this.#size += width;
  }

  /** Root hash MTH(D[size]); the empty-tree hash when size is 0. */
  root(): Uint8Array {
    const hs = this.#hashes;
    if (hs.length === 0) return emptyRoot();
    let acc = hs[hs.length - 1] as Uint8Array;
    for (let i = hs.length - 2; i >= 0; i--) acc = hashChildren(hs[i] as Uint8Array, acc);
    return acc;
  }

  /** A copy of the state, suitable for storing and passing back to the constructor. */
  state(): CompactRangeState {
    return { size: this.#size, hashes: this.#hashes.map((h) => h.slice()) };
  }

  /** An independent copy of this range. */
  clone(): CompactRange {
    return new CompactRange({ size: this.#size, hashes: this.#hashes });
  }
}
