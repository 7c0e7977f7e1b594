import {
  CompactRange,
  emptyRoot,
  hashChildren,
  hashLeaf,
  isVerifyError,
  MerkleTree,
  rootFromLeafHashes,
  toHex,
  VerifyError,
} from '@custos/verify';
import { describe, expect, it } from 'vitest';

const leaf = (i: number) => hashLeaf(new TextEncoder().encode(`entry ${i}`));

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    return isVerifyError(err) ? err.code : 'not a VerifyError';
  }
  return undefined;
}

describe('RFC 6962 §2.1 hashing', () => {
  it('hashes the empty tree, leaves and nodes with domain separation', () => {
    expect(toHex(emptyRoot())).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    // Leaf hash of the empty entry, as in the transparency-dev vectors (bjQLnP+z... in base64).
    expect(toHex(hashLeaf(new Uint8Array(0)))).toBe(
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    );
    const a = leaf(1);
    const b = leaf(2);
    expect(toHex(hashChildren(a, b))).not.toBe(toHex(hashChildren(b, a)));
    expect(code(() => hashChildren(a, new Uint8Array(31)))).toBe('INPUT_INVALID');
  });

  it('computes the RFC 6962 root of the transparency-dev 8-leaf reference tree', () => {
    // The leaves of transparency-dev/merkle's test tree; its root is in inclusion/1/happy-path.json.
    const hexLeaves = [
      '',
      '00',
      '10',
      '2021',
      '3031',
      '40414243',
      '5051525354555657',
      '606162636465666768696a6b6c6d6e6f',
    ];
    const leaves = hexLeaves.map((h) => hashLeaf(new Uint8Array(Buffer.from(h, 'hex'))));
    expect(Buffer.from(rootFromLeafHashes(leaves)).toString('base64')).toBe(
      'XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=',
    );
  });

  it('agrees across rootFromLeafHashes, CompactRange and MerkleTree for sizes 0..300', () => {
    const tree = new MerkleTree();
    const range = new CompactRange();
    const leaves: Uint8Array[] = [];
    for (let n = 0; n <= 300; n++) {
      const want = toHex(rootFromLeafHashes(leaves));
      expect(toHex(range.root())).toBe(want);
      expect(toHex(tree.root())).toBe(want);
      expect(range.size).toBe(n);
      const h = leaf(n);
      leaves.push(h);
      range.appendLeafHash(h);
      tree.appendLeafHash(h);
    }
    for (let n = 0; n <= 300; n += 7)
      expect(toHex(tree.root(n))).toBe(toHex(rootFromLeafHashes(leaves.slice(0, n))));
  });
});

describe('CompactRange', () => {
  it('keeps one hash per set bit of the size and round-trips its state', () => {
    const range = new CompactRange();
    for (let i = 0; i < 1000; i++) range.appendLeafHash(leaf(i));
    const state = range.state();
    expect(state.size).toBe(1000);
    expect(state.hashes).toHaveLength(6); // 1000 = 0b1111101000
    const restored = new CompactRange(state);
    expect(toHex(restored.root())).toBe(toHex(range.root()));
    restored.appendLeafHash(leaf(1000));
    range.appendLeafHash(leaf(1000));
    expect(toHex(restored.root())).toBe(toHex(range.root()));
    const copy = range.clone();
    copy.appendLeafHash(leaf(1001));
    expect(range.size).toBe(1001);
  });

  it('appends aligned perfect subtrees like their leaves', () => {
    const tree = new MerkleTree();
    for (let i = 0; i < 1024 + 300; i++) tree.appendLeafHash(leaf(i));
    const range = new CompactRange();
    range.appendSubtree(tree.node(8, 0), 8);
    range.appendSubtree(tree.node(8, 1), 8);
    range.appendSubtree(tree.node(9, 1), 9);
    for (let i = 1024; i < 1024 + 300; i++) range.appendLeafHash(leaf(i));
    expect(toHex(range.root())).toBe(toHex(tree.root()));
  });

  it('rejects malformed state and misaligned subtrees with RANGE_INVALID', () => {
    const h = leaf(0);
    expect(code(() => new CompactRange({ size: 3, hashes: [h] }))).toBe('RANGE_INVALID');
    expect(code(() => new CompactRange({ size: -1, hashes: [] }))).toBe('RANGE_INVALID');
    expect(code(() => new CompactRange({ size: 1.5, hashes: [h] }))).toBe('RANGE_INVALID');
    expect(code(() => new CompactRange({ size: 1, hashes: [new Uint8Array(31)] }))).toBe('RANGE_INVALID');
    const range = new CompactRange();
    range.appendLeafHash(h);
    expect(code(() => range.appendSubtree(h, 1))).toBe('RANGE_INVALID');
    expect(code(() => range.appendLeafHash(new Uint8Array(5)))).toBe('INPUT_INVALID');
  });

  it('MerkleTree refuses nodes and sizes it does not have', () => {
    const tree = new MerkleTree();
    tree.append(new Uint8Array([1]));
    expect(() => tree.node(1, 0)).toThrow(VerifyError);
    expect(code(() => tree.root(2))).toBe('RANGE_INVALID');
    expect(code(() => tree.inclusionProof(1))).toBe('RANGE_INVALID');
  });
});
