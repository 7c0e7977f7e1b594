import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Root of the copied test vectors (see fixtures/vectors/SOURCE.md). */
export const VECTOR_DIR = fileURLToPath(new URL('../fixtures/vectors/', import.meta.url));

/** Lists the JSON files under `subdir` of the vectors, as paths relative to the vector root, sorted. */
export function listVectorFiles(subdir: string): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir)
      .sort()
      .flatMap((f) => {
        const p = join(dir, f);
        return statSync(p).isDirectory() ? walk(p) : f.endsWith('.json') ? [p] : [];
      });
  return walk(join(VECTOR_DIR, subdir)).map((p) => relative(VECTOR_DIR, p));
}

/** Reads a vector file; integer fields that may exceed 2^53 are returned as bigint. */
export function readVector(rel: string): Record<string, unknown> {
  const text = readFileSync(join(VECTOR_DIR, rel), 'utf8');
  // Quote the index and size fields so that 2^64 - 1 survives JSON.parse, then make them bigint.
  const quoted = text.replace(/("(?:leafIdx|treeSize|size1|size2)"\s*:\s*)(\d+)/g, '$1"$2"');
  const v = JSON.parse(quoted) as Record<string, unknown>;
  for (const k of ['leafIdx', 'treeSize', 'size1', 'size2']) {
    if (typeof v[k] === 'string') v[k] = BigInt(v[k] as string);
  }
  return v;
}

/** Decodes standard base64 (Node's decoder: vectors may hold deliberately odd lengths). */
export function b64(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'base64'));
}
