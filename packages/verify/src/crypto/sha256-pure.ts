/**
 * Pure TypeScript SHA-256 (FIPS 180-4 §6.2), the fallback where node:crypto is not available
 * (browsers). Synchronous, so Merkle hashing stays synchronous everywhere.
 */

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);
const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

// Scratch state reused across calls: hashing is synchronous, so there is no re-entrancy.
const W = new Int32Array(64);
const H = new Int32Array(8);
const TAIL = new Uint8Array(128);

function rotr(x: number, n: number): number {
  return (x >>> n) | (x << (32 - n));
}

function compress(block: Uint8Array, off: number): void {
  const w = W;
  for (let i = 0; i < 16; i++) {
    const j = off + i * 4;
    w[i] =
      ((block[j] as number) << 24) |
      ((block[j + 1] as number) << 16) |
      ((block[j + 2] as number) << 8) |
      (block[j + 3] as number);
  }
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15] as number;
    const y = w[i - 2] as number;
    const s0 = rotr(x, 7) ^ rotr(x, 18) ^ (x >>> 3);
    const s1 = rotr(y, 17) ^ rotr(y, 19) ^ (y >>> 10);
    w[i] = ((w[i - 16] as number) + s0 + (w[i - 7] as number) + s1) | 0;
  }
  let a = H[0] as number;
  let b = H[1] as number;
  let c = H[2] as number;
  let d = H[3] as number;
  let e = H[4] as number;
  let f = H[5] as number;
  let g = H[6] as number;
  let h = H[7] as number;
  for (let i = 0; i < 64; i++) {
    const S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
    const ch = (e & f) ^ (~e & g);
    const t1 = (h + S1 + ch + (K[i] as number) + (w[i] as number)) | 0;
    const S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = (S0 + maj) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  H[0] = ((H[0] as number) + a) | 0;
  H[1] = ((H[1] as number) + b) | 0;
  H[2] = ((H[2] as number) + c) | 0;
  H[3] = ((H[3] as number) + d) | 0;
  H[4] = ((H[4] as number) + e) | 0;
  H[5] = ((H[5] as number) + f) | 0;
  H[6] = ((H[6] as number) + g) | 0;
  H[7] = ((H[7] as number) + h) | 0;
}

/** Computes SHA-256 of `data` in pure TypeScript and writes the 32-byte digest to `out` at `outOffset`. */
export function sha256PureInto(data: Uint8Array, out: Uint8Array, outOffset: number): void {
  H.set(IV);
  const len = data.length;
  const fullBlocks = Math.floor(len / 64);
  for (let b = 0; b < fullBlocks; b++) compress(data, b * 64);
  const rem = len - fullBlocks * 64;
  TAIL.fill(0);
  TAIL.set(data.subarray(fullBlocks * 64), 0);
  TAIL[rem] = 0x80;
  const tailLen = rem < 56 ? 64 : 128;
  // Message length in bits as a 64-bit big-endian integer (FIPS 180-4 §5.1.1).
  const bits = len * 8;
  const hi = Math.floor(bits / 0x100000000);
  const lo = bits >>> 0;
  TAIL[tailLen - 8] = hi >>> 24;
  TAIL[tailLen - 7] = (hi >>> 16) & 255;
  TAIL[tailLen - 6] = (hi >>> 8) & 255;
  TAIL[tailLen - 5] = hi & 255;
  TAIL[tailLen - 4] = lo >>> 24;
  TAIL[tailLen - 3] = (lo >>> 16) & 255;
  TAIL[tailLen - 2] = (lo >>> 8) & 255;
  TAIL[tailLen - 1] = lo & 255;
  compress(TAIL, 0);
  if (tailLen === 128) compress(TAIL, 64);
  for (let i = 0; i < 8; i++) {
    const v = H[i] as number;
    const j = outOffset + i * 4;
    out[j] = v >>> 24;
    out[j + 1] = (v >>> 16) & 255;
    out[j + 2] = (v >>> 8) & 255;
    out[j + 3] = v & 255;
  }
}

/** Computes SHA-256 of `data` in pure TypeScript. */
export function sha256Pure(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  sha256PureInto(data, out, 0);
  return out;
}
