import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolvePgOptions } from '../src/adapters/postgres/pg-connection.js';
import { PgPoolRegistry } from '../src/adapters/postgres/pg-pools.js';
import { PostgresRecordStore } from '../src/adapters/postgres/postgres-record-store.js';
import type { CustosConfig, PostgresStoreSpec } from '../src/domain/config.js';
import { CustosError } from '../src/domain/errors.js';
import { configFrom, demoConfigObject, tempDir } from './helpers.js';

/** The config error details, or a failure when the config was accepted. */
function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CustosError);
    expect((err as CustosError).code).toBe('CONFIG_INVALID');
    return [...((err as CustosError).details ?? [])];
  }
  throw new Error('expected the config to be rejected');
}

/** The demo config with its first store switched to postgres with the given keys. */
function withPgStore(keys: Record<string, unknown>, custody?: Record<string, unknown>): CustosConfig {
  const obj = demoConfigObject('/srv/custos/data') as { stores: Record<string, unknown>[] } & Record<
    string,
    unknown
  >;
  obj.stores[0] = { id: 'us-main', driver: 'postgres', site: 'us-trusted-cloud', ...keys };
  if (custody) obj.custody = custody;
  return configFrom(obj, '/srv/custos');
}

const pgSpec = (c: CustosConfig): PostgresStoreSpec => c.stores[0] as PostgresStoreSpec;

