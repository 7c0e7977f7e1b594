import type { OrgKind } from '../domain/config-schema.js';

/** Record actions a request can ask for. */
export type ScopeAction = 'read' | 'list' | 'write' | 'delete';

/** Which subjects a request covers: a list of ids, or every subject of a jurisdiction (bulk). */
export type SubjectScope =
  | { readonly kind: 'ids'; readonly ids: readonly string[] }
  | { readonly kind: 'filter'; readonly jurisdiction: string };

/** What a request asks for. An empty `fields` list means every field of the collections. */
export interface AccessScope {
  readonly collections: readonly string[];
  readonly subjects: SubjectScope;
  readonly fields: readonly string[];
  readonly actions: readonly ScopeAction[];
}

/** What approvers see before deciding: how many subjects and records the scope reaches. */
export interface ScopeEstimate {
  readonly subjects: number;
  readonly records: number;
  /** False when the count was capped or is an estimate for a filter. */
  readonly exact: boolean;
}

/** Who acted, as recorded. */
export interface PrincipalRef {
  readonly id: string;
  readonly org: string;
  readonly orgKind: OrgKind;
}

/** A request's life: pending until approved (a grant exists), denied, or expired undecided. */
export type RequestState = 'pending' | 'approved' | 'denied' | 'expired';

/** An access request. Requests are never deleted: finished ones stay queryable. */
export interface StoredRequest {
  readonly id: string;
  readonly kind: 'standard' | 'break-glass';
  readonly requester: PrincipalRef;
  readonly scope: AccessScope;
  readonly purpose: string;
  readonly detail: string;
  readonly ticket: string | undefined;
  /** Break-glass: the incident reference. */
  readonly incident: string | undefined;
  readonly durationMinutes: number;
  readonly estimate: ScopeEstimate;
  /** Approvals needed: custodian approvers, and operator supervisors (supervised mode). */
  readonly required: ApprovalCounts;
  readonly createdAt: number;
  readonly state: RequestState;
  readonly decidedAt: number | undefined;
  readonly decidedBy: string | undefined;
  readonly decisionNote: string | undefined;
}

/** How a vote counts: request approvals, break-glass reviews, policy board approvals. */
export type VoteKind = 'custodian' | 'operator' | 'review' | 'board' | 'board-operator';

/** One principal's vote on a target (a request, a grant under review, or a proposal). */
export interface StoredVote {
  readonly target: string;
  readonly voter: PrincipalRef;
  readonly kind: VoteKind;
  readonly verdict: 'approve' | 'justified' | 'unjustified';
  readonly note: string | undefined;
  readonly at: number;
}

/** Approvals of a request by how they count: custodian approvers and operator supervisors. */
export interface ApprovalCounts {
  readonly custodian: number;
  readonly operator: number;
}

/**
 * How an approval of a request went: counted (with the approvals now, and whether they meet the
 * quorum), refused because the request is no longer pending or its quorum was already met by
 * earlier votes, or refused because this voter already voted.
 */
export type RequestVoteResult =
  | { readonly outcome: 'counted'; readonly approvals: ApprovalCounts; readonly quorumMet: boolean }
  | { readonly outcome: 'not-pending' }
  | { readonly outcome: 'duplicate' };

/** A grant: what an approved (or break-glass) request produces. */
export interface StoredGrant {
  readonly id: string;
  readonly requestId: string;
  readonly grantee: PrincipalRef;
  readonly scope: AccessScope;
  readonly purpose: string;
  readonly breakGlass: boolean;
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly revokedAt: number | undefined;
  readonly revokedBy: string | undefined;
  readonly revokeReason: string | undefined;
  /** When the grant's expiry was written to the ledger. */
  readonly expiryRecordedAt: number | undefined;
  /** Break-glass: reviews are due by then; `reviewedAt` when complete, `escalatedAt` when overdue. */
  readonly reviewDueAt: number | undefined;
  readonly reviewedAt: number | undefined;
  readonly escalatedAt: number | undefined;
}

/** A once-only mark on a grant. */
export type GrantMark = 'expiryRecordedAt' | 'reviewedAt' | 'escalatedAt';

/** A policy file of a proposal or of the active set. */
export interface PolicyFile {
  readonly name: string;
  readonly text: string;
}

/** A proposal's life: pending, approved by the board, rejected, active, or superseded by another. */
export type ProposalState = 'pending' | 'approved' | 'rejected' | 'active' | 'superseded';

/** What every proposal has, whatever it proposes: who, which version, and how it was decided. */
export interface ProposalHeader {
  readonly id: string;
  readonly proposer: PrincipalRef;
  readonly summary: string;
  /** Version of what is proposed. */
  readonly version: string;
  readonly createdAt: number;
  readonly state: ProposalState;
  readonly decidedAt: number | undefined;
  readonly decidedBy: string | undefined;
}

