/**
 * Acceptance: tampering with a real ledger file is detected by `custos-verify ledger` (exit 1,
 * naming the check). Each case copies one pristine SQLite ledger, damages it through a separate
 * better-sqlite3 connection (or forges a checkpoint), exports it as the custodian would, and runs
 * the verifier in-process against the auditor's remembered state.
 */
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync } from 'node:zlib';
import {
  createEd25519NoteSigner,
  type LedgerEntry,
  parseEntry,
  randomSeed,
  signCheckpoint,
} from '@custos/verify';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteLedgerStore } from '../../src/adapters/sqlite/sqlite-ledger-store.js';
import { exportLedger } from '../../src/services/ledger/ledger-export.js';
import { loadLedgerKeys } from '../../src/services/ledger/ledger-keys.js';
import { LedgerService } from '../../src/services/ledger/ledger-service.js';
import {
  accessEntry,
  type LedgerFixture,
  ledgerFixture,
  runVerifier,
  TEST_ORIGIN,
} from './ledger-helpers.js';

const SIZE = 300;
const CHECKS =
  /^FAIL (checkpoint-signature|checkpoint|entry-bundle|entry-schema|entry-count|hash-tile|root|consistency)(?=[ :])/m;

let fx: LedgerFixture;
let pristine: string;
let vkey: string;
let state300: string;
let state200: string;
let entries: LedgerEntry[];
let n = 0;

interface PieceRow {
  first: number;
  count: number;
  data: Buffer;
}

function openService(dbPath: string): Promise<LedgerService> {
  return LedgerService.open(new SqliteLedgerStore(dbPath), loadLedgerKeys(fx.keysDir), {
    origin: TEST_ORIGIN,
    maxBatch: 1000,
    maxWaitMs: 0,
    checkpointIntervalMs: 0,
    clock: fx.clock,
  });
}

/** Exports the ledger in `dbPath` and audits it against `state`; returns the verifier's verdict. */
async function exportAndVerify(
  dbPath: string,
  state: string,
  checkpoint?: string,
): Promise<{ code: number; out: string }> {
  const dir = join(fx.dir, `export-${n++}`);
  const ledger = await openService(dbPath);
  try {
    await exportLedger(ledger, dir);
  } finally {
    await ledger.close();
  }
  if (checkpoint !== undefined) writeFileSync(join(dir, 'checkpoint'), checkpoint);
  // One checking thread: the same checks as the default pool (the verify package runs every audit
  // case both ways), without starting threads hundreds of times for a 300-entry log.
  const result = await runVerifier(['ledger', '--dir', dir, '--key', vkey, '--state', state, '--jobs', '1']);
  rmSync(dir, { recursive: true, force: true });
  return result;
}

/** Copies the pristine ledger, applies `damage` through its own connection, and audits it. */
async function tamper(damage: (db: Database.Database) => void): Promise<{ code: number; out: string }> {
  const dbPath = join(fx.dir, 'work.db');
  rmSync(dbPath, { force: true });
  copyFileSync(pristine, dbPath);
  const db = new Database(dbPath);
  damage(db);
  db.close();
  return exportAndVerify(dbPath, state300);
}

/** Builds another ledger with the same (stolen) signing key from `list`, as a rewriter would. */
async function rebuild(list: readonly LedgerEntry[]): Promise<string> {
  const dbPath = join(fx.dir, `rebuilt-${n++}.db`);
  const ledger = await openService(dbPath);
  await Promise.all(list.map((e) => ledger.append(e)));
  await ledger.checkpoint();
  await ledger.close();
  return dbPath;
}

/**
 * The stored entry pieces, decompressed: the store packs each piece with Brotli (`codec` 1), so a
 * rewriter edits the entries inside and packs them again, which `store()` does. Every UPDATE below
 * writes `data` through it.
 */
function pieces(db: Database.Database): PieceRow[] {
  const rows = db
    .prepare('SELECT first, count, data, codec FROM ledger_entries ORDER BY first')
    .all() as (PieceRow & { codec: number })[];
  return rows.map((r) => {
    expect(r.codec).toBe(1);
    return { first: r.first, count: r.count, data: brotliDecompressSync(r.data) };
  });
}

const store = (data: Buffer): Buffer => brotliCompressSync(data);

