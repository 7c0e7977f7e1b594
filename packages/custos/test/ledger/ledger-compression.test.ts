/**
 * Entry compression in the SQLite ledger store: pieces are written with Brotli (`codec` 1), rows
 * written raw (`codec` 0, by older code or with `compressEntries: false`) still read, a chunk
 * completed across both kinds merges, and a damaged row fails closed.
 */
import { join } from 'node:path';
import { brotliCompressSync } from 'node:zlib';
import { encodeEntryBundle } from '@custos/verify';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteLedgerStore } from '../../src/adapters/sqlite/sqlite-ledger-store.js';
import { WorkerSqliteLedgerStore } from '../../src/adapters/sqlite/worker-sqlite-ledger-store.js';
import { loadLedgerKeys } from '../../src/services/ledger/ledger-keys.js';
import { LedgerService } from '../../src/services/ledger/ledger-service.js';
import { accessEntry, type LedgerFixture, ledgerFixture, TEST_ORIGIN } from './ledger-helpers.js';

let fx: LedgerFixture;
beforeEach(() => {
  fx = ledgerFixture();
});
afterEach(() => fx.cleanup());

function open(path: string, compressEntries?: boolean, worker = false): Promise<LedgerService> {
  const store = worker
    ? new WorkerSqliteLedgerStore(path, { compressEntries })
    : new SqliteLedgerStore(path, { compressEntries });
  return LedgerService.open(store, loadLedgerKeys(fx.keysDir), {
    origin: TEST_ORIGIN,
    maxBatch: 1000,
    maxWaitMs: 0,
    checkpointIntervalMs: 0,
    clock: fx.clock,
  });
}

async function appendRange(ledger: LedgerService, from: number, to: number): Promise<Uint8Array[]> {
  const inputs = Array.from({ length: to - from }, (_, i) => accessEntry(ledger, from + i));
  const bytes = inputs.map((e) => ledger.encode(e));
  await Promise.all(inputs.map((e) => ledger.append(e)));
  return bytes;
}

interface Row {
  first: number;
  count: number;
  codec: number;
  size: number;
}
function rows(path: string): Row[] {
  const db = new Database(path, { readonly: true });
  try {
    return db
      .prepare('SELECT first, count, codec, length(data) AS size FROM ledger_entries ORDER BY first')
      .all() as Row[];
  } finally {
    db.close();
  }
}

describe('SQLite ledger entry compression', () => {
  it('stores pieces compressed, reads them back byte for byte, and serves the same bundles', async () => {
    const path = join(fx.dir, 'ledger.db');
    const ledger = await open(path);
    const written = await appendRange(ledger, 0, 600);
    const store = new SqliteLedgerStore(path);
    try {
      const all = await store.readEntries(0, 600);
      expect(all.map((e) => Buffer.from(e).toString('hex'))).toEqual(
        written.map((e) => Buffer.from(e).toString('hex')),
      );
      expect(
        Buffer.from(await store.readEntryBundle(256, 512)).equals(encodeEntryBundle(written.slice(256, 512))),
      ).toBe(true);
      expect(
        Buffer.from(await store.readEntryBundle(512, 600)).equals(encodeEntryBundle(written.slice(512, 600))),
      ).toBe(true);
    } finally {
      await store.close();
      await ledger.close();
    }
    const stored = rows(path);
    expect(stored.every((r) => r.codec === 1)).toBe(true);
    const full = stored.find((r) => r.first === 0 && r.count === 256) as Row;
    const raw = encodeEntryBundle(written.slice(0, 256)).length;
    // Entries of one shape pack several times over.
    expect(full.size * 4).toBeLessThan(raw);
  });

  it('reads rows written raw, and merges a chunk begun raw and completed compressed', async () => {
    const path = join(fx.dir, 'ledger.db');
    const before = await open(path, false);
    const first = await appendRange(before, 0, 300);
    await before.close();
    expect(rows(path).every((r) => r.codec === 0)).toBe(true);
    const after = await open(path);
    const second = await appendRange(after, 300, 520);
    const store = new SqliteLedgerStore(path);
    try {
      const all = await store.readEntries(0, 520);
      expect(all.map((e) => Buffer.from(e).toString('hex'))).toEqual(
        [...first, ...second].map((e) => Buffer.from(e).toString('hex')),
      );
    } finally {
      await store.close();
      await after.close();
    }
    const stored = rows(path);
    // [0, 256) raw as written; [256, 512) merged from a raw and a compressed piece, compressed.
    expect(stored.find((r) => r.first === 0)).toMatchObject({ count: 256, codec: 0 });
    expect(stored.find((r) => r.first === 256)).toMatchObject({ count: 256, codec: 1 });
  });

  it('the writer thread packs, or not, as the option says', async () => {
    for (const compress of [true, false]) {
      const path = join(fx.dir, `worker-${compress}.db`);
      const ledger = await open(path, compress, true);
      const written = await appendRange(ledger, 0, 40);
      await ledger.close();
      const store = new SqliteLedgerStore(path);
      const read = await store.readEntries(0, 40);
      await store.close();
      expect(read.map((e) => Buffer.from(e).toString('hex'))).toEqual(
        written.map((e) => Buffer.from(e).toString('hex')),
      );
      expect(rows(path).every((r) => r.codec === (compress ? 1 : 0))).toBe(true);
    }
  });

  it('fails closed on a damaged row: an unknown codec, bytes that do not decompress, decompression bombs', async () => {
    const path = join(fx.dir, 'ledger.db');
    const ledger = await open(path);
    await appendRange(ledger, 0, 10);
    await ledger.close();
    const damages: [string, unknown[]][] = [
      ['UPDATE ledger_entries SET codec = 7', []],
      ['UPDATE ledger_entries SET data = ?', [Buffer.from('not brotli at all')]],
      // One entry can be at most 65,537 bytes of bundle: this row says one and holds a megabyte.
      ['UPDATE ledger_entries SET count = 1, data = ?', [brotliCompressSync(Buffer.alloc(1 << 20))]],
      // A full chunk's worth is 256 × 65,537 bytes: this one unpacks to 20 MiB.
      ['UPDATE ledger_entries SET count = 256, data = ?', [brotliCompressSync(Buffer.alloc(20 << 20))]],
      // A count no piece can have (a piece holds at most one chunk) cannot raise the bound.
      ['UPDATE ledger_entries SET count = 100000, data = ?', [brotliCompressSync(Buffer.alloc(20 << 20))]],
    ];
    for (const [sql, params] of damages) {
      const copy = join(fx.dir, `damaged-${damages.findIndex((d) => d[0] === sql)}.db`);
      const src = new Database(path);
      await src.backup(copy);
      src.close();
      const db = new Database(copy);
      db.prepare(sql).run(...params);
      db.close();
      const store = new SqliteLedgerStore(copy);
      try {
        await expect(store.readEntries(0, 1)).rejects.toMatchObject({ code: 'LEDGER_UNAVAILABLE' });
        await expect(store.readEntryBundle(0, 1)).rejects.toMatchObject({ code: 'LEDGER_UNAVAILABLE' });
      } finally {
        await store.close();
      }
    }
  });
});
