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

/** Options of {@link verifyCheckpoint}. */
export interface VerifyCheckpointOptions {
  /**
   * How many of the trusted witness keys (cosignature/v1, type 0x04) must have cosigned the
   * checkpoint; default all of them, so that a witness key given is never ignored. From 0 to
   * the number of witness keys.
   */
  readonly minWitnesses?: number;
}

/** The trusted witness keys: cosigner keys (type 0x04), as c2sp.org/tlog-witness has witnesses sign. */
export function witnessKeys(verifiers: readonly NoteVerifier[]): NoteVerifier[] {
  return verifiers.filter((v) => v.type === SIGNATURE_TYPE_COSIGNATURE_V1);
}

/**
 * How many witnesses the trusted witness keys stand for: distinct key names. A witness may have
 * more than one key (a rotation); it still counts once, so two keys of one witness never stand in
 * for another witness's cosignature.
 */
export function witnessCount(verifiers: readonly NoteVerifier[]): number {
  return new Set(witnessKeys(verifiers).map((v) => v.name)).size;
}

/**
 * Checks a witness quorum option against the witnesses among `verifiers` and returns it (all of
 * them when absent). Throws INPUT_INVALID when it is not a whole number from 0 to the number of
 * witnesses: a quorum that can never be met is a configuration error.
 */
export function witnessQuorum(verifiers: readonly NoteVerifier[], minWitnesses?: number): number {
  const available = witnessCount(verifiers);
  if (minWitnesses === undefined) return available;
  if (!Number.isSafeInteger(minWitnesses) || minWitnesses < 0 || minWitnesses > available)
    throw new VerifyError('INPUT_INVALID', `minWitnesses must be a whole number from 0 to ${available}`);
  return minWitnesses;
}

/**
 * Verifies a signed checkpoint: the note must carry a valid Ed25519 signature by a trusted key
 * whose name equals the checkpoint origin, and valid cosignatures by at least `minWitnesses` of
 * the trusted witnesses (distinct names of witness keys; default: all). Every signature by any trusted key must verify
 * (C2SP signed-note); cosignatures are reported with their timestamps. Throws NOTE_MALFORMED,
 * CHECKPOINT_MALFORMED, ORIGIN_MISMATCH (no trusted key has the origin's name),
 * SIGNATURE_INVALID, NOTE_UNVERIFIED, COSIGNATURE_MISSING (too few witnesses cosigned) or
 * INPUT_INVALID (a quorum larger than the witness keys).
 */
export async function verifyCheckpoint(
  note: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
  options: VerifyCheckpointOptions = {},
): Promise<VerifiedCheckpoint> {
  const quorum = witnessQuorum(verifiers, options.minWitnesses);
  // Parse first so that a malformed checkpoint is reported as such before any signature work.
  const checkpoint = parseCheckpoint(parseNote(note).text);
  const isLogKey = (v: NoteVerifier): boolean =>
    v.type === SIGNATURE_TYPE_ED25519 && v.name === checkpoint.origin;
  if (!verifiers.some(isLogKey))
    throw new VerifyError('ORIGIN_MISMATCH', 'no trusted log key is named after the checkpoint origin');
  // All trusted keys, not only the log and witness keys: a failing signature by any of them
  // rejects the note (C2SP signed-note §Signatures).
  const verified = await verifyNote(note, verifiers);
  if (!verified.verified.some((s) => isLogKey(s.verifier))) {
    throw new VerifyError('NOTE_UNVERIFIED', 'the checkpoint is not signed by a trusted log key');
  }
  const cosignatures = verified.verified
    .filter((s) => s.verifier.type === SIGNATURE_TYPE_COSIGNATURE_V1)
    .map((s) => ({ name: s.name, keyId: s.keyId, timestamp: cosignatureTimestamp(s.signature) }));
  // Witnesses, not keys: each witness name counts once however many of its keys cosigned.
  const cosigned = new Set(cosignatures.map((c) => c.name)).size;
  if (cosigned < quorum) {
    throw new VerifyError(
      'COSIGNATURE_MISSING',
      `${cosigned} of the ${witnessCount(verifiers)} trusted witnesses cosigned the checkpoint, ${quorum} required`,
    );
  }
  return { checkpoint, note: verified, cosignatures };
}
