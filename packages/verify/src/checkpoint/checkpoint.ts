import { fromBase64, toBase64 } from '../encoding/base64.js';
import { hasControlCharacters } from '../encoding/bytes.js';
import { VerifyError } from '../errors.js';
import { HASH_SIZE } from '../merkle/rfc6962.js';

/** A transparency log checkpoint (c2sp.org/tlog-checkpoint): the note text of a signed tree head. */
export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly root: Uint8Array;
  readonly extensions: readonly string[];
}

function malformed(message: string): never {
  throw new VerifyError('CHECKPOINT_MALFORMED', message);
}

/**
 * Parses checkpoint note text: origin, decimal size with no leading zeros, base64 32-byte root,
 * then optional non-empty extension lines, each line ending in a newline (tlog-checkpoint §Note
 * text). Sizes above 2^53 - 1 are rejected. Throws VerifyError('CHECKPOINT_MALFORMED').
 */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) malformed('checkpoint text must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) malformed('checkpoint needs origin, size and root lines');
  const [origin, sizeLine, rootLine, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin.length === 0) malformed('origin is empty');
  if (hasControlCharacters(origin, false)) malformed('origin contains control characters');
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeLine)) malformed('size must be decimal with no leading zeros');
  const size = Number(sizeLine);
  if (!Number.isSafeInteger(size)) malformed('size is above 2^53 - 1');
  let root: Uint8Array;
  try {
    root = fromBase64(rootLine);
  } catch {
    malformed('root hash is not valid base64');
  }
  if (root.length !== HASH_SIZE) malformed('root hash must be 32 bytes');
  for (const ext of extensions) {
    if (ext.length === 0) malformed('extension lines must be non-empty');
    if (hasControlCharacters(ext, false)) malformed('extension line contains control characters');
  }
  return { origin, size, root, extensions };
}

/** Formats checkpoint note text `origin\nsize\nbase64(root)\n[extensions\n]`. */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  const { origin, size, root, extensions } = checkpoint;
  if (origin.length === 0 || hasControlCharacters(origin, false)) malformed('invalid origin');
  if (!Number.isSafeInteger(size) || size < 0) malformed('size must be a non-negative safe integer');
  if (root.length !== HASH_SIZE) malformed('root hash must be 32 bytes');
  for (const ext of extensions) {
    if (ext.length === 0 || hasControlCharacters(ext, false)) malformed('invalid extension line');
  }
  const ext = extensions.map((e) => `${e}\n`).join('');
  return `${origin}\n${size}\n${toBase64(root)}\n${ext}`;
}
