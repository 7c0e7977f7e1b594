import {
  buildTiles,
  decodeEntryBundle,
  decodeHashTile,
  encodeEntryBundle,
  encodeHashTile,
  entryBundlePath,
  entryBundlesForSize,
  formatTileIndex,
  formatTilePath,
  hashTileFor,
  hashTilePath,
  hashTilesForSize,
  isVerifyError,
  locateNodeInTiles,
  MerkleTree,
  nodeFromTiles,
  parseTilePath,
  planInclusionProof,
  resolveProofPlanAsync,
  type TileRef,
  type VerifyErrorCode,
} from '@custos/verify';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

function codeOf(f: () => unknown): VerifyErrorCode | undefined {
  try {
    f();
  } catch (err) {
    if (isVerifyError(err)) return err.code;
    throw err;
  }
  return undefined;
}

describe('tile paths (c2sp.org/tlog-tiles)', () => {
  it('encodes indices in 3-digit groups with x prefixes', () => {
    expect(formatTileIndex(1234067)).toBe('x001/x234/067');
    expect(formatTileIndex(0)).toBe('000');
    expect(formatTileIndex(5)).toBe('005');
    expect(formatTileIndex(1000)).toBe('x001/000');
    expect(hashTilePath(0, 1234067)).toBe('tile/0/x001/x234/067');
    expect(hashTilePath(2, 3, 17)).toBe('tile/2/003.p/17');
    expect(entryBundlePath(1234067, 5)).toBe('tile/entries/x001/x234/067.p/5');
    expect(entryBundlePath(0)).toBe('tile/entries/000');
  });

  it('parses what it formats', () => {
    const ref = fc.oneof(
      fc.record({
        kind: fc.constant('hash' as const),
        level: fc.integer({ min: 0, max: 63 }),
        index: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        width: fc.integer({ min: 1, max: 256 }),
      }),
      fc.record({
        kind: fc.constant('entries' as const),
        index: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        width: fc.integer({ min: 1, max: 256 }),
      }),
    );
    fc.assert(
      fc.property(ref, (r: TileRef) => {
        expect(parseTilePath(formatTilePath(r))).toEqual(r);
      }),
    );
  });

  it.each([
    'tile/0/5',
    'tile/0/0005',
    'tile/0/x000/005',
    'tile/0/001/002',
    'tile/00/000',
    'tile/64/000',
    'tile/-1/000',
    'tile/0/000.p/0',
    'tile/0/000.p/256',
    'tile/0/000.p/012',
    'tile/0/000.p/',
    'tile/0/000.p/5/',
    'tile/entries/x1/000',
    'tile/entry/000',
    '/tile/0/000',
    'tile/0/000 ',
    'tile/0/x999/x999/x999/x999/x999/999',
    '',
  ])('rejects %j', (path) => {
    expect(codeOf(() => parseTilePath(path))).toBe('TILE_PATH_MALFORMED');
  });

  it('rejects out-of-range inputs when formatting', () => {
    expect(codeOf(() => formatTileIndex(-1))).toBe('TILE_PATH_MALFORMED');
    expect(codeOf(() => hashTilePath(64, 0))).toBe('TILE_PATH_MALFORMED');
    expect(codeOf(() => hashTilePath(0, 0, 0))).toBe('TILE_PATH_MALFORMED');
    expect(codeOf(() => entryBundlePath(0, 257))).toBe('TILE_PATH_MALFORMED');
  });
});

describe('tiles needed for a tree size', () => {
  it('matches the tlog-tiles example for size 70,000', () => {
    const tiles = hashTilesForSize(70000);
    const at = (l: number) => tiles.filter((t) => t.kind === 'hash' && t.level === l);
    expect(at(0).filter((t) => t.width === 256)).toHaveLength(273);
    expect(at(0).at(-1)).toEqual({ kind: 'hash', level: 0, index: 273, width: 112 });
    expect(at(1)).toEqual([
      { kind: 'hash', level: 1, index: 0, width: 256 },
      { kind: 'hash', level: 1, index: 1, width: 17 },
    ]);
    expect(at(2)).toEqual([{ kind: 'hash', level: 2, index: 0, width: 1 }]);
    expect(tiles).toHaveLength(273 + 1 + 2 + 1);
  });

  it('represents size 256 as a full level-0 tile and a partial level-1 tile of width 1', () => {
    expect(hashTilesForSize(256).map(formatTilePath)).toEqual(['tile/0/000', 'tile/1/000.p/1']);
    expect(hashTilesForSize(0)).toEqual([]);
    expect(entryBundlesForSize(513).map(formatTilePath)).toEqual([
      'tile/entries/000',
      'tile/entries/001',
      'tile/entries/002.p/1',
    ]);
    expect(hashTileFor(0, 300, 513)).toEqual({ kind: 'hash', level: 0, index: 1, width: 256 });
    expect(hashTileFor(0, 512, 513)).toEqual({ kind: 'hash', level: 0, index: 2, width: 1 });
    expect(codeOf(() => hashTileFor(0, 513, 513))).toBe('RANGE_INVALID');
  });
});

