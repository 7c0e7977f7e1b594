/**
 * Generates the WebAssembly text of a four-lane SHA-256 (FIPS 180-4 §6.2) in 128-bit SIMD: four
 * messages hashed side by side, one per 32-bit lane. `scripts/build-wasm.ts` compiles it into
 * `packages/verify/src/crypto/sha256x4-wasm.ts`; `packages/verify/test/sha256-wasm.test.ts`
 * checks that the committed module is exactly what this source compiles to.
 *
 * Memory layout (bytes): K at 0 (64 words), IV at 256 (8 words), the message schedule W at 512
 * (64 vectors), the state at 1536 (8 vectors), per-lane padded tails at 1664 (4 × 128), the
 * byte-swapped state at 2176, a sink for unused lanes' digests at 2304. Callers own memory from
 * 4096 (`HEAP`).
 *
 * Exports:
 * - `hash(desc, n, out)`: hashes `n` messages; `desc` holds (pointer, length) word pairs, the
 *   digests go to `out + 32 i`.
 * - `hash_nodes(src, pairs, dst)`: RFC 6962 interior nodes: SHA-256(0x01 ‖ src[64 i .. 64 i + 64])
 *   into `dst + 32 i`; `dst` may equal `src` (a tile level hashed in place). Reads `src - 1`.
 */

import { SHA256_IV, SHA256_K } from '../packages/verify/src/crypto/sha256-pure.js';

const K = Array.from(SHA256_K, (k) => k >>> 0);
const IV = Array.from(SHA256_IV, (k) => k >>> 0);

const OFF_K = 0;
const OFF_IV = 256;
const OFF_W = 512;
const OFF_STATE = 1536;
const OFF_TAIL = 1664;
const OFF_SWAP = 2176;
const OFF_SINK = 2304;
// Callers own memory from byte 4096 (HEAP in packages/verify/src/crypto/sha256-wasm.ts).

const LANES = [0, 1, 2, 3];
const VARS = ['$a', '$b', '$c', '$d', '$e', '$f', '$g', '$h'];
// Reverses the bytes of each 32-bit lane: memory is little-endian, SHA-256 words big-endian.
const BSWAP = 'i8x16.shuffle 3 2 1 0 7 6 5 4 11 10 9 8 15 14 13 12';

function dataString(words: readonly number[]): string {
  let s = '';
  for (const w of words) {
    for (let i = 0; i < 4; i++) s += `\\${((w >>> (8 * i)) & 0xff).toString(16).padStart(2, '0')}`;
  }
  return s;
}

const rotr = (x: string, n: number): string =>
  `(v128.or (i32x4.shr_u ${x} (i32.const ${n})) (i32x4.shl ${x} (i32.const ${32 - n})))`;
const xor3 = (p: string, q: string, r: string): string => `(v128.xor (v128.xor ${p} ${q}) ${r})`;
const get = (v: string): string => `(local.get ${v})`;

// One round in the in-place form: T1 = h + Σ1(e) + Ch(e,f,g) + K + W; d += T1;
// h = T1 + Σ0(a) + Maj(a,b,c). The next round renames (a..h) to (h, a, ..., g).
function round(r: number): string {
  const v = (j: number): string => VARS[(j - r + 64) % 8] as string;
  const [a, b, c, d, e, f, g, h] = [0, 1, 2, 3, 4, 5, 6, 7].map(v) as string[] as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const sigma1 = xor3(rotr(get(e), 6), rotr(get(e), 11), rotr(get(e), 25));
  const sigma0 = xor3(rotr(get(a), 2), rotr(get(a), 13), rotr(get(a), 22));
  // Ch(e,f,g) = e ? f : g; Maj(a,b,c) = (a == b) ? a : c, bit by bit.
  const ch = `(v128.bitselect ${get(f)} ${get(g)} ${get(e)})`;
  const maj = `(v128.bitselect ${get(c)} ${get(a)} (v128.xor ${get(a)} ${get(b)}))`;
  const kw = `(i32x4.add (v128.load32_splat offset=${OFF_K + 4 * r} (local.get $k)) (v128.load offset=${OFF_W + 16 * r} (local.get $w)))`;
  return `
      (local.set $t (i32x4.add (i32x4.add ${get(h)} ${sigma1}) (i32x4.add ${ch} ${kw})))
      (local.set ${d} (i32x4.add ${get(d)} (local.get $t)))
      (local.set ${h} (i32x4.add (local.get $t) (i32x4.add ${sigma0} ${maj})))`;
}

