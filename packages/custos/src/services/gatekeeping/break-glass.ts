import { CustosError } from '../../domain/errors.js';
import type { Principal } from '../../domain/principal.js';
import type { StoredRequest, StoredVote } from '../../ports/access-store.js';
import { type GatekeepingContext, newId, text } from './gatekeeping-context.js';
import { entry, requestEntry } from './gatekeeping-entries.js';
import { refOf, refuseParent } from './governance.js';
import type { GrantService } from './grant-service.js';
import type { RequestService } from './request-service.js';
import type { GrantView, RequestView } from './request-views.js';
import { estimateScope, type ScopeInput, validateScope } from './scope.js';

/** A break-glass grant as its holder asks for it. */
export interface BreakGlassInput {
  readonly scope: ScopeInput;
  readonly purpose: string;
  readonly incident: string;
  readonly detail?: string | undefined;
  /** Default and maximum: `governance.breakGlass.maxDurationMinutes` (60). */
  readonly durationMinutes?: number | undefined;
}

/** A break-glass review verdict. */
export interface ReviewInput {
  readonly verdict: 'justified' | 'unjustified';
  readonly note?: string | undefined;
}

/**
 * Break-glass: an on-call custodian with the break-glass role issues themselves a short grant
 * against an incident, at once, without approval. It is recorded, alerted immediately, and must be
 * reviewed by other custodians before a deadline; an overdue review escalates (GrantService.sweep).
 * An `unjustified` verdict revokes the grant on the spot.
 */
export class BreakGlassService {
  constructor(
    private readonly ctx: GatekeepingContext,
    private readonly requests: RequestService,
    private readonly grants: GrantService,
  ) {}

  /** Issues an emergency grant to the caller. */
  async open(principal: Principal, input: BreakGlassInput): Promise<RequestView> {
    refuseParent(principal);
    const bg = this.ctx.config.governance.breakGlass;
    if (!this.ctx.governance.canBreakGlass(principal))
      throw new CustosError('BREAK_GLASS_NOT_ALLOWED', `break-glass needs the custodian role "${bg.role}"`);
    const incident = text(input.incident, 128, 'incident', 'INCIDENT_REQUIRED') ?? '';
    const purpose = this.requests.purpose(input.purpose);
    const minutes = input.durationMinutes ?? bg.maxDurationMinutes;
    if (!(minutes > 0)) throw new CustosError('VALIDATION_FAILED', 'durationMinutes must be positive');
    if (minutes > bg.maxDurationMinutes || minutes > purpose.maxDurationHours * 60)
      throw new CustosError(
        'DURATION_TOO_LONG',
        `break-glass lasts at most ${bg.maxDurationMinutes} minutes`,
      );
    const scope = validateScope(this.ctx.config, input.scope);
    const estimate = await estimateScope(this.ctx.estimate, scope);
    const request: StoredRequest = {
      id: newId('req'),
      kind: 'break-glass',
      requester: refOf(principal),
      scope,
      purpose: purpose.id,
      detail: text(input.detail, 4000, 'detail') ?? '',
      ticket: undefined,
      incident,
      durationMinutes: Math.ceil(minutes),
      estimate,
      required: { custodian: 0, operator: 0 },
      createdAt: this.ctx.clock.now(),
      state: 'pending',
      decidedAt: undefined,
      decidedBy: undefined,
      decisionNote: undefined,
    };
    await this.ctx.ledger.append(requestEntry(this.ctx.ledger, request));
    await this.ctx.store.createRequest(request);
    const grant = await this.requests.issue(request);
    this.ctx.alerts.emit('break-glass', {
      requestId: request.id,
      grantId: grant?.id ?? null,
      holder: principal.id,
      incident,
      purpose: purpose.id,
      collections: scope.collections,
      estimatedSubjects: estimate.subjects,
      estimatedRecords: estimate.records,
      expiresAt: grant ? new Date(grant.expiresAt).toISOString() : null,
      reviewDueAt: grant?.reviewDueAt === undefined ? null : new Date(grant.reviewDueAt).toISOString(),
    });
    return this.requests.view((await this.ctx.store.getRequest(request.id)) ?? request);
  }

  /** Records one custodian's review of a break-glass grant. */
  async review(principal: Principal, grantId: string, input: ReviewInput): Promise<GrantView> {
    const g = await this.grants.getFor(principal, grantId);
    if (!g.breakGlass) throw new CustosError('BAD_REQUEST', 'only break-glass grants are reviewed');
    if (principal.id === g.grantee.id)
      throw new CustosError('SELF_APPROVAL', 'the holder of a break-glass grant does not review it');
    if (!this.ctx.governance.isReviewer(principal))
      throw new CustosError('NOT_AN_APPROVER', 'break-glass grants are reviewed by custodian reviewers');
    const vote: StoredVote = {
      target: g.id,
      voter: refOf(principal),
      kind: 'review',
      verdict: input.verdict,
      note: text(input.note, 1000, 'note'),
      at: this.ctx.clock.now(),
    };
    if (!(await this.ctx.store.addVote(vote)))
      throw new CustosError('DUPLICATE_APPROVAL', 'this principal already reviewed the grant');
    try {
      await this.ctx.ledger.append(
        entry('approval', vote.voter, 'review', input.verdict === 'justified' ? 'allow' : 'deny', {
          purpose: g.purpose,
          grantId: g.id,
          details: { requestId: g.requestId, verdict: input.verdict },
        }),
      );
    } catch (err) {
      await this.ctx.store.removeVote(g.id, principal.id);
      throw err;
    }
    if (input.verdict === 'unjustified' && g.revokedAt === undefined)
      await this.grants.revokeRecorded(g, vote.voter, 'break-glass review: unjustified');
    const reviews = await this.ctx.store.votes(g.id);
    const needed = this.ctx.config.governance.breakGlass.reviewers;
    if (
      reviews.length >= needed &&
      (await this.ctx.store.markGrant(g.id, 'reviewedAt', this.ctx.clock.now()))
    ) {
      this.ctx.alerts.emit('review.completed', {
        grantId: g.id,
        reviews: reviews.length,
        unjustified: reviews.filter((r) => r.verdict === 'unjustified').length,
      });
    }
    return this.grants.view((await this.ctx.store.getGrant(g.id)) ?? g);
  }
}
