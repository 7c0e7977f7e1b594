import { describe, expect, it } from 'vitest';
import { createCustos } from '../src/composition-root.js';
import type { AlertEvent } from '../src/ports/alert-sink.js';
import { configFrom, demoConfigObject, recordingSink, TestClock, tempDir } from './helpers.js';
import { writePgWorld } from './multi-instance-helpers.js';
import { freshSchema, testPool, withPostgres } from './pg-helpers.js';

withPostgres('composition on PostgreSQL', (url) => {
  describe('composition on PostgreSQL', () => {
    it('runs the demo world with every store and the custody store on PostgreSQL', async () => {
      const t = tempDir();
      const prefix = freshSchema('e2e');
      const obj = demoConfigObject(t.dir) as { stores: { id: string; site: string }[] } & Record<
        string,
        unknown
      >;
      const schemaOf = (id: string): string => `${prefix}_${id.replace(/-/g, '_')}`;
      obj.stores = obj.stores.map((s) => ({
        id: s.id,
        driver: 'postgres',
        site: s.site,
        urlEnv: 'CUSTOS_PG_URL',
        schema: schemaOf(s.id),
        poolSize: 3,
      }));
      obj.custody = { driver: 'postgres', urlEnv: 'CUSTOS_PG_URL', schema: schemaOf('custody'), poolSize: 3 };
      const schemas = [...obj.stores.map((s) => schemaOf(s.id)), schemaOf('custody')];
      const admin = testPool(url);
      const custos = await createCustos(configFrom(obj, t.dir), { clock: new TestClock() });
      try {
        expect(custos.config.stores.every((s) => s.driver === 'postgres')).toBe(true);
        expect(await custos.subjects.register('alice', 'US')).toBe(true);
        expect(await custos.subjects.register('sg-user', 'SG')).toBe(true);
        await custos.records.put('alice', 'profiles', 'p1', { email: 'alice@example.com', bio: 'hi' });
        await custos.records.put('sg-user', 'messages', 'm1', { to: 'x', body: 'hello' });
        const got = await custos.records.get('alice', 'profiles', 'p1');
        expect(got.fields).toEqual({ email: 'alice@example.com', bio: 'hi' });
        expect(got.site).toBe('us-trusted-cloud');
        // Rows sit in the schemas the residency router chose, as ciphertext.
        const us = await admin.pool.query<{ subject: string; sealed: Buffer }>(
          `SELECT subject, sealed FROM "${schemaOf('us-main')}".records`,
        );
        expect(us.rows.map((r) => r.subject)).toEqual(['alice']);
        const sealed: Buffer = us.rows[0]?.sealed ?? Buffer.alloc(0);
        expect(sealed.length).toBeGreaterThan(0);
        expect(sealed.includes(Buffer.from('alice@example.com'))).toBe(false);
        const sg = await admin.pool.query(`SELECT subject FROM "${schemaOf('sg-main')}".records`);
        expect(sg.rows).toEqual([{ subject: 'sg-user' }]);

        let report = await custos.scanResidency();
        expect(report.scanned).toBe(2);
        expect(report.violations).toEqual([]);
        // A copy of alice's record written around Custos into the public cloud is found.
        await admin.pool.query(
          `INSERT INTO "${schemaOf('us-public')}".records SELECT * FROM "${schemaOf('us-main')}".records`,
        );
        report = await custos.scanResidency();
        expect(report.violations).toMatchObject([
          { store: 'us-public', site: 'us-public-cloud', subject: 'alice', reason: 'site-not-allowed' },
        ]);

        expect(await custos.subjects.erase('alice')).toBe(true);
        await expect(custos.records.get('alice', 'profiles', 'p1')).rejects.toMatchObject({
          code: 'SUBJECT_ERASED',
        });
        // Five stores on one database with the same options share one pool.
        const { rows } = await admin.pool.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'custos'",
        );
        expect(rows[0]?.n).toBeLessThanOrEqual(3);
      } finally {
        await custos.close();
        await admin.dropAndEnd(...schemas);
        t.cleanup();
      }
    });

    it('raises ledger.rejected when the sequencer refuses queue rows that are not ledger entries, also at start-up', async () => {
      const t = tempDir();
      const world = writePgWorld(t.dir, freshSchema('rj'), 'CUSTOS_PG_URL');
      const admin = testPool(url);
      const { sink, events } = recordingSink();
      const bad = async (text: string): Promise<string> => {
        const { rows } = await admin.pool.query<{ id: string }>(
          `INSERT INTO "${world.ledgerSchema}".ledger_queue (ord, entry) VALUES (1, $1) RETURNING id`,
          [Buffer.from(text)],
        );
        return String(rows[0]?.id);
      };
      const alertFor = async (id: string): Promise<AlertEvent | undefined> => {
        const deadline = Date.now() + 10_000;
        const find = () =>
          events.find((e) => e.type === 'ledger.rejected' && (e.data.queueIds as string[]).includes(id));
        while (find() === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        return find();
      };
      // The schemas exist; a bad row waits in the queue while no server runs.
      await (await createCustos(world.config, { clock: new TestClock() })).close();
      const early = await bad('{"not":"an entry"}');
      const custos = await createCustos(world.config, { clock: new TestClock(), alertSinks: [sink] });
      try {
        // Refused while the server started, before its alert dispatcher existed: reported anyway.
        const first = await alertFor(early);
        expect(first?.data).toMatchObject({ count: 1, queueIds: [early] });
        expect(first?.data.reasons).toEqual([expect.stringMatching(/./)]);
        const late = await bad('{"also":"not an entry"}');
        const second = await alertFor(late);
        expect(second?.data).toMatchObject({ count: 1, queueIds: [late] });
        // The rows' content is not in the alerts.
        expect(JSON.stringify(events)).not.toContain('an entry');
        // Appends still go through.
        const { index } = await custos.ledger.append({
          type: 'system',
          principal: { id: 'custos', org: 'custodian', orgKind: 'system' },
          action: 'test',
          resource: {},
          decision: 'none',
          reasons: [],
        });
        expect((await custos.ledger.checkpoint()).size).toBe(index + 1);
      } finally {
        await custos.close();
        await admin.dropAndEnd(...world.schemas);
        t.cleanup();
      }
    });
  });
});
