import { isWellFormedString } from '../encoding/bytes.js';
import { VerifyError } from '../errors.js';
import { MAX_ENTRY_SIZE } from '../tiles/entry-bundle.js';
import {
  DECISIONS,
  ENTRY_TYPES,
  type LedgerEntry,
  MAX_ENTRY_STRING,
  ORG_KINDS,
  SUBJECT_REF_PATTERN,
} from './ledger-entry.js';
import {
  entryTimeProblem,
  isPlainObject,
  type Obj,
  PRINCIPAL_KEYS,
  RESOURCE_KEYS,
  TOP_KEYS,
} from './validate-entry.js';

// The server encodes every entry it appends, so this is on the hot path of every request. It
// validates exactly what validateEntry validates and writes RFC 8785 canonical JSON directly,
// member names already in UTF-16 order, instead of validating, sorting and re-serialising a
// generic value. A differential test checks it against canonicalize(validateEntry(e)).

function invalid(message: string): never {
  throw new VerifyError('ENTRY_INVALID', message);
}

// Most members repeat from entry to entry (principal, action, collection, purpose, reasons, policy
// version, release): remember their canonical form instead of re-checking and re-escaping them.
const seen = new Map<string, string>();
const MEMO_MAX_LENGTH = 256;
const MEMO_MAX_ENTRIES = 10_000;

/** A string member's canonical form (RFC 8785 §3.2.2.2: JSON.stringify; lone surrogates refused). */
function str(v: unknown, field: string, allowEmpty = false): string {
  if (typeof v !== 'string') invalid(`${field} must be a string`);
  const hit = v.length === 0 ? undefined : seen.get(v);
  if (hit !== undefined) return hit;
  if (v.length > MAX_ENTRY_STRING) invalid(`${field} is longer than ${MAX_ENTRY_STRING} characters`);
  if (!allowEmpty && v.length === 0) invalid(`${field} must not be empty`);
  if (!isWellFormedString(v)) invalid(`${field} contains a lone surrogate`);
  const out = JSON.stringify(v);
  if (v.length > 0 && v.length <= MEMO_MAX_LENGTH) {
    if (seen.size >= MEMO_MAX_ENTRIES) seen.clear();
    seen.set(v, out);
  }
  return out;
}

// The canonical form of each allowed value of an enumerated member, per list.
const enumForms = new WeakMap<readonly string[], ReadonlyMap<string, string>>();

function oneOf(v: unknown, allowed: readonly string[], field: string): string {
  let forms = enumForms.get(allowed);
  if (forms === undefined) {
    forms = new Map(allowed.map((a) => [a, JSON.stringify(a)]));
    enumForms.set(allowed, forms);
  }
  const out = typeof v === 'string' ? forms.get(v) : undefined;
  if (out === undefined) invalid(`${field} must be one of ${allowed.join(', ')}`);
  return out;
}

function keysIn(o: Obj, allowed: ReadonlySet<string>, where: string): void {
  for (const k in o) if (!allowed.has(k)) invalid(`${where} has an unknown field`);
}

// No input equals the starting value: the first time is always checked.
let lastGoodTime: string | undefined;
let lastGoodTimeJson = '';

function time(v: unknown): string {
  if (v !== lastGoodTime || lastGoodTime === undefined) {
    const problem = entryTimeProblem(v);
    if (problem !== undefined) invalid(problem);
    // Entries appended in the same millisecond share the check and the encoding.
    lastGoodTime = v as string;
    lastGoodTimeJson = `"${v}"`;
  }
  return lastGoodTimeJson;
}

function principal(p: unknown): string {
  if (!isPlainObject(p)) invalid('principal must be an object');
  keysIn(p, PRINCIPAL_KEYS, 'principal');
  return `{"id":${str(p.id, 'principal.id')},"org":${str(p.org, 'principal.org')},"orgKind":${oneOf(p.orgKind, ORG_KINDS, 'principal.orgKind')}}`;
}

function resource(r: unknown): string {
  if (!isPlainObject(r)) invalid('resource must be an object');
  keysIn(r, RESOURCE_KEYS, 'resource');
  // Canonical order: category, collection, count, jurisdiction, site, subjectRef. Each present
  // member after the first is written with a leading comma.
  let out = '{';
  let sep = '';
  if (r.category !== undefined) {
    out += `"category":${str(r.category, 'resource.category')}`;
    sep = ',';
  }
  if (r.collection !== undefined) {
    out += `${sep}"collection":${str(r.collection, 'resource.collection')}`;
    sep = ',';
  }
  if (r.count !== undefined) {
    if (typeof r.count !== 'number' || !Number.isSafeInteger(r.count) || r.count < 0) {
      invalid('resource.count must be a non-negative safe integer');
    }
    out += `${sep}"count":${r.count}`;
    sep = ',';
  }
  if (r.jurisdiction !== undefined) {
    out += `${sep}"jurisdiction":${str(r.jurisdiction, 'resource.jurisdiction')}`;
    sep = ',';
  }
  if (r.site !== undefined) {
    out += `${sep}"site":${str(r.site, 'resource.site')}`;
    sep = ',';
  }
  if (r.subjectRef !== undefined) {
    if (typeof r.subjectRef !== 'string' || !SUBJECT_REF_PATTERN.test(r.subjectRef)) {
      invalid('resource.subjectRef must be a keyed pseudonym sr1:<22-64 base64url chars>');
    }
    // The pattern admits only base64url characters: nothing to escape.
    out += `${sep}"subjectRef":"${r.subjectRef}"`;
  }
  return `${out}}`;
}