// Compresses the block in W[0..15] into the state, for the lanes set in $mask only.
function compressFunc(): string {
  const sigma0 = xor3(
    rotr('(local.get $x)', 7),
    rotr('(local.get $x)', 18),
    '(i32x4.shr_u (local.get $x) (i32.const 3))',
  );
  const sigma1 = xor3(
    rotr('(local.get $y)', 17),
    rotr('(local.get $y)', 19),
    '(i32x4.shr_u (local.get $y) (i32.const 10))',
  );
  const rounds = Array.from({ length: 8 }, (_, r) => round(r)).join('');
  const load = VARS.map(
    (v, j) => `(local.set ${v} (v128.load offset=${OFF_STATE + 16 * j} (i32.const 0)))`,
  ).join('\n    ');
  const store = VARS.map(
    (v, j) =>
      `(v128.store offset=${OFF_STATE + 16 * j} (i32.const 0) (v128.bitselect (i32x4.add (v128.load offset=${OFF_STATE + 16 * j} (i32.const 0)) ${get(v)}) (v128.load offset=${OFF_STATE + 16 * j} (i32.const 0)) (local.get $mask)))`,
  ).join('\n    ');
  return `
  (func $compress (param $mask v128)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local $e v128) (local $f v128) (local $g v128) (local $h v128)
    (local $t v128) (local $x v128) (local $y v128) (local $i i32) (local $k i32) (local $w i32)
    ;; Message schedule: W[i] = σ1(W[i-2]) + W[i-7] + σ0(W[i-15]) + W[i-16]; $i = 16 i.
    (local.set $i (i32.const 256))
    (loop $schedule
      (local.set $x (v128.load offset=${OFF_W - 240} (local.get $i)))
      (local.set $y (v128.load offset=${OFF_W - 32} (local.get $i)))
      (v128.store offset=${OFF_W} (local.get $i)
        (i32x4.add
          (i32x4.add (v128.load offset=${OFF_W - 256} (local.get $i)) ${sigma0})
          (i32x4.add (v128.load offset=${OFF_W - 112} (local.get $i)) ${sigma1})))
      (br_if $schedule (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (i32.const 1024))))
    ${load}
    ;; 64 rounds, eight per pass, so the renaming of a..h comes back to the start each pass.
    (local.set $k (i32.const 0))
    (local.set $w (i32.const 0))
    (loop $rounds${rounds}
      (local.set $w (i32.add (local.get $w) (i32.const 128)))
      (br_if $rounds (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 32))) (i32.const 256))))
    ${store})`;
}

const initState = (): string =>
  Array.from(
    { length: 8 },
    (_, j) =>
      `(v128.store offset=${OFF_STATE + 16 * j} (i32.const 0) (v128.load32_splat offset=${OFF_IV + 4 * j} (i32.const 0)))`,
  ).join('\n      ');

// Writes each lane's digest (big-endian words) to its output pointer $o0..$o3.
const output = (): string => {
  const swap = Array.from(
    { length: 8 },
    (_, j) =>
      `(v128.store offset=${OFF_SWAP + 16 * j} (i32.const 0) (${BSWAP} (v128.load offset=${OFF_STATE + 16 * j} (i32.const 0)) (v128.const i32x4 0 0 0 0)))`,
  ).join('\n      ');
  const copy = LANES.flatMap((k) =>
    Array.from(
      { length: 8 },
      (_, j) =>
        `(i32.store offset=${4 * j} (local.get $o${k}) (i32.load offset=${OFF_SWAP + 16 * j + 4 * k} (i32.const 0)))`,
    ),
  ).join('\n      ');
  return `${swap}\n      ${copy}`;
};

// Loads word i (i = 0..15) of the four lanes' blocks at $p0..$p3 as a vector.
const gather = (i: number): string =>
  `(${BSWAP} (i32x4.replace_lane 3 (i32x4.replace_lane 2 (i32x4.replace_lane 1 (i32x4.splat (i32.load offset=${4 * i} (local.get $p0))) (i32.load offset=${4 * i} (local.get $p1))) (i32.load offset=${4 * i} (local.get $p2))) (i32.load offset=${4 * i} (local.get $p3))) (v128.const i32x4 0 0 0 0))`;

