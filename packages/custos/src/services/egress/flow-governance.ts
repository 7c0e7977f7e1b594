import type { CustosConfig } from '../../domain/config.js';
import { CustosError } from '../../domain/errors.js';
import type { Principal } from '../../domain/principal.js';
import type { AccessStore, ProposalState } from '../../ports/access-store.js';
import type { Clock } from '../../ports/clock.js';
import type { EgressStore, StoredFlowProposal } from '../../ports/egress-store.js';
import type { AlertDispatcher } from '../gatekeeping/alert-dispatcher.js';
import { boardMember, castBoardVote } from '../gatekeeping/board-vote.js';
import { iso, newId, text } from '../gatekeeping/gatekeeping-context.js';
import type { GatekeepingLedger } from '../gatekeeping/gatekeeping-entries.js';
import { type Governance, refOf, refuseParent } from '../gatekeeping/governance.js';
import { type VoteView, voteView } from '../gatekeeping/request-views.js';
import { egressEntry } from './egress-entries.js';
import type { FlowRegistry } from './flow-registry.js';

/** What flow governance needs. */
export interface FlowGovernanceDeps {
  readonly config: CustosConfig;
  readonly store: EgressStore;
  readonly accessStore: AccessStore;
  readonly ledger: GatekeepingLedger;
  readonly clock: Clock;
  readonly governance: Governance;
  readonly alerts: AlertDispatcher;
}

/** A flow proposal as shown. */
export interface FlowProposalView {
  readonly id: string;
  readonly flowId: string;
  readonly state: ProposalState;
  readonly proposer: string;
  readonly summary: string;
  readonly declaration: unknown;
  /** Version of the flow in force it replaces; absent for a new flow. */
  readonly baseVersion: string | undefined;
  readonly version: string;
  readonly createdAt: string;
  readonly decidedAt: string | undefined;
  readonly decidedBy: string | undefined;
  readonly approvals: readonly VoteView[];
  readonly required: { readonly board: number; readonly operator: number };
}

/**
 * Governed flow changes, the same way as policy changes: a custodian or operator proposes a flow
 * declaration (new, or replacing one in force); governance board members approve it by quorum
 * (never their own); activation records it in the ledger, then stores it, and it is in force for
 * every gateway instance at once. A change made against a flow version no longer in force is stale.
 */
export class FlowGovernance {
  constructor(
    private readonly deps: FlowGovernanceDeps,
    private readonly flows: FlowRegistry,
  ) {}

  private async view(p: StoredFlowProposal): Promise<FlowProposalView> {
    const votes = await this.deps.accessStore.votes(p.id);
    return {
      id: p.id,
      flowId: p.flowId,
      state: p.state,
      proposer: p.proposer.id,
      summary: p.summary,
      declaration: JSON.parse(p.declaration) as unknown,
      baseVersion: p.baseVersion,
      version: p.version,
      createdAt: iso(p.createdAt) ?? '',
      decidedAt: iso(p.decidedAt),
      decidedBy: p.decidedBy,
      approvals: votes.map(voteView),
      required: {
        board: this.deps.config.governance.board.quorum,
        operator: this.deps.governance.boardOperatorApprovals,
      },
    };
  }

  private async get(principal: Principal, id: string): Promise<StoredFlowProposal> {
    refuseParent(principal);
    const p = await this.deps.store.getFlowProposal(id);
    if (!p) throw new CustosError('PROPOSAL_NOT_FOUND', 'no such proposal');
    return p;
  }

  private details(p: StoredFlowProposal): Record<string, string> {
    return {
      proposalId: p.id,
      flowId: p.flowId,
      proposedVersion: p.version,
      baseVersion: p.baseVersion ?? 'none',
    };
  }

  /** Proposes a flow declaration: a new flow, or a change of the flow in force with that id. */
  async propose(principal: Principal, declaration: unknown, summary: string): Promise<FlowProposalView> {
    refuseParent(principal);
    if (principal.orgKind !== 'custodian' && principal.orgKind !== 'operator')
      throw new CustosError('NOT_PERMITTED', 'custodians and operators propose flows');
    const flow = this.flows.parse(declaration);
    const current = await this.flows.get(flow.id);
    if (current?.version === flow.version)
      throw new CustosError('BAD_REQUEST', 'the proposal equals the flow in force');
    const p: StoredFlowProposal = {
      id: newId('flw'),
      flowId: flow.id,
      proposer: refOf(principal),
      summary: text(summary, 1000, 'summary', 'VALIDATION_FAILED') ?? '',
      declaration: JSON.stringify(declaration),
      baseVersion: current?.version,
      version: flow.version,
      createdAt: this.deps.clock.now(),
      state: 'pending',
      decidedAt: undefined,
      decidedBy: undefined,
    };
    await this.deps.ledger.append(egressEntry(p.proposer, 'flow-propose', 'none', [], this.details(p)));
    await this.deps.store.createFlowProposal(p);
    this.deps.alerts.emit('flow.proposed', { proposalId: p.id, flowId: p.flowId, proposer: principal.id });
    return this.view(p);
  }

