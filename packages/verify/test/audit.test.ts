import {
  type AuditReport,
  auditLedger,
  buildTiles,
  encodeEntry,
  entryBundlePath,
  generateNoteKey,
  hashTilePath,
  MemoryTileSource,
  parseVerifierKey,
  type TileSource,
  toBase64,
} from '@custos/verify';
import { createWorkerCheckPool } from '@custos/verify/node';
import { afterAll, describe, expect, it } from 'vitest';
import { sampleEntry } from './helpers/entries.js';
import { createLog, replaceBundles, rootOf, signFor } from './helpers/log-fixture.js';

const checks = (r: AuditReport) => r.failures.map((f) => f.check);

function editByte(files: Map<string, Uint8Array>, index: number, find: string, replace: string): void {
  // Edit entry `index` inside its bundle (the database row changed; the tiles did not).
  const path = [...files.keys()].find((p) =>
    p.startsWith(`tile/entries/${String(Math.floor(index / 256)).padStart(3, '0')}`),
  );
  const bundle = files.get(path as string) as Uint8Array;
  const entry = encodeEntry(sampleEntry(index));
  const text = new TextDecoder().decode(entry);
  const edited = new TextEncoder().encode(text.replace(find, replace));
  expect(edited.length).toBe(entry.length);
  const at = Buffer.from(bundle).indexOf(Buffer.from(entry));
  expect(at).toBeGreaterThan(0);
  const copy = bundle.slice();
  copy.set(edited, at);
  files.set(path as string, copy);
}

type Audit = typeof auditLedger;

