import type { AccessScope, StoredGrant, StoredRequest, StoredVote } from '../../ports/access-store.js';
import { iso } from './gatekeeping-context.js';

/** A vote as shown. */
export interface VoteView {
  readonly by: string;
  readonly org: string;
  readonly kind: StoredVote['kind'];
  readonly verdict: StoredVote['verdict'];
  readonly note: string | undefined;
  readonly at: string;
}

/** A grant's status at the time it is shown. */
export type GrantStatus = 'active' | 'expired' | 'revoked';

/** A grant as shown, with its status and (break-glass) reviews. */
export interface GrantView {
  readonly id: string;
  readonly requestId: string;
  readonly grantee: string;
  readonly purpose: string;
  readonly breakGlass: boolean;
  readonly status: GrantStatus;
  readonly issuedAt: string;
  readonly expiresAt: string;
  readonly revokedAt: string | undefined;
  readonly revokedBy: string | undefined;
  readonly revokeReason: string | undefined;
  readonly reviewDueAt: string | undefined;
  readonly reviewedAt: string | undefined;
  readonly escalatedAt: string | undefined;
  readonly reviews: readonly VoteView[];
}

/** A request as approvers see it: the exact scope, the estimates, the quorum, the votes, the grant. */
export interface RequestView {
  readonly id: string;
  readonly kind: StoredRequest['kind'];
  readonly state: StoredRequest['state'];
  readonly requester: StoredRequest['requester'];
  readonly scope: {
    readonly collections: readonly string[];
    readonly subjects: readonly string[] | { readonly jurisdiction: string };
    readonly fields: readonly string[];
    readonly actions: readonly string[];
  };
  readonly purpose: string;
  readonly detail: string;
  readonly ticket: string | undefined;
  readonly incident: string | undefined;
  readonly durationMinutes: number;
  readonly estimate: StoredRequest['estimate'];
  readonly required: StoredRequest['required'];
  readonly createdAt: string;
  readonly decidedAt: string | undefined;
  readonly decidedBy: string | undefined;
  readonly decisionNote: string | undefined;
  readonly approvals: readonly VoteView[];
  readonly grant: GrantView | undefined;
}

/** A vote for display. */
export function voteView(v: StoredVote): VoteView {
  return {
    by: v.voter.id,
    org: v.voter.org,
    kind: v.kind,
    verdict: v.verdict,
    note: v.note,
    at: iso(v.at) ?? '',
  };
}

/** Whether a grant is in force at `now`. */
export function grantStatus(g: StoredGrant, now: number): GrantStatus {
  if (g.revokedAt !== undefined) return 'revoked';
  return now >= g.expiresAt ? 'expired' : 'active';
}

/** A scope for display: subjects as the list of ids or the filter. */
export function scopeView(s: AccessScope): RequestView['scope'] {
  return {
    collections: s.collections,
    subjects: s.subjects.kind === 'ids' ? s.subjects.ids : { jurisdiction: s.subjects.jurisdiction },
    fields: s.fields,
    actions: s.actions,
  };
}

/** A grant for display. */
export function grantView(g: StoredGrant, reviews: readonly StoredVote[], now: number): GrantView {
  return {
    id: g.id,
    requestId: g.requestId,
    grantee: g.grantee.id,
    purpose: g.purpose,
    breakGlass: g.breakGlass,
    status: grantStatus(g, now),
    issuedAt: iso(g.issuedAt) ?? '',
    expiresAt: iso(g.expiresAt) ?? '',
    revokedAt: iso(g.revokedAt),
    revokedBy: g.revokedBy,
    revokeReason: g.revokeReason,
    reviewDueAt: iso(g.reviewDueAt),
    reviewedAt: iso(g.reviewedAt),
    escalatedAt: iso(g.escalatedAt),
    reviews: reviews.map(voteView),
  };
}

/** A request for display. */
export function requestView(
  r: StoredRequest,
  votes: readonly StoredVote[],
  grant: GrantView | undefined,
): RequestView {
  return {
    id: r.id,
    kind: r.kind,
    state: r.state,
    requester: r.requester,
    scope: scopeView(r.scope),
    purpose: r.purpose,
    detail: r.detail,
    ticket: r.ticket,
    incident: r.incident,
    durationMinutes: r.durationMinutes,
    estimate: r.estimate,
    required: r.required,
    createdAt: iso(r.createdAt) ?? '',
    decidedAt: iso(r.decidedAt),
    decidedBy: r.decidedBy,
    decisionNote: r.decisionNote,
    approvals: votes.map(voteView),
    grant,
  };
}
