/**
 * Acceptance: bad sources give a coded error naming the source and the record; the migration stops
 * or continues as configured; nothing is deleted. Cases: a malformed NDJSON line, a CSV row with
 * the wrong column count, a missing subject id, an unreachable PostgreSQL source.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isCustosError } from '../../src/domain/errors.js';
import { runCli } from '../cli-helpers.js';
import { countSqlite, type MigrationWorld, newWorld, writeSqliteTable } from './migrate-helpers.js';

const ACCOUNTS = { source: 'db', table: 'accounts', subjectField: 'user_id', jurisdictionField: 'country' };

function section(onError: 'stop' | 'skip', extra: Record<string, unknown>[] = []): Record<string, unknown> {
  return {
    batchSize: 2,
    onError,
    accounts: ACCOUNTS,
    sources: [
      {
        id: 'db',
        site: 'us-legacy-dc',
        kind: 'sqlite',
        path: 'legacy.sqlite',
        datasets: [
          {
            collection: 'profiles',
            table: 'users',
            idField: 'pid',
            subjectField: 'user_id',
            fields: { email: 'email' },
          },
        ],
      },
      {
        id: 'export',
        site: 'us-public-cloud',
        kind: 'ndjson',
        datasets: [
          {
            collection: 'watch_history',
            file: 'watch.ndjson',
            subjectField: 'uid',
            fields: ['video_id', 'seconds'],
          },
        ],
      },
      {
        id: 'videos',
        site: 'us-public-cloud',
        kind: 'csv',
        datasets: [
          {
            collection: 'public_videos',
            file: 'videos.csv',
            subjectField: 'uploader',
            fields: ['title', 'views'],
          },
        ],
      },
      ...extra,
    ],
  };
}

const WATCH = [
  '{"id":"w1","uid":"u1","video_id":"v1","seconds":10}',
  '{"id":"w2","uid":"u2","video_id":"v2","seconds":20}',
  '{"id":"w3","uid":"u1","video_id":"v3",', // malformed: line 3
  '{"id":"w4","uid":"u2","video_id":"v4","seconds":40}',
];
const VIDEOS = ['id,uploader,title,views', 'c1,u1,one,1', 'c3,u1,"three, quoted",3', 'c2,u2,two,2,extra'];

async function world(
  onError: 'stop' | 'skip',
  extra: Record<string, unknown>[] = [],
): Promise<MigrationWorld> {
  const w = await newWorld(section(onError, extra));
  const db = join(w.dir, 'legacy.sqlite');
  writeSqliteTable(
    db,
    'accounts',
    ['user_id', 'country'],
    [
      ['u1', 'US'],
      ['u2', 'US'],
    ],
  );
  writeSqliteTable(
    db,
    'users',
    ['pid', 'user_id', 'email'],
    [
      ['p1', 'u1', 'a@x'],
      ['p2', 'u2', 'b@x'],
      ['p3', null, 'c@x'], // missing subject id
      ['p4', 'u2', 'd@x'],
    ],
  );
  writeFileSync(join(w.dir, 'watch.ndjson'), `${WATCH.join('\n')}\n`);
  writeFileSync(join(w.dir, 'videos.csv'), `${VIDEOS.join('\n')}\n`);
  return w;
}

function snapshot(w: MigrationWorld): string[] {
  return [
    String(countSqlite(join(w.dir, 'legacy.sqlite'), 'users')),
    readFileSync(join(w.dir, 'watch.ndjson'), 'utf8'),
    readFileSync(join(w.dir, 'videos.csv'), 'utf8'),
  ];
}

describe('bad sources', () => {
  let w: MigrationWorld | undefined;
  afterEach(async () => {
    await w?.cleanup();
    w = undefined;
  });

  it('onError stop: each bad record stops the run with a coded error naming source and record; nothing deleted', async () => {
    w = await world('stop');
    const before = snapshot(w);
    const cases: [string, RegExp][] = [
      ['db', /source "db", dataset db\/profiles, record at pid="p3": missing subject id \(user_id\)/],
      ['export', /source "export", dataset export\/watch_history, record at line 3: malformed JSON/],
      [
        'videos',
        /source "videos", dataset videos\/public_videos, record at line 4: has 5 columns, the header has 4/,
      ],
    ];
    for (const [source, message] of cases) {
      const err = await w.migration.run([source]).catch((e: unknown) => e);
      expect(isCustosError(err, 'MIGRATION_RECORD_INVALID'), String(err)).toBe(true);
      expect((err as Error).message).toMatch(message);
      // The batch before the bad record is committed; the bad record's batch is not.
      const [status] = (await w.migration.status()).filter((s) => s.dataset.startsWith(`${source}/`));
      expect(status?.phase).toBe('copying');
      expect(status?.copied).toBe(2);
    }
    // Nothing can be purged before the copy finished, and nothing was deleted.
    const purge = await w.migration.purge();
    expect(purge.every((r) => r.status === 'failed' && r.error?.code === 'MIGRATION_NOT_READY')).toBe(true);
    expect(snapshot(w)).toEqual(before);
    // The CLI prints the code and names source and record; exit code 1.
    const cli = await runCli('migrate', 'run', '-c', w.configPath, '--dataset', 'export');
    expect(cli.code).toBe(1);
    expect(cli.err).toContain('error MIGRATION_RECORD_INVALID: source "export"');
    expect(cli.err).toContain('line 3');
    expect(cli.err).not.toMatch(/\n\s+at /);
  });

  it('onError skip: bad records are held back and reported, the rest moves, and the bad rows stay at the source', async () => {
    w = await world('skip');
    const reports = await w.migration.run();
    expect(reports.map((r) => [r.dataset, r.status, r.copied, r.held])).toEqual([
      ['db/profiles', 'copied', 3, 1],
      ['export/watch_history', 'copied', 3, 1],
      ['videos/public_videos', 'copied', 2, 1],
    ]);
    // The copies are deleted at the source, but held-back rows withhold the certificates.
    const purge = await w.migration.purge();
    expect(purge.map((r) => [r.status, r.error?.code, r.certificate])).toEqual([
      ['pending-destruction', 'DESTRUCTION_PENDING', undefined],
      ['pending-destruction', 'DESTRUCTION_PENDING', undefined],
      ['pending-destruction', 'DESTRUCTION_PENDING', undefined],
    ]);
    expect(purge[0]?.error?.message).toContain('pid="p3" (bad-record)');
    expect(countSqlite(join(w.dir, 'legacy.sqlite'), 'users')).toBe(1);
    expect(readFileSync(join(w.dir, 'watch.ndjson'), 'utf8')).toBe(`${WATCH[2]}\n`);
    expect(readFileSync(join(w.dir, 'videos.csv'), 'utf8')).toBe(`${VIDEOS[0]}\n${VIDEOS[3]}\n`);
  });

  it('an unreachable PostgreSQL source is MIGRATION_SOURCE_UNAVAILABLE naming it; stop ends the run, skip goes on', async () => {
    const pg = {
      id: 'pg-legacy',
      site: 'us-legacy-dc',
      kind: 'postgres',
      postgres: { url: 'postgres://custos@127.0.0.1:1/legacy', connectTimeoutMs: 500 },
      datasets: [{ collection: 'messages', table: 'messages', subjectField: 'user_id', fields: ['body'] }],
    };
    w = await world('stop', [pg]);
    const err = await w.migration.run(['pg-legacy']).catch((e: unknown) => e);
    expect(isCustosError(err, 'MIGRATION_SOURCE_UNAVAILABLE'), String(err)).toBe(true);
    expect((err as Error).message).toContain('migration source "pg-legacy"');
    const cli = await runCli('migrate', 'plan', '-c', w.configPath, '--dataset', 'pg-legacy');
    expect(cli.code).toBe(1);
    expect(cli.err).toContain('error MIGRATION_SOURCE_UNAVAILABLE: migration source "pg-legacy"');
    expect(cli.err).not.toContain('postgres://');
    await w.cleanup();

    w = await world('skip', [pg]);
    const reports = await w.migration.run(['db', 'pg-legacy']);
    expect(reports.find((r) => r.dataset === 'db/profiles')?.status).toBe('copied');
    const failed = reports.find((r) => r.dataset === 'pg-legacy/messages');
    expect(failed?.status).toBe('failed');
    expect(failed?.error?.code).toBe('MIGRATION_SOURCE_UNAVAILABLE');
  });
});
