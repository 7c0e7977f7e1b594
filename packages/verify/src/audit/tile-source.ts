import { formatTilePath, TILE_WIDTH, type TileRef } from '../tiles/tile-path.js';

/** Options of {@link TileSource.get}. */
export interface TileGetOptions {
  /** Aborted when the audit no longer needs the read (its verdict is known); the read may reject. */
  readonly signal?: AbortSignal;
}

/**
 * Where the audit reads a log from: `get` returns the bytes at a path relative to the log
 * prefix (`checkpoint`, `tile/0/000`, `tile/entries/000.p/5`…), or undefined if there is none.
 * I/O failures other than "not found" should reject; the audit lets them propagate. A source
 * that reads over the network should stop reading when `options.signal` aborts.
 */
export interface TileSource {
  get(path: string, options?: TileGetOptions): Promise<Uint8Array | undefined>;
}

/** A {@link TileSource} over an in-memory map, for tests and embedded use. */
export class MemoryTileSource implements TileSource {
  /** The served files; edit them to simulate tampering. */
  readonly files: Map<string, Uint8Array>;

  constructor(files?: Iterable<readonly [string, Uint8Array]>) {
    this.files = new Map(files);
  }

  /** Returns the stored bytes, or undefined. */
  async get(path: string): Promise<Uint8Array | undefined> {
    return this.files.get(path);
  }
}

/** A fetched tile: its bytes and the path they came from. */
export interface FetchedTile {
  readonly path: string;
  readonly bytes: Uint8Array | undefined;
  /** True when the partial tile was missing and the full tile was read instead. */
  readonly fromFullTile: boolean;
}

/**
 * Fetches a tile or bundle. When a partial one is gone, falls back to the full one, which a log
 * may serve once the tile fills (c2sp.org/tlog-tiles §Partial Tiles); the caller then uses only
 * the first `width` hashes or entries. `options` is passed on to the source.
 */
export async function fetchTile(
  source: TileSource,
  ref: TileRef,
  options?: TileGetOptions,
): Promise<FetchedTile> {
  const path = formatTilePath(ref);
  const bytes = await source.get(path, options);
  if (bytes !== undefined || ref.width === TILE_WIDTH) return { path, bytes, fromFullTile: false };
  const fullPath = formatTilePath({ ...ref, width: TILE_WIDTH });
  const full = await source.get(fullPath, options);
  return full === undefined
    ? { path, bytes: undefined, fromFullTile: false }
    : { path: fullPath, bytes: full, fromFullTile: true };
}
