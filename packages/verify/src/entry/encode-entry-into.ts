import { isWellFormedString } from '../encoding/bytes.js';
import { VerifyError } from '../errors.js';
import { MAX_ENTRY_SIZE } from '../tiles/entry-bundle.js';
import { encodeEntryInputText } from './encode-entry-fast.js';
import { DECISIONS, ENTRY_TYPES, MAX_ENTRY_STRING, ORG_KINDS } from './ledger-entry.js';
import { isPlainObject, type Obj, PRINCIPAL_KEYS, RESOURCE_KEYS, TOP_KEYS } from './validate-entry.js';

// A server appends an entry per request, and turning the canonical text into bytes cost as much as
// building it: V8 joins the pieces into a rope that must be flattened before it can be written.
// This writes the canonical UTF-8 straight into the caller's buffer from byte forms remembered per
// distinct string. It takes the common shape only (no `details`) and gives up, by throwing BAIL,
// on anything unusual or invalid; the text encoder then does the work and reports the error, so
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

const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
let lastTime: string | undefined;
let lastTimeBytes: Uint8Array = new Uint8Array(0);

function timeBytes(v: unknown): Uint8Array {
  if (v === lastTime && lastTime !== undefined) return lastTimeBytes;
  if (typeof v !== 'string' || !TIME_RE.test(v)) bail();
  const ms = Date.parse(v);
  if (Number.isNaN(ms) || new Date(ms).toISOString() !== v) bail();
  lastTime = v;
  lastTimeBytes = lit(`"${v}"`);
  return lastTimeBytes;
}

function onlyKeys(o: Obj, allowed: ReadonlySet<string>): void {
  for (const k in o) if (!allowed.has(k)) bail();
}

// The output being written: module state rather than closures, so the hot path allocates
// nothing. A write runs start to end synchronously (nothing it calls can re-enter it).
const EMPTY = new Uint8Array(0);
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

/** Writes a non-negative safe integer in decimal, as JSON.stringify does. */
function putCount(n: unknown): void {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) bail();
  const digits = String(n);
  if (pos + digits.length > limit) bail();
  for (let i = 0; i < digits.length; i++) out[pos + i] = digits.charCodeAt(i);
  pos += digits.length;
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
}
let prefixes: PrefixNode = { next: new Map(), bytes: undefined };
let prefixNodes = 0;
// About 4 MB at most; a full trie starts over.
const PREFIX_MAX_NODES = 20_000;
const END_OF_REASONS = Symbol('end of reasons');
/** The trie keys of the entry being written (reused: nothing is allocated per entry). */
const keys: unknown[] = [];

function prefixKeys(e: Obj, p: Obj, r: Obj, reasons: readonly unknown[]): void {
  keys.length = 0;
  keys.push(e.action, e.decision, e.grantId, e.policyVersion, p.id, p.org, p.orgKind, e.purpose);
  for (let i = 0; i < reasons.length; i++) keys.push(reasons[i]);
  keys.push(END_OF_REASONS, e.release, r.category, r.collection, r.count, r.jurisdiction, r.site);
  keys.push(r.subjectRef !== undefined);
}

function cachedPrefix(): Uint8Array | undefined {
  let node: PrefixNode | undefined = prefixes;
  for (let i = 0; i < keys.length && node !== undefined; i++) node = node.next.get(keys[i]);
  return node?.bytes;
}

function rememberPrefix(bytes: Uint8Array): void {
  if (prefixNodes + keys.length > PREFIX_MAX_NODES) {
    prefixes = { next: new Map(), bytes: undefined };
    prefixNodes = 0;
  }
  let node = prefixes;
  for (const key of keys) {
    let child = node.next.get(key);
    if (child === undefined) {
      child = { next: new Map(), bytes: undefined };
      node.next.set(key, child);
      prefixNodes++;
    }
    node = child;
  }
  node.bytes = bytes;
}

/** Writes the members before the subject reference (or the time), checking each value. */
function writePrefix(
  e: Obj,
  p: Obj,
  r: Obj,
  reasons: readonly unknown[],
  kind: Uint8Array,
  decision: Uint8Array,
): void {
  // Canonical member order (UTF-16): action, decision, grantId, policyVersion, principal,
  // purpose, reasons, release, resource, time, type, v.
  put(ACTION);
  put(strBytes(e.action));
  put(DECISION);
  put(decision);
  if (e.grantId !== undefined) {
    put(GRANT_ID);
    put(strBytes(e.grantId));
  }
  if (e.policyVersion !== undefined) {
    put(POLICY_VERSION);
    put(strBytes(e.policyVersion));
  }
  put(PRINCIPAL_ID);
  put(strBytes(p.id));
  put(ORG);
  put(strBytes(p.org));
  put(ORG_KIND);
  put(kind);
  if (e.purpose !== undefined) {
    put(PURPOSE);
    put(strBytes(e.purpose));
  } else put(NO_PURPOSE);
  put(REASONS);
  for (let i = 0; i < reasons.length; i++) {
    if (i > 0) put(COMMA);
    put(strBytes(reasons[i]));
  }
  if (e.release !== undefined) {
    put(RELEASE);
    put(strBytes(e.release));
  } else put(NO_RELEASE);
  put(RESOURCE);
  // Canonical order: category, collection, count, jurisdiction, site, subjectRef.
  let comma = member(R_CATEGORY, r.category, false);
  comma = member(R_COLLECTION, r.collection, comma);
  if (r.count !== undefined) {
    if (comma) put(COMMA);
    put(R_COUNT);
    putCount(r.count);
    comma = true;
  }
  comma = member(R_JURISDICTION, r.jurisdiction, comma);
  comma = member(R_SITE, r.site, comma);
  if (r.subjectRef !== undefined) {
    if (comma) put(COMMA);
    put(R_SUBJECT_REF);
  }
}

/** Writes the entry's canonical UTF-8 at `pos` (at most to `limit`); bails on anything unusual. */
function writeEntry(e: Obj, defaultTime: string): void {
  onlyKeys(e, TOP_KEYS);
  if ((e.v !== undefined && e.v !== 1) || e.details !== undefined) bail();
  const type = TYPES.get(e.type as string);
  const decision = VERDICTS.get(e.decision as string);
  if (type === undefined || decision === undefined) bail();
  const time = timeBytes(e.time === undefined || e.time === null ? defaultTime : e.time);
  const p = e.principal;
  if (!isPlainObject(p)) bail();
  onlyKeys(p, PRINCIPAL_KEYS);
  const kind = KINDS.get(p.orgKind as string);
  if (kind === undefined) bail();
  const r = e.resource;
  if (!isPlainObject(r)) bail();
  onlyKeys(r, RESOURCE_KEYS);
  const reasons = e.reasons;
  if (!Array.isArray(reasons)) bail();
  prefixKeys(e, p, r, reasons);
  const cached = cachedPrefix();
  let fresh: number | undefined;
  if (cached !== undefined) put(cached);
  else {
    fresh = pos;
    writePrefix(e, p, r, reasons, kind, decision);
  }
  const prefixEnd = pos;
  if (r.subjectRef !== undefined) putSubjectRef(r.subjectRef);
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
  if (isPlainObject(input)) {
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
