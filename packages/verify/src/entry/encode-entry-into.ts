import { isWellFormedString } from '../encoding/bytes.js';
import { VerifyError } from '../errors.js';
import { MAX_ENTRY_SIZE } from '../tiles/entry-bundle.js';
import { encodeEntryInputText } from './encode-entry-fast.js';
import { DECISIONS, ENTRY_TYPES, MAX_ENTRY_STRING, ORG_KINDS } from './ledger-entry.js';
import {
  entryTimeProblem,
  isPlainObject,
  type Obj,
  PRINCIPAL_KEYS,
  RESOURCE_KEYS,
  TOP_KEYS,
} from './validate-entry.js';

// A server appends an entry per request, and turning the canonical text into bytes cost as much as
// building it: V8 joins the pieces into a rope that must be flattened before it can be written.
// This writes the canonical UTF-8 straight into the caller's buffer from byte forms remembered per
// distinct string. It takes the schema's shape, `details` included, and gives up, by throwing
// BAIL, on anything unusual or invalid; the text encoder then does the work and reports the error, so
// both accept the same entries, give the same bytes and throw the same first error (a
// differential test checks it).

const BAIL = Symbol('bail');
const utf8 = new TextEncoder();

function bail(): never {
  throw BAIL;
}

/** Literal bytes of an ASCII string. */
const lit = (s: string): Uint8Array => utf8.encode(s);

const ACTION = lit('{"action":');
const DECISION = lit(',"decision":');
const DETAILS = lit(',"details":{');
const GRANT_ID = lit(',"grantId":');
const POLICY_VERSION = lit(',"policyVersion":');
const PRINCIPAL_ID = lit(',"principal":{"id":');
const ORG = lit(',"org":');
const ORG_KIND = lit(',"orgKind":');
const PURPOSE = lit('},"purpose":');
const NO_PURPOSE = lit('}');
const REASONS = lit(',"reasons":[');
const RELEASE = lit('],"release":');
const NO_RELEASE = lit(']');
const RESOURCE = lit(',"resource":{');
const R_CATEGORY = lit('"category":');
const R_COLLECTION = lit('"collection":');
const R_COUNT = lit('"count":');
const R_JURISDICTION = lit('"jurisdiction":');
const R_SITE = lit('"site":');
const R_SUBJECT_REF = lit('"subjectRef":"');
const TIME = lit('},"time":');
const TYPE = lit(',"type":');
const END = lit(',"v":1}');

const enumBytes = (values: readonly string[]): ReadonlyMap<string, Uint8Array> =>
  new Map(values.map((v) => [v, lit(JSON.stringify(v))]));
const TYPES = enumBytes(ENTRY_TYPES);
const KINDS = enumBytes(ORG_KINDS);
const VERDICTS = enumBytes(DECISIONS);

// Canonical (quoted, escaped) UTF-8 of the strings seen, like the text encoder's memo.
const seen = new Map<string, Uint8Array>();
const MEMO_MAX_LENGTH = 256;
const MEMO_MAX_ENTRIES = 10_000;

/** A non-empty string member's canonical bytes; bails where the text encoder would throw. */
function strBytes(v: unknown): Uint8Array {
  if (typeof v !== 'string') bail();
  const hit = seen.get(v);
  if (hit !== undefined) return hit;
  if (v.length === 0 || v.length > MAX_ENTRY_STRING || !isWellFormedString(v)) bail();
  const out = utf8.encode(JSON.stringify(v));
  if (v.length <= MEMO_MAX_LENGTH) {
    if (seen.size >= MEMO_MAX_ENTRIES) seen.clear();
    seen.set(v, out);
  }
  return out;
}

let lastTime: string | undefined;
let lastTimeBytes: Uint8Array = new Uint8Array(0);

function timeBytes(v: unknown): Uint8Array {
  if (v === lastTime && lastTime !== undefined) return lastTimeBytes;
  if (typeof v !== 'string' || entryTimeProblem(v) !== undefined) bail();
  lastTime = v;
  lastTimeBytes = lit(`"${v}"`);
  return lastTimeBytes;
}

