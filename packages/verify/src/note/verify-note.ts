import { utf8Encode } from '../encoding/bytes.js';
import { VerifyError } from '../errors.js';
import type { NoteSigner, NoteVerifier } from './note-verifier.js';
import {
  checkNoteText,
  formatNote,
  formatSignatureLine,
  type NoteSignature,
  parseNote,
} from './signed-note.js';

/** A signature that a known key verified. */
export interface VerifiedSignature extends NoteSignature {
  readonly verifier: NoteVerifier;
}

/** A note whose text at least one trusted key verified. */
export interface VerifiedNote {
  readonly text: string;
  readonly textBytes: Uint8Array;
  readonly verified: readonly VerifiedSignature[];
  /** Signatures by keys not in the verifier set, ignored as C2SP signed-note requires. */
  readonly unverified: readonly NoteSignature[];
}

function keyOf(name: string, keyId: number): string {
  return `${name}\n${keyId >>> 0}`;
}

/**
 * Parses and verifies a signed note against a set of trusted keys (C2SP signed-note
 * §Signatures): signatures from unknown (name, key ID) pairs are ignored; a failing signature
 * by a known key rejects the note (SIGNATURE_INVALID); no verified signature rejects it
 * (NOTE_UNVERIFIED); a malformed note is NOTE_MALFORMED.
 */
export async function verifyNote(
  note: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
): Promise<VerifiedNote> {
  const parsed = parseNote(note);
  const known = new Map<string, NoteVerifier>();
  for (const v of verifiers) {
    const k = keyOf(v.name, v.keyId);
    if (known.has(k)) throw new VerifyError('KEY_MALFORMED', 'two verifiers share a name and key ID');
    known.set(k, v);
  }
  const verified: VerifiedSignature[] = [];
  const unverified: NoteSignature[] = [];
  const seen = new Set<string>();
  for (const sig of parsed.signatures) {
    const k = keyOf(sig.name, sig.keyId);
    const verifier = known.get(k);
    if (verifier === undefined) {
      unverified.push(sig);
      continue;
    }
    if (seen.has(k)) throw new VerifyError('NOTE_MALFORMED', 'note has two signatures by the same key');
    seen.add(k);
    if (!(await verifier.verify(parsed.textBytes, sig.signature))) {
      throw new VerifyError('SIGNATURE_INVALID', `signature by ${sig.name} does not verify`);
    }
    verified.push({ ...sig, verifier });
  }
  if (verified.length === 0) throw new VerifyError('NOTE_UNVERIFIED', 'no trusted key signed the note');
  return { text: parsed.text, textBytes: parsed.textBytes, verified, unverified };
}

/** Signs `text` (ending in a newline) with each signer and returns the signed note. */
export async function signNote(text: string, signers: readonly NoteSigner[]): Promise<string> {
  checkNoteText(text);
  const bytes = utf8Encode(text);
  const sigs: NoteSignature[] = [];
  for (const s of signers) sigs.push({ name: s.name, keyId: s.keyId, signature: await s.sign(bytes) });
  return formatNote(text, sigs);
}

/**
 * Adds signatures to an existing signed note (e.g. a witness cosigning a checkpoint). The
 * existing signatures are kept as they are and are not verified here.
 */
export async function addNoteSignatures(note: string, signers: readonly NoteSigner[]): Promise<string> {
  const parsed = parseNote(note);
  let out = note;
  for (const s of signers) {
    out += formatSignatureLine({ name: s.name, keyId: s.keyId, signature: await s.sign(parsed.textBytes) });
  }
  return out;
}