function expectDetected(result: { code: number; out: string }, checks: readonly string[]): void {
  expect(result.code, result.out).toBe(1);
  const named = CHECKS.exec(result.out)?.[1];
  expect(checks, result.out).toContain(named);
}

beforeAll(async () => {
  fx = ledgerFixture();
  pristine = join(fx.dir, 'pristine.db');
  const ledger = await openService(pristine);
  vkey = ledger.verifierKey;
  // Small batches of varied size, so the last bundle is stored as several pieces.
  let i = 0;
  while (i < SIZE) {
    const k = Math.min(SIZE - i, 1 + ((i * 7) % 23));
    await Promise.all(Array.from({ length: k }, (_, j) => ledger.append(accessEntry(ledger, i + j))));
    i += k;
    if (i >= 200 && state200 === undefined) {
      state200 = join(fx.dir, 'state-200');
      writeFileSync(state200, (await ledger.checkpoint()).note);
    }
  }
  const cp = await ledger.checkpoint();
  expect(cp.size).toBe(SIZE);
  await ledger.close();
  const db = new Database(pristine, { readonly: true });
  entries = pieces(db)
    .flatMap((p) => decode(p.data))
    .map((e) => parseEntry(e));
  db.close();
  expect(entries.length).toBe(SIZE);
  state300 = join(fx.dir, 'state-300');
  const ok = await exportAndVerify(pristine, state300);
  expect(ok.code, ok.out).toBe(0);
}, 60_000);
afterAll(() => fx?.cleanup());

function decode(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < data.length; ) {
    const len = data.readUInt16BE(off);
    out.push(data.subarray(off + 2, off + 2 + len));
    off += 2 + len;
  }
  return out;
}

function encode(list: readonly Buffer[]): Buffer {
  return Buffer.concat(list.flatMap((e) => [Buffer.from([e.length >> 8, e.length & 0xff]), e]));
}

const opts = (runs: number) => ({ numRuns: runs, seed: 20261129 + runs });

