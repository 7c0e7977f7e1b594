import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteLedgerStore } from '../../src/adapters/sqlite/sqlite-ledger-store.js';
import { isCustosError } from '../../src/domain/errors.js';
import type { LedgerBatch, LedgerStore } from '../../src/ports/ledger-store.js';
import type { LedgerService } from '../../src/services/ledger/ledger-service.js';
import { accessEntry, type LedgerFixture, ledgerFixture } from './ledger-helpers.js';

let fx: LedgerFixture;
afterEach(() => fx?.cleanup());

const isUnavailable = (e: unknown): boolean => isCustosError(e, 'LEDGER_UNAVAILABLE');

/** A store whose backing SQLite store can be closed, failed or replaced, as an outage would. */
class SwitchableStore implements LedgerStore {
  /** When set, appendBatch commits and then throws: the caller cannot know whether it landed. */
  failAfterCommit = false;
  /** When set, appendBatch throws as a full disk would, writing nothing. */
  diskFull = false;
  constructor(public inner: SqliteLedgerStore) {}
  readTree = () => this.inner.readTree();
  async appendBatch(batch: LedgerBatch): Promise<void> {
    if (this.diskFull) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    await this.inner.appendBatch(batch);
    if (this.failAfterCommit) throw new Error('connection reset after commit');
  }
  readEntries = (s: number, e: number) => this.inner.readEntries(s, e);
  readEntryBundle = (s: number, e: number) => this.inner.readEntryBundle(s, e);
  readHashes = (l: number, s: number, e: number) => this.inner.readHashes(l, s, e);
  saveCheckpoint = (c: Parameters<LedgerStore['saveCheckpoint']>[0]) => this.inner.saveCheckpoint(c);
  lastCheckpoint = () => this.inner.lastCheckpoint();
  listCheckpoints = (a: number, l: number) => this.inner.listCheckpoints(a, l);
  probeWritable = () => this.inner.probeWritable();
  close = () => this.inner.close();
}

/** Appends `n` entries concurrently; returns which settled how (a pending promise would hang the test). */
async function burst(
  ledger: LedgerService,
  from: number,
  n: number,
): Promise<{ ok: number[]; failed: number }> {
  const settled = await Promise.allSettled(
    Array.from({ length: n }, (_, i) => ledger.append(accessEntry(ledger, from + i))),
  );
  const ok: number[] = [];
  let failed = 0;
  for (const s of settled) {
    if (s.status === 'fulfilled') ok.push(s.value.index);
    else {
      expect(isUnavailable(s.reason)).toBe(true);
      failed++;
    }
  }
  return { ok, failed };
}

/** Checks the durable ledger holds exactly the acknowledged entries, densely, and the tree matches. */
async function expectDurable(ledger: LedgerService, size: number): Promise<void> {
  expect(ledger.size).toBe(size);
  const cp = await ledger.checkpoint();
  expect(cp.size).toBe(size);
  if (size > 0) expect((await ledger.receipt(size - 1)).index).toBe(size - 1);
}

