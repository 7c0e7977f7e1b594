import { createCosigner } from '../checkpoint/cosignature.js';
import { randomSeed } from '../crypto/ed25519.js';
import { VerifyError } from '../errors.js';
import { type NoteSigner, SIGNATURE_TYPE_COSIGNATURE_V1, SIGNATURE_TYPE_ED25519 } from './note-verifier.js';
import { createEd25519NoteSigner, formatSignerKey, parseSignerKey } from './verifier-key.js';

/** A freshly generated key pair as strings: keep `signerKey` secret, publish `verifierKey`. */
export interface GeneratedNoteKey {
  readonly signerKey: string;
  readonly verifierKey: string;
}

/** Generates a new Ed25519 note key (type 0x01) or cosigner key (type 0x04) named `name`. */
export async function generateNoteKey(
  name: string,
  type: number = SIGNATURE_TYPE_ED25519,
): Promise<GeneratedNoteKey> {
  const signerKey = await formatSignerKey(name, randomSeed(), type);
  const parsed = await parseSignerKey(signerKey);
  return { signerKey, verifierKey: parsed.verifierKey };
}

/**
 * Creates a {@link NoteSigner} from a signer key string: a plain Ed25519 signer for type 0x01,
 * a timestamping cosigner for type 0x04 (`now` gives POSIX seconds).
 */
export async function createNoteSigner(skey: string, now?: () => number): Promise<NoteSigner> {
  const key = await parseSignerKey(skey);
  switch (key.type) {
    case SIGNATURE_TYPE_ED25519:
      return createEd25519NoteSigner(key.name, key.seed);
    case SIGNATURE_TYPE_COSIGNATURE_V1:
      return createCosigner(key.name, key.seed, now);
    default:
      throw new VerifyError('KEY_MALFORMED', 'unsupported key type');
  }
}
