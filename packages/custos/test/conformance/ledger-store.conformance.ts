import { createHash } from 'node:crypto';
import { encodeEntryBundle } from '@custos/verify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isCustosError } from '../../src/domain/errors.js';
import type { LedgerBatch, LedgerStore, StoredCheckpoint } from '../../src/ports/ledger-store.js';

/**
 * A fresh, empty ledger database: `open` opens a store on it (again after `close`, to check
 * persistence), `dispose` removes it.
 */
export interface LedgerStoreFixture {
  open(): Promise<LedgerStore>;
  dispose(): Promise<void>;
}

/** Creates a fresh fixture. */
export type LedgerStoreFactory = () => Promise<LedgerStoreFixture>;

const HASH = 32;

/** A deterministic stand-in for node (level, index): the store must not care what hashes mean. */
function fakeNode(level: number, index: number): Buffer {
  return createHash('sha256').update(`${level}/${index}`).digest();
}

function entry(i: number): Uint8Array {
  return Buffer.from(`{"i":${i},"pad":"${'x'.repeat(i % 50)}"}`);
}

/** The frontier of a tree of `size` leaves made of fake nodes: one per set bit, largest first. */
function fakeFrontier(size: number): Uint8Array[] {
  const frontier: Uint8Array[] = [];
  for (let level = 52; level >= 0; level--) {
    if (Math.floor(size / 2 ** level) % 2 === 1)
      frontier.push(fakeNode(level, Math.floor(size / 2 ** level) - 1));
  }
  return frontier;
}

/** Builds a well-formed batch of `count` entries after `first` (fake hashes, real shape). */
function batch(first: number, count: number): LedgerBatch {
  const end = first + count;
  const levels: Uint8Array[] = [];
  for (let level = 0; Math.floor(end / 2 ** level) > Math.floor(first / 2 ** level); level++) {
    const lo = Math.floor(first / 2 ** level);
    const hi = Math.floor(end / 2 ** level);
    levels.push(Buffer.concat(Array.from({ length: hi - lo }, (_, j) => fakeNode(level, lo + j))));
  }
  return {
    firstIndex: first,
    priorFrontier: fakeFrontier(first),
    entries: Array.from({ length: count }, (_, i) => entry(first + i)),
    levels,
    tree: { size: end, frontier: fakeFrontier(end) },
  };
}

async function appendRuns(store: LedgerStore, runs: readonly number[]): Promise<number> {
  let size = 0;
  for (const n of runs) {
    await store.appendBatch(batch(size, n));
    size += n;
  }
  return size;
}

function cp(size: number, rootSeed: string, signedAt = 1): StoredCheckpoint {
  return {
    size,
    root: createHash('sha256').update(rootSeed).digest(),
    note: `note ${size} ${rootSeed}\n`,
    signedAt,
  };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return isCustosError(err) ? err.code : `uncoded: ${String(err)}`;
  }
}

/**
 * The `LedgerStore` conformance suite. Every adapter (SQLite, PostgreSQL) runs exactly these tests
 * against a real database.
 */
