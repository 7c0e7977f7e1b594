/**
 * bench migrate: `migrate run` of a SQLite source into the embedded store (through the residency
 * router, sealed under subject keys, read back and verified per batch, every batch in the ledger and
 * checkpointed) against a raw better-sqlite3 table-to-table copy of the same rows (prepared
 * statements, one transaction per batch), measured in the same run. The migration runs in a child
 * process whose peak RSS is reported. `BENCH_MIGRATE_RECORDS=N` changes the size (default 10^6,
 * 5,000 with --tiny).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { openSqlite } from '../packages/custos/src/adapters/sqlite/sqlite-database.js';
import { demoConfigYaml } from '../packages/custos/src/demo/demo-config.js';
import type { BenchOptions } from './run.js';
import { fmtRate, reportRatio } from './util.js';

const CHILD = fileURLToPath(new URL('./migrate-child.ts', import.meta.url));
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
}

/** The raw baseline: read every row, write it to a records table of the store's shape, in batches. */
function rawCopy(source: string, target: string): number {
  const src = openSqlite(source, { readonly: true });
  const dst = openSqlite(target);
  dst.exec(
    'CREATE TABLE records (collection TEXT NOT NULL, subject TEXT NOT NULL, id TEXT NOT NULL, value BLOB NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (collection, subject, id)) WITHOUT ROWID',
  );
  const read = src.prepare('SELECT * FROM users WHERE pid > ? ORDER BY pid LIMIT ?');
  const write = dst.prepare('INSERT INTO records VALUES (?, ?, ?, ?, ?)');
  const start = performance.now();
  const tx = dst.transaction(
    (rows: { pid: number; user_id: string; email: string; name: string; bio: string }[]) => {
      const now = Date.now();
      for (const r of rows) {
        const value = Buffer.from(JSON.stringify({ bio: r.bio, display_name: r.name, email: r.email }));
        write.run('profiles', r.user_id, String(r.pid), value, now);
      }
    },
  );
  for (let after = -1; ; ) {
    const rows = read.all(after, BATCH) as {
      pid: number;
      user_id: string;
      email: string;
      name: string;
      bio: string;
    }[];
    if (rows.length === 0) break;
    tx(rows);
    after = rows[rows.length - 1]?.pid ?? after;
  }
  const seconds = (performance.now() - start) / 1000;
  src.close();
  dst.close();
  return seconds;
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
    const configPath = join(dir, 'custos.yaml');
    writeFileSync(configPath, stringify(config));

    const rawSeconds = rawCopy(source, join(dir, 'raw.db'));
    const out = execFileSync(process.execPath, ['--import', 'tsx', CHILD, configPath], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    const ours = JSON.parse(out.trim().split('\n').pop() ?? '{}') as {
      records: number;
      seconds: number;
      failed: number;
      maxRssKb: number;
    };
    if (ours.records !== records || ours.failed !== 0)
      throw new Error(`migration copied ${ours.records} of ${records}`);
    const rawRate = records / rawSeconds;
    const ourRate = records / ours.seconds;
    process.stdout.write(
      `migrate ${records.toLocaleString('en-US')} records: custos ${fmtRate(ourRate)} (route + encrypt + put + read back + verify + ledger + checkpoint), ` +
        `raw sqlite copy ${fmtRate(rawRate)}\n`,
    );
    reportRatio('migrate', 'throughput', ourRate / rawRate, 0.3);
    const mb = ours.maxRssKb / 1024;
    process.stdout.write(`bench migrate: peak RSS = ${Math.round(mb)} MB (target < 500 MB)\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
