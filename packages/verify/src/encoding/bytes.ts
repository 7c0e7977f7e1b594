/** Byte helpers shared by every module; no I/O, browser-safe. */

const encoder = new TextEncoder();
// fatal: reject invalid UTF-8; ignoreBOM: keep a leading U+FEFF so bytes and strings stay 1:1.
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Encodes a string as UTF-8 bytes. */
export function utf8Encode(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes UTF-8 bytes strictly; returns undefined on invalid UTF-8 (a BOM is kept, not stripped). */
export function utf8DecodeStrict(bytes: Uint8Array): string | undefined {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Returns true when the string has no lone UTF-16 surrogates (so it round-trips through UTF-8). */
export function isWellFormedString(text: string): boolean {
  // Fast path: most strings contain no surrogates at all.
  if (!/[\uD800-\uDFFF]/.test(text)) return true;
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

/** Compares two byte arrays for equality (not constant time: all inputs here are public). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return false;
  }
  return true;
}

/** Compares `a` with the 32 bytes of `b` starting at `offset`. */
export function equalHashAt(a: Uint8Array, b: Uint8Array, offset: number): boolean {
  if (a.length !== 32 || offset + 32 > b.length) return false;
  for (let i = 0; i < 32; i++) {
    if (a[i] !== b[offset + i]) return false;
  }
  return true;
}

/** Concatenates byte arrays into a new array. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Encodes bytes as lowercase hex. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** Returns true when `text` contains an ASCII control character (below U+0020), other than '\n' if `allowNewline`. */
export function hasControlCharacters(text: string, allowNewline: boolean): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 && !(allowNewline && c === 0x0a)) return true;
  }
  return false;
}
