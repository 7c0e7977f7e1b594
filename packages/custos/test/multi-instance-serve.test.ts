/**
 * Acceptance (issue 5): three real `custos serve` processes share one PostgreSQL (records, custody
 * and ledger) and take concurrent writes and reads over HTTP while the sequencer is killed with
 * SIGKILL three times (and replaced). Afterwards: every acknowledged ledger index (Custos-Ledger-Index
 * of a 2xx) holds that request's decision and no index was acknowledged twice; each acknowledged
 * decision is in the ledger exactly once; the ledger passes the verifier's audit over the served
 * tiles; every checkpoint served during the run verifies and is consistent with the last one.
 */
import {
  auditLedger,
  fromBase64,
  parseEntry,
  parseVerifierKey,
  type TileSource,
  verifyCheckpoint,
  verifyConsistency,
} from '@custos/verify';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresLedgerStore } from '../src/adapters/postgres/postgres-ledger-store.js';
import { loadLedgerKeys } from '../src/services/ledger/ledger-keys.js';
import { subjectRef } from '../src/services/ledger/subject-ref.js';
import { tempDir } from './helpers.js';
import {
  type PgWorld,
  type ServeProcess,
  seedPgWorld,
  startServe,
  stopServe,
  writePgWorld,
} from './multi-instance-helpers.js';
import { freshSchema, testPool, withPostgres } from './pg-helpers.js';

const SUBJECTS = 2000;
const WORKERS = 12;
const KILLS = 3;

interface Ack {
  readonly index: number;
  readonly key: string;
  readonly at: number;
}

