import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RecordStore, StoredRecord } from '../../src/ports/record-store.js';

/** Creates a fresh, empty store and a cleanup for it. */
export type RecordStoreFactory = () => Promise<{ store: RecordStore; cleanup: () => Promise<void> }>;

function rec(subject: string, collection: string, id: string, v = 1): StoredRecord {
  return {
    subject,
    collection,
    id,
    keyVersion: v,
    sealed: randomBytes(40),
    updatedAt: 1_700_000_000_000 + v,
  };
}

/**
 * The `RecordStore` conformance suite. Every adapter (SQLite, PostgreSQL) runs exactly these tests
 * against a real database.
 */
export function recordStoreConformance(name: string, factory: RecordStoreFactory): void {
  describe(`RecordStore conformance: ${name}`, () => {
    let store: RecordStore;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await factory());
    });
    afterEach(async () => {
      await cleanup();
    });

    it('returns what was put, byte for byte', async () => {
      const r = rec('s1', 'profiles', 'p');
      await store.put(r);
      const got = await store.get('s1', 'profiles', 'p');
      expect(got).toBeDefined();
      expect(Buffer.from(got?.sealed ?? []).equals(Buffer.from(r.sealed))).toBe(true);
      expect(got?.keyVersion).toBe(1);
      expect(got?.updatedAt).toBe(r.updatedAt);
    });

    it('answers undefined for a missing record', async () => {
      expect(await store.get('nobody', 'profiles', 'p')).toBeUndefined();
    });

    it('replaces on a second put with the same key', async () => {
      await store.put(rec('s1', 'profiles', 'p', 1));
      const second = rec('s1', 'profiles', 'p', 2);
      await store.put(second);
      const got = await store.get('s1', 'profiles', 'p');
      expect(got?.keyVersion).toBe(2);
      expect(Buffer.from(got?.sealed ?? []).equals(Buffer.from(second.sealed))).toBe(true);
      expect(await store.scan(undefined, 10)).toHaveLength(1);
    });

    it('replace is a compare-and-set on the sealed bytes', async () => {
      const first = rec('s1', 'profiles', 'p', 1);
      await store.put(first);
      const second = rec('s1', 'profiles', 'p', 2);
      const third = rec('s1', 'profiles', 'p', 3);
      expect(await store.replace(second, first.sealed)).toBe(true);
      // A writer that read `first` lost the race: nothing is written.
      expect(await store.replace(third, first.sealed)).toBe(false);
      const got = await store.get('s1', 'profiles', 'p');
      expect(got?.keyVersion).toBe(2);
      expect(got?.updatedAt).toBe(second.updatedAt);
      expect(Buffer.from(got?.sealed ?? []).equals(Buffer.from(second.sealed))).toBe(true);
      // Racing replaces of the same version: exactly one wins.
      const racers = [4, 5, 6, 7].map((v) => rec('s1', 'profiles', 'p', v));
      const won = await Promise.all(racers.map((r) => store.replace(r, second.sealed)));
      expect(won.filter(Boolean)).toHaveLength(1);
      // A missing record is never created by replace.
      expect(await store.replace(rec('s2', 'profiles', 'p'), first.sealed)).toBe(false);
      expect(await store.get('s2', 'profiles', 'p')).toBeUndefined();
    });

    it('insertNew inserts only absent records, never replaces, and says which it inserted', async () => {
      const existing = rec('s1', 'profiles', 'taken', 7);
      await store.put(existing);
      const batch = [
        rec('s1', 'profiles', 'new1', 1),
        rec('s1', 'profiles', 'taken', 1),
        rec('s2', 'profiles', 'new1', 1),
        rec('s1', 'profiles', 'new1', 2),
      ];
      expect(await store.insertNew(batch)).toEqual([true, false, true, false]);
      const taken = await store.get('s1', 'profiles', 'taken');
      expect(taken?.keyVersion).toBe(7);
      expect(Buffer.from(taken?.sealed ?? []).equals(Buffer.from(existing.sealed))).toBe(true);
      // The first of two records with one key is the one inserted.
      const first = await store.get('s1', 'profiles', 'new1');
      expect(Buffer.from(first?.sealed ?? []).equals(Buffer.from(batch[0]?.sealed ?? []))).toBe(true);
      expect(await store.insertNew([])).toEqual([]);
      expect(await store.scan(undefined, 10)).toHaveLength(3);
    });

    it('insertNew handles a call larger than one bulk statement', async () => {
      const many = Array.from({ length: 6000 }, (_, i) => rec(`s${i % 50}`, 'msgs', `m${i}`));
      await store.put(many[1234] as StoredRecord);
      const inserted = await store.insertNew(many);
      expect(inserted.filter((x) => !x)).toHaveLength(1);
      expect(inserted[1234]).toBe(false);
      expect((await store.scan(undefined, 10_000)).length).toBe(6000);
    });

    it('keeps subjects, collections and ids apart', async () => {
      await store.putMany([rec('a', 'c1', 'x'), rec('b', 'c1', 'x'), rec('a', 'c2', 'x')]);
      expect((await store.get('a', 'c1', 'x'))?.subject).toBe('a');
      expect((await store.get('b', 'c1', 'x'))?.subject).toBe('b');
      expect((await store.get('a', 'c2', 'x'))?.collection).toBe('c2');
      expect(await store.get('b', 'c2', 'x')).toBeUndefined();
    });

    it('answers synchronous point reads (when offered) exactly as get does', async () => {
      const getNow = store.getNow?.bind(store);
      if (getNow === undefined) return; // optional capability; networked adapters omit it
      await store.putMany([rec('a', 'c1', 'x', 3), rec('b', 'c1', 'x')]);
      for (const [s, c, i] of [
        ['a', 'c1', 'x'],
        ['b', 'c1', 'x'],
        ['a', 'c1', 'missing'],
      ] as const) {
        expect(getNow(s, c, i)).toEqual(await store.get(s, c, i));
      }
      await store.put(rec('a', 'c1', 'x', 4));
      expect(getNow('a', 'c1', 'x')?.keyVersion).toBe(4); // reads its own writes
      await store.delete('a', 'c1', 'x');
      expect(getNow('a', 'c1', 'x')).toBeUndefined();
    });

    it('deletes and reports whether the record existed', async () => {
      await store.put(rec('s1', 'profiles', 'p'));
      expect(await store.delete('s1', 'profiles', 'p')).toBe(true);
      expect(await store.delete('s1', 'profiles', 'p')).toBe(false);
      expect(await store.get('s1', 'profiles', 'p')).toBeUndefined();
    });

    it('lists a collection in (subject, id) order, page by page', async () => {
      const all = [];
      for (let s = 0; s < 5; s++) for (let i = 0; i < 4; i++) all.push(rec(`s${s}`, 'msgs', `m${i}`));
      all.push(rec('s0', 'other', 'z'));
      await store.putMany(all.reverse());
      const seen: string[] = [];
      let after: { subject: string; id: string } | undefined;
      for (;;) {
        const page = await store.list({ collection: 'msgs', after, limit: 3 });
        if (page.length === 0) break;
        expect(page.length).toBeLessThanOrEqual(3);
        for (const r of page) seen.push(`${r.subject}/${r.id}`);
        const last = page[page.length - 1];
        after = last ? { subject: last.subject, id: last.id } : undefined;
      }
      const expected = [];
      for (let s = 0; s < 5; s++) for (let i = 0; i < 4; i++) expected.push(`s${s}/m${i}`);
      expect(seen).toEqual(expected);
    });

    it("lists one subject's records only", async () => {
      await store.putMany([rec('s1', 'msgs', 'a'), rec('s1', 'msgs', 'b'), rec('s2', 'msgs', 'a')]);
      const page = await store.list({ collection: 'msgs', subject: 's1', limit: 10 });
      expect(page.map((r) => r.id)).toEqual(['a', 'b']);
      const next = await store.list({
        collection: 'msgs',
        subject: 's1',
        after: { subject: 's1', id: 'a' },
        limit: 10,
      });
      expect(next.map((r) => r.id)).toEqual(['b']);
    });

    it('scans every location exactly once across pages', async () => {
      const all = [];
      for (let i = 0; i < 57; i++) all.push(rec(`s${i % 7}`, `c${i % 3}`, `r${i}`));
      await store.putMany(all);
      const seen = new Set<string>();
      let after: Awaited<ReturnType<RecordStore['scan']>>[number] | undefined;
      for (;;) {
        const page = await store.scan(after, 10);
        if (page.length === 0) break;
        for (const l of page) {
          const k = `${l.collection}/${l.subject}/${l.id}`;
          expect(seen.has(k)).toBe(false);
          seen.add(k);
        }
        after = page[page.length - 1];
      }
      expect(seen.size).toBe(57);
    });

    it('stores ids with unicode and punctuation unchanged', async () => {
      const r = rec('sübject-é', 'c', 'id:with.dots-and_ü');
      await store.put(r);
      expect((await store.get('sübject-é', 'c', 'id:with.dots-and_ü'))?.id).toBe('id:with.dots-and_ü');
    });

    it('putMany of an empty batch is a no-op', async () => {
      await store.putMany([]);
      expect(await store.scan(undefined, 10)).toEqual([]);
    });
  });
}