describe('postgres store configuration', () => {
  it('normalises a postgres store and the custody section, with default schemas', () => {
    const c = withPgStore({ urlEnv: 'US_MAIN_PG' }, { driver: 'postgres', urlFile: 'secrets/custody.url' });
    const spec = pgSpec(c).postgres;
    expect(spec.url).toEqual({ kind: 'env', name: 'US_MAIN_PG' });
    expect(spec.schema).toBe('custos_us_main');
    expect(spec.poolSize).toBe(10);
    expect(spec.statementTimeoutMs).toBe(5000);
    expect(c.custody).toMatchObject({
      driver: 'postgres',
      postgres: { schema: 'custos_custody', url: { kind: 'file', path: '/srv/custos/secrets/custody.url' } },
    });
  });

  it('defaults the custody store to custody.db in the data dir', () => {
    const c = withPgStore({ url: 'postgres://custos@db.example/custos' });
    expect(c.custody).toEqual({ driver: 'sqlite', path: '/srv/custos/data/custody.db' });
  });

  it('rejects an inline URL that carries a password, naming the key and not the password', () => {
    const p = problems(() => withPgStore({ url: 'postgres://custos:hunter2@db.example/custos' }));
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^stores\[0\]\.url: must not contain a password/);
    expect(p.join('\n')).not.toContain('hunter2');
    const q = problems(() => withPgStore({ url: 'postgres://custos@db.example/custos?password=hunter2' }));
    expect(q[0]).toMatch(/^stores\[0\]\.url: must not contain a password/);
    const r = problems(() =>
      withPgStore({ url: 'postgres://x@h/d' }, { driver: 'postgres', url: 'postgresql://a:b@h/d' }),
    );
    expect(r[0]).toMatch(/^custody\.url: must not contain a password/);
  });

  it('wants exactly one connection source and paired client cert and key', () => {
    expect(problems(() => withPgStore({}))).toContain(
      'stores[0]: give exactly one of url, urlEnv, urlFile (found 0)',
    );
    expect(problems(() => withPgStore({ url: 'postgres://h/d', urlEnv: 'X' }))).toContain(
      'stores[0]: give exactly one of url, urlEnv, urlFile (found 2)',
    );
    expect(problems(() => withPgStore({ urlEnv: 'X', tls: { certFile: 'c.pem' } }))).toContain(
      'stores[0].tls: certFile and keyFile go together',
    );
    expect(problems(() => withPgStore({ urlEnv: 'X', passwordEnv: 'P', passwordFile: 'p' }))).toContain(
      'stores[0]: give at most one of passwordEnv, passwordFile',
    );
    expect(problems(() => withPgStore({ urlEnv: 'X', poolSize: 0, colour: 1 }))).toEqual(
      expect.arrayContaining([
        'stores[0].colour: unknown key',
        expect.stringMatching(/^stores\[0\]\.poolSize: /),
      ]),
    );
  });

  it('refuses two record stores in one schema of one database', () => {
    const obj = demoConfigObject('/d') as { stores: Record<string, unknown>[] } & Record<string, unknown>;
    obj.stores[0] = {
      id: 'us-main',
      driver: 'postgres',
      site: 'us-trusted-cloud',
      urlEnv: 'PG',
      schema: 'recs',
    };
    obj.stores[1] = {
      id: 'us-public',
      driver: 'postgres',
      site: 'us-public-cloud',
      urlEnv: 'PG',
      schema: 'recs',
    };
    expect(problems(() => configFrom(obj, '/d'))).toContain(
      'stores[1].schema: same database schema as stores[0]',
    );
  });

  describe('resolving secrets when the store opens', () => {
    const saved = { ...process.env };
    afterEach(() => {
      process.env = { ...saved };
    });

    it('names a missing environment variable, as a config error', () => {
      delete process.env.CUSTOS_TEST_UNSET_URL;
      const spec = pgSpec(withPgStore({ urlEnv: 'CUSTOS_TEST_UNSET_URL' })).postgres;
      expect(() => resolvePgOptions(spec)).toThrow(
        'stores[0].urlEnv: environment variable CUSTOS_TEST_UNSET_URL is not set',
      );
    });

    it('adds a password from a file and reads TLS files relative to the config', () => {
      const t = tempDir();
      try {
        writeFileSync(join(t.dir, 'pw'), 'p@ss:w%rd\n');
        writeFileSync(join(t.dir, 'ca.pem'), 'CA-PEM');
        process.env.CUSTOS_TEST_URL = 'postgres://custos@db.example:5432/custos';
        const obj = demoConfigObject(t.dir) as { stores: Record<string, unknown>[] } & Record<
          string,
          unknown
        >;
        obj.stores[0] = {
          id: 'us-main',
          driver: 'postgres',
          site: 'us-trusted-cloud',
          urlEnv: 'CUSTOS_TEST_URL',
          passwordFile: 'pw',
          tls: { caFile: 'ca.pem', rejectUnauthorized: true },
        };
        const opts = resolvePgOptions(pgSpec(configFrom(obj, t.dir)).postgres);
        expect(new URL(opts.connectionString).password).toBe(encodeURIComponent('p@ss:w%rd'));
        expect(opts.ssl).toMatchObject({ ca: 'CA-PEM', rejectUnauthorized: true });
        process.env.CUSTOS_TEST_URL = 'postgres://custos@db.example/custos?sslmode=disable';
        expect(() => resolvePgOptions(pgSpec(configFrom(obj, t.dir)).postgres)).toThrow(
          /not as URL parameters/,
        );
      } finally {
        t.cleanup();
      }
    });
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe('postgres connection failure', () => {
  it('is STORE_UNAVAILABLE and never shows the URL or the password', async () => {
    const port = await closedPort();
    process.env.CUSTOS_TEST_DEAD_URL = `postgres://custos:sup3r-secret@127.0.0.1:${port}/custos`;
    try {
      const spec = pgSpec(withPgStore({ urlEnv: 'CUSTOS_TEST_DEAD_URL', connectTimeoutMs: 1000 })).postgres;
      const lease = new PgPoolRegistry().acquire(resolvePgOptions(spec));
      let caught: unknown;
      try {
        await PostgresRecordStore.open('us-main', { pool: lease.pool, schema: spec.schema });
      } catch (err) {
        caught = err;
      } finally {
        await lease.release();
      }
      expect(caught).toBeInstanceOf(CustosError);
      const err = caught as CustosError;
      expect(err.code).toBe('STORE_UNAVAILABLE');
      expect(err.message).toContain('us-main');
      const shown = `${err.message} ${err.stack ?? ''} ${JSON.stringify(err)} ${String(err.cause ?? '')}`;
      expect(shown).not.toContain('sup3r-secret');
      expect(shown).not.toContain(`:${port}`);
    } finally {
      delete process.env.CUSTOS_TEST_DEAD_URL;
    }
  });
});
