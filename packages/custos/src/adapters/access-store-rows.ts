import type {
  ApprovalCounts,
  RequestVoteResult,
  StoredGrant,
  StoredRequest,
  StoredVote,
} from '../ports/access-store.js';

/*
 * Row mapping shared by the SQLite and PostgreSQL access stores (proposals: `proposal-rows.ts`).
 * Immutable fields travel as one JSON document; fields that change (state, decisions, revocation,
 * marks) are columns, so that every state change is a single compare-and-set UPDATE. PostgreSQL
 * returns bigint as a string, hence the `Number` conversions.
 */

/** A bigint column: a number from SQLite, a string from PostgreSQL, or null. */
export type Num = number | string | null;

/** An `access_requests` row. */
export interface RequestRow {
  state: string;
  /** Bumped by every counted approval: the compare-and-set token of `approveRequest`. */
  version: Num;
  decided_at: Num;
  decided_by: string | null;
  decision_note: string | null;
  doc: string;
}

/** An `access_grants` row. */
export interface GrantRow {
  revoked_at: Num;
  revoked_by: string | null;
  revoke_reason: string | null;
  expiry_recorded_at: Num;
  reviewed_at: Num;
  escalated_at: Num;
  doc: string;
}

/** A nullable bigint column as a number. */
export const num = (v: Num): number | undefined => (v === null ? undefined : Number(v));
/** A nullable text column. */
export const str = (v: string | null): string | undefined => (v === null ? undefined : v);

/** The immutable part of a request, as JSON. */
export function requestDoc(r: StoredRequest): string {
  const { state: _s, decidedAt: _a, decidedBy: _b, decisionNote: _n, ...doc } = r;
  return JSON.stringify(doc);
}

/** A request from its row. */
export function fromRequestRow(row: RequestRow): StoredRequest {
  const doc = JSON.parse(row.doc) as Omit<
    StoredRequest,
    'state' | 'decidedAt' | 'decidedBy' | 'decisionNote'
  >;
  return {
    ...doc,
    ticket: doc.ticket ?? undefined,
    incident: doc.incident ?? undefined,
    state: row.state as StoredRequest['state'],
    decidedAt: num(row.decided_at),
    decidedBy: str(row.decided_by),
    decisionNote: str(row.decision_note),
  };
}

/** The immutable part of a grant, as JSON. */
export function grantDoc(g: StoredGrant): string {
  const {
    revokedAt: _r,
    revokedBy: _b,
    revokeReason: _w,
    expiryRecordedAt: _e,
    reviewedAt: _v,
    escalatedAt: _x,
    ...doc
  } = g;
  return JSON.stringify(doc);
}

/** A grant from its row. */
export function fromGrantRow(row: GrantRow): StoredGrant {
  const doc = JSON.parse(row.doc) as StoredGrant;
  return {
    ...doc,
    reviewDueAt: doc.reviewDueAt ?? undefined,
    revokedAt: num(row.revoked_at),
    revokedBy: str(row.revoked_by),
    revokeReason: str(row.revoke_reason),
    expiryRecordedAt: num(row.expiry_recorded_at),
    reviewedAt: num(row.reviewed_at),
    escalatedAt: num(row.escalated_at),
  };
}

/**
 * What an approval of a request would do, decided from the request's row and its votes (as
 * stored JSON) read inside the adapter's transaction: `not-pending` when the request is not
 * pending or earlier votes already meet its quorum, `duplicate` when the voter already voted,
 * otherwise `counted` with the approvals including this vote. The adapter then writes the vote
 * only if its compare-and-set on the row's version still holds.
 */
export function decideApproval(
  row: RequestRow | undefined,
  voteDocs: readonly string[],
  vote: StoredVote,
): RequestVoteResult {
  if (row?.state !== 'pending') return { outcome: 'not-pending' };
  const { required } = fromRequestRow(row);
  const votes = voteDocs.map((d) => JSON.parse(d) as StoredVote);
  const before = countApprovals(votes);
  if (meets(before, required)) return { outcome: 'not-pending' };
  if (votes.some((v) => v.voter.id === vote.voter.id)) return { outcome: 'duplicate' };
  const approvals = countApprovals([...votes, vote]);
  return { outcome: 'counted', approvals, quorumMet: meets(approvals, required) };
}

function countApprovals(votes: readonly StoredVote[]): ApprovalCounts {
  const counts = { custodian: 0, operator: 0 };
  for (const v of votes) if (v.kind === 'custodian' || v.kind === 'operator') counts[v.kind]++;
  return counts;
}

function meets(counts: ApprovalCounts, required: ApprovalCounts): boolean {
  return counts.custodian >= required.custodian && counts.operator >= required.operator;
}
