import { nodeCrypto } from './node-crypto.js';
import { sha256PureInto } from './sha256-pure.js';

type Hasher = (data: Uint8Array, out: Uint8Array, outOffset: number) => void;

function pickHasher(): Hasher {
  const c = nodeCrypto;
  if (c?.hash !== undefined) {
    // One-shot crypto.hash is the fastest node:crypto path for small inputs (STACK.md baselines).
    const hash = c.hash;
    return (data, out, off) => out.set(hash('sha256', data, 'buffer'), off);
  }
  if (c !== undefined) {
    return (data, out, off) => out.set(c.createHash('sha256').update(data).digest(), off);
  }
  return sha256PureInto;
}

const hasher: Hasher = pickHasher();

/** Which SHA-256 implementation is in use: node:crypto or the pure TypeScript fallback. */
export const SHA256_IMPLEMENTATION: 'node:crypto' | 'pure' =
  nodeCrypto === undefined ? 'pure' : 'node:crypto';

/** Computes SHA-256 of `data` and writes the digest into `out` at `outOffset` (no allocation of the result). */
export function sha256Into(data: Uint8Array, out: Uint8Array, outOffset: number): void {
  hasher(data, out, outOffset);
}

/** Computes SHA-256 of `data` (synchronous, in Node and browsers). */
export function sha256(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  hasher(data, out, 0);
  return out;
}
