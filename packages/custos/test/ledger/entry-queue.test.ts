import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EntryQueue } from '../../src/services/ledger/entry-queue.js';
import { entryViews } from '../../src/services/ledger/tree-hashing.js';

const utf8 = (s: string): string => Buffer.from(s, 'utf8').toString('hex');

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
          const lengths = texts.map((t) => q.push(t, 1 << 20) as number);
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

  it('refuses a text longer than the limit and leaves the queue as it was', () => {
    const q = new EntryQueue();
    expect(q.push('abc', 10)).toBe(3);
    expect(q.push('é'.repeat(6), 10)).toBeUndefined(); // 12 bytes
    expect(q.push('defg', 10)).toBe(4);
    const taken = q.take([3, 4]);
    expect(Buffer.from(taken.blob).toString()).toBe('abcdefg');
  });

  it('keeps views it handed out intact while later entries are pushed and taken', () => {
    const q = new EntryQueue();
    q.push('first', 100);
    const early = q.take([5]);
    for (let i = 0; i < 50_000; i++) q.push(`later entry ${i} ${'y'.repeat(40)}`, 100);
    q.take(Array.from({ length: 50_000 }, (_, i) => Buffer.byteLength(`later entry ${i} ${'y'.repeat(40)}`)));
    expect(Buffer.from(early.blob).toString()).toBe('first');
  });

  it('starts a new chunk when the next text might not fit whole, however few characters it has', () => {
    const q = new EntryQueue();
    // Fill a 1 MiB chunk to within 3 bytes, then push two characters of 2 and 3 bytes.
    const filler = 'f'.repeat((1 << 20) - 3);
    const a = q.push(filler, 1 << 21) as number;
    const b = q.push('é€', 10) as number;
    expect(b).toBe(5);
    const taken = q.take([a, b]);
    expect(Buffer.from(entryViews(taken)[1] as Uint8Array).toString()).toBe('é€');
    expect(taken.blob.length).toBe(a + b);
  });

  it('refuses to take more than was pushed', () => {
    const q = new EntryQueue();
    q.push('ab', 10);
    expect(() => q.take([3])).toThrow(RangeError);
  });
});
