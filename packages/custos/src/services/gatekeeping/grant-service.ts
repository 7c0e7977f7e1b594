import { CustosError } from '../../domain/errors.js';
import type { Principal } from '../../domain/principal.js';
import type { StoredGrant } from '../../ports/access-store.js';
import type { SubjectStore } from '../../ports/subject-store.js';
import type { GrantContext, RecordAction } from '../policy/cedar-engine.js';
import type { SubjectKeys } from '../subject-keys.js';
import { type GatekeepingContext, text } from './gatekeeping-context.js';
import { entry, grantEntry, systemActor } from './gatekeeping-entries.js';
import { refOf, refuseParent } from './governance.js';
import { type GrantView, grantStatus, grantView } from './request-views.js';

/**
 * How long "this principal holds no grant" is remembered. Only the absence of grants is cached:
 * a grant found is re-read on every request, so revocation and expiry take effect on the next
 * request even across gateway instances. A grant issued by another instance is seen within this.
 */
export const NO_GRANT_CACHE_MS = 1000;
const CACHE_LIMIT = 10_000;

/** Where a subject belongs, for grants scoped by jurisdiction. */
export interface SubjectLocator {
  readonly subjects: SubjectKeys;
  readonly subjectStore: SubjectStore;
}

/** True when a grant covers a request's principal, action, collection and purpose (not yet the subject). */
export function coversRequest(
  g: StoredGrant,
  principal: Principal,
  action: RecordAction,
  collection: string,
  purpose: string,
): boolean {
  return (
    g.grantee.id === principal.id &&
    g.grantee.org === principal.org &&
    g.purpose === purpose &&
    g.scope.actions.includes(action) &&
    g.scope.collections.includes(collection)
  );
}

/**
 * Grants at the gateway: the lookup the access service calls for every request, revocation, and
 * the periodic work (recording expiries, escalating overdue break-glass reviews).
 */
export class GrantService {
  private readonly noGrant = new Map<string, number>();

  constructor(
    private readonly ctx: GatekeepingContext,
    private readonly locator: SubjectLocator,
  ) {}

  /** Forgets the cached absence of grants for a principal. */
  changed(principalId: string): void {
    this.noGrant.delete(principalId);
  }

  private async jurisdictionOf(subject: string): Promise<string | undefined> {
    const cached = this.locator.subjects.peek(subject);
    if (cached) return cached.row.jurisdiction;
    return (await this.locator.subjectStore.get(subject))?.jurisdiction;
  }

  /**
   * The gateway's GrantLookup: a valid grant (issued, not expired by the injected clock, not
   * revoked) covering principal, action, collection, subject and purpose, as Cedar context.
   */
  readonly lookup = async (
    principal: Principal,
    action: RecordAction,
    collection: string,
    subject: string | undefined,
    purpose: string,
  ): Promise<GrantContext | undefined> => {
    if (subject === undefined) return undefined;
    const now = this.ctx.clock.now();
    const until = this.noGrant.get(principal.id);
    if (until !== undefined && until > now) return undefined;
    const grants = await this.ctx.store.activeGrants(principal.id, now);
    if (grants.length === 0) {
      if (this.noGrant.size >= CACHE_LIMIT) this.noGrant.clear();
      this.noGrant.set(principal.id, now + NO_GRANT_CACHE_MS);
      return undefined;
    }
    for (const g of grants) {
      if (!coversRequest(g, principal, action, collection, purpose)) continue;
      const s = g.scope.subjects;
      const inScope =
        s.kind === 'ids' ? s.ids.includes(subject) : (await this.jurisdictionOf(subject)) === s.jurisdiction;
      if (inScope) return { id: g.id, collection, breakGlass: g.breakGlass, fields: g.scope.fields };
    }
    return undefined;
  };

  /** A grant, or GRANT_NOT_FOUND. */
  async get(id: string): Promise<StoredGrant> {
    const g = await this.ctx.store.getGrant(id);
    if (!g) throw new CustosError('GRANT_NOT_FOUND', 'no such grant');
    return g;
  }

  /** True when the principal may see the request a grant came from, and so the grant. */
  private async maySee(principal: Principal, g: StoredGrant): Promise<boolean> {
    const r = await this.ctx.store.getRequest(g.requestId);
    return r !== undefined && this.ctx.governance.maySeeRequest(principal, r);
  }

