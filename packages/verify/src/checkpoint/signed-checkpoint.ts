import { VerifyError } from '../errors.js';
import {
  type NoteSigner,
  type NoteVerifier,
  SIGNATURE_TYPE_COSIGNATURE_V1,
  SIGNATURE_TYPE_ED25519,
} from '../note/note-verifier.js';
import { parseNote } from '../note/signed-note.js';
import { signNote, type VerifiedNote, verifyNote } from '../note/verify-note.js';
import { type Checkpoint, formatCheckpoint, parseCheckpoint } from './checkpoint.js';
import { cosignatureTimestamp } from './cosignature.js';

/** A verified cosignature on a checkpoint: who cosigned and when (POSIX seconds). */
export interface VerifiedCosignature {
  readonly name: string;
  readonly keyId: number;
  readonly timestamp: bigint;
}

/** A checkpoint whose signature by the log's key (named after the origin) verified. */
export interface VerifiedCheckpoint {
  readonly checkpoint: Checkpoint;
  readonly note: VerifiedNote;
  readonly cosignatures: readonly VerifiedCosignature[];
}

/** Formats a checkpoint and signs it; the log signer's name must equal the origin (tlog-checkpoint §Signatures). */
export async function signCheckpoint(
  checkpoint: Checkpoint,
  logSigner: NoteSigner,
  cosigners: readonly NoteSigner[] = [],
): Promise<string> {
  if (logSigner.name !== checkpoint.origin) {
    throw new VerifyError('ORIGIN_MISMATCH', 'log key name must equal the checkpoint origin');
  }
  return signNote(formatCheckpoint(checkpoint), [logSigner, ...cosigners]);
}

/**
 * Verifies a signed checkpoint: the note must carry a valid Ed25519 signature by a trusted key
 * whose name equals the checkpoint origin. Trusted cosigner keys (type 0x04) are verified too and
 * reported. Throws NOTE_MALFORMED, CHECKPOINT_MALFORMED, ORIGIN_MISMATCH (no trusted key has the
 * origin's name), SIGNATURE_INVALID or NOTE_UNVERIFIED.
 */
export async function verifyCheckpoint(
  note: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
): Promise<VerifiedCheckpoint> {
  // Parse first so that a malformed checkpoint is reported as such before any signature work.
  const checkpoint = parseCheckpoint(parseNote(note).text);
  const logKeys = verifiers.filter((v) => v.type === SIGNATURE_TYPE_ED25519 && v.name === checkpoint.origin);
  if (logKeys.length === 0)
    throw new VerifyError('ORIGIN_MISMATCH', 'no trusted log key is named after the checkpoint origin');
  const cosignerKeys = verifiers.filter((v) => v.type === SIGNATURE_TYPE_COSIGNATURE_V1);
  const verified = await verifyNote(note, [...logKeys, ...cosignerKeys]);
  if (!verified.verified.some((s) => s.verifier.type === SIGNATURE_TYPE_ED25519)) {
    throw new VerifyError('NOTE_UNVERIFIED', 'the checkpoint is not signed by a trusted log key');
  }
  const cosignatures = verified.verified
    .filter((s) => s.verifier.type === SIGNATURE_TYPE_COSIGNATURE_V1)
    .map((s) => ({ name: s.name, keyId: s.keyId, timestamp: cosignatureTimestamp(s.signature) }));
  return { checkpoint, note: verified, cosignatures };
}
