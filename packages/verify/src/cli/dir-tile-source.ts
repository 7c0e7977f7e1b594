import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { TileSource } from '../audit/tile-source.js';
import { CliUsageError } from './cli-io.js';

/** Reads a log from a local directory laid out like the tile prefix (`checkpoint`, `tile/…`). */
export class DirTileSource implements TileSource {
  readonly #dir: string;

  private constructor(dir: string) {
    this.#dir = dir;
  }

  /** Opens `dir`; throws CliUsageError when it does not exist or is not a directory. */
  static async open(dir: string): Promise<DirTileSource> {
    try {
      const s = await stat(dir);
      if (!s.isDirectory()) throw new CliUsageError(`${dir} is not a directory`);
    } catch (err) {
      if (err instanceof CliUsageError) throw err;
      throw new CliUsageError(`cannot open directory ${dir}`, { cause: err });
    }
    return new DirTileSource(dir);
  }

  /**
   * Returns the file at `path` under the directory, or undefined when there is none. Read
   * synchronously: a local tile or bundle (at most a few MiB, usually in the page cache) is read
   * faster than the four thread-pool round trips of an asynchronous read, which for a million
   * entries cost more than the reads themselves.
   */
  async get(path: string): Promise<Uint8Array | undefined> {
    try {
      const bytes = readFileSync(join(this.#dir, ...path.split('/')));
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw new CliUsageError(`cannot read ${path}`, { cause: err });
    }
  }
}
