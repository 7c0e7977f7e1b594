/**
 * Optional access to node:crypto without a static import, so the core stays browser-safe.
 * `process.getBuiltinModule` exists from Node 20.16; elsewhere this yields undefined and
 * callers fall back to pure TypeScript (hashing) or WebCrypto (Ed25519).
 */

/** The small part of a node:crypto KeyObject the verifier uses. */
export interface NodeKeyObjectLike {
  export(options: { format: 'der'; type: 'spki' }): Uint8Array;
}

/** The small part of node:crypto the verifier uses (STYLE.md: describe a library by the part you use). */
export interface NodeCryptoLike {
  hash?: (algorithm: string, data: Uint8Array, outputEncoding: 'buffer') => Uint8Array;
  createHash(algorithm: string): { update(data: Uint8Array): { digest(): Uint8Array } };
  createPublicKey(
    key: { key: Uint8Array; format: 'der'; type: 'spki' } | NodeKeyObjectLike,
  ): NodeKeyObjectLike;
  createPrivateKey(key: { key: Uint8Array; format: 'der'; type: 'pkcs8' }): NodeKeyObjectLike;
  sign(algorithm: null, data: Uint8Array, key: NodeKeyObjectLike): Uint8Array;
  verify(algorithm: null, data: Uint8Array, key: NodeKeyObjectLike, signature: Uint8Array): boolean;
}

interface ProcessLike {
  getBuiltinModule?: (id: string) => unknown;
}

function loadNodeCrypto(): NodeCryptoLike | undefined {
  const proc = (globalThis as { process?: ProcessLike }).process;
  try {
    const mod = proc?.getBuiltinModule?.('node:crypto');
    return mod === undefined || mod === null ? undefined : (mod as NodeCryptoLike);
  } catch {
    return undefined;
  }
}

/** node:crypto when running in Node 20.16+, otherwise undefined. */
export const nodeCrypto: NodeCryptoLike | undefined = loadNodeCrypto();
