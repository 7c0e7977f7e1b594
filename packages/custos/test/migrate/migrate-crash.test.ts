/**
 * Acceptance: `migrate run` and `migrate purge`, real processes, SIGKILLed at 20 random points in
 * all (early from the step's start, after a batch, after the last batch), over two rounds: the
 * first leaves records of subjects without an account held back (no certificate), the second runs
 * after their accounts appear. After every kill: no record is in two stores, every target copy
 * matches its source digest, and no source record is gone unless its verified copy is at the
 * target. At the end: every record is at the target once, none at the source, and every
 * certificate verifies against the pinned key.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { FileKeyProvider } from '../../src/adapters/file-keys/file-key-provider.js';
import { SqliteRecordStore } from '../../src/adapters/sqlite/sqlite-record-store.js';
import { SqliteSubjectStore } from '../../src/adapters/sqlite/sqlite-subject-store.js';
import { openRecord } from '../../src/services/envelope.js';
import { verifyCertificateFile } from '../../src/services/migrate/deletion-certificate.js';
import { recordDigest } from '../../src/services/migrate/source-record.js';
import { SubjectKeys } from '../../src/services/subject-keys.js';
import { TestClock, tempDir } from '../helpers.js';
import { openWorld, writeSqliteTable } from './migrate-helpers.js';

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
/** Kills that land per step (each of run, purge, run, purge): 20 in all. */
const KILLS_PER_STEP = 5;
const PROFILES = 1000;
const WATCH = 500;

/** A source record: where it lives and the digest its copy must have. */
interface Original {
  readonly collection: string;
  readonly subject: string;
  readonly id: string;
  readonly digest: string;
  readonly known: boolean;
}

const subjectOf = (i: number): string => `s${i % 150}`;
// Subjects s0, s37, s74, ... have no account: their records are held back.
const hasAccount = (s: string): boolean => Number(s.slice(1)) % 37 !== 0;

function seed(dir: string): Map<string, Original> {
  const originals = new Map<string, Original>();
  const add = (collection: string, subject: string, id: string, fields: Record<string, unknown>): void => {
    const plain = Buffer.from(JSON.stringify(fields));
    originals.set(`${collection}/${subject}/${id}`, {
      collection,
      subject,
      id,
      digest: recordDigest(collection, subject, id, plain).toString('hex'),
      known: hasAccount(subject),
    });
  };
  const db = join(dir, 'legacy.sqlite');
  const accounts: [string, string][] = [];
  for (let s = 0; s < 150; s++) if (hasAccount(`s${s}`)) accounts.push([`s${s}`, s % 4 === 0 ? 'SG' : 'US']);
  writeSqliteTable(db, 'accounts', ['user_id', 'country'], accounts);
  const rows: [string, string, string, string][] = [];
  for (let i = 0; i < PROFILES; i++) {
    rows.push([`p${String(i).padStart(5, '0')}`, subjectOf(i), `u${i}@x.example`, `bio ${i}`]);
    add('profiles', subjectOf(i), `p${String(i).padStart(5, '0')}`, {
      bio: `bio ${i}`,
      email: `u${i}@x.example`,
    });
  }
  writeSqliteTable(db, 'users', ['pid', 'user_id', 'email', 'bio'], rows);
  const lines: string[] = [];
  for (let i = 0; i < WATCH; i++) {
    lines.push(JSON.stringify({ id: `w${i}`, uid: subjectOf(i * 7), video_id: `v${i}`, seconds: i }));
    add('watch_history', subjectOf(i * 7), `w${i}`, { seconds: i, video_id: `v${i}` });
  }
  writeFileSync(join(dir, 'watch.ndjson'), `${lines.join('\n')}\n`);
  return originals;
}

const SECTION = {
  batchSize: 25,
  accounts: { source: 'db', table: 'accounts', subjectField: 'user_id', jurisdictionField: 'country' },
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
          fields: ['email', 'bio'],
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
  ],
};

/** Records still at the source, as `collection/subject/id`. */
function sourceSnapshot(dir: string): Set<string> {
  const out = new Set<string>();
  // Not read-only: after a kill mid-delete, opening rolls back the hot journal.
  const db = new Database(join(dir, 'legacy.sqlite'));
  for (const r of db.prepare('SELECT pid, user_id FROM users').all() as { pid: string; user_id: string }[]) {
    out.add(`profiles/${r.user_id}/${r.pid}`);
  }
  db.close();
  for (const line of readFileSync(join(dir, 'watch.ndjson'), 'utf8').split('\n')) {
    if (line === '') continue;
    const o = JSON.parse(line) as { id: string; uid: string };
    out.add(`watch_history/${o.uid}/${o.id}`);
  }
  return out;
}