describe('fail-closed ledger', () => {
  it('rejects with LEDGER_UNAVAILABLE while another connection holds the write lock, then recovers', async () => {
    fx = ledgerFixture();
    const ledger = await fx.open();
    expect((await burst(ledger, 0, 50)).ok.length).toBe(50);
    const other = new Database(fx.dbPath);
    other.exec('BEGIN EXCLUSIVE');
    const started = Date.now();
    const during = await burst(ledger, 50, 30);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(during).toEqual({ ok: [], failed: 30 });
    expect(await ledger.isWritable()).toBe(false);
    other.exec('ROLLBACK');
    other.close();
    expect(await ledger.isWritable()).toBe(true);
    const after = await burst(ledger, 80, 20);
    expect(after.ok).toEqual(Array.from({ length: 20 }, (_, i) => 50 + i));
    await expectDurable(ledger, 70);
    await ledger.close();
  });

  it('rejects when the database is closed underneath, and recovers when it comes back', async () => {
    fx = ledgerFixture();
    const store = new SwitchableStore(new SqliteLedgerStore(fx.dbPath));
    const ledger = await fx.open({}, store);
    expect((await burst(ledger, 0, 10)).ok.length).toBe(10);
    await store.inner.close();
    expect(await burst(ledger, 10, 25)).toEqual({ ok: [], failed: 25 });
    expect((await ledger.health()).writable).toBe(false);
    store.inner = new SqliteLedgerStore(fx.dbPath);
    expect((await burst(ledger, 35, 5)).ok).toEqual([10, 11, 12, 13, 14]);
    await expectDurable(ledger, 15);
    await ledger.close();
  });

  it('rejects on a full disk and writes nothing', async () => {
    fx = ledgerFixture();
    const store = new SwitchableStore(new SqliteLedgerStore(fx.dbPath));
    const ledger = await fx.open({}, store);
    await burst(ledger, 0, 3);
    store.diskFull = true;
    expect(await burst(ledger, 3, 40)).toEqual({ ok: [], failed: 40 });
    store.diskFull = false;
    expect((await burst(ledger, 43, 2)).ok).toEqual([3, 4]);
    await expectDurable(ledger, 5);
    await ledger.close();
  });

  it('resynchronises its tree from the store after a commit of unknown outcome', async () => {
    fx = ledgerFixture();
    const store = new SwitchableStore(new SqliteLedgerStore(fx.dbPath));
    const ledger = await fx.open({}, store);
    await burst(ledger, 0, 7);
    store.failAfterCommit = true;
    // The batch is on disk but its callers were told it failed: never acknowledged, never lost order.
    expect(await burst(ledger, 7, 9)).toEqual({ ok: [], failed: 9 });
    store.failAfterCommit = false;
    expect((await burst(ledger, 16, 4)).ok).toEqual([16, 17, 18, 19]);
    await expectDurable(ledger, 20);
    await ledger.close();
  });

  it('pipelines batches: the next is placed while one is written; the one placed on a failed batch is placed again', async () => {
    fx = ledgerFixture();
    const inner = new SqliteLedgerStore(fx.dbPath);
    const started: number[] = [];
    let release: () => void = () => undefined;
    let failFirst = true;
    const gated = new SwitchableStore(inner);
    gated.appendBatch = async (batch: LedgerBatch) => {
      started.push(batch.firstIndex);
      if (started.length === 1) {
        // Hold the first batch until the second has been placed and handed over too.
        await new Promise<void>((r) => {
          release = r;
        });
        if (failFirst) throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' });
      }
      await inner.appendBatch(batch);
    };
    const ledger = await fx.open({ maxBatch: 5, maxWaitMs: 0 }, gated);
    const first = burst(ledger, 0, 5);
    await new Promise((r) => setTimeout(r, 20));
    const second = burst(ledger, 5, 5);
    for (let i = 0; i < 100 && started.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    // Two batches in flight: the second was placed at index 5, on the first's (uncommitted) tree.
    expect(started).toEqual([0, 5]);
    release();
    expect(await first).toEqual({ ok: [], failed: 5 });
    // The store refused the second batch (LEDGER_MOVED: it was placed on a tree that never
    // landed), so nothing landed out of order; the ledger placed it again on the stored tree.
    const again = await second;
    expect(again.failed).toBe(0);
    expect(again.ok.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4]);
    expect(started).toEqual([0, 5, 0]);
    failFirst = false;
    expect((await burst(ledger, 10, 7)).ok.sort((a, b) => a - b)).toEqual([5, 6, 7, 8, 9, 10, 11]);
    await expectDurable(ledger, 12);
    await ledger.close();
  });

  it('rejects after close, and a new process sees only acknowledged entries', async () => {
    fx = ledgerFixture();
    const ledger = await fx.open();
    const first = await burst(ledger, 0, 12);
    await ledger.close();
    await expect(ledger.append(accessEntry(ledger, 99))).rejects.toSatisfy(isUnavailable);
    const again = await fx.open();
    expect(again.size).toBe(first.ok.length);
    await again.close();
  });
});
