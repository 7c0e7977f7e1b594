/**
 * bench store: encrypted, routed put/get through the services (residency router, subject keys,
 * AES-256-GCM envelope, SQLite record store) against raw better-sqlite3 put/get of the same payloads
 * on a table of the same shape and pragmas, measured in the same run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlite } from '../packages/custos/src/adapters/sqlite/sqlite-database.js';
import { createCustos } from '../packages/custos/src/composition-root.js';
import { demoConfigYaml } from '../packages/custos/src/demo/demo-config.js';
import { parseConfigText } from '../packages/custos/src/domain/load-config.js';
import { ENVELOPE_OPEN_IMPLEMENTATION } from '../packages/custos/src/services/envelope.js';
import type { BenchOptions } from './run.js';
import { fmtRate, opsPerSecond, reportRatio } from './util.js';

function payload(i: number): {
  email: string;
  phone: string;
  birth_date: string;
  display_name: string;
  bio: string;
} {
  return {
    email: `user${i}@example.com`,
    phone: `+1-555-${String(i % 10000).padStart(4, '0')}`,
    birth_date: '1990-01-01',
    display_name: `user ${i}`,
    bio: 'x'.repeat(160),
  };
}

/** Runs the store bench. */
export async function run(opts: BenchOptions): Promise<void> {
  const subjects = opts.tiny ? 50 : 2000;
  const ms = opts.tiny ? 150 : 2000;
  const dir = mkdtempSync(join(tmpdir(), 'custos-bench-store-'));
  try {
    const config = parseConfigText(demoConfigYaml(join(dir, 'data')), dir);
    const custos = await createCustos(config);
    for (let s = 0; s < subjects; s++) await custos.subjects.register(`s${s}`, 'US');

    const raw = openSqlite(join(dir, 'raw.db'));
    raw.exec(
      'CREATE TABLE records (collection TEXT NOT NULL, subject TEXT NOT NULL, id TEXT NOT NULL, value BLOB NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (collection, subject, id)) WITHOUT ROWID',
    );
    const rawPut = raw.prepare(
      'INSERT INTO records VALUES (?, ?, ?, ?, ?) ON CONFLICT (collection, subject, id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
    );
    const rawGet = raw.prepare('SELECT value FROM records WHERE collection = ? AND subject = ? AND id = ?');

    // The read phases read r0..r999 (of subject k % subjects); write them first on both sides, so
    // reads never depend on how many writes a timed phase managed.
    for (let k = 0; k < 1000; k++) {
      rawPut.run(
        'profiles',
        `s${k % subjects}`,
        `r${k}`,
        Buffer.from(JSON.stringify(payload(k))),
        Date.now(),
      );
      await custos.records.put(`s${k % subjects}`, 'profiles', `r${k}`, payload(k));
    }

    // Alternate the two sides in rounds so machine noise hits both alike.
    const rounds = opts.tiny ? 1 : 3;
    let oursW = 0;
    let rawW = 0;
    let oursR = 0;
    let rawR = 0;
    for (let round = 0; round < rounds; round++) {
      rawW += await opsPerSecond((i) => {
        rawPut.run(
          'profiles',
          `s${i % subjects}`,
          `r${i}`,
          Buffer.from(JSON.stringify(payload(i))),
          Date.now(),
        );
      }, ms);
      oursW += await opsPerSecond(
        (i) => custos.records.put(`s${i % subjects}`, 'profiles', `r${i}`, payload(i)),
        ms,
      );
      rawR += await opsPerSecond((i) => {
        const row = rawGet.get('profiles', `s${(i % 1000) % subjects}`, `r${i % 1000}`) as
          | { value: Buffer }
          | undefined;
        if (row) JSON.parse(row.value.toString('utf8'));
      }, ms);
      oursR += await opsPerSecond(
        (i) => custos.records.get(`s${(i % 1000) % subjects}`, 'profiles', `r${i % 1000}`),
        ms,
      );
    }
    const n = rounds;
    process.stdout.write(
      `store writes: custos ${fmtRate(oursW / n)} (encrypt + route + put), raw sqlite ${fmtRate(rawW / n)}\n` +
        `store reads:  custos ${fmtRate(oursR / n)} (route + get + decrypt), raw sqlite ${fmtRate(rawR / n)} (get + JSON.parse)\n` +
        `decryption: ${ENVELOPE_OPEN_IMPLEMENTATION === 'native' ? "native AES-256-GCM open (native/envelope.c, Node's OpenSSL)" : 'node:crypto createDecipheriv'}\n`,
    );
    reportRatio('store', 'encrypted routed reads vs raw sqlite reads', oursR / rawR, 0.5);
    reportRatio('store', 'encrypted routed writes vs raw sqlite writes', oursW / rawW, 0.4);
    raw.close();
    await custos.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
