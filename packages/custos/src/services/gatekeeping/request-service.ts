import { CustosError } from '../../domain/errors.js';
import type { Principal } from '../../domain/principal.js';
import type { RequestState, StoredGrant, StoredRequest, StoredVote } from '../../ports/access-store.js';
import { type GatekeepingContext, grantIdOf, newId, text } from './gatekeeping-context.js';
import { entry, grantEntry, requestEntry, systemActor } from './gatekeeping-entries.js';
import { refOf, refuseParent } from './governance.js';
import { grantView, type RequestView, requestView } from './request-views.js';
import { estimateScope, type ScopeInput, validateScope } from './scope.js';

/** A new access request as a caller writes it. */
export interface RequestInput {
  readonly scope: ScopeInput;
  readonly purpose: string;
  readonly detail: string;
  readonly ticket?: string | undefined;
  readonly durationHours: number;
}

const MINUTE = 60_000;

/**
 * Access requests: create (scoped, justified, time-bound, estimated), approve by quorum, deny, and
 * show. Everything is recorded in the ledger; a grant is recorded before it can be used.
 */
export class RequestService {
  constructor(private readonly ctx: GatekeepingContext) {}

  /** Looks a purpose up; unknown ones are PURPOSE_INVALID. */
  purpose(id: string): { id: string; maxDurationHours: number } {
    const p = this.ctx.config.purposes.find((x) => x.id === id);
    if (!p) throw new CustosError('PURPOSE_INVALID', 'purpose must name a configured purpose');
    return p;
  }

  /** Files a request. Approvers see its exact scope and the estimated subjects and records. */
  async create(principal: Principal, input: RequestInput): Promise<RequestView> {
    refuseParent(principal);
    const purpose = this.purpose(input.purpose);
    if (!(input.durationHours > 0))
      throw new CustosError('VALIDATION_FAILED', 'durationHours must be positive');
    if (input.durationHours > purpose.maxDurationHours)
      throw new CustosError(
        'DURATION_TOO_LONG',
        `purpose ${purpose.id} allows at most ${purpose.maxDurationHours} hours`,
      );
    const scope = validateScope(this.ctx.config, input.scope);
    const estimate = await estimateScope(this.ctx.estimate, scope);
    const request: StoredRequest = {
      id: newId('req'),
      kind: 'standard',
      requester: refOf(principal),
      scope,
      purpose: purpose.id,
      detail: text(input.detail, 4000, 'detail', 'VALIDATION_FAILED') ?? '',
      ticket: text(input.ticket, 128, 'ticket'),
      incident: undefined,
      durationMinutes: Math.ceil(input.durationHours * 60),
      estimate,
      required: this.ctx.governance.required(purpose.id, scope, estimate),
      createdAt: this.ctx.clock.now(),
      state: 'pending',
      decidedAt: undefined,
      decidedBy: undefined,
      decisionNote: undefined,
    };
    await this.ctx.ledger.append(requestEntry(this.ctx.ledger, request));
    await this.ctx.store.createRequest(request);
    this.ctx.alerts.emit('request.created', {
      requestId: request.id,
      requester: request.requester.id,
      purpose: request.purpose,
      collections: scope.collections,
      estimatedSubjects: estimate.subjects,
      estimatedRecords: estimate.records,
      requiredApprovals: request.required.custodian,
    });
    return this.view(request);
  }

  /** A request, or REQUEST_NOT_FOUND (also when the principal may not see it). */
  async get(principal: Principal, id: string): Promise<StoredRequest> {
    refuseParent(principal);
    const r = await this.ctx.store.getRequest(id);
    if (!r || !this.visible(principal, r)) throw new CustosError('REQUEST_NOT_FOUND', 'no such request');
    return r;
  }

