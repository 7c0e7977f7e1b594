import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { PostgresSubjectStore } from '../src/adapters/postgres/postgres-subject-store.js';
import { subjectStoreConformance } from './conformance/subject-store.conformance.js';
import { freshSchema, testPool, withPostgres } from './pg-helpers.js';

withPostgres('SubjectStore conformance: postgres', (url) => {
  subjectStoreConformance('postgres', async () => {
    const schema = freshSchema();
    const { pool, dropAndEnd } = testPool(url);
    const store = await PostgresSubjectStore.open({ pool, schema });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await dropAndEnd(schema);
      },
    };
  });

  describe('SubjectStore on PostgreSQL: the KEK floor and writers in flight', () => {
    it('raising the floor waits for a key insert in flight, so the rotation sees (and rewraps) it', async () => {
      const schema = freshSchema();
      const { pool, dropAndEnd } = testPool(url);
      const store = await PostgresSubjectStore.open({ pool, schema });
      const writer = await pool.connect();
      try {
        // A writer that checked no floor and is inserting a key under v1, not yet committed.
        await writer.query('BEGIN');
        await writer.query(`INSERT INTO "${schema}".subjects (id, jurisdiction) VALUES ('late', 'US')`);
        await writer.query(
          `INSERT INTO "${schema}".subject_keys (subject, version, kek_version, wrapped) VALUES ('late', 1, 1, '\\x00')`,
        );
        let raised = false;
        const raising = store.raiseKekFloor('US', 2).then(() => {
          raised = true;
        });
        await new Promise((r) => setTimeout(r, 300));
        expect(raised).toBe(false);
        await writer.query('COMMIT');
        await raising;
        // Once raised, every key that got in before is there for the rewrap, and none can follow.
        expect((await store.keysWrappedBefore('US', 2, 10)).map((k) => k.subject)).toEqual(['late']);
        await expect(
          store.create(
            { id: 'next', jurisdiction: 'US', erasedAt: undefined },
            { subject: 'next', version: 1, kekVersion: 1, wrapped: Buffer.from([0]) },
          ),
        ).rejects.toMatchObject({ code: 'KEK_STALE' });
      } finally {
        writer.release();
        await store.close();
        await dropAndEnd(schema);
      }
    });

    it('a create that waited for a raise sees its floor, even where the server default is SERIALIZABLE', async () => {
      const schema = freshSchema();
      const { pool, dropAndEnd } = testPool(url);
      // A server (or role) configured for stricter isolation by default: there a statement's
      // snapshot is fixed before it waits for a lock, which is why the store insists on READ COMMITTED.
      const strict = new pg.Pool({
        connectionString: url,
        max: 2,
        options: '-c default_transaction_isolation=serializable',
      });
      strict.on('error', () => {});
      const store = await PostgresSubjectStore.open({ pool: strict, schema });
      const raiser = await pool.connect();
      try {
        const shown = await strict.query<{ default_transaction_isolation: string }>(
          'SHOW default_transaction_isolation',
        );
        expect(shown.rows[0]?.default_transaction_isolation).toBe('serializable');
        // A rotation raising the floor, holding its table lock, not yet committed.
        await raiser.query('BEGIN');
        await raiser.query(`LOCK TABLE "${schema}".subject_keys IN SHARE ROW EXCLUSIVE MODE`);
        await raiser.query(`INSERT INTO "${schema}".kek_floors (jurisdiction, min_version) VALUES ('US', 2)`);
        const outcome = (p: Promise<unknown>) =>
          p.then(
            () => 'created',
            (err: { code?: string }) => err.code ?? String(err),
          );
        const single = outcome(
          store.create(
            { id: 'w1', jurisdiction: 'US', erasedAt: undefined },
            { subject: 'w1', version: 1, kekVersion: 1, wrapped: Buffer.from([0]) },
          ),
        );
        const many = outcome(
          store.createMany([
            {
              subject: { id: 'w2', jurisdiction: 'US', erasedAt: undefined },
              key: { subject: 'w2', version: 1, kekVersion: 1, wrapped: Buffer.from([0]) },
            },
          ]),
        );
        await new Promise((r) => setTimeout(r, 200));
        await raiser.query('COMMIT');
        expect(await single).toBe('KEK_STALE');
        expect(await many).toBe('KEK_STALE');
        expect(await store.keysWrappedBefore('US', 2, 10)).toEqual([]);
      } finally {
        raiser.release();
        await store.close();
        await strict.end();
        await dropAndEnd(schema);
      }
    });
  });
});
