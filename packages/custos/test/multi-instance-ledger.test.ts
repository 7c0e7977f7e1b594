/**
 * Several ledger services in one process share one PostgreSQL ledger, each as its own "instance"
 * (own pool, queue client and sequencer contender). Fast checks of the sequencer and queue; the
 * multi-process acceptance test is multi-instance-serve.test.ts.
 */
import { createHash } from 'node:crypto';
import { checkEntryBytes, fromBase64, verifyConsistency } from '@custos/verify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgSessionFactory } from '../src/adapters/postgres/pg-ledger-session.js';
import { PostgresLedgerQueue } from '../src/adapters/postgres/postgres-ledger-queue.js';
import { PostgresLedgerStore } from '../src/adapters/postgres/postgres-ledger-store.js';
import { systemClock } from '../src/ports/clock.js';
import type { RejectedEntry } from '../src/ports/ledger-queue.js';
import { loadLedgerKeys } from '../src/services/ledger/ledger-keys.js';
import { LedgerService } from '../src/services/ledger/ledger-service.js';
import {
  createSharedLedger,
  type SharedLedgerHandle,
} from '../src/services/ledger/sequencer-shared-ledger.js';
import { buildTreeBatch } from '../src/services/ledger/tree-batch.js';
import { packEntries } from '../src/services/ledger/tree-hashing.js';
import { tempDir } from './helpers.js';
import { freshSchema, testPool, withPostgres } from './pg-helpers.js';

interface Instance {
  readonly ledger: LedgerService;
  readonly shared: SharedLedgerHandle;
}

const SETTINGS = {
  origin: 'test.example/custos/US',
  maxBatch: 128,
  maxWaitMs: 1,
  checkpointIntervalMs: 50,
  lockRetryMs: 100,
  pollMs: 50,
  ackTimeoutMs: 5000,
  retainMs: 600_000,
};

const SESSION_OPTIONS = {
  max: 1,
  statement_timeout: 5000,
  query_timeout: 10_000,
  connectionTimeoutMillis: 5000,
  idleTimeoutMillis: 30_000,
  keepAlive: true,
  application_name: 'custos',
  ssl: undefined,
};

async function openInstance(
  url: string,
  schema: string,
  keysDir: string,
  sequence = true,
  onRejected?: (rejected: readonly RejectedEntry[]) => void,
): Promise<Instance> {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => {});
  const store = await PostgresLedgerStore.open({ pool, schema, release: () => pool.end() });
  const queue = new PostgresLedgerQueue({
    pool,
    schema,
    sql: store.sql,
    sessions: pgSessionFactory({ connectionString: url, ...SESSION_OPTIONS }),
  });
  const shared = createSharedLedger(queue, { ...SETTINGS, sequence, onRejected });
  const ledger = await LedgerService.open(store, loadLedgerKeys(keysDir), {
    ...SETTINGS,
    clock: systemClock,
    shared,
  });
  return { ledger, shared };
}

function entry(ledger: LedgerService, who: number, n: number) {
  return {
    type: 'access' as const,
    principal: { id: `instance-${who}`, org: 'operator', orgKind: 'operator' as const },
    action: 'read',
    resource: { collection: 'profiles', subjectRef: ledger.subjectRef(`s-${who}-${n}`) },
    decision: 'allow' as const,
    reasons: ['permit'],
    details: { who, n },
  };
}

/** A well-formed ledger entry whose canonical form is longer than `bytes`. */
function canonicalLong(bytes: number): string {
  return JSON.stringify({
    action: 'read',
    decision: 'allow',
    details: { pad: 'x'.repeat(bytes) },
    principal: { id: 'p', org: 'operator', orgKind: 'operator' },
    reasons: ['permit'],
    resource: {},
    time: '2026-01-01T00:00:00.000Z',
    type: 'access',
    v: 1,
  });
}

