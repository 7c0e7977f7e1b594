/**
 * Child of `bench migrate`: the raw baseline, `migrate-raw-child.ts SOURCE TARGET`, in its own
 * process like the migration, so neither side runs in a process warmed (or burdened) by the other.
 * Prints one JSON line: seconds.
 */
import { openSqlite } from '../packages/custos/src/adapters/sqlite/sqlite-database.js';

const BATCH = 5000;

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

const seconds = rawCopy(process.argv[2] as string, process.argv[3] as string);
process.stdout.write(`${JSON.stringify({ seconds })}\n`);