withPostgres('multi-process: three custos serve on one PostgreSQL', (url) => {
  describe('multi-process: three custos serve on one PostgreSQL', () => {
    const t = tempDir('custos-multi-serve-');
    const prefix = freshSchema('ms');
    const admin = testPool(url);
    const servers: ServeProcess[] = [];
    let world: PgWorld | undefined;
    afterAll(async () => {
      await Promise.all(servers.map(stopServe));
      await admin.dropAndEnd(...(world?.schemas ?? []));
      t.cleanup();
    });

    /** The pid of the process holding the sequencer lock, among ours. */
    async function sequencerPid(): Promise<number | undefined> {
      const { rows } = await admin.pool.query<{ app: string }>(
        `SELECT a.application_name AS app FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE 'custos-sequencer/%'`,
      );
      const ours = new Set(servers.map((s) => s.pid));
      return rows.map((r) => Number(r.app.split('/')[1])).find((pid) => ours.has(pid));
    }

    it('keeps every acknowledged entry exactly once, verifiable and consistent, across sequencer kills', async () => {
      const started = Date.now();
      world = writePgWorld(t.dir, prefix, 'CUSTOS_PG_URL');
      const subjects = Array.from({ length: SUBJECTS }, (_, i) => `mi-user-${i}`);
      const tokens = await seedPgWorld(world, subjects);
      const seeded = Date.now();
      servers.push(...(await Promise.all([0, 1, 2].map(() => startServe(world?.configPath as string)))));
      const refKey = loadLedgerKeys(world.config.keys.dir).subjectRefKey;
      const op = { authorization: `Bearer ${tokens.operator}`, 'custos-purpose': 'service' };
      const auditor = { authorization: `Bearer ${tokens.auditor}` };
      const alive = (): ServeProcess[] =>
        servers.filter((s) => s.child.exitCode === null && s.child.signalCode === null);

      const acks: Ack[] = [];
      const statuses = new Map<number, number>();
      const notes: string[] = [];
      let leaks = 0;
      let stop = false;
      let next = 0;
      const call = async (path: string, init: RequestInit, key: string, i: number): Promise<boolean> => {
        const pool = alive();
        const s = pool[i % pool.length];
        if (s === undefined) return false;
        try {
          const r = await fetch(`${s.url}${path}`, { ...init, signal: AbortSignal.timeout(20_000) });
          const body = await r.text();
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          if (r.status >= 500 && body.includes('mi-mail')) leaks++;
          const index = r.headers.get('custos-ledger-index');
          if (r.ok && index !== null) acks.push({ index: Number(index), key, at: Date.now() });
          return r.ok;
        } catch {
          statuses.set(0, (statuses.get(0) ?? 0) + 1); // the process was killed under the request
          return false;
        }
      };
      const worker = async (w: number): Promise<void> => {
        while (!stop && next < SUBJECTS) {
          const i = next++;
          const subject = subjects[i] as string;
          const ref = subjectRef(refKey, subject);
          const path = `/v1/subjects/${subject}/collections/profiles/records/profile`;
          const put = {
            method: 'PUT',
            headers: { ...op, 'content-type': 'application/json' },
            body: JSON.stringify({ fields: { email: `mi-mail-${i}@example.com`, bio: 'x' } }),
          };
          if (await call(path, put, `write|${ref}`, i + w))
            await call(path, { headers: op }, `read|${ref}`, i + w + 1);
        }
      };
      const checkpoints = async (): Promise<void> => {
        for (let i = 0; !stop; i++) {
          const s = alive()[i % Math.max(1, alive().length)];
          const r = await fetch(`${s?.url}/ledger/checkpoint`, { headers: auditor }).catch(() => undefined);
          if (r?.status === 200) notes.push(await r.text());
          await new Promise((res) => setTimeout(res, 100));
        }
      };
      const up = Date.now();
      const load = [...Array.from({ length: WORKERS }, (_, w) => worker(w)), checkpoints()];

      const kills: number[] = [];
      let replacement: Promise<unknown> = Promise.resolve();
      for (let k = 0; k < KILLS; k++) {
        // Load runs meanwhile; the last victim's replacement starts up in parallel.
        await Promise.all([new Promise((r) => setTimeout(r, 2500)), replacement]);
        const pid = await sequencerPid();
        expect(pid, 'one of our processes holds the sequencer lock').toBeDefined();
        const victim = servers.find((s) => s.pid === pid) as ServeProcess;
        victim.child.kill('SIGKILL');
        kills.push(Date.now());
        replacement = startServe(world.configPath).then((p) => servers.push(p));
      }
      await replacement;
      await new Promise((r) => setTimeout(r, 2000));
      stop = true;
      await Promise.all(load);

      // Failover: after each kill, how long until a write was acknowledged again.
      const gaps = kills.map(
        (k) => (acks.find((a) => a.at > k && a.key.startsWith('write'))?.at ?? Infinity) - k,
      );
      console.log(
        `multi-process: ${acks.length} acknowledged, statuses ${JSON.stringify([...statuses])}, ` +
          `first write ack after each kill (ms): ${gaps.join(', ')}, ${notes.length} checkpoints read, ` +
          `seed ${seeded - started} ms, start ${up - seeded} ms, total ${Date.now() - started} ms`,
      );
      expect(leaks).toBe(0);
      expect(acks.length).toBeGreaterThan(500);
      for (const g of gaps) expect(g).toBeLessThan(5000);
      const indexes = new Set(acks.map((a) => a.index));
      expect(indexes.size, 'an index was acknowledged twice').toBe(acks.length);

      // The ledger as a server serves it: audited by the verifier over the tiles.
      const s = alive()[0] as ServeProcess;
      const vkey = (await (await fetch(`${s.url}/ledger/vkey`, { headers: auditor })).text()).trim();
      const verifier = parseVerifierKey(vkey);
      // A receipt for the newest acknowledged entry makes sure a checkpoint covers every one.
      const newest = Math.max(...indexes);
      expect((await fetch(`${s.url}/v1/ledger/entries/${newest}`, { headers: auditor })).status).toBe(200);
      const last = await verifyCheckpoint(
        await (await fetch(`${s.url}/ledger/checkpoint`, { headers: auditor })).text(),
        [verifier],
      );
      const source: TileSource = {
        get: async (path) => {
          const r = await fetch(`${s.url}/ledger/${path}`, { headers: auditor });
          return r.status === 200 ? new Uint8Array(await r.arrayBuffer()) : undefined;
        },
      };
      const audit = await auditLedger(source, { verifiers: [verifier] });
      expect(audit.failures).toEqual([]);
      expect(audit.size).toBeGreaterThanOrEqual(last.checkpoint.size);
      const size = last.checkpoint.size;
      for (const a of acks) expect(a.index).toBeLessThan(size);

      // Each acknowledged decision sits at its index, and exactly once in the whole ledger.
      const { pool } = testPool(url);
      const store = await PostgresLedgerStore.open({
        pool,
        schema: world.ledgerSchema,
        release: () => pool.end(),
      });
      const entries = (await store.readEntries(0, size)).map((e) => parseEntry(e));
      await store.close();
      expect(entries.length).toBe(size);
      const keyAt = entries.map((e) => `${e.action}|${e.resource.subjectRef ?? ''}`);
      const count = new Map<string, number>();
      for (const k of keyAt) count.set(k, (count.get(k) ?? 0) + 1);
      for (const a of acks) {
        expect(keyAt[a.index]).toBe(a.key);
        expect(count.get(a.key), `${a.key} recorded more than once`).toBe(1);
      }

      // Every checkpoint served during the run verifies and is consistent with the last one.
      const seen = new Map<number, Uint8Array>();
      for (const note of notes) {
        const { checkpoint } = await verifyCheckpoint(note, [verifier]);
        const prev = seen.get(checkpoint.size);
        if (prev !== undefined) expect(Buffer.from(prev).equals(Buffer.from(checkpoint.root))).toBe(true);
        seen.set(checkpoint.size, checkpoint.root);
      }
      expect(seen.size).toBeGreaterThan(3);
      for (const [from, root] of seen) {
        if (from === 0 || from > size) continue;
        const r = await fetch(`${s.url}/v1/ledger/proofs/consistency?from=${from}&to=${size}`, {
          headers: auditor,
        });
        const proof = ((await r.json()) as { proof: string[] }).proof.map(fromBase64);
        verifyConsistency(from, size, root, last.checkpoint.root, proof);
      }
    }, 180_000);
  });
});
