import { createRequire } from 'node:module';
import { hashLeaf, MerkleTree } from '@custos/verify';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LedgerTreeState } from '../../src/ports/ledger-store.js';
import { buildTreeBatch } from '../../src/services/ledger/tree-batch.js';
import { TreeHasher } from '../../src/services/ledger/tree-hasher.js';
import {
  nativeTreeHashing,
  packEntries,
  portableTreeHashing,
  type TreeHashing,
  treeHashing,
} from '../../src/services/ledger/tree-hashing.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const wantNative =
  process.env.CI === 'true' && process.env.CUSTOS_NATIVE !== '0' && process.env.CUSTOS_NATIVE_MERKLE !== '0';
// Where the addon is not built (and not required), the cases below compare the portable code with itself.
const native: TreeHashing = nativeTreeHashing ?? portableTreeHashing;

/** Appends `batches` one after the other; returns every level of every batch, and the last tree. */
function grow(
  hashing: TreeHashing,
  batches: Uint8Array[][],
): { levels: string[][]; tree: LedgerTreeState; root: string } {
  let tree: LedgerTreeState = { size: 0, frontier: [] };
  const levels: string[][] = [];
  let root = '';
  for (const b of batches) {
    const built = buildTreeBatch(tree, packEntries(b), hashing);
    levels.push(built.levels.map(hex));
    tree = built.tree;
    root = hex(built.root);
  }
  return { levels, tree, root };
}

describe('native tree hashing (native/merkle.c)', () => {
  it('is built and used in CI (set CUSTOS_NATIVE_MERKLE=0 to use node:crypto)', () => {
    if (wantNative) expect(treeHashing.implementation).toBe('native');
    expect(['native', 'portable']).toContain(treeHashing.implementation);
  });

  it('hashes leaves and nodes exactly as the portable code does', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 700 }), { maxLength: 40 }), (entries) => {
        const packed = packEntries(entries);
        const a = new Uint8Array(entries.length * 32);
        const b = new Uint8Array(entries.length * 32);
        native.leaves(packed, a);
        portableTreeHashing.leaves(packed, b);
        expect(hex(a)).toBe(hex(b));
        entries.forEach((e, i) => {
          expect(hex(a.subarray(i * 32, i * 32 + 32))).toBe(hex(hashLeaf(e)));
        });
        const pairs = Math.floor(entries.length / 2);
        const na = new Uint8Array(pairs * 32);
        const nb = new Uint8Array(pairs * 32);
        native.nodes(a.subarray(0, pairs * 64), na);
        portableTreeHashing.nodes(b.subarray(0, pairs * 64), nb);
        expect(hex(na)).toBe(hex(nb));
      }),
      { numRuns: 200 },
    );
  });

  it('builds the same levels, frontier and root as the portable code, batch after batch', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 12 }), (sizes) => {
        let n = 0;
        const batches = sizes.map((k) => Array.from({ length: k }, () => Buffer.from(`entry ${n++}`)));
        const a = grow(native, batches);
        const b = grow(portableTreeHashing, batches);
        expect(a.levels).toEqual(b.levels);
        expect(a.tree.frontier.map(hex)).toEqual(b.tree.frontier.map(hex));
        expect(a.root).toBe(b.root);
        // And both are the root of an independent Merkle tree over every entry.
        const tree = new MerkleTree();
        for (const e of batches.flat()) tree.append(e);
        if (n > 0) expect(a.root).toBe(hex(tree.root()));
      }),
      { numRuns: 60 },
    );
  });

  it('with native hashing, the hasher never starts a thread', async () => {
    const hasher = new TreeHasher(true, native);
    const entries = Array.from({ length: 3000 }, (_, i) => Buffer.from(`e${i}`));
    const built = await hasher.hash({ size: 0, frontier: [] }, packEntries(entries));
    expect(built.tree.size).toBe(3000);
    expect(hasher.usesThread).toBe(native.implementation !== 'native');
    await hasher.close();
  });

  it.runIf(nativeTreeHashing !== undefined)(
    'the addon refuses arguments that do not add up, and never reads past them',
    () => {
      const addon = createRequire(import.meta.url)('../../native/build/custos_merkle.node') as {
        leafHashes(...args: unknown[]): void;
        nodeHashes(...args: unknown[]): void;
      };
      const blob = new Uint8Array(10);
      const out = new Uint8Array(64);
      expect(() => addon.leafHashes(blob, new Uint32Array([4, 6]), out)).not.toThrow();
      const bad: [string, () => void][] = [
        ['too few arguments', () => addon.leafHashes(blob, new Uint32Array([4, 6]))],
        ['lengths not a Uint32Array', () => addon.leafHashes(blob, new Uint16Array([4, 6]), out)],
        ['a string for the blob', () => addon.leafHashes('0123456789', new Uint32Array([4, 6]), out)],
        ['lengths short of the blob', () => addon.leafHashes(blob, new Uint32Array([4, 5]), out)],
        ['lengths past the blob', () => addon.leafHashes(blob, new Uint32Array([4, 7]), out)],
        ['a length that wraps around', () => addon.leafHashes(blob, new Uint32Array([0xffff_fffc, 14]), out)],
        ['out too small', () => addon.leafHashes(blob, new Uint32Array([4, 6]), out.subarray(1))],
        ['out too large', () => addon.leafHashes(blob, new Uint32Array([10]), out)],
        ['an odd number of children', () => addon.nodeHashes(new Uint8Array(96), new Uint8Array(48))],
        ['children short of out', () => addon.nodeHashes(new Uint8Array(64), new Uint8Array(64))],
        ['a plain array', () => addon.nodeHashes([1, 2, 3], new Uint8Array(32))],
      ];
      for (const [what, call] of bad) expect(call, what).toThrow();
      // out sharing memory with lengths: the first hash overwrites the lengths already checked.
      const shared = new ArrayBuffer(64);
      const lengths = new Uint32Array(shared, 0, 2);
      lengths.set([16, 0]);
      expect(() => addon.leafHashes(new Uint8Array(16), lengths, new Uint8Array(shared, 0, 64))).toThrow(
        RangeError,
      );
      // An empty run is fine and writes nothing.
      expect(() => addon.leafHashes(new Uint8Array(0), new Uint32Array(0), new Uint8Array(0))).not.toThrow();
      expect(() => addon.nodeHashes(new Uint8Array(0), new Uint8Array(0))).not.toThrow();
    },
  );
});
