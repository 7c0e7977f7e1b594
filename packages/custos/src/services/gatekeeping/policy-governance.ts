import { CustosError } from '../../domain/errors.js';
import type { Principal } from '../../domain/principal.js';
import type { PolicyFile, ProposalState, StoredProposal, StoredVote } from '../../ports/access-store.js';
import { Authorizer } from '../policy/authorizer.js';
import { CedarEngine } from '../policy/cedar-engine.js';
import { type LoadedPolicies, loadPolicies, policyVersion, validatePolicies } from '../policy/policy-set.js';
import { checkProtected, policiesOf } from './active-policies.js';
import { boardMember, castBoardVote } from './board-vote.js';
import { type GatekeepingContext, iso, newId, text } from './gatekeeping-context.js';
import { entry } from './gatekeeping-entries.js';
import { refOf, refuseParent } from './governance.js';
import { diffPolicies, type PolicyChange } from './policy-diff.js';
import { type VoteView, voteView } from './request-views.js';
import { type EntrySource, type WhatIfReport, whatIf } from './what-if.js';

/** A proposal as shown: its diff against the active set and the board's votes. */
export interface ProposalView {
  readonly id: string;
  readonly state: ProposalState;
  readonly proposer: string;
  readonly summary: string;
  readonly baseVersion: string;
  readonly version: string;
  readonly createdAt: string;
  readonly decidedAt: string | undefined;
  readonly decidedBy: string | undefined;
  readonly files: readonly PolicyFile[];
  /**
   * False for a stored proposal whose text no longer splits into policies (a row written before
   * proposals were bounded, or by another version): it is shown with an empty `diff` and can be
   * rejected, but never approved into force (activation validates again).
   */
  readonly valid: boolean;
  readonly diff: readonly PolicyChange[];
  readonly approvals: readonly VoteView[];
  readonly required: { readonly board: number; readonly operator: number };
}

const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}\.cedar$/;

/**
 * Governed policy changes: a proposal replaces the whole policy set; the board approves it by
 * quorum (in supervised mode, operator board members too); `what-if` replays past decisions
 * against it; activation records the new version in the ledger, persists the set in the access
 * store (a restart keeps it) and swaps the authorizer's engine.
 */
export class PolicyGovernance {
  constructor(
    private readonly ctx: GatekeepingContext,
    private readonly authorizer: Authorizer,
    private readonly source: EntrySource,
    private current: LoadedPolicies,
  ) {}

  /** The policy set in force. */
  get policies(): LoadedPolicies {
    return this.current;
  }

  private load(files: readonly PolicyFile[]): LoadedPolicies {
    const policies = policiesOf(files);
    validatePolicies(this.current.schema, policies);
    return { schema: this.current.schema, policies, version: policyVersion(this.current.schema, policies) };
  }

  /** Proposes a new policy set (every file of it). */
  async propose(principal: Principal, files: readonly PolicyFile[], summary: string): Promise<ProposalView> {
    refuseParent(principal);
    if (principal.orgKind !== 'custodian' && principal.orgKind !== 'operator')
      throw new CustosError('NOT_PERMITTED', 'custodians and operators propose policy changes');
    if (files.length === 0)
      throw new CustosError('VALIDATION_FAILED', 'a proposal needs at least one policy file');
    const names = new Set<string>();
    for (const f of files) {
      if (!FILE_NAME.test(f.name) || names.has(f.name))
        throw new CustosError('VALIDATION_FAILED', 'policy file names are unique and end in .cedar');
      names.add(f.name);
    }
    const proposed = this.load(files);
    checkProtected(loadPolicies(undefined).policies, proposed.policies);
    if (proposed.version === this.current.version)
      throw new CustosError('BAD_REQUEST', 'the proposal equals the active policy set');
    const p: StoredProposal = {
      id: newId('pol'),
      proposer: refOf(principal),
      summary: text(summary, 1000, 'summary', 'VALIDATION_FAILED') ?? '',
      files: files.map((f) => ({ name: f.name, text: f.text })),
      baseVersion: this.current.version,
      version: proposed.version,
      createdAt: this.ctx.clock.now(),
      state: 'pending',
      decidedAt: undefined,
      decidedBy: undefined,
    };
    // Everything the answer shows is computed before anything is stored or recorded.
    const diff = diffPolicies(this.current.policies, proposed.policies);
    const ids = (c: PolicyChange['change']): string[] => diff.filter((d) => d.change === c).map((d) => d.id);
    await this.ctx.ledger.append(
      entry('policy', p.proposer, 'propose', 'none', {
        policyVersion: p.baseVersion,
        details: {
          proposalId: p.id,
          proposedVersion: p.version,
          added: ids('added'),
          removed: ids('removed'),
          changed: ids('changed'),
        },
      }),
    );
    await this.ctx.store.createProposal(p);
    this.ctx.alerts.emit('policy.proposed', { proposalId: p.id, proposer: principal.id, version: p.version });
    return this.view(p, diff);
  }

