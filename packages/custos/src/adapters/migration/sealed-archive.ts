import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** AAD of a sealed archive file: binds the format, so a sealed record can't pass for an archive. */
const ARCHIVE_AAD = Buffer.from('custos-archive-v1');

/** Seals a whole export file with AES-256-GCM: `iv(12) ‖ ciphertext ‖ tag(16)`. */
export function sealArchive(key: Uint8Array, plaintext: Uint8Array): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(ARCHIVE_AAD);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

/** Opens a sealed archive; throws on a wrong key or any tampering (the caller codes the error). */
export function openArchive(key: Uint8Array, sealed: Buffer): Buffer {
  if (sealed.length < 28) throw new Error('archive is truncated');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  decipher.setAAD(ARCHIVE_AAD);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
}