describe('entry bundles and hash tiles', () => {
  it('round-trips entries with uint16 length prefixes', () => {
    const entries = [new Uint8Array(0), new Uint8Array([0x61]), new Uint8Array(65535).fill(7)];
    const b = encodeEntryBundle(entries);
    expect(Buffer.from(b.subarray(0, 5)).toString('hex')).toBe('0000000161');
    expect(decodeEntryBundle(b)).toEqual(entries);
  });

  it('rejects truncated, oversized and overfull bundles with BUNDLE_MALFORMED', () => {
    const b = encodeEntryBundle([new Uint8Array([1, 2, 3])]);
    expect(codeOf(() => decodeEntryBundle(b.subarray(0, b.length - 1)))).toBe('BUNDLE_MALFORMED');
    expect(codeOf(() => decodeEntryBundle(new Uint8Array([0])))).toBe('BUNDLE_MALFORMED');
    expect(codeOf(() => decodeEntryBundle(new Uint8Array([0xff, 0xff, 1])))).toBe('BUNDLE_MALFORMED');
    expect(codeOf(() => encodeEntryBundle([new Uint8Array(65536)]))).toBe('BUNDLE_MALFORMED');
    expect(codeOf(() => encodeEntryBundle(Array(257).fill(new Uint8Array(0))))).toBe('BUNDLE_MALFORMED');
    expect(codeOf(() => decodeEntryBundle(new Uint8Array(2 * 257)))).toBe('BUNDLE_MALFORMED');
  });

  it('checks hash tile lengths with TILE_MALFORMED', () => {
    const t = encodeHashTile([new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)]);
    expect(decodeHashTile(t, 2)[1]).toEqual(new Uint8Array(32).fill(2));
    expect(codeOf(() => decodeHashTile(t, 3))).toBe('TILE_MALFORMED');
    expect(codeOf(() => decodeHashTile(t.subarray(1), 2))).toBe('TILE_MALFORMED');
    expect(codeOf(() => encodeHashTile([new Uint8Array(31)]))).toBe('TILE_MALFORMED');
  });
});

describe('proof generation from stored tiles', () => {
  const size = 256 * 256 + 1000;
  const tree = new MerkleTree();
  const entries: Uint8Array[] = [];
  for (let i = 0; i < size; i++) entries.push(new TextEncoder().encode(`e${i}`));
  for (const e of entries) tree.append(e);
  const files = buildTiles(entries);
  const readTile = (level: number, index: number): Uint8Array => {
    // Prefer the full tile; else the partial one of this tree size.
    const full = files.get(hashTilePath(level, index));
    if (full !== undefined) return full;
    const ref = hashTileFor(level, index * 256, size);
    const partial = files.get(formatTilePath(ref));
    if (partial === undefined) throw new Error(`no tile ${level}/${index}`);
    return partial;
  };

  it('builds every tile and bundle of the tree', () => {
    const expected = [...hashTilesForSize(size), ...entryBundlesForSize(size)].map(formatTilePath).sort();
    expect([...files.keys()].sort()).toEqual(expected);
  });

  it('serves any complete node from the tiles', () => {
    fc.assert(
      fc.property(fc.nat({ max: 16 }), fc.nat(), (level, seed) => {
        const count = Math.floor(size / 2 ** level);
        if (count === 0) return;
        const index = seed % count;
        expect(nodeFromTiles(level, index, readTile)).toEqual(tree.node(level, index));
      }),
      { numRuns: 300 },
    );
    expect(locateNodeInTiles(11, 5)).toEqual({ tileLevel: 1, tileIndex: 0, start: 40, count: 8 });
  });

  it('inclusion proofs built from tiles (async) equal the in-memory ones', async () => {
    for (const index of [0, 255, 256, 65535, 65536, size - 1]) {
      const proof = await resolveProofPlanAsync(planInclusionProof(index, size), async (l, i) =>
        nodeFromTiles(l, i, readTile),
      );
      expect(proof).toEqual(tree.inclusionProof(index, size));
    }
  });
});
