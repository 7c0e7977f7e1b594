import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MerkleTree, verifyConsistency, verifyInclusion } from '@custos/verify';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteLedgerStore } from '../../src/adapters/sqlite/sqlite-ledger-store.js';
import type { LedgerTreeState } from '../../src/ports/ledger-store.js';
import { LedgerReader } from '../../src/services/ledger/ledger-reader.js';
import { buildTreeBatch, KEPT_LEVEL_STEP } from '../../src/services/ledger/tree-batch.js';
import { packEntries, portableTreeHashing, treeHashing } from '../../src/services/ledger/tree-hashing.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A SQLite ledger store grown batch by batch, beside an independent in-memory tree. */
async function grown(sizes: readonly number[]): Promise<{ store: SqliteLedgerStore; ref: MerkleTree }> {
  dir = mkdtempSync(join(tmpdir(), 'custos-reader-'));
  const store = new SqliteLedgerStore(join(dir, 'ledger.db'));
  const ref = new MerkleTree();
  let tree: LedgerTreeState = { size: 0, frontier: [] };
  for (const count of sizes) {
    const entries = Array.from({ length: count }, () => Buffer.from(`entry ${ref.size}-${Math.random()}`));
    const built = buildTreeBatch(tree, packEntries(entries));
    await store.appendBatch({
      firstIndex: tree.size,
      priorFrontier: tree.frontier,
      entries,
      levels: built.levels,
      tree: built.tree,
    });
    tree = built.tree;
    for (const e of entries) ref.append(e);
  }
  return { store, ref };
}

describe('LedgerReader over the kept levels', () => {
  it('stores node hashes of every fourth level only, with the tiles’ levels among them', async () => {
    const { store, ref } = await grown([7, 300, 1, 1500, 792, 1]);
    const size = ref.size;
    for (let level = 0; 2 ** level <= size; level++) {
      const read = store.readHashes(level, 0, 1);
      if (level % KEPT_LEVEL_STEP === 0) expect(hex(await read)).toBe(hex(ref.node(level, 0)));
      else await expect(read, `level ${level}`).rejects.toThrow();
    }
    expect(8 % KEPT_LEVEL_STEP).toBe(0);
    await store.close();
  });

  for (const hashing of [treeHashing, portableTreeHashing]) {
    it(`recomputes every node of the levels in between (${hashing.implementation} hashing)`, async () => {
      const { store, ref } = await grown([7, 300, 1, 1500, 792, 1, 513]);
      const size = ref.size;
      const reader = new LedgerReader(store, hashing);
      for (let level = 0; 2 ** level <= size; level++) {
        for (let i = 0; i < Math.floor(size / 2 ** level); i++) {
          expect(hex(await reader.node(level, i, size)), `node ${level}/${i}`).toBe(hex(ref.node(level, i)));
        }
      }
      await store.close();
    });
  }

  it('serves inclusion and consistency proofs that verify, for random sizes and indices', async () => {
    const { store, ref } = await grown([1, 2, 900, 33, 2048, 600]);
    const reader = new LedgerReader(store);
    const size = ref.size;
    for (let k = 0; k < 200; k++) {
      const n = 1 + Math.floor(Math.random() * size);
      const i = Math.floor(Math.random() * n);
      const m = Math.floor(Math.random() * (n + 1));
      const root = ref.root(n);
      const proof = await reader.inclusionProof(i, n, size);
      expect(proof.map(hex)).toEqual(ref.inclusionProof(i, n).map(hex));
      expect(() => verifyInclusion(i, n, ref.node(0, i), proof, root)).not.toThrow();
      const cons = await reader.consistencyProof(m, n, size);
      expect(cons.map(hex)).toEqual(ref.consistencyProof(m, n).map(hex));
      if (m > 0) expect(() => verifyConsistency(m, n, ref.root(m), root, cons)).not.toThrow();
    }
    await store.close();
  });
});