function hashFunc(): string {
  const laneLocals = LANES.map(
    (k) => `(local $p${k} i32) (local $f${k} i32) (local $n${k} i32) (local $o${k} i32)`,
  ).join(' ');
  const setup = LANES.map(
    (k) => `
      ;; Lane ${k}: message j = g + ${k}, or an empty message into the sink past the end.
      (if (i32.lt_u (i32.add (local.get $g) (i32.const ${k})) (local.get $n))
        (then
          (local.set $j (i32.add (local.get $desc) (i32.shl (i32.add (local.get $g) (i32.const ${k})) (i32.const 3))))
          (local.set $p${k} (i32.load (local.get $j)))
          (local.set $len (i32.load offset=4 (local.get $j)))
          (local.set $o${k} (i32.add (local.get $out) (i32.shl (i32.add (local.get $g) (i32.const ${k})) (i32.const 5)))))
        (else
          (local.set $p${k} (i32.const 0))
          (local.set $len (i32.const 0))
          (local.set $o${k} (i32.const ${OFF_SINK}))))
      ;; Full blocks are read in place; the rest, padded (FIPS 180-4 §5.1.1), from the lane's tail.
      (local.set $f${k} (i32.shr_u (local.get $len) (i32.const 6)))
      (local.set $rem (i32.and (local.get $len) (i32.const 63)))
      (local.set $n${k} (i32.add (local.get $f${k}) (select (i32.const 1) (i32.const 2) (i32.lt_u (local.get $rem) (i32.const 56)))))
      (memory.fill (i32.const ${OFF_TAIL + 128 * k}) (i32.const 0) (i32.const 128))
      (memory.copy (i32.const ${OFF_TAIL + 128 * k}) (i32.add (local.get $p${k}) (i32.shl (local.get $f${k}) (i32.const 6))) (local.get $rem))
      (i32.store8 offset=${OFF_TAIL + 128 * k} (local.get $rem) (i32.const 0x80))
      ;; The length in bits, big-endian, in the last 8 bytes (messages are shorter than 512 MiB).
      (local.set $j (i32.add (i32.const ${OFF_TAIL + 128 * k - 4}) (i32.shl (i32.sub (local.get $n${k}) (local.get $f${k})) (i32.const 6))))
      (local.set $len (i32.shl (local.get $len) (i32.const 3)))
      (i32.store8 (local.get $j) (i32.shr_u (local.get $len) (i32.const 24)))
      (i32.store8 offset=1 (local.get $j) (i32.shr_u (local.get $len) (i32.const 16)))
      (i32.store8 offset=2 (local.get $j) (i32.shr_u (local.get $len) (i32.const 8)))
      (i32.store8 offset=3 (local.get $j) (local.get $len))
      (local.set $max (select (local.get $max) (local.get $n${k}) (i32.gt_u (local.get $max) (local.get $n${k}))))`,
  ).join('');
  const pointers = LANES.map(
    (k) => `
        (local.set $p${k}
          (select
            (i32.add (local.get $p${k}) (i32.shl (local.get $bl) (i32.const 6)))
            (select
              (i32.add (i32.const ${OFF_TAIL + 128 * k}) (i32.shl (i32.sub (local.get $bl) (local.get $f${k})) (i32.const 6)))
              (i32.const ${OFF_TAIL + 128 * k})
              (i32.lt_u (local.get $bl) (local.get $n${k})))
            (i32.lt_u (local.get $bl) (local.get $f${k}))))`,
  ).join('');
  const bases = LANES.map((k) => `(local.set $q${k} (local.get $p${k}))`).join(' ');
  const restore = LANES.map((k) => `(local.set $p${k} (local.get $q${k}))`).join(' ');
  const words = Array.from(
    { length: 16 },
    (_, i) => `(v128.store offset=${OFF_W + 16 * i} (i32.const 0) ${gather(i)})`,
  ).join('\n        ');
  return `
  (func (export "hash") (param $desc i32) (param $n i32) (param $out i32)
    (local $g i32) (local $j i32) (local $len i32) (local $rem i32) (local $max i32) (local $bl i32)
    (local $nb v128) ${laneLocals}
    (local $q0 i32) (local $q1 i32) (local $q2 i32) (local $q3 i32)
    (local.set $g (i32.const 0))
    (block $done
      (loop $groups
        (br_if $done (i32.ge_u (local.get $g) (local.get $n)))
        (local.set $max (i32.const 0))${setup}
        (local.set $nb (i32x4.replace_lane 3 (i32x4.replace_lane 2 (i32x4.replace_lane 1 (i32x4.splat (local.get $n0)) (local.get $n1)) (local.get $n2)) (local.get $n3)))
        ${initState()}
        ${bases}
        (local.set $bl (i32.const 0))
        (loop $blocks
          ${restore}${pointers}
          ${words}
          ;; A lane whose message has fewer blocks keeps its state.
          (call $compress (i32x4.gt_s (local.get $nb) (i32x4.splat (local.get $bl))))
          (br_if $blocks (i32.lt_u (local.tee $bl (i32.add (local.get $bl) (i32.const 1))) (local.get $max))))
        ${output()}
        (local.set $g (i32.add (local.get $g) (i32.const 4)))
        (br $groups))))`;
}

