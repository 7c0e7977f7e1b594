import { createDecipheriv } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Custos } from '../src/composition-root.js';
import { createCustos } from '../src/composition-root.js';
import { CustosError } from '../src/domain/errors.js';
import { openRecord, recordAad, sealRecord } from '../src/services/envelope.js';
import { SUBJECT_KEY_CACHE_MS } from '../src/services/subject-keys.js';
import { codeOf, demoCustos, type TestClock } from './helpers.js';

describe('envelope encryption and tamper detection', () => {
  let custos: Custos;
  let dir: string;
  let cleanup: () => Promise<void>;
  let storePath: string;

  beforeEach(async () => {
    ({ custos, dir, cleanup } = await demoCustos());
    await custos.subjects.register('alice', 'US');
    await custos.subjects.register('bob', 'US');
    await custos.records.put('alice', 'profiles', 'p1', { email: 'alice@example.com', bio: 'hello' });
    await custos.records.put('bob', 'profiles', 'p1', { email: 'bob@example.com' });
    storePath = custos.config.stores.find((s) => s.id === 'us-main')?.path ?? '';
  });
  afterEach(async () => {
    await cleanup();
  });

  /** Applies raw SQL to the store file behind Custos's back. */
  async function tamper(sql: string, ...params: unknown[]): Promise<void> {
    const db = new Database(storePath);
    db.prepare(sql).run(...params);
    db.close();
    // Another process's write is visible from the next event-loop turn (see SqliteRecordStore).
    await new Promise((r) => setImmediate(r));
  }

  it('round-trips a record and keeps no plaintext in the store file', async () => {
    const got = await custos.records.get('alice', 'profiles', 'p1');
    expect(got.fields).toEqual({ email: 'alice@example.com', bio: 'hello' });
    expect(got.site).toBe('us-trusted-cloud');
    const db = new Database(storePath, { readonly: true });
    const rows = db.prepare('SELECT sealed FROM records').all() as { sealed: Buffer }[];
    db.close();
    for (const r of rows) expect(r.sealed.includes(Buffer.from('alice@example.com'))).toBe(false);
  });

  it('creates key files with mode 0600 in a 0700 directory', () => {
    const keyDir = custos.config.keys.dir;
    expect(statSync(keyDir).mode & 0o777).toBe(0o700);
    const files = readdirSync(keyDir).filter((f) => f.startsWith('kek-'));
    expect(files).toContain('kek-US.v1.key');
    for (const f of files) expect(statSync(join(keyDir, f)).mode & 0o777).toBe(0o600);
  });

  it('detects a flip of any single byte of the stored ciphertext, with one opaque code', async () => {
    const db = new Database(storePath);
    const row = db.prepare("SELECT sealed FROM records WHERE subject = 'alice'").get() as { sealed: Buffer };
    db.close();
    for (let i = 0; i < row.sealed.length; i++) {
      const flipped = Buffer.from(row.sealed);
      flipped[i] = (flipped[i] ?? 0) ^ (1 << (i % 8));
      await tamper("UPDATE records SET sealed = ? WHERE subject = 'alice'", flipped);
      expect(await codeOf(custos.records.get('alice', 'profiles', 'p1'))).toBe('DECRYPT_FAILED');
    }
    await tamper("UPDATE records SET sealed = ? WHERE subject = 'alice'", row.sealed);
    expect((await custos.records.get('alice', 'profiles', 'p1')).fields.email).toBe('alice@example.com');
  });

  it('detects a truncated ciphertext', async () => {
    await tamper("UPDATE records SET sealed = substr(sealed, 1, 20) WHERE subject = 'alice'");
    expect(await codeOf(custos.records.get('alice', 'profiles', 'p1'))).toBe('DECRYPT_FAILED');
  });

  it('detects a changed record id', async () => {
    await tamper("UPDATE records SET id = 'p2' WHERE subject = 'alice'");
    expect(await codeOf(custos.records.get('alice', 'profiles', 'p2'))).toBe('DECRYPT_FAILED');
  });

  it('detects a ciphertext moved to another subject', async () => {
    await tamper("DELETE FROM records WHERE subject = 'bob'");
    await tamper("UPDATE records SET subject = 'bob' WHERE subject = 'alice'");
    expect(await codeOf(custos.records.get('bob', 'profiles', 'p1'))).toBe('DECRYPT_FAILED');
  });

  it('detects a changed collection', async () => {
    await custos.subjects.register('carol', 'US');
    await custos.records.put('carol', 'messages', 'm1', { body: 'x' });
    await tamper("UPDATE records SET collection = 'watch_history' WHERE subject = 'carol'");
    expect(await codeOf(custos.records.get('carol', 'watch_history', 'm1'))).toBe('DECRYPT_FAILED');
  });

  it('detects a changed key version, known or not', async () => {
    await tamper("UPDATE records SET key_version = 2 WHERE subject = 'alice'");
    expect(await codeOf(custos.records.get('alice', 'profiles', 'p1'))).toBe('DECRYPT_FAILED');
    await tamper("UPDATE records SET key_version = 0 WHERE subject = 'alice'");
    expect(await codeOf(custos.records.get('alice', 'profiles', 'p1'))).toBe('DECRYPT_FAILED');
  });

  it('crypto-shreds on erase: reads give SUBJECT_ERASED and copied ciphertext stays unreadable', async () => {
    const backup = join(dir, 'backup.db');
    const live = new Database(storePath);
    live.prepare('VACUUM INTO ?').run(backup);
    live.close();
    expect(await custos.subjects.erase('alice')).toBe(true);
    expect(await codeOf(custos.records.get('alice', 'profiles', 'p1'))).toBe('SUBJECT_ERASED');
    expect(await custos.subjectStore.keys('alice')).toEqual([]);
    // The erased subject's key is gone from the key database: a fresh process cannot load it.
    expect(await codeOf(custos.subjects.currentKey('alice'))).toBe('SUBJECT_ERASED');
    // Try every data key that remains against the copied ciphertext: none opens it.
    const db = new Database(backup, { readonly: true });
    const row = db.prepare("SELECT * FROM records WHERE subject = 'alice'").get() as {
      sealed: Buffer;
      key_version: number;
    };
    db.close();
    const remaining = [await custos.subjects.keyVersion('bob', 1)];
    for (const key of remaining) {
      expect(() =>
        openRecord(
          key,
          { id: 'p1', subject: 'alice', collection: 'profiles', keyVersion: row.key_version },
          row.sealed,
        ),
      ).toThrow(CustosError);
    }
    // Bob is untouched.
    expect((await custos.records.get('bob', 'profiles', 'p1')).fields.email).toBe('bob@example.com');
  });

  it('rejects unknown fields and non-scalar values without writing', async () => {
    expect(await codeOf(custos.records.put('bob', 'profiles', 'p9', { shoe_size: 9 }))).toBe(
      'VALIDATION_FAILED',
    );
    expect(
      await codeOf(
        custos.records.put('bob', 'profiles', 'p9', { email: { nested: 1 } as unknown as string }),
      ),
    ).toBe('VALIDATION_FAILED');
    expect(await codeOf(custos.records.get('bob', 'profiles', 'p9'))).toBe('RECORD_NOT_FOUND');
  });

  it('answers SUBJECT_UNKNOWN for a subject nobody registered', async () => {
    expect(await codeOf(custos.records.put('nobody', 'profiles', 'p', { email: 'x' }))).toBe(
      'SUBJECT_UNKNOWN',
    );
  });
});

