import { fromBase64, toBase64 } from '../encoding/base64.js';
import { hasControlCharacters, isWellFormedString, utf8DecodeStrict, utf8Encode } from '../encoding/bytes.js';
import { VerifyError } from '../errors.js';

/** One signature line of a note: key name, 32-bit key ID and the signature bytes after the ID. */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  readonly signature: Uint8Array;
}

/** A parsed (not yet verified) signed note. `textBytes` are exactly the signed bytes. */
export interface Note {
  readonly text: string;
  readonly textBytes: Uint8Array;
  readonly signatures: readonly NoteSignature[];
}

/**
 * Upper bound on signature lines. C2SP signed-note requires accepting at least 16; the bound
 * keeps a hostile note from costing unbounded work (Go's note package uses the same 100).
 */
export const MAX_NOTE_SIGNATURES = 100;

const EM_DASH_PREFIX = '\u2014 ';

function malformed(message: string): never {
  throw new VerifyError('NOTE_MALFORMED', message);
}

/**
 * Returns true for a valid key name (C2SP signed-note §Format): non-empty, no Unicode spaces,
 * no '+'.
 */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && isWellFormedString(name) && !/[\s\u0085+]/u.test(name);
}

/**
 * Parses a signed note (c2sp.org/signed-note): text ending in a newline, a blank line, then one
 * or more lines `— <name> <base64(keyID ‖ signature)>`. The text ends at the LAST blank line.
 * Throws VerifyError('NOTE_MALFORMED').
 */
export function parseNote(note: string | Uint8Array): Note {
  let str: string;
  if (typeof note === 'string') {
    if (!isWellFormedString(note)) malformed('note is not valid Unicode');
    str = note;
  } else {
    const decoded = utf8DecodeStrict(note);
    if (decoded === undefined) malformed('note is not valid UTF-8');
    str = decoded;
  }
  // Signed notes MUST NOT contain ASCII control characters other than newline.
  if (hasControlCharacters(str, true)) malformed('note contains control characters');
  const split = str.lastIndexOf('\n\n');
  if (split < 0) malformed('note has no blank line before its signatures');
  const text = str.slice(0, split + 1);
  const sigBlock = str.slice(split + 2);
  if (sigBlock.length === 0 || !sigBlock.endsWith('\n'))
    malformed('note must end with a signature line and newline');
  const lines = sigBlock.slice(0, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) malformed('note has too many signatures');
  const signatures = lines.map(parseSignatureLine);
  return { text, textBytes: utf8Encode(text), signatures };
}

function parseSignatureLine(line: string): NoteSignature {
  if (!line.startsWith(EM_DASH_PREFIX)) malformed('signature line must start with an em dash and a space');
  const rest = line.slice(EM_DASH_PREFIX.length);
  const space = rest.indexOf(' ');
  if (space < 0) malformed('signature line has no signature');
  const name = rest.slice(0, space);
  const b64 = rest.slice(space + 1);
  if (!isValidKeyName(name)) malformed('signature line has an invalid key name');
  let raw: Uint8Array;
  try {
    raw = fromBase64(b64);
  } catch {
    malformed('signature is not valid base64');
  }
  // 4-byte key ID plus at least one byte of signature.
  if (raw.length < 5) malformed('signature is too short');
  const keyId = new DataView(raw.buffer, raw.byteOffset, raw.byteLength).getUint32(0, false);
  return { name, keyId, signature: raw.slice(4) };
}

/** Formats one signature line, including its final newline. */
export function formatSignatureLine(sig: NoteSignature): string {
  const raw = new Uint8Array(4 + sig.signature.length);
  new DataView(raw.buffer).setUint32(0, sig.keyId >>> 0, false);
  raw.set(sig.signature, 4);
  return `${EM_DASH_PREFIX}${sig.name} ${toBase64(raw)}\n`;
}

/** Formats a signed note from its text (which must end in a newline) and signatures. */
export function formatNote(text: string, signatures: readonly NoteSignature[]): string {
  checkNoteText(text);
  if (signatures.length === 0) malformed('a note needs at least one signature');
  return `${text}\n${signatures.map(formatSignatureLine).join('')}`;
}

/** Throws NOTE_MALFORMED unless `text` can be the text of a signed note. */
export function checkNoteText(text: string): void {
  if (!text.endsWith('\n')) malformed('note text must end with a newline');
  if (!isWellFormedString(text)) malformed('note text is not valid Unicode');
  if (hasControlCharacters(text, true)) malformed('note text contains control characters');
}
