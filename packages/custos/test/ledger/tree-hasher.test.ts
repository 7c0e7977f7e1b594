import { hashLeaf, MerkleTree, verifyInclusion } from '@custos/verify';
import { afterEach, describe, expect, it } from 'vitest';
import type { LedgerStore, LedgerTreeState } from '../../src/ports/ledger-store.js';
import { HASH_THREAD_MIN_BATCH, hashBatchHere, TreeHasher } from '../../src/services/ledger/tree-hasher.js';
import { entryViews, packEntries, portableTreeHashing } from '../../src/services/ledger/tree-hashing.js';
import { accessEntry, type LedgerFixture, ledgerFixture } from './ledger-helpers.js';

function entries(from: number, n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) =>
    Buffer.from(`{"entry":${from + i},"pad":"${'é'.repeat(i % 5)}"}`),
  );
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

let hasher: TreeHasher | undefined;
let fx: LedgerFixture | undefined;
afterEach(async () => {
  await hasher?.close();
  hasher = undefined;
  fx?.cleanup();
  fx = undefined;
});

describe('TreeHasher', () => {
  it('packs entries into one buffer of their own', () => {
    const e = entries(0, 5);
    const packed = packEntries(e);
    expect(packed.blob.byteOffset).toBe(0);
    expect(packed.blob.byteLength).toBe(packed.blob.buffer.byteLength);
    expect([...packed.lengths]).toEqual(e.map((x) => x.length));
    expect(Buffer.from(packed.blob).equals(Buffer.concat(e))).toBe(true);
  });

  it('gives the hashing thread the same answers as hashing in place, batch after batch', async () => {
    hasher = new TreeHasher(true, portableTreeHashing);
    // The first large batch starts the thread and is hashed in place meanwhile.
    let threaded: LedgerTreeState = { size: 0, frontier: [] };
    let here: LedgerTreeState = { size: 0, frontier: [] };
    const all: Uint8Array[] = [];
    const sizes = [HASH_THREAD_MIN_BATCH, 3, HASH_THREAD_MIN_BATCH + 17, 1000, 1, 2048, 777];
    for (let round = 0; round < sizes.length; round++) {
      if (round === 1) await until(() => hasher?.threaded === true);
      const batch = entries(all.length, sizes[round] as number);
      const a = await hasher.hash(threaded, packEntries(batch));
      const b = hashBatchHere(here, packEntries(batch));
      expect(a.tree.size).toBe(b.tree.size);
      expect(hex(a.root)).toBe(hex(b.root));
      expect(a.tree.frontier.map(hex)).toEqual(b.tree.frontier.map(hex));
      expect(a.levels.map(hex)).toEqual(b.levels.map(hex));
      expect(entryViews(a.entries).map(hex)).toEqual(batch.map(hex));
      all.push(...batch);
      threaded = a.tree;
      here = b.tree;
    }
    expect(hasher.threaded).toBe(true);
    // Every batch after the first large one really came back from the thread (no silent fallback).
    expect(hasher.threadedBatches).toBe(sizes.filter((n, i) => i > 0 && n >= HASH_THREAD_MIN_BATCH).length);
    // And both agree with an independent Merkle tree over every entry.
    const tree = new MerkleTree();
    for (const e of all) tree.append(e);
    expect(hex(hashBatchHere(here, packEntries([])).root)).toBe(hex(tree.root()));
  });

  it('falls back to hashing in place when the thread dies, even for a batch in flight', async () => {
    hasher = new TreeHasher(true, portableTreeHashing);
    const first = entries(0, HASH_THREAD_MIN_BATCH);
    const start = await hasher.hash({ size: 0, frontier: [] }, packEntries(first));
    await until(() => hasher?.threaded === true);
    const batch = entries(first.length, 4096);
    const pending = hasher.hash(start.tree, packEntries(batch));
    await (hasher as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    const got = await pending;
    expect(hex(got.root)).toBe(hex(hashBatchHere(start.tree, packEntries(batch)).root));
    expect(hasher.threaded).toBe(false);
    const next = await hasher.hash(got.tree, packEntries(entries(first.length + batch.length, 300)));
    expect(next.tree.size).toBe(first.length + batch.length + 300);
  });

  it('a ledger hashing on the thread proves the same entries as one hashing in place', async () => {
    fx = ledgerFixture();
    const ledger = await fx.open({ hashThread: true, maxBatch: 1024, treeHashing: portableTreeHashing });
    const hasherOf = (l: typeof ledger): TreeHasher => (l as unknown as { hasher: TreeHasher }).hasher;
    const store = (ledger as unknown as { store: LedgerStore }).store;
    const n = 6000;
    // A first large batch starts the thread (and is hashed in place); the rest go to the thread.
    const warm = Array.from({ length: HASH_THREAD_MIN_BATCH }, (_, i) =>
      ledger.append(accessEntry(ledger, i)),
    );
    await Promise.all(warm);
    await until(() => hasherOf(ledger).threaded);
    const results = await Promise.all(
      Array.from({ length: n - warm.length }, (_, i) => ledger.append(accessEntry(ledger, warm.length + i))),
    );
    expect(results.map((r) => r.index)).toEqual(
      Array.from({ length: n - warm.length }, (_, i) => warm.length + i),
    );
    expect(hasherOf(ledger).threaded).toBe(true);
    expect(hasherOf(ledger).threadedBatches).toBeGreaterThan(0);
    const cp = await ledger.checkpoint();
    const tree = new MerkleTree();
    for (const e of await store.readEntries(0, n)) tree.append(e);
    expect(hex(cp.root)).toBe(hex(tree.root()));
    for (const i of [0, 1, 1023, 1024, 4097, n - 1]) {
      const proof = await ledger.inclusionProof(i, n);
      const leaf = (await store.readEntries(i, i + 1))[0] as Uint8Array;
      expect(() => verifyInclusion(i, n, hashLeaf(leaf), proof, cp.root)).not.toThrow();
    }
    expect((await ledger.health()).commits.batches).toBeLessThan(n / 100);
    await ledger.close();
  });
});
