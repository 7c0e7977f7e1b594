import type { EncodedEntries } from './tree-hashing.js';

/** Bytes per chunk: a batch of a few thousand typical entries fits in one. */
const CHUNK_SIZE = 1 << 20;

interface Chunk {
  readonly buf: Buffer;
  /** End of the bytes written into it. */
  end: number;
}

/**
 * The UTF-8 bytes of entries waiting for their batch, first in first out. Each entry's text is
 * written straight into a large chunk when it is submitted, so an append allocates no buffer of
 * its own and its text dies young; a batch later takes the next entries' bytes as one run (a view
 * of the chunk, or one copy when the run spans chunks). Chunks are never reused: a view handed
 * out stays valid for as long as anyone holds it.
 */
export class EntryQueue {
  private chunks: Chunk[] = [];
  /** Offset of the first unread byte in chunks[0]. */
  private head = 0;

  /** Bytes written and not yet taken. */
  get size(): number {
    let n = 0;
    for (const c of this.chunks) n += c.end;
    return n - this.head;
  }

  /**
   * Writes `text` as UTF-8 at the end of the queue and returns its length in bytes, or, when it
   * is longer than `maxBytes`, leaves the queue as it was and returns undefined.
   */
  push(text: string, maxBytes: number): number | undefined {
    // UTF-8 takes at least one byte per UTF-16 code unit: refuse before allocating anything.
    if (text.length > maxBytes) return undefined;
    // And at most 3: with that much room, the text fits whole (Buffer.write would cut it short).
    const worst = text.length * 3;
    let last = this.chunks[this.chunks.length - 1];
    if (last === undefined || last.buf.length - last.end < worst) {
      if (this.size === 0) {
        this.chunks = [];
        this.head = 0;
      }
      last = { buf: Buffer.allocUnsafeSlow(Math.max(CHUNK_SIZE, worst)), end: 0 };
      this.chunks.push(last);
    }
    const n = last.buf.write(text, last.end, 'utf8');
    if (n > maxBytes) return undefined;
    last.end += n;
    return n;
  }

  /** Takes the next entries, of these byte lengths (as `push` returned them), off the front. */
  take(lengths: readonly number[]): EncodedEntries {
    const sizes = Uint32Array.from(lengths);
    let total = 0;
    for (const n of lengths) total += n;
    if (total > this.size) throw new RangeError('entry queue: taking more bytes than were pushed');
    const first = this.chunks[0] as Chunk;
    let blob: Buffer;
    if (this.head + total <= first.end) {
      blob = first.buf.subarray(this.head, this.head + total);
      this.head += total;
    } else {
      // The run spans chunks: copy it out.
      blob = Buffer.allocUnsafeSlow(total);
      let copied = 0;
      while (copied < total) {
        const chunk = this.chunks[0] as Chunk;
        const n = Math.min(total - copied, chunk.end - this.head);
        chunk.buf.copy(blob, copied, this.head, this.head + n);
        copied += n;
        this.head += n;
        this.dropRead();
      }
    }
    this.dropRead();
    return { blob, lengths: sizes };
  }

  /** Forgets chunks read to their end (but the one being written). */
  private dropRead(): void {
    while (this.chunks.length > 1 && this.head === (this.chunks[0] as Chunk).end) {
      this.chunks.shift();
      this.head = 0;
    }
  }
}
