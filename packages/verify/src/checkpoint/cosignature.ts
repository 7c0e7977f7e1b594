import { createEd25519Signer, createEd25519Verifier, ed25519PublicKeyFromSeed } from '../crypto/ed25519.js';
import { concatBytes, utf8Encode } from '../encoding/bytes.js';
import { VerifyError } from '../errors.js';
import { computeKeyId } from '../note/key-id.js';
import { type NoteSigner, type NoteVerifier, SIGNATURE_TYPE_COSIGNATURE_V1 } from '../note/note-verifier.js';
import { isValidKeyName } from '../note/signed-note.js';

/** Length of a cosignature/v1 signature: uint64 timestamp ‖ 64-byte Ed25519 signature. */
export const COSIGNATURE_SIZE = 72;
const MAX_TIMESTAMP = (1n << 63n) - 1n;

/**
 * The message an Ed25519 cosigner signs (C2SP tlog-cosignature §Ed25519 signed message):
 * `cosignature/v1\ntime <T>\n` followed by the checkpoint note text.
 */
export function cosignatureMessage(checkpointText: Uint8Array, timestamp: bigint): Uint8Array {
  return concatBytes(utf8Encode(`cosignature/v1\ntime ${timestamp.toString(10)}\n`), checkpointText);
}

/** Reads the POSIX timestamp of a cosignature/v1 signature (the 8-byte big-endian prefix). */
export function cosignatureTimestamp(signature: Uint8Array): bigint {
  if (signature.length !== COSIGNATURE_SIZE)
    throw new VerifyError('COSIGNATURE_INVALID', 'cosignature must be 72 bytes');
  return new DataView(signature.buffer, signature.byteOffset, 8).getBigUint64(0, false);
}

/** Creates a note verifier for an Ed25519 cosigner key (signature type 0x04). */
export function createCosignatureVerifier(name: string, publicKey: Uint8Array): NoteVerifier {
  if (!isValidKeyName(name)) throw new VerifyError('KEY_MALFORMED', 'invalid key name');
  const verify = createEd25519Verifier(publicKey);
  return {
    name,
    keyId: computeKeyId(name, SIGNATURE_TYPE_COSIGNATURE_V1, publicKey),
    type: SIGNATURE_TYPE_COSIGNATURE_V1,
    async verify(text, signature) {
      if (signature.length !== COSIGNATURE_SIZE) return false;
      const timestamp = cosignatureTimestamp(signature);
      // The timestamp MUST NOT exceed 2^63 - 1.
      if (timestamp > MAX_TIMESTAMP) return false;
      return verify(cosignatureMessage(text, timestamp), signature.subarray(8));
    },
  };
}

/**
 * Creates a cosigner (signature type 0x04) from a 32-byte Ed25519 seed. `now` returns the
 * current POSIX time in seconds (injectable for tests).
 */
export async function createCosigner(
  name: string,
  seed: Uint8Array,
  now: () => number = () => Math.floor(Date.now() / 1000),
): Promise<NoteSigner> {
  if (!isValidKeyName(name)) throw new VerifyError('KEY_MALFORMED', 'invalid key name');
  const publicKey = await ed25519PublicKeyFromSeed(seed);
  const sign = createEd25519Signer(seed);
  return {
    name,
    keyId: computeKeyId(name, SIGNATURE_TYPE_COSIGNATURE_V1, publicKey),
    type: SIGNATURE_TYPE_COSIGNATURE_V1,
    async sign(text) {
      const t = now();
      if (!Number.isSafeInteger(t) || t < 0)
        throw new VerifyError('INPUT_INVALID', 'timestamp must be a non-negative integer');
      const timestamp = BigInt(t);
      const sig = await sign(cosignatureMessage(text, timestamp));
      const out = new Uint8Array(COSIGNATURE_SIZE);
      new DataView(out.buffer).setBigUint64(0, timestamp, false);
      out.set(sig, 8);
      return out;
    },
  };
}
