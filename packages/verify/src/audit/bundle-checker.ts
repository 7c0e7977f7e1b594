import { sha256Into } from '../crypto/sha256.js';
import { wasmSha256 } from '../crypto/sha256-wasm.js';
import { checkEntryBytesAt } from '../entry/check-entry-bytes.js';
import { parseEntry } from '../entry/entry-codec.js';
import { HASH_SIZE } from '../merkle/rfc6962.js';
import { entryBundleOffsets } from '../tiles/entry-bundle.js';
import { TILE_WIDTH } from '../tiles/tile-path.js';

/** Outcome of checking one entry bundle. */
export interface BundleCheck {
  /** Entries the bundle holds. */
  readonly count: number;
  /** Entries checked and hashed: min(count, width). */
  readonly used: number;
  /** Offset in the bundle of the first leaf hash that differs from the tile, or -1. */
  readonly firstMismatch: number;
}

/** An entry of a bundle that fails the schema: its offset in the bundle and why. */
export interface InvalidEntry {
  readonly offset: number;
  readonly reason: string;
}

/** A bundle checked, with its leaf hashes (32 bytes per used entry) and its invalid entries. */
export interface BundleCheckResult extends BundleCheck {
  readonly leafHashes: Uint8Array;
  readonly invalid: readonly InvalidEntry[];
}

/**
 * Checks bundles somewhere else than the calling thread (in Node, worker threads: see
 * `@custos/verify/node`). `check` must give exactly what {@link checkBundle} gives, and reject
 * with the same VerifyError when a bundle cannot be decoded.
 */
export interface BundleCheckPool {
  check(bundle: Uint8Array, width: number, tile: Uint8Array | undefined): Promise<BundleCheckResult>;
  close(): Promise<void>;
}

// The fast check only says that an entry is invalid; parseEntry says precisely why.
function explain(entry: Uint8Array, fastError: unknown): string {
  try {
    parseEntry(entry);
  } catch (err) {
    return err instanceof Error ? err.message : 'invalid entry';
  }
  return fastError instanceof Error ? fastError.message : 'invalid entry';
}

/**
 * Checks entry bundles one at a time with reusable buffers: schema-checks each entry, hashes it
 * into `leafHashes` and compares with the level-0 tile. Per entry it allocates only the view
 * handed to SHA-256: the bundle is copied once and each entry's length byte is overwritten with
 * the 0x00 leaf prefix, so SHA-256(0x00 ‖ entry) needs no copy (RFC 6962 §2.1).
 */
export class BundleChecker {
  /** Leaf hashes of the last bundle checked, 32 bytes each. */
  readonly leafHashes = new Uint8Array(TILE_WIDTH * HASH_SIZE);
  readonly #offsets = new Int32Array(2 * TILE_WIDTH);
  #scratch = new Uint8Array(64 * 1024);

  /**
   * Checks the first `width` entries of `bundle` (throws BUNDLE_MALFORMED if it cannot be
   * decoded). `tile`, when given, must hold at least `width` hashes. `onInvalid` receives the
   * offset in the bundle and the reason of each entry failing the schema.
   */
  check(
    bundle: Uint8Array,
    width: number,
    tile: Uint8Array | undefined,
    onInvalid: (offset: number, reason: string) => void,
  ): BundleCheck {
    const offsets = this.#offsets;
    const count = entryBundleOffsets(bundle, offsets);
    const used = Math.min(count, width);
    if (this.#scratch.length < bundle.length) this.#scratch = new Uint8Array(bundle.length * 2);
    const scratch = this.#scratch;
    scratch.set(bundle, 0);
    const leaves = this.leafHashes;
    // All leaves at once, four at a time, where WebAssembly SIMD runs; else one by one below.
    const batch = wasmSha256();
    batch?.leafHashes(bundle, offsets, used, leaves);
    let firstMismatch = -1;
    for (let i = 0; i < used; i++) {
      const s = offsets[2 * i] as number;
      const e = offsets[2 * i + 1] as number;
      scratch[s - 1] = 0x00;
      const input = scratch.subarray(s - 1, e);
      try {
        checkEntryBytesAt(input, 1);
      } catch (err) {
        onInvalid(i, explain(bundle.subarray(s, e), err));
      }
      if (batch === undefined) sha256Into(input, leaves, i * HASH_SIZE);
      if (tile !== undefined && firstMismatch < 0) {
        const o = i * HASH_SIZE;
        for (let b = 0; b < HASH_SIZE; b++) {
          if (leaves[o + b] !== tile[o + b]) {
            firstMismatch = i;
            break;
          }
        }
      }
    }
    return { count, used, firstMismatch };
  }
}

/**
 * Checks one bundle with `checker` and collects the result, leaf hashes copied out of the
 * checker's reusable buffer. Throws like {@link BundleChecker.check}.
 */
export function checkBundle(
  checker: BundleChecker,
  bundle: Uint8Array,
  width: number,
  tile: Uint8Array | undefined,
): BundleCheckResult {
  const invalid: InvalidEntry[] = [];
  const r = checker.check(bundle, width, tile, (offset, reason) => invalid.push({ offset, reason }));
  return { ...r, leafHashes: checker.leafHashes.slice(0, r.used * HASH_SIZE), invalid };
}