function stringArray(a: unknown, field: string, allowEmpty: boolean): string {
  if (!Array.isArray(a)) invalid(`${field} must be an array of strings`);
  let out = '[';
  for (let i = 0; i < a.length; i++) out += (i > 0 ? ',' : '') + str(a[i], `${field}[]`, allowEmpty);
  return `${out}]`;
}

function details(d: unknown): string {
  if (!isPlainObject(d)) invalid('details must be an object');
  const parts: string[] = [];
  for (const k of Object.keys(d).sort()) {
    const key = str(k, 'details key');
    const v = d[k];
    switch (typeof v) {
      case 'string':
        parts.push(`${key}:${str(v, 'details value', true)}`);
        break;
      case 'number':
        if (!Number.isFinite(v)) invalid('details numbers must be finite');
        parts.push(`${key}:${JSON.stringify(v)}`);
        break;
      case 'boolean':
        parts.push(`${key}:${v ? 'true' : 'false'}`);
        break;
      case 'undefined':
        break;
      default:
        parts.push(`${key}:${stringArray(v, 'details value', true)}`);
    }
  }
  return `{${parts.join(',')}}`;
}

const encoder = new TextEncoder();

/**
 * Validates an entry (exactly as `validateEntry`) and writes its RFC 8785 canonical JSON as UTF-8.
 * Throws ENTRY_INVALID.
 */
export function encodeEntryFast(value: LedgerEntry): Uint8Array {
  const bytes = encoder.encode(encodeEntryText(value));
  if (bytes.length > MAX_ENTRY_SIZE) invalid('canonical entry is longer than 65535 bytes');
  return bytes;
}

/**
 * Validates an entry and returns its RFC 8785 canonical JSON text. The caller converts it to
 * UTF-8 and must refuse more than 65535 bytes (MAX_ENTRY_SIZE); servers use this to encode with
 * their platform's fastest UTF-8 encoder.
 */
export function encodeEntryText(value: LedgerEntry): string {
  const e = value as unknown;
  if (!isPlainObject(e)) invalid('entry must be an object');
  keysIn(e, TOP_KEYS, 'entry');
  if (e.v !== 1) invalid('v must be 1');
  return members(e, e.time);
}

/**
 * {@link encodeEntryText} of an entry as a server's callers give it: `v` may be left out (it is
 * 1), and so may `time` (undefined or null: then `defaultTime` is used). Exactly the text
 * `encodeEntryText` gives for `{ v: 1, ...input, time: input.time ?? defaultTime }`, without
 * building that object.
 */
export function encodeEntryInputText(input: object, defaultTime: string): string {
  const e = input as unknown;
  if (!isPlainObject(e)) invalid('entry must be an object');
  keysIn(e, TOP_KEYS, 'entry');
  if (e.v !== undefined && e.v !== 1) invalid('v must be 1');
  // Left out, undefined or null: the default (as `time ??= now` did).
  return members(e, e.time === undefined || e.time === null ? defaultTime : e.time);
}

/** The canonical text of an entry object whose keys and `v` were checked, with its time. */
function members(e: Obj, rawTime: unknown): string {
  // Validation order follows validateEntry so both report the same first error.
  const type = oneOf(e.type, ENTRY_TYPES, 'type');
  const t = time(rawTime);
  const p = principal(e.principal);
  const action = str(e.action, 'action');
  const res = resource(e.resource);
  const purpose = e.purpose === undefined ? undefined : str(e.purpose, 'purpose');
  const grantId = e.grantId === undefined ? undefined : str(e.grantId, 'grantId');
  const decision = oneOf(e.decision, DECISIONS, 'decision');
  const reasons = stringArray(e.reasons, 'reasons', false);
  const policyVersion = e.policyVersion === undefined ? undefined : str(e.policyVersion, 'policyVersion');
  const release = e.release === undefined ? undefined : str(e.release, 'release');
  const det = e.details === undefined ? undefined : details(e.details);
  // Member order (UTF-16): action, decision, details, grantId, policyVersion, principal, purpose,
  // reasons, release, resource, time, type, v.
  let out = `{"action":${action},"decision":${decision}`;
  if (det !== undefined) out += `,"details":${det}`;
  if (grantId !== undefined) out += `,"grantId":${grantId}`;
  if (policyVersion !== undefined) out += `,"policyVersion":${policyVersion}`;
  out += `,"principal":${p}`;
  if (purpose !== undefined) out += `,"purpose":${purpose}`;
  out += `,"reasons":${reasons}`;
  if (release !== undefined) out += `,"release":${release}`;
  out += `,"resource":${res},"time":${t},"type":${type},"v":1}`;
  return out;
}