withPostgres('multi-instance ledger (in one process)', (url) => {
  describe('multi-instance ledger (in one process)', () => {
    const t = tempDir('custos-multi-ledger-');
    const schema = freshSchema('mi');
    const admin = testPool(url);
    let instances: Instance[] = [];

    beforeAll(async () => {
      instances = [];
      for (let i = 0; i < 3; i++) instances.push(await openInstance(url, schema, t.dir));
    });
    afterAll(async () => {
      for (const i of instances) await i.ledger.close();
      await admin.dropAndEnd(schema);
      t.cleanup();
    });

    /** Appends from every instance at once; returns acknowledged index → entry digest, and refusals. */
    async function appendAll(
      perInstance: number,
      round: number,
    ): Promise<{ acked: Map<number, string>; refused: string[] }> {
      const acked = new Map<number, string>();
      const refused: string[] = [];
      await Promise.all(
        instances.flatMap((inst, who) =>
          Array.from({ length: perInstance }, async (_, n) => {
            const input = { ...entry(inst.ledger, who, round * 100_000 + n), time: new Date().toISOString() };
            const digest = createHash('sha256').update(inst.ledger.encode(input)).digest('hex');
            try {
              const { index } = await inst.ledger.append(input);
              expect(acked.has(index), `index ${index} acknowledged twice`).toBe(false);
              acked.set(index, digest);
            } catch (err) {
              refused.push((err as { code?: string }).code ?? String(err));
            }
          }),
        ),
      );
      return { acked, refused };
    }

    /** Every acknowledged entry sits at its index; a few receipts prove it against a checkpoint. */
    async function expectStored(acked: Map<number, string>): Promise<void> {
      const reader = instances[0] as Instance;
      const cp = await reader.ledger.checkpoint();
      const { pool } = testPool(url);
      const store = await PostgresLedgerStore.open({ pool, schema, release: () => pool.end() });
      const entries = await store.readEntries(0, cp.size);
      await store.close();
      expect(entries.length).toBe(cp.size);
      for (const [index, digest] of acked) {
        expect(
          createHash('sha256')
            .update(entries[index] as Uint8Array)
            .digest('hex'),
        ).toBe(digest);
      }
      for (const index of [...acked.keys()].slice(0, 20)) {
        const receipt = await reader.ledger.receipt(index);
        expect(createHash('sha256').update(receipt.entry).digest('hex')).toBe(acked.get(index));
      }
    }

    it('elects exactly one sequencer, and every instance appends and reads through it', async () => {
      await new Promise((r) => setTimeout(r, 300));
      expect(instances.filter((i) => i.shared.isSequencer()).length).toBe(1);
      const { acked, refused } = await appendAll(200, 0);
      expect(refused).toEqual([]);
      expect(acked.size).toBe(600);
      await expectStored(acked);
      // Every instance serves the same, durable tree.
      const sizes = await Promise.all(instances.map(async (i) => (await i.ledger.checkpoint()).size));
      expect(new Set(sizes).size).toBe(1);
    });

    it('fails over when the sequencer session is killed, losing and duplicating nothing', async () => {
      const published: { size: number; root: Uint8Array }[] = [];
      const all = new Map<number, string>();
      const refusals: string[] = [];
      for (let round = 1; round <= 3; round++) {
        const load = appendAll(150, round);
        await new Promise((r) => setTimeout(r, 20));
        const { rows } = await admin.pool.query<{ n: number }>(
          `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
           WHERE application_name LIKE 'custos-sequencer/%'`,
        );
        expect(rows[0]?.n).toBeGreaterThanOrEqual(1);
        const { acked, refused } = await load;
        for (const [k, v] of acked) {
          expect(all.has(k), `index ${k} acknowledged twice`).toBe(false);
          all.set(k, v);
        }
        refusals.push(...refused);
        const cp = await (instances[round % 3] as Instance).ledger.checkpoint();
        published.push({ size: cp.size, root: cp.root });
      }
      // Only entries of a batch whose commit was cut off (outcome unknown) may be refused, and closed.
      expect(new Set(refusals)).toEqual(new Set(refusals.length > 0 ? ['LEDGER_UNAVAILABLE'] : []));
      expect(all.size + refusals.length).toBe(1350);
      expect(refusals.length).toBeLessThanOrEqual(3 * SETTINGS.maxBatch);
      await expectStored(all);
      const last = await (instances[0] as Instance).ledger.checkpoint();
      for (const old of published) {
        const proof = (await (instances[0] as Instance).ledger.consistency(old.size, last.size)).map(
          fromBase64,
        );
        verifyConsistency(old.size, last.size, old.root, last.root, proof);
      }
      // Each queue row got one index, and the tree holds exactly the sequenced rows plus local ones.
      const { rows } = await admin.pool.query<{ queued: number; dup: number }>(
        `SELECT (SELECT count(*)::int FROM "${schema}".ledger_queue) AS queued,
           (SELECT count(*)::int FROM (SELECT seq_index FROM "${schema}".ledger_sequenced
            GROUP BY seq_index HAVING count(*) > 1) d) AS dup`,
      );
      expect(rows[0]).toEqual({ queued: 0, dup: 0 });
      const stats = instances.map((i) => i.shared.stats());
      expect(stats.reduce((a, s) => a + (s?.terms ?? 0), 0)).toBeGreaterThanOrEqual(4);
    }, 60_000);
  });

  describe('queue rows that are not ledger entries', () => {
    it('moves them to ledger_rejected with a reason, and sequences everything else without stalling', async () => {
      const t = tempDir('custos-poison-ledger-');
      const schema = freshSchema('mp');
      const admin = testPool(url);
      const told: RejectedEntry[] = [];
      const inst = await openInstance(url, schema, t.dir, true, (r) => told.push(...r));
      // Its appends go through the queue, behind the bad rows: they complete only if those do not stall it.
      const queued = await openInstance(url, schema, t.dir, false);
      try {
        // Written straight into the queue, as a faulty or hostile process with database access
        // could: longer than an entry bundle can hold, not canonical JSON, and not schema v1.
        const poison = [
          Buffer.from(canonicalLong(70_000)),
          Buffer.from('{"e":1}'),
          Buffer.from('{ "v": 1 }'),
        ];
        const { rows } = await admin.pool.query<{ id: string }>(
          `INSERT INTO "${schema}".ledger_queue (ord, entry) SELECT o, e FROM unnest($1::bytea[])
           WITH ORDINALITY AS t(e, o) RETURNING id`,
          [poison],
        );
        const poisonIds = rows.map((r) => Number(r.id)).sort((a, b) => a - b);
        const acked: number[] = [];
        await Promise.all(
          Array.from({ length: 40 }, async (_, n) => {
            acked.push((await queued.ledger.append(entry(queued.ledger, 9, n))).index);
          }),
        );
        expect(acked).toHaveLength(40);
        const cp = await inst.ledger.checkpoint();
        const { pool } = testPool(url);
        const store = await PostgresLedgerStore.open({ pool, schema, release: () => pool.end() });
        const entries = await store.readEntries(0, cp.size);
        await store.close();
        // Only ledger entries entered the tree.
        for (const e of entries) checkEntryBytes(e);
        expect(entries.length).toBe(cp.size);
        const kept = await admin.pool.query<{ id: string; reason: string; n: number }>(
          `SELECT id, reason, length(entry)::int AS n FROM "${schema}".ledger_rejected ORDER BY id`,
        );
        expect(kept.rows.map((r) => Number(r.id))).toEqual(poisonIds);
        expect(kept.rows.map((r) => r.n)).toEqual(poison.map((p) => p.length));
        expect(kept.rows[0]?.reason).toMatch(/65535/);
        for (const r of kept.rows) expect(r.reason.length).toBeGreaterThan(0);
        const left = await admin.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM "${schema}".ledger_queue`,
        );
        expect(left.rows[0]?.n).toBe(0);
        expect(told.map((r) => r.id).sort((a, b) => a - b)).toEqual(poisonIds);
        expect(inst.shared.stats()?.rejected).toBe(3);
      } finally {
        await queued.ledger.close();
        await inst.ledger.close();
        await admin.dropAndEnd(schema);
        t.cleanup();
      }
    }, 30_000);
  });

  describe('queue and sequencer session', () => {
    it('admits one session at a time, and never places a queued entry twice', async () => {
      const schema = freshSchema('mq');
      const admin = testPool(url);
      const opened: { store: PostgresLedgerStore; queue: PostgresLedgerQueue }[] = [];
      for (let i = 0; i < 2; i++) {
        const pool = new pg.Pool({ connectionString: url, max: 2 });
        const store = await PostgresLedgerStore.open({ pool, schema, release: () => pool.end() });
        const sessions = pgSessionFactory({ connectionString: url, ...SESSION_OPTIONS });
        opened.push({ store, queue: new PostgresLedgerQueue({ pool, schema, sql: store.sql, sessions }) });
      }
      const [a, b] = opened as [(typeof opened)[0], (typeof opened)[0]];
      try {
        const entries = [Buffer.from('{"e":1}'), Buffer.from('{"e":2}')];
        const ids = await b.queue.enqueue(entries);
        const session = await a.queue.tryAcquire();
        expect(session).toBeDefined();
        expect(await b.queue.tryAcquire()).toBeUndefined();
        const s1 = session as NonNullable<typeof session>;
        const pending = await s1.pending(10);
        expect(pending.map((p) => p.id)).toEqual(ids);
        const tree = await s1.readTree();
        const built = buildTreeBatch(tree, packEntries(entries));
        const placed = ids.map((id, i) => ({ id, index: i }));
        await s1.commit(
          { firstIndex: 0, priorFrontier: [], entries, levels: built.levels, tree: built.tree },
          placed,
        );
        expect(await b.queue.lookup(ids)).toEqual(placed);
        // Placing the same queue rows again, in a batch that would otherwise fit, changes nothing.
        const again = buildTreeBatch(built.tree, packEntries(entries));
        await expect(
          s1.commit(
            {
              firstIndex: 2,
              priorFrontier: built.tree.frontier,
              entries,
              levels: again.levels,
              tree: again.tree,
            },
            placed,
          ),
          // The statement's guard (division by zero, SQLSTATE 22012) aborted it as a whole.
        ).rejects.toMatchObject({ code: 'LEDGER_UNAVAILABLE', message: expect.stringContaining('22012') });
        expect((await a.store.readTree()).size).toBe(2);
        expect(await a.store.readEntries(0, 10)).toHaveLength(2);
        // That failure ended the session and released the lock: the other process takes over.
        await s1.lost;
        const s2 = await b.queue.tryAcquire();
        expect(s2).toBeDefined();
        expect(await s2?.pending(10)).toEqual([]);
        await s2?.release();
      } finally {
        for (const o of opened) {
          await o.queue.close();
          await o.store.close();
        }
        await admin.dropAndEnd(schema);
      }
    });
  });
});
