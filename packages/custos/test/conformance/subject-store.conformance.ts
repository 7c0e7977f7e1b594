import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SubjectStore } from '../../src/ports/subject-store.js';

/** Creates a fresh, empty subject store and a cleanup for it. */
export type SubjectStoreFactory = () => Promise<{ store: SubjectStore; cleanup: () => Promise<void> }>;

const key = (subject: string, version = 1) => ({
  subject,
  version,
  kekVersion: 1,
  wrapped: Buffer.from(`wrapped-${subject}-${version}`),
});

/** The `SubjectStore` conformance suite, run against every adapter. */
export function subjectStoreConformance(name: string, factory: SubjectStoreFactory): void {
  describe(`SubjectStore conformance: ${name}`, () => {
    let store: SubjectStore;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await factory());
    });
    afterEach(async () => {
      await cleanup();
    });

    it('creates a subject with its first key, once', async () => {
      expect(await store.create({ id: 'a', jurisdiction: 'US', erasedAt: undefined }, key('a'))).toBe(true);
      expect(await store.create({ id: 'a', jurisdiction: 'SG', erasedAt: undefined }, key('a'))).toBe(false);
      expect(await store.get('a')).toEqual({ id: 'a', jurisdiction: 'US', erasedAt: undefined });
      const keys = await store.keys('a');
      expect(keys).toHaveLength(1);
      expect(Buffer.from(keys[0]?.wrapped ?? []).toString()).toBe('wrapped-a-1');
      expect(await store.count()).toBe(1);
    });

    it('creates many subjects in one call, skipping existing ones', async () => {
      await store.create({ id: 'a', jurisdiction: 'US', erasedAt: undefined }, key('a'));
      const entries = ['a', 'b', 'c'].map((id) => ({
        subject: { id, jurisdiction: 'SG', erasedAt: undefined },
        key: key(id),
      }));
      expect(await store.createMany(entries)).toBe(2);
      expect((await store.get('a'))?.jurisdiction).toBe('US');
      expect((await store.get('c'))?.jurisdiction).toBe('SG');
      expect((await store.keys('b')).length).toBe(1);
      expect(await store.createMany([])).toBe(0);
    });

    it('looks up many subjects at once, omitting unknown ones', async () => {
      await store.create({ id: 'a', jurisdiction: 'US', erasedAt: undefined }, key('a'));
      await store.create({ id: 'b', jurisdiction: 'SG', erasedAt: undefined }, key('b'));
      const many = await store.getMany(['a', 'b', 'zz']);
      expect([...many.keys()].sort()).toEqual(['a', 'b']);
      expect(many.get('b')?.jurisdiction).toBe('SG');
    });

    it('erasure destroys every key and leaves a tombstone', async () => {
      await store.create({ id: 'a', jurisdiction: 'US', erasedAt: undefined }, key('a'));
      expect(await store.erase('a', 1234)).toBe(true);
      expect(await store.keys('a')).toEqual([]);
      expect((await store.get('a'))?.erasedAt).toBe(1234);
      expect(await store.erase('a', 5678)).toBe(false);
      expect((await store.get('a'))?.erasedAt).toBe(1234);
    });

    it('lists key rows wrapped under an older KEK, per jurisdiction, in order, and rewraps with compare-and-set', async () => {
      await store.create({ id: 'b', jurisdiction: 'US', erasedAt: undefined }, key('b'));
      await store.create({ id: 'a', jurisdiction: 'US', erasedAt: undefined }, key('a'));
      await store.create({ id: 's', jurisdiction: 'SG', erasedAt: undefined }, key('s'));
      const before = await store.keysWrappedBefore('US', 2, 10);
      expect(before.map((r) => r.subject)).toEqual(['a', 'b']);
      expect(await store.keysWrappedBefore('US', 2, 1)).toHaveLength(1);
      expect(await store.keysWrappedBefore('US', 1, 10)).toEqual([]);
      const a = before[0] as (typeof before)[number];
      const next = { ...a, kekVersion: 2, wrapped: Buffer.from('rewrapped-a') };
      expect(await store.rewrap(next, 1)).toBe(true);
      // Compare-and-set: the row is no longer under v1, so a stale second rewrap changes nothing.
      expect(await store.rewrap({ ...a, kekVersion: 2, wrapped: Buffer.from('stale') }, 1)).toBe(false);
      const keys = await store.keys('a');
      expect(keys[0]?.kekVersion).toBe(2);
      expect(Buffer.from(keys[0]?.wrapped ?? []).toString()).toBe('rewrapped-a');
      expect((await store.keysWrappedBefore('US', 2, 10)).map((r) => r.subject)).toEqual(['b']);
      // An erased subject has no key rows left to rewrap, and a rewrap cannot bring one back.
      await store.erase('b', 1);
      expect(await store.keysWrappedBefore('US', 2, 10)).toEqual([]);
      expect(await store.rewrap({ ...key('b'), kekVersion: 2 }, 1)).toBe(false);
      expect(await store.keys('b')).toEqual([]);
    });

    it('a raised KEK floor refuses older keys in create and createMany, per jurisdiction, and never goes down', async () => {
      const at = (subject: string, kekVersion: number) => ({ ...key(subject), kekVersion });
      const us = (id: string) => ({ id, jurisdiction: 'US', erasedAt: undefined });
      expect(await store.create(us('old'), at('old', 1))).toBe(true);
      await store.raiseKekFloor('US', 3);
      await expect(store.create(us('a'), at('a', 2))).rejects.toMatchObject({ code: 'KEK_STALE' });
      expect(await store.get('a')).toBeUndefined();
      expect(await store.create(us('a'), at('a', 3))).toBe(true);
      expect(await store.create(us('b'), at('b', 4))).toBe(true);
      // Another jurisdiction has its own floor.
      expect(await store.create({ id: 's', jurisdiction: 'SG', erasedAt: undefined }, at('s', 1))).toBe(true);
      // One stale key refuses the whole call: nothing of it is written.
      await expect(
        store.createMany([
          { subject: us('c'), key: at('c', 3) },
          { subject: us('d'), key: at('d', 2) },
        ]),
      ).rejects.toMatchObject({ code: 'KEK_STALE' });
      expect(await store.get('c')).toBeUndefined();
      expect(await store.get('d')).toBeUndefined();
      expect(await store.createMany([{ subject: us('c'), key: at('c', 3) }])).toBe(1);
      // Lowering is ignored.
      await store.raiseKekFloor('US', 1);
      await expect(store.create(us('e'), at('e', 2))).rejects.toMatchObject({ code: 'KEK_STALE' });
      // Rows that got in before the floor are still listed for the rewrap.
      expect((await store.keysWrappedBefore('US', 3, 10)).map((r) => r.subject)).toEqual(['old']);
    });

    it('erasing an unknown subject reports false', async () => {
      expect(await store.erase('ghost', 1)).toBe(false);
    });
  });
}
