import { isVerifyError } from '../errors.js';
import { CompactRange } from '../merkle/compact-range.js';
import { emptyRoot, HASH_SIZE } from '../merkle/rfc6962.js';
import { subtreeRootOfHashes } from '../tiles/hash-tile.js';
import { TILE_HEIGHT, TILE_WIDTH, type TileRef } from '../tiles/tile-path.js';
import type { FailureList } from './audit-report.js';
import {
  BundleChecker,
  type BundleCheckPool,
  type BundleCheckResult,
  checkBundle,
} from './bundle-checker.js';
import { type FetchedTile, fetchTile, type TileSource } from './tile-source.js';

/** What scanning the entry bundles produced. */
export interface EntryScan {
  readonly entriesChecked: number;
  /** Recomputed root of all `size` entries, or undefined when entries are missing. */
  readonly root: Uint8Array | undefined;
  /** Recomputed root at the trusted size, or undefined when it could not be computed. */
  readonly rootAtTrusted: Uint8Array | undefined;
  /** Recomputed roots of full bundles (tree level 8), undefined where the bundle was unusable. */
  readonly level8: readonly (Uint8Array | undefined)[];
  /** Per full bundle: true when a level-0 tile mismatch was already reported inside it. */
  readonly level8Reported: readonly boolean[];
}

/** Options of {@link scanEntries}. */
export interface ScanOptions {
  readonly size: number;
  readonly trustedSize: number | undefined;
  readonly concurrency: number;
  readonly failures: FailureList;
  readonly onProgress?: (entriesDone: number, size: number) => void;
  /** Checks bundles off this thread, up to `concurrency` ahead; absent: checked here, in turn. */
  readonly pool?: BundleCheckPool | undefined;
}

/** The level-0 tile to compare with: the fetched bytes when their length is right. */
function usableTile(tile: FetchedTile, ref: TileRef): Uint8Array | undefined {
  const bytes = tile.bytes;
  if (bytes === undefined) return undefined;
  return bytes.length === (tile.fromFullTile ? TILE_WIDTH : ref.width) * HASH_SIZE ? bytes : undefined;
}

type Fetched = { bundle: FetchedTile; tile: FetchedTile; check?: Promise<BundleCheckResult> };

/**
 * Streams every entry bundle and level-0 tile of a tree of `size` leaves: schema-checks each
 * entry, hashes it (RFC 6962 §2.1), compares the leaf hash with the served hash tile, and folds
 * the leaves into a compact range to recompute the root. Fetches run `concurrency` bundles ahead.
 */
export async function scanEntries(source: TileSource, opts: ScanOptions): Promise<EntryScan> {
  // Once the scan stops (done, or a bundle is missing or undecodable), the reads still in flight
  // ahead of it are useless: abort them so that a source that hangs cannot hold the verdict back.
  const inFlight = new AbortController();
  try {
    return await scan(source, opts, inFlight.signal);
  } finally {
    inFlight.abort();
  }
}