/** Every copy at the target: `collection/subject/id` → stores holding it, with their digests. */
async function targetSnapshot(dir: string): Promise<Map<string, { store: string; digest: string }[]>> {
  const subjects = new SqliteSubjectStore(join(dir, 'custody.db'));
  const keys = new SubjectKeys(subjects, new FileKeyProvider(join(dir, 'keys')), new TestClock(Date.now()));
  const out = new Map<string, { store: string; digest: string }[]>();
  try {
    for (const [id, file] of [
      ['us-main', 'us-trusted-cloud.db'],
      ['us-public', 'us-public-cloud.db'],
      ['us-legacy', 'us-legacy-dc.db'],
      ['sg-main', 'sg-backup.db'],
    ] as const) {
      const store = new SqliteRecordStore(id, join(dir, 'stores', file));
      try {
        for (const collection of ['profiles', 'watch_history']) {
          let after: { subject: string; id: string } | undefined;
          for (;;) {
            const page = await store.list({ collection, after, limit: 500 });
            if (page.length === 0) break;
            for (const r of page) {
              const key = await keys.keyVersion(r.subject, r.keyVersion);
              const plain = openRecord(key, { ...r }, r.sealed);
              const k = `${collection}/${r.subject}/${r.id}`;
              const list = out.get(k) ?? [];
              list.push({
                store: id,
                digest: recordDigest(collection, r.subject, r.id, plain).toString('hex'),
              });
              out.set(k, list);
            }
            after = page[page.length - 1];
          }
        }
      } finally {
        await store.close();
      }
    }
  } finally {
    await subjects.close();
  }
  return out;
}

/** A child process that has loaded the code and waits for its step. */
interface Prepared {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>;
  out: string;
}

/** Spawns a child and lets it load the code while the previous one works. */
function prepareChild(configPath: string): Prepared {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, configPath], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let err = '';
  const p: Prepared = {
    child,
    out: '',
    ready: new Promise((resolve) => {
      child.stdout?.on('data', (d: Buffer) => {
        p.out += d.toString();
        if (p.out.includes('READY')) resolve();
      });
    }),
    exited: new Promise((resolve) => {
      child.stderr?.on('data', (d: Buffer) => {
        err += d.toString();
      });
      child.on('exit', (code, signal) => resolve({ code, signal, out: p.out, err }));
    }),
  };
  return p;
}

/**
 * Where a kill lands: `early` at a random time from the step's start (often before the first
 * checkpoint, even before the state store is open), `batch` just after a batch, `late` once the
 * last batch is reported (the held-back retry, the leftover scan, certificate issuance).
 */
type KillMode = 'early' | 'batch' | 'late';
const MODES: readonly KillMode[] = ['early', 'batch', 'late'];

/** Starts the step on a prepared child; kills it at a random moment of the given mode if asked. */
async function runChild(
  p: Prepared,
  step: 'run' | 'purge',
  kill: KillMode | undefined,
): Promise<'killed' | 'done'> {
  await p.ready;
  let timer: NodeJS.Timeout | undefined;
  const killIn = (ms: number): void => {
    timer ??= setTimeout(() => p.child.kill('SIGKILL'), Math.floor(Math.random() * ms));
  };
  if (kill === 'early') killIn(1500);
  else if (kill !== undefined) {
    p.child.stdout?.on('data', () => {
      const last = p.out.trimEnd().split('\n').at(-1) ?? '';
      const m = /^P (\d+) (\d+)$/.exec(last);
      if (m === null) return;
      if (kill === 'batch') killIn(100);
      else if (Number(m[1]) >= Number(m[2])) killIn(30);
    });
  }
  p.child.stdin?.write(`${step}\n`);
  const { code, signal, out, err } = await p.exited;
  if (timer !== undefined) clearTimeout(timer);
  if (signal === 'SIGKILL') return 'killed';
  if (code === 0 && out.includes('DONE')) return 'done';
  throw new Error(`child ${step} exited with ${code}:\n${err}\n${out.slice(-500)}`);
}

/** True once `resolveAccounts` ran. */
function resolved(dir: string): boolean {
  const db = new Database(join(dir, 'legacy.sqlite'), { readonly: true });
  try {
    return db.prepare("SELECT 1 FROM accounts WHERE user_id = 's0'").get() !== undefined;
  } finally {
    db.close();
  }
}

