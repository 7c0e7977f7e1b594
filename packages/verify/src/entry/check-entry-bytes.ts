import { VerifyError } from '../errors.js';
import { MAX_ENTRY_SIZE } from '../tiles/entry-bundle.js';
import { CanonicalScanner } from './canonical-scanner.js';
import { DECISIONS, ENTRY_TYPES, MAX_ENTRY_STRING, ORG_KINDS } from './ledger-entry.js';

/*
 * Fast path of parseEntry for bulk audits: one pass over the bytes that accepts exactly what
 * parseEntry accepts (strict UTF-8, RFC 8785 canonical JSON, schema v1) without building the
 * object, re-serialising or allocating. The test suite checks it against parseEntry on random
 * and mutated entries.
 */

function invalid(message: string): never {
  throw new VerifyError('ENTRY_INVALID', message);
}

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

type FieldKind =
  | 'string'
  | 'type'
  | 'decision'
  | 'orgKind'
  | 'time'
  | 'subjectRef'
  | 'count'
  | 'v'
  | 'principal'
  | 'resource'
  | 'reasons'
  | 'details';

interface Field {
  readonly name: Uint8Array;
  readonly kind: FieldKind;
  readonly required: boolean;
}

// Fields of each object, sorted the way JCS sorts keys (RFC 8785 §3.2.3).
function fields(spec: Record<string, readonly [FieldKind, boolean]>): readonly Field[] {
  return Object.keys(spec)
    .sort()
    .map((k) => {
      const [kind, required] = spec[k] as readonly [FieldKind, boolean];
      return { name: ascii(k), kind, required };
    });
}

const TOP = fields({
  v: ['v', true],
  type: ['type', true],
  time: ['time', true],
  principal: ['principal', true],
  action: ['string', true],
  resource: ['resource', true],
  purpose: ['string', false],
  grantId: ['string', false],
  decision: ['decision', true],
  reasons: ['reasons', true],
  policyVersion: ['string', false],
  release: ['string', false],
  details: ['details', false],
});
const PRINCIPAL = fields({ id: ['string', true], org: ['string', true], orgKind: ['orgKind', true] });
const RESOURCE = fields({
  collection: ['string', false],
  category: ['string', false],
  jurisdiction: ['string', false],
  site: ['string', false],
  subjectRef: ['subjectRef', false],
  count: ['count', false],
});
const TYPE_WORDS = ENTRY_TYPES.map(ascii);
const DECISION_WORDS = DECISIONS.map(ascii);
const ORG_KIND_WORDS = ORG_KINDS.map(ascii);

const sc = new CanonicalScanner();

function boundedString(min: number, max: number): void {
  const units = sc.string();
  if (units < min || units > max) invalid('string length out of bounds');
}

function oneOf(words: readonly Uint8Array[]): void {
  sc.string();
  for (const w of words) if (sc.lastStringIs(w)) return;
  invalid('value is not one of the allowed words');
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digits(p: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = (sc.bytes[p + i] ?? 0) - 0x30;
    if (d < 0 || d > 9) invalid('time must be RFC 3339 UTC with milliseconds');
    v = v * 10 + d;
  }
  return v;
}

// YYYY-MM-DDTHH:mm:ss.sssZ naming a real instant: what the Date round trip of validateEntry accepts.
function time(): void {
  sc.string();
  const s = sc.strStart;
  const b = sc.bytes;
  if (sc.strEnd - s !== 24 || !sc.strPlain) invalid('time must be RFC 3339 UTC with milliseconds');
  if (
    b[s + 4] !== 0x2d ||
    b[s + 7] !== 0x2d ||
    b[s + 10] !== 0x54 ||
    b[s + 13] !== 0x3a ||
    b[s + 16] !== 0x3a
  ) {
    invalid('time must be RFC 3339 UTC with milliseconds');
  }
  if (b[s + 19] !== 0x2e || b[s + 23] !== 0x5a) invalid('time must be RFC 3339 UTC with milliseconds');
  const year = digits(s, 4);
  const month = digits(s + 5, 2);
  const day = digits(s + 8, 2);
  digits(s + 20, 3);
  if (month < 1 || month > 12 || digits(s + 11, 2) > 23 || digits(s + 14, 2) > 59 || digits(s + 17, 2) > 59) {
    invalid('time is not a valid date');
  }
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const dim = month === 2 && leap ? 29 : (DAYS[month - 1] as number);
  if (day < 1 || day > dim) invalid('time is not a valid date');
}

// 1 for the base64url alphabet [A-Za-z0-9_-].
const BASE64URL = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  BASE64URL[c] =
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x5f ||
    c === 0x2d
      ? 1
      : 0;
}

function subjectRef(): void {
  sc.string();
  const s = sc.strStart;
  const len = sc.strEnd - s;
  const b = sc.bytes;
  if (
    !sc.strPlain ||
    len < 26 ||
    len > 68 ||
    b[s] !== 0x73 ||
    b[s + 1] !== 0x72 ||
    b[s + 2] !== 0x31 ||
    b[s + 3] !== 0x3a
  ) {
    invalid('resource.subjectRef must be a keyed pseudonym');
  }
  for (let i = s + 4; i < sc.strEnd; i++) {
    if (BASE64URL[b[i] as number] !== 1) invalid('resource.subjectRef must be a keyed pseudonym');
  }
}