function onlyKeys(o: Obj, allowed: ReadonlySet<string>): void {
  for (const k in o) if (!allowed.has(k)) bail();
}

// The output being written: module state rather than closures, so the hot path allocates
// little. A getter on the input may call the encoder again while an entry is being read: such a
// call finds `busy` set and takes the text path, which leaves this state alone.
const EMPTY = new Uint8Array(0);
let busy = false;
let out: Uint8Array = EMPTY;
let pos = 0;
let limit = 0;

function put(b: Uint8Array): void {
  const n = b.length;
  const at = pos;
  if (at + n > limit) bail();
  // Locals: the loop then reads no module binding. A long run (a remembered prefix) is one copy.
  const o = out;
  if (n > 64) o.set(b, at);
  else for (let k = 0; k < n; k++) o[at + k] = b[k] as number;
  pos = at + n;
}

/** An optional string member of `resource`, with its name and the comma before it if needed. */
function member(name: Uint8Array, v: unknown, comma: boolean): boolean {
  if (v === undefined) return comma;
  if (comma) put(COMMA);
  put(name);
  put(strBytes(v));
  return true;
}

/** Writes an ASCII string (a number's JSON form). */
function putAscii(text: string): void {
  if (pos + text.length > limit) bail();
  for (let i = 0; i < text.length; i++) out[pos + i] = text.charCodeAt(i);
  pos += text.length;
}

/** Writes a non-negative safe integer in decimal, as JSON.stringify does. */
function putCount(n: unknown): void {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) bail();
  putAscii(String(n));
}

/**
 * Checks a subject reference against `sr1:` and 22 to 64 base64url characters
 * (SUBJECT_REF_PATTERN) while copying it, with its closing quote; nothing in it needs escaping.
 */
function putSubjectRef(ref: unknown): void {
  if (typeof ref !== 'string') bail();
  const n = ref.length;
  const at = pos;
  if (n < 26 || n > 68 || at + n + 1 > limit || !ref.startsWith('sr1:')) bail();
  const o = out;
  for (let i = 0; i < 4; i++) o[at + i] = ref.charCodeAt(i);
  for (let i = 4; i < n; i++) {
    const c = ref.charCodeAt(i);
    if (BASE64URL[c] !== 1) bail();
    o[at + i] = c;
  }
  o[at + n] = 34; // "
  pos = at + n + 1;
}

/** 1 at the code of each base64url character (A–Z, a–z, 0–9, `-`, `_`); beyond 127: undefined. */
const BASE64URL = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_')
  BASE64URL[c.charCodeAt(0)] = 1;

/** The members after the subject reference, `},"time":…,"type":…,"v":1}`, for the last time and type. */
let suffixTime: Uint8Array | undefined;
let suffixType: Uint8Array | undefined;
let suffix: Uint8Array = new Uint8Array(0);

function putSuffix(time: Uint8Array, type: Uint8Array): void {
  if (time !== suffixTime || type !== suffixType) {
    const parts = [TIME, time, TYPE, type, END];
    const bytes = new Uint8Array(parts.reduce((n, b) => n + b.length, 0));
    let at = 0;
    for (const b of parts) {
      bytes.set(b, at);
      at += b.length;
    }
    suffix = bytes;
    suffixTime = time;
    suffixType = type;
  }
  put(suffix);
}

/**
 * Everything before the subject reference (or before the time, without one) repeats from entry
 * to entry: one caller reads one collection for one purpose under one grant, over and over. Those
 * bytes are remembered in a trie keyed by the values that make them, member by member in
 * canonical order, so such an entry costs some lookups and one copy. A value is only ever stored
 * after an entry made of it was written and checked in full, so a hit needs no further checks.
 */
