import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { CustosError } from '../../domain/errors.js';
import type { KeyProvider, WrappedKey } from '../../ports/key-provider.js';

const KEY_FILE = /^kek-([A-Za-z0-9_.-]+)\.v(\d+)\.key$/;

/**
 * The embedded `KeyProvider`: KEKs are 32-byte random files (mode 0600) in a directory (mode 0700),
 * one file per jurisdiction and version, created on first use. Wrapping is AES-256-GCM.
 */
export class FileKeyProvider implements KeyProvider {
  private readonly dir: string;
  private readonly cache = new Map<string, Buffer>();

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  }

  private file(kekId: string, version: number): string {
    if (!/^[A-Za-z0-9_.-]+$/.test(kekId)) throw new CustosError('KEY_UNAVAILABLE', 'invalid key id');
    return join(this.dir, `kek-${kekId}.v${version}.key`);
  }

  async versions(kekId: string): Promise<number[]> {
    const out: number[] = [];
    for (const name of readdirSync(this.dir)) {
      const m = KEY_FILE.exec(name);
      if (m && m[1] === kekId) out.push(Number(m[2]));
    }
    return out.sort((a, b) => a - b);
  }

  /**
   * Destroys a KEK version: the file is overwritten with zeros, synced, then unlinked, and the
   * cached copy dropped. (On journaling or copy-on-write file systems the overwrite is best effort;
   * the unlink and the custody database no longer referring to the version are what count.)
   */
  async destroy(kekId: string, version: number): Promise<void> {
    const versions = await this.versions(kekId);
    if (!versions.includes(version)) return;
    if (version === versions.at(-1))
      throw new CustosError('KEY_DESTROY_REFUSED', `KEK ${kekId} v${version} is the newest version`);
    const path = this.file(kekId, version);
    const fd = openSync(path, 'r+');
    try {
      writeSync(fd, Buffer.alloc(32));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    unlinkSync(path);
    const cached = this.cache.get(`${kekId}.${version}`);
    cached?.fill(0);
    this.cache.delete(`${kekId}.${version}`);
  }

  /** Creates the next KEK version for `kekId` and returns it. */
  async rotate(kekId: string): Promise<number> {
    const next = ((await this.versions(kekId)).at(-1) ?? 0) + 1;
    this.load(kekId, next, true);
    return next;
  }

  private load(kekId: string, version: number, create: boolean): Buffer {
    const cacheKey = `${kekId}.${version}`;
    const cached = this.cache.get(cacheKey);
    if (cached) return cached;
    const path = this.file(kekId, version);
    let key: Buffer;
    try {
      key = readFileSync(path);
    } catch {
      if (!create)
        throw new CustosError('KEY_UNAVAILABLE', `key-encryption key ${kekId} v${version} is unavailable`);
      try {
        // `wx` makes creation race-free between processes: the loser reads the winner's key.
        writeFileSync(path, randomBytes(32), { flag: 'wx', mode: 0o600 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      key = readFileSync(path);
    }
    if (key.length !== 32)
      throw new CustosError('KEY_UNAVAILABLE', `key file for ${kekId} v${version} is corrupt`);
    this.cache.set(cacheKey, key);
    return key;
  }

  async wrap(kekId: string, dataKey: Uint8Array, aad: Uint8Array): Promise<WrappedKey> {
    const version = (await this.versions(kekId)).at(-1) ?? 1;
    const kek = this.load(kekId, version, true);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', kek, iv);
    cipher.setAAD(aad);
    const ct = Buffer.concat([cipher.update(dataKey), cipher.final()]);
    return { kekVersion: version, blob: Buffer.concat([iv, ct, cipher.getAuthTag()]) };
  }

  async unwrap(kekId: string, wrapped: WrappedKey, aad: Uint8Array): Promise<Uint8Array> {
    const kek = this.load(kekId, wrapped.kekVersion, false);
    try {
      const blob = Buffer.from(wrapped.blob);
      const decipher = createDecipheriv('aes-256-gcm', kek, blob.subarray(0, 12));
      decipher.setAAD(aad);
      decipher.setAuthTag(blob.subarray(blob.length - 16));
      return Buffer.concat([decipher.update(blob.subarray(12, blob.length - 16)), decipher.final()]);
    } catch {
      throw new CustosError('DECRYPT_FAILED', 'decryption failed');
    }
  }

  async close(): Promise<void> {
    this.cache.clear();
  }
}
