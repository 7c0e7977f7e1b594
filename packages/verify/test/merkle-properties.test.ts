import {
  consistencyProof,
  hashLeaf,
  inclusionProof,
  isVerifyError,
  MerkleTree,
  verifyConsistency,
  verifyInclusion,
} from '@custos/verify';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { referenceConsistency, referenceInclusion } from './helpers/reference-verifiers.js';

// One tree of 10^5 leaves built once; the properties sample indices and sizes in it.
const N = 100_000;
const tree = new MerkleTree();
const roots = new Map<number, Uint8Array>();
const rootAt = (n: number): Uint8Array => {
  let r = roots.get(n);
  if (r === undefined) {
    r = tree.root(n);
    roots.set(n, r);
  }
  return r;
};

beforeAll(() => {
  for (let i = 0; i < N; i++) tree.append(new TextEncoder().encode(`leaf ${i}`));
});

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const copy = bytes.slice();
  const i = Math.floor(bit / 8) % copy.length;
  copy[i] = (copy[i] as number) ^ (1 << (bit % 8));
  return copy;
}

function codeOf(f: () => void): string | undefined {
  try {
    f();
  } catch (err) {
    return isVerifyError(err) ? err.code : 'not a VerifyError';
  }
  return undefined;
}

const sizeAndIndex = fc
  .integer({ min: 1, max: N })
  .chain((size) => fc.tuple(fc.constant(size), fc.nat({ max: size - 1 })));
const twoSizes = fc
  .integer({ min: 1, max: N })
  .chain((size2) => fc.tuple(fc.integer({ min: 1, max: size2 }), fc.constant(size2)));

