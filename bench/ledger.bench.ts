/**
 * bench ledger, in one run:
 * (a) durable appends/s through LedgerService with many concurrent callers (group commit,
 *     synchronous=FULL), against the SHA-256 bound of this machine: one-shot SHA-256 of 64 bytes
 *     per second, divided by the 2 hashes each entry costs (leaf + amortised node). Five rounds,
 *     each after a one-second bound measurement; all appends against the mean bound;
 * (b) inclusion-proof generation for random indices of the ledger (10^6 entries; tiny 10^4);
 * (c) full offline verification of the exported tiles by `custos-verify ledger --dir`, run as its
 *     own process and timed from start to exit: with `--jobs 1` against the same hashing bound
 *     (the target line), then as the CLI runs by default (bundles checked on min(4, CPUs) worker
 *     threads), reported beside it.
 */
import { spawnSync } from 'node:child_process';
import { hash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WorkerSqliteLedgerStore } from '../packages/custos/src/adapters/sqlite/worker-sqlite-ledger-store.js';
import { systemClock } from '../packages/custos/src/ports/clock.js';
import { exportLedger } from '../packages/custos/src/services/ledger/ledger-export.js';
import { loadLedgerKeys } from '../packages/custos/src/services/ledger/ledger-keys.js';
import {
  type LedgerEntryInput,
  LedgerService,
} from '../packages/custos/src/services/ledger/ledger-service.js';
import { treeHashing } from '../packages/custos/src/services/ledger/tree-hashing.js';
import type { BenchOptions } from './run.js';
import { fmtRate, reportRatio } from './util.js';

// Batches of up to 2048 entries, a few in flight at once (one placed and hashed on the main thread
// while the writer thread commits the one before), and callers enough to fill two more meanwhile.
const MAX_BATCH = 2048;
const CALLERS = 4 * MAX_BATCH;
/** The offline verifier's command, as `npm ci` builds it. */
const VERIFY_BIN = fileURLToPath(new URL('../packages/verify/bin/custos-verify.js', import.meta.url));

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

/** Runs the ledger bench. */
export async function run(opts: BenchOptions): Promise<void> {
  const size = opts.tiny ? 10_000 : 1_000_000;
  const dir = mkdtempSync(join(tmpdir(), 'custos-bench-ledger-'));
  try {
    const boundMs = opts.tiny ? 100 : 1000;
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
        // The production default (`ledger.hashThread`): without the native addon, large batches
        // are hashed on a helper thread; with it (npm ci builds it), in one call on the main thread.
        hashThread: true,
      },
    );
    const pool = inputs(ledger, 4096);
    // The machines are shared and their speed drifts by tens of percent from second to second, so
    // the bound is measured (one second, after a short warm-up) right before each of five rounds
    // of appends, and the ratio is all the appends against the mean of those bounds.
    const rounds = opts.tiny ? 1 : 5;
    const rates: number[] = [];
    const bounds: number[] = [];
    let appendMs = 0;
    for (let r = 0; r < rounds; r++) {
      sha256Rate(boundMs / 5);
      bounds.push(sha256Rate(boundMs) / 2);
      const rate = await appendLoad(ledger, pool, size / rounds);
      rates.push(rate);
      appendMs += ((size / rounds) * 1000) / rate;
    }
    const appends = (size * 1000) / appendMs;
    const bound = bounds.reduce((a, b) => a + b, 0) / bounds.length;
    const cpus = availableParallelism();
    const { batches } = (await ledger.health()).commits;
    const threadsLine =
      treeHashing.implementation === 'native'
        ? 'encode and hash (native, native/merkle.c) on main, write on the writer thread'
        : 'encode on main, hash on the hashing thread (no native addon), write on the writer thread';
    process.stdout.write(
      `appends: ${fmtRate(appends)} durable (${size} entries, rounds ${rates.map((r) => fmtRate(r)).join(', ')}; ` +
        `${CALLERS} callers, ${batches} transactions, mean batch ${Math.round(size / batches)}; ` +
        `threads: ${threadsLine}, ${cpus} CPUs)\n` +
        `sha256 bound (one core): ${fmtRate(bound)} mean of ${bounds.map((b) => fmtRate(b)).join(', ')} ` +
        `(64-byte hashes/s / 2, before each round); against ${cpus} cores' worth of hashing the ratio is ` +
        `${(appends / (bound * cpus)).toFixed(2)}x\n`,
    );
    reportRatio('ledger', 'appends vs sha256 bound', appends / bound, 0.5);

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
    // The verifier is timed as auditors run it: `custos-verify ledger --dir` in a process of its
    // own, from start to exit (start-up included), on the exported files.
    const verify = (jobs: number | undefined): { rate: number; bound: number } => {
      const before = sha256Rate(boundMs) / 2;
      const args = [VERIFY_BIN, 'ledger', '--dir', out, '--key', vkey];
      if (jobs !== undefined) args.push('--jobs', String(jobs));
      const started = performance.now();
      const run = spawnSync(process.execPath, args, { encoding: 'utf8' });
      const rate = (size * 1000) / (performance.now() - started);
      if (run.status !== 0 || !run.stdout.includes(`entries checked: ${size}\n`)) {
        throw new Error(`custos-verify failed (exit ${run.status}): ${run.stdout}${run.stderr}`);
      }
      return { rate, bound: (before + sha256Rate(boundMs) / 2) / 2 };
    };
    // The target line: one thread (`--jobs 1`), like the one-core bound it is compared with.
    const one = verify(1);
    // As `custos-verify ledger` runs by default: bundles checked on min(4, CPUs) threads.
    const jobs = Math.min(4, availableParallelism());
    const many = verify(undefined);
    process.stdout.write(
      `offline verify: ${fmtRate(one.rate)} entries, custos-verify ledger --dir --jobs 1 (${size} entries ` +
        `from exported tiles, process start to exit; export took ${Math.round(exportMs)} ms), ` +
        `sha256 bound ${fmtRate(one.bound)} (mean of before and after)\n` +
        `offline verify, ${jobs} checking threads (the CLI default): ${fmtRate(many.rate)} entries = ` +
        `${(many.rate / many.bound).toFixed(2)}x the one-core bound, ` +
        `${(many.rate / (many.bound * Math.min(jobs, availableParallelism()))).toFixed(2)}x ${jobs} cores' worth\n`,
    );
    reportRatio('ledger', 'offline verify vs sha256 bound', one.rate / one.bound, 0.5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
