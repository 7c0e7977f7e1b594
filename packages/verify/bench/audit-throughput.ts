/**
 * Audit throughput against the raw SHA-256 bound, measured in the same run (STYLE.md: benchmarks
 * print ratios against a baseline). Each figure is the best of several interleaved rounds, since
 * shared machines are noisy.
 *
 *   node --import tsx packages/verify/bench/audit-throughput.ts [entries=1000000] [rounds=3]
 */
import { hash } from 'node:crypto';
import {
  auditLedger,
  buildTiles,
  CompactRange,
  createNoteSigner,
  encodeEntry,
  generateNoteKey,
  hashLeaf,
  type LedgerEntry,
  MemoryTileSource,
  parseVerifierKey,
  signCheckpoint,
} from '../src/index.js';

const n = Number(process.argv[2] ?? 1_000_000);
const rounds = Number(process.argv[3] ?? 3);

function makeEntry(i: number): LedgerEntry {
  return {
    v: 1,
    type: 'access',
    time: new Date(Date.UTC(2026, 10, 29, 22, 0, 0, i % 1000)).toISOString(),
    principal: { id: `svc-${i % 97}`, org: 'operator', orgKind: 'operator' },
    action: 'read',
    resource: {
      collection: 'profiles',
      category: 'protected',
      jurisdiction: 'US',
      subjectRef: `sr1:${'A'.repeat(22)}${i}`,
    },
    decision: i % 10 === 0 ? 'deny' : 'allow',
    reasons: ['standing-access'],
  };
}

const entries: Uint8Array[] = [];
for (let i = 0; i < n; i++) entries.push(encodeEntry(makeEntry(i)));
const files = buildTiles(entries);
const range = new CompactRange();
for (const e of entries) range.appendLeafHash(hashLeaf(e));
const key = await generateNoteKey('bench.example/log');
const note = await signCheckpoint(
  { origin: 'bench.example/log', size: n, root: range.root(), extensions: [] },
  await createNoteSigner(key.signerKey),
);
files.set('checkpoint', new TextEncoder().encode(note));
const avg = Math.round(entries.reduce((a, e) => a + e.length, 0) / n);
// Keep only the served files: an auditor reads bundles one by one, it never holds every entry.
entries.length = 0;
const source = new MemoryTileSource(files);
const verifiers = [parseVerifierKey(key.verifierKey)];

function baselineSeconds(): number {
  // The bound: one-shot SHA-256 of 64-byte inputs, two per entry.
  const buf = new Uint8Array(64);
  const t = performance.now();
  for (let i = 0; i < 2 * n; i++) hash('sha256', buf, 'buffer');
  return (performance.now() - t) / 1000;
}

async function auditSeconds(): Promise<number> {
  const t = performance.now();
  const report = await auditLedger(source, { verifiers });
  if (!report.ok) throw new Error(JSON.stringify(report.failures));
  return (performance.now() - t) / 1000;
}

let base = Number.POSITIVE_INFINITY;
let audit = Number.POSITIVE_INFINITY;
for (let r = 0; r < rounds; r++) {
  base = Math.min(base, baselineSeconds());
  audit = Math.min(audit, await auditSeconds());
}
console.log(`entries: ${n} (average ${avg} bytes), best of ${rounds} rounds`);
console.log(`raw SHA-256 bound: ${(n / base).toFixed(0)} entries/s (2 one-shot hashes of 64 B per entry)`);
console.log(`full audit:        ${(n / audit).toFixed(0)} entries/s (${audit.toFixed(2)} s)`);
console.log(`ratio audit/bound: ${(base / audit).toFixed(2)}x`);