function hashNodesFunc(): string {
  const setup = LANES.map(
    (k) => `
        (if (i32.lt_u (i32.add (local.get $g) (i32.const ${k})) (local.get $pairs))
          (then
            (local.set $p${k} (i32.add (local.get $src) (i32.sub (i32.shl (i32.add (local.get $g) (i32.const ${k})) (i32.const 6)) (i32.const 1))))
            (local.set $o${k} (i32.add (local.get $dst) (i32.shl (i32.add (local.get $g) (i32.const ${k})) (i32.const 5)))))
          (else
            (local.set $p${k} (i32.add (local.get $src) (i32.sub (i32.shl (local.get $g) (i32.const 6)) (i32.const 1))))
            (local.set $o${k} (i32.const ${OFF_SINK}))))`,
  ).join('');
  // Block 1 is 0x01 ‖ bytes 0..62: $p points one byte early, and the first byte is replaced.
  const first = `(v128.store offset=${OFF_W} (i32.const 0) (v128.or (v128.and ${gather(0)} (v128.const i32x4 0x00ffffff 0x00ffffff 0x00ffffff 0x00ffffff)) (v128.const i32x4 0x01000000 0x01000000 0x01000000 0x01000000)))`;
  const rest = Array.from(
    { length: 15 },
    (_, i) => `(v128.store offset=${OFF_W + 16 * (i + 1)} (i32.const 0) ${gather(i + 1)})`,
  ).join('\n        ');
  // Block 2 is byte 63, the 0x80 pad, zeros and the length 65 × 8 = 520 bits.
  const last = `(v128.store offset=${OFF_W} (i32.const 0) (v128.or (i32x4.shl (i32x4.replace_lane 3 (i32x4.replace_lane 2 (i32x4.replace_lane 1 (i32x4.splat (i32.load8_u offset=64 (local.get $p0))) (i32.load8_u offset=64 (local.get $p1))) (i32.load8_u offset=64 (local.get $p2))) (i32.load8_u offset=64 (local.get $p3))) (i32.const 24)) (v128.const i32x4 0x00800000 0x00800000 0x00800000 0x00800000)))`;
  const zeros = Array.from(
    { length: 14 },
    (_, i) => `(v128.store offset=${OFF_W + 16 * (i + 1)} (i32.const 0) (v128.const i32x4 0 0 0 0))`,
  ).join('\n        ');
  return `
  (func (export "hash_nodes") (param $src i32) (param $pairs i32) (param $dst i32)
    (local $g i32) (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32)
    (local $o0 i32) (local $o1 i32) (local $o2 i32) (local $o3 i32)
    (local.set $g (i32.const 0))
    (block $done
      (loop $groups
        (br_if $done (i32.ge_u (local.get $g) (local.get $pairs)))${setup}
        ${initState()}
        ${first}
        ${rest}
        (call $compress (v128.const i32x4 -1 -1 -1 -1))
        ${last}
        ${zeros}
        (v128.store offset=${OFF_W + 240} (i32.const 0) (v128.const i32x4 520 520 520 520))
        (call $compress (v128.const i32x4 -1 -1 -1 -1))
        ${output()}
        (local.set $g (i32.add (local.get $g) (i32.const 4)))
        (br $groups))))`;
}

/** The module's WebAssembly text. */
export function sha256x4Wat(): string {
  return `;; Generated by scripts/sha256x4-wat.ts: four-lane SHA-256 in 128-bit SIMD.
(module
  (memory (export "memory") 1)
  (data (i32.const ${OFF_K}) "${dataString(K)}")
  (data (i32.const ${OFF_IV}) "${dataString(IV)}")${compressFunc()}${hashFunc()}${hashNodesFunc()})
`;
}
