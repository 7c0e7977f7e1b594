import { randomBytes } from 'node:crypto';
import { HASH_SIZE, hashChildrenAt, hashLeafInto } from '@custos/verify';
import { loadNativeAddon } from '../native-addon.js';

/** Entries laid back to back in one buffer, with each entry's length. */
export interface EncodedEntries {
  readonly blob: Uint8Array;
  readonly lengths: Uint32Array;
}

/**
 * RFC 6962 hashing of whole runs: what appending a batch costs. Two implementations give the
 * same bytes: the portable one (the verify package's hashing, one call per hash) and the native
 * addon (`native/merkle.c`, one call per run).
 */
export interface TreeHashing {
  /** Which implementation this is. */
  readonly implementation: 'native' | 'portable';
  /** Writes each entry's leaf hash, SHA-256(0x00 ‖ entry), into `out` (32 bytes per entry). */
  leaves(entries: EncodedEntries, out: Uint8Array): void;
  /** Writes the parent of each pair of sibling hashes in `src`, SHA-256(0x01 ‖ left ‖ right), into `out`. */
  nodes(src: Uint8Array, out: Uint8Array): void;
}

/** The hashing of the verify package, one call per hash: works everywhere. */
export const portableTreeHashing: TreeHashing = {
  implementation: 'portable',
  leaves({ blob, lengths }, out) {
    let off = 0;
    for (let i = 0; i < lengths.length; i++) {
      const n = lengths[i] as number;
      hashLeafInto(blob.subarray(off, off + n), out, i * HASH_SIZE);
      off += n;
    }
  },
  nodes(src, out) {
    for (let k = 0; k < out.length / HASH_SIZE; k++) {
      hashChildrenAt(src, 2 * k * HASH_SIZE, (2 * k + 1) * HASH_SIZE, out, k * HASH_SIZE);
    }
  },
};

/** Copies entries into one exactly sized buffer of its own (transferable to another thread). */
export function packEntries(entries: readonly Uint8Array[]): EncodedEntries {
  const lengths = new Uint32Array(entries.length);
  let total = 0;
  for (let i = 0; i < entries.length; i++) {
    const n = (entries[i] as Uint8Array).length;
    lengths[i] = n;
    total += n;
  }
  const blob = new Uint8Array(total);
  let off = 0;
  for (let i = 0; i < entries.length; i++) {
    blob.set(entries[i] as Uint8Array, off);
    off += lengths[i] as number;
  }
  return { blob, lengths };
}

/** Views of each entry in an encoded blob. */
export function entryViews(e: EncodedEntries): Uint8Array[] {
  const out: Uint8Array[] = new Array(e.lengths.length);
  let off = 0;
  for (let i = 0; i < e.lengths.length; i++) {
    const n = e.lengths[i] as number;
    out[i] = e.blob.subarray(off, off + n);
    off += n;
  }
  return out;
}

/** The native addon's functions (`native/merkle.c`). */
interface NativeMerkle {
  leafHashes(blob: Uint8Array, lengths: Uint32Array, out: Uint8Array): void;
  nodeHashes(src: Uint8Array, out: Uint8Array): void;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** True when the addon hashes exactly as the portable code does, and refuses sizes that do not add up. */
function agreesWithPortable(native: NativeMerkle): boolean {
  // Lengths around SHA-256's block boundaries, an empty entry and the largest one allowed.
  const sizes = [0, 1, 54, 55, 56, 63, 64, 65, 119, 120, 300, 4096, 65_535];
  const entries = sizes.map((n) => randomBytes(n));
  const packed = packEntries(entries);
  // At an offset inside a larger buffer, as views of a pooled buffer are.
  const shifted = new Uint8Array(packed.blob.length + 5).subarray(5);
  shifted.set(packed.blob);
  const want = new Uint8Array(sizes.length * HASH_SIZE);
  portableTreeHashing.leaves(packed, want);
  const got = new Uint8Array(sizes.length * HASH_SIZE);
  native.leafHashes(shifted, packed.lengths, got);
  if (!sameBytes(got, want)) return false;
  const pairs = randomBytes(6 * HASH_SIZE);
  const wantNodes = new Uint8Array(3 * HASH_SIZE);
  portableTreeHashing.nodes(pairs, wantNodes);
  const gotNodes = new Uint8Array(3 * HASH_SIZE);
  native.nodeHashes(pairs, gotNodes);
  if (!sameBytes(gotNodes, wantNodes)) return false;
  const refuses = (call: () => void): boolean => {
    try {
      call();
      return false;
    } catch {
      return true;
    }
  };
  return (
    refuses(() => native.leafHashes(packed.blob.subarray(1), packed.lengths, got)) &&
    refuses(() => native.leafHashes(packed.blob, packed.lengths, got.subarray(1))) &&
    refuses(() => native.nodeHashes(pairs.subarray(1), gotNodes))
  );
}

const NATIVE = loadNativeAddon<NativeMerkle>('merkle', agreesWithPortable, 'ledger hashing uses node:crypto');

/** The native hashing, when the addon is built, loads and passes its self-check. */
export const nativeTreeHashing: TreeHashing | undefined =
  NATIVE === undefined
    ? undefined
    : {
        implementation: 'native',
        leaves: ({ blob, lengths }, out) => NATIVE.leafHashes(blob, lengths, out),
        nodes: (src, out) => NATIVE.nodeHashes(src, out),
      };

/** The fastest hashing available here: native when loaded, portable otherwise. */
export const treeHashing: TreeHashing = nativeTreeHashing ?? portableTreeHashing;