  /**
   * A grant the principal may see (whoever may see its request). Any other grant is
   * GRANT_NOT_FOUND, the same answer as an unknown id, so ids cannot be probed.
   */
  async getFor(principal: Principal, id: string): Promise<StoredGrant> {
    refuseParent(principal);
    const g = await this.get(id);
    if (!(await this.maySee(principal, g))) throw new CustosError('GRANT_NOT_FOUND', 'no such grant');
    return g;
  }

  /** Revokes a grant: its holder, a custodian approver or a break-glass reviewer may. Effective at once. */
  async revoke(principal: Principal, id: string, reason: string | undefined): Promise<GrantView> {
    const g = await this.getFor(principal, id);
    const gov = this.ctx.governance;
    const allowed =
      principal.id === g.grantee.id ||
      gov.requestVoteKind(principal, { custodian: 1, operator: 0 }) === 'custodian' ||
      (g.breakGlass && gov.isReviewer(principal));
    if (!allowed)
      throw new CustosError('NOT_PERMITTED', 'only the holder or a custodian approver revokes a grant');
    const now = this.ctx.clock.now();
    const status = grantStatus(g, now);
    if (status === 'revoked') throw new CustosError('GRANT_REVOKED', 'the grant is already revoked');
    if (status === 'expired') throw new CustosError('GRANT_EXPIRED', 'the grant has already expired');
    const why = text(reason, 1000, 'reason') ?? 'revoked';
    await this.revokeRecorded(g, refOf(principal), why);
    return this.view((await this.ctx.store.getGrant(id)) ?? g);
  }

  /** Records and applies a revocation. */
  async revokeRecorded(
    g: StoredGrant,
    by: { id: string; org: string; orgKind: Principal['orgKind'] },
    why: string,
  ): Promise<void> {
    await this.ctx.ledger.append(grantEntry(this.ctx.ledger, g, 'revoke', by, { reason: why }));
    if (await this.ctx.store.revokeGrant(g.id, this.ctx.clock.now(), by.id, why)) {
      this.changed(g.grantee.id);
      this.ctx.alerts.emit('grant.revoked', { grantId: g.id, grantee: g.grantee.id, by: by.id });
    }
  }

  /** A grant with its reviews, for display. */
  async view(g: StoredGrant): Promise<GrantView> {
    return grantView(g, await this.ctx.store.votes(g.id), this.ctx.clock.now());
  }

  /**
   * Records every expiry that has come due, and escalates every break-glass grant whose review
   * deadline passed without the reviews: a ledger entry and a `review.overdue` alert, once.
   */
  async sweep(): Promise<{ expired: string[]; escalated: string[] }> {
    const now = this.ctx.clock.now();
    const expired: string[] = [];
    const escalated: string[] = [];
    const system = systemActor(this.ctx.config);
    for (const g of await this.ctx.store.grantsDue(now)) {
      if (g.revokedAt === undefined && g.expiresAt <= now && g.expiryRecordedAt === undefined) {
        await this.ctx.ledger.append(grantEntry(this.ctx.ledger, g, 'expire', system));
        if (await this.ctx.store.markGrant(g.id, 'expiryRecordedAt', now)) expired.push(g.id);
      }
      const overdue =
        g.breakGlass &&
        g.reviewedAt === undefined &&
        g.escalatedAt === undefined &&
        (g.reviewDueAt ?? Infinity) <= now;
      if (overdue) {
        const reviews = await this.ctx.store.votes(g.id);
        await this.ctx.ledger.append(
          entry('approval', system, 'review-overdue', 'none', {
            purpose: g.purpose,
            grantId: g.id,
            details: {
              requestId: g.requestId,
              grantee: g.grantee.id,
              reviews: reviews.length,
              required: this.ctx.config.governance.breakGlass.reviewers,
              reviewDueAt: new Date(g.reviewDueAt ?? now).toISOString(),
            },
          }),
        );
        if (await this.ctx.store.markGrant(g.id, 'escalatedAt', now)) {
          escalated.push(g.id);
          this.ctx.alerts.emit('review.overdue', {
            grantId: g.id,
            requestId: g.requestId,
            grantee: g.grantee.id,
            reviews: reviews.length,
            required: this.ctx.config.governance.breakGlass.reviewers,
            reviewDueAt: new Date(g.reviewDueAt ?? now).toISOString(),
          });
        }
      }
    }
    return { expired, escalated };
  }
}
