import { describe, expect, it } from 'vitest';
import { migratePostgres } from '../src/adapters/postgres/pg-migrate.js';
import { PostgresRecordStore } from '../src/adapters/postgres/postgres-record-store.js';
import { PostgresSubjectStore } from '../src/adapters/postgres/postgres-subject-store.js';
import { CustosError } from '../src/domain/errors.js';
import { freshSchema, testPool, withPostgres } from './pg-helpers.js';

withPostgres('postgres schema migrations', (url) => {
  describe('postgres schema migrations', () => {
    it('are idempotent: a second start applies nothing and keeps the data', async () => {
      const schema = freshSchema();
      const { pool, dropAndEnd } = testPool(url);
      try {
        const first = await PostgresRecordStore.open('s', { pool, schema });
        expect(first.migration).toMatchObject({ component: 'records', from: 0, to: 1, applied: [1] });
        await first.put({
          subject: 'a',
          collection: 'c',
          id: 'x',
          keyVersion: 1,
          sealed: Buffer.from('z'),
          updatedAt: 1,
        });
        const second = await PostgresRecordStore.open('s', { pool, schema });
        expect(second.migration).toMatchObject({ from: 1, to: 1, applied: [] });
        expect(await second.get('a', 'c', 'x')).toBeDefined();
        const custody = await PostgresSubjectStore.open({ pool, schema });
        expect(custody.migration).toMatchObject({ component: 'subjects', from: 0, to: 2, applied: [1, 2] });
        const versions = await pool.query(
          `SELECT component, version FROM "${schema}".schema_version ORDER BY 1`,
        );
        expect(versions.rows).toEqual([
          { component: 'records', version: 1 },
          { component: 'subjects', version: 2 },
        ]);
      } finally {
        await dropAndEnd(schema);
      }
    });

    it('run exactly once when several processes start at the same moment', async () => {
      const schema = freshSchema();
      const pools = Array.from({ length: 4 }, () => testPool(url));
      try {
        const steps = [
          (s: string) => `CREATE TABLE ${s}.t (n integer)`,
          (s: string) => `INSERT INTO ${s}.t VALUES (1)`,
        ];
        const reports = await Promise.all(pools.map((p) => migratePostgres(p.pool, schema, 'race', steps)));
        expect(reports.map((r) => r.applied.length).sort()).toEqual([0, 0, 0, 2]);
        const { rows } = (await pools[0]?.pool.query(`SELECT count(*)::int AS n FROM "${schema}".t`)) ?? {
          rows: [],
        };
        expect(rows).toEqual([{ n: 1 }]);
      } finally {
        for (const [i, p] of pools.entries()) await (i === 0 ? p.dropAndEnd(schema) : p.dropAndEnd());
      }
    });

    it('refuse a schema newer than this code, saying why', async () => {
      const schema = freshSchema();
      const { pool, dropAndEnd } = testPool(url);
      try {
        await PostgresRecordStore.open('us-main', { pool, schema });
        await pool.query(`UPDATE "${schema}".schema_version SET version = 7 WHERE component = 'records'`);
        const err = await PostgresRecordStore.open('us-main', { pool, schema }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(CustosError);
        expect((err as CustosError).code).toBe('SCHEMA_TOO_NEW');
        expect((err as CustosError).message).toContain('version 7, newer than this Custos knows (1)');
        expect((err as CustosError).message).toContain('Upgrade Custos');
        // The refusal changed nothing.
        const { rows } = await pool.query(`SELECT version FROM "${schema}".schema_version`);
        expect(rows).toEqual([{ version: 7 }]);
      } finally {
        await dropAndEnd(schema);
      }
    });

    it('fail closed with STORE_UNAVAILABLE when a statement exceeds the timeout', async () => {
      const schema = freshSchema();
      const admin = testPool(url);
      const { pool, dropAndEnd } = testPool(
        `${url}${url.includes('?') ? '&' : '?'}options=-c%20statement_timeout%3D200`,
      );
      const locker = await admin.pool.connect();
      try {
        const store = await PostgresRecordStore.open('us-main', { pool, schema });
        await locker.query('BEGIN');
        await locker.query(`LOCK TABLE "${schema}".records IN ACCESS EXCLUSIVE MODE`);
        const err = await store.get('a', 'c', 'x').catch((e: unknown) => e);
        expect(err).toBeInstanceOf(CustosError);
        expect((err as CustosError).code).toBe('STORE_UNAVAILABLE');
        expect((err as CustosError).message).toBe(
          'store us-main: PostgreSQL unavailable (statement timed out)',
        );
        await locker.query('ROLLBACK');
        expect(await store.get('a', 'c', 'x')).toBeUndefined();
      } finally {
        locker.release();
        await dropAndEnd();
        await admin.dropAndEnd(schema);
      }
    });
  });
});