  /**
   * A request to decide on. Unlike `get`, it does not hide requests the caller may not see: ids
   * are 128-bit random, and an outsider's attempt should say NOT_AN_APPROVER, not "not found".
   * For the same reason an unknown id is NOT_AN_APPROVER too for someone who could decide no
   * request at all, so that the answer does not tell an outsider whether an id exists; approvers
   * and supervisors, who may list requests anyway, get REQUEST_NOT_FOUND.
   */
  private async find(principal: Principal, id: string): Promise<StoredRequest> {
    refuseParent(principal);
    const r = await this.ctx.store.getRequest(id);
    if (r) return r;
    if (this.ctx.governance.requestVoteKind(principal, { custodian: 1, operator: 1 }) === undefined)
      throw new CustosError(
        'NOT_AN_APPROVER',
        'only approvers of the custodian (or supervisors, when required) decide requests',
      );
    throw new CustosError('REQUEST_NOT_FOUND', 'no such request');
  }

  private visible(p: Principal, r: StoredRequest): boolean {
    return this.ctx.governance.maySeeRequest(p, r);
  }

  /** Requests the principal may see, newest first. */
  async list(principal: Principal, state: RequestState | undefined, limit: number): Promise<RequestView[]> {
    refuseParent(principal);
    const all = principal.orgKind === 'custodian' || principal.orgKind === 'auditor';
    const supervisor =
      this.ctx.governance.requestVoteKind(principal, { custodian: 1, operator: 1 }) !== undefined;
    const rows = await this.ctx.store.listRequests({
      state,
      requester: all || supervisor ? undefined : principal.id,
      limit: all ? limit : Math.min(limit * 4, 2000),
    });
    const views: RequestView[] = [];
    for (const r of rows) {
      if (views.length >= limit) break;
      if (this.visible(principal, r)) views.push(await this.view(r));
    }
    return views;
  }

  /** The full view of a request: votes, grant (with status and reviews). */
  async view(r: StoredRequest): Promise<RequestView> {
    const votes = await this.ctx.store.votes(r.id);
    const g = await this.ctx.store.grantForRequest(r.id);
    const reviews = g ? await this.ctx.store.votes(g.id) : [];
    return requestView(r, votes, g ? grantView(g, reviews, this.ctx.clock.now()) : undefined);
  }

  /** Refuses decisions on a request that is no longer pending (expiring it first if overdue). */
  private async pending(r: StoredRequest): Promise<void> {
    if (
      r.state === 'pending' &&
      this.ctx.clock.now() >= r.createdAt + this.ctx.config.governance.requestTtlHours * 3_600_000
    )
      await this.expire(r);
    else if (r.state === 'pending') return;
    throw new CustosError('REQUEST_NOT_PENDING', 'the request is no longer pending');
  }

  /** Checks that `principal` may decide `r`; returns how the vote counts. */
  private decider(principal: Principal, r: StoredRequest): StoredVote['kind'] {
    if (principal.id === r.requester.id)
      throw new CustosError('SELF_APPROVAL', 'nobody approves or denies their own request');
    const kind = this.ctx.governance.requestVoteKind(principal, r.required);
    if (kind === undefined)
      throw new CustosError(
        'NOT_AN_APPROVER',
        'only approvers of the custodian (or supervisors, when required) decide requests',
      );
    if (this.ctx.config.governance.excludeRequesterOrg && principal.org === r.requester.org)
      throw new CustosError(
        'REQUESTER_ORG_EXCLUDED',
        "approvers from the requester's organisation do not count",
      );
    return kind;
  }

