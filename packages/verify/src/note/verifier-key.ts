import { createCosignatureVerifier } from '../checkpoint/cosignature.js';
import { createEd25519Signer, createEd25519Verifier, ed25519PublicKeyFromSeed } from '../crypto/ed25519.js';
import { fromBase64, toBase64 } from '../encoding/base64.js';
import { VerifyError } from '../errors.js';
import { computeKeyId, formatKeyId } from './key-id.js';
import {
  type NoteSigner,
  type NoteVerifier,
  SIGNATURE_TYPE_COSIGNATURE_V1,
  SIGNATURE_TYPE_ED25519,
} from './note-verifier.js';
import { isValidKeyName } from './signed-note.js';

function malformed(message: string): never {
  throw new VerifyError('KEY_MALFORMED', message);
}

/** Creates a note verifier for a plain Ed25519 key (signature type 0x01). */
export function createEd25519NoteVerifier(name: string, publicKey: Uint8Array): NoteVerifier {
  if (!isValidKeyName(name)) malformed('invalid key name');
  const verify = createEd25519Verifier(publicKey);
  return {
    name,
    keyId: computeKeyId(name, SIGNATURE_TYPE_ED25519, publicKey),
    type: SIGNATURE_TYPE_ED25519,
    verify: (text, signature) => verify(text, signature),
  };
}

/** Creates a note signer for a plain Ed25519 key (signature type 0x01) from a 32-byte seed. */
export async function createEd25519NoteSigner(name: string, seed: Uint8Array): Promise<NoteSigner> {
  if (!isValidKeyName(name)) malformed('invalid key name');
  const publicKey = await ed25519PublicKeyFromSeed(seed);
  const sign = createEd25519Signer(seed);
  return {
    name,
    keyId: computeKeyId(name, SIGNATURE_TYPE_ED25519, publicKey),
    type: SIGNATURE_TYPE_ED25519,
    sign: (text) => sign(text),
  };
}

/** Splits `s` at the first `count` '+' only (base64 key material may itself contain '+'). */
function splitPlus(s: string, count: number): string[] | undefined {
  const parts: string[] = [];
  let rest = s;
  for (let i = 0; i < count; i++) {
    const at = rest.indexOf('+');
    if (at < 0) return undefined;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  parts.push(rest);
  return parts;
}

interface KeyParts {
  readonly name: string;
  readonly keyId: number;
  readonly type: number;
  readonly material: Uint8Array;
}

function parseKeyParts(name: string, hex: string, b64: string): KeyParts {
  if (!isValidKeyName(name)) malformed('invalid key name');
  if (!/^[0-9a-fA-F]{8}$/.test(hex)) malformed('key ID must be 8 hex digits');
  let raw: Uint8Array;
  try {
    raw = fromBase64(b64);
  } catch {
    malformed('key material is not valid base64');
  }
  if (raw.length !== 33) malformed('key material must be a type byte and 32 bytes');
  const type = raw[0] as number;
  if (type !== SIGNATURE_TYPE_ED25519 && type !== SIGNATURE_TYPE_COSIGNATURE_V1)
    malformed('unsupported key type');
  return { name, keyId: Number.parseInt(hex, 16), type, material: raw.slice(1) };
}

/**
 * Parses a verifier key `name+hex8(keyID)+base64(type ‖ pubkey32)` (C2SP signed-note vkeys),
 * type 0x01 (Ed25519) or 0x04 (cosignature/v1). Throws VerifyError('KEY_MALFORMED').
 */
export function parseVerifierKey(vkey: string): NoteVerifier {
  const parts = splitPlus(vkey, 2);
  if (parts === undefined) malformed('verifier key must be name+keyid+key');
  const [name, hex, b64] = parts as [string, string, string];
  const key = parseKeyParts(name, hex, b64);
  if (computeKeyId(key.name, key.type, key.material) !== key.keyId)
    malformed('key ID does not match the key');
  return key.type === SIGNATURE_TYPE_ED25519
    ? createEd25519NoteVerifier(key.name, key.material)
    : createCosignatureVerifier(key.name, key.material);
}

/** Formats a verifier key string `name+hex8+base64(type ‖ pubkey32)`. */
export function formatVerifierKey(
  name: string,
  publicKey: Uint8Array,
  type: number = SIGNATURE_TYPE_ED25519,
): string {
  if (!isValidKeyName(name)) malformed('invalid key name');
  if (publicKey.length !== 32) malformed('public key must be 32 bytes');
  const raw = new Uint8Array(33);
  raw[0] = type;
  raw.set(publicKey, 1);
  return `${name}+${formatKeyId(computeKeyId(name, type, publicKey))}+${toBase64(raw)}`;
}

/** A parsed signer key: name, type, seed, and the matching verifier key string. */
export interface SignerKey {
  readonly name: string;
  readonly type: number;
  readonly seed: Uint8Array;
  readonly verifierKey: string;
}

/**
 * Parses a signer key `PRIVATE+KEY+name+hex8+base64(type ‖ seed32)` (the layout of Go's
 * golang.org/x/mod/sumdb/note). The key ID is of the derived public key. Throws KEY_MALFORMED.
 */
export async function parseSignerKey(skey: string): Promise<SignerKey> {
  const parts = splitPlus(skey, 4);
  if (parts === undefined || parts[0] !== 'PRIVATE' || parts[1] !== 'KEY')
    malformed('signer key must start PRIVATE+KEY+');
  const [, , name, hex, b64] = parts as [string, string, string, string, string];
  const key = parseKeyParts(name, hex, b64);
  const publicKey = await ed25519PublicKeyFromSeed(key.material);
  if (computeKeyId(key.name, key.type, publicKey) !== key.keyId) malformed('key ID does not match the key');
  return {
    name: key.name,
    type: key.type,
    seed: key.material,
    verifierKey: formatVerifierKey(key.name, publicKey, key.type),
  };
}

/** Formats a signer key string from a name, a 32-byte seed and a signature type. */
export async function formatSignerKey(
  name: string,
  seed: Uint8Array,
  type: number = SIGNATURE_TYPE_ED25519,
): Promise<string> {
  if (!isValidKeyName(name)) malformed('invalid key name');
  if (seed.length !== 32) malformed('seed must be 32 bytes');
  const publicKey = await ed25519PublicKeyFromSeed(seed);
  const raw = new Uint8Array(33);
  raw[0] = type;
  raw.set(seed, 1);
  return `PRIVATE+KEY+${name}+${formatKeyId(computeKeyId(name, type, publicKey))}+${toBase64(raw)}`;
}