  /** A proposal, or PROPOSAL_NOT_FOUND. */
  async get(principal: Principal, id: string): Promise<StoredProposal> {
    refuseParent(principal);
    const p = await this.ctx.store.getProposal(id);
    if (!p) throw new CustosError('PROPOSAL_NOT_FOUND', 'no such proposal');
    return p;
  }

  /** Proposals, newest first. */
  async list(principal: Principal, state: ProposalState | undefined, limit: number): Promise<ProposalView[]> {
    refuseParent(principal);
    const rows = await this.ctx.store.listProposals(state, limit);
    return Promise.all(rows.map((p) => this.view(p)));
  }

  /** The diff of a stored proposal, or undefined when its text no longer splits into policies. */
  private diffOf(p: StoredProposal): PolicyChange[] | undefined {
    try {
      return diffPolicies(this.current.policies, policiesOf(p.files));
    } catch {
      return undefined;
    }
  }

  /**
   * A proposal with its diff against the active set and its votes. Never fails on the stored text:
   * one that no longer parses is shown `valid: false` (a listing must not break on one bad row).
   */
  async view(p: StoredProposal, computed?: readonly PolicyChange[]): Promise<ProposalView> {
    const votes = await this.ctx.store.votes(p.id);
    const diff = computed ?? this.diffOf(p);
    return {
      id: p.id,
      state: p.state,
      proposer: p.proposer.id,
      summary: p.summary,
      baseVersion: p.baseVersion,
      version: p.version,
      createdAt: iso(p.createdAt) ?? '',
      decidedAt: iso(p.decidedAt),
      decidedBy: p.decidedBy,
      files: p.files,
      valid: diff !== undefined,
      diff: diff ?? [],
      approvals: votes.map(voteView),
      required: {
        board: this.ctx.config.governance.board.quorum,
        operator: this.ctx.governance.boardOperatorApprovals,
      },
    };
  }

  private boardMember(principal: Principal): StoredVote['kind'] {
    return boardMember(this.ctx.governance, principal);
  }

  /** A board member's approval; the one completing the quorum makes the proposal `approved`. */
  async approve(principal: Principal, id: string, note: string | undefined): Promise<ProposalView> {
    const p = await this.get(principal, id);
    const met = await castBoardVote(
      this.ctx,
      this.ctx.config.governance.board.quorum,
      principal,
      {
        id: p.id,
        proposerId: p.proposer.id,
        pending: p.state === 'pending',
        action: 'approve-policy',
        policyVersion: p.baseVersion,
        details: { proposalId: p.id, proposedVersion: p.version },
      },
      note,
    );
    if (met)
      await this.ctx.store.setProposalState(
        p.id,
        ['pending'],
        'approved',
        this.ctx.clock.now(),
        principal.id,
      );
    return this.view((await this.ctx.store.getProposal(p.id)) ?? p);
  }

