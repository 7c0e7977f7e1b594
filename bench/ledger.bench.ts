/**
 * bench ledger, in one run:
 * (a) durable appends/s through LedgerService with many concurrent callers (group commit,
 *     synchronous=FULL), against the SHA-256 bound of this machine: one-shot SHA-256 of 64 bytes
 *     per second, divided by the 2 hashes each entry costs (leaf + amortised node). Five rounds,
 *     each paired with a bound measured just before it; the median of the five ratios counts;
 * (b) inclusion-proof generation for random indices of the ledger (10^6 entries; tiny 10^4);
 * (c) full offline verification of the exported tiles with the verify package's audit, as the
 *     CLI runs it (bundles checked on min(4, CPUs) worker threads), against the same hashing bound.
 */
import { hash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditLedger, parseVerifierKey, type TileSource } from '@custos/verify';
import { createWorkerCheckPool } from '@custos/verify/node';
import { WorkerSqliteLedgerStore } from '../packages/custos/src/adapters/sqlite/worker-sqlite-ledger-store.js';
import { systemClock } from '../packages/custos/src/ports/clock.js';
import { exportLedger } from '../packages/custos/src/services/ledger/ledger-export.js';
import { loadLedgerKeys } from '../packages/custos/src/services/ledger/ledger-keys.js';
import {
  type LedgerEntryInput,
  LedgerService,
} from '../packages/custos/src/services/ledger/ledger-service.js';
import type { BenchOptions } from './run.js';
import { fmtRate, reportRatio } from './util.js';

// Three batches are in flight (one is encoded on the main thread, one hashed on the hashing thread
// and one committed on the writer thread), and callers enough to fill a fourth meanwhile.
const MAX_BATCH = 2048;
const CALLERS = 4 * MAX_BATCH;

/** One-shot SHA-256 of 64-byte inputs per second, over about `ms` milliseconds. */
function sha256Rate(ms: number): number {
  const buf = Buffer.alloc(64, 7);
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 10_000; i++) {
      buf[0] = i;
      hash('sha256', buf, 'buffer');
    }
    n += 10_000;
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

function inputs(ledger: LedgerService, count: number): LedgerEntryInput[] {
  return Array.from({ length: count }, (_, i) => ({
    type: 'access',
    principal: { id: `svc-${i % 13}`, org: 'operator', orgKind: 'operator' },
    action: 'read',
    resource: {
      collection: 'profiles',
      category: 'protected',
      jurisdiction: 'US',
      site: 'us-trusted-cloud',
      subjectRef: ledger.subjectRef(`subject-${i}`),
      count: 1,
    },
    purpose: 'support',
    decision: i % 9 === 0 ? 'deny' : 'allow',
    reasons: ['permit-support'],
    policyVersion: 'none',
    release: 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef',
  }));
}

/** Appends `total` entries from CALLERS concurrent callers; returns appends per second. */
async function appendLoad(
  ledger: LedgerService,
  pool: readonly LedgerEntryInput[],
  total: number,
): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      while (next < total) {
        const i = next++;
        await ledger.append(pool[i % pool.length] as LedgerEntryInput);
      }
    }),
  );
  return (total * 1000) / (performance.now() - start);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Runs the ledger bench. */
export async function run(opts: BenchOptions): Promise<void> {
  const size = opts.tiny ? 10_000 : 1_000_000;
  const dir = mkdtempSync(join(tmpdir(), 'custos-bench-ledger-'));
  try {
    const boundMs = opts.tiny ? 100 : 300;
    const ledger = await LedgerService.open(
      // The production default: commits (and their fsyncs) on the ledger writer thread.
      new WorkerSqliteLedgerStore(join(dir, 'ledger.db')),
      loadLedgerKeys(join(dir, 'keys')),
      {
        origin: 'bench.custos.local/custos/US',
        maxBatch: MAX_BATCH,
        maxWaitMs: 2,
        checkpointIntervalMs: 0,
        clock: systemClock,
        // The production default (`ledger.hashThread`): large batches are hashed on a helper thread.
        hashThread: true,
      },
    );
    const pool = inputs(ledger, 4096);
    // The machines are shared and their speed drifts by tens of percent from second to second, so
    // the bound is measured right before each round of appends and each round gets its own ratio.
    const rounds = opts.tiny ? 1 : 5;
    const ratios: number[] = [];
    const rates: number[] = [];
    const bounds: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const bound = sha256Rate(boundMs) / 2;
      const rate = await appendLoad(ledger, pool, size / rounds);
      bounds.push(bound);
      rates.push(rate);
      ratios.push(rate / bound);
    }
    const { batches } = (await ledger.health()).commits;
    process.stdout.write(
      `appends: ${rates.map((r) => fmtRate(r)).join(', ')} durable per round (${size} entries in ${rounds} rounds, ` +
        `${CALLERS} callers, ${batches} transactions, mean batch ${Math.round(size / batches)}); ` +
        `sha256 bound ${bounds.map((b) => fmtRate(b)).join(', ')} (64-byte hashes/s / 2, before each round)\n`,
    );
    reportRatio('ledger', 'appends vs sha256 bound', median(ratios), 0.5);

    await ledger.checkpoint();
    const proofs = opts.tiny ? 2000 : 20_000;
    let t = performance.now();
    for (let i = 0; i < proofs; i++) await ledger.inclusionProof(Math.floor(Math.random() * size), size);
    const proofRate = (proofs * 1000) / (performance.now() - t);
    process.stdout.write(
      `proofs: ${fmtRate(proofRate)} inclusion proofs for random indices of ${size} entries\n`,
    );

    const out = join(dir, 'export');
    t = performance.now();
    await exportLedger(ledger, out);
    const exportMs = performance.now() - t;
    const vkey = ledger.verifierKey;
    await ledger.close();
    const source: TileSource = {
      get: async (path) => {
        try {
          return new Uint8Array(await readFile(join(out, path)));
        } catch {
          return undefined;
        }
      },
    };
    const before = sha256Rate(boundMs) / 2;
    // As `custos-verify ledger` runs by default: bundles checked on min(4, CPUs) threads. The
    // threads' start-up is inside the timed span.
    const jobs = Math.min(4, availableParallelism());
    t = performance.now();
    const checkers = createWorkerCheckPool(jobs);
    const report = await auditLedger(source, { verifiers: [parseVerifierKey(vkey)], pool: checkers });
    await checkers.close();
    const verifyRate = (size * 1000) / (performance.now() - t);
    const bound = (before + sha256Rate(boundMs) / 2) / 2;
    if (!report.ok) throw new Error(`audit failed: ${JSON.stringify(report.failures)}`);
    process.stdout.write(
      `offline verify: ${fmtRate(verifyRate)} entries (${size} entries from exported tiles, ${jobs} checking threads; export took ${Math.round(exportMs)} ms); ` +
        `sha256 bound ${fmtRate(bound)} (mean of before and after)\n`,
    );
    reportRatio('ledger', 'offline verify vs sha256 bound', verifyRate / bound, 0.5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
