/**
 * bench egress: export throughput through a declared flow (pseudonymised subject and email,
 * generalised birth date, dropped phone and bio, DLP on every batch, volume metering, NDJSON
 * encoding, ledger entries) against the baseline: reading and decrypting the same records through
 * the record store (store.list pages + RecordService.openStored), with no transform, check or output.
 * Then memory: peak RSS while exporting 10^6 records, against a fixed bound.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { type Custos, createCustos } from '../packages/custos/src/composition-root.js';
import { demoConfigYaml } from '../packages/custos/src/demo/demo-config.js';
import { parseConfigText } from '../packages/custos/src/domain/load-config.js';
import type { Principal } from '../packages/custos/src/domain/principal.js';
import { sealRecord } from '../packages/custos/src/services/envelope.js';
import type { BenchOptions } from './run.js';
import { fmtRate, reportRatio } from './util.js';

const parent: Principal = {
  id: 'parent-engineer',
  org: 'parent',
  orgKind: 'parent',
  roles: ['engineer'],
  kind: 'person',
  jurisdiction: '',
  release: undefined,
};

const FLOW = {
  id: 'bench-interop',
  destination: 'parent',
  destinationJurisdiction: 'CN',
  purpose: 'bench',
  sources: ['profiles'],
  subject: 'pseudonymise',
  fields: [
    { field: 'email', rule: 'pseudonymise' },
    { field: 'birth_date', rule: 'generalise', to: 'year' },
    { field: 'display_name', rule: 'allow' },
  ],
  limits: { 'personal-identifiers': 10_000_000 },
  expires: '2099-01-01',
};

/** Writes `n` profile records for `subjects` subjects straight into the store, sealed as Custos seals them. */
async function seed(custos: Custos, n: number, subjects: number): Promise<void> {
  for (let s = 0; s < subjects; s++) await custos.subjects.register(`s${s}`, 'US');
  const store = custos.records.adapter('us-main');
  let batch = [];
  for (let i = 0; i < n; i++) {
    const subject = `s${i % subjects}`;
    const key = await custos.subjects.currentKey(subject);
    const id = `p${i}`;
    const fields = {
      email: `user${i}@example.com`,
      phone: `+1-555-${String(i % 10000).padStart(4, '0')}`,
      birth_date: '1990-01-01',
      display_name: `user ${i}`,
      bio: 'x'.repeat(160),
    };
    const binding = { id, subject, collection: 'profiles', keyVersion: key.version };
    batch.push({
      ...binding,
      sealed: sealRecord(key.key, binding, Buffer.from(JSON.stringify(fields))),
      updatedAt: 0,
    });
    if (batch.length === 5000) {
      await store.putMany(batch);
      batch = [];
    }
  }
  await store.putMany(batch);
}

/** Baseline: the same records read and decrypted through the record store. Returns records/s. */
async function rawReads(custos: Custos, batchSize: number): Promise<{ rate: number; n: number }> {
  const store = custos.records.adapter('us-main');
  const t0 = performance.now();
  let n = 0;
  let after: { subject: string; id: string } | undefined;
  for (;;) {
    const page = await store.list({ collection: 'profiles', after, limit: batchSize });
    for (const r of page) {
      await custos.records.openStored(r);
      n++;
    }
    const last = page[page.length - 1];
    if (!last || page.length < batchSize) break;
    after = { subject: last.subject, id: last.id };
  }
  return { rate: (n * 1000) / (performance.now() - t0), n };
}

/** Custos: the whole export, consumed and discarded. Returns records/s. */
async function exportAll(custos: Custos): Promise<{ rate: number; rows: number; bytes: number }> {
  const t0 = performance.now();
  const handle = await custos.egress.open(parent, FLOW.id, 'ndjson');
  let bytes = 0;
  let last = '';
  for await (const chunk of handle.chunks) {
    bytes += chunk.length;
    last = chunk;
  }
  const trailer = JSON.parse(last.trim().split('\n').pop() ?? '{}') as { status: string; rows: number };
  if (trailer.status !== 'complete') throw new Error(`bench export stopped: ${last}`);
  return { rate: (trailer.rows * 1000) / (performance.now() - t0), rows: trailer.rows, bytes };
}

/** Runs the egress bench. */
export async function run(opts: BenchOptions): Promise<void> {
  const n = opts.tiny ? 2000 : 1_000_000;
  const subjects = opts.tiny ? 100 : 10_000;
  const bound = 500;
  const dir = mkdtempSync(join(tmpdir(), 'custos-bench-egress-'));
  try {
    const obj = parse(demoConfigYaml(join(dir, 'data'))) as {
      egress: { flows: unknown[]; batchSize?: number };
    };
    obj.egress.flows.push(FLOW);
    obj.egress.batchSize = 1000;
    const custos = await createCustos(parseConfigText(stringify(obj), dir));
    try {
      const t0 = performance.now();
      await seed(custos, n, subjects);
      process.stdout.write(
        `seeded ${n.toLocaleString('en-US')} sealed profiles in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
      );
      const rssBefore = process.memoryUsage().rss / 2 ** 20;
      // Alternate the two sides so machine noise hits both alike; the 10^6-record export is a round.
      const rounds = opts.tiny ? 1 : 2;
      let ours = 0;
      let raw = 0;
      let rows = 0;
      for (let r = 0; r < rounds; r++) {
        raw += (await rawReads(custos, 1000)).rate;
        const e = await exportAll(custos);
        ours += e.rate;
        rows = e.rows;
      }
      const peak = process.resourceUsage().maxRSS / 1024;
      process.stdout.write(
        `egress export: ${fmtRate(ours / rounds)} records (pseudonymise + generalise + drop + DLP + metering + NDJSON + ledger), ` +
          `baseline ${fmtRate(raw / rounds)} (store.list pages + decrypt of the same records), ${rows.toLocaleString('en-US')} rows per export\n`,
      );
      reportRatio('egress', 'throughput', ours / raw, 0.3);
      process.stdout.write(
        `bench egress: peak RSS = ${peak.toFixed(0)} MB over ${n.toLocaleString('en-US')} records ` +
          `(RSS before exporting ${rssBefore.toFixed(0)} MB; target < ${bound} MB)\n`,
      );
    } finally {
      await custos.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