describe('inclusion proofs (RFC 9162 §2.1.3) on random tree sizes up to 10^5', () => {
  it('generated proofs verify', () => {
    fc.assert(
      fc.property(sizeAndIndex, ([size, index]) => {
        const leafHash = tree.node(0, index);
        verifyInclusion(index, size, leafHash, tree.inclusionProof(index, size), rootAt(size));
        verifyInclusion(
          BigInt(index),
          BigInt(size),
          leafHash,
          tree.inclusionProof(index, size),
          rootAt(size),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('any single bit flip in a proof hash, the leaf hash or the root fails', () => {
    fc.assert(
      fc.property(sizeAndIndex, fc.nat(), fc.nat(255), ([size, index], which, bit) => {
        const proof = tree.inclusionProof(index, size);
        const leafHash = tree.node(0, index);
        const root = rootAt(size);
        const target = which % (proof.length + 2);
        const run = () => {
          if (target < proof.length) {
            const bad = proof.map((p, i) => (i === target ? flipBit(p, bit) : p));
            verifyInclusion(index, size, leafHash, bad, root);
          } else if (target === proof.length) {
            verifyInclusion(index, size, flipBit(leafHash, bit), proof, root);
          } else {
            verifyInclusion(index, size, leafHash, proof, flipBit(root, bit));
          }
        };
        expect(codeOf(run)).toBe('INCLUSION_INVALID');
      }),
      { numRuns: 300 },
    );
  });

  it('a single bit flip in the index or size fails unless the proof is just as valid for it', () => {
    // A proof only binds index and size through the shape of the path, so a flip that keeps the
    // shape (e.g. size 642 → 643 for leaf 0) still verifies; a checkpoint signature binds the
    // size to the root. The reference verifier (RFC 9162 recursive definition) is the oracle.
    let rejected = 0;
    fc.assert(
      fc.property(sizeAndIndex, fc.nat(63), fc.boolean(), ([size, index], bit, flipSize) => {
        const proof = tree.inclusionProof(index, size);
        const mask = 1n << BigInt(bit);
        const idx = flipSize ? BigInt(index) : BigInt(index) ^ mask;
        const sz = flipSize ? BigInt(size) ^ mask : BigInt(size);
        const leafHash = tree.node(0, index);
        const expected = referenceInclusion(idx, sz, leafHash, proof, rootAt(size));
        const code = codeOf(() => verifyInclusion(idx, sz, leafHash, proof, rootAt(size)));
        expect(code).toBe(expected ? undefined : 'INCLUSION_INVALID');
        if (!expected) rejected++;
      }),
      { numRuns: 300 },
    );
    expect(rejected).toBeGreaterThan(200);
  });
});

describe('consistency proofs (RFC 9162 §2.1.4) on random tree sizes up to 10^5', () => {
  it('generated proofs verify', () => {
    fc.assert(
      fc.property(twoSizes, ([m, n]) => {
        verifyConsistency(m, n, rootAt(m), rootAt(n), tree.consistencyProof(m, n));
      }),
      { numRuns: 300 },
    );
  });

  it('any single bit flip in a proof hash or either root fails', () => {
    fc.assert(
      fc.property(twoSizes, fc.nat(), fc.nat(255), ([m, n], which, bit) => {
        const proof = tree.consistencyProof(m, n);
        const target = which % (proof.length + 2);
        const run = () => {
          if (target < proof.length) {
            verifyConsistency(
              m,
              n,
              rootAt(m),
              rootAt(n),
              proof.map((p, i) => (i === target ? flipBit(p, bit) : p)),
            );
          } else if (target === proof.length) {
            verifyConsistency(m, n, flipBit(rootAt(m), bit), rootAt(n), proof);
          } else {
            verifyConsistency(m, n, rootAt(m), flipBit(rootAt(n), bit), proof);
          }
        };
        expect(codeOf(run)).toBe('CONSISTENCY_INVALID');
      }),
      { numRuns: 300 },
    );
  });

  it('a single bit flip in either size fails unless the proof is just as valid for it', () => {
    let rejected = 0;
    fc.assert(
      fc.property(twoSizes, fc.nat(63), fc.boolean(), ([m, n], bit, second) => {
        const proof = tree.consistencyProof(m, n);
        const mask = 1n << BigInt(bit);
        const s1 = second ? BigInt(m) : BigInt(m) ^ mask;
        const s2 = second ? BigInt(n) ^ mask : BigInt(n);
        const expected = referenceConsistency(s1, s2, rootAt(m), rootAt(n), proof);
        const code = codeOf(() => verifyConsistency(s1, s2, rootAt(m), rootAt(n), proof));
        expect(code).toBe(expected ? undefined : 'CONSISTENCY_INVALID');
        if (!expected) rejected++;
      }),
      { numRuns: 300 },
    );
    expect(rejected).toBeGreaterThan(200);
  });

  it('agrees with the reference verifiers on random hostile inputs', () => {
    const hash = fc.uint8Array({ minLength: 32, maxLength: 32 });
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.array(hash, { maxLength: 6 }),
        hash,
        hash,
        (a, b, proof, r1, r2) => {
          const small = [a % 9n, b % 9n] as const;
          for (const [x, y] of [[a, b], small]) {
            const inc = codeOf(() => verifyInclusion(x, y, r1, proof, r2)) === undefined;
            expect(inc).toBe(referenceInclusion(x, y, r1, proof, r2));
            const con = codeOf(() => verifyConsistency(x, y, r1, r2, proof)) === undefined;
            expect(con).toBe(referenceConsistency(x, y, r1, r2, proof));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('proofs from the generic getNode API match the in-memory tree', () => {
    const getNode = (l: number, i: number) => tree.node(l, i);
    fc.assert(
      fc.property(twoSizes, ([m, n]) => {
        expect(consistencyProof(m, n, getNode)).toEqual(tree.consistencyProof(m, n));
        expect(inclusionProof(m - 1, n, getNode)).toEqual(tree.inclusionProof(m - 1, n));
      }),
      { numRuns: 100 },
    );
    expect(hashLeaf(new TextEncoder().encode('leaf 0'))).toEqual(tree.node(0, 0));
  });
});
