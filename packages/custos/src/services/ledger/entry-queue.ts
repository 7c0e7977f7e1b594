import type { EncodedEntries } from './tree-hashing.js';

/** Bytes per chunk: a batch of a few thousand typical entries fits in one. */
const CHUNK_SIZE = 1 << 20;

interface Chunk {
  readonly buf: Buffer;
  /** End of the bytes written into it. */
  end: number;
}

/**
 * The UTF-8 bytes of entries waiting for their batch, first in first out. Each entry is encoded
 * straight into a large chunk when it is submitted, so an append allocates no buffer of its own; a batch later takes the next entries' bytes as one run (a view
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
   * The chunk the next entry is written into, at `writeOffset`, with at least `room` bytes free
   * there. Write the entry's bytes, then `advance` past them; until then the queue is unchanged.
   */
  reserve(room: number): Buffer {
    let last = this.chunks[this.chunks.length - 1];
    if (last === undefined || last.buf.length - last.end < room) {
      if (this.size === 0) {
        this.chunks = [];
        this.head = 0;
      }
      last = { buf: Buffer.allocUnsafeSlow(Math.max(CHUNK_SIZE, room)), end: 0 };
      this.chunks.push(last);
    }
    return last.buf;
  }

  /** Where in the chunk `reserve` returned the next entry starts. */
  get writeOffset(): number {
    return this.chunks[this.chunks.length - 1]?.end ?? 0;
  }

  /** Appends the `length` bytes written at `writeOffset` to the queue. */
  advance(length: number): void {
    const last = this.chunks[this.chunks.length - 1];
    if (last === undefined || last.end + length > last.buf.length) {
      throw new RangeError('entry queue: advancing past the reserved chunk');
    }
    last.end += length;
  }

  /** Takes the next entries, of these byte lengths (as they were advanced past), off the front. */
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
