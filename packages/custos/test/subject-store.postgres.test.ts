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
  });
});
