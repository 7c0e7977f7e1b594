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
import type { SourceLocation } from '../../domain/migration-config.js';
import type { MigrationSource, SourceItem, SourcePage, SourceRow } from '../../ports/migration-source.js';
import { splitCsvLine } from './csv-line.js';
import { openArchive } from './sealed-archive.js';
import { sourceUnavailable } from './source-errors.js';

/** Line-oriented export formats. */
export type FileFormat = 'ndjson' | 'csv';

interface Line {
  readonly text: string;
  /** 1-based line number in the file. */
  readonly number: number;
}

function fileOf(location: SourceLocation, source: string): string {
  if (location.file === undefined) throw sourceUnavailable(source, 'dataset has no file');
  return location.file;
}

/**
 * NDJSON and CSV export files as a migration source. The cursor is the byte offset and line number
 * after the last row read, so a resumed run seeks instead of re-reading. A row's key is the SHA-256
 * of its line. Deletion rewrites the file without the confirmed rows (temporary file, fsync,
 * rename, fsync of the directory), so a crash leaves either the old file or the new one.
 * A sealed archive (`encryption.keyFile`) is opened whole in memory and never rewritten.
 */
export class FileMigrationSource implements MigrationSource {
  private readonly cache = new Map<string, Buffer>();

  constructor(
    readonly id: string,
    private readonly format: FileFormat,
    private readonly keyFile: string | undefined,
  ) {}

  /** The file's bytes (opened when sealed). */
  private bytes(file: string): Buffer {
    const hit = this.cache.get(file);
    if (hit) return hit;
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch (err) {
      throw sourceUnavailable(this.id, `cannot read ${file}`, err);
    }
    if (this.keyFile !== undefined) {
      let key: Buffer;
      try {
        key = readFileSync(this.keyFile);
      } catch (err) {
        throw sourceUnavailable(this.id, 'the archive key is not available', err);
      }
      try {
        data = openArchive(key, data);
      } catch (err) {
        throw sourceUnavailable(this.id, 'the archive cannot be opened with its key', err);
      }
    }
    this.cache.set(file, data);
    return data;
  }

  /** Lines from `offset`, at most `limit` (all when undefined), with the offset after the last. */
  private lines(
    data: Buffer,
    offset: number,
    firstLine: number,
    limit?: number,
  ): { lines: Line[]; end: number } {
    const lines: Line[] = [];
    let pos = offset;
    let n = firstLine;
    while (pos < data.length && (limit === undefined || lines.length < limit)) {
      let nl = data.indexOf(10, pos);
      if (nl < 0) nl = data.length;
      let text = data.toString('utf8', pos, nl);
      if (text.endsWith('\r')) text = text.slice(0, -1);
      lines.push({ text, number: n++ });
      pos = nl + 1;
    }
    return { lines, end: Math.min(pos, data.length) };
  }

  private header(data: Buffer): { columns: string[] | undefined; end: number } {
    if (this.format !== 'csv') return { columns: undefined, end: 0 };
    const { lines, end } = this.lines(data, 0, 1, 1);
    const first = lines[0];
    if (first === undefined) return { columns: [], end };
    const columns = splitCsvLine(first.text);
    if (columns === undefined) throw sourceUnavailable(this.id, 'the CSV header line is malformed');
    return { columns, end };
  }

  private parse(line: Line, columns: string[] | undefined): SourceItem {
    const key = createHash('sha256').update(line.text).digest('hex');
    const at = `line ${line.number}`;
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

  private isBlank(line: Line): boolean {
    return line.text.trim() === '';
  }

  async read(location: SourceLocation, cursor: string | undefined, limit: number): Promise<SourcePage> {
    const data = this.bytes(fileOf(location, this.id));
    const { columns, end: headerEnd } = this.header(data);
    const [offset, line] =
      cursor === undefined ? [headerEnd, columns === undefined ? 1 : 2] : cursor.split(':').map(Number);
    const { lines, end } = this.lines(data, offset ?? 0, line ?? 1, limit);
    const items = lines.filter((l) => !this.isBlank(l)).map((l) => this.parse(l, columns));
    const last = lines[lines.length - 1];
    return { items, cursor: last === undefined ? undefined : `${end}:${last.number + 1}` };
  }

  async count(location: SourceLocation): Promise<number> {
    const data = this.bytes(fileOf(location, this.id));
    const { end } = this.header(data);
    return this.lines(data, end, 1).lines.filter((l) => !this.isBlank(l)).length;
  }

  async exists(location: SourceLocation): Promise<boolean> {
    const file = fileOf(location, this.id);
    return existsSync(file) && (this.keyFile === undefined || existsSync(this.keyFile));
  }

  async delete(
    location: SourceLocation,
    _keys: readonly string[],
    confirm: (row: SourceRow) => boolean,
  ): Promise<number> {
    if (this.keyFile !== undefined) throw sourceUnavailable(this.id, 'a sealed archive cannot delete rows');
    const file = fileOf(location, this.id);
    this.cache.delete(file);
    const data = this.bytes(file);
    this.cache.delete(file);
    const { columns, end } = this.header(data);
    const kept: string[] = [];
    let deleted = 0;
    for (const line of this.lines(data, end, columns === undefined ? 1 : 2).lines) {
      const item = this.isBlank(line) ? undefined : this.parse(line, columns);
      if (item?.row !== undefined && confirm(item.row)) deleted++;
      else kept.push(line.text);
    }
    if (deleted === 0) return 0;
    const head = data.subarray(0, end).toString('utf8');
    const text = head + kept.map((l) => `${l}\n`).join('');
    try {
      replaceFileAtomically(file, text);
    } catch (err) {
      throw sourceUnavailable(this.id, `cannot rewrite ${file}`, err);
    }
    return deleted;
  }

  async shred(): Promise<void> {
    if (this.keyFile === undefined) throw sourceUnavailable(this.id, 'no key is held for this source');
    this.cache.clear();
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
    this.cache.clear();
  }
}

/** Writes `text` to a temporary file, fsyncs it, renames it over `file`, and fsyncs the directory. */
function replaceFileAtomically(file: string, text: string): void {
  const tmp = `${file}.custos-tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  fsyncDir(dirname(file));
}

function fsyncDir(path: string): void {
  const dir = openSync(path, 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
