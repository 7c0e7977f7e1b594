import { equalBytes } from '../encoding/bytes.js';
import { VerifyError } from '../errors.js';
import { HASH_SIZE, hashChildren } from './rfc6962.js';
import { toUint64 } from './u64.js';

function fail(message: string): never {
  throw new VerifyError('CONSISTENCY_INVALID', message);
}

/**
 * Verifies that the tree of `size2` leaves with root `root2` extends the tree of `size1` leaves
 * with root `root1` (RFC 9162 §2.1.4.2). Returns normally on success; throws
 * VerifyError('CONSISTENCY_INVALID').
 *
 * Edge cases, decided to match the transparency-dev/merkle vectors:
 * - size1 = size2: the proof must be empty and the roots equal.
 * - size1 = 0 (including 0 → 0): rejected. A proof from the empty tree proves nothing, so the
 *   caller must treat "old size 0" itself (C2SP tlog-witness: no proof lines, always consistent)
 *   instead of calling this function. See docs/verify.md.
 */
export function verifyConsistency(
  size1: number | bigint,
  size2: number | bigint,
  root1: Uint8Array,
  root2: Uint8Array,
  proof: readonly Uint8Array[],
): void {
  const first = toUint64(size1);
  const second = toUint64(size2);
  if (first === undefined || second === undefined) fail('sizes must be unsigned 64-bit integers');
  if (first > second) fail('first size is larger than second size');
  if (first === 0n) fail('consistency from the empty tree is not verified by proof');
  if (first === second) {
    if (proof.length !== 0) fail('proof must be empty for equal sizes');
    if (!equalBytes(root1, root2)) fail('roots differ at equal sizes');
    return;
  }
  // Step 1: fail if the proof is empty.
  if (proof.length === 0) fail('proof is empty');
  if (proof.length > 128) fail('proof is too long');
  for (const p of proof) if (p.length !== HASH_SIZE) fail('proof hashes must be 32 bytes');
  if (root1.length !== HASH_SIZE || root2.length !== HASH_SIZE) fail('roots must be 32 bytes');
  // Step 2: if first is an exact power of two, prepend root1.
  const path = (first & (first - 1n)) === 0n ? [root1, ...proof] : proof;
  // Step 3.
  let fn = first - 1n;
  let sn = second - 1n;
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  // Step 4.
  let fr = path[0] as Uint8Array;
  let sr = fr;
  // Step 5.
  for (let i = 1; i < path.length; i++) {
    const c = path[i] as Uint8Array;
    if (sn === 0n) fail('proof is too long for these sizes');
    if ((fn & 1n) === 1n || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  // Step 6.
  if (sn !== 0n) fail('proof is too short for these sizes');
  if (!equalBytes(fr, root1)) fail('computed first root does not match');
  if (!equalBytes(sr, root2)) fail('computed second root does not match');
}
