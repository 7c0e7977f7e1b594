import { emptyRoot, hashChildren } from './rfc6962.js';
import { largestPowerOfTwoBelow } from './tree-math.js';

/**
 * Computes MTH(D[n]) from the n leaf hashes by the RFC 6962 §2.1 definition: split at k, the
 * largest power of two below n, and hash the two subtree roots together.
 */
export function rootFromLeafHashes(leafHashes: readonly Uint8Array[]): Uint8Array {
  if (leafHashes.length === 0) return emptyRoot();
  return subtreeRoot(leafHashes, 0, leafHashes.length);
}

function subtreeRoot(leaves: readonly Uint8Array[], begin: number, end: number): Uint8Array {
  const n = end - begin;
  if (n === 1) return leaves[begin] as Uint8Array;
  const k = largestPowerOfTwoBelow(n);
  return hashChildren(subtreeRoot(leaves, begin, begin + k), subtreeRoot(leaves, begin + k, end));
}
