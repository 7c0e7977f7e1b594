/** Ledger entry schema v1: the TypeScript types. Validation is in validate-entry.ts. */

/** What kind of event an entry records. */
export type EntryType =
  | 'access'
  | 'grant'
  | 'request'
  | 'approval'
  | 'policy'
  | 'egress'
  | 'migration'
  | 'release'
  | 'key'
  | 'system';

/** Kind of organisation a principal acts for; drives policy. */
export type OrgKind = 'custodian' | 'operator' | 'parent' | 'cloud' | 'auditor' | 'system';

/** The recorded decision. */
export type Decision = 'allow' | 'deny' | 'none';

/** Who acted. */
export interface EntryPrincipal {
  readonly id: string;
  readonly org: string;
  readonly orgKind: OrgKind;
}

/** What was acted on. `subjectRef` is a keyed pseudonym (`sr1:`…), never a raw subject id. */
export interface EntryResource {
  readonly collection?: string;
  readonly category?: string;
  readonly jurisdiction?: string;
  readonly site?: string;
  readonly subjectRef?: string;
  readonly count?: number;
}

/** A flat detail value: no nesting beyond an array of strings. */
export type EntryDetailValue = string | number | boolean | readonly string[];

/** One ledger entry, schema version 1. Its leaf bytes are its RFC 8785 canonical JSON. */
export interface LedgerEntry {
  readonly v: 1;
  readonly type: EntryType;
  /** RFC 3339 UTC time with milliseconds, e.g. 2026-11-29T22:00:00.000Z. */
  readonly time: string;
  readonly principal: EntryPrincipal;
  readonly action: string;
  readonly resource: EntryResource;
  readonly purpose?: string;
  readonly grantId?: string;
  readonly decision: Decision;
  readonly reasons: readonly string[];
  readonly policyVersion?: string;
  readonly release?: string;
  readonly details?: Readonly<Record<string, EntryDetailValue>>;
}

/** All entry types, in schema order. */
export const ENTRY_TYPES: readonly EntryType[] = Object.freeze([
  'access',
  'grant',
  'request',
  'approval',
  'policy',
  'egress',
  'migration',
  'release',
  'key',
  'system',
]);

/** All organisation kinds. */
export const ORG_KINDS: readonly OrgKind[] = Object.freeze([
  'custodian',
  'operator',
  'parent',
  'cloud',
  'auditor',
  'system',
]);

/** All decisions. */
export const DECISIONS: readonly Decision[] = Object.freeze(['allow', 'deny', 'none']);

/** Longest string allowed anywhere in an entry, in UTF-16 code units. */
export const MAX_ENTRY_STRING = 1024;

/** Pattern of a subject pseudonym: `sr1:` and 22-64 base64url characters. */
export const SUBJECT_REF_PATTERN = /^sr1:[A-Za-z0-9_-]{22,64}$/;
