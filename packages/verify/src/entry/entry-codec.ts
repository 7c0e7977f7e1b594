import { utf8DecodeStrict, utf8Encode } from '../encoding/bytes.js';
import { VerifyError } from '../errors.js';
import { canonicalize } from '../jcs/canonicalize.js';
import { MAX_ENTRY_SIZE } from '../tiles/entry-bundle.js';
import { encodeEntryFast } from './encode-entry-fast.js';

export { encodeEntryInputText, encodeEntryText } from './encode-entry-fast.js';

import type { LedgerEntry } from './ledger-entry.js';
import { validateEntry } from './validate-entry.js';

function invalid(message: string, cause?: unknown): never {
  throw new VerifyError('ENTRY_INVALID', message, { cause });
}

function canonicalText(entry: unknown): string {
  try {
    return canonicalize(entry);
  } catch (err) {
    return invalid('entry cannot be canonicalized', err);
  }
}

/**
 * Validates an entry and returns its leaf bytes: RFC 8785 canonical JSON in UTF-8, at most
 * 65535 bytes so it fits an entry bundle's uint16 length. Throws ENTRY_INVALID.
 */
export function encodeEntry(entry: LedgerEntry): Uint8Array {
  return encodeEntryFast(entry);
}

/** The reference encoder: validate, then generic RFC 8785 canonicalisation. `encodeEntry` must agree with it. */
export function encodeEntryReference(entry: LedgerEntry): Uint8Array {
  validateEntry(entry);
  const bytes = utf8Encode(canonicalText(entry));
  if (bytes.length > MAX_ENTRY_SIZE) invalid('canonical entry is longer than 65535 bytes');
  return bytes;
}

/**
 * Parses leaf bytes as a ledger entry: strict UTF-8, JSON, schema v1, and the bytes must be
 * exactly the entry's canonical form (so each entry has one leaf hash). Throws ENTRY_INVALID.
 */
export function parseEntry(bytes: Uint8Array): LedgerEntry {
  if (bytes.length > MAX_ENTRY_SIZE) invalid('entry is longer than 65535 bytes');
  const text = utf8DecodeStrict(bytes);
  if (text === undefined) invalid('entry is not valid UTF-8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    invalid('entry is not valid JSON');
  }
  const entry = validateEntry(value);
  // Comparing strings is equivalent to comparing bytes: strict decoding is one-to-one.
  if (canonicalText(entry) !== text) invalid('entry is not in canonical form (RFC 8785)');
  return entry;
}
