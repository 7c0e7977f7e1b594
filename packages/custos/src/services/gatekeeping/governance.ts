import { CustosError } from '../../domain/errors.js';
import type { GovernanceSpec } from '../../domain/governance-config.js';
import type { Principal } from '../../domain/principal.js';
import type { AccessScope, PrincipalRef, ScopeEstimate, VoteKind } from '../../ports/access-store.js';

/** The recorded identity of a principal. */
export function refOf(p: Principal): PrincipalRef {
  return { id: p.id, org: p.org, orgKind: p.orgKind };
}

/** Parent principals take no part in gatekeeping (defence in depth: Cedar forbids them anyway). */
export function refuseParent(p: Principal): void {
  if (p.orgKind === 'parent')
    throw new CustosError(
      'PARENT_EXCLUDED',
      'principals of the parent organisation take no part in gatekeeping',
    );
}

/** Approvals a request needs. */
export interface RequiredApprovals {
  readonly custodian: number;
  readonly operator: number;
}

/**
 * Who may do what in gatekeeping, from the governance config. A principal's gatekeeping roles are
 * its own roles plus those its groups (nested groups included) confer. Organisation kind matters
 * too: approvers, reviewers and break-glass holders are custodians; supervisors are operators.
 */
export class Governance {
  constructor(readonly spec: GovernanceSpec) {}

  /** The principal's roles, direct and through groups. */
  rolesOf(p: Principal): ReadonlySet<string> {
    return new Set([...p.roles, ...(this.spec.groupRoles[p.id] ?? [])]);
  }

  private has(p: Principal, kind: Principal['orgKind'], role: string): boolean {
    return p.orgKind === kind && this.rolesOf(p).has(role);
  }

  /** How this principal's approval of a request counts, if at all. */
  requestVoteKind(p: Principal, required: RequiredApprovals): VoteKind | undefined {
    if (this.has(p, 'custodian', this.spec.approverRole)) return 'custodian';
    if (required.operator > 0 && this.has(p, 'operator', this.spec.supervision.role)) return 'operator';
    return undefined;
  }

  /**
   * True when the principal may see a request (and the grant it led to): custodians, auditors,
   * its requester, and whoever may approve it.
   */
  maySeeRequest(
    p: Principal,
    r: { readonly requester: PrincipalRef; readonly required: RequiredApprovals },
  ): boolean {
    return (
      p.orgKind === 'custodian' ||
      p.orgKind === 'auditor' ||
      p.id === r.requester.id ||
      this.requestVoteKind(p, r.required) !== undefined
    );
  }

  /** True when the principal may hold a break-glass grant. */
  canBreakGlass(p: Principal): boolean {
    return this.has(p, 'custodian', this.spec.breakGlass.role);
  }

  /** True when the principal may review break-glass grants. */
  isReviewer(p: Principal): boolean {
    return this.has(p, 'custodian', this.spec.breakGlass.reviewerRole);
  }

  /** How this principal's approval of a policy proposal counts, if at all. */
  boardVoteKind(p: Principal): VoteKind | undefined {
    if (this.has(p, 'custodian', this.spec.board.role)) return 'board';
    if (this.spec.mode === 'supervised' && this.has(p, 'operator', this.spec.board.role))
      return 'board-operator';
    return undefined;
  }

  /** Operator board approvals a proposal needs (none in autonomous mode). */
  get boardOperatorApprovals(): number {
    return this.spec.mode === 'supervised' ? this.spec.board.operatorApprovals : 0;
  }

  /**
   * Approvals a request needs: the largest of the default and every matching quorum rule from
   * custodian approvers; in supervised mode, supervised purposes also need operator supervisors.
   */
  required(purpose: string, scope: AccessScope, estimate: ScopeEstimate): RequiredApprovals {
    let custodian = this.spec.quorum.default;
    for (const r of this.spec.quorum.rules) {
      if (r.purposes !== undefined && !r.purposes.includes(purpose)) continue;
      if (r.actions !== undefined && !r.actions.some((a) => (scope.actions as readonly string[]).includes(a)))
        continue;
      if (r.minSubjects !== undefined && estimate.subjects < r.minSubjects) continue;
      if (r.minRecords !== undefined && estimate.records < r.minRecords) continue;
      if (r.bulk !== undefined && r.bulk !== (scope.subjects.kind === 'filter')) continue;
      custodian = Math.max(custodian, r.approvals);
    }
    const supervised = this.spec.mode === 'supervised' && this.spec.supervision.purposes.includes(purpose);
    return { custodian, operator: supervised ? this.spec.supervision.approvals : 0 };
  }
}
