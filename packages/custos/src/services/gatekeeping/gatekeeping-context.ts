import { randomBytes } from 'node:crypto';
import type { CustosConfig } from '../../domain/config.js';
import { CustosError, type ErrorCode } from '../../domain/errors.js';
import type { AccessStore } from '../../ports/access-store.js';
import type { Clock } from '../../ports/clock.js';
import type { AlertDispatcher } from './alert-dispatcher.js';
import type { GatekeepingLedger } from './gatekeeping-entries.js';
import type { Governance } from './governance.js';
import type { EstimateDeps } from './scope.js';

/** What every part of gatekeeping shares, built once by the gatekeeping service. */
export interface GatekeepingContext {
  readonly config: CustosConfig;
  readonly store: AccessStore;
  readonly ledger: GatekeepingLedger;
  readonly clock: Clock;
  readonly governance: Governance;
  readonly alerts: AlertDispatcher;
  readonly estimate: EstimateDeps;
  /** Tells the grant lookup that a principal's grants changed in this process. */
  readonly grantsChanged: (principalId: string) => void;
}

/** A fresh id with a kind prefix: `req_…`, `pol_…` (128 random bits, base32, lower case). */
export function newId(prefix: 'req' | 'pol' | 'flw'): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let out = '';
  for (const b of randomBytes(26)) out += alphabet[b & 31];
  return `${prefix}_${out}`;
}

/** The grant a request produces has a derived id, so a retried issuance can never mint two. */
export function grantIdOf(requestId: string): string {
  return `grt_${requestId.replace(/^req_/, '')}`;
}

/**
 * Checks a free-text field: trimmed, at most `max` characters. Empty means absent; when the field
 * is required, absence throws `missing` (VALIDATION_FAILED unless a more specific code is given).
 */
export function text(
  value: string | undefined,
  max: number,
  what: string,
  missing?: ErrorCode,
): string | undefined {
  const v = value?.trim();
  if (v === undefined || v === '') {
    if (missing) throw new CustosError(missing, `${what} is required`);
    return undefined;
  }
  if (v.length > max) throw new CustosError('VALIDATION_FAILED', `${what} is longer than ${max} characters`);
  return v;
}

/** ISO time, or undefined. */
export function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}