async function scan(source: TileSource, opts: ScanOptions, signal: AbortSignal): Promise<EntryScan> {
  const { size, trustedSize, failures } = opts;
  // Bundle refs are computed on demand: a hostile size must not allocate a huge list.
  const bundleCount = Math.ceil(size / TILE_WIDTH);
  const bundleRef = (k: number): TileRef | undefined =>
    k < bundleCount
      ? { kind: 'entries', index: k, width: Math.min(TILE_WIDTH, size - k * TILE_WIDTH) }
      : undefined;
  const pool = opts.pool;
  const pending = new Map<number, Promise<Fetched>>();
  const prefetch = (k: number): void => {
    const ref = bundleRef(k);
    if (ref === undefined || pending.has(k)) return;
    const tileRef: TileRef = { kind: 'hash', level: 0, index: ref.index, width: ref.width };
    const fetched = Promise.all([
      fetchTile(source, ref, { signal }),
      fetchTile(source, tileRef, { signal }),
    ]).then(([bundle, tile]): Fetched => {
      if (pool === undefined || bundle.bytes === undefined) return { bundle, tile };
      const check = pool.check(bundle.bytes, ref.width, usableTile(tile, ref));
      // Settled in the loop below; a scan that stops early must not leave it unhandled.
      check.catch(() => undefined);
      return { bundle, tile, check };
    });
    // A prefetch left behind when the scan stops early must not become an unhandled rejection.
    fetched.catch(() => undefined);
    pending.set(k, fetched);
  };
  const range = new CompactRange();
  let rootComputable = true;
  let rootAtTrusted = trustedSize === 0 ? emptyRoot() : undefined;
  const level8: (Uint8Array | undefined)[] = [];
  const level8Reported: boolean[] = [];
  const checker = pool === undefined ? new BundleChecker() : undefined;
  let entriesChecked = 0;

  for (let k = 0; k < bundleCount; k++) {
    for (let j = k; j < k + opts.concurrency; j++) prefetch(j);
    const ref = bundleRef(k) as TileRef;
    const start = k * TILE_WIDTH;
    const { bundle, tile, check } = await (pending.get(k) as Promise<Fetched>);
    pending.delete(k);
    if (bundle.bytes === undefined) {
      failures.add({
        check: 'entry-bundle',
        index: start,
        message: `${bundle.path} is missing: entries from ${start} are not served`,
      });
      rootComputable = false;
      break;
    }
    if (tile.bytes === undefined) {
      failures.add({ check: 'hash-tile', index: start, message: `${tile.path} is missing` });
    } else if (usableTile(tile, ref) === undefined) {
      failures.add({
        check: 'hash-tile',
        index: start,
        code: 'TILE_MALFORMED',
        message: `${tile.path} has the wrong length`,
      });
    }
    let result: BundleCheckResult;
    try {
      result =
        check !== undefined
          ? await check
          : checkBundle(checker as BundleChecker, bundle.bytes, ref.width, usableTile(tile, ref));
    } catch (err) {
      if (!isVerifyError(err)) throw err;
      failures.add({
        check: 'entry-bundle',
        index: start,
        code: err.code,
        message: `${bundle.path} cannot be decoded`,
      });
      rootComputable = false;
      break;
    }
    for (const bad of result.invalid) {
      failures.add({
        check: 'entry-schema',
        index: start + bad.offset,
        code: 'ENTRY_INVALID',
        message: `entry ${start + bad.offset}: ${bad.reason}`,
      });
    }
    const leafBuf = result.leafHashes;
    const n = result.used;
    const mismatchReported = result.firstMismatch >= 0;
    if (mismatchReported) {
      const index = start + result.firstMismatch;
      failures.add({
        check: 'hash-tile',
        index,
        message: `entry ${index}: leaf hash does not match hash tile ${tile.path}`,
      });
    }
    // A full bundle served for a missing partial one holds more entries than the tree has, but
    // it must be full: 256 entries, as a full hash tile must hold 256 hashes (tlog-tiles).
    const expected = bundle.fromFullTile ? TILE_WIDTH : ref.width;
    entriesChecked += n;
    if (result.count !== expected) {
      failures.add({
        check: 'entry-count',
        index: n < ref.width ? start + n : start,
        message: `${bundle.path} holds ${result.count} entries, expected ${expected}`,
      });
    }
    const usable = n === ref.width;
    if (!usable) rootComputable = false;
    if (rootComputable && trustedSize !== undefined && trustedSize > start && trustedSize <= start + n) {
      const at = range.clone();
      for (let i = 0; i < trustedSize - start; i++)
        at.appendLeafHash(leafBuf.slice(i * HASH_SIZE, (i + 1) * HASH_SIZE));
      rootAtTrusted = at.root();
    }
    if (ref.width === TILE_WIDTH) {
      const node = usable ? subtreeRootOfHashes(leafBuf, 0, TILE_WIDTH) : undefined;
      level8.push(node);
      level8Reported.push(mismatchReported);
      if (rootComputable && node !== undefined) range.appendSubtree(node, TILE_HEIGHT);
    } else if (rootComputable) {
      for (let i = 0; i < n; i++) range.appendLeafHash(leafBuf.slice(i * HASH_SIZE, (i + 1) * HASH_SIZE));
    }
    opts.onProgress?.(entriesChecked, size);
  }
  const root = rootComputable && range.size === size ? range.root() : undefined;
  return { entriesChecked, root, rootAtTrusted, level8, level8Reported };
}