/** Gives every subject without an account one (US), so its held-back records can move. */
function resolveAccounts(dir: string): void {
  const db = new Database(join(dir, 'legacy.sqlite'));
  const ins = db.prepare('INSERT INTO accounts VALUES (?, ?)');
  for (let s = 0; s < 150; s++) if (!hasAccount(`s${s}`)) ins.run(`s${s}`, 'US');
  db.close();
}

async function checkInvariants(dir: string, originals: Map<string, Original>): Promise<void> {
  const source = sourceSnapshot(dir);
  const target = await targetSnapshot(dir);
  for (const [k, copies] of target) {
    const o = originals.get(k);
    expect(o, `unexpected target record ${k}`).toBeDefined();
    expect(copies.length, `${k} is in ${copies.map((c) => c.store).join(', ')}`).toBe(1);
    expect(copies[0]?.digest, `${k} differs from its source`).toBe(o?.digest);
    if (!resolved(dir)) expect(o?.known, `${k} has no known jurisdiction but was copied`).toBe(true);
  }
  for (const k of originals.keys()) {
    // Deleted at the source ⇒ its verified copy is at the target.
    if (!source.has(k)) expect(target.has(k), `${k} was deleted before it was at the target`).toBe(true);
  }
}

describe('migration crash test: SIGKILL at up to 20 random points of run and purge', () => {
  const t = tempDir('custos-migrate-crash-');
  afterAll(() => t.cleanup());

  it('never duplicates or alters a copy, deletes nothing unverified, and certifies only once nothing is held back', async () => {
    const originals = seed(t.dir);
    const world = await openWorld(t.dir, SECTION);
    // The custodian's key, pinned: certificates are never checked against the key they carry.
    const pinned = world.custos.ledger.verifierKey;
    await world.close();
    // Ledger appends on the main thread (still fsynced): the writer thread's start-up would
    // otherwise take most of each child's life, leaving few kill points inside the work.
    const config = parse(readFileSync(world.configPath, 'utf8')) as { ledger: Record<string, unknown> };
    config.ledger.writerThread = false;
    writeFileSync(world.configPath, stringify(config));
    const kills = { run: 0, purge: 0 };
    let next = prepareChild(world.configPath);
    // Two rounds: the first leaves held-back records (no account), which withhold the certificates;
    // between rounds their accounts appear, and the second round copies, purges and certifies.
    const steps = ['run', 'purge', 'resolve', 'run', 'purge'] as const;
    try {
      for (const [index, step] of steps.entries()) {
        if (step === 'resolve') {
          expect(existsSync(join(t.dir, 'certificates', 'db--profiles.json'))).toBe(false);
          resolveAccounts(t.dir);
          continue;
        }
        // Exactly KILLS_PER_STEP kills land in every step. A child that finished before its kill
        // is run again (a re-run after completion is a kill point too: status, leftover scan,
        // certificate checks); the step ends with one run left to complete.
        let landed = 0;
        for (let tries = 0; tries < 4 * KILLS_PER_STEP + 10; tries++) {
          const current = next;
          next = prepareChild(world.configPath);
          const want = landed < KILLS_PER_STEP;
          const mode = want ? MODES[(tries + index) % MODES.length] : undefined;
          const outcome = await runChild(current, step, mode);
          await checkInvariants(t.dir, originals);
          if (outcome === 'killed') {
            landed++;
            kills[step]++;
          } else if (!want) break;
        }
        expect(landed, `kills landed in step ${index} (${step})`).toBe(KILLS_PER_STEP);
      }
    } finally {
      next.child.kill('SIGKILL');
    }
    expect(kills.run + kills.purge).toBe(20);

    const source = sourceSnapshot(t.dir);
    const target = await targetSnapshot(t.dir);
    for (const k of originals.keys()) {
      expect(target.has(k), k).toBe(true);
      expect(source.has(k), k).toBe(false);
    }
    let certified = 0;
    for (const name of ['db--profiles.json', 'export--watch_history.json']) {
      const verdict = await verifyCertificateFile(readFileSync(join(t.dir, 'certificates', name), 'utf8'), [
        pinned,
      ]);
      expect(verdict.ok, JSON.stringify(verdict.failed)).toBe(true);
      certified += verdict.certificate?.count ?? 0;
    }
    expect(certified).toBe(originals.size);
  }, 300_000);
});
