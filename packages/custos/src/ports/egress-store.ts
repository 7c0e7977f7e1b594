import type { ProposalStorage, StoredProposalOf } from './access-store.js';

/** The subjects one export batch sends to a counterparty, for one regulated data type. */
export interface MeterBatch {
  readonly dataType: string;
  /** Keyed subject pseudonyms (`sr1:…`), never raw subject ids. */
  readonly refs: readonly string[];
}

/** One metering step: count a batch's persons, unless that takes any data type over its limit. */
export interface MeterRequest {
  readonly counterparty: string;
  readonly batches: readonly MeterBatch[];
  readonly at: number;
  /** Start of the rolling window: a person last sent before this no longer counts. */
  readonly since: number;
  /** Persons allowed per data type in the window. */
  readonly limits: Readonly<Record<string, number>>;
}

/** What metering decided. Refused batches are not counted at all (all data types or none). */
export type MeterResult =
  | { readonly ok: true; readonly totals: Readonly<Record<string, number>> }
  | { readonly ok: false; readonly dataType: string; readonly total: number; readonly limit: number };

/** Distinct persons sent to one counterparty in one data type within the window. */
export interface VolumeTotal {
  readonly counterparty: string;
  readonly dataType: string;
  readonly persons: number;
}

/** A proposed flow declaration (a new flow, or a change of one in force). */
export type StoredFlowProposal = StoredProposalOf<{
  flowId: string;
  /** The declaration as JSON (validated again at activation). */
  declaration: string;
  /** Version of the flow it replaces, or undefined for a new flow. */
  baseVersion: string | undefined;
}>;

type FlowProposals = ProposalStorage<StoredFlowProposal>;

/** A flow activated through governance. */
export interface StoredFlow {
  readonly flowId: string;
  readonly version: string;
  readonly declaration: string;
  readonly proposalId: string;
  readonly activatedAt: number;
  readonly activatedBy: string;
}

/**
 * Where egress keeps its state, in the custody database: the persons counted per counterparty
 * and data type (one row per person, so a person sent twice counts once and leaves the window a
 * year after the last send), flow proposals and the flows activated through governance. Votes on
 * flow proposals live with the other votes, in the access store.
 */
export interface EgressStore {
  /** Counts a batch atomically against the limits: all of it, or (refused) none of it. */
  meter(req: MeterRequest): Promise<MeterResult>;
  /** Running totals of every counterparty and data type since `since`. */
  totals(since: number): Promise<VolumeTotal[]>;
  /** Flow proposals: see `ProposalStorage`. */
  createFlowProposal: FlowProposals['create'];
  getFlowProposal: FlowProposals['get'];
  listFlowProposals: FlowProposals['list'];
  setFlowProposalState: FlowProposals['setState'];
  /**
   * Activates an approved proposal in one transaction: the flow's row is replaced only when its
   * current version is still `baseVersion` (none for a new flow) and the proposal is approved.
   */
  activateFlow(flow: StoredFlow, baseVersion: string | undefined): Promise<boolean>;
  /** Flows activated through governance, by flow id. */
  activeFlows(): Promise<StoredFlow[]>;
  close(): Promise<void>;
}
