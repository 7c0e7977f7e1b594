import type { CustosConfig } from '../../domain/config.js';
import type { LedgerEntryInput } from '../ledger/ledger-service.js';
import type { KekRotationReport } from '../subject-keys.js';

/** The principal custody operations run by the `custos` CLI are recorded under. */
function cliPrincipal(config: CustosConfig): LedgerEntryInput['principal'] {
  const custodian = config.organisations.find((o) => o.kind === 'custodian');
  return { id: 'custos-cli', org: custodian?.id ?? 'custos', orgKind: 'custodian' };
}

/** The `key` entry recording a subject's crypto-shredding (pseudonymous subject ref only). */
export function subjectErasedEntry(
  config: CustosConfig,
  jurisdiction: string,
  subjectRef: string,
): LedgerEntryInput {
  return {
    type: 'key',
    principal: cliPrincipal(config),
    action: 'erase-subject',
    resource: { jurisdiction, subjectRef },
    decision: 'none',
    reasons: [],
  };
}

/** The `key` entry recording a KEK rotation (and which older versions it destroyed). */
export function kekRotatedEntry(config: CustosConfig, report: KekRotationReport): LedgerEntryInput {
  return {
    type: 'key',
    principal: cliPrincipal(config),
    action: report.destroyed.length > 0 ? 'rotate-kek-and-destroy' : 'rotate-kek',
    resource: { jurisdiction: report.jurisdiction, count: report.rewrapped },
    decision: 'none',
    reasons: [],
    details: { kekVersion: report.kekVersion, destroyed: report.destroyed.map(String) },
  };
}
