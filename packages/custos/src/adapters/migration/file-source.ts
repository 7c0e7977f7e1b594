import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { isCustosError } from '../../domain/errors.js';
import type { SourceLocation } from '../../domain/migration-config.js';
import type { MigrationSource, SourceItem, SourcePage, SourceRow } from '../../ports/migration-source.js';
import { splitCsvLine } from './csv-line.js';
import { type LineAt, withBufferLines, withFileLines } from './line-reader.js';
import { openArchive } from './sealed-archive.js';
import { sourceUnavailable } from './source-errors.js';

/** Line-oriented export formats. */
export type FileFormat = 'ndjson' | 'csv';

function fileOf(location: SourceLocation, source: string): string {
  if (location.file === undefined) throw sourceUnavailable(source, 'dataset has no file');
  return location.file;
}

/**
 * NDJSON and CSV export files as a migration source. The cursor is the byte offset and line number
 * after the last row read, so a resumed run seeks instead of re-reading. A row's key is the SHA-256
 * of its line. Deletion rewrites the file without the confirmed rows (temporary file, fsync,
 * rename, fsync of the directory), so a crash leaves either the old file or the new one.
 * Plain files are read a chunk at a time; a sealed archive (`encryption.keyFile`) is opened whole
 * in memory (it is authenticated as one) and never rewritten.
 */
export class FileMigrationSource implements MigrationSource {
  /** Opened sealed archives (they are authenticated whole, so they are held in memory). */
  private readonly opened = new Map<string, Buffer>();

  constructor(
    readonly id: string,
    private readonly format: FileFormat,
    private readonly keyFile: string | undefined,
  ) {}

  /** A sealed archive's plaintext. */
  private archive(file: string, keyFile: string): Buffer {
    const hit = this.opened.get(file);
    if (hit) return hit;
    let key: Buffer;
    try {
      key = readFileSync(keyFile);
    } catch (err) {
      throw sourceUnavailable(this.id, 'the archive key is not available', err);
    }
    let sealed: Buffer;
    try {
      sealed = readFileSync(file);
    } catch (err) {
      throw sourceUnavailable(this.id, `cannot read ${file}`, err);
    }
    let data: Buffer;
    try {
      data = openArchive(key, sealed);
    } catch (err) {
      throw sourceUnavailable(this.id, 'the archive cannot be opened with its key', err);
    }
    this.opened.set(file, data);
    return data;
  }

  /** Runs `fn` on the file's lines from `offset` (a plain file is read a chunk at a time). */
  private lines<T>(file: string, offset: number, firstLine: number, fn: (lines: Generator<LineAt>) => T): T {
    if (this.keyFile !== undefined)
      return withBufferLines(this.archive(file, this.keyFile), offset, firstLine, fn);
    try {
      return withFileLines(file, offset, firstLine, fn);
    } catch (err) {
      if (isCustosError(err)) throw err;
      throw sourceUnavailable(this.id, `cannot read ${file}`, err);
    }
  }

  /** The CSV header's columns and where the data starts (offset, line number). */
  private header(file: string): { columns: string[] | undefined; offset: number; line: number } {
    if (this.format !== 'csv') return { columns: undefined, offset: 0, line: 1 };
    const first = this.lines(file, 0, 1, (lines) => lines.next().value as LineAt | undefined);
    if (first === undefined) return { columns: [], offset: 0, line: 2 };
    const columns = splitCsvLine(first.text);
    if (columns === undefined) throw sourceUnavailable(this.id, 'the CSV header line is malformed');
    return { columns, offset: first.end, line: 2 };
  }

