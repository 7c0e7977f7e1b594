import { readFile, stat } from 'node:fs/promises';
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

  /** Returns the file at `path` under the directory, or undefined when there is none. */
  async get(path: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(join(this.#dir, ...path.split('/'))));
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw new CliUsageError(`cannot read ${path}`, { cause: err });
    }
  }
}
