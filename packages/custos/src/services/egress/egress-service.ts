import type { FlowSpec } from '../../domain/egress-config.js';
import { DATA_TYPES } from '../../domain/egress-config-schema.js';
import { CustosError, type ErrorCode } from '../../domain/errors.js';
import type { Principal } from '../../domain/principal.js';
import type { AccessStore } from '../../ports/access-store.js';
import type { Governance } from '../gatekeeping/governance.js';
import { type Authorizer, denyReasons } from '../policy/authorizer.js';
import { egressEntry, flowDetails } from './egress-entries.js';
import { contentTypeOf, type ExportFormat } from './export-format.js';
import { type RunDeps, runExport, WINDOW_MS } from './export-run.js';
import { FlowGovernance } from './flow-governance.js';
import { FlowRegistry } from './flow-registry.js';

/** Dependencies of the egress service, from the composition root. */
export interface EgressDeps extends RunDeps {
  readonly authorizer: Authorizer;
  readonly governance: Governance;
  readonly accessStore: AccessStore;
}

/** An export that was allowed and recorded: a stream of chunks, the last one its trailer. */
export interface ExportHandle {
  /** Ledger index of the entry that allowed the export (recorded before any data was read). */
  readonly ledgerIndex: number;
  readonly contentType: string;
  readonly flow: FlowSpec;
  readonly chunks: AsyncGenerator<string, void>;
}

/** One row of the egress report: a counterparty's 12-month total for a data type. */
export interface VolumeRow {
  readonly counterparty: string;
  readonly dataType: string;
  readonly persons: number;
  /** The smallest limit any flow in force to this counterparty sets (the section's threshold if none). */
  readonly threshold: number;
  /** persons / threshold. */
  readonly ratio: number;
}

/** `custos egress report`. */
export interface EgressReport {
  readonly windowStart: string;
  readonly at: string;
  readonly rows: readonly VolumeRow[];
}

/**
 * The egress firewall: nothing leaves except through a declared flow in force, exported by a
 * principal of its destination organisation, recorded in the ledger before any data is read,
 * transformed, DLP-checked and metered batch by batch (see docs/egress.md).
 */
export class EgressService {
  readonly flows: FlowRegistry;
  readonly proposals: FlowGovernance;

  constructor(private readonly deps: EgressDeps) {
    this.flows = new FlowRegistry(deps.config, deps.store);
    this.proposals = new FlowGovernance(deps, this.flows);
  }

  private async refuse(
    principal: Principal,
    flowId: string,
    flow: FlowSpec | undefined,
    code: ErrorCode,
    reasons: readonly string[],
    message: string,
    policyVersion?: string,
  ): Promise<never> {
    const details = flow ? flowDetails(flow) : { flowId };
    const { index } = await this.deps.ledger.append(
      egressEntry(principal, 'export', 'deny', reasons, details, policyVersion ? { policyVersion } : {}),
    );
    this.deps.alerts.emit('egress.refused', { flowId, principal: principal.id, code });
    throw new CustosError(code, message, { ledgerIndex: index, reasons });
  }

  /**
   * Opens an export: the flow must be in force and unexpired, and Cedar must allow the principal
   * to receive it. Refusals are recorded, alerted and thrown with their code; an allowed export is
   * recorded (fail closed: no ledger, no export) before the stream is returned.
   */
  async open(principal: Principal, flowId: string, format: ExportFormat): Promise<ExportHandle> {
    const flow = await this.flows.get(flowId);
    if (!flow)
      return this.refuse(
        principal,
        flowId,
        undefined,
        'EGRESS_NO_FLOW',
        ['no-flow'],
        'no declared flow by that id',
      );
    const org = this.deps.config.organisations.find((o) => o.id === flow.destination);
    const decision = this.deps.authorizer.decideExport(principal, flow.id, {
      destination: flow.destination,
      destinationKind: org?.kind ?? 'unknown',
      destinationJurisdiction: flow.destinationJurisdiction,
    });
    if (!decision.allow) {
      const reasons = denyReasons(decision);
      return this.refuse(
        principal,
        flowId,
        flow,
        'ACCESS_DENIED',
        reasons,
        'export denied by policy',
        decision.policyVersion,
      );
    }
    if (this.deps.clock.now() >= flow.expiresAt)
      return this.refuse(
        principal,
        flowId,
        flow,
        'FLOW_EXPIRED',
        ['flow-expired'],
        'the flow has expired; re-evaluate and re-declare it',
      );
    const { index } = await this.deps.ledger.append(
      egressEntry(
        principal,
        'export',
        'allow',
        decision.reasons,
        { ...flowDetails(flow), format },
        {
          policyVersion: decision.policyVersion,
        },
      ),
    );
    return {
      ledgerIndex: index,
      contentType: contentTypeOf(format),
      flow,
      chunks: runExport(this.deps, { principal, flow, format, startIndex: index }),
    };
  }

  /** Per counterparty and data type: distinct persons sent in the last 12 months, against thresholds. */
  async report(): Promise<EgressReport> {
    const now = this.deps.clock.now();
    const since = now - WINDOW_MS;
    const flows = [...(await this.flows.all()).values()];
    const totals = await this.deps.store.totals(since);
    const counterparties = new Set([
      ...flows.map((f) => f.destination),
      ...totals.map((t) => t.counterparty),
    ]);
    const rows: VolumeRow[] = [];
    for (const cp of [...counterparties].sort()) {
      for (const type of DATA_TYPES) {
        const persons = totals.find((t) => t.counterparty === cp && t.dataType === type)?.persons ?? 0;
        const limits = flows.filter((f) => f.destination === cp).map((f) => f.limits[type]);
        const threshold = limits.length > 0 ? Math.min(...limits) : this.deps.config.egress.thresholds[type];
        rows.push({
          counterparty: cp,
          dataType: type,
          persons,
          threshold,
          ratio: threshold > 0 ? persons / threshold : 0,
        });
      }
    }
    return { windowStart: new Date(since).toISOString(), at: new Date(now).toISOString(), rows };
  }
}