  private parse(line: LineAt, columns: string[] | undefined): SourceItem {
    const key = createHash('sha256').update(line.text).digest('hex');
    const at = `line ${line.number}`;
    // Never copied with U+FFFD in place of the bytes it cannot decode: the row is invalid.
    if (!line.utf8) return { at, key, row: undefined, error: 'not valid UTF-8' };
    if (columns === undefined) {
      let value: unknown;
      try {
        value = JSON.parse(line.text);
      } catch {
        return { at, key, row: undefined, error: 'malformed JSON' };
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return { at, key, row: undefined, error: 'not a JSON object' };
      }
      return { at, key, row: value as SourceRow, error: undefined };
    }
    const cells = splitCsvLine(line.text);
    if (cells === undefined) return { at, key, row: undefined, error: 'unclosed quote' };
    if (cells.length !== columns.length) {
      return {
        at,
        key,
        row: undefined,
        error: `has ${cells.length} columns, the header has ${columns.length}`,
      };
    }
    const row: Record<string, string> = {};
    columns.forEach((c, i) => {
      row[c] = cells[i] as string;
    });
    return { at, key, row, error: undefined };
  }

  private isBlank(line: LineAt): boolean {
    return line.text.trim() === '';
  }

  async read(location: SourceLocation, cursor: string | undefined, limit: number): Promise<SourcePage> {
    const file = fileOf(location, this.id);
    const head = this.header(file);
    const [offset, line] = cursor === undefined ? [head.offset, head.line] : cursor.split(':').map(Number);
    const items: SourceItem[] = [];
    let last: LineAt | undefined;
    this.lines(file, offset ?? 0, line ?? 1, (lines) => {
      for (const l of lines) {
        last = l;
        if (!this.isBlank(l)) items.push(this.parse(l, head.columns));
        if (items.length >= limit) break;
      }
    });
    const after = last as LineAt | undefined;
    return { items, cursor: after === undefined ? undefined : `${after.end}:${after.number + 1}` };
  }

  async checkKey(_location: SourceLocation): Promise<void> {}

  async count(location: SourceLocation): Promise<number> {
    const file = fileOf(location, this.id);
    const head = this.header(file);
    return this.lines(file, head.offset, head.line, (lines) => {
      let n = 0;
      for (const l of lines) if (!this.isBlank(l)) n++;
      return n;
    });
  }

  async exists(location: SourceLocation): Promise<boolean> {
    return existsSync(fileOf(location, this.id));
  }

  async delete(
    location: SourceLocation,
    _keys: readonly string[],
    confirm: (row: SourceRow) => boolean,
  ): Promise<number> {
    if (this.keyFile !== undefined) throw sourceUnavailable(this.id, 'a sealed archive cannot delete rows');
    const file = fileOf(location, this.id);
    const head = this.header(file);
    // Unique per writer: two processes never share (and clobber) one temporary file.
    const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.custos-tmp`;
    let deleted = 0;
    try {
      const out = openSync(tmp, 'w', 0o600);
      try {
        // The header (if any) as it is, then every line not confirmed for deletion, streamed.
        this.lines(file, 0, 1, (lines) => {
          for (const l of lines) {
            const item = l.number < head.line || this.isBlank(l) ? undefined : this.parse(l, head.columns);
            if (item?.row !== undefined && confirm(item.row)) deleted++;
            else writeSync(out, l.bytes);
          }
        });
        fsyncSync(out);
      } finally {
        closeSync(out);
      }
      if (deleted === 0) {
        unlinkSync(tmp);
        return 0;
      }
      renameSync(tmp, file);
      fsyncDir(dirname(file));
    } catch (err) {
      if (isCustosError(err)) throw err;
      throw sourceUnavailable(this.id, `cannot rewrite ${file}`, err);
    }
    return deleted;
  }

  async shred(): Promise<void> {
    if (this.keyFile === undefined) throw sourceUnavailable(this.id, 'no key is held for this source');
    this.opened.clear();
    try {
      if (!existsSync(this.keyFile)) return;
      // Overwrite before unlinking, so the key is not left in the freed blocks of a simple filesystem.
      const fd = openSync(this.keyFile, 'r+');
      try {
        writeSync(fd, randomBytes(64));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      unlinkSync(this.keyFile);
      fsyncDir(dirname(this.keyFile));
    } catch (err) {
      throw sourceUnavailable(this.id, 'cannot destroy the archive key', err);
    }
  }

  async close(): Promise<void> {
    this.opened.clear();
  }
}

function fsyncDir(path: string): void {
  const dir = openSync(path, 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
