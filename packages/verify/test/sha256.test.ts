import { createHash } from 'node:crypto';
import { hashChildren, hashChildrenAt, SHA256_IMPLEMENTATION, sha256, sha256Pure } from '@custos/verify';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashNodePureAt } from '../src/crypto/sha256-pure.js';

const nodeSha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('SHA-256', () => {
  it('uses node:crypto in Node', () => {
    expect(SHA256_IMPLEMENTATION).toBe('node:crypto');
  });

  it('matches the FIPS 180-4 examples', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(hex(sha256Pure(enc('abc')))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(hex(sha256Pure(enc('')))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hex(sha256Pure(enc('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')))).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
  });

  it('pure TypeScript matches node:crypto at every length around the block boundaries', () => {
    for (let len = 0; len <= 300; len++) {
      const data = new Uint8Array(len).map((_, i) => (i * 31 + len) & 255);
      expect(hex(sha256Pure(data))).toBe(nodeSha(data));
      expect(hex(sha256(data))).toBe(nodeSha(data));
    }
  });

  it('pure TypeScript matches node:crypto on random inputs', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), (data) => {
        expect(hex(sha256Pure(data))).toBe(nodeSha(data));
      }),
      { numRuns: 300 },
    );
  });

  it('the interior node fast path matches SHA-256(0x01 ‖ l ‖ r), also in place', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), (lr) => {
        const want = nodeSha(new Uint8Array([1, ...lr]));
        expect(hex(hashChildren(lr.subarray(0, 32), lr.subarray(32)))).toBe(want);
        const buf = lr.slice();
        hashNodePureAt(buf, 0, 32, buf, 0);
        expect(hex(buf.subarray(0, 32))).toBe(want);
        const out = new Uint8Array(40);
        hashChildrenAt(lr, 32, 0, out, 8);
        expect(hex(out.subarray(8))).toBe(
          nodeSha(new Uint8Array([1, ...lr.subarray(32), ...lr.subarray(0, 32)])),
        );
      }),
      { numRuns: 300 },
    );
  });
});
