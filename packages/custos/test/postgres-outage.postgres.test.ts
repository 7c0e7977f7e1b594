import { describe, expect, it } from 'vitest';
import { PostgresRecordStore } from '../src/adapters/postgres/postgres-record-store.js';
import { CustosError } from '../src/domain/errors.js';
import { freshSchema, testPool, withPostgres } from './pg-helpers.js';

withPostgres('postgres connection loss', (url) => {
  describe('postgres connection loss', () => {
    it('fails closed when its connection is killed mid-query, then recovers on a new one', async () => {
      const schema = freshSchema();
      const admin = testPool(url);
      const { pool, dropAndEnd } = testPool(url);
      const locker = await admin.pool.connect();
      try {
        const store = await PostgresRecordStore.open('us-main', { pool, schema });
        await store.put({
          subject: 'a',
          collection: 'c',
          id: 'x',
          keyVersion: 1,
          sealed: Buffer.from('z'),
          updatedAt: 1,
        });
        await locker.query('BEGIN');
        await locker.query(`LOCK TABLE "${schema}".records IN ACCESS EXCLUSIVE MODE`);
        const pending = store.get('a', 'c', 'x').catch((e: unknown) => e);
        // Kill the backend that waits on our table's lock, as a server restart or failover would.
        let killed = 0;
        for (let i = 0; i < 100 && killed === 0; i++) {
          const { rows } = await admin.pool.query<{ n: number }>(
            `SELECT count(pg_terminate_backend(l.pid))::int AS n FROM pg_locks l
             WHERE NOT l.granted AND l.relation = $1::regclass`,
            [`"${schema}".records`],
          );
          killed = rows[0]?.n ?? 0;
          if (killed === 0) await new Promise((r) => setTimeout(r, 20));
        }
        expect(killed).toBe(1);
        const err = await pending;
        expect(err).toBeInstanceOf(CustosError);
        expect((err as CustosError).code).toBe('STORE_UNAVAILABLE');
        await locker.query('ROLLBACK');
        expect((await store.get('a', 'c', 'x'))?.keyVersion).toBe(1);
        await store.close();
      } finally {
        locker.release();
        await dropAndEnd();
        await admin.dropAndEnd(schema);
      }
    });
  });
});