describe('erasure seen by another process', () => {
  it('a second Custos on the same data stops serving an erased subject within the key-cache bound', async () => {
    const { custos, cleanup } = await demoCustos();
    try {
      await custos.subjects.register('dora', 'US');
      await custos.records.put('dora', 'profiles', 'p1', { email: 'dora@example.com' });
      const clock = custos.clock as TestClock;
      const other = await createCustos(custos.config, { clock });
      try {
        expect((await other.records.get('dora', 'profiles', 'p1')).fields.email).toBe('dora@example.com');
        await custos.subjects.erase('dora');
        clock.advance(SUBJECT_KEY_CACHE_MS + 1);
        expect(await codeOf(other.records.get('dora', 'profiles', 'p1'))).toBe('SUBJECT_ERASED');
      } finally {
        await other.close();
      }
    } finally {
      await cleanup();
    }
  });
});

describe('record AAD', () => {
  it('is the JSON array of the binding for any ids, on the fast path and off it', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 400 }),
      fc.stringMatching(/^[A-Za-z0-9_.:@+-]{0,400}$/),
      fc.string({ unit: 'grapheme', maxLength: 200 }),
    );
    const key = new Uint8Array(32).fill(7);
    fc.assert(
      fc.property(
        text,
        text,
        text,
        fc.integer({ min: 0, max: 2 ** 31 }),
        (id, subject, collection, keyVersion) => {
          const b = { id, subject, collection, keyVersion };
          const want = JSON.stringify(['custos-record-v1', id, subject, collection, keyVersion]);
          expect(recordAad(b).toString('utf8')).toBe(want);
          // What sealing bound is exactly that JSON: open it with a decipher given the JSON itself.
          const sealed = sealRecord(key, b, Buffer.from('payload'));
          const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
          d.setAAD(Buffer.from(want));
          d.setAuthTag(sealed.subarray(sealed.length - 16));
          expect(
            Buffer.concat([d.update(sealed.subarray(12, sealed.length - 16)), d.final()]).toString(),
          ).toBe('payload');
          // The scratch buffer is reused: sealing something else in between changes nothing.
          sealRecord(key, { id: 'x', subject: 'y', collection: 'z', keyVersion: 1 }, Buffer.from('q'));
          expect(openRecord(key, b, sealed).toString()).toBe('payload');
        },
      ),
      { numRuns: 500 },
    );
  });
});
