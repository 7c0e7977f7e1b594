import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
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

/** The native open (`native/envelope.c`): the plaintext, or undefined when it does not open. */
interface NativeEnvelope {
  open(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer | undefined;
}

/**
 * Loads the native AES-256-GCM open when it was built (`scripts/build-native.mjs`, run by
 * `npm ci`) and `CUSTOS_NATIVE_ENVELOPE` is not `0`, and keeps it only if it agrees with
 * node:crypto on a record sealed here, and refuses a tampered one.
 */
function loadNativeEnvelope(): NativeEnvelope | undefined {
  if (process.env.CUSTOS_NATIVE_ENVELOPE === '0') return undefined;
  let native: NativeEnvelope;
  try {
    native = createRequire(import.meta.url)('../../native/build/custos_envelope.node') as NativeEnvelope;
  } catch {
    return undefined;
  }
  try {
    const key = randomBytes(32);
    const binding = { id: 'self-check', subject: 's', collection: 'c', keyVersion: 1 };
    const plain = randomBytes(100);
    const sealed = sealRecord(key, binding, plain);
    const opened = native.open(key, sealed, recordAad(binding));
    sealed[20] = (sealed[20] as number) ^ 1;
    const tampered = native.open(key, sealed, recordAad(binding));
    return opened?.equals(plain) === true && tampered === undefined ? native : undefined;
  } catch {
    return undefined;
  }
}

const NATIVE = loadNativeEnvelope();

/** Which implementation opens records: `native` (the built addon) or `node` (node:crypto). */
export const ENVELOPE_OPEN_IMPLEMENTATION: 'native' | 'node' = NATIVE === undefined ? 'node' : 'native';

/**
 * Opens a sealed record. Every failure (flipped byte, wrong binding, wrong key, truncation) gives
 * the same opaque `DECRYPT_FAILED`, so an attacker learns nothing about which check failed. Uses
 * the native open when it is loaded, node:crypto otherwise; both give the same answers.
 */
export function openRecord(dataKey: Uint8Array, binding: RecordBinding, sealed: Uint8Array): Buffer {
  if (NATIVE === undefined) return openRecordPortable(dataKey, binding, sealed);
  if (sealed.length < 28) throw new CustosError('DECRYPT_FAILED', 'decryption failed');
  let plain: Buffer | undefined;
  try {
    plain = NATIVE.open(dataKey, sealed, aadBytes(binding));
  } catch {
    plain = undefined;
  }
  if (plain === undefined) throw new CustosError('DECRYPT_FAILED', 'decryption failed');
  return plain;
}

/** {@link openRecord} through node:crypto only: the fallback, and the reference in tests. */
export function openRecordPortable(dataKey: Uint8Array, binding: RecordBinding, sealed: Uint8Array): Buffer {
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
