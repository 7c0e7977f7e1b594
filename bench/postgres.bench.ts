/**
 * bench postgres, in one run against the PostgreSQL in CUSTOS_PG_URL (skipped, with a message,
 * when it is unset):
 * (a) gateway reads over HTTP (authorize, durable ledger append, custody lookup, record read from
 *     PostgreSQL, decrypt, mask) against a baseline route in the same server that point-reads the
 *     same plaintext from a raw `pg` table; the load generator runs in a separate process. The raw
 *     point-read rate without HTTP is printed too.
 * (b) ledger appends/s through the shared PostgreSQL ledger (group commit; one sequencer, the other
 *     processes through the queue) with 1 and with 3 gateway processes, against raw batched inserts
 *     of the same entry bytes (`INSERT … SELECT unnest($1::bytea[])`, batches of the same size) from
 *     1 and 3 concurrent connections.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { parse, stringify } from 'yaml';
import { createCustos } from '../packages/custos/src/composition-root.js';
import { demoConfigYaml } from '../packages/custos/src/demo/demo-config.js';
import { seedDemo } from '../packages/custos/src/demo/demo-seed.js';
import { parseConfigText } from '../packages/custos/src/domain/load-config.js';
import { createServer } from '../packages/custos/src/interfaces/http/server.js';
import { issueToken } from '../packages/custos/src/services/auth/authenticator.js';
import { demoUsSubjects, type LoadResult, runLoad } from './http-load.js';
import type { BenchOptions } from './run.js';
import { fmtRate, reportRatio } from './util.js';

const run$ = promisify(execFile);
const MAX_BATCH = 512;

/** The demo world with every store, the custody store and the ledger on PostgreSQL. */
function pgConfig(dir: string, prefix: string) {
  const obj = parse(demoConfigYaml(join(dir, 'data'))) as Record<string, unknown> & {
    stores: { id: string; site: string }[];
    ledger: Record<string, unknown>;
  };
  const schemaOf = (id: string): string => `${prefix}_${id.replace(/-/g, '_')}`;
  const conn = { urlEnv: 'CUSTOS_PG_URL', poolSize: 16 };
  obj.stores = obj.stores.map((s) => ({
    id: s.id,
    driver: 'postgres',
    site: s.site,
    schema: schemaOf(s.id),
    ...conn,
  }));
  obj.custody = { driver: 'postgres', schema: schemaOf('custody'), ...conn };
  obj.ledger = { ...obj.ledger, driver: 'postgres', postgres: { schema: schemaOf('ledger'), ...conn } };
  const schemas = [...obj.stores.map((s) => schemaOf(s.id)), schemaOf('custody'), schemaOf('ledger')];
  return { config: parseConfigText(stringify(obj), dir), schemas };
}

async function gatewayReads(dir: string, prefix: string, opts: BenchOptions, pool: pg.Pool) {
  const { config, schemas } = pgConfig(dir, prefix);
  const custos = await createCustos(config);
  const subjects = opts.tiny ? 20 : 200;
  await seedDemo(custos, subjects);
  const us = demoUsSubjects(subjects);
  const raw = `"${prefix}_raw"`;
  await pool.query(`CREATE SCHEMA ${raw}`);
  await pool.query(`CREATE TABLE ${raw}.records (subject text COLLATE "C" PRIMARY KEY, value text NOT NULL)`);
  for (const s of us) {
    const value = JSON.stringify((await custos.records.get(s, 'profiles', 'profile')).fields);
    await pool.query(`INSERT INTO ${raw}.records VALUES ($1, $2)`, [s, value]);
  }
  const get = { name: `bench_raw_${prefix}`, text: `SELECT value FROM ${raw}.records WHERE subject = $1` };
  const server = await createServer(custos, {
    extraRoutes: (a) => {
      a.get<{ Params: { subject: string } }>('/bench/raw/:subject', async (req, reply) => {
        const { rows } = await pool.query<{ value: string }>(get, [req.params.subject]);
        const row = rows[0];
        if (!row) return reply.status(404).send({ code: 'NOT_FOUND' });
        return {
          subject: req.params.subject,
          collection: 'profiles',
          id: 'profile',
          fields: JSON.parse(row.value),
        };
      });
    },
  });
  const address = await server.listen({ host: '127.0.0.1', port: 0 });
  const key = custos.tokenKey?.privateKey;
  if (!key) throw new Error('embedded key missing');
  const token = await issueToken(config, key, 'operator-app', 3600, Date.now());
  const seconds = opts.tiny ? 1 : 5;
  const runs = { base: [] as LoadResult[], custody: [] as LoadResult[] };
  const rawPaths = us.map((s) => `/bench/raw/${s}`);
  const custodyPaths = us.map((s) => `/v1/subjects/${s}/collections/profiles/records/profile`);
  const headers = { authorization: `Bearer ${token}`, 'custos-purpose': 'service' };
  // Alternate the two loads (twice unless tiny): the machine's other load drifts during a run.
  for (let round = 0; round < (opts.tiny ? 1 : 2); round++) {
    runs.base.push(await runLoad(address, rawPaths, {}, seconds));
    runs.custody.push(await runLoad(address, custodyPaths, headers, seconds));
  }
  const avg = (xs: LoadResult[]): LoadResult => {
    const mean = (k: keyof LoadResult): number => xs.reduce((acc, x) => acc + x[k], 0) / xs.length;
    return {
      rps: mean('rps'),
      total: mean('total'),
      p50: mean('p50'),
      p99: mean('p99'),
      non2xx: mean('non2xx'),
      errors: mean('errors'),
    };
  };
  const base = avg(runs.base);
  const custody = avg(runs.custody);
  // Raw point reads without HTTP: 32 concurrent loops on the same pool.
  let reads = 0;
  const until = performance.now() + seconds * 500;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async (_, w) => {
      for (let i = w; performance.now() < until; i += 32) {
        await pool.query(get, [us[i % us.length]]);
        reads++;
      }
    }),
  );
  const pointRate = (reads * 1000) / (performance.now() - t0);
  process.stdout.write(
    `gateway reads on PostgreSQL: ${fmtRate(custody.rps)} p50 ${custody.p50} ms p99 ${custody.p99} ms ` +
      `(non-2xx ${custody.non2xx + custody.errors}); raw pg route ${fmtRate(base.rps)} p50 ${base.p50} ms ` +
      `p99 ${base.p99} ms; raw pg point reads without HTTP ${fmtRate(pointRate)}\n`,
  );
  reportRatio('postgres', 'gateway reads vs raw pg point reads', custody.rps / base.rps, 0.5);
  await server.close();
  await custos.close();
  return schemas;
}

