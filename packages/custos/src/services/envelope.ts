import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { CustosError } from '../domain/errors.js';

/** What a sealed record is bound to: changing any of these makes it undecryptable. */
export interface RecordBinding {
  readonly id: string;
  readonly subject: string;
  readonly collection: string;
  readonly keyVersion: number;
}

/** Characters JSON never escapes: a string of only these is its own JSON form between quotes. */
const PLAIN = /^[A-Za-z0-9_.:@+-]*$/;

function jsonString(v: string): string {
  return PLAIN.test(v) ? `"${v}"` : JSON.stringify(v);
}

function aadText(b: RecordBinding): string {
  // JSON array encoding keeps the fields unambiguous whatever characters ids contain.
  return `["custos-record-v1",${jsonString(b.id)},${jsonString(b.subject)},${jsonString(b.collection)},${b.keyVersion}]`;
}

/** Additional authenticated data for a record: an unambiguous JSON array of the binding. */
export function recordAad(b: RecordBinding): Buffer {
  return Buffer.from(aadText(b));
}

/**
 * Scratch space for the AAD on the hot paths. `setAAD` copies the bytes into the cipher context
 * before it returns, and nothing runs in between, so one module-level buffer is safe to reuse.
 */
const AAD_SCRATCH = Buffer.allocUnsafeSlow(1024);

/** The AAD bytes, in the scratch buffer when they surely fit, else in a buffer of their own. */
function aadBytes(b: RecordBinding): Buffer {
  const text = aadText(b);
  // A UTF-16 code unit takes at most 3 UTF-8 bytes.
  if (text.length * 3 > AAD_SCRATCH.length) return Buffer.from(text);
  return AAD_SCRATCH.subarray(0, AAD_SCRATCH.write(text, 0, 'utf8'));
}

/**
 * Seals plaintext with AES-256-GCM under a subject data key: `iv(12) ‖ ciphertext ‖ tag(16)`.
 * Bulk callers may pass a fresh random `iv` cut from one larger `randomBytes` call; it must never repeat.
 */
export function sealRecord(
  dataKey: Uint8Array,
  binding: RecordBinding,
  plaintext: Uint8Array,
  iv: Uint8Array = randomBytes(12),
): Buffer {
  const cipher = createCipheriv('aes-256-gcm', dataKey, iv);
  cipher.setAAD(aadBytes(binding));
  const body = cipher.update(plaintext);
  const tail = cipher.final();
  return Buffer.concat([iv, body, tail, cipher.getAuthTag()]);
}

/**
 * Opens a sealed record. Every failure (flipped byte, wrong binding, wrong key, truncation) gives
 * the same opaque `DECRYPT_FAILED`, so an attacker learns nothing about which check failed.
 */
export function openRecord(dataKey: Uint8Array, binding: RecordBinding, sealed: Uint8Array): Buffer {
  if (sealed.length < 28) throw new CustosError('DECRYPT_FAILED', 'decryption failed');
  try {
    const buf = Buffer.isBuffer(sealed) ? sealed : Buffer.from(sealed);
    const decipher = createDecipheriv('aes-256-gcm', dataKey, buf.subarray(0, 12));
    decipher.setAAD(aadBytes(binding));
    decipher.setAuthTag(buf.subarray(buf.length - 16));
    const body = decipher.update(buf.subarray(12, buf.length - 16));
    const tail = decipher.final();
    return tail.length === 0 ? body : Buffer.concat([body, tail]);
  } catch {
    throw new CustosError('DECRYPT_FAILED', 'decryption failed');
  }
}
