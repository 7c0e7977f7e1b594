import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isVerifyError, parseCheckpoint, parseVerifierKey, toBase64, verifyNote } from '@custos/verify';
import { describe, expect, it } from 'vitest';
import { VECTOR_DIR } from './helpers/vectors.js';

interface NoteVector {
  name: string;
  vkey: string;
  note: string;
  text?: string;
  checkpoint?: { origin: string; size: number; root: string };
}

const file = 'signed-notes.json';
const vectors = (JSON.parse(readFileSync(join(VECTOR_DIR, file), 'utf8')) as { vectors: NoteVector[] })
  .vectors;
const REJECT_CODES = ['NOTE_MALFORMED', 'NOTE_UNVERIFIED', 'SIGNATURE_INVALID'];

describe(`C2SP signed notes (${file})`, () => {
  it.each(vectors.map((v) => [v.name, v] as const))('%s verifies', async (_name, v) => {
    const verified = await verifyNote(v.note, [parseVerifierKey(v.vkey)]);
    expect(verified.verified).toHaveLength(1);
    if (v.text !== undefined) expect(verified.text).toBe(v.text);
    if (v.checkpoint !== undefined) {
      const cp = parseCheckpoint(verified.text);
      expect({ origin: cp.origin, size: cp.size, root: toBase64(cp.root) }).toEqual(v.checkpoint);
    }
    // The same note as UTF-8 bytes verifies too.
    await expect(
      verifyNote(new TextEncoder().encode(v.note), [parseVerifierKey(v.vkey)]),
    ).resolves.toBeDefined();
  });

  it.each(vectors.map((v) => [v.name, v] as const))(
    '%s is rejected after flipping any byte',
    async (_name, v) => {
      const bytes = new TextEncoder().encode(v.note);
      const verifier = parseVerifierKey(v.vkey);
      let rejected = 0;
      for (const mask of [0x01, 0x80, 0xff]) {
        for (let i = 0; i < bytes.length; i++) {
          const copy = bytes.slice();
          copy[i] = (copy[i] as number) ^ mask;
          try {
            await verifyNote(copy, [verifier]);
            throw new Error(`flipping byte ${i} with ${mask} still verified`);
          } catch (err) {
            if (!isVerifyError(err)) throw err;
            expect(REJECT_CODES).toContain(err.code);
            rejected++;
          }
        }
      }
      expect(rejected).toBe(bytes.length * 3);
    },
  );
});
