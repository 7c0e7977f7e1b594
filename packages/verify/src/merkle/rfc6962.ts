import { sha256, sha256Into } from '../crypto/sha256.js';
import { hashNodePureAt } from '../crypto/sha256-pure.js';
import { VerifyError } from '../errors.js';

/** Size in bytes of every RFC 6962 hash (SHA-256). */
export const HASH_SIZE = 32;

// Scratch buffers for the prefixed inputs. Hashing is synchronous, so reuse is safe and saves
// one allocation per hash on hot paths.
const NODE_INPUT = new Uint8Array(2 * HASH_SIZE);
let leafInput = new Uint8Array(1024);

/** Root hash of the empty tree: SHA-256 of the empty string (RFC 6962 §2.1). */
export function emptyRoot(): Uint8Array {
  return sha256(new Uint8Array(0));
}

/** Leaf hash: SHA-256(0x00 ‖ entry bytes) (RFC 6962 §2.1). */
export function hashLeaf(entry: Uint8Array): Uint8Array {
  const out = new Uint8Array(HASH_SIZE);
  hashLeafInto(entry, out, 0);
  return out;
}

/** Writes SHA-256(0x00 ‖ entry) into `out` at `outOffset`. */
export function hashLeafInto(entry: Uint8Array, out: Uint8Array, outOffset: number): void {
  if (entry.length + 1 > leafInput.length)
    leafInput = new Uint8Array(Math.max(entry.length + 1, leafInput.length * 2));
  leafInput[0] = 0x00;
  leafInput.set(entry, 1);
  sha256Into(leafInput.subarray(0, entry.length + 1), out, outOffset);
}

/**
 * Interior node hash: SHA-256(0x01 ‖ left ‖ right) (RFC 6962 §2.1). Computed in TypeScript,
 * which for this fixed 65-byte input is faster than a call into node:crypto.
 */
export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) {
    throw new VerifyError('INPUT_INVALID', 'child hashes must be 32 bytes');
  }
  NODE_INPUT.set(left, 0);
  NODE_INPUT.set(right, HASH_SIZE);
  const out = new Uint8Array(HASH_SIZE);
  hashNodePureAt(NODE_INPUT, 0, HASH_SIZE, out, 0);
  return out;
}

/**
 * Writes SHA-256(0x01 ‖ src[l..l+32] ‖ src[r..r+32]) into `out` at `outOffset`: the
 * allocation-free form used when hashing whole tiles. `out` may alias `src`.
 */
export function hashChildrenAt(
  src: Uint8Array,
  l: number,
  r: number,
  out: Uint8Array,
  outOffset: number,
): void {
  hashNodePureAt(src, l, r, out, outOffset);
}
