import { sha256, sha256Into } from '../crypto/sha256.js';
import { VerifyError } from '../errors.js';

/** Size in bytes of every RFC 6962 hash (SHA-256). */
export const HASH_SIZE = 32;

// Scratch buffers for the prefixed inputs. Hashing is synchronous, so reuse is safe and saves
// one allocation per hash on hot paths.
const NODE_INPUT = new Uint8Array(1 + 2 * HASH_SIZE);
NODE_INPUT[0] = 0x01;
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

/** Interior node hash: SHA-256(0x01 ‖ left ‖ right) (RFC 6962 §2.1). */
export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) {
    throw new VerifyError('INPUT_INVALID', 'child hashes must be 32 bytes');
  }
  NODE_INPUT.set(left, 1);
  NODE_INPUT.set(right, 1 + HASH_SIZE);
  return sha256(NODE_INPUT);
}

/**
 * Writes SHA-256(0x01 ‖ src[l..l+32] ‖ src[r..r+32]) into `out` at `outOffset`: the
 * allocation-free form used when hashing whole tiles.
 */
export function hashChildrenAt(
  src: Uint8Array,
  l: number,
  r: number,
  out: Uint8Array,
  outOffset: number,
): void {
  NODE_INPUT.set(src.subarray(l, l + HASH_SIZE), 1);
  NODE_INPUT.set(src.subarray(r, r + HASH_SIZE), 1 + HASH_SIZE);
  sha256Into(NODE_INPUT, out, outOffset);
}
