/**
 * A byte cursor over canonical JSON (RFC 8785) that checks canonical form while it scans, with
 * no allocation on the happy path. Used by the fast entry check; every method throws
 * ENTRY_INVALID on anything JCS would not have produced.
 */
import { VerifyError } from '../errors.js';

// 1 for bytes a canonical string carries as themselves: printable ASCII except '"' and '\\'.
const PLAIN = new Uint8Array(256);
for (let c = 0x20; c < 0x80; c++) PLAIN[c] = c === 0x22 || c === 0x5c ? 0 : 1;

function invalid(message: string): never {
  throw new VerifyError('ENTRY_INVALID', message);
}

/** Scanning state: the bytes and the current position. Single-threaded and synchronous. */
export class CanonicalScanner {
  bytes: Uint8Array = new Uint8Array(0);
  pos = 0;
  /** Start and end (exclusive) of the last string's content, and whether it was plain ASCII without escapes. */
  strStart = 0;
  strEnd = 0;
  strPlain = true;

  /** Starts scanning `bytes` at `offset`. */
  reset(bytes: Uint8Array, offset: number): void {
    this.bytes = bytes;
    this.pos = offset;
  }

  /** Consumes one expected byte. */
  expect(byte: number): void {
    if (this.bytes[this.pos] !== byte) invalid('entry is not canonical JSON of schema v1');
    this.pos++;
  }

  /** Returns the next byte without consuming it (-1 at the end). */
  peek(): number {
    return this.bytes[this.pos] ?? -1;
  }

  /**
   * Scans a string in canonical JSON form (JSON.stringify escaping, valid UTF-8, no lone
   * surrogates) and returns its length in UTF-16 code units.
   */
  string(): number {
    const b = this.bytes;
    let p = this.pos;
    if (b[p] !== 0x22) invalid('expected a string');
    p++;
    this.strStart = p;
    let units = 0;
    let plain = true;
    for (;;) {
      // Fast run over printable ASCII other than '"' and '\\'.
      const run = p;
      while (PLAIN[b[p] as number] === 1) p++;
      units += p - run;
      const c = b[p];
      if (c === undefined) invalid('unterminated string');
      if (c === 0x22) break;
      if (c < 0x20) invalid('unescaped control character in string');
      plain = false;
      if (c === 0x5c) {
        p = this.#escape(p);
        units++;
      } else {
        p = this.#utf8(p);
        units += c >= 0xf0 ? 2 : 1;
      }
    }
    this.strEnd = p;
    this.strPlain = plain;
    this.pos = p + 1;
    return units;
  }

  // JSON.stringify escapes '"', '\\', \b \t \n \f \r by name and other C0 controls as \u00xx
  // (lowercase hex); any other escape is not canonical.
  #escape(p: number): number {
    const e = this.bytes[p + 1];
    if (e === 0x22 || e === 0x5c || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74)
      return p + 2;
    if (e !== 0x75) invalid('non-canonical escape in string');
    const b = this.bytes;
    if (b[p + 2] !== 0x30 || b[p + 3] !== 0x30) invalid('non-canonical escape in string');
    const h = b[p + 4];
    const l = b[p + 5] ?? -1;
    const low = l >= 0x30 && l <= 0x39 ? l - 0x30 : l >= 0x61 && l <= 0x66 ? l - 0x57 : -1;
    if ((h !== 0x30 && h !== 0x31) || low < 0) invalid('non-canonical escape in string');
    const code = (h - 0x30) * 16 + low;
    if (code === 0x08 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d) {
      invalid('non-canonical escape in string');
    }
    return p + 6;
  }

  // Validates one UTF-8 sequence (RFC 3629 §4: no overlongs, no surrogates, at most U+10FFFF).
  #utf8(p: number): number {
    const b = this.bytes;
    const c = b[p] as number;
    const c1 = b[p + 1] ?? 0;
    if (c >= 0xc2 && c <= 0xdf) {
      if ((c1 & 0xc0) !== 0x80) invalid('invalid UTF-8');
      return p + 2;
    }
    const c2 = b[p + 2] ?? 0;
    if (c >= 0xe0 && c <= 0xef) {
      const lo = c === 0xe0 ? 0xa0 : 0x80;
      const hi = c === 0xed ? 0x9f : 0xbf;
      if (c1 < lo || c1 > hi || (c2 & 0xc0) !== 0x80) invalid('invalid UTF-8');
      return p + 3;
    }
    const c3 = b[p + 3] ?? 0;
    if (c >= 0xf0 && c <= 0xf4) {
      const lo = c === 0xf0 ? 0x90 : 0x80;
      const hi = c === 0xf4 ? 0x8f : 0xbf;
      if (c1 < lo || c1 > hi || (c2 & 0xc0) !== 0x80 || (c3 & 0xc0) !== 0x80) invalid('invalid UTF-8');
      return p + 4;
    }
    return invalid('invalid UTF-8');
  }

  /** True when the last string's content equals the ASCII bytes `word`. */
  lastStringIs(word: Uint8Array): boolean {
    if (!this.strPlain || this.strEnd - this.strStart !== word.length) return false;
    const b = this.bytes;
    const s = this.strStart;
    for (let i = 0; i < word.length; i++) if (b[s + i] !== word[i]) return false;
    return true;
  }

  /** Decodes the last string to a JS string (slow path, for keys that must be ordered). */
  lastStringValue(): string {
    const raw = new TextDecoder().decode(this.bytes.subarray(this.strStart - 1, this.strEnd + 1));
    return JSON.parse(raw) as string;
  }

  /** Scans a number token and returns it as text (caller checks its canonical form). */
  numberToken(): string {
    const b = this.bytes;
    const start = this.pos;
    let p = start;
    for (;;) {
      const c = b[p];
      // Characters of a JSON number: - + . 0-9 e E
      if (
        c === undefined ||
        !((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45)
      )
        break;
      p++;
    }
    if (p === start) invalid('expected a number');
    this.pos = p;
    let s = '';
    for (let i = start; i < p; i++) s += String.fromCharCode(b[i] as number);
    return s;
  }

  /** Consumes the literal `true` or `false`. */
  boolean(): void {
    const b = this.bytes;
    const p = this.pos;
    if (b[p] === 0x74 && b[p + 1] === 0x72 && b[p + 2] === 0x75 && b[p + 3] === 0x65) this.pos = p + 4;
    else if (
      b[p] === 0x66 &&
      b[p + 1] === 0x61 &&
      b[p + 2] === 0x6c &&
      b[p + 3] === 0x73 &&
      b[p + 4] === 0x65
    )
      this.pos = p + 5;
    else invalid('expected a boolean');
  }
}