interface PrefixNode {
  readonly next: Map<unknown, PrefixNode>;
  bytes: Uint8Array | undefined;
  // The child found last, and its key: most members repeat the previous entry's, and a strict
  // comparison is cheaper than a Map lookup. `===` equal keys are SameValueZero equal, as the
  // Map's are, so a hit finds the child the Map would.
  lastKey: unknown;
  lastChild: PrefixNode | undefined;
}
const newNode = (): PrefixNode => ({
  next: new Map(),
  bytes: undefined,
  lastKey: undefined,
  lastChild: undefined,
});
let prefixes: PrefixNode = newNode();
let prefixNodes = 0;
let prefixBytes = 0;
// Bounds: nodes, and bytes remembered (which also bound the strings used as keys: each is in its
// prefix). A full trie starts over. A prefix longer than PREFIX_MAX_LENGTH is not remembered.
const PREFIX_MAX_NODES = 20_000;
const PREFIX_MAX_BYTES = 4 * 1024 * 1024;
const PREFIX_MAX_LENGTH = 2048;
// Markers in the key sequence, so that every sequence reads one way only.
const NO_DETAILS = Symbol('no details');
const ARRAY = Symbol('array');
const END_OF_ARRAY = Symbol('end of array');
const END_OF_DETAILS = Symbol('end of details');
const END_OF_REASONS = Symbol('end of reasons');

/** An entry's members, each read from the input exactly once (a getter runs once). */
interface Parts {
  readonly action: unknown;
  readonly decision: Uint8Array;
  /** Sorted keys and their values (arrays copied); members whose value is undefined left out. */
  readonly details: { readonly keys: string[]; readonly values: unknown[] } | undefined;
  readonly grantId: unknown;
  readonly policyVersion: unknown;
  readonly id: unknown;
  readonly org: unknown;
  readonly kind: Uint8Array;
  readonly purpose: unknown;
  readonly reasons: unknown[];
  readonly release: unknown;
  readonly category: unknown;
  readonly collection: unknown;
  readonly count: unknown;
  readonly jurisdiction: unknown;
  readonly site: unknown;
  readonly subjectRef: unknown;
}

/** Copies an array's elements (read once each). */
function copyArray(a: readonly unknown[]): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < a.length; i++) out.push(a[i]);
  return out;
}

function readDetails(d: unknown): Parts['details'] {
  if (d === undefined) return undefined;
  if (!isPlainObject(d)) bail();
  const keys: string[] = [];
  const values: unknown[] = [];
  for (const k of Object.keys(d).sort()) {
    // The name is checked even when the value is left out, as the text encoder checks it.
    strBytes(k);
    const v = d[k];
    if (v === undefined) continue;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) bail();
    } else if (typeof v !== 'string' && typeof v !== 'boolean') {
      if (!Array.isArray(v)) bail();
      keys.push(k);
      values.push(copyArray(v));
      continue;
    }
    keys.push(k);
    values.push(v);
  }
  return { keys, values };
}

/** The trie keys of an entry's prefix (into the reused `keys`). */
function prefixKeys(s: Parts): void {
  keys.length = 0;
  keys.push(s.action, s.decision);
  if (s.details === undefined) keys.push(NO_DETAILS);
  else {
    const { keys: names, values } = s.details;
    for (let i = 0; i < names.length; i++) {
      keys.push(names[i]);
      const v = values[i];
      if (Array.isArray(v)) {
        keys.push(ARRAY);
        for (const x of v) keys.push(x);
        keys.push(END_OF_ARRAY);
      } else keys.push(v);
    }
    keys.push(END_OF_DETAILS);
  }
  keys.push(s.grantId, s.policyVersion, s.id, s.org, s.kind, s.purpose);
  for (const x of s.reasons) keys.push(x);
  keys.push(END_OF_REASONS, s.release, s.category, s.collection, s.count, s.jurisdiction, s.site);
  keys.push(s.subjectRef !== undefined);
}

/** The trie keys of the entry being written (reused: nothing is allocated per entry). */
const keys: unknown[] = [];

function cachedPrefix(): Uint8Array | undefined {
  let node: PrefixNode | undefined = prefixes;
  for (let i = 0; i < keys.length && node !== undefined; i++) {
    const key = keys[i];
    if (node.lastChild !== undefined && node.lastKey === key) node = node.lastChild;
    else {
      const child: PrefixNode | undefined = node.next.get(key);
      if (child !== undefined) {
        node.lastKey = key;
        node.lastChild = child;
      }
      node = child;
    }
  }
  return node?.bytes;
}

