/** A PostgreSQL legacy source, with the migration state in PostgreSQL too: copy, purge, certificate. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isCustosError } from '../../src/domain/errors.js';
import { verifyCertificateFile } from '../../src/services/migrate/deletion-certificate.js';
import { freshSchema, testPool, withPostgres } from '../pg-helpers.js';
import { newWorld } from './migrate-helpers.js';

withPostgres('migration from a PostgreSQL source', () => {
  describe('migration from a PostgreSQL source', () => {
    it('copies, deletes only verified rows, and certifies', async () => {
      const source = freshSchema('legacy');
      const state = freshSchema('mstate');
      const { pool, dropAndEnd } = testPool(process.env.CUSTOS_PG_URL as string);
      await pool.query(`CREATE SCHEMA ${source}`);
      await pool.query(`CREATE TABLE ${source}.accounts (user_id text PRIMARY KEY, country text)`);
      await pool.query(`CREATE TABLE ${source}.messages (id integer PRIMARY KEY, user_id text, body text)`);
      await pool.query(`INSERT INTO ${source}.accounts VALUES ('u1', 'US'), ('u2', 'SG')`);
      await pool.query(
        `INSERT INTO ${source}.messages SELECT i, CASE WHEN i % 3 = 0 THEN 'u3' WHEN i % 2 = 0 THEN 'u2' ELSE 'u1' END, 'note ' || i FROM generate_series(1, 25) i`,
      );
      const conn = { urlEnv: 'CUSTOS_PG_URL', schema: source };
      const w = await newWorld({
        batchSize: 4,
        state: { driver: 'postgres', urlEnv: 'CUSTOS_PG_URL', schema: state },
        accounts: { source: 'pg', table: 'accounts', subjectField: 'user_id', jurisdictionField: 'country' },
        sources: [
          {
            id: 'pg',
            site: 'us-legacy-dc',
            kind: 'postgres',
            postgres: conn,
            datasets: [
              { collection: 'messages', table: 'messages', subjectField: 'user_id', fields: ['body'] },
            ],
          },
        ],
      });
      try {
        // Another process holding the state schema's advisory lock: MIGRATION_BUSY.
        const other = await pool.connect();
        await other.query('SELECT pg_advisory_lock(hashtext($1))', [`custos-migrate:${state}`]);
        const busy = await w.migration.run().catch((e: unknown) => e);
        expect(isCustosError(busy, 'MIGRATION_BUSY'), String(busy)).toBe(true);
        await other.query('SELECT pg_advisory_unlock(hashtext($1))', [`custos-migrate:${state}`]);
        other.release();
        const [run] = await w.migration.run();
        expect(run?.copied).toBe(17);
        expect(run?.held).toBe(8); // u3 has no account
        expect(await w.custos.stores.get('sg-main')?.get('u2', 'messages', '2')).toBeDefined();
        // Held-back rows block the certificate; the dataset stays retryable.
        const [pending] = await w.migration.purge();
        expect([pending?.status, pending?.error?.code, pending?.certificate]).toEqual([
          'pending-destruction',
          'DESTRUCTION_PENDING',
          undefined,
        ]);
        const { rows } = await pool.query<{ user_id: string }>(
          `SELECT DISTINCT user_id FROM ${source}.messages`,
        );
        expect(rows.map((r) => r.user_id)).toEqual(['u3']);
        await pool.query(`INSERT INTO ${source}.accounts VALUES ('u3', 'US')`);
        const [again] = await w.migration.run();
        expect([again?.copiedNow, again?.held]).toEqual([8, 0]);
        const [purge] = await w.migration.purge();
        expect(purge?.status).toBe('purged');
        expect(Number((await pool.query(`SELECT count(*) AS n FROM ${source}.messages`)).rows[0]?.n)).toBe(0);
        const verdict = await verifyCertificateFile(readFileSync(purge?.certificate as string, 'utf8'), [
          w.custos.ledger.verifierKey,
        ]);
        expect(verdict.ok).toBe(true);
        expect(verdict.certificate?.count).toBe(25);
        expect(verdict.certificate?.heldBack).toBe(0);
      } finally {
        await w.cleanup();
        await dropAndEnd(source, state);
      }
    });

    it('copies timestamp, jsonb and bytea columns as ISO text, canonical JSON and base64, and deletes them', async () => {
      const source = freshSchema('legacyt');
      const state = freshSchema('mstatet');
      const { pool, dropAndEnd } = testPool(process.env.CUSTOS_PG_URL as string);
      await pool.query(`CREATE SCHEMA ${source}`);
      await pool.query(`CREATE TABLE ${source}.accounts (user_id text PRIMARY KEY, country text)`);
      await pool.query(
        `CREATE TABLE ${source}.events (id integer PRIMARY KEY, user_id text, at timestamptz, meta jsonb, blob bytea)`,
      );
      await pool.query(`INSERT INTO ${source}.accounts VALUES ('u1', 'US')`);
      await pool.query(
        `INSERT INTO ${source}.events VALUES (1, 'u1', '2020-01-02T03:04:05Z', '{"b":2,"a":1}', '\\x00ff')`,
      );
      const w = await newWorld({
        batchSize: 4,
        state: { driver: 'postgres', urlEnv: 'CUSTOS_PG_URL', schema: state },
        accounts: { source: 'pg', table: 'accounts', subjectField: 'user_id', jurisdictionField: 'country' },
        sources: [
          {
            id: 'pg',
            site: 'us-legacy-dc',
            kind: 'postgres',
            postgres: { urlEnv: 'CUSTOS_PG_URL', schema: source },
            datasets: [
              {
                collection: 'messages',
                table: 'events',
                subjectField: 'user_id',
                fields: { body: 'at', to: 'meta' },
                discard: ['blob'],
              },
            ],
          },
        ],
      });
      try {
        const [run] = await w.migration.run();
        expect([run?.copied, run?.held, run?.error]).toEqual([1, 0, undefined]);
        const rec = await w.custos.records.get('u1', 'messages', '1');
        expect(JSON.stringify(rec)).toContain('"body":"2020-01-02T03:04:05.000Z"');
        expect(JSON.stringify(rec)).toContain('"to":"{\\"a\\":1,\\"b\\":2}"');
        const [purge] = await w.migration.purge();
        expect(purge?.status).toBe('purged');
        expect(Number((await pool.query(`SELECT count(*) AS n FROM ${source}.events`)).rows[0]?.n)).toBe(0);
      } finally {
        await w.cleanup();
        await dropAndEnd(source, state);
      }
    });
  });
});
