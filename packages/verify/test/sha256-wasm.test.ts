import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { encodeEntryBundle, hashLeaf, rootFromLeafHashes } from '@custos/verify';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { compileSha256x4, sha256x4Source } from '../../../scripts/build-wasm.js';
import { BundleChecker } from '../src/audit/bundle-checker.js';
import { wasmSha256 } from '../src/crypto/sha256-wasm.js';
import { entryBundleOffsets } from '../src/tiles/entry-bundle.js';
import { subtreeRootOfHashes } from '../src/tiles/hash-tile.js';

const nodeSha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (n: number, seed: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 131 + seed * 17 + (i >> 3)) & 255);

describe('four-lane SHA-256 in WebAssembly SIMD', () => {
  it('is the module its generator compiles to', async () => {
    const committed = readFileSync(new URL('../src/crypto/sha256x4-wasm.ts', import.meta.url), 'utf8');
    expect(committed).toBe(sha256x4Source(await compileSha256x4()));
  });

  it('loads in Node', () => {
    expect(wasmSha256()).toBeDefined();
  });

  it('matches node:crypto at every length up to 300 and around each padding boundary, in every batch shape', () => {
    const w = wasmSha256();
    if (w === undefined) throw new Error('no wasm');
    const lengths = [
      ...Array.from({ length: 301 }, (_, i) => i),
      447,
      448,
      511,
      512,
      513,
      1000,
      4095,
      4096,
      70_000,
    ];
    // Batches of 1 to 9 messages: groups of four with one, two, three or four lanes in use.
    let at = 0;
    for (let size = 1; at < lengths.length; size = (size % 9) + 1) {
      const batch = lengths.slice(at, at + size).map((n, i) => bytes(n, at + i));
      at += size;
      const got = w.digests(batch);
      for (const [i, m] of batch.entries())
        expect(hex(got[i] as Uint8Array), `length ${m.length}`).toBe(nodeSha(m));
    }
  });

  it('matches node:crypto on random batches of random messages (property)', () => {
    const w = wasmSha256();
    if (w === undefined) throw new Error('no wasm');
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 700 }), { minLength: 1, maxLength: 13 }),
        (messages) => {
          const got = w.digests(messages);
          return messages.every((m, i) => hex(got[i] as Uint8Array) === nodeSha(m));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('hashes the leaves of an entry bundle in place, including a 65,535-byte entry (memory grows)', () => {
    const w = wasmSha256();
    if (w === undefined) throw new Error('no wasm');
    const entries = [0, 1, 55, 63, 64, 300, 65_535, 2, 1000].map((n, i) => bytes(n, i));
    const bundle = encodeEntryBundle(entries);
    const offsets = new Int32Array(2 * 256);
    const count = entryBundleOffsets(bundle, offsets);
    const out = new Uint8Array(32 * count);
    const before = hex(bundle);
    w.leafHashes(bundle, offsets, count, out);
    expect(hex(bundle)).toBe(before);
    for (const [i, e] of entries.entries())
      expect(hex(out.subarray(32 * i, 32 * i + 32))).toBe(hex(hashLeaf(e)));
  });

  it('refuses arguments outside its input', () => {
    const w = wasmSha256();
    if (w === undefined) throw new Error('no wasm');
    const flat = new Uint8Array(32 * 8);
    expect(() => w.subtreeRoot(flat, 0, 6)).toThrow(RangeError);
    expect(() => w.subtreeRoot(flat, 4, 8)).toThrow(RangeError);
    expect(() => w.subtreeRoot(flat, -1, 2)).toThrow(RangeError);
    const offsets = new Int32Array([2, 5, 7, 9]);
    const bundle = new Uint8Array(9);
    expect(() => w.leafHashes(bundle, offsets, 3, new Uint8Array(96))).toThrow(RangeError);
    expect(() => w.leafHashes(bundle, offsets, -1, new Uint8Array(96))).toThrow(RangeError);
    expect(() => w.leafHashes(bundle, offsets, 2, new Uint8Array(32))).toThrow(RangeError);
    expect(() => w.leafHashes(bundle, new Int32Array([2, 12]), 1, new Uint8Array(32))).toThrow(RangeError);
    expect(() => w.leafHashes(bundle, new Int32Array([0, 3]), 1, new Uint8Array(32))).toThrow(RangeError);
  });

  it('computes subtree roots of every power-of-two width from any start, as one node at a time does', () => {
    const w = wasmSha256();
    if (w === undefined) throw new Error('no wasm');
    const leaves = Array.from({ length: 300 }, (_, i) => hashLeaf(bytes(i % 50, i)));
    const flat = new Uint8Array(32 * leaves.length);
    for (const [i, h] of leaves.entries()) flat.set(h, 32 * i);
    for (const count of [1, 2, 4, 8, 16, 32, 64, 128, 256]) {
      for (const start of [0, 1, 7, 300 - count]) {
        const want = hex(rootFromLeafHashes(leaves.slice(start, start + count)));
        expect(hex(w.subtreeRoot(flat, start, count))).toBe(want);
        expect(hex(subtreeRootOfHashes(flat, start, count))).toBe(want);
      }
    }
  });
});

describe('without WebAssembly', () => {
  it('falls back to hashing one input at a time, with the same results', async () => {
    vi.resetModules();
    vi.stubGlobal('WebAssembly', undefined);
    try {
      const wasm = await import('../src/crypto/sha256-wasm.js');
      expect(wasm.wasmSha256()).toBeUndefined();
      const checker = new (await import('../src/audit/bundle-checker.js')).BundleChecker();
      const entries = Array.from({ length: 20 }, (_, i) => bytes(100 + i, i));
      const r = checker.check(encodeEntryBundle(entries), 20, undefined, () => undefined);
      expect(r.used).toBe(20);
      for (const [i, e] of entries.entries())
        expect(hex(checker.leafHashes.subarray(32 * i, 32 * i + 32))).toBe(hex(hashLeaf(e)));
      // Subtree roots, one node at a time.
      const tiles = await import('../src/tiles/hash-tile.js');
      const leaves = Array.from({ length: 256 }, (_, i) => hashLeaf(bytes(i % 40, i)));
      const flat = new Uint8Array(32 * 256);
      for (const [i, h] of leaves.entries()) flat.set(h, 32 * i);
      expect(hex(tiles.subtreeRootOfHashes(flat, 0, 256))).toBe(hex(rootFromLeafHashes(leaves)));
      expect(hex(tiles.subtreeRootOfHashes(flat, 64, 16))).toBe(
        hex(rootFromLeafHashes(leaves.slice(64, 80))),
      );
    } finally {
      vi.unstubAllGlobals();
      vi.resetModules();
    }
  });

  it('the checker with WebAssembly gives the same leaf hashes', () => {
    const checker = new BundleChecker();
    const entries = Array.from({ length: 20 }, (_, i) => bytes(100 + i, i));
    checker.check(encodeEntryBundle(entries), 20, undefined, () => undefined);
    for (const [i, e] of entries.entries())
      expect(hex(checker.leafHashes.subarray(32 * i, 32 * i + 32))).toBe(hex(hashLeaf(e)));
  });
});