function rememberPrefix(bytes: Uint8Array): void {
  if (bytes.length > PREFIX_MAX_LENGTH) return;
  if (prefixNodes + keys.length > PREFIX_MAX_NODES || prefixBytes + bytes.length > PREFIX_MAX_BYTES) {
    prefixes = newNode();
    prefixNodes = 0;
    prefixBytes = 0;
  }
  let node = prefixes;
  for (const key of keys) {
    let child = node.next.get(key);
    if (child === undefined) {
      child = newNode();
      node.next.set(key, child);
      prefixNodes++;
    }
    node = child;
  }
  if (node.bytes === undefined) prefixBytes += bytes.length;
  node.bytes = bytes;
}

const EMPTY_STRING = lit('""');
const COLON = lit(':');
const OPEN_ARRAY = lit('[');
const CLOSE_ARRAY = lit(']');
const CLOSE_OBJECT = lit('}');
const TRUE = lit('true');
const FALSE = lit('false');

/** A string's canonical bytes where the empty string is allowed (details values). */
function strOrEmptyBytes(v: unknown): Uint8Array {
  return v === '' ? EMPTY_STRING : strBytes(v);
}

function putDetails(d: NonNullable<Parts['details']>): void {
  put(DETAILS);
  for (let i = 0; i < d.keys.length; i++) {
    if (i > 0) put(COMMA);
    put(strBytes(d.keys[i]));
    put(COLON);
    const v = d.values[i];
    if (typeof v === 'string') put(strOrEmptyBytes(v));
    else if (typeof v === 'boolean') put(v ? TRUE : FALSE);
    else if (typeof v === 'number') putAscii(JSON.stringify(v));
    else {
      const a = v as unknown[];
      put(OPEN_ARRAY);
      for (let j = 0; j < a.length; j++) {
        if (j > 0) put(COMMA);
        put(strOrEmptyBytes(a[j]));
      }
      put(CLOSE_ARRAY);
    }
  }
  put(CLOSE_OBJECT);
}

/** Writes the members before the subject reference (or the time), checking each value. */
function writePrefix(s: Parts): void {
  // Canonical member order (UTF-16): action, decision, details, grantId, policyVersion,
  // principal, purpose, reasons, release, resource, time, type, v.
  put(ACTION);
  put(strBytes(s.action));
  put(DECISION);
  put(s.decision);
  if (s.details !== undefined) putDetails(s.details);
  if (s.grantId !== undefined) {
    put(GRANT_ID);
    put(strBytes(s.grantId));
  }
  if (s.policyVersion !== undefined) {
    put(POLICY_VERSION);
    put(strBytes(s.policyVersion));
  }
  put(PRINCIPAL_ID);
  put(strBytes(s.id));
  put(ORG);
  put(strBytes(s.org));
  put(ORG_KIND);
  put(s.kind);
  if (s.purpose !== undefined) {
    put(PURPOSE);
    put(strBytes(s.purpose));
  } else put(NO_PURPOSE);
  put(REASONS);
  for (let i = 0; i < s.reasons.length; i++) {
    if (i > 0) put(COMMA);
    put(strBytes(s.reasons[i]));
  }
  if (s.release !== undefined) {
    put(RELEASE);
    put(strBytes(s.release));
  } else put(NO_RELEASE);
  put(RESOURCE);
  // Canonical order: category, collection, count, jurisdiction, site, subjectRef.
  let comma = member(R_CATEGORY, s.category, false);
  comma = member(R_COLLECTION, s.collection, comma);
  if (s.count !== undefined) {
    if (comma) put(COMMA);
    put(R_COUNT);
    putCount(s.count);
    comma = true;
  }
  comma = member(R_JURISDICTION, s.jurisdiction, comma);
  comma = member(R_SITE, s.site, comma);
  if (s.subjectRef !== undefined) {
    if (comma) put(COMMA);
    put(R_SUBJECT_REF);
  }
}