/** Every audit case, run once on this thread and once with a pool of bundle-checking threads. */
function auditSuites(mode: string, audit: Audit): void {
  describe(mode, () => {
    describe('offline audit: happy paths', () => {
      it.each([0, 1, 255, 256, 257, 600])('verifies a log of %i entries', async (n) => {
        const log = await createLog(n);
        const report = await audit(new MemoryTileSource(log.files), { verifiers: log.verifiers });
        expect(report.failures).toEqual([]);
        expect(report).toMatchObject({
          ok: true,
          origin: log.origin,
          size: n,
          root: toBase64(log.root),
          entriesChecked: n,
        });
      });

      it('verifies a log spanning three tile levels, with progress', async () => {
        const n = 256 * 256 + 300;
        const log = await createLog(n);
        const progress: number[] = [];
        const report = await audit(new MemoryTileSource(log.files), {
          verifiers: log.verifiers,
          onProgress: (done) => progress.push(done),
        });
        expect(report.failures).toEqual([]);
        expect(report.ok).toBe(true);
        expect(progress.at(-1)).toBe(n);
        expect(log.files.has('tile/2/000.p/1')).toBe(true);
      });

      it('falls back to full tiles when partial ones were deleted after the log grew', async () => {
        const grown = await createLog(600);
        const old = await createLog(0, { key: grown.key, entries: grown.entries.slice(0, 260) });
        // Serve the grown log's files with the checkpoint of the old size. A log may delete a
        // partial tile once the full one exists: tile/entries/001.p/4 and tile/0/001.p/4 are gone,
        // tile/1/000.p/1 must stay (there is no full tile/1/000 yet).
        const files = new Map(grown.files);
        files.set('checkpoint', new TextEncoder().encode(old.checkpoint));
        files.set('tile/1/000.p/1', old.files.get('tile/1/000.p/1') as Uint8Array);
        expect(files.has(entryBundlePath(1, 4))).toBe(false);
        expect(files.has(hashTilePath(0, 1, 4))).toBe(false);
        const report = await audit(new MemoryTileSource(files), { verifiers: grown.verifiers });
        expect(report.failures).toEqual([]);
        expect(report.size).toBe(260);
      });

      it('accepts growth consistent with the trusted state', async () => {
        const log = await createLog(700);
        for (const trustedSize of [0, 1, 256, 300, 700]) {
          const trusted = { size: trustedSize, root: rootOf(log.entries.slice(0, trustedSize)) };
          const report = await audit(new MemoryTileSource(log.files), {
            verifiers: log.verifiers,
            trusted,
          });
          expect(report.failures).toEqual([]);
        }
      });
    });

    describe('offline audit: tampering is detected and located', () => {
      it('an edited entry byte: names the entry whose leaf hash differs from the hash tile', async () => {
        const log = await createLog(600);
        editByte(log.files, 300, 'records.read', 'records.reaD');
        const report = await audit(new MemoryTileSource(log.files), { verifiers: log.verifiers });
        expect(report.ok).toBe(false);
        expect(report.failures[0]).toMatchObject({ check: 'hash-tile', index: 300 });
        expect(report.failures[0]?.message).toContain(
          'entry 300: leaf hash does not match hash tile tile/0/001',
        );
        expect(checks(report)).toContain('root');
        expect(checks(report)).not.toContain('entry-schema');
      });

      it('an edit that breaks the schema is reported as entry-schema at that index', async () => {
        const log = await createLog(10);
        editByte(log.files, 3, '"decision":"deny"', '"decision":"DENY"');
        editByte(log.files, 5, '"decision":"allow"', '"decision":"alloW"');
        const report = await audit(new MemoryTileSource(log.files), { verifiers: log.verifiers });
        const schema = report.failures.filter((f) => f.check === 'entry-schema');
        expect(schema.map((f) => [f.index, f.code])).toEqual([
          [3, 'ENTRY_INVALID'],
          [5, 'ENTRY_INVALID'],
        ]);
        expect(schema[0]?.message).toContain('decision must be one of');
      });

      it('a deleted entry: names the first shifted entry and the short bundle', async () => {
        const log = await createLog(600);
        replaceBundles(log.files, [...log.entries.slice(0, 123), ...log.entries.slice(124)]);
        const report = await audit(new MemoryTileSource(log.files), { verifiers: log.verifiers });
        expect(report.ok).toBe(false);
        expect(report.failures[0]).toMatchObject({ check: 'hash-tile', index: 123 });
        expect(checks(report)).toContain('entry-bundle');
      });

      it('swapped entries: names the first swapped index', async () => {
        const log = await createLog(600);
        const swapped = [...log.entries];
        [swapped[401], swapped[402]] = [swapped[402] as Uint8Array, swapped[401] as Uint8Array];
        replaceBundles(log.files, swapped);
        const report = await audit(new MemoryTileSource(log.files), { verifiers: log.verifiers });
        expect(report.failures[0]).toMatchObject({ check: 'hash-tile', index: 401 });
        expect(checks(report)).toEqual(['hash-tile', 'root']);
      });

      it('a truncated log: missing bundles are named', async () => {
        const log = await createLog(600);
        log.files.delete(entryBundlePath(2, 88));
        log.files.delete(entryBundlePath(1));
        const report = await audit(new MemoryTileSource(log.files), { verifiers: log.verifiers });
        expect(report.failures[0]).toMatchObject({ check: 'entry-bundle', index: 256 });
        expect(report.failures[0]?.message).toContain('tile/entries/001 is missing');
        expect(checks(report)).toContain('root');
        expect(report.entriesChecked).toBe(256);
      });

      it('a truncated bundle: fewer entries than the checkpoint covers', async () => {
        const log = await createLog(300);
        replaceBundles(log.files, log.entries.slice(0, 299));
        log.files.set(
          entryBundlePath(1, 44),
          buildTiles(log.entries.slice(0, 299)).get(entryBundlePath(1, 43)) as Uint8Array,
        );
        const report = await audit(new MemoryTileSource(log.files), { verifiers: log.verifiers });
        expect(report.failures).toContainEqual(expect.objectContaining({ check: 'entry-count', index: 299 }));
      });

      it('a "full" bundle served for a missing partial one must hold 256 entries', async () => {
        const log = await createLog(300);
        const grown = buildTiles([...log.entries, ...log.entries.slice(0, 56)]);
        log.files.delete(entryBundlePath(1, 44));
        log.files.set(entryBundlePath(1), grown.get(entryBundlePath(1, 100)) as Uint8Array);
        const report = await audit(new MemoryTileSource(log.files), { verifiers: log.verifiers });
        expect(report.failures).toEqual([
          expect.objectContaining({
            check: 'entry-count',
            index: 256,
            message: 'tile/entries/001 holds 100 entries, expected 256',
          }),
        ]);
      });

      it('a truncated log re-signed at a smaller size: rollback against the trusted state', async () => {
        const log = await createLog(600);
        const small = await createLog(0, { key: log.key, entries: log.entries.slice(0, 500) });
        const report = await audit(new MemoryTileSource(small.files), {
          verifiers: log.verifiers,
          trusted: { size: 600, root: log.root },
        });
        expect(report.ok).toBe(false);
        expect(report.failures).toEqual([
          expect.objectContaining({
            check: 'consistency',
            message: expect.stringContaining('checkpoint is smaller than trusted state'),
          }),
        ]);
      });

      it('a checkpoint claiming a huge size fails fast without allocating per entry', async () => {
        const log = await createLog(300);
        const huge = 2 ** 50;
        log.files.set(
          'checkpoint',
          new TextEncoder().encode(await signFor(log.key, log.origin, huge, log.root)),
        );
        const report = await audit(new MemoryTileSource(log.files), { verifiers: log.verifiers });
        expect(report.failures[0]).toMatchObject({ check: 'entry-bundle', index: 256 });
        expect(report.entriesChecked).toBe(256);
      });

      it('a checkpoint signed by another key', async () => {
        const log = await createLog(10);
        const attacker = await generateNoteKey(log.origin);
        log.files.set(
          'checkpoint',
          new TextEncoder().encode(await signFor(attacker, log.origin, 10, log.root)),
        );
        const report = await audit(new MemoryTileSource(log.files), { verifiers: log.verifiers });
        expect(report.failures).toEqual([
          expect.objectContaining({ check: 'checkpoint-signature', code: 'NOTE_UNVERIFIED' }),
        ]);
        const foreign = await generateNoteKey('elsewhere.example/log');
        const r2 = await audit(new MemoryTileSource(log.files), {
          verifiers: [parseVerifierKey(foreign.verifierKey)],
        });
        expect(r2.failures).toEqual([
          expect.objectContaining({ check: 'checkpoint-signature', code: 'ORIGIN_MISMATCH' }),
        ]);
      });

      it('a fork: same size, different root, signed with the right key', async () => {
        const log = await createLog(300);
        const rewritten = [...log.entries];
        rewritten[7] = encodeEntry(sampleEntry(7, { decision: 'allow', reasons: ['quietly allowed'] }));
        const forked = await createLog(0, { key: log.key, entries: rewritten });
        const report = await audit(new MemoryTileSource(forked.files), {
          verifiers: log.verifiers,
          trusted: { size: 300, root: log.root },
        });
        expect(report.failures).toEqual([
          expect.objectContaining({ check: 'consistency', message: expect.stringContaining('fork') }),
        ]);
      });

      it('a rewritten history: the log grew but an entry before the trusted size changed', async () => {
        const log = await createLog(300);
        const rewritten = [...log.entries, encodeEntry(sampleEntry(300))];
        rewritten[7] = encodeEntry(sampleEntry(7, { reasons: ['rewritten'] }));
        const grown = await createLog(0, { key: log.key, entries: rewritten });
        const report = await audit(new MemoryTileSource(grown.files), {
          verifiers: log.verifiers,
          trusted: { size: 300, root: log.root },
        });
        expect(report.failures).toEqual([
          expect.objectContaining({
            check: 'consistency',
            index: 300,
            message: expect.stringContaining('log rewritten'),
          }),
        ]);
      });

      it('consistently forged tiles without a new signature: root mismatch', async () => {
        const log = await createLog(300);
        const forged = [...log.entries];
        forged[9] = encodeEntry(sampleEntry(9, { reasons: ['forged'] }));
        for (const [path, bytes] of buildTiles(forged)) log.files.set(path, bytes);
        const report = await audit(new MemoryTileSource(log.files), { verifiers: log.verifiers });
        expect(checks(report)).toEqual(['root']);
        expect(report.failures[0]?.message).toContain('root mismatch');
      });

      it('a tampered upper-level tile is named', async () => {
        const log = await createLog(600);
        const t = (log.files.get(hashTilePath(1, 0, 2)) as Uint8Array).slice();
        t[40] = (t[40] as number) ^ 1;
        log.files.set(hashTilePath(1, 0, 2), t);
        const report = await audit(new MemoryTileSource(log.files), { verifiers: log.verifiers });
        expect(report.failures).toEqual([
          expect.objectContaining({
            check: 'hash-tile',
            index: 256,
            message: expect.stringContaining('tile/1/000.p/2 hash 1'),
          }),
        ]);
      });

      it('missing and malformed tiles, and undecodable bundles', async () => {
        const log = await createLog(300);
        log.files.delete(hashTilePath(0, 0));
        log.files.set(hashTilePath(0, 1, 44), new Uint8Array(5));
        const r1 = await audit(new MemoryTileSource(log.files), { verifiers: log.verifiers });
        expect(r1.failures.map((f) => [f.check, f.index, f.code])).toEqual([
          ['hash-tile', 0, undefined],
          ['hash-tile', 256, 'TILE_MALFORMED'],
        ]);
        const log2 = await createLog(10);
        log2.files.set(entryBundlePath(0, 10), new Uint8Array([0, 9, 1]));
        const r2 = await audit(new MemoryTileSource(log2.files), { verifiers: log2.verifiers });
        expect(r2.failures[0]).toMatchObject({ check: 'entry-bundle', index: 0, code: 'BUNDLE_MALFORMED' });
      });

      it('lists at most maxFailuresPerCheck failures per check, then counts', async () => {
        const garbage = Array.from({ length: 30 }, (_, i) => new TextEncoder().encode(`not json ${i}`));
        const log = await createLog(0, { entries: garbage });
        const report = await audit(new MemoryTileSource(log.files), {
          verifiers: log.verifiers,
          maxFailuresPerCheck: 5,
        });
        const schema = report.failures.filter((f) => f.check === 'entry-schema');
        expect(schema).toHaveLength(6);
        expect(schema.at(-1)?.message).toBe('25 more entry-schema failures not listed');
      });

      it('a missing or malformed checkpoint', async () => {
        const log = await createLog(3);
        log.files.delete('checkpoint');
        const r1 = await audit(new MemoryTileSource(log.files), { verifiers: log.verifiers });
        expect(r1.failures).toEqual([expect.objectContaining({ check: 'checkpoint' })]);
        const r2 = await audit(new MemoryTileSource(log.files), {
          verifiers: log.verifiers,
          checkpoint: 'nonsense',
        });
        expect(r2.failures).toEqual([
          expect.objectContaining({ check: 'checkpoint', code: 'NOTE_MALFORMED' }),
        ]);
      });

      it('does not leave unhandled rejections from prefetches when it stops at a missing bundle', async () => {
        const log = await createLog(2000);
        const source: TileSource = {
          get: async (path) => {
            if (path.startsWith('tile/entries/001')) return undefined;
            if (path.startsWith('tile/entries/0') && path !== 'tile/entries/000')
              throw new Error('network down');
            return log.files.get(path);
          },
        };
        const report = await audit(source, { verifiers: log.verifiers });
        expect(report.failures[0]).toMatchObject({ check: 'entry-bundle', index: 256 });
        await new Promise((resolve) => setTimeout(resolve, 20));
      });

      it('aborts the reads still in flight once the scan stops', async () => {
        const log = await createLog(1000);
        const signals: AbortSignal[] = [];
        const source: TileSource = {
          get: (path, options) => {
            if (path === 'tile/entries/000') return Promise.resolve(undefined);
            if (!path.startsWith('tile/entries/')) return Promise.resolve(log.files.get(path));
            // A read that never completes unless aborted.
            const signal = options?.signal;
            if (signal !== undefined) signals.push(signal);
            return new Promise((_resolve, reject) =>
              signal?.addEventListener('abort', () => reject(signal.reason)),
            );
          },
        };
        const report = await audit(source, { verifiers: log.verifiers });
        expect(report.failures[0]).toMatchObject({ check: 'entry-bundle', index: 0 });
        expect(signals.length).toBeGreaterThan(0);
        expect(signals.every((signal) => signal.aborted)).toBe(true);
      });

      it('requires the trusted witnesses to have cosigned: checkpoint-witness', async () => {
        const log = await createLog(3);
        const witness = parseVerifierKey((await generateNoteKey('witness.example/w1', 4)).verifierKey);
        const verifiers = [...log.verifiers, witness];
        const report = await audit(new MemoryTileSource(log.files), { verifiers });
        expect(report.failures).toEqual([
          expect.objectContaining({ check: 'checkpoint-witness', code: 'COSIGNATURE_MISSING' }),
        ]);
        const relaxed = await audit(new MemoryTileSource(log.files), { verifiers, minWitnesses: 0 });
        expect(relaxed.ok).toBe(true);
        await expect(audit(new MemoryTileSource(log.files), { verifiers, minWitnesses: 2 })).rejects.toThrow(
          'minWitnesses',
        );
      });

      it('lets I/O errors of the source propagate', async () => {
        const log = await createLog(3);
        const failing: TileSource = {
          get: async (path) => {
            if (path === 'checkpoint') return log.files.get(path);
            throw new Error('disk on fire');
          },
        };
        await expect(audit(failing, { verifiers: log.verifiers })).rejects.toThrow('disk on fire');
      });
    });
  });
}

auditSuites('in-thread', auditLedger);

const pool = createWorkerCheckPool(2);
afterAll(() => pool.close());
auditSuites('worker pool', (source, options) => auditLedger(source, { ...options, pool }));
