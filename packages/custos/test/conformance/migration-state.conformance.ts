import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DatasetState, MigratedRecord, MigrationStateStore } from '../../src/ports/migration-state.js';
import { freshState } from '../../src/services/migrate/migration-context.js';

/** Creates a fresh, empty state store and a cleanup for it. */
export type MigrationStateFactory = () => Promise<{
  store: MigrationStateStore;
  cleanup: () => Promise<void>;
}>;

function rec(seq: number, key = `k${String(seq).padStart(3, '0')}`): MigratedRecord {
  return {
    seq,
    sourceKey: key,
    subject: `s${seq % 3}`,
    id: `r${seq}`,
    digest: new Uint8Array(32).fill(seq),
    store: 'us-main',
    deleted: false,
  };
}

function state(patch: Partial<DatasetState> = {}): DatasetState {
  return { ...freshState('src/profiles', 1), ...patch };
}

/** The `MigrationStateStore` conformance suite, run against every adapter on a real database. */
export function migrationStateConformance(name: string, factory: MigrationStateFactory): void {
  describe(`MigrationStateStore conformance: ${name}`, () => {
    let store: MigrationStateStore;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await factory());
    });
    afterEach(async () => {
      await cleanup();
    });

    it('lets one holder at a time take the lock, even within one process', async () => {
      const release = await store.lock();
      await expect(store.lock()).rejects.toMatchObject({ code: 'MIGRATION_BUSY' });
      await release();
      const again = await store.lock();
      await expect(store.lock()).rejects.toMatchObject({ code: 'MIGRATION_BUSY' });
      await again();
      // Releasing twice is harmless and frees nothing that someone else holds.
      const third = await store.lock();
      await again();
      await expect(store.lock()).rejects.toMatchObject({ code: 'MIGRATION_BUSY' });
      await third();
    });

    it('has no state for an unknown dataset, and returns a saved state as saved', async () => {
      expect(await store.dataset('src/profiles')).toBeUndefined();
      const s = state({ cursor: '"p9"', batches: 2, range: { size: 1, hashes: ['ab'.repeat(32)] } });
      await store.save(s);
      expect(await store.dataset('src/profiles')).toEqual(s);
      await store.save(state({ dataset: 'a/b' }));
      expect((await store.datasets()).map((d) => d.dataset)).toEqual(['a/b', 'src/profiles']);
    });

    it('commits a batch atomically: records, held rows, released keys and the state', async () => {
      await store.commitCopy(
        state({ copied: 3, held: 2 }),
        [rec(0), rec(1), rec(2)],
        [
          { sourceKey: 'h1', at: 'line 4', reason: 'unknown-jurisdiction', detail: 'no jurisdiction' },
          { sourceKey: 'h2', at: 'line 5', reason: 'bad-record', detail: 'malformed JSON' },
        ],
        [],
      );
      const all = await store.records('src/profiles', -1, 10, 'all');
      expect(all.map((r) => r.seq)).toEqual([0, 1, 2]);
      expect(all[1]).toEqual(rec(1));
      expect(await store.countHeld('src/profiles')).toBe(2);
      expect((await store.held('src/profiles', '', 10)).map((h) => [h.sourceKey, h.reason])).toEqual([
        ['h1', 'unknown-jurisdiction'],
        ['h2', 'bad-record'],
      ]);
      await store.commitCopy(state({ copied: 4, held: 1 }), [rec(3, 'h1')], [], ['h1']);
      expect(await store.countHeld('src/profiles')).toBe(1);
      expect((await store.dataset('src/profiles'))?.copied).toBe(4);
    });

    it('keeps the first record for a sequence number (a batch re-run after a crash changes nothing)', async () => {
      await store.commitCopy(state(), [rec(0, 'same')], [], []);
      await store.commitCopy(state(), [{ ...rec(0, 'same'), store: 'other' }], [], []);
      const all = await store.records('src/profiles', -1, 10, 'all');
      expect(all.length).toBe(1);
      expect(all[0]?.store).toBe('us-main');
    });

    it('pages records by sequence and by deletion, and marks deletions with the state', async () => {
      await store.commitCopy(
        state(),
        [0, 1, 2, 3, 4].map((i) => rec(i)),
        [],
        [],
      );
      expect((await store.records('src/profiles', 1, 2, 'copied')).map((r) => r.seq)).toEqual([2, 3]);
      await store.commitDelete(state({ deleted: 2, phase: 'purging' }), [1, 3]);
      expect((await store.records('src/profiles', -1, 10, 'copied')).map((r) => r.seq)).toEqual([0, 2, 4]);
      expect((await store.records('src/profiles', -1, 10, 'deleted')).map((r) => [r.seq, r.deleted])).toEqual(
        [
          [1, true],
          [3, true],
        ],
      );
      expect((await store.dataset('src/profiles'))?.phase).toBe('purging');
      expect(await store.records('other/x', -1, 10, 'all')).toEqual([]);
    });
  });
}