/** Writes the entry's canonical UTF-8 at `pos` (at most to `limit`); bails on anything unusual. */
function writeEntry(e: Obj, defaultTime: string): void {
  onlyKeys(e, TOP_KEYS);
  // Every member is read once, here, before anything is written: what the trie remembers is
  // exactly what was checked and written, whatever a getter does.
  const v = e.v;
  const type = TYPES.get(e.type as string);
  const rawTime = e.time;
  const decision = VERDICTS.get(e.decision as string);
  const p = e.principal;
  const r = e.resource;
  const rawReasons = e.reasons;
  const action = e.action;
  const grantId = e.grantId;
  const policyVersion = e.policyVersion;
  const purpose = e.purpose;
  const release = e.release;
  const details = readDetails(e.details);
  if (v !== undefined && v !== 1) bail();
  if (type === undefined || decision === undefined) bail();
  const time = timeBytes(rawTime === undefined || rawTime === null ? defaultTime : rawTime);
  if (!isPlainObject(p)) bail();
  onlyKeys(p, PRINCIPAL_KEYS);
  const id = p.id;
  const org = p.org;
  const kind = KINDS.get(p.orgKind as string);
  if (kind === undefined) bail();
  if (!isPlainObject(r)) bail();
  onlyKeys(r, RESOURCE_KEYS);
  if (!Array.isArray(rawReasons)) bail();
  const s: Parts = {
    action,
    decision,
    details,
    grantId,
    policyVersion,
    id,
    org,
    kind,
    purpose,
    reasons: copyArray(rawReasons),
    release,
    category: r.category,
    collection: r.collection,
    count: r.count,
    jurisdiction: r.jurisdiction,
    site: r.site,
    subjectRef: r.subjectRef,
  };
  prefixKeys(s);
  const cached = cachedPrefix();
  let fresh: number | undefined;
  if (cached !== undefined) put(cached);
  else {
    fresh = pos;
    writePrefix(s);
  }
  const prefixEnd = pos;
  if (s.subjectRef !== undefined) putSubjectRef(s.subjectRef);
  putSuffix(time, type);
  // Only now is every value of the prefix known to be good.
  if (fresh !== undefined) rememberPrefix(out.slice(fresh, prefixEnd));
}

const COMMA = lit(',');

/**
 * Writes the canonical UTF-8 bytes of an entry as a server's callers give it (exactly the bytes
 * of {@link encodeEntryInputText}) into `out` at `offset`, and returns where they end. `out` must
 * have room for MAX_ENTRY_SIZE + 1 bytes from `offset`; bytes past the returned end may be
 * overwritten. Throws ENTRY_INVALID, as `encodeEntryInputText` does, when the entry breaks the
 * schema or is longer than 65535 bytes.
 */
export function encodeEntryInputInto(
  input: object,
  defaultTime: string,
  target: Uint8Array,
  offset: number,
): number {
  if (target.length - offset < MAX_ENTRY_SIZE + 1) {
    throw new RangeError('encodeEntryInputInto: out needs room for 65536 bytes from offset');
  }
  if (!busy && isPlainObject(input)) {
    busy = true;
    out = target;
    pos = offset;
    limit = offset + MAX_ENTRY_SIZE;
    try {
      writeEntry(input, defaultTime);
      return pos;
    } catch (err) {
      if (err !== BAIL) throw err;
    } finally {
      // Keep no reference to the caller's buffer.
      out = EMPTY;
      busy = false;
    }
  }
  // The text encoder validates (throwing its first error) and covers what the writer does not.
  const text = encodeEntryInputText(input, defaultTime);
  const { read, written } = utf8.encodeInto(text, target.subarray(offset, offset + MAX_ENTRY_SIZE + 1));
  if (read < text.length || written > MAX_ENTRY_SIZE) {
    throw new VerifyError('ENTRY_INVALID', 'canonical entry is longer than 65535 bytes');
  }
  return offset + written;
}
