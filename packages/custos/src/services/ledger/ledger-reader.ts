import {
  HASH_SIZE,
  planConsistencyProof,
  planInclusionProof,
  resolveProofPlanAsync,
  TILE_HEIGHT,
  TILE_WIDTH,
} from '@custos/verify';
import { CustosError } from '../../domain/errors.js';
import type { LedgerStore } from '../../ports/ledger-store.js';
import { KEPT_LEVEL_STEP } from './tree-batch.js';
import { type TreeHashing, treeHashing } from './tree-hashing.js';

/** Chunks (up to 256 hashes of one level) kept in memory, at most 32 MiB. */
const CACHE_CHUNKS = 4096;
/** Levels from which whole chunks are cached: level 4 holds one chunk per 4,096 entries. */
const CACHED_FROM_LEVEL = 4;

/** A hash tile or entry bundle, ready to serve. */
export interface LedgerTile {
  readonly bytes: Uint8Array;
  /** True for a full (256-wide) tile: its bytes never change and may be cached forever. */
  readonly immutable: boolean;
}

function badRequest(message: string): never {
  throw new CustosError('BAD_REQUEST', message);
}

/**
 * Read side of the ledger: proofs (RFC 9162 §2.1.3.1, §2.1.4.1) and tiles (c2sp.org/tlog-tiles),
 * served from the node hashes the store keeps. Sizes are checked against the committed size the
 * caller passes, so nothing beyond durable data is ever served.
 */
export class LedgerReader {
  private readonly store: LedgerStore;
  private readonly hashing: TreeHashing;
  private readonly chunks = new Map<string, Uint8Array>();

  constructor(store: LedgerStore, hashing: TreeHashing = treeHashing) {
    this.store = store;
    this.hashing = hashing;
  }

  /**
   * Hash of the perfect subtree (level, index). Only every KEPT_LEVEL_STEP-th level is stored: a
   * node in between is hashed up from the 2^d stored nodes d levels below it (d < KEPT_LEVEL_STEP),
   * which lie side by side in one stored chunk.
   */
  async node(level: number, index: number, committedSize: number): Promise<Uint8Array> {
    const d = level % KEPT_LEVEL_STEP;
    const base = level - d;
    const width = 2 ** d;
    let run = await this.kept(base, index * width, (index + 1) * width, committedSize);
    while (run.length > HASH_SIZE) {
      const up = new Uint8Array(run.length / 2);
      this.hashing.nodes(run, up);
      run = up;
    }
    return run;
  }

  /**
   * Stored hashes [start, end) of a kept level, all in one chunk (up to 256 hashes of one level).
   * From level CACHED_FROM_LEVEL up, whole chunks are cached: stored hashes never change, so a
   * cached chunk answers every index it holds, and a partial chunk is re-read only for an index
   * beyond it.
   */
  private async kept(level: number, start: number, end: number, committedSize: number): Promise<Uint8Array> {
    // Low levels have too many chunks for a cache to help random proofs: read just the run.
    if (level < CACHED_FROM_LEVEL) return this.store.readHashes(level, start, end);
    const chunk = Math.floor(start / TILE_WIDTH);
    const chunkStart = chunk * TILE_WIDTH;
    const key = `${level}/${chunk}`;
    let hashes = this.chunks.get(key);
    if (hashes === undefined || (end - chunkStart) * HASH_SIZE > hashes.length) {
      const stop = Math.min(chunkStart + TILE_WIDTH, Math.floor(committedSize / 2 ** level));
      hashes = await this.store.readHashes(level, chunkStart, stop);
      if (this.chunks.size >= CACHE_CHUNKS) this.chunks.delete(this.chunks.keys().next().value as string);
      this.chunks.set(key, hashes);
    }
    return hashes.subarray((start - chunkStart) * HASH_SIZE, (end - chunkStart) * HASH_SIZE);
  }

  /** Inclusion proof of entry `index` in the tree of `size` entries. */
  async inclusionProof(index: number, size: number, committedSize: number): Promise<Uint8Array[]> {
    if (!Number.isSafeInteger(size) || size < 1 || size > committedSize)
      badRequest('size is beyond the ledger');
    if (!Number.isSafeInteger(index) || index < 0 || index >= size)
      badRequest('index is beyond the tree size');
    return resolveProofPlanAsync(planInclusionProof(index, size), (l, i) => this.node(l, i, committedSize));
  }

  /** Consistency proof from the tree of `from` entries to the tree of `to` entries. */
  async consistencyProof(from: number, to: number, committedSize: number): Promise<Uint8Array[]> {
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || from > to) {
      badRequest('sizes must satisfy 0 <= from <= to');
    }
    if (to > committedSize) badRequest('to is beyond the ledger');
    return resolveProofPlanAsync(planConsistencyProof(from, to), (l, i) => this.node(l, i, committedSize));
  }

  /**
   * Hash tile `tile/<level>/<index>[.p/<width>]`: hashes of tree level 8·level. Undefined when the
   * tree of `committedSize` entries does not have that many hashes at that level.
   */
  async hashTile(
    level: number,
    index: number,
    width: number,
    committedSize: number,
  ): Promise<LedgerTile | undefined> {
    const treeLevel = level * TILE_HEIGHT;
    const count = Math.floor(committedSize / 2 ** treeLevel);
    const start = index * TILE_WIDTH;
    if (start + width > count) return undefined;
    const bytes = await this.store.readHashes(treeLevel, start, start + width);
    return { bytes, immutable: width === TILE_WIDTH };
  }

  /** Entry bundle `tile/entries/<index>[.p/<width>]`, or undefined beyond the committed size. */
  async entryBundle(index: number, width: number, committedSize: number): Promise<LedgerTile | undefined> {
    const start = index * TILE_WIDTH;
    if (start + width > committedSize) return undefined;
    const bytes = await this.store.readEntryBundle(start, start + width);
    return { bytes, immutable: width === TILE_WIDTH };
  }

  /** Drops cached hashes (after the store was replaced or reloaded). */
  clear(): void {
    this.chunks.clear();
  }
}