  /** Rejects (or, for its proposer, withdraws) a pending or approved proposal. */
  async reject(principal: Principal, id: string, reason: string | undefined): Promise<ProposalView> {
    const p = await this.get(principal, id);
    if (principal.id !== p.proposer.id) this.boardMember(principal);
    await this.ctx.ledger.append(
      entry('policy', refOf(principal), 'reject', 'deny', {
        policyVersion: p.baseVersion,
        details: {
          proposalId: p.id,
          proposedVersion: p.version,
          ...(reason ? { reason: text(reason, 1000, 'reason') ?? '' } : {}),
        },
      }),
    );
    if (
      !(await this.ctx.store.setProposalState(
        p.id,
        ['pending', 'approved'],
        'rejected',
        this.ctx.clock.now(),
        principal.id,
      ))
    )
      throw new CustosError('PROPOSAL_NOT_PENDING', 'the proposal is no longer pending');
    return this.view((await this.ctx.store.getProposal(p.id)) ?? p);
  }

  /** Replays the last `last` ledger entries against the proposal; lists the decisions that would flip. */
  async whatIf(
    principal: Principal,
    id: string,
    last: number,
  ): Promise<WhatIfReport & { proposalId: string }> {
    const p = await this.get(principal, id);
    // A replay shows who accessed what: only those the active policy lets read the ledger run one.
    if (!this.authorizer.decideLedger(principal, 'audit').allow)
      throw new CustosError(
        'NOT_PERMITTED',
        'what-if replays the ledger: it needs the readLedger permission',
      );
    const authorizer = new Authorizer(this.ctx.config, new CedarEngine(this.load(p.files)));
    const cache = new Map<string, boolean>();
    const breakGlass = async (grantId: string): Promise<boolean> => {
      if (!cache.has(grantId))
        cache.set(grantId, (await this.ctx.store.getGrant(grantId))?.breakGlass ?? false);
      return cache.get(grantId) ?? false;
    };
    const report = await whatIf(this.source, last, this.ctx.config, authorizer, breakGlass);
    return { proposalId: p.id, ...report };
  }

  /** Activates an approved proposal: ledger first, then persist, then swap the engine. */
  async activate(principal: Principal, id: string): Promise<ProposalView> {
    const p = await this.get(principal, id);
    this.boardMember(principal);
    if (p.state !== 'approved')
      throw new CustosError('PROPOSAL_NOT_APPROVED', 'only an approved proposal is activated');
    if (p.baseVersion !== this.current.version)
      throw new CustosError(
        'PROPOSAL_STALE',
        'the active policy set changed since this proposal; propose again',
      );
    const next = this.load(p.files);
    const engine = new CedarEngine(next);
    const now = this.ctx.clock.now();
    await this.ctx.ledger.append(
      entry('policy', refOf(principal), 'activate', 'none', {
        policyVersion: next.version,
        details: { proposalId: p.id, previousVersion: this.current.version },
      }),
    );
    const ok = await this.ctx.store.activatePolicySet({
      version: next.version,
      files: p.files,
      proposalId: p.id,
      activatedAt: now,
      activatedBy: principal.id,
    });
    if (!ok) throw new CustosError('PROPOSAL_NOT_APPROVED', 'only an approved proposal is activated');
    this.swap(next, engine);
    this.ctx.alerts.emit('policy.activated', { proposalId: p.id, version: next.version, by: principal.id });
    return this.view((await this.ctx.store.getProposal(p.id)) ?? p);
  }

  private swap(next: LoadedPolicies, engine: CedarEngine): void {
    this.current = next;
    this.authorizer.replaceEngine(engine);
  }

  /** Picks up a set activated by another instance (called by the periodic check). */
  async reload(): Promise<boolean> {
    const active = await this.ctx.store.activePolicySet();
    if (!active || active.version === this.current.version) return false;
    const next = this.load(active.files);
    if (next.version === this.current.version) return false;
    this.swap(next, new CedarEngine(next));
    return true;
  }
}
