import { VerifyError } from '../errors.js';
import { emptyRoot, hashChildren } from './rfc6962.js';
import { checkSize, decomposeRange, largestPowerOfTwoBelow, type NodeId } from './tree-math.js';

/** Returns the hash of the perfect subtree of 2^level leaves starting at leaf index * 2^level. */
export type GetNode = (level: number, index: number) => Uint8Array;
/** Async form of {@link GetNode}, for node stores behind I/O. */
export type GetNodeAsync = (level: number, index: number) => Uint8Array | Promise<Uint8Array>;

/**
 * A proof to be filled in: each element is MTH of a leaf range, given as the perfect subtrees
 * that cover it (one for interior nodes, several for the ephemeral right edge of the tree).
 */
export type ProofPlan = readonly (readonly NodeId[])[];

/**
 * Plans an inclusion proof PATH(index, D[size]) (RFC 9162 §2.1.3.1), siblings listed from the
 * leaf upwards. Only perfect-subtree hashes are needed to fill it in.
 */
export function planInclusionProof(index: number, size: number): ProofPlan {
  checkSize(index, 'index');
  checkSize(size, 'size');
  if (index >= size) throw new VerifyError('RANGE_INVALID', 'index is beyond the tree size');
  const outerFirst: NodeId[][] = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (index - lo < k) {
      // PATH(m, D[0:k]) : MTH(D[k:n])
      outerFirst.push(decomposeRange(lo + k, hi));
      hi = lo + k;
    } else {
      // PATH(m - k, D[k:n]) : MTH(D[0:k])
      outerFirst.push(decomposeRange(lo, lo + k));
      lo += k;
    }
  }
  return outerFirst.reverse();
}

/**
 * Plans a consistency proof PROOF(m, D[n]) = SUBPROOF(m, D[n], true) (RFC 9162 §2.1.4.1).
 * For m = 0 or m = n the proof is empty (C2SP tlog-witness sends no proof from size 0).
 */
export function planConsistencyProof(m: number, n: number): ProofPlan {
  checkSize(m, 'first size');
  checkSize(n, 'second size');
  if (m > n) throw new VerifyError('RANGE_INVALID', 'first size is larger than second size');
  if (m === 0 || m === n) return [];
  const outerFirst: NodeId[][] = [];
  let lo = 0;
  let hi = n;
  let completeSubtree = true;
  while (m !== hi) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (m - lo <= k) {
      // SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
      outerFirst.push(decomposeRange(lo + k, hi));
      hi = lo + k;
    } else {
      // SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
      outerFirst.push(decomposeRange(lo, lo + k));
      lo += k;
      completeSubtree = false;
    }
  }
  // SUBPROOF(m, D[m], false) = [MTH(D[m])]: the old root's subtree, unless it is the whole old tree.
  if (!completeSubtree) outerFirst.push(decomposeRange(lo, hi));
  return outerFirst.reverse();
}

function foldRight(hashes: readonly Uint8Array[]): Uint8Array {
  let acc = hashes[hashes.length - 1] as Uint8Array;
  for (let i = hashes.length - 2; i >= 0; i--) acc = hashChildren(hashes[i] as Uint8Array, acc);
  return acc;
}

/** Fills in a {@link ProofPlan} with node hashes from `getNode`, hashing ephemeral right-edge nodes. */
export function resolveProofPlan(plan: ProofPlan, getNode: GetNode): Uint8Array[] {
  return plan.map((ids) => foldRight(ids.map((id) => getNode(id.level, id.index))));
}

/** Async form of {@link resolveProofPlan}; fetches all nodes concurrently. */
export async function resolveProofPlanAsync(plan: ProofPlan, getNode: GetNodeAsync): Promise<Uint8Array[]> {
  return Promise.all(
    plan.map(async (ids) => foldRight(await Promise.all(ids.map((id) => getNode(id.level, id.index))))),
  );
}

/** Generates the inclusion proof for leaf `index` in a tree of `size` leaves (RFC 9162 §2.1.3.1). */
export function inclusionProof(index: number, size: number, getNode: GetNode): Uint8Array[] {
  return resolveProofPlan(planInclusionProof(index, size), getNode);
}

/** Generates the consistency proof from size `m` to size `n` (RFC 9162 §2.1.4.1). */
export function consistencyProof(m: number, n: number, getNode: GetNode): Uint8Array[] {
  return resolveProofPlan(planConsistencyProof(m, n), getNode);
}

/** Computes MTH(D[size]) from perfect-subtree hashes, e.g. stored tiles. */
export function rootFromNodes(size: number, getNode: GetNode): Uint8Array {
  checkSize(size, 'size');
  if (size === 0) return emptyRoot();
  return foldRight(decomposeRange(0, size).map((id) => getNode(id.level, id.index)));
}
