/**
 * bench gateway: authorized, recorded (durable ledger append), decrypted, masked single-record
 * reads over HTTP, against a baseline route in the same Fastify server that reads and returns the
 * same record from raw SQLite with no controls. The load generator runs in a separate process.
 * Also: the class-caching authorizer against raw `statefulIsAuthorized` calls.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { openSqlite } from '../packages/custos/src/adapters/sqlite/sqlite-database.js';
import { createCustos } from '../packages/custos/src/composition-root.js';
import { demoConfigYaml } from '../packages/custos/src/demo/demo-config.js';
import { seedDemo } from '../packages/custos/src/demo/demo-seed.js';
import { parseConfigText } from '../packages/custos/src/domain/load-config.js';
import type { Principal } from '../packages/custos/src/domain/principal.js';
import { createServer } from '../packages/custos/src/interfaces/http/server.js';
import { issueToken } from '../packages/custos/src/services/auth/authenticator.js';
import { demoUsSubjects, type LoadResult, runLoad } from './http-load.js';
import type { BenchOptions } from './run.js';
import { fmtRate, reportRatio } from './util.js';

/** Runs the gateway bench. */
export async function run(opts: BenchOptions): Promise<void> {
  const subjects = opts.tiny ? 20 : 200;
  const seconds = opts.tiny ? 1 : 6;
  const rounds = opts.tiny ? 1 : 2;
  const dir = mkdtempSync(join(tmpdir(), 'custos-bench-gw-'));
  try {
    const config = parseConfigText(demoConfigYaml(join(dir, 'data')), dir);
    const custos = await createCustos(config);
    await seedDemo(custos, subjects);
    const us = demoUsSubjects(subjects);

    // Baseline: the same records' plaintext in a raw SQLite table, served with no controls.
    const raw = openSqlite(join(dir, 'raw.db'));
    raw.exec('CREATE TABLE records (subject TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID');
    const ins = raw.prepare('INSERT INTO records VALUES (?, ?)');
    for (const s of us)
      ins.run(s, JSON.stringify((await custos.records.get(s, 'profiles', 'profile')).fields));
    const rawGet = raw.prepare('SELECT value FROM records WHERE subject = ?');

    const server = await createServer(custos, {
      extraRoutes: (a) => {
        a.get<{ Params: { subject: string } }>('/bench/raw/:subject', async (req, reply) => {
          const row = rawGet.get(req.params.subject) as { value: string } | undefined;
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
    const custodyPaths = us.map((s) => `/v1/subjects/${s}/collections/profiles/records/profile`);
    const basePaths = us.map((s) => `/bench/raw/${s}`);
    const headers = { authorization: `Bearer ${token}`, 'custos-purpose': 'service' };

    const base: LoadResult[] = [];
    const custody: LoadResult[] = [];
    for (let r = 0; r < rounds; r++) {
      base.push(await runLoad(address, basePaths, {}, seconds));
      custody.push(await runLoad(address, custodyPaths, headers, seconds));
    }
    const avg = (xs: LoadResult[], k: keyof LoadResult) => xs.reduce((a, x) => a + x[k], 0) / xs.length;
    const bad = custody.reduce((a, x) => a + x.non2xx + x.errors, 0);
    process.stdout.write(
      `gateway reads: custody ${fmtRate(avg(custody, 'rps'))} p50 ${avg(custody, 'p50')} ms p99 ${avg(custody, 'p99')} ms` +
        ` (non-2xx ${bad}); baseline ${fmtRate(avg(base, 'rps'))} p50 ${avg(base, 'p50')} ms p99 ${avg(base, 'p99')} ms` +
        `; ledger now ${custos.ledger.size} entries\n`,
    );
    reportRatio(
      'gateway',
      'custody read throughput vs baseline route',
      avg(custody, 'rps') / avg(base, 'rps'),
      0.5,
    );
    reportRatio(
      'gateway',
      'baseline p99 / custody p99 (p99 <= 2x baseline)',
      avg(base, 'p99') / Math.max(avg(custody, 'p99'), 0.001),
      0.5,
    );
    await server.close();

    // Authorizer: decisions per second by class (cache) vs a raw statefulIsAuthorized per request.
    const principal: Principal = {
      id: 'operator-app',
      org: 'operator',
      orgKind: 'operator',
      roles: ['app'],
      kind: 'service',
      jurisdiction: 'US',
      release: undefined,
    };
    const collections = config.collections;
    const n = opts.tiny ? 2_000 : 50_000;
    let t = performance.now();
    for (let i = 0; i < n; i++) {
      const c = collections[i % collections.length];
      if (!c) continue;
      custos.authorizer.decide({
        principal,
        action: 'read',
        collection: c.id,
        category: c.category,
        jurisdiction: i % 3 === 0 ? 'SG' : 'US',
        purpose: 'service',
      });
    }
    const classRate = (n * 1000) / (performance.now() - t);
    const staticPolicies = Object.fromEntries(custos.policies.policies.map((p) => [p.id, p.text]));
    cedar.preparseSchema('bench-schema', custos.policies.schema);
    cedar.preparsePolicySet('bench-set', { staticPolicies });
    const m = opts.tiny ? 200 : 5_000;
    t = performance.now();
    for (let i = 0; i < m; i++) {
      const c = collections[i % collections.length];
      cedar.statefulIsAuthorized({
        principal: { type: 'Custos::Principal', id: principal.id },
        action: { type: 'Custos::Action', id: 'read' },
        resource: { type: 'Custos::Record', id: `s${i}/${c?.id}/r` },
        context: { purpose: 'service' },
        preparsedSchemaName: 'bench-schema',
        preparsedPolicySetId: 'bench-set',
        validateRequest: true,
        entities: [
          {
            uid: { type: 'Custos::Principal', id: principal.id },
            attrs: {
              orgKind: 'operator',
              org: 'operator',
              kind: 'service',
              roles: ['app'],
              jurisdiction: 'US',
            },
            parents: [],
          },
          {
            uid: { type: 'Custos::Record', id: `s${i}/${c?.id}/r` },
            attrs: {
              collection: c?.id ?? '',
              category: c?.category ?? 'protected',
              jurisdiction: 'US',
              ringFenced: true,
              shareableWithParent: false,
            },
            parents: [],
          },
        ],
      });
    }
    const rawRate = (m * 1000) / (performance.now() - t);
    process.stdout.write(
      `authorizer: by class ${fmtRate(classRate)}, raw statefulIsAuthorized ${fmtRate(rawRate)}\n`,
    );
    reportRatio('gateway', 'authorizer decisions vs raw statefulIsAuthorized', classRate / rawRate, 10);
    raw.close();
    await custos.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
