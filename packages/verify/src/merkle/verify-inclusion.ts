import { equalBytes } from '../encoding/bytes.js';
import { VerifyError } from '../errors.js';
import { HASH_SIZE, hashChildren } from './rfc6962.js';
import { toUint64 } from './u64.js';

function fail(message: string): never {
  throw new VerifyError('INCLUSION_INVALID', message);
}

/**
 * Computes the root implied by an inclusion proof (RFC 9162 §2.1.3.2 steps 1-3), or throws
 * INCLUSION_INVALID when the proof cannot be valid for this index and size.
 */
export function rootFromInclusionProof(
  index: number | bigint,
  size: number | bigint,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
): Uint8Array {
  const idx = toUint64(index);
  const sz = toUint64(size);
  if (idx === undefined || sz === undefined) fail('index and size must be unsigned 64-bit integers');
  // Step 1: fail if index >= size.
  if (idx >= sz) fail('index is not below the tree size');
  if (leafHash.length !== HASH_SIZE) fail('leaf hash must be 32 bytes');
  if (proof.length > 64) fail('proof is too long');
  // Step 2.
  let fn = idx;
  let sn = sz - 1n;
  let r = leafHash;
  // Step 3.
  for (const p of proof) {
    if (p.length !== HASH_SIZE) fail('proof hashes must be 32 bytes');
    if (sn === 0n) fail('proof is too long for this tree size');
    if ((fn & 1n) === 1n || fn === sn) {
      r = hashChildren(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = hashChildren(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  // Step 4 (first half): every level up to the root must be consumed.
  if (sn !== 0n) fail('proof is too short for this tree size');
  return r;
}

/**
 * Verifies that `leafHash` is leaf `index` of the tree of `size` leaves with root `root`
 * (RFC 9162 §2.1.3.2). Returns normally on success; throws VerifyError('INCLUSION_INVALID').
 */
export function verifyInclusion(
  index: number | bigint,
  size: number | bigint,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  const computed = rootFromInclusionProof(index, size, leafHash, proof);
  if (!equalBytes(computed, root)) fail('computed root does not match');
}
