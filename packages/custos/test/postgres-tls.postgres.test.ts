import { describe, expect, it } from 'vitest';
import { resolvePgOptions } from '../src/adapters/postgres/pg-connection.js';
import { PgPoolRegistry } from '../src/adapters/postgres/pg-pools.js';
import { PostgresRecordStore } from '../src/adapters/postgres/postgres-record-store.js';
import { CustosError } from '../src/domain/errors.js';
import type { PostgresSpec, PostgresTlsSpec } from '../src/domain/postgres-config.js';
import { freshSchema, testPool, withPostgres } from './pg-helpers.js';

/** The self-signed server certificate of `scripts/pg-test-cluster.sh`, when it made one. */
const CA = process.env.CUSTOS_PG_TLS_CA;

function spec(schema: string, tls: Partial<PostgresTlsSpec>): PostgresSpec {
  return {
    where: 'stores[0]',
    url: { kind: 'env', name: 'CUSTOS_PG_URL' },
    password: undefined,
    schema,
    poolSize: 2,
    statementTimeoutMs: 5000,
    connectTimeoutMs: 3000,
    tls: {
      caFile: undefined,
      certFile: undefined,
      keyFile: undefined,
      rejectUnauthorized: true,
      serverName: undefined,
      ...tls,
    },
  };
}

async function openWith(s: PostgresSpec): Promise<{ store: PostgresRecordStore; ssl: boolean }> {
  const lease = new PgPoolRegistry().acquire(resolvePgOptions(s));
  try {
    const store = await PostgresRecordStore.open('us-main', {
      pool: lease.pool,
      schema: s.schema,
      release: lease.release,
    });
    const { rows } = await lease.pool.query<{ ssl: boolean }>(
      'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
    );
    return { store, ssl: rows[0]?.ssl ?? false };
  } catch (err) {
    await lease.release();
    throw err;
  }
}

withPostgres('postgres TLS', (url) => {
  describe.skipIf(!CA)('postgres TLS (needs CUSTOS_PG_TLS_CA from scripts/pg-test-cluster.sh)', () => {
    it('connects over verified TLS with the configured CA', async () => {
      const schema = freshSchema();
      const admin = testPool(url);
      try {
        const { store, ssl } = await openWith(spec(schema, { caFile: CA }));
        expect(ssl).toBe(true);
        await store.put({
          subject: 's',
          collection: 'c',
          id: 'i',
          keyVersion: 1,
          sealed: Buffer.from('x'),
          updatedAt: 1,
        });
        expect((await store.get('s', 'c', 'i'))?.keyVersion).toBe(1);
        await store.close();
      } finally {
        await admin.dropAndEnd(schema);
      }
    });

    it('refuses a server certificate it cannot verify: STORE_UNAVAILABLE', async () => {
      for (const tls of [{}, { caFile: CA, serverName: 'db.elsewhere.example' }]) {
        const err = await openWith(spec(freshSchema(), tls)).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(CustosError);
        expect((err as CustosError).code).toBe('STORE_UNAVAILABLE');
      }
    });

    it('connects without verification only when told to', async () => {
      const schema = freshSchema();
      const admin = testPool(url);
      try {
        const { store, ssl } = await openWith(spec(schema, { rejectUnauthorized: false }));
        expect(ssl).toBe(true);
        await store.close();
      } finally {
        await admin.dropAndEnd(schema);
      }
    });
  });
});
