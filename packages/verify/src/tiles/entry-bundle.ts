import { VerifyError } from '../errors.js';
import { TILE_WIDTH } from './tile-path.js';

/** Largest entry an entry bundle can carry: the length prefix is a uint16 (c2sp.org/tlog-tiles). */
export const MAX_ENTRY_SIZE = 0xffff;

function malformed(message: string): never {
  throw new VerifyError('BUNDLE_MALFORMED', message);
}

/** Encodes entries as an entry bundle: each entry prefixed by its big-endian uint16 length. */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  if (entries.length > TILE_WIDTH) malformed('a bundle holds at most 256 entries');
  let total = 0;
  for (const e of entries) {
    if (e.length > MAX_ENTRY_SIZE) malformed('entry is longer than 65535 bytes');
    total += 2 + e.length;
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const e of entries) {
    out[off] = e.length >> 8;
    out[off + 1] = e.length & 0xff;
    out.set(e, off + 2);
    off += 2 + e.length;
  }
  return out;
}

/**
 * Decodes an entry bundle into views of its entries (no copies). Throws BUNDLE_MALFORMED on a
 * truncated length prefix or entry, or more than 256 entries.
 */
export function decodeEntryBundle(bundle: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let off = 0;
  while (off < bundle.length) {
    if (off + 2 > bundle.length) malformed('truncated entry length');
    const len = ((bundle[off] as number) << 8) | (bundle[off + 1] as number);
    const start = off + 2;
    if (start + len > bundle.length) malformed('truncated entry');
    if (out.length === TILE_WIDTH) malformed('bundle holds more than 256 entries');
    out.push(bundle.subarray(start, start + len));
    off = start + len;
  }
  return out;
}

/**
 * Walks an entry bundle without allocating: writes each entry's start and end offsets into
 * `offsets` (pairs, so it needs room for 512 numbers) and returns the entry count. Throws
 * BUNDLE_MALFORMED like {@link decodeEntryBundle}.
 */
export function entryBundleOffsets(bundle: Uint8Array, offsets: Int32Array): number {
  let count = 0;
  let off = 0;
  while (off < bundle.length) {
    if (off + 2 > bundle.length) malformed('truncated entry length');
    const start = off + 2;
    const end = start + (((bundle[off] as number) << 8) | (bundle[off + 1] as number));
    if (end > bundle.length) malformed('truncated entry');
    if (count === TILE_WIDTH) malformed('bundle holds more than 256 entries');
    offsets[2 * count] = start;
    offsets[2 * count + 1] = end;
    count++;
    off = end;
  }
  return count;
}
