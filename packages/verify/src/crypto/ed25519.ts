import { VerifyError } from '../errors.js';
import { type NodeKeyObjectLike, nodeCrypto } from './node-crypto.js';

/**
 * Ed25519 (RFC 8032) through node:crypto in Node, or WebCrypto `crypto.subtle` elsewhere.
 * WebCrypto is asynchronous, so every signature operation returns a Promise.
 */

// DER prefixes that wrap a raw 32-byte key (RFC 8410 §4 SubjectPublicKeyInfo, §7 OneAsymmetricKey).
const SPKI_PREFIX = new Uint8Array([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);
const PKCS8_PREFIX = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

/** Verifies one message against a cached public key. */
export type Ed25519VerifyFn = (message: Uint8Array, signature: Uint8Array) => Promise<boolean>;
/** Signs one message with a cached private key. */
export type Ed25519SignFn = (message: Uint8Array) => Promise<Uint8Array>;

function withPrefix(prefix: Uint8Array, key: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(prefix.length + key.length);
  out.set(prefix, 0);
  out.set(key, prefix.length);
  return out;
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (s === undefined) throw new VerifyError('CRYPTO_UNAVAILABLE', 'no Ed25519 implementation available');
  return s;
}

function checkLength(bytes: Uint8Array, what: string): void {
  if (bytes.length !== 32) throw new VerifyError('KEY_MALFORMED', `Ed25519 ${what} must be 32 bytes`);
}

/** Creates a verify function for a raw 32-byte Ed25519 public key (key import happens once). */
export function createEd25519Verifier(publicKey: Uint8Array): Ed25519VerifyFn {
  checkLength(publicKey, 'public key');
  const c = nodeCrypto;
  if (c !== undefined) {
    let key: NodeKeyObjectLike | undefined;
    return async (message, signature) => {
      if (signature.length !== 64) return false;
      try {
        key ??= c.createPublicKey({ key: withPrefix(SPKI_PREFIX, publicKey), format: 'der', type: 'spki' });
        return c.verify(null, message, key, signature);
      } catch {
        return false;
      }
    };
  }
  let imported: Promise<CryptoKey> | undefined;
  return async (message, signature) => {
    if (signature.length !== 64) return false;
    try {
      imported ??= subtle().importKey('raw', new Uint8Array(publicKey), { name: 'Ed25519' }, false, [
        'verify',
      ]);
      return await subtle().verify(
        { name: 'Ed25519' },
        await imported,
        new Uint8Array(signature),
        new Uint8Array(message),
      );
    } catch (err) {
      if (err instanceof VerifyError) throw err;
      return false;
    }
  };
}

/** Creates a sign function from a 32-byte Ed25519 seed (the RFC 8032 private key). */
export function createEd25519Signer(seed: Uint8Array): Ed25519SignFn {
  checkLength(seed, 'seed');
  const c = nodeCrypto;
  const der = withPrefix(PKCS8_PREFIX, seed);
  if (c !== undefined) {
    const key = c.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    return async (message) => new Uint8Array(c.sign(null, message, key));
  }
  let imported: Promise<CryptoKey> | undefined;
  return async (message) => {
    imported ??= subtle().importKey('pkcs8', der, { name: 'Ed25519' }, false, ['sign']);
    return new Uint8Array(await subtle().sign({ name: 'Ed25519' }, await imported, new Uint8Array(message)));
  };
}

/** Derives the raw 32-byte Ed25519 public key from a 32-byte seed. */
export async function ed25519PublicKeyFromSeed(seed: Uint8Array): Promise<Uint8Array> {
  checkLength(seed, 'seed');
  const der = withPrefix(PKCS8_PREFIX, seed);
  const c = nodeCrypto;
  if (c !== undefined) {
    const pub = c.createPublicKey(c.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
    return new Uint8Array(pub.export({ format: 'der', type: 'spki' })).slice(SPKI_PREFIX.length);
  }
  const key = await subtle().importKey('pkcs8', der, { name: 'Ed25519' }, true, ['sign']);
  const jwk = await subtle().exportKey('jwk', key);
  if (jwk.x === undefined) throw new VerifyError('CRYPTO_UNAVAILABLE', 'cannot derive Ed25519 public key');
  return fromBase64Url(jwk.x);
}

/** Verifies an Ed25519 signature over `message` with a raw 32-byte public key. */
export function ed25519Verify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  return createEd25519Verifier(publicKey)(message, signature);
}

/** Signs `message` with a 32-byte Ed25519 seed. */
export function ed25519Sign(seed: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
  return createEd25519Signer(seed)(message);
}

/** Returns 32 cryptographically random bytes, suitable as an Ed25519 seed. */
export function randomSeed(): Uint8Array {
  const c = globalThis.crypto;
  if (c?.getRandomValues === undefined) throw new VerifyError('CRYPTO_UNAVAILABLE', 'no random source');
  return c.getRandomValues(new Uint8Array(32));
}

function fromBase64Url(text: string): Uint8Array {
  const std = text.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(std + '='.repeat((4 - (std.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
