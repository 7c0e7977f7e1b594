import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { entryBundlesForSize, formatTilePath, hashTilesForSize, type TileRef } from '@custos/verify';
import { CustosError } from '../../domain/errors.js';
import type { StoredCheckpoint } from '../../ports/ledger-store.js';
import type { LedgerTile } from './ledger-reader.js';

/** The part of the ledger an export reads (the `LedgerService` provides it). */
export interface ExportableLedger {
  checkpoint(): Promise<StoredCheckpoint>;
  hashTile(level: number, index: number, width: number): Promise<LedgerTile | undefined>;
  entryBundle(index: number, width: number): Promise<LedgerTile | undefined>;
}

/** What an export wrote. */
export interface LedgerExportReport {
  readonly size: number;
  readonly hashTiles: number;
  readonly entryBundles: number;
  readonly bytes: number;
}

/**
 * Writes the ledger as static files in the c2sp.org/tlog-tiles layout under `dir`: every hash tile
 * and entry bundle of a freshly signed checkpoint, then `checkpoint` itself, last and atomically
 * (temporary file and rename), so a reader never sees a checkpoint ahead of its tiles. The bytes
 * are written as the store holds them: damage is for the verifier to find, not to hide.
 */
export async function exportLedger(ledger: ExportableLedger, dir: string): Promise<LedgerExportReport> {
  const cp = await ledger.checkpoint();
  let bytes = 0;
  const write = async (ref: TileRef, tile: LedgerTile | undefined): Promise<void> => {
    const path = formatTilePath(ref);
    if (tile === undefined)
      throw new CustosError('LEDGER_UNAVAILABLE', `ledger has no ${path} for size ${cp.size}`);
    const file = join(dir, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, tile.bytes);
    bytes += tile.bytes.length;
  };
  const tiles = hashTilesForSize(cp.size);
  for (const ref of tiles) {
    if (ref.kind === 'hash') await write(ref, await ledger.hashTile(ref.level, ref.index, ref.width));
  }
  const bundles = entryBundlesForSize(cp.size);
  for (const ref of bundles) await write(ref, await ledger.entryBundle(ref.index, ref.width));
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `checkpoint.${process.pid}.tmp`);
  await writeFile(tmp, cp.note);
  await rename(tmp, join(dir, 'checkpoint'));
  bytes += cp.note.length;
  return { size: cp.size, hashTiles: tiles.length, entryBundles: bundles.length, bytes };
}
