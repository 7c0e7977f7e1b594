import { VerifyError } from '../errors.js';
import {
  DECISIONS,
  ENTRY_TYPES,
  type LedgerEntry,
  MAX_ENTRY_STRING,
  ORG_KINDS,
  SUBJECT_REF_PATTERN,
} from './ledger-entry.js';

// Hand-written validator (the verifier has no dependencies). Every field is hostile until
// checked; messages name the field, never its value.

function invalid(message: string): never {
  throw new VerifyError('ENTRY_INVALID', message);
}

/** A parsed JSON object. */
export type Obj = Record<string, unknown>;

/** True for a plain object (prototype Object or null): what JSON objects parse to. */
export function isPlainObject(v: unknown): v is Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function checkString(v: unknown, field: string, allowEmpty = false): void {
  if (typeof v !== 'string') invalid(`${field} must be a string`);
  if (v.length > MAX_ENTRY_STRING) invalid(`${field} is longer than ${MAX_ENTRY_STRING} characters`);
  if (!allowEmpty && v.length === 0) invalid(`${field} must not be empty`);
}

function checkOptionalString(v: unknown, field: string): void {
  if (v !== undefined) checkString(v, field);
}

function checkOneOf(v: unknown, allowed: readonly string[], field: string): void {
  if (typeof v !== 'string' || !allowed.includes(v)) invalid(`${field} must be one of ${allowed.join(', ')}`);
}

const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** What is wrong with an entry's `time` (RFC 3339 UTC with milliseconds), or undefined when it is good. */
export function entryTimeProblem(v: unknown): string | undefined {
  if (typeof v !== 'string' || !TIME_RE.test(v)) return 'time must be RFC 3339 UTC with milliseconds';
  // Round-tripping through Date rejects impossible dates such as 2026-02-30 or hour 24.
  const ms = Date.parse(v);
  if (Number.isNaN(ms) || new Date(ms).toISOString() !== v) return 'time is not a valid date';
  return undefined;
}

function checkTime(v: unknown): void {
  const problem = entryTimeProblem(v);
  if (problem !== undefined) invalid(problem);
}

function checkKeys(o: Obj, allowed: ReadonlySet<string>, where: string): void {
  for (const k in o) {
    if (!allowed.has(k)) invalid(`${where} has an unknown field`);
  }
}

/** Member names allowed at the top of an entry. */
export const TOP_KEYS: ReadonlySet<string> = new Set([
  'v',
  'type',
  'time',
  'principal',
  'action',
  'resource',
  'purpose',
  'grantId',
  'decision',
  'reasons',
  'policyVersion',
  'release',
  'details',
]);
/** Member names allowed in `principal`. */
export const PRINCIPAL_KEYS: ReadonlySet<string> = new Set(['id', 'org', 'orgKind']);
/** Member names allowed in `resource`. */
export const RESOURCE_KEYS: ReadonlySet<string> = new Set([
  'collection',
  'category',
  'jurisdiction',
  'site',
  'subjectRef',
  'count',
]);

function checkPrincipal(p: unknown): void {
  if (!isPlainObject(p)) invalid('principal must be an object');
  checkKeys(p, PRINCIPAL_KEYS, 'principal');
  checkString(p.id, 'principal.id');
  checkString(p.org, 'principal.org');
  checkOneOf(p.orgKind, ORG_KINDS, 'principal.orgKind');
}

function checkResource(r: unknown): void {
  if (!isPlainObject(r)) invalid('resource must be an object');
  checkKeys(r, RESOURCE_KEYS, 'resource');
  checkOptionalString(r.collection, 'resource.collection');
  checkOptionalString(r.category, 'resource.category');
  checkOptionalString(r.jurisdiction, 'resource.jurisdiction');
  checkOptionalString(r.site, 'resource.site');
  if (r.subjectRef !== undefined) {
    if (typeof r.subjectRef !== 'string' || !SUBJECT_REF_PATTERN.test(r.subjectRef)) {
      invalid('resource.subjectRef must be a keyed pseudonym sr1:<22-64 base64url chars>');
    }
  }
  if (r.count !== undefined) {
    if (typeof r.count !== 'number' || !Number.isSafeInteger(r.count) || r.count < 0) {
      invalid('resource.count must be a non-negative safe integer');
    }
  }
}

function checkStringArray(a: unknown, field: string, allowEmptyStrings: boolean): void {
  if (!Array.isArray(a)) invalid(`${field} must be an array of strings`);
  for (const s of a) checkString(s, `${field}[]`, allowEmptyStrings);
}

function checkDetails(d: unknown): void {
  if (!isPlainObject(d)) invalid('details must be an object');
  for (const k in d) {
    checkString(k, 'details key');
    const v = d[k];
    switch (typeof v) {
      case 'string':
        checkString(v, 'details value', true);
        break;
      case 'number':
        if (!Number.isFinite(v)) invalid('details numbers must be finite');
        break;
      case 'boolean':
        break;
      case 'undefined':
        break;
      default:
        checkStringArray(v, 'details value', true);
    }
  }
}

/**
 * Checks that `value` is a ledger entry of schema v1 and returns it typed. Unknown fields
 * (at the top level, in principal and in resource) are rejected. Throws ENTRY_INVALID.
 */
export function validateEntry(value: unknown): LedgerEntry {
  if (!isPlainObject(value)) invalid('entry must be an object');
  const e = value;
  checkKeys(e, TOP_KEYS, 'entry');
  if (e.v !== 1) invalid('v must be 1');
  checkOneOf(e.type, ENTRY_TYPES, 'type');
  checkTime(e.time);
  checkPrincipal(e.principal);
  checkString(e.action, 'action');
  checkResource(e.resource);
  checkOptionalString(e.purpose, 'purpose');
  checkOptionalString(e.grantId, 'grantId');
  checkOneOf(e.decision, DECISIONS, 'decision');
  checkStringArray(e.reasons, 'reasons', false);
  checkOptionalString(e.policyVersion, 'policyVersion');
  checkOptionalString(e.release, 'release');
  if (e.details !== undefined) checkDetails(e.details);
  return e as unknown as LedgerEntry;
}
