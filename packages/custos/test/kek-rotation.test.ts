import { copyFileSync, existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCustos } from '../src/composition-root.js';
import { demoConfigYaml } from '../src/demo/demo-config.js';
import type { CustosConfig } from '../src/domain/config.js';
import { loadConfigFile } from '../src/domain/load-config.js';
import type { KeyProvider } from '../src/ports/key-provider.js';
import { readEntries } from '../src/services/gatekeeping/what-if.js';
import { SubjectKeys } from '../src/services/subject-keys.js';
import { runCli } from './cli-helpers.js';
import { codeOf, TestClock, tempDir } from './helpers.js';

function custodyPath(config: CustosConfig): string {
  if (config.custody.driver !== 'sqlite') throw new Error('the demo custody store is SQLite');
  return config.custody.path;
}

/** Copies a SQLite file consistently (as a backup tool would). */
function backup(from: string, to: string): void {
  const db = new Database(from);
  db.prepare('VACUUM INTO ?').run(to);
  db.close();
}

/** Reads alice's profile with the custody database swapped for `restored` (a restored backup). */
async function readWithRestoredCustody(config: CustosConfig, restored: string): Promise<string> {
  const live = custodyPath(config);
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${live}${suffix}`, { force: true });
  copyFileSync(restored, live);
  const custos = await createCustos(config);
  try {
    return await codeOf(custos.records.get('alice', 'profiles', 'p1'));
  } finally {
    await custos.close();
  }
}

describe('KEK rotation: erasure reaches backups of the custody database', () => {
  let dir: string;
  let cleanup: () => void;
  let configPath: string;
  let config: CustosConfig;

  beforeEach(async () => {
    ({ dir, cleanup } = tempDir());
    configPath = join(dir, 'custos.yaml');
    writeFileSync(configPath, demoConfigYaml('./data'));
    config = loadConfigFile(configPath);
    const custos = await createCustos(config);
    await custos.subjects.register('alice', 'US');
    await custos.subjects.register('bob', 'US');
    await custos.subjects.register('carol', 'SG');
    await custos.records.put('alice', 'profiles', 'p1', { email: 'alice@example.com' });
    await custos.records.put('bob', 'profiles', 'p1', { email: 'bob@example.com' });
    await custos.records.put('carol', 'profiles', 'p1', { email: 'carol@example.sg' });
    await custos.close();
    // The nightly backup, taken while alice still existed.
    backup(custodyPath(config), join(dir, 'custody-backup.db'));
  });
  afterEach(() => cleanup());

  it('without a rotation, restoring an old custody backup revives an erased subject (the gap)', async () => {
    expect((await runCli('subject', 'erase', 'alice', '--config', configPath)).code).toBe(0);
    expect(await readWithRestoredCustody(config, join(dir, 'custody-backup.db'))).toBe('no error');
  });

  it('after rotate --destroy-old, the old backup cannot unwrap the erased key; live subjects still read', async () => {
    expect((await runCli('subject', 'erase', 'alice', '--config', configPath)).code).toBe(0);
    const r = await runCli('keys', 'rotate', 'US', '--destroy-old', '--json', '--config', configPath);
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out) as { kekVersion: number; rewrapped: number; destroyed: number[] };
    expect(report).toMatchObject({ kekVersion: 2, rewrapped: 1, destroyed: [1] });
    expect(readdirSync(join(dir, 'data', 'keys')).filter((f) => f.startsWith('kek-US.'))).toEqual([
      'kek-US.v2.key',
    ]);

    const custos = await createCustos(config);
    try {
      expect((await custos.records.get('bob', 'profiles', 'p1')).fields.email).toBe('bob@example.com');
      expect((await custos.records.get('carol', 'profiles', 'p1')).fields.email).toBe('carol@example.sg');
      expect(await codeOf(custos.records.get('alice', 'profiles', 'p1'))).toBe('SUBJECT_ERASED');
      // New subjects are wrapped under the new version.
      await custos.subjects.register('dave', 'US');
      expect((await custos.subjectStore.keys('dave'))[0]?.kekVersion).toBe(2);
      expect((await custos.subjectStore.keys('carol'))[0]?.kekVersion).toBe(1);
    } finally {
      await custos.close();
    }
    expect(await readWithRestoredCustody(config, join(dir, 'custody-backup.db'))).toBe('KEY_UNAVAILABLE');
  });

  it('records erasure and rotation in the ledger, with a pseudonym and never the subject id', async () => {
    expect((await runCli('subject', 'erase', 'alice', '--config', configPath)).code).toBe(0);
    expect((await runCli('keys', 'rotate', 'US', '--config', configPath)).code).toBe(0);
    const custos = await createCustos(config);
    try {
      const entries = [];
      for await (const e of readEntries(custos.ledger, 0, custos.ledger.size)) entries.push(e.entry);
      const keyEntries = entries.filter((e) => e.type === 'key');
      expect(keyEntries.map((e) => e.action)).toEqual(['erase-subject', 'rotate-kek']);
      expect(keyEntries[0]?.resource.subjectRef).toBe(custos.ledger.subjectRef('alice'));
      expect(JSON.stringify(entries)).not.toContain('alice');
    } finally {
      await custos.close();
    }
  });

  it('keys status shows versions and pending rewraps; destroying the newest version is refused', async () => {
    const custos = await createCustos(config);
    try {
      expect(await codeOf(custos.keyProvider.destroy('US', 1))).toBe('KEY_DESTROY_REFUSED');
      await custos.keyProvider.rotate('US'); // a rotation interrupted before any rewrap
    } finally {
      await custos.close();
    }
    let r = await runCli('keys', 'status', '--json', '--config', configPath);
    expect(JSON.parse(r.out)).toContainEqual({ jurisdiction: 'US', versions: [1, 2], rewrapPending: true });
    expect((await runCli('keys', 'rotate', 'US', '--destroy-old', '--config', configPath)).code).toBe(0);
    r = await runCli('keys', 'status', '--json', '--config', configPath);
    expect(JSON.parse(r.out)).toContainEqual({ jurisdiction: 'US', versions: [3], rewrapPending: false });
    expect(existsSync(join(dir, 'data', 'keys', 'kek-US.v1.key'))).toBe(false);
    r = await runCli('keys', 'rotate', 'XX', '--config', configPath);
    expect(r.code).toBe(1);
    expect(r.err).toContain('JURISDICTION_UNKNOWN');
  });

  it('a key wrapped under the old version before a rotation, stored after it, is refused and wrapped again', async () => {
    const custos = await createCustos(config);
    try {
      // A slow writer (another process, say): it wraps dave's first key under v1, then stalls
      // until the rotation with --destroy-old has destroyed v1.
      let release: () => void = () => {};
      const stalled = new Promise<void>((r) => {
        release = r;
      });
      const wrappedUnder: number[] = [];
      const provider = custos.keyProvider;
      const slow: KeyProvider = {
        wrap: async (kekId, dataKey, aad) => {
          const wrapped = await provider.wrap(kekId, dataKey, aad);
          wrappedUnder.push(wrapped.kekVersion);
          if (wrappedUnder.length === 1) await stalled;
          return wrapped;
        },
        unwrap: (kekId, wrapped, aad) => provider.unwrap(kekId, wrapped, aad),
        versions: (kekId) => provider.versions(kekId),
        rotate: (kekId) => provider.rotate(kekId),
        destroy: (kekId, version) => provider.destroy(kekId, version),
        close: async () => {},
      };
      const writer = new SubjectKeys(custos.subjectStore, slow, new TestClock());
      const registering = writer.register('dave', 'US');
      while (wrappedUnder.length === 0) await new Promise((r) => setTimeout(r, 5));
      const report = await custos.subjects.rotateKek('US', { destroyOld: true });
      expect(report.destroyed).toEqual([1]);
      release();
      expect(await registering).toBe(true);
      // Refused under v1, wrapped again under v2: dave's key is readable, nothing was lost.
      expect(wrappedUnder).toEqual([1, 2]);
      expect((await custos.subjectStore.keys('dave')).map((k) => k.kekVersion)).toEqual([2]);
      await custos.records.put('dave', 'profiles', 'p1', { email: 'dave@example.com' });
      expect((await custos.records.get('dave', 'profiles', 'p1')).fields).toEqual({
        email: 'dave@example.com',
      });
    } finally {
      await custos.close();
    }
  });
});
