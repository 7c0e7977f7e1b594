import { createHash } from 'node:crypto';

/*
 * Reference verifiers written straight from the recursive definitions of RFC 9162 §2.1.3.1
 * (PATH) and §2.1.4.1 (SUBPROOF), with node:crypto and bigint: independent of the bit-twiddling
 * verifiers under test, so the two can be compared on arbitrary (even hostile) inputs.
 */

function h(l: Uint8Array, r: Uint8Array): Uint8Array {
  return new Uint8Array(
    createHash('sha256')
      .update(Buffer.from([1]))
      .update(l)
      .update(r)
      .digest(),
  );
}

function k(n: bigint): bigint {
  let x = 1n;
  while (x * 2n < n) x *= 2n;
  return x;
}

const eq = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** True iff `proof` is PATH(index, D[size]) for a tree with that leaf hash and root. */
export function referenceInclusion(
  index: bigint,
  size: bigint,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (
    index < 0n ||
    index >= size ||
    size >= 1n << 64n ||
    proof.some((p) => p.length !== 32) ||
    leaf.length !== 32
  )
    return false;
  const rest = [...proof];
  const rec = (m: bigint, n: bigint): Uint8Array | undefined => {
    if (n === 1n) return leaf;
    const split = k(n);
    const sibling = rest.pop();
    if (sibling === undefined) return undefined;
    if (m < split) {
      const inner = rec(m, split);
      return inner && h(inner, sibling);
    }
    const inner = rec(m - split, n - split);
    return inner && h(sibling, inner);
  };
  const got = rec(index, size);
  return got !== undefined && rest.length === 0 && eq(got, root);
}

/** True iff `proof` is PROOF(size1, D[size2]) linking the two roots (size1 = 0 is rejected). */
export function referenceConsistency(
  size1: bigint,
  size2: bigint,
  root1: Uint8Array,
  root2: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (size1 <= 0n || size1 > size2 || size2 >= 1n << 64n) return false;
  if (size1 === size2) return proof.length === 0 && eq(root1, root2);
  if (proof.some((p) => p.length !== 32) || root1.length !== 32 || root2.length !== 32) return false;
  const rest = [...proof];
  const rec = (m: bigint, n: bigint, b: boolean): [Uint8Array, Uint8Array] | undefined => {
    if (m === n) {
      if (b) return [root1, root1];
      const node = rest.pop();
      return node && [node, node];
    }
    const split = k(n);
    const sibling = rest.pop();
    if (sibling === undefined) return undefined;
    if (m <= split) {
      const inner = rec(m, split, b);
      return inner && [inner[0], h(inner[1], sibling)];
    }
    const inner = rec(m - split, n - split, false);
    return inner && [h(sibling, inner[0]), h(sibling, inner[1])];
  };
  const got = rec(size1, size2, true);
  return got !== undefined && rest.length === 0 && eq(got[0], root1) && eq(got[1], root2);
}
