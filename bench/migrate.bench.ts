/**
 * bench migrate: `migrate run` of a SQLite source into the embedded store (through the residency
 * router, sealed under subject keys, read back and verified per batch, every batch in the ledger and
 * checkpointed) against a raw better-sqlite3 table-to-table copy of the same rows (prepared
 * statements, one transaction per batch). Each side runs in its own child process, in alternating
 * order, and the median of `BENCH_MIGRATE_RUNS` runs (default 3) is reported, with the migration's
 * peak RSS. `BENCH_MIGRATE_RECORDS=N` changes the size (default 10^6,
 * 5,000 with --tiny).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { openSqlite } from '../packages/custos/src/adapters/sqlite/sqlite-database.js';
import { demoConfigYaml } from '../packages/custos/src/demo/demo-config.js';
import type { BenchOptions } from './run.js';
import { fmtRate, reportRatio } from './util.js';

const CHILD = fileURLToPath(new URL('./migrate-child.ts', import.meta.url));
const RAW_CHILD = fileURLToPath(new URL('./migrate-raw-child.ts', import.meta.url));
const BATCH = 5000;

/** Writes the legacy source: `accounts` (every subject US) and `users` rows of about 150 bytes. */
function writeSource(path: string, records: number, subjects: number): void {
  const db = openSqlite(path);
  db.exec(`CREATE TABLE accounts (user_id TEXT PRIMARY KEY, country TEXT NOT NULL);
    CREATE TABLE users (pid INTEGER PRIMARY KEY, user_id TEXT NOT NULL, email TEXT, name TEXT, bio TEXT)`);
  const account = db.prepare('INSERT INTO accounts VALUES (?, ?)');
  const user = db.prepare('INSERT INTO users VALUES (?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (let s = 0; s < subjects; s++) account.run(`s${s}`, 'US');
    for (let i = 0; i < records; i++) {
      user.run(
        i,
        `s${i % subjects}`,
        `user${i}@example.com`,
        `user ${i}`,
        `bio of user ${i} `.padEnd(96, 'x'),
      );
    }
  })();
  db.close();
  // On disk before either side reads it, so neither pays for the other's writeback.
  const fd = openSync(path, 'r');
  fsyncSync(fd);
  closeSync(fd);
}

/** Median of a non-empty list. */
function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

interface Ours {
  records: number;
  seconds: number;
  failed: number;
  maxRssKb: number;
}

function child<T>(script: string, args: readonly string[]): T {
  const out = execFileSync(process.execPath, ['--import', 'tsx', script, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as T;
}

/** Runs the migrate bench. */
export async function run(opts: BenchOptions): Promise<void> {
  const records = Number(process.env.BENCH_MIGRATE_RECORDS ?? (opts.tiny ? 5_000 : 1_000_000));
  const subjects = opts.tiny ? 100 : 10_000;
  const dir = mkdtempSync(join(tmpdir(), 'custos-bench-migrate-'));
  try {
    const dataDir = join(dir, 'data');
    const source = join(dir, 'legacy.sqlite');
    writeSource(source, records, subjects);
    const config = parse(demoConfigYaml(dataDir)) as Record<string, unknown>;
    config.migration = {
      batchSize: BATCH,
      accounts: {
        source: 'legacy',
        table: 'accounts',
        subjectField: 'user_id',
        jurisdictionField: 'country',
      },
      sources: [
        {
          id: 'legacy',
          site: 'us-legacy-dc',
          kind: 'sqlite',
          path: source,
          datasets: [
            {
              collection: 'profiles',
              table: 'users',
              idField: 'pid',
              subjectField: 'user_id',
              fields: { email: 'email', display_name: 'name', bio: 'bio' },
            },
          ],
        },
      ],
    };
    // Each side in a fresh child process, order alternating, median of the runs
    // (`BENCH_MIGRATE_RUNS`, default 3; 1 with --tiny). Each migration run gets a fresh data dir.
    const runs = Number(process.env.BENCH_MIGRATE_RUNS ?? (opts.tiny ? 1 : 3));
    const rawTimes: number[] = [];
    const ourTimes: number[] = [];
    let maxRssKb = 0;
    for (let i = 0; i < runs; i++) {
      const configPath = join(dir, `custos-${i}.yaml`);
      writeFileSync(configPath, stringify({ ...config, dataDir: join(dir, `data-${i}`) }));
      const sides = [
        () => {
          rawTimes.push(child<{ seconds: number }>(RAW_CHILD, [source, join(dir, `raw-${i}.db`)]).seconds);
          rmSync(join(dir, `raw-${i}.db`), { force: true });
        },
        () => {
          const ours = child<Ours>(CHILD, [configPath]);
          if (ours.records !== records || ours.failed !== 0)
            throw new Error(`migration copied ${ours.records} of ${records}`);
          ourTimes.push(ours.seconds);
          maxRssKb = Math.max(maxRssKb, ours.maxRssKb);
          rmSync(join(dir, `data-${i}`), { recursive: true, force: true });
        },
      ];
      if (i % 2 === 1) sides.reverse();
      for (const side of sides) side();
    }
    const rawSeconds = median(rawTimes);
    const ours = { seconds: median(ourTimes), maxRssKb };
    const rawRate = records / rawSeconds;
    const ourRate = records / ours.seconds;
    process.stdout.write(
      `migrate ${records.toLocaleString('en-US')} records, median of ${runs} alternating runs, each side in its own process: custos ${fmtRate(ourRate)} (route + encrypt + put + read back + verify + ledger + checkpoint), ` +
        `raw sqlite copy ${fmtRate(rawRate)}\n`,
    );
    reportRatio('migrate', 'throughput', ourRate / rawRate, 0.3);
    const mb = ours.maxRssKb / 1024;
    process.stdout.write(`bench migrate: peak RSS = ${Math.round(mb)} MB (target < 500 MB)\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