function canonicalNumber(): number {
  const t = sc.numberToken();
  const x = Number(t);
  // RFC 8785 §3.2.2.3: the token must be exactly the ECMAScript serialisation of its value.
  if (!Number.isFinite(x) || String(x) !== t) invalid('number is not in canonical form');
  return x;
}

function count(): void {
  // Fast path: a canonical non-negative integer of at most 15 digits (no leading zero, no sign,
  // fraction or exponent) is its own ECMAScript serialisation and a safe integer.
  const b = sc.bytes;
  const start = sc.pos;
  let p = start;
  while (p - start < 16 && (b[p] as number) >= 0x30 && (b[p] as number) <= 0x39) p++;
  const c = b[p];
  const ended = c === 0x2c || c === 0x7d;
  if (ended && p > start && p - start <= 15 && (b[start] !== 0x30 || p - start === 1)) {
    sc.pos = p;
    return;
  }
  const x = canonicalNumber();
  if (!Number.isSafeInteger(x) || x < 0) invalid('resource.count must be a non-negative safe integer');
}

function stringArray(minLen: number): void {
  sc.expect(0x5b);
  if (sc.peek() === 0x5d) {
    sc.pos++;
    return;
  }
  for (;;) {
    boundedString(minLen, MAX_ENTRY_STRING);
    if (sc.peek() === 0x2c) sc.pos++;
    else break;
  }
  sc.expect(0x5d);
}

function details(): void {
  sc.expect(0x7b);
  if (sc.peek() === 0x7d) {
    sc.pos++;
    return;
  }
  let prev: string | undefined;
  for (;;) {
    boundedString(1, MAX_ENTRY_STRING);
    const key = sc.lastStringValue();
    // Strictly increasing by UTF-16 code units: sorted and no duplicates.
    if (prev !== undefined && !(prev < key)) invalid('details keys are not in canonical order');
    prev = key;
    sc.expect(0x3a);
    const c = sc.peek();
    if (c === 0x22) boundedString(0, MAX_ENTRY_STRING);
    else if (c === 0x74 || c === 0x66) sc.boolean();
    else if (c === 0x5b) stringArray(0);
    else canonicalNumber();
    if (sc.peek() === 0x2c) sc.pos++;
    else break;
  }
  sc.expect(0x7d);
}

function value(kind: FieldKind): void {
  switch (kind) {
    case 'string':
      boundedString(1, MAX_ENTRY_STRING);
      break;
    case 'type':
      oneOf(TYPE_WORDS);
      break;
    case 'decision':
      oneOf(DECISION_WORDS);
      break;
    case 'orgKind':
      oneOf(ORG_KIND_WORDS);
      break;
    case 'time':
      time();
      break;
    case 'subjectRef':
      subjectRef();
      break;
    case 'count':
      count();
      break;
    case 'v':
      if (sc.peek() !== 0x31) invalid('v must be 1');
      sc.pos++;
      break;
    case 'principal':
      object(PRINCIPAL);
      break;
    case 'resource':
      object(RESOURCE);
      break;
    case 'reasons':
      stringArray(1);
      break;
    case 'details':
      details();
      break;
  }
}

// An object whose keys come from `spec`, in canonical order, each at most once.
function object(spec: readonly Field[]): void {
  sc.expect(0x7b);
  let next = 0;
  if (sc.peek() !== 0x7d) {
    for (;;) {
      sc.string();
      let i = next;
      while (i < spec.length && !sc.lastStringIs((spec[i] as Field).name)) {
        if ((spec[i] as Field).required) invalid('entry is missing a required field');
        i++;
      }
      if (i === spec.length) invalid('entry has an unknown, repeated or misordered field');
      sc.expect(0x3a);
      value((spec[i] as Field).kind);
      next = i + 1;
      if (sc.peek() === 0x2c) sc.pos++;
      else break;
    }
  }
  for (let i = next; i < spec.length; i++)
    if ((spec[i] as Field).required) invalid('entry is missing a required field');
  sc.expect(0x7d);
}

/**
 * Checks leaf bytes the way {@link parseEntry} does (canonical RFC 8785 JSON of a schema v1
 * entry, at most 65535 bytes) but in a single allocation-free pass. Throws ENTRY_INVALID; the
 * message may be less precise than parseEntry's.
 */
export function checkEntryBytes(bytes: Uint8Array): void {
  checkEntryBytesAt(bytes, 0);
}

/** {@link checkEntryBytes} for the entry that fills `bytes` from `offset` to the end. */
export function checkEntryBytesAt(bytes: Uint8Array, offset: number): void {
  if (bytes.length - offset > MAX_ENTRY_SIZE) invalid('entry is longer than 65535 bytes');
  sc.reset(bytes, offset);
  object(TOP);
  if (sc.pos !== bytes.length) invalid('trailing bytes after the entry');
}