async function rawInserts(pool: pg.Pool, table: string, entry: Buffer, conns: number, seconds: number) {
  const batch = Array.from({ length: MAX_BATCH }, () => entry);
  const until = performance.now() + seconds * 1000;
  const t0 = performance.now();
  let rows = 0;
  await Promise.all(
    Array.from({ length: conns }, async () => {
      while (performance.now() < until) {
        await pool.query(`INSERT INTO ${table} (data) SELECT unnest($1::bytea[])`, [batch]);
        rows += MAX_BATCH;
      }
    }),
  );
  return (rows * 1000) / (performance.now() - t0);
}

async function ledgerAppends(url: string, dir: string, prefix: string, processes: number, seconds: number) {
  const schema = `${prefix}_ledger_${processes}p`;
  const startAt = Date.now() + 8000 + processes * 1500; // after every child has started
  const outs = await Promise.all(
    Array.from({ length: processes }, () =>
      run$(
        process.execPath,
        [
          '--import',
          'tsx',
          join(import.meta.dirname, 'postgres-ledger-child.ts'),
          JSON.stringify({
            url,
            schema,
            keysDir: join(dir, 'keys'),
            startAt,
            seconds,
            callers: 512,
            maxBatch: MAX_BATCH,
          }),
        ],
        { maxBuffer: 1 << 20 },
      ),
    ),
  );
  const results = outs.map(
    (o) =>
      JSON.parse(o.stdout.trim().split('\n').at(-1) ?? '{}') as {
        appends: number;
        failures: number;
        elapsed: number;
      },
  );
  const total = results.reduce((a, r) => a + r.appends / r.elapsed, 0);
  const failures = results.reduce((a, r) => a + r.failures, 0);
  return { total, failures, schema };
}

/** Runs the PostgreSQL bench. */
export async function run(opts: BenchOptions): Promise<void> {
  const url = process.env.CUSTOS_PG_URL;
  if (!url) {
    process.stdout.write(
      'bench postgres: skipped (CUSTOS_PG_URL is unset; start one with scripts/pg-test-cluster.sh)\n',
    );
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'custos-bench-pg-'));
  const prefix = `bench_${randomBytes(4).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: url, max: 32 });
  pool.on('error', () => {});
  const schemas: string[] = [`${prefix}_raw`];
  try {
    schemas.push(...(await gatewayReads(dir, prefix, opts, pool)));
    const seconds = opts.tiny ? 1 : 5;
    const entry = Buffer.alloc(480, 'x');
    const table = `"${prefix}_raw".entries`;
    await pool.query(
      `CREATE TABLE ${table} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, data bytea NOT NULL)`,
    );
    for (const processes of [1, 3]) {
      const raw = await rawInserts(pool, table, entry, processes, seconds);
      const shared = await ledgerAppends(url, dir, prefix, processes, seconds);
      schemas.push(shared.schema);
      process.stdout.write(
        `ledger appends, ${processes} gateway process${processes > 1 ? 'es' : ''}: group commit ${fmtRate(shared.total)}` +
          ` (failures ${shared.failures}); raw batched inserts (${processes} connection${processes > 1 ? 's' : ''}, ` +
          `${MAX_BATCH} rows per statement) ${fmtRate(raw)}\n`,
      );
      process.stdout.write(
        `bench postgres: ledger appends with ${processes} gateway process(es) = ` +
          `${(shared.total / raw).toFixed(2)}x raw batched inserts (reported, no target)\n`,
      );
    }
  } finally {
    for (const s of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`).catch(() => {});
    await pool.end();
    rmSync(dir, { recursive: true, force: true });
  }
}