export function ledgerStoreConformance(name: string, factory: LedgerStoreFactory): void {
  describe(`LedgerStore conformance: ${name}`, () => {
    let fixture: LedgerStoreFixture;
    let store: LedgerStore;
    beforeEach(async () => {
      fixture = await factory();
      store = await fixture.open();
    });
    afterEach(async () => {
      await store.close();
      await fixture.dispose();
    });

    it('starts empty', async () => {
      expect(await store.readTree()).toEqual({ size: 0, frontier: [] });
      expect(await store.lastCheckpoint()).toBeUndefined();
      expect(await store.listCheckpoints(-1, 10)).toEqual([]);
      expect(await store.readEntries(0, 10)).toEqual([]);
      await store.probeWritable();
    });

    it('stores entries and the tree state across batches of any size, and after reopening', async () => {
      const runs = [1, 2, 300, 1, 200, 9, 511, 1];
      const size = await appendRuns(store, runs);
      const want = Array.from({ length: size }, (_, i) => Buffer.from(entry(i)));
      const check = async (s: LedgerStore): Promise<void> => {
        expect((await s.readTree()).size).toBe(size);
        expect((await s.readTree()).frontier).toEqual(
          batch(0, size).tree.frontier.map((h) => new Uint8Array(h)),
        );
        const got = (await s.readEntries(0, size)).map((e) => Buffer.from(e));
        expect(got).toEqual(want);
        expect((await s.readEntries(250, 260)).map((e) => Buffer.from(e))).toEqual(want.slice(250, 260));
        expect((await s.readEntries(size - 1, size + 5)).length).toBe(1);
      };
      await check(store);
      await store.close();
      store = await fixture.open();
      await check(store);
    });

    it('returns entry bundles in the tlog-tiles encoding, full and partial', async () => {
      const size = await appendRuns(store, [5, 100, 200, 3]);
      const all = Array.from({ length: size }, (_, i) => entry(i));
      const full = await store.readEntryBundle(0, 256);
      expect(Buffer.from(full).equals(Buffer.from(encodeEntryBundle(all.slice(0, 256))))).toBe(true);
      const partial = await store.readEntryBundle(256, size);
      expect(Buffer.from(partial).equals(Buffer.from(encodeEntryBundle(all.slice(256))))).toBe(true);
      const narrower = await store.readEntryBundle(0, 7);
      expect(Buffer.from(narrower).equals(Buffer.from(encodeEntryBundle(all.slice(0, 7))))).toBe(true);
    });

    it('returns every node hash of every level, as ranges and one at a time', async () => {
      const size = await appendRuns(store, [3, 1, 250, 7, 600, 1, 1, 200]);
      for (let level = 0; Math.floor(size / 2 ** level) > 0; level++) {
        const count = Math.floor(size / 2 ** level);
        const want = Buffer.concat(Array.from({ length: count }, (_, j) => fakeNode(level, j)));
        expect(Buffer.from(await store.readHashes(level, 0, count)).equals(want)).toBe(true);
        for (const j of [0, count - 1, Math.floor(count / 2)]) {
          expect(Buffer.from(await store.readHashes(level, j, j + 1)).equals(fakeNode(level, j))).toBe(true);
        }
      }
      if (size >= 512) {
        const tile = await store.readHashes(0, 256, 512);
        expect(tile.length).toBe(256 * HASH);
      }
    });

    it('refuses hashes it does not have', async () => {
      await appendRuns(store, [10]);
      expect(await codeOf(store.readHashes(0, 5, 11))).toBe('LEDGER_UNAVAILABLE');
      expect(await codeOf(store.readHashes(4, 0, 1))).toBe('LEDGER_UNAVAILABLE');
    });

    it('refuses a batch that does not start at the stored size, and changes nothing', async () => {
      await appendRuns(store, [10]);
      expect(await codeOf(store.appendBatch(batch(5, 10)))).toBe('LEDGER_MOVED');
      expect(await codeOf(store.appendBatch(batch(11, 1)))).toBe('LEDGER_MOVED');
      expect((await store.readTree()).size).toBe(10);
      expect((await store.readEntries(0, 100)).length).toBe(10);
    });

    it('refuses a batch placed on another tree of the stored size, and changes nothing', async () => {
      // Another writer's tree of the same size: the batch's hashes would not be those of its entries.
      await appendRuns(store, [10]);
      const other = { ...batch(10, 5), priorFrontier: fakeFrontier(10).map((h) => h.map((b) => b ^ 1)) };
      expect(await codeOf(store.appendBatch(other))).toBe('LEDGER_MOVED');
      const short = { ...batch(10, 5), priorFrontier: fakeFrontier(10).slice(1) };
      expect(await codeOf(store.appendBatch(short))).toBe('LEDGER_MOVED');
      expect((await store.readTree()).size).toBe(10);
      expect((await store.readEntries(0, 100)).length).toBe(10);
      await store.appendBatch(batch(10, 5));
      expect((await store.readTree()).size).toBe(15);
    });

    it('writes a batch atomically: a failure part-way leaves no trace', async () => {
      await appendRuns(store, [10]);
      const bad = batch(10, 300);
      const entries = [...bad.entries];
      entries[290] = new Uint8Array(70_000); // too long for a bundle's uint16 length
      expect(await codeOf(store.appendBatch({ ...bad, entries }))).toBe('LEDGER_UNAVAILABLE');
      expect((await store.readTree()).size).toBe(10);
      expect((await store.readEntries(0, 400)).length).toBe(10);
      expect(await codeOf(store.readHashes(0, 10, 11))).toBe('LEDGER_UNAVAILABLE');
      await store.appendBatch(batch(10, 300));
      expect((await store.readTree()).size).toBe(310);
    });

    it('keeps checkpoint history and refuses smaller or forked checkpoints, across reopening', async () => {
      await store.saveCheckpoint(cp(0, 'empty'));
      await store.saveCheckpoint(cp(10, 'a'));
      await store.saveCheckpoint(cp(10, 'a', 2)); // a repeat is a no-op
      await store.saveCheckpoint(cp(20, 'b'));
      expect((await store.lastCheckpoint())?.size).toBe(20);
      expect((await store.listCheckpoints(0, 10)).map((c) => c.size)).toEqual([10, 20]);
      expect((await store.listCheckpoints(-1, 1)).map((c) => c.size)).toEqual([0]);
      expect(await codeOf(store.saveCheckpoint(cp(15, 'c')))).toBe('LEDGER_FORK_REFUSED');
      expect(await codeOf(store.saveCheckpoint(cp(20, 'other root')))).toBe('LEDGER_FORK_REFUSED');
      await store.close();
      store = await fixture.open();
      const last = await store.lastCheckpoint();
      expect(last?.size).toBe(20);
      expect(last?.note).toBe('note 20 b\n');
      expect(Buffer.from(last?.root ?? []).equals(cp(20, 'b').root)).toBe(true);
      expect(await codeOf(store.saveCheckpoint(cp(19, 'c')))).toBe('LEDGER_FORK_REFUSED');
      expect(await codeOf(store.saveCheckpoint(cp(20, 'x')))).toBe('LEDGER_FORK_REFUSED');
    });

    it('fails closed once closed: every call rejects with LEDGER_UNAVAILABLE', async () => {
      await appendRuns(store, [3]);
      await store.close();
      expect(await codeOf(store.appendBatch(batch(3, 1)))).toBe('LEDGER_UNAVAILABLE');
      expect(await codeOf(store.readTree())).toBe('LEDGER_UNAVAILABLE');
      expect(await codeOf(store.probeWritable())).toBe('LEDGER_UNAVAILABLE');
      expect(await codeOf(store.saveCheckpoint(cp(3, 'a')))).toBe('LEDGER_UNAVAILABLE');
      store = await fixture.open();
      expect((await store.readTree()).size).toBe(3);
    });
  });
}
