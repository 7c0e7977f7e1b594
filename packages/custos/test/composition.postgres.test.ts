import { describe, expect, it } from 'vitest';
import { createCustos } from '../src/composition-root.js';
import { configFrom, demoConfigObject, TestClock, tempDir } from './helpers.js';
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
  });
});
