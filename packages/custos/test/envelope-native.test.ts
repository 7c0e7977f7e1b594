import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCustosError } from '../src/domain/errors.js';
import {
  ENVELOPE_OPEN_IMPLEMENTATION,
  openRecord,
  openRecordPortable,
  type RecordBinding,
  sealRecord,
} from '../src/services/envelope.js';
import { nativeStampProblem } from '../src/services/native-addon.js';

type Open = (key: Uint8Array, binding: RecordBinding, sealed: Uint8Array) => Buffer;

/** The outcome of opening: the plaintext as hex, or the error code. */
function outcome(open: Open, key: Uint8Array, b: RecordBinding, sealed: Uint8Array): string {
  try {
    return `ok:${open(key, b, sealed).toString('hex')}`;
  } catch (err) {
    return isCustosError(err) ? `err:${err.code}` : `threw:${String(err)}`;
  }
}

const binding = fc.record({
  id: fc.string({ maxLength: 40 }),
  subject: fc.string({ maxLength: 40 }),
  collection: fc.string({ maxLength: 20 }),
  keyVersion: fc.integer({ min: 1, max: 1000 }),
});

describe('native envelope open', () => {
  it('is built and used in CI (set CUSTOS_NATIVE_ENVELOPE=0 to use node:crypto)', () => {
    if (process.env.CI === 'true' && process.env.CUSTOS_NATIVE_ENVELOPE !== '0') {
      expect(ENVELOPE_OPEN_IMPLEMENTATION).toBe('native');
    }
    expect(['native', 'node']).toContain(ENVELOPE_OPEN_IMPLEMENTATION);
  });

  it('gives exactly the answers of node:crypto: opens, and refuses every tampering alike', () => {
    fc.assert(
      fc.property(
        binding,
        fc.uint8Array({ maxLength: 2000 }),
        fc.nat(),
        fc.integer({ min: 0, max: 6 }),
        (b, plain, where, how) => {
          const key = randomBytes(32);
          const sealed = sealRecord(key, b, plain);
          expect(outcome(openRecord, key, b, sealed)).toBe(`ok:${Buffer.from(plain).toString('hex')}`);
          // One tampering of seven kinds; both implementations must agree on each.
          let k: Uint8Array = key;
          let bb: RecordBinding = b;
          let s: Uint8Array = Buffer.from(sealed);
          if (how === 0) (s as Buffer)[where % s.length] = ((s[where % s.length] as number) ^ 1) & 0xff;
          if (how === 1) s = s.subarray(0, where % s.length);
          if (how === 2) k = randomBytes(32);
          if (how === 3) bb = { ...b, id: `${b.id}x` };
          if (how === 4) bb = { ...b, keyVersion: b.keyVersion + 1 };
          if (how === 5) k = key.subarray(0, 16);
          if (how === 6) s = Buffer.concat([s, Buffer.from([0])]);
          const want = outcome(openRecordPortable, k, bb, s);
          expect(want).toBe('err:DECRYPT_FAILED');
          expect(outcome(openRecord, k, bb, s)).toBe(want);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('refuses a build from another source or for another Node, OpenSSL or platform', () => {
    const good = {
      source: 'a'.repeat(64),
      modules: process.versions.modules,
      openssl: process.versions.openssl,
      platform: `${process.platform}-${process.arch}`,
    };
    expect(nativeStampProblem(good, 'a'.repeat(64))).toBeUndefined();
    expect(nativeStampProblem(good, 'b'.repeat(64))).toContain('another envelope.c');
    expect(nativeStampProblem({ ...good, modules: '1' }, 'a'.repeat(64))).toContain('Node ABI');
    expect(nativeStampProblem({ ...good, openssl: '1.1.1' }, 'a'.repeat(64))).toContain('OpenSSL');
    expect(nativeStampProblem({ ...good, platform: 'plan9-mips' }, 'a'.repeat(64))).toContain('platform');
    expect(nativeStampProblem({}, 'a'.repeat(64))).toBeDefined();
  });

  it('opens a record held in shared memory like any other', () => {
    const key = randomBytes(32);
    const b = { id: 'r', subject: 's', collection: 'c', keyVersion: 1 };
    const sealed = sealRecord(key, b, Buffer.from('shared'));
    const shared = new Uint8Array(new SharedArrayBuffer(sealed.length));
    shared.set(sealed);
    expect(openRecord(key, b, shared).toString()).toBe('shared');
  });

  it('the addon itself refuses arguments that are not byte arrays, and never opens on a bad tag', () => {
    if (ENVELOPE_OPEN_IMPLEMENTATION !== 'native') return;
    const native = createRequire(import.meta.url)('../native/build/custos_envelope.node') as {
      open(...args: unknown[]): Buffer | undefined;
    };
    const key = randomBytes(32);
    const b = { id: 'r', subject: 's', collection: 'c', keyVersion: 1 };
    const sealed = sealRecord(key, b, Buffer.from('secret'));
    expect(() => native.open(key, sealed)).toThrow(TypeError);
    expect(() => native.open('k', sealed, new Uint8Array(0))).toThrow(TypeError);
    expect(() => native.open(key, new Uint16Array(20), new Uint8Array(0))).toThrow(TypeError);
    const bad = Buffer.from(sealed);
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 0x80;
    expect(native.open(key, bad, Buffer.from(JSON.stringify(['custos-record-v1', 'r', 's', 'c', 1])))).toBe(
      undefined,
    );
  });
});
