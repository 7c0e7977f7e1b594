import { sha256 } from '../crypto/sha256.js';
import { concatBytes, utf8Encode } from '../encoding/bytes.js';

/** Key ID = SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4] as a big-endian uint32 (C2SP signed-note). */
export function computeKeyId(name: string, type: number, publicKey: Uint8Array): number {
  const digest = sha256(concatBytes(utf8Encode(name), new Uint8Array([0x0a, type]), publicKey));
  return new DataView(digest.buffer, digest.byteOffset, 4).getUint32(0, false);
}

/** Formats a key ID as 8 lowercase hex digits, as in verifier key strings. */
export function formatKeyId(keyId: number): string {
  return (keyId >>> 0).toString(16).padStart(8, '0');
}