  /** One proposal. */
  async show(principal: Principal, id: string): Promise<FlowProposalView> {
    return this.view(await this.get(principal, id));
  }

  /** Proposals, newest first. */
  async list(
    principal: Principal,
    state: ProposalState | undefined,
    limit: number,
  ): Promise<FlowProposalView[]> {
    refuseParent(principal);
    const rows = await this.deps.store.listFlowProposals(state, limit);
    return Promise.all(rows.map((p) => this.view(p)));
  }

  /** A board member's approval; the one completing the quorum makes the proposal `approved`. */
  async approve(principal: Principal, id: string, note: string | undefined): Promise<FlowProposalView> {
    const p = await this.get(principal, id);
    const met = await castBoardVote(
      { ...this.deps, store: this.deps.accessStore },
      this.deps.config.governance.board.quorum,
      principal,
      {
        id: p.id,
        proposerId: p.proposer.id,
        pending: p.state === 'pending',
        action: 'approve-flow',
        details: this.details(p),
      },
      note,
    );
    if (met)
      await this.deps.store.setFlowProposalState(
        p.id,
        ['pending'],
        'approved',
        this.deps.clock.now(),
        principal.id,
      );
    return this.view((await this.deps.store.getFlowProposal(p.id)) ?? p);
  }

  /** Rejects (or, for its proposer, withdraws) a pending or approved proposal. */
  async reject(principal: Principal, id: string, reason: string | undefined): Promise<FlowProposalView> {
    const p = await this.get(principal, id);
    if (principal.id !== p.proposer.id) boardMember(this.deps.governance, principal);
    const why = text(reason, 1000, 'reason');
    await this.deps.ledger.append(
      egressEntry(refOf(principal), 'flow-reject', 'deny', [], {
        ...this.details(p),
        ...(why ? { reason: why } : {}),
      }),
    );
    const now = this.deps.clock.now();
    if (
      !(await this.deps.store.setFlowProposalState(
        p.id,
        ['pending', 'approved'],
        'rejected',
        now,
        principal.id,
      ))
    )
      throw new CustosError('PROPOSAL_NOT_PENDING', 'the proposal is no longer pending');
    return this.view((await this.deps.store.getFlowProposal(p.id)) ?? p);
  }

  /** Activates an approved proposal: checked again, recorded in the ledger, then stored (in force). */
  async activate(principal: Principal, id: string): Promise<FlowProposalView> {
    const p = await this.get(principal, id);
    boardMember(this.deps.governance, principal);
    if (p.state !== 'approved')
      throw new CustosError('PROPOSAL_NOT_APPROVED', 'only an approved proposal is activated');
    const current = await this.flows.get(p.flowId);
    if (current?.version !== p.baseVersion)
      throw new CustosError('FLOW_STALE', 'the flow in force changed since this proposal; propose again');
    // Checked again: the configuration may have changed since the proposal was made.
    const flow = this.flows.parse(JSON.parse(p.declaration));
    const stored = await this.flows.storedVersion(p.flowId);
    const now = this.deps.clock.now();
    await this.deps.ledger.append(
      egressEntry(refOf(principal), 'flow-activate', 'none', [], this.details(p)),
    );
    const ok = await this.deps.store.activateFlow(
      {
        flowId: flow.id,
        version: flow.version,
        declaration: p.declaration,
        proposalId: p.id,
        activatedAt: now,
        activatedBy: principal.id,
      },
      stored,
    );
    if (!ok)
      throw new CustosError('FLOW_STALE', 'the flow in force changed since this proposal; propose again');
    this.deps.alerts.emit('flow.activated', {
      proposalId: p.id,
      flowId: flow.id,
      version: flow.version,
      by: principal.id,
    });
    return this.view((await this.deps.store.getFlowProposal(p.id)) ?? p);
  }
}
