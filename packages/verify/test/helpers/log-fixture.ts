import {
  buildTiles,
  CompactRange,
  createNoteSigner,
  encodeEntry,
  type GeneratedNoteKey,
  generateNoteKey,
  hashLeaf,
  type NoteVerifier,
  parseVerifierKey,
  signCheckpoint,
} from '@custos/verify';
import { sampleEntry } from './entries.js';

/** A complete tiled log in memory, signed by a fresh key named after its origin. */
export interface LogFixture {
  readonly origin: string;
  readonly key: GeneratedNoteKey;
  readonly verifiers: NoteVerifier[];
  readonly entries: Uint8Array[];
  /** Served files: `checkpoint`, hash tiles and entry bundles. */
  readonly files: Map<string, Uint8Array>;
  readonly checkpoint: string;
  readonly root: Uint8Array;
}

/** Root of the tree over `entries`. */
export function rootOf(entries: readonly Uint8Array[]): Uint8Array {
  const r = new CompactRange();
  for (const e of entries) r.appendLeafHash(hashLeaf(e));
  return r.root();
}

/** Signs a checkpoint for (size, root) with `key`, whose name is the origin. */
export async function signFor(
  key: GeneratedNoteKey,
  origin: string,
  size: number,
  root: Uint8Array,
): Promise<string> {
  return signCheckpoint({ origin, size, root, extensions: [] }, await createNoteSigner(key.signerKey));
}

/** Builds tiles and a signed checkpoint for `entries` (default: n sample entries). */
export async function createLog(
  n: number,
  options: { origin?: string; key?: GeneratedNoteKey; entries?: Uint8Array[] } = {},
): Promise<LogFixture> {
  const origin = options.origin ?? 'custos.example/custos/US';
  const key = options.key ?? (await generateNoteKey(origin));
  const entries = options.entries ?? Array.from({ length: n }, (_, i) => encodeEntry(sampleEntry(i)));
  const files = buildTiles(entries);
  const root = rootOf(entries);
  const checkpoint = await signFor(key, origin, entries.length, root);
  files.set('checkpoint', new TextEncoder().encode(checkpoint));
  return { origin, key, verifiers: [parseVerifierKey(key.verifierKey)], entries, files, checkpoint, root };
}

/** Replaces the entry bundles with ones rebuilt from `entries` (what a server regenerating from its database serves). */
export function replaceBundles(files: Map<string, Uint8Array>, entries: readonly Uint8Array[]): void {
  for (const path of [...files.keys()]) if (path.startsWith('tile/entries/')) files.delete(path);
  for (const [path, bytes] of buildTiles(entries))
    if (path.startsWith('tile/entries/')) files.set(path, bytes);
}
