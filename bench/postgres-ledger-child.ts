/**
 * One gateway process's ledger for bench/postgres.bench.ts: opens the shared PostgreSQL ledger as
 * `custos serve` does (store, queue, sequencer contender), waits until the parent's start time,
 * appends from CALLERS concurrent callers for SECONDS, and prints one JSON line with its count.
 * Usage: node --import tsx bench/postgres-ledger-child.ts '<json options>'
 */
import pg from 'pg';
import { pgSessionFactory } from '../packages/custos/src/adapters/postgres/pg-ledger-session.js';
import { PostgresLedgerQueue } from '../packages/custos/src/adapters/postgres/postgres-ledger-queue.js';
import { PostgresLedgerStore } from '../packages/custos/src/adapters/postgres/postgres-ledger-store.js';
import { systemClock } from '../packages/custos/src/ports/clock.js';
import { loadLedgerKeys } from '../packages/custos/src/services/ledger/ledger-keys.js';
import { LedgerService } from '../packages/custos/src/services/ledger/ledger-service.js';
import { createSharedLedger } from '../packages/custos/src/services/ledger/sequencer-shared-ledger.js';

interface ChildOptions {
  readonly url: string;
  readonly schema: string;
  readonly keysDir: string;
  readonly startAt: number;
  readonly seconds: number;
  readonly callers: number;
  readonly maxBatch: number;
}

const o = JSON.parse(process.argv[2] ?? '{}') as ChildOptions;
const settings = {
  origin: 'bench.example/custos/US',
  maxBatch: o.maxBatch,
  maxWaitMs: 2,
  checkpointIntervalMs: 1000,
  lockRetryMs: 1000,
  pollMs: 100,
  ackTimeoutMs: 30_000,
  retainMs: 600_000,
  sequence: true,
};
const pool = new pg.Pool({ connectionString: o.url, max: 8 });
pool.on('error', () => {});
const store = await PostgresLedgerStore.open({ pool, schema: o.schema, release: () => pool.end() });
const queue = new PostgresLedgerQueue({
  pool,
  schema: o.schema,
  sql: store.sql,
  sessions: pgSessionFactory({
    connectionString: o.url,
    max: 1,
    statement_timeout: 30_000,
    query_timeout: 40_000,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'custos-bench',
    ssl: undefined,
  }),
});
const shared = createSharedLedger(queue, settings);
const ledger = await LedgerService.open(store, loadLedgerKeys(o.keysDir), {
  ...settings,
  clock: systemClock,
  shared,
});
await new Promise((r) => setTimeout(r, Math.max(0, o.startAt - Date.now())));
const end = o.startAt + o.seconds * 1000;
let appends = 0;
let failures = 0;
async function caller(id: number): Promise<void> {
  for (let n = 0; Date.now() < end; n++) {
    try {
      await ledger.append({
        type: 'access',
        principal: { id: `svc-${id % 13}`, org: 'operator', orgKind: 'operator' },
        action: 'read',
        resource: {
          collection: 'profiles',
          category: 'protected',
          jurisdiction: 'US',
          site: 'us-trusted-cloud',
          subjectRef: ledger.subjectRef(`subject-${process.pid}-${id}-${n}`),
          count: 1,
        },
        purpose: 'service',
        decision: 'allow',
        reasons: ['permit-operator-service'],
        policyVersion: 'sha256:0000000000000000000000000000000000000000000000000000000000000000',
      });
      appends++;
    } catch {
      failures++;
    }
  }
}
await Promise.all(Array.from({ length: o.callers }, (_, i) => caller(i)));
const elapsed = (Date.now() - o.startAt) / 1000;
process.stdout.write(
  `${JSON.stringify({ appends, failures, elapsed, sequencer: shared.isSequencer(), stats: shared.stats() })}\n`,
);
await ledger.close();
