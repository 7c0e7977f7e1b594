import type { ProposalHeader, ProposalState, StoredProposal } from '../ports/access-store.js';
import type { StoredFlowProposal } from '../ports/egress-store.js';
import { type Num, num, str } from './access-store-rows.js';

/*
 * Row mapping shared by the proposal tables of both stores (policy sets in the access store, flows
 * in the egress store), on SQLite and PostgreSQL alike: state and decision are columns, so that
 * every state change is a single compare-and-set UPDATE; the rest is one JSON document.
 */

/** A `policy_proposals` or `egress_flow_proposals` row. */
export interface ProposalRow {
  state: string;
  decided_at: Num;
  decided_by: string | null;
  doc: string;
}

/** The immutable part of a proposal, as JSON. */
export function proposalDoc(p: ProposalHeader): string {
  const { state: _s, decidedAt: _a, decidedBy: _b, ...doc } = p;
  return JSON.stringify(doc);
}

/** A proposal (of a policy set, or of a flow) from its row. */
export function fromProposalRow<P extends ProposalHeader>(row: ProposalRow): P {
  const doc = JSON.parse(row.doc) as P;
  return {
    ...doc,
    state: row.state as ProposalState,
    decidedAt: num(row.decided_at),
    decidedBy: str(row.decided_by),
  };
}

/** How a store keeps its proposals: the table, and what creating a proposal writes. */
export interface ProposalTableSpec<P extends ProposalHeader> {
  /** The table (a constant of the adapter, never input); the PostgreSQL adapter adds the schema. */
  readonly table: string;
  /** The `doc` column of a new proposal. */
  readonly doc: (p: P) => string;
  /**
   * Whether creating a proposal writes its decision columns. The egress store never has: its
   * flow proposals are created undecided, and any decision passed in is left out of the row.
   */
  readonly createsDecided: boolean;
}

/** Policy-set proposals of the access store: the decision in columns, the rest in `doc`. */
export const POLICY_PROPOSALS: ProposalTableSpec<StoredProposal> = {
  table: 'policy_proposals',
  doc: proposalDoc,
  createsDecided: true,
};

/** Flow proposals of the egress store: the whole proposal in `doc`, created without a decision. */
export const FLOW_PROPOSALS: ProposalTableSpec<StoredFlowProposal> = {
  table: 'egress_flow_proposals',
  doc: (p) => JSON.stringify(p),
  createsDecided: false,
};

/** The values of a new proposal's row: id, state, created_at, decided_at, decided_by, doc. */
export function proposalInsertValues<P extends ProposalHeader>(
  spec: ProposalTableSpec<P>,
  p: P,
): [string, string, number, number | null, string | null, string] {
  const decided = spec.createsDecided;
  return [
    p.id,
    p.state,
    p.createdAt,
    decided ? (p.decidedAt ?? null) : null,
    decided ? (p.decidedBy ?? null) : null,
    spec.doc(p),
  ];
}
