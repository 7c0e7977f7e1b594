/**
 * Pure TypeScript SHA-256 (FIPS 180-4 §6.2). The fallback where node:crypto is missing
 * (browsers), and the fast path for Merkle interior nodes everywhere: for a 65-byte input the
 * JIT-compiled code beats a call into node:crypto, whose per-call overhead dominates.
 */

/** The SHA-256 round constants K (FIPS 180-4 §4.2.2). */
export const SHA256_K: Int32Array = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);
/** The SHA-256 initial hash value H(0) (FIPS 180-4 §5.3.3). */
export const SHA256_IV: Int32Array = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

// Scratch state reused across calls: hashing is synchronous, so there is no re-entrancy.
const W = new Int32Array(64);
const S = new Int32Array(8);
const TAIL = new Uint8Array(128);

// One compression of the block already loaded into W[0..15] into the state S (FIPS 180-4 §6.2.2).
function compress(): void {
  const w = W;
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15] as number;
    const y = w[i - 2] as number;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[i] = ((w[i - 16] as number) + s0 + (w[i - 7] as number) + s1) | 0;
  }
  let a = S[0] as number;
  let b = S[1] as number;
  let c = S[2] as number;
  let d = S[3] as number;
  let e = S[4] as number;
  let f = S[5] as number;
  let g = S[6] as number;
  let h = S[7] as number;
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + (SHA256_K[i] as number) + (w[i] as number)) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  S[0] = (S[0] as number) + a;
  S[1] = (S[1] as number) + b;
  S[2] = (S[2] as number) + c;
  S[3] = (S[3] as number) + d;
  S[4] = (S[4] as number) + e;
  S[5] = (S[5] as number) + f;
  S[6] = (S[6] as number) + g;
  S[7] = (S[7] as number) + h;
}

function loadBlock(src: Uint8Array, off: number): void {
  for (let i = 0; i < 16; i++) {
    const j = off + 4 * i;
    W[i] =
      ((src[j] as number) << 24) |
      ((src[j + 1] as number) << 16) |
      ((src[j + 2] as number) << 8) |
      (src[j + 3] as number);
  }
}

function storeState(out: Uint8Array, o: number): void {
  for (let i = 0; i < 8; i++) {
    const v = S[i] as number;
    const j = o + 4 * i;
    out[j] = v >>> 24;
    out[j + 1] = (v >>> 16) & 255;
    out[j + 2] = (v >>> 8) & 255;
    out[j + 3] = v & 255;
  }
}

/** Computes SHA-256 of `data` in pure TypeScript and writes the 32-byte digest to `out` at `outOffset`. */
export function sha256PureInto(data: Uint8Array, out: Uint8Array, outOffset: number): void {
  S.set(SHA256_IV);
  const len = data.length;
  const fullBlocks = Math.floor(len / 64);
  for (let b = 0; b < fullBlocks; b++) {
    loadBlock(data, b * 64);
    compress();
  }
  const rem = len - fullBlocks * 64;
  TAIL.fill(0);
  TAIL.set(data.subarray(fullBlocks * 64), 0);
  TAIL[rem] = 0x80;
  const tailLen = rem < 56 ? 64 : 128;
  // Message length in bits as a 64-bit big-endian integer (FIPS 180-4 §5.1.1).
  const bits = len * 8;
  const view = new DataView(TAIL.buffer);
  view.setUint32(tailLen - 8, Math.floor(bits / 0x100000000), false);
  view.setUint32(tailLen - 4, bits >>> 0, false);
  loadBlock(TAIL, 0);
  compress();
  if (tailLen === 128) {
    loadBlock(TAIL, 64);
    compress();
  }
  storeState(out, outOffset);
}

/** Computes SHA-256 of `data` in pure TypeScript. */
export function sha256Pure(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  sha256PureInto(data, out, 0);
  return out;
}

/**
 * Computes the RFC 6962 interior node hash SHA-256(0x01 ‖ src[l..l+32] ‖ src[r..r+32]) straight
 * from `src` into `out` at `o`, with no copy of the input. `out` may alias the input.
 */
export function hashNodePureAt(src: Uint8Array, l: number, r: number, out: Uint8Array, o: number): void {
  S.set(SHA256_IV);
  const w = W;
  // Block 1: 0x01, L[0..31], R[0..30], i.e. the two hashes shifted by one byte.
  w[0] = 0x01000000 | ((src[l] as number) << 16) | ((src[l + 1] as number) << 8) | (src[l + 2] as number);
  for (let i = 1; i < 8; i++) {
    const k = l + 4 * i - 1;
    w[i] =
      ((src[k] as number) << 24) |
      ((src[k + 1] as number) << 16) |
      ((src[k + 2] as number) << 8) |
      (src[k + 3] as number);
  }
  w[8] =
    ((src[l + 31] as number) << 24) |
    ((src[r] as number) << 16) |
    ((src[r + 1] as number) << 8) |
    (src[r + 2] as number);
  for (let i = 9; i < 16; i++) {
    const k = r + 4 * i - 33;
    w[i] =
      ((src[k] as number) << 24) |
      ((src[k + 1] as number) << 16) |
      ((src[k + 2] as number) << 8) |
      (src[k + 3] as number);
  }
  compress();
  // Block 2: R[31], the 0x80 pad byte, zeros, and the length 65 * 8 = 520 bits.
  w[0] = ((src[r + 31] as number) << 24) | 0x800000;
  for (let i = 1; i < 15; i++) w[i] = 0;
  w[15] = 520;
  compress();
  storeState(out, o);
}
