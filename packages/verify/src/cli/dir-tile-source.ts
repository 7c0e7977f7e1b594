import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { TileSource } from '../audit/tile-source.js';
import { CliUsageError } from './cli-io.js';
import { maxBytesFor } from './read-limits.js';

// O_NONBLOCK: opening a FIFO for reading must not wait for a writer (it is refused just after).
// Windows has no such flag and no FIFOs to fear.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** Reads the regular file at `file`, at most `limit` bytes; undefined when there is none. */
function readRegularFile(file: string, path: string, limit: number): Uint8Array | undefined {
  let fd: number;
  try {
    fd = openSync(file, OPEN_FLAGS);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new CliUsageError(`cannot read ${path}`, { cause: err });
  }
  try {
    // fstat the opened descriptor, not the name: the file cannot be swapped in between.
    const s = fstatSync(fd);
    if (!s.isFile()) throw new CliUsageError(`cannot read ${path}: not a regular file`);
    if (s.size > limit)
      throw new CliUsageError(`cannot read ${path}: ${s.size} bytes, more than the ${limit} it may hold`);
    const bytes = new Uint8Array(s.size);
    let at = 0;
    while (at < bytes.length) {
      const n = readSync(fd, bytes, at, bytes.length - at, at);
      if (n === 0) break;
      at += n;
    }
    return at === bytes.length ? bytes : bytes.subarray(0, at);
  } catch (err) {
    if (err instanceof CliUsageError) throw err;
    throw new CliUsageError(`cannot read ${path}`, { cause: err });
  } finally {
    closeSync(fd);
  }
}

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
   * Returns the file at `path` under the directory, or undefined when there is none. Anything
   * but a regular file (a FIFO, a device, a directory) and a file larger than any valid
   * checkpoint, tile or bundle is refused with CliUsageError; symbolic links to regular files
   * are followed. Read synchronously: a local tile or bundle (at most a few MiB, usually in the
   * page cache) is read faster than the four thread-pool round trips of an asynchronous read,
   * which for a million entries cost more than the reads themselves.
   */
  async get(path: string): Promise<Uint8Array | undefined> {
    return readRegularFile(join(this.#dir, ...path.split('/')), path, maxBytesFor(path));
  }
}