describe('tamper suite: custos-verify detects every tampering of the ledger file', () => {
  it('editing any byte of any entry (120 random edits)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 }), async (r, o, x) => {
        const result = await tamper((db) => {
          const rows = pieces(db);
          const row = rows[r % rows.length] as PieceRow;
          const at = o % row.data.length;
          row.data[at] = (row.data[at] ?? 0) ^ x;
          db.prepare('UPDATE ledger_entries SET data = ? WHERE first = ?').run(store(row.data), row.first);
        });
        expectDetected(result, ['entry-bundle', 'entry-schema', 'entry-count', 'hash-tile', 'root']);
      }),
      opts(120),
    );
  }, 120_000);

  it('damaging the compressed bytes themselves (40 random edits): refused by the store, or detected', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 }), async (r, o, x) => {
        let before: Buffer | undefined;
        let after: Buffer | undefined;
        let refused: unknown;
        const result = await tamper((db) => {
          const rows = db.prepare('SELECT first, data FROM ledger_entries ORDER BY first').all() as {
            first: number;
            data: Buffer;
          }[];
          const row = rows[r % rows.length] as { first: number; data: Buffer };
          before = brotliDecompressSync(row.data);
          const at = o % row.data.length;
          row.data[at] = (row.data[at] ?? 0) ^ x;
          try {
            after = brotliDecompressSync(row.data);
          } catch {
            after = undefined;
          }
          db.prepare('UPDATE ledger_entries SET data = ? WHERE first = ?').run(row.data, row.first);
        }).catch((err: unknown) => {
          refused = err;
          return undefined;
        });
        if (result === undefined) {
          // The export read a piece that no longer unpacks (or no longer decodes): the store fails closed.
          expect(refused).toMatchObject({ code: 'LEDGER_UNAVAILABLE' });
        } else if (after !== undefined && before !== undefined && after.equals(before)) {
          // An edit the decoder ignores changes no entry, so there is nothing to detect.
          expect(result.code, result.out).toBe(0);
        } else expectDetected(result, ['entry-bundle', 'entry-schema', 'entry-count', 'hash-tile', 'root']);
      }),
      opts(40),
    );
  }, 120_000);

  it('deleting a row (20 random deletions)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), async (r) => {
        const result = await tamper((db) => {
          const rows = pieces(db);
          db.prepare('DELETE FROM ledger_entries WHERE first = ?').run(
            (rows[r % rows.length] as PieceRow).first,
          );
        });
        expectDetected(result, ['entry-bundle', 'entry-count', 'hash-tile', 'root']);
      }),
      opts(20),
    );
  }, 60_000);

  it('swapping two rows, or two entries inside a row (30 random swaps)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.nat(), fc.nat(), fc.boolean(), async (a, b, c, inside) => {
        const result = await tamper((db) => {
          const rows = pieces(db);
          const ra = rows[a % rows.length] as PieceRow;
          if (inside) {
            const list = decode(ra.data);
            const i = b % list.length;
            const j = (i + 1 + (c % (list.length - 1))) % list.length;
            [list[i], list[j]] = [list[j] as Buffer, list[i] as Buffer];
            db.prepare('UPDATE ledger_entries SET data = ? WHERE first = ?').run(
              store(encode(list)),
              ra.first,
            );
            return;
          }
          const rb = rows[(a + 1 + (b % (rows.length - 1))) % rows.length] as PieceRow;
          const set = db.prepare('UPDATE ledger_entries SET count = ?, data = ? WHERE first = ?');
          set.run(rb.count, store(rb.data), ra.first);
          set.run(ra.count, store(ra.data), rb.first);
        });
        expectDetected(result, ['entry-bundle', 'entry-count', 'hash-tile', 'root']);
      }),
      opts(30),
    );
  }, 60_000);

  it('truncating the stored entries (15 random truncations)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: SIZE - 1 }), async (k) => {
        const result = await tamper((db) => {
          // Keep exactly the entries [0, k): drop later rows, cut the row that straddles k.
          db.prepare('DELETE FROM ledger_entries WHERE first >= ?').run(k);
          const last = pieces(db).at(-1);
          if (last !== undefined && last.first + last.count > k) {
            const kept = decode(last.data).slice(0, k - last.first);
            db.prepare('UPDATE ledger_entries SET count = ?, data = ? WHERE first = ?').run(
              kept.length,
              store(encode(kept)),
              last.first,
            );
          }
        });
        expectDetected(result, ['entry-bundle', 'entry-count', 'hash-tile', 'root']);
      }),
      opts(15),
    );
  }, 60_000);

  it('truncating the whole log and re-signing a smaller tree with the real key (8 rollbacks)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: SIZE - 1 }), async (k) => {
        const db = await rebuild(entries.slice(0, k));
        expectDetected(await exportAndVerify(db, state300), ['consistency']);
        rmSync(db, { force: true });
      }),
      opts(8),
    );
  }, 60_000);

  it('a checkpoint signed by another key (15 forgeries)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: SIZE }), fc.boolean(), async (size, sameTree) => {
        const forger = await createEd25519NoteSigner(TEST_ORIGIN, randomSeed());
        const root = sameTree ? await realRoot(size) : new Uint8Array(32).fill(size % 256);
        const note = await signCheckpoint({ origin: TEST_ORIGIN, size, root, extensions: [] }, forger);
        const result = await exportAndVerify(pristine, state300, note);
        expectDetected(result, ['checkpoint-signature']);
      }),
      opts(15),
    );
  }, 60_000);

  it('a forked checkpoint: same size, another root, validly signed with the stolen key (12 forks)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: SIZE - 1 }), fc.boolean(), async (j, fromOlderState) => {
        const index = fromOlderState ? j % 200 : j;
        const forked = entries.map((e, i) =>
          i === index ? { ...e, decision: e.decision === 'allow' ? 'deny' : 'allow' } : e,
        );
        const db = await rebuild(forked as LedgerEntry[]);
        expectDetected(await exportAndVerify(db, fromOlderState ? state200 : state300), ['consistency']);
        rmSync(db, { force: true });
      }),
      opts(12),
    );
  }, 60_000);
});

async function realRoot(size: number): Promise<Uint8Array> {
  const ledger = await openService(pristine);
  try {
    const { rootFromLeafHashes, hashLeaf } = await import('@custos/verify');
    return rootFromLeafHashes(entries.slice(0, size).map((e) => hashLeaf(ledger.encode(e))));
  } finally {
    await ledger.close();
  }
}