/** A stored proposal of `T`: the header plus what is proposed (a policy set, a flow declaration). */
export type StoredProposalOf<T> = ProposalHeader & Readonly<T>;

/** A proposed replacement of the whole policy set. */
export type StoredProposal = StoredProposalOf<{
  files: readonly PolicyFile[];
  /** Version of the set in force when proposed (the diff is against it). */
  baseVersion: string;
}>;

/**
 * Proposal storage, alike for policy-set proposals (access store) and flow proposals (egress
 * store). Each port names these methods after what is proposed (`createProposal`,
 * `createFlowProposal` …); proposals are never deleted.
 */
export interface ProposalStorage<P extends ProposalHeader> {
  create(proposal: P): Promise<void>;
  get(id: string): Promise<P | undefined>;
  /** Proposals (of one state, or all), newest first. */
  list(state: ProposalState | undefined, limit: number): Promise<P[]>;
  /** Moves a proposal from one of `from` to `to`; false when it was in none of them. */
  setState(
    id: string,
    from: readonly ProposalState[],
    to: ProposalState,
    at: number,
    by: string,
  ): Promise<boolean>;
}

/** The policy set in force since its activation. */
export interface StoredPolicySet {
  readonly version: string;
  readonly files: readonly PolicyFile[];
  readonly proposalId: string;
  readonly activatedAt: number;
  readonly activatedBy: string;
}

type PolicyProposals = ProposalStorage<StoredProposal>;

/** A page of requests, newest first. */
export interface RequestQuery {
  readonly state?: RequestState | undefined;
  readonly requester?: string | undefined;
  readonly createdBefore?: number | undefined;
  readonly limit: number;
}

/**
 * Where gatekeeping keeps requests, votes, grants, proposals and the active policy set (the
 * custody database). Every state change is a compare-and-set, so concurrent gateway instances
 * never both issue a grant, close a request twice, or count one vote twice.
 */
export interface AccessStore {
  createRequest(request: StoredRequest): Promise<void>;
  getRequest(id: string): Promise<StoredRequest | undefined>;
  listRequests(query: RequestQuery): Promise<StoredRequest[]>;
  /** Moves a pending request to `denied` or `expired`; false when it was not pending. */
  closeRequest(
    id: string,
    state: 'denied' | 'expired',
    at: number,
    by: string | undefined,
    note: string | undefined,
  ): Promise<boolean>;
  /**
   * Counts an approval (`custodian` or `operator` vote) of a request, atomically with the checks:
   * the request is pending, its quorum is not yet met, and the voter has not voted. A
   * compare-and-set on the request's version serializes concurrent approvals, so of several
   * racing voters only those needed for the quorum count, and exactly one sees `quorumMet`.
   */
  approveRequest(vote: StoredVote): Promise<RequestVoteResult>;
  /** Records a vote; false when this voter already voted on the target. */
  addVote(vote: StoredVote): Promise<boolean>;
  /** Withdraws a vote (when recording it in the ledger failed). */
  removeVote(target: string, voterId: string): Promise<void>;
  /** Votes on a target, oldest first. */
  votes(target: string): Promise<StoredVote[]>;
  /** Issues a grant and marks its request approved, atomically; false when the request was not pending. */
  issueGrant(grant: StoredGrant): Promise<boolean>;
  getGrant(id: string): Promise<StoredGrant | undefined>;
  grantForRequest(requestId: string): Promise<StoredGrant | undefined>;
  /** Unrevoked grants of a principal in force at `now` (issuedAt <= now < expiresAt), oldest first. */
  activeGrants(granteeId: string, now: number): Promise<StoredGrant[]>;
  /** Revokes a grant; false when it was already revoked. */
  revokeGrant(id: string, at: number, by: string, reason: string): Promise<boolean>;
  /** Sets a once-only mark; false when it was already set. */
  markGrant(id: string, mark: GrantMark, at: number): Promise<boolean>;
  /**
   * Grants needing the periodic check: expired (and unrevoked) without a recorded expiry, and
   * break-glass grants neither reviewed nor escalated whose review deadline has passed.
   */
  grantsDue(now: number): Promise<StoredGrant[]>;
  /** Policy-set proposals: see `ProposalStorage`. */
  createProposal: PolicyProposals['create'];
  getProposal: PolicyProposals['get'];
  listProposals: PolicyProposals['list'];
  setProposalState: PolicyProposals['setState'];
  /**
   * Makes a policy set the active one and its approved proposal `active`, atomically; other
   * approved proposals become `superseded`. False when the proposal was not approved.
   */
  activatePolicySet(set: StoredPolicySet): Promise<boolean>;
  /** The most recently activated policy set, if any was ever activated. */
  activePolicySet(): Promise<StoredPolicySet | undefined>;
  close(): Promise<void>;
}
