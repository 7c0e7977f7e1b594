import { isUtf8 } from 'node:buffer';
import { closeSync, openSync, readSync } from 'node:fs';

/** One line of a file: its text (without `\n` or `\r\n`), 1-based number, and the offset after it. */
export interface LineAt {
  readonly text: string;
  readonly number: number;
  readonly end: number;
  /**
   * The line's bytes as in the file, terminator included (`\n`, `\r\n`, or none at the end), so
   * a rewrite keeps kept lines byte for byte. A view valid only until the next line is read.
   */
  readonly bytes: Buffer;
  /** False when the line is not valid UTF-8 (its `text` then holds U+FFFD replacements). */
  readonly utf8: boolean;
}

function lineAt(bytes: Buffer, number: number, end: number): LineAt {
  let n = bytes.length;
  if (n > 0 && bytes[n - 1] === 10) n--;
  if (n > 0 && bytes[n - 1] === 13) n--;
  const content = bytes.subarray(0, n);
  return { text: content.toString('utf8'), number, end, bytes, utf8: isUtf8(content) };
}

const CHUNK = 1 << 20;

/** Reads bytes at a position into `buf`; returns how many (0 at the end). */
export type ReadAt = (position: number, buf: Buffer) => number;

/**
 * Lines from `offset` on, read a chunk (1 MiB) at a time, so memory stays bounded by the chunk and
 * the longest line, whatever the file's size.
 */
export function* linesFrom(read: ReadAt, offset: number, firstLine: number): Generator<LineAt> {
  const chunk = Buffer.allocUnsafe(CHUNK);
  let pending: Buffer[] = [];
  let pos = offset;
  let number = firstLine;
  for (;;) {
    const n = read(pos, chunk);
    if (n === 0) break;
    let start = 0;
    for (let nl = chunk.indexOf(10, 0); nl >= 0 && nl < n; nl = chunk.indexOf(10, start)) {
      const bytes =
        pending.length === 0
          ? chunk.subarray(start, nl + 1)
          : Buffer.concat([...pending, chunk.subarray(start, nl + 1)]);
      pending = [];
      yield lineAt(bytes, number++, pos + nl + 1);
      start = nl + 1;
    }
    // The chunk is reused: keep a copy of the unfinished line.
    if (start < n) pending.push(Buffer.from(chunk.subarray(start, n)));
    pos += n;
  }
  if (pending.length > 0) yield lineAt(Buffer.concat(pending), number, pos);
}

/** Runs `fn` on the lines of a file from `offset`, closing the file afterwards. */
export function withFileLines<T>(
  file: string,
  offset: number,
  firstLine: number,
  fn: (lines: Generator<LineAt>) => T,
): T {
  const fd = openSync(file, 'r');
  try {
    return fn(linesFrom((position, buf) => readSync(fd, buf, 0, buf.length, position), offset, firstLine));
  } finally {
    closeSync(fd);
  }
}

/** Runs `fn` on the lines of an in-memory buffer from `offset`. */
export function withBufferLines<T>(
  data: Buffer,
  offset: number,
  firstLine: number,
  fn: (lines: Generator<LineAt>) => T,
): T {
  return fn(
    linesFrom(
      (position, buf) => (position >= data.length ? 0 : data.copy(buf, 0, position)),
      offset,
      firstLine,
    ),
  );
}
