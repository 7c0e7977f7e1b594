import { createHash } from 'node:crypto';
import type { EntryDetailValue, EntryResource, EntryType } from '@custos/verify';
import type { CustosConfig } from '../../domain/config.js';
import type {
  AccessScope,
  PrincipalRef,
  ScopeEstimate,
  StoredGrant,
  StoredRequest,
} from '../../ports/access-store.js';
import type { LedgerEntryInput } from '../ledger/ledger-service.js';

/** Subject pseudonyms listed one by one in an entry up to this many; beyond, a digest and a count. */
const MAX_LISTED_REFS = 100;

/** What gatekeeping needs of the ledger. */
export interface GatekeepingLedger {
  append(entry: LedgerEntryInput): Promise<{ index: number }>;
  subjectRef(subjectId: string): string;
}

/** Details of an entry: flat values only (ledger schema v1). */
export type EntryDetails = Record<string, EntryDetailValue>;

/** Who an entry names: a principal, or Custos itself (`orgKind: system`). */
export interface Actor {
  readonly id: string;
  readonly org: string;
  readonly orgKind: PrincipalRef['orgKind'] | 'system';
}

/** The actor of entries Custos writes by itself (expiries, escalations). */
export function systemActor(config: CustosConfig): Actor {
  const custodian = config.organisations.find((o) => o.kind === 'custodian');
  return { id: 'custos', org: custodian?.id ?? 'custos', orgKind: 'system' };
}

/**
 * The resource and details describing a scope. Subjects appear only as keyed pseudonyms
 * (`ledger.subjectRef`), never as raw ids: one in `resource.subjectRef`, up to 100 in
 * `details.subjectRefs`, more as a digest of the sorted pseudonyms.
 */
export function scopeFacts(
  ledger: GatekeepingLedger,
  scope: AccessScope,
  estimate?: ScopeEstimate,
): { resource: EntryResource; details: EntryDetails } {
  const details: EntryDetails = {
    collections: [...scope.collections],
    actions: [...scope.actions],
    fields: [...scope.fields],
  };
  const resource: { -readonly [K in keyof EntryResource]: EntryResource[K] } = {};
  if (scope.collections.length === 1) resource.collection = scope.collections[0];
  if (scope.subjects.kind === 'filter') {
    resource.jurisdiction = scope.subjects.jurisdiction;
    details.bulk = true;
  } else {
    const refs = scope.subjects.ids.map((id) => ledger.subjectRef(id)).sort();
    details.subjects = refs.length;
    if (refs.length === 1) resource.subjectRef = refs[0];
    if (refs.length <= MAX_LISTED_REFS) details.subjectRefs = refs;
    else details.subjectRefsDigest = `sha256:${createHash('sha256').update(refs.join('\n')).digest('hex')}`;
  }
  if (estimate) {
    resource.count = estimate.records;
    details.estimatedSubjects = estimate.subjects;
    details.estimatedRecords = estimate.records;
  }
  return { resource, details };
}

/** Builds a gatekeeping entry. */
export function entry(
  type: EntryType,
  actor: Actor,
  action: string,
  decision: 'allow' | 'deny' | 'none',
  extra: {
    purpose?: string;
    grantId?: string;
    resource?: EntryResource;
    details?: EntryDetails;
    reasons?: string[];
    policyVersion?: string;
  } = {},
): LedgerEntryInput {
  return {
    type,
    principal: { id: actor.id, org: actor.org, orgKind: actor.orgKind },
    action,
    resource: extra.resource ?? {},
    ...(extra.purpose === undefined ? {} : { purpose: extra.purpose }),
    ...(extra.grantId === undefined ? {} : { grantId: extra.grantId }),
    decision,
    reasons: extra.reasons ?? [],
    ...(extra.policyVersion === undefined ? {} : { policyVersion: extra.policyVersion }),
    ...(extra.details === undefined ? {} : { details: extra.details }),
  };
}

/** Digest of free text (a justification may name people): the text stays in the access store. */
export function textDigest(text: string): string {
  return `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;
}

/** The `request` entry of a new (or break-glass) request. */
export function requestEntry(ledger: GatekeepingLedger, r: StoredRequest): LedgerEntryInput {
  const { resource, details } = scopeFacts(ledger, r.scope, r.estimate);
  return entry('request', r.requester, r.kind === 'break-glass' ? 'break-glass' : 'create', 'none', {
    purpose: r.purpose,
    resource,
    details: {
      ...details,
      requestId: r.id,
      durationMinutes: r.durationMinutes,
      detailDigest: textDigest(r.detail),
      requiredApprovals: r.required.custodian,
      requiredOperatorApprovals: r.required.operator,
      ...(r.ticket === undefined ? {} : { ticket: r.ticket }),
      ...(r.incident === undefined ? {} : { incident: r.incident }),
    },
  });
}

/** A `grant` entry (issue, revoke, expire) citing the grant id. */
export function grantEntry(
  ledger: GatekeepingLedger,
  g: StoredGrant,
  action: 'issue' | 'revoke' | 'expire',
  actor: Actor,
  more: EntryDetails = {},
): LedgerEntryInput {
  const { resource, details } = scopeFacts(ledger, g.scope);
  return entry('grant', actor, action, action === 'issue' ? 'allow' : 'none', {
    purpose: g.purpose,
    grantId: g.id,
    resource,
    details: {
      ...details,
      requestId: g.requestId,
      grantee: g.grantee.id,
      breakGlass: g.breakGlass,
      issuedAt: new Date(g.issuedAt).toISOString(),
      expiresAt: new Date(g.expiresAt).toISOString(),
      ...more,
    },
  });
}