  /**
   * Approves a request. The store counts the vote atomically with the pending and quorum checks,
   * so of approvers racing on one request only the votes the quorum needs count (the others get
   * REQUEST_NOT_PENDING), only counted votes reach the ledger, and the one vote that completes the
   * quorum issues the grant.
   */
  async approve(principal: Principal, id: string, note: string | undefined): Promise<RequestView> {
    const r = await this.find(principal, id);
    await this.pending(r);
    const kind = this.decider(principal, r);
    const vote: StoredVote = {
      target: r.id,
      voter: refOf(principal),
      kind,
      verdict: 'approve',
      note: text(note, 1000, 'comment'),
      at: this.ctx.clock.now(),
    };
    const result = await this.ctx.store.approveRequest(vote);
    switch (result.outcome) {
      case 'not-pending':
        throw new CustosError('REQUEST_NOT_PENDING', 'the request is no longer pending');
      case 'duplicate':
        throw new CustosError('DUPLICATE_APPROVAL', 'this principal already approved the request');
      case 'counted':
        break;
    }
    const { approvals, quorumMet } = result;
    try {
      await this.ctx.ledger.append(
        entry('approval', vote.voter, 'approve', 'allow', {
          purpose: r.purpose,
          details: {
            requestId: r.id,
            as: kind,
            approvals: approvals.custodian,
            operatorApprovals: approvals.operator,
          },
        }),
      );
    } catch (err) {
      // An approval that is not in the ledger does not count.
      await this.ctx.store.removeVote(r.id, principal.id);
      throw err;
    }
    this.ctx.alerts.emit('request.approved', {
      requestId: r.id,
      by: principal.id,
      approvals: approvals.custodian,
      operatorApprovals: approvals.operator,
      quorumMet,
    });
    // Only this vote completed the quorum, so only this call issues; if issuing fails (the ledger
    // is down), the periodic check issues the grant of a pending request whose quorum is met.
    if (quorumMet) await this.issue(r);
    return this.view((await this.ctx.store.getRequest(r.id)) ?? r);
  }

  /** Issues the grant of a request whose quorum is met (recorded first; once only). */
  async issue(r: StoredRequest): Promise<StoredGrant | undefined> {
    const now = this.ctx.clock.now();
    const breakGlass = r.kind === 'break-glass';
    const g: StoredGrant = {
      id: grantIdOf(r.id),
      requestId: r.id,
      grantee: r.requester,
      scope: r.scope,
      purpose: r.purpose,
      breakGlass,
      issuedAt: now,
      expiresAt: now + r.durationMinutes * MINUTE,
      revokedAt: undefined,
      revokedBy: undefined,
      revokeReason: undefined,
      expiryRecordedAt: undefined,
      reviewDueAt: breakGlass
        ? now + this.ctx.config.governance.breakGlass.reviewDeadlineHours * 3_600_000
        : undefined,
      reviewedAt: undefined,
      escalatedAt: undefined,
    };
    await this.ctx.ledger.append(grantEntry(this.ctx.ledger, g, 'issue', systemActor(this.ctx.config)));
    if (!(await this.ctx.store.issueGrant(g))) return undefined;
    this.ctx.grantsChanged(g.grantee.id);
    this.ctx.alerts.emit('grant.issued', {
      grantId: g.id,
      requestId: r.id,
      grantee: g.grantee.id,
      breakGlass,
      expiresAt: new Date(g.expiresAt).toISOString(),
    });
    return g;
  }

  /** Denies a request: one eligible approver's denial closes it. */
  async deny(principal: Principal, id: string, reason: string | undefined): Promise<RequestView> {
    const r = await this.find(principal, id);
    await this.pending(r);
    const kind = this.decider(principal, r);
    const note = text(reason, 1000, 'reason');
    await this.ctx.ledger.append(
      entry('approval', refOf(principal), 'deny', 'deny', {
        purpose: r.purpose,
        details: { requestId: r.id, as: kind },
      }),
    );
    if (!(await this.ctx.store.closeRequest(r.id, 'denied', this.ctx.clock.now(), principal.id, note)))
      throw new CustosError('REQUEST_NOT_PENDING', 'the request is no longer pending');
    this.ctx.alerts.emit('request.denied', { requestId: r.id, by: principal.id });
    return this.view((await this.ctx.store.getRequest(r.id)) ?? r);
  }

  /** Closes an undecided request past its time to live (recorded). */
  async expire(r: StoredRequest): Promise<boolean> {
    await this.ctx.ledger.append(
      entry('request', systemActor(this.ctx.config), 'expire', 'none', {
        purpose: r.purpose,
        details: { requestId: r.id },
      }),
    );
    return this.ctx.store.closeRequest(
      r.id,
      'expired',
      this.ctx.clock.now(),
      undefined,
      'not decided in time',
    );
  }
}
