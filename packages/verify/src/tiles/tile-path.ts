import { VerifyError } from '../errors.js';

/** Hashes per full tile and entries per full bundle: tile height 8 (c2sp.org/tlog-tiles). */
export const TILE_WIDTH = 256;
/** Tree levels covered by one tile level. */
export const TILE_HEIGHT = 8;

/** A hash tile `tile/<L>/<N>[.p/<W>]` or an entry bundle `tile/entries/<N>[.p/<W>]`; width 256 = full. */
export type TileRef =
  | { readonly kind: 'hash'; readonly level: number; readonly index: number; readonly width: number }
  | { readonly kind: 'entries'; readonly index: number; readonly width: number };

function malformed(message: string): never {
  throw new VerifyError('TILE_PATH_MALFORMED', message);
}

/** Encodes a tile index in zero-padded 3-digit groups, all but the last prefixed with 'x' (1234067 → x001/x234/067). */
export function formatTileIndex(index: number): string {
  if (!Number.isSafeInteger(index) || index < 0) malformed('tile index must be a non-negative safe integer');
  const groups: string[] = [];
  let n = index;
  do {
    groups.unshift(String(n % 1000).padStart(3, '0'));
    n = Math.floor(n / 1000);
  } while (n > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

/** Formats the path of a hash tile or entry bundle (relative to the log prefix). */
export function formatTilePath(tile: TileRef): string {
  if (!Number.isInteger(tile.width) || tile.width < 1 || tile.width > TILE_WIDTH)
    malformed('tile width must be 1..256');
  const suffix = tile.width === TILE_WIDTH ? '' : `.p/${tile.width}`;
  switch (tile.kind) {
    case 'hash':
      if (!Number.isInteger(tile.level) || tile.level < 0 || tile.level > 63)
        malformed('tile level must be 0..63');
      return `tile/${tile.level}/${formatTileIndex(tile.index)}${suffix}`;
    case 'entries':
      return `tile/entries/${formatTileIndex(tile.index)}${suffix}`;
  }
}

/** Path of hash tile (level, index), partial when width < 256. */
export function hashTilePath(level: number, index: number, width: number = TILE_WIDTH): string {
  return formatTilePath({ kind: 'hash', level, index, width });
}

/** Path of entry bundle `index`, partial when width < 256. */
export function entryBundlePath(index: number, width: number = TILE_WIDTH): string {
  return formatTilePath({ kind: 'entries', index, width });
}

const PATH_RE = /^tile\/(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/)*[0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/;

/**
 * Parses a tile or entry bundle path. Only the canonical encoding is accepted (no leading zero
 * groups, width 1..255 without leading zeros, level 0..63). Throws TILE_PATH_MALFORMED.
 */
export function parseTilePath(path: string): TileRef {
  const m = PATH_RE.exec(path);
  if (m === null) malformed('not a tile path');
  const [, levelText, indexText, widthText] = m as unknown as [string, string, string, string | undefined];
  const width = widthText === undefined ? TILE_WIDTH : Number(widthText);
  if (width > 255 && widthText !== undefined) malformed('partial tile width must be 1..255');
  const index = Number(indexText.replace(/x/g, '').replace(/\//g, ''));
  if (!Number.isSafeInteger(index)) malformed('tile index is too large');
  const tile: TileRef =
    levelText === 'entries'
      ? { kind: 'entries', index, width }
      : { kind: 'hash', level: Number(levelText), index, width };
  if (tile.kind === 'hash' && tile.level > 63) malformed('tile level must be 0..63');
  // Reject non-canonical index encodings such as x000/005.
  if (formatTilePath(tile) !== path) malformed('tile path is not canonical');
  return tile;
}
