import { VerifyError } from '../errors.js';

/**
 * Integer helpers for tree sizes up to 2^53 - 1. JavaScript bit operators are 32-bit, so these
 * use exact float arithmetic on powers of two instead.
 */

/** Largest power of two strictly less than n, for n >= 2 (RFC 9162 §2.1.1 split point k). */
export function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Returns true when n is a power of two (n >= 1). */
export function isPowerOfTwo(n: number): boolean {
  if (n < 1) return false;
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}

/** Number of trailing zero bits of n (n >= 1). */
export function trailingZeros(n: number): number {
  let z = 0;
  while (n % 2 === 0 && n > 0) {
    n /= 2;
    z++;
  }
  return z;
}

/** Number of set bits of n. */
export function popCount(n: number): number {
  let c = 0;
  while (n > 0) {
    if (n % 2 === 1) c++;
    n = Math.floor(n / 2);
  }
  return c;
}

/** Throws RANGE_INVALID unless `n` is a non-negative safe integer. */
export function checkSize(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new VerifyError('RANGE_INVALID', `${what} must be a non-negative safe integer`);
}

/** One perfect subtree: 2^level leaves starting at leaf index * 2^level. */
export interface NodeId {
  readonly level: number;
  readonly index: number;
}

/**
 * Decomposes the leaf range [begin, end) into maximal aligned perfect subtrees, left to right.
 * Folding their hashes from the right gives MTH(D[begin:end]) whenever the range is a subtree
 * of the RFC 6962 tree (RFC 9162 §2.1.1).
 */
export function decomposeRange(begin: number, end: number): NodeId[] {
  const out: NodeId[] = [];
  let a = begin;
  while (a < end) {
    let size = 1;
    let level = 0;
    // Grow while the subtree stays aligned at `a` and inside the range.
    while (a % (size * 2) === 0 && a + size * 2 <= end) {
      size *= 2;
      level++;
    }
    out.push({ level, index: a / size });
    a += size;
  }
  return out;
}
