/**
 * Acceptance: a real child process appends under load and is killed with SIGKILL at random
 * moments, 20 times. After each kill the ledger must hold every acknowledged entry at its index,
 * with no holes; its new checkpoint must be consistent with every checkpoint published before;
 * and custos-verify must pass on an export.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromBase64, verifyConsistency } from '@custos/verify';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteLedgerStore } from '../../src/adapters/sqlite/sqlite-ledger-store.js';
import { exportLedger } from '../../src/services/ledger/ledger-export.js';
import { loadLedgerKeys } from '../../src/services/ledger/ledger-keys.js';
import { LedgerService } from '../../src/services/ledger/ledger-service.js';
import { TestClock, tempDir } from '../helpers.js';
import { runVerifier } from './ledger-helpers.js';

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const RUNS = 20;

interface Published {
  readonly size: number;
  readonly root: Uint8Array;
}

/** Runs the child until SIGKILL after a random delay; collects acknowledged entries and checkpoints. */
function runChild(
  db: string,
  keys: string,
  run: number,
  acked: Map<number, string>,
  published: Published[],
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', CHILD, db, keys, String(run), '24'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let buf = '';
    let err = '';
    let killTimer: NodeJS.Timeout | undefined;
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const [kind, a, b] = buf.slice(0, nl).split(' ');
        buf = buf.slice(nl + 1);
        nl = buf.indexOf('\n');
        if (kind === 'A') {
          acked.set(Number(a), b as string);
          // Kill at a random moment under load: 0-360 ms after the first acknowledged append (not
          // after start-up, which a loaded machine can stretch past the kill).
          killTimer ??= setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 360));
        } else if (kind === 'C') published.push({ size: Number(a), root: fromBase64(b as string) });
      }
    });
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('exit', (code, signal) => {
      if (killTimer !== undefined) clearTimeout(killTimer);
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`child exited with ${code}:\n${err}`));
    });
  });
}

describe('crash test: SIGKILL under load, 20 times', () => {
  const t = tempDir('custos-ledger-crash-');
  afterAll(() => t.cleanup());

  it('keeps every acknowledged entry, no holes, consistent checkpoints, and a verifiable export', async () => {
    const db = join(t.dir, 'ledger.db');
    const keys = join(t.dir, 'keys');
    const state = join(t.dir, 'auditor-state');
    const acked = new Map<number, string>();
    const published: Published[] = [];
    let lastSize = 0;
    for (let run = 0; run < RUNS; run++) {
      const before = acked.size;
      await runChild(db, keys, run, acked, published);
      expect(acked.size, `run ${run} acknowledged nothing`).toBeGreaterThan(before);
      const ledger = await LedgerService.open(new SqliteLedgerStore(db), loadLedgerKeys(keys), {
        origin: 'test.example/custos/US',
        maxBatch: 256,
        maxWaitMs: 1,
        checkpointIntervalMs: 0,
        clock: new TestClock(),
      });
      try {
        const size = ledger.size;
        expect(size).toBeGreaterThanOrEqual(lastSize);
        // Every acknowledged entry is there, at its index; the stored entries are dense.
        const stored = new SqliteLedgerStore(db);
        const entries = await stored.readEntries(0, size);
        await stored.close();
        expect(entries.length).toBe(size);
        for (const [index, digest] of acked) {
          expect(index).toBeLessThan(size);
          expect(
            createHash('sha256')
              .update(entries[index] as Uint8Array)
              .digest('hex'),
          ).toBe(digest);
        }
        // The new checkpoint extends every checkpoint published or recorded before.
        const cp = await ledger.checkpoint();
        expect(cp.size).toBe(size);
        const history = await ledgerHistory(db);
        for (const old of [...published, ...history]) {
          if (old.size === 0) continue;
          const proof = (await ledger.consistency(old.size, cp.size)).map(fromBase64);
          verifyConsistency(old.size, cp.size, old.root, cp.root, proof);
        }
        const dir = join(t.dir, 'export');
        rmSync(dir, { recursive: true, force: true });
        await exportLedger(ledger, dir);
        const verdict = await runVerifier([
          'ledger',
          '--dir',
          dir,
          '--key',
          ledger.verifierKey,
          '--state',
          state,
        ]);
        expect(verdict.code, verdict.out).toBe(0);
        lastSize = size;
      } finally {
        await ledger.close();
      }
    }
    expect(published.length).toBeGreaterThan(0);
  }, 150_000);
});

async function ledgerHistory(db: string): Promise<Published[]> {
  const store = new SqliteLedgerStore(db);
  try {
    return await store.listCheckpoints(-1, 1_000_000);
  } finally {
    await store.close();
  }
}
