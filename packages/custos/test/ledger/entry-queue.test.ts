import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EntryQueue } from '../../src/services/ledger/entry-queue.js';
import { entryViews } from '../../src/services/ledger/tree-hashing.js';

const utf8 = (s: string): string => Buffer.from(s, 'utf8').toString('hex');

/** Writes `text` as UTF-8 at the end of the queue, as the service writes an entry; its length. */
function push(q: EntryQueue, text: string): number {
  const room = text.length * 3;
  const buf = q.reserve(room);
  const n = buf.write(text, q.writeOffset, room, 'utf8');
  q.advance(n);
  return n;
}

describe('EntryQueue', () => {
  it('hands out exactly the UTF-8 of what was pushed, in order, however batches cut it', () => {
    fc.assert(
      fc.property(
        // Texts up to 200 kB, so runs cross the 1 MiB chunks, and non-ASCII ones.
        fc.array(
          fc.oneof(
            fc.string({ maxLength: 50 }),
            fc.string({ unit: 'grapheme', maxLength: 20 }),
            fc.integer({ min: 1, max: 200_000 }).map((n) => 'x'.repeat(n)),
          ),
          { maxLength: 60 },
        ),
        fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 20 }),
        (texts, cuts) => {
          const q = new EntryQueue();
          const lengths = texts.map((t) => push(q, t));
          expect(lengths).toEqual(texts.map((t) => Buffer.byteLength(t, 'utf8')));
          const got: string[] = [];
          let at = 0;
          for (let c = 0; at < texts.length; c++) {
            const n = Math.min(cuts[c % cuts.length] as number, texts.length - at);
            const taken = q.take(lengths.slice(at, at + n));
            expect([...taken.lengths]).toEqual(lengths.slice(at, at + n));
            got.push(...entryViews(taken).map((v) => Buffer.from(v).toString('hex')));
            at += n;
          }
          expect(got).toEqual(texts.map(utf8));
          expect(q.size).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('changes nothing until advanced, and refuses to advance past the reserved chunk', () => {
    const q = new EntryQueue();
    expect(push(q, 'abc')).toBe(3);
    // Written but not advanced past (an entry that failed to encode): not in the queue.
    const buf = q.reserve(10);
    buf.write('zzzz', q.writeOffset);
    expect(q.size).toBe(3);
    expect(push(q, 'defg')).toBe(4);
    const taken = q.take([3, 4]);
    expect(Buffer.from(taken.blob).toString()).toBe('abcdefg');
    q.reserve(16);
    expect(() => q.advance(1 << 21)).toThrow(RangeError);
  });

  it('keeps views it handed out intact while later entries are pushed and taken', () => {
    const q = new EntryQueue();
    push(q, 'first');
    const early = q.take([5]);
    for (let i = 0; i < 50_000; i++) push(q, `later entry ${i} ${'y'.repeat(40)}`);
    q.take(Array.from({ length: 50_000 }, (_, i) => Buffer.byteLength(`later entry ${i} ${'y'.repeat(40)}`)));
    expect(Buffer.from(early.blob).toString()).toBe('first');
  });

  it('starts a new chunk when the room asked for is not left in this one', () => {
    const q = new EntryQueue();
    // Fill a 1 MiB chunk to within 6 bytes, then ask for 7 bytes of room and write 5.
    const first = q.reserve(1 << 20);
    first.fill(0x66, 0, (1 << 20) - 6);
    q.advance((1 << 20) - 6);
    const second = q.reserve(7);
    expect(second).not.toBe(first);
    expect(q.writeOffset).toBe(0);
    const b = second.write('é€', q.writeOffset);
    q.advance(b);
    expect(b).toBe(5);
    const taken = q.take([(1 << 20) - 6, b]);
    expect(Buffer.from(entryViews(taken)[1] as Uint8Array).toString()).toBe('é€');
    expect(taken.blob.length).toBe((1 << 20) - 1);
    // Room that is left is used.
    expect(q.reserve(6)).toBe(second);
  });

  it('refuses to take more than was pushed', () => {
    const q = new EntryQueue();
    push(q, 'ab');
    expect(() => q.take([3])).toThrow(RangeError);
  });
});
