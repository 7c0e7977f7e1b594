import { VerifyError } from '../errors.js';
import { consistencyProof, inclusionProof, rootFromNodes } from './proof-generation.js';
import { hashChildren, hashLeaf } from './rfc6962.js';

/**
 * A simple in-memory RFC 6962 tree that keeps every perfect-subtree hash. Meant for tests and
 * small logs; a server keeps the same hashes in tiles instead.
 */
export class MerkleTree {
  // levels[l][i] = hash of the perfect subtree of 2^l leaves starting at leaf i * 2^l.
  readonly #levels: Uint8Array[][] = [[]];

  /** Number of leaves. */
  get size(): number {
    return (this.#levels[0] as Uint8Array[]).length;
  }

  /** Appends an entry (hashed with {@link hashLeaf}) and returns its index. */
  append(entry: Uint8Array): number {
    return this.appendLeafHash(hashLeaf(entry));
  }

  /** Appends a precomputed leaf hash and returns its index. */
  appendLeafHash(leafHash: Uint8Array): number {
    const index = this.size;
    let h: Uint8Array = leafHash.slice();
    let i = index;
    for (let level = 0; ; level++) {
      let row = this.#levels[level];
      if (row === undefined) {
        row = [];
        this.#levels.push(row);
      }
      row.push(h);
      if (i % 2 === 0) break;
      h = hashChildren(row[i - 1] as Uint8Array, h);
      i = (i - 1) / 2;
    }
    return index;
  }

  /** Hash of the perfect subtree at (level, index); throws RANGE_INVALID if it is not complete yet. */
  node(level: number, index: number): Uint8Array {
    const h = this.#levels[level]?.[index];
    if (h === undefined)
      throw new VerifyError('RANGE_INVALID', `no complete node at level ${level} index ${index}`);
    return h;
  }

  /** Root hash of the first `size` leaves (default: all of them). */
  root(size = this.size): Uint8Array {
    this.#checkSize(size);
    return rootFromNodes(size, (l, i) => this.node(l, i));
  }

  /** Inclusion proof for leaf `index` in the tree of the first `size` leaves. */
  inclusionProof(index: number, size = this.size): Uint8Array[] {
    this.#checkSize(size);
    return inclusionProof(index, size, (l, i) => this.node(l, i));
  }

  /** Consistency proof from the first `m` leaves to the first `n` leaves. */
  consistencyProof(m: number, n = this.size): Uint8Array[] {
    this.#checkSize(n);
    return consistencyProof(m, n, (l, i) => this.node(l, i));
  }

  #checkSize(size: number): void {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.size) {
      throw new VerifyError('RANGE_INVALID', 'size is beyond the tree');
    }
  }
}
