import type { VerifyErrorCode } from '../errors.js';

/** The checks an audit runs; a failure names one of them. */
export type AuditCheck =
  | 'checkpoint'
  | 'checkpoint-signature'
  | 'checkpoint-witness'
  | 'entry-bundle'
  | 'entry-schema'
  | 'entry-count'
  | 'hash-tile'
  | 'root'
  | 'consistency';

/** One failed check, with the first entry index it concerns when there is one. */
export interface AuditFailure {
  readonly check: AuditCheck;
  readonly index?: number;
  readonly code?: VerifyErrorCode;
  readonly message: string;
}

/** A cosignature found valid on the audited checkpoint. */
export interface AuditCosignature {
  readonly name: string;
  /** POSIX seconds, exact: a valid cosignature may carry any value up to 2^63 − 1. */
  readonly timestamp: bigint;
}

/** Result of an audit: ok only when every check passed. Failures are listed in the order found. */
export interface AuditReport {
  readonly ok: boolean;
  readonly origin?: string;
  readonly size?: number;
  /** Base64 root hash from the checkpoint. */
  readonly root?: string;
  readonly entriesChecked: number;
  readonly cosignatures: readonly AuditCosignature[];
  readonly failures: readonly AuditFailure[];
}

/** Collects failures, keeping the first few of each check and counting the rest. */
export class FailureList {
  readonly #failures: AuditFailure[] = [];
  readonly #counts = new Map<AuditCheck, number>();
  readonly #max: number;

  constructor(maxPerCheck: number) {
    this.#max = maxPerCheck;
  }

  /** Records a failure (kept only if fewer than the maximum of its check were recorded). */
  add(failure: AuditFailure): void {
    const n = (this.#counts.get(failure.check) ?? 0) + 1;
    this.#counts.set(failure.check, n);
    if (n <= this.#max) this.#failures.push(failure);
  }

  /** Number of failures recorded for `check`, including suppressed ones. */
  count(check: AuditCheck): number {
    return this.#counts.get(check) ?? 0;
  }

  /** The kept failures, plus one summary line per check that had more than the maximum. */
  list(): AuditFailure[] {
    const out = [...this.#failures];
    for (const [check, n] of this.#counts) {
      if (n > this.#max) out.push({ check, message: `${n - this.#max} more ${check} failures not listed` });
    }
    return out;
  }
}
