import type { EntryDetailValue } from '@custos/verify';
import type { FlowSpec } from '../../domain/egress-config.js';
import type { Principal } from '../../domain/principal.js';
import type { LedgerEntryInput } from '../ledger/ledger-service.js';

/** The flow facts every egress entry carries. */
export function flowDetails(flow: FlowSpec): Record<string, EntryDetailValue> {
  return {
    flowId: flow.id,
    flowVersion: flow.version,
    destination: flow.destination,
    destinationJurisdiction: flow.destinationJurisdiction,
    sources: [...flow.sources],
  };
}

/** An `egress` ledger entry. Details are counts, ids and digests: never a record value. */
export function egressEntry(
  principal: Pick<Principal, 'id' | 'org' | 'orgKind'>,
  action: string,
  decision: 'allow' | 'deny' | 'none',
  reasons: readonly string[],
  details: Record<string, EntryDetailValue>,
  extra: { policyVersion?: string; count?: number; collection?: string | undefined } = {},
): LedgerEntryInput {
  return {
    type: 'egress',
    principal: { id: principal.id, org: principal.org, orgKind: principal.orgKind },
    action,
    resource: {
      ...(extra.collection === undefined ? {} : { collection: extra.collection }),
      ...(extra.count === undefined ? {} : { count: extra.count }),
    },
    decision,
    reasons: [...reasons],
    ...(extra.policyVersion === undefined ? {} : { policyVersion: extra.policyVersion }),
    details,
  };
}
