import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';

// Pretend to be a browser: no node:crypto, so hashing falls back to pure TypeScript and Ed25519
// to WebCrypto (which Node also implements, so the browser code path runs here).
vi.mock('../src/crypto/node-crypto.js', () => ({ nodeCrypto: undefined }));

const verify = await import('@custos/verify');

describe('browser code paths (node:crypto unavailable)', () => {
  it('hashes with the pure TypeScript SHA-256', () => {
    expect(verify.SHA256_IMPLEMENTATION).toBe('pure');
    const data = new TextEncoder().encode('x'.repeat(1000));
    expect(Buffer.from(verify.sha256(data)).toString('hex')).toBe(
      createHash('sha256').update(data).digest('hex'),
    );
  });

  it('signs and verifies notes with WebCrypto Ed25519, matching the Go reference note', async () => {
    const skey = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
    const vkey = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
    const text =
      "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const note = await verify.signNote(text, [await verify.createNoteSigner(skey)]);
    expect(note).toContain(
      '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=',
    );
    await expect(verify.verifyNote(note, [verify.parseVerifierKey(vkey)])).resolves.toBeDefined();
    const bad = note.replace('cryptography', 'Cryptography');
    await expect(verify.verifyNote(bad, [verify.parseVerifierKey(vkey)])).rejects.toMatchObject({
      code: 'SIGNATURE_INVALID',
    });
  });

  it('audits an in-memory log end to end', async () => {
    const key = await verify.generateNoteKey('browser.example/log');
    const entries = Array.from({ length: 300 }, (_, i) =>
      verify.encodeEntry({
        v: 1,
        type: 'system',
        time: '2026-11-29T22:00:00.000Z',
        principal: { id: `p${i}`, org: 'custos', orgKind: 'system' },
        action: 'tick',
        resource: {},
        decision: 'none',
        reasons: [],
      }),
    );
    const files = verify.buildTiles(entries);
    const range = new verify.CompactRange();
    for (const e of entries) range.appendLeafHash(verify.hashLeaf(e));
    const cp = { origin: 'browser.example/log', size: 300, root: range.root(), extensions: [] };
    files.set(
      'checkpoint',
      new TextEncoder().encode(await verify.signCheckpoint(cp, await verify.createNoteSigner(key.signerKey))),
    );
    const report = await verify.auditLedger(new verify.MemoryTileSource(files), {
      verifiers: [verify.parseVerifierKey(key.verifierKey)],
    });
    expect(report.failures).toEqual([]);
  });
});

describe('layering', () => {
  it('keeps node: imports, Buffer and process out of the library core (only the CLI and node/ may use them)', () => {
    const src = fileURLToPath(new URL('../src/', import.meta.url));
    const walk = (dir: string): string[] =>
      readdirSync(dir).flatMap((f) => {
        const p = join(dir, f);
        return statSync(p).isDirectory() ? walk(p) : [p];
      });
    // cli/ and node/ (worker threads, the `@custos/verify/node` entry) are Node-only by design.
    const core = walk(src).filter((p) => !/^(cli|node)([/.]|$)/.test(relative(src, p)));
    expect(core.length).toBeGreaterThan(30);
    for (const file of core) {
      const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      expect(code, relative(src, file)).not.toMatch(/from ['"]node:|\bBuffer\b|\bprocess\.|require\(/);
    }
  });
});
