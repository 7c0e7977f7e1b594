import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { quoteCsv } from '../adapters/migration/csv-line.js';
import { sealArchive } from '../adapters/migration/sealed-archive.js';

/** The demo world's `migration` section: the legacy sources `demoLegacySources` writes. */
export const DEMO_MIGRATION_YAML = `migration:
  batchSize: 100
  onError: skip # bad records are held back and reported; "stop" ends the run at the first one
  accounts: { source: us-legacy-db, table: accounts, subjectField: user_id, jurisdictionField: country }
  sources:
    # The operator's own datacenter: a SQLite database.
    - id: us-legacy-db
      site: us-legacy-dc
      kind: sqlite
      path: legacy/us-legacy-dc.sqlite
      datasets:
        - collection: profiles
          table: users
          idField: profile_id
          subjectField: user_id
          fields: { email: email, phone: phone, display_name: name, bio: bio }
        - collection: messages
          table: messages
          idField: msg_id
          subjectField: user_id
          fields: { to: recipient, body: body, sent_at: sent_at }
    # The offshore backup: a sealed NDJSON archive that cannot delete rows; Custos holds its key.
    - id: sg-backup-archive
      site: sg-backup
      kind: ndjson
      deletable: false
      encryption: { keyFile: legacy/sg-backup-archive.key }
      datasets:
        - collection: watch_history
          file: legacy/sg-backup-watch-history.ndjson.sealed
          subjectField: uid
          fields: [video_id, watched_at, seconds]
    # The public cloud: a CSV export.
    - id: public-cloud-export
      site: us-public-cloud
      kind: csv
      datasets:
        - collection: public_videos
          file: legacy/us-public-cloud-videos.csv
          subjectField: uploader
          fields: [title, views, uploaded_at]
`;

/** What `demoLegacySources` wrote. */
export interface LegacyReport {
  readonly created: boolean;
  readonly records: number;
}

/** Demo legacy subject: four in five US, one in five SG; every seventh has no account (unknown). */
function legacySubject(i: number): { id: string; country: string | undefined } {
  const id = `legacy-${String(i).padStart(4, '0')}`;
  if (i % 7 === 0) return { id, country: undefined };
  return { id, country: i % 5 === 0 ? 'SG' : 'US' };
}

/**
 * Writes the demo world's legacy sources under `<dataDir>/legacy` (once): a SQLite database on
 * `us-legacy-dc` (accounts, profiles, messages), a sealed NDJSON archive on `sg-backup` and a CSV
 * export on `us-public-cloud`. Some subjects have no account, so their records are held back.
 */
export function demoLegacySources(dataDir: string, subjects = 30): LegacyReport {
  const dir = join(dataDir, 'legacy');
  if (existsSync(dir)) return { created: false, records: 0 };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let records = 0;
  const db = new Database(join(dir, 'us-legacy-dc.sqlite'));
  try {
    db.exec(`CREATE TABLE accounts (user_id TEXT PRIMARY KEY, country TEXT NOT NULL);
      CREATE TABLE users (profile_id TEXT PRIMARY KEY, user_id TEXT, email TEXT, phone TEXT, name TEXT, bio TEXT);
      CREATE TABLE messages (msg_id TEXT PRIMARY KEY, user_id TEXT, recipient TEXT, body TEXT, sent_at TEXT);`);
    const account = db.prepare('INSERT INTO accounts VALUES (?, ?)');
    const user = db.prepare('INSERT INTO users VALUES (?, ?, ?, ?, ?, ?)');
    const message = db.prepare('INSERT INTO messages VALUES (?, ?, ?, ?, ?)');
    db.transaction(() => {
      for (let i = 1; i <= subjects; i++) {
        const s = legacySubject(i);
        if (s.country !== undefined) account.run(s.id, s.country);
        user.run(
          `p-${i}`,
          s.id,
          `${s.id}@legacy.example`,
          `+1-555-01${String(i).padStart(2, '0')}`,
          `Legacy ${i}`,
          'old bio',
        );
        for (let m = 1; m <= 2; m++)
          message.run(`m-${i}-${m}`, s.id, `friend-${m}`, `legacy note ${i}-${m}`, '2019-05-01T10:00:00Z');
        records += 3;
      }
    })();
  } finally {
    db.close();
  }
  const key = randomBytes(32);
  writeFileSync(join(dir, 'sg-backup-archive.key'), key, { mode: 0o600 });
  const lines: string[] = [];
  for (let i = 1; i <= subjects; i++) {
    const s = legacySubject(i);
    // The archive holds subjects with accounts only: it can be crypto-shredded once all of it moved.
    if (s.country === undefined) continue;
    lines.push(
      JSON.stringify({
        id: `w-${i}`,
        uid: s.id,
        video_id: `vid-${i}`,
        watched_at: '2020-01-01T20:00:00Z',
        seconds: 30 * i,
      }),
    );
  }
  records += lines.length;
  writeFileSync(
    join(dir, 'sg-backup-watch-history.ndjson.sealed'),
    sealArchive(key, Buffer.from(`${lines.join('\n')}\n`)),
    {
      mode: 0o600,
    },
  );
  const csv = ['id,uploader,title,views,uploaded_at'];
  for (let i = 1; i <= subjects; i += 3) {
    csv.push(
      [
        `v-${i}`,
        legacySubject(i).id,
        quoteCsv(`Legacy clip ${i}, remastered`),
        String(100 * i),
        '2018-07-01',
      ].join(','),
    );
    records++;
  }
  writeFileSync(join(dir, 'us-public-cloud-videos.csv'), `${csv.join('\n')}\n`, { mode: 0o600 });
  return { created: true, records };
}
