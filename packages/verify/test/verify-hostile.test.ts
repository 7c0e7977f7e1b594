import {
  emptyRoot,
  hashLeaf,
  isVerifyError,
  MerkleTree,
  planConsistencyProof,
  rootFromInclusionProof,
  type VerifyErrorCode,
  verifyConsistency,
  verifyInclusion,
} from '@custos/verify';
import { describe, expect, it } from 'vitest';

function codeOf(f: () => unknown): VerifyErrorCode | undefined {
  try {
    f();
  } catch (err) {
    if (isVerifyError(err)) return err.code;
    throw err;
  }
  return undefined;
}

const tree = new MerkleTree();
for (let i = 0; i < 20; i++) tree.append(new Uint8Array([i]));
const leaf3 = tree.node(0, 3);
const proof3 = tree.inclusionProof(3, 20);
const root20 = tree.root();

describe('verifyInclusion rejects hostile input with INCLUSION_INVALID', () => {
  it.each([
    ['negative index', -1, 20],
    ['fractional index', 1.5, 20],
    ['NaN index', Number.NaN, 20],
    ['unsafe index', 2 ** 53, 2 ** 53 + 2],
    ['index equal to size', 20, 20],
    ['bigint index >= 2^64', 1n << 64n, 20n],
    ['bigint size >= 2^64', 3n, 1n << 64n],
    ['negative bigint', -3n, 20n],
    ['size zero', 0, 0],
  ] as const)('%s', (_name, index, size) => {
    expect(codeOf(() => verifyInclusion(index, size, leaf3, proof3, root20))).toBe('INCLUSION_INVALID');
  });

  it('rejects short, long and malformed proofs and a wrong leaf', () => {
    expect(codeOf(() => verifyInclusion(3, 20, leaf3, proof3.slice(1), root20))).toBe('INCLUSION_INVALID');
    expect(codeOf(() => verifyInclusion(3, 20, leaf3, [...proof3, leaf3], root20))).toBe('INCLUSION_INVALID');
    expect(
      codeOf(() => verifyInclusion(3, 20, leaf3, [new Uint8Array(31), ...proof3.slice(1)], root20)),
    ).toBe('INCLUSION_INVALID');
    expect(codeOf(() => verifyInclusion(3, 20, leaf3, Array(65).fill(leaf3), root20))).toBe(
      'INCLUSION_INVALID',
    );
    expect(codeOf(() => verifyInclusion(3, 20, hashLeaf(new Uint8Array([9])), proof3, root20))).toBe(
      'INCLUSION_INVALID',
    );
    expect(codeOf(() => verifyInclusion(3, 20, leaf3.subarray(1), proof3, root20))).toBe('INCLUSION_INVALID');
    expect(codeOf(() => verifyInclusion(3, 20, leaf3, proof3, root20))).toBeUndefined();
    expect(rootFromInclusionProof(3, 20, leaf3, proof3)).toEqual(root20);
  });

  it('handles the largest tree sizes without precision loss', () => {
    const big = (1n << 64n) - 1n;
    expect(codeOf(() => verifyInclusion(big - 1n, big, leaf3, proof3, root20))).toBe('INCLUSION_INVALID');
  });
});

describe('verifyConsistency rejects hostile input with CONSISTENCY_INVALID', () => {
  const p = tree.consistencyProof(7, 20);
  const r7 = tree.root(7);
  it.each([
    ['size1 > size2', 21, 20],
    ['negative size', -7, 20],
    ['fractional size', 7.5, 20],
    ['unsafe size', 2 ** 53 + 1, 2 ** 53 + 1],
    ['bigint beyond 2^64', 7n, 1n << 64n],
  ] as const)('%s', (_name, s1, s2) => {
    expect(codeOf(() => verifyConsistency(s1, s2, r7, root20, p))).toBe('CONSISTENCY_INVALID');
  });

  it('rejects empty, truncated, extended and malformed proofs', () => {
    expect(codeOf(() => verifyConsistency(7, 20, r7, root20, []))).toBe('CONSISTENCY_INVALID');
    expect(codeOf(() => verifyConsistency(7, 20, r7, root20, p.slice(0, -1)))).toBe('CONSISTENCY_INVALID');
    expect(codeOf(() => verifyConsistency(7, 20, r7, root20, [...p, r7]))).toBe('CONSISTENCY_INVALID');
    expect(codeOf(() => verifyConsistency(7, 20, r7, root20, [new Uint8Array(0), ...p]))).toBe(
      'CONSISTENCY_INVALID',
    );
    expect(codeOf(() => verifyConsistency(7, 20, r7, root20, Array(129).fill(r7)))).toBe(
      'CONSISTENCY_INVALID',
    );
    expect(codeOf(() => verifyConsistency(7, 20, r7, root20, p))).toBeUndefined();
  });
});

describe('the 0 → 0 (and 0 → n) consistency decision', () => {
  // transparency-dev/merkle rejects every consistency proof from size 0; so do we. C2SP
  // tlog-witness sends no proof when the old size is 0: protocol code handles that case itself.
  it('rejects size1 = 0, even 0 → 0 with equal roots and an empty proof', () => {
    const e = emptyRoot();
    expect(codeOf(() => verifyConsistency(0, 0, e, e, []))).toBe('CONSISTENCY_INVALID');
    expect(codeOf(() => verifyConsistency(0n, 0n, e, e, []))).toBe('CONSISTENCY_INVALID');
    expect(codeOf(() => verifyConsistency(0, 20, e, root20, []))).toBe('CONSISTENCY_INVALID');
  });

  it('generates an empty proof from size 0, as the witness protocol expects', () => {
    expect(planConsistencyProof(0, 0)).toEqual([]);
    expect(planConsistencyProof(0, 20)).toEqual([]);
    expect(tree.consistencyProof(0, 20)).toEqual([]);
    expect(tree.consistencyProof(20, 20)).toEqual([]);
    expect(codeOf(() => planConsistencyProof(21, 20))).toBe('RANGE_INVALID');
  });

  it('accepts equal non-zero sizes with an empty proof and equal roots only', () => {
    expect(codeOf(() => verifyConsistency(20, 20, root20, root20, []))).toBeUndefined();
    expect(codeOf(() => verifyConsistency(20, 20, root20, r(19), []))).toBe('CONSISTENCY_INVALID');
    expect(codeOf(() => verifyConsistency(20, 20, root20, root20, [root20]))).toBe('CONSISTENCY_INVALID');
  });
});

function r(n: number): Uint8Array {
  return tree.root(n);
}
