import { verifyCheckpoint, witnessQuorum } from '../checkpoint/signed-checkpoint.js';
import { toBase64 } from '../encoding/base64.js';
import { equalBytes } from '../encoding/bytes.js';
import { isVerifyError, type VerifyErrorCode } from '../errors.js';
import type { NoteVerifier } from '../note/note-verifier.js';
import { type AuditCheck, type AuditCosignature, type AuditReport, FailureList } from './audit-report.js';
import type { BundleCheckPool } from './bundle-checker.js';
import { checkUpperTiles } from './check-upper-tiles.js';
import { scanEntries } from './scan-entries.js';
import type { TileSource } from './tile-source.js';

/** The last state the auditor trusted: a tree size and its root (e.g. from a stored checkpoint). */
export interface TrustedState {
  readonly size: number;
  readonly root: Uint8Array;
}

/** Options of {@link auditLedger}. */
export interface AuditOptions {
  /** Trusted log keys (the one named after the origin signs) and witness (cosigner) keys. */
  readonly verifiers: readonly NoteVerifier[];
  /**
   * Witness keys that must have cosigned the checkpoint (default: all given); see
   * {@link verifyCheckpoint}. Throws INPUT_INVALID when larger than the witness keys given.
   */
  readonly minWitnesses?: number;
  /** Signed checkpoint to audit; fetched from `checkpoint` at the source when absent. */
  readonly checkpoint?: string | Uint8Array;
  /** Previously trusted state; the new checkpoint must be consistent with it. */
  readonly trusted?: TrustedState;
  /** Bundles fetched ahead of the one being checked (default 16). */
  readonly concurrency?: number;
  /** Failures listed per check before the rest are only counted (default 10). */
  readonly maxFailuresPerCheck?: number;
  /** Called after each entry bundle with entries checked so far. */
  readonly onProgress?: (entriesDone: number, size: number) => void;
  /**
   * Checks and hashes entry bundles on other threads (`createWorkerCheckPool` of
   * `@custos/verify/node`); the report is the same either way. Absent: all on this thread.
   */
  readonly pool?: BundleCheckPool;
}

/**
 * Audits a whole tiled log offline: verifies the checkpoint signature and witness cosignatures
 * (`checkpoint-witness` when too few trusted witnesses cosigned), schema-checks and hashes
 * every entry, compares the leaf hashes and upper tiles with the served hash tiles (naming the
 * first mismatching entry), recomputes the root, checks the entry count, and checks consistency
 * with the trusted state (rollback, fork, rewritten prefix). Reports instead of throwing;
 * only I/O errors from the source and a `minWitnesses` above the witness keys given reject.
 */
export async function auditLedger(source: TileSource, options: AuditOptions): Promise<AuditReport> {
  const minWitnesses = witnessQuorum(options.verifiers, options.minWitnesses);
  const failures = new FailureList(options.maxFailuresPerCheck ?? 10);
  const report = (extra: Partial<AuditReport> = {}): AuditReport => {
    const list = failures.list();
    return { ok: list.length === 0, entriesChecked: 0, cosignatures: [], ...extra, failures: list };
  };
  const note = options.checkpoint ?? (await source.get('checkpoint'));
  if (note === undefined) {
    failures.add({ check: 'checkpoint', message: 'no checkpoint is served at the log prefix' });
    return report();
  }
  let verified: Awaited<ReturnType<typeof verifyCheckpoint>>;
  try {
    verified = await verifyCheckpoint(note, options.verifiers, { minWitnesses });
  } catch (err) {
    if (!isVerifyError(err)) throw err;
    failures.add({ check: checkpointCheckOf(err.code), code: err.code, message: err.message });
    return report();
  }
  const { origin, size, root } = verified.checkpoint;
  const cosignatures: AuditCosignature[] = verified.cosignatures.map((c) => ({
    name: c.name,
    timestamp: c.timestamp,
  }));
  const trusted = options.trusted;
  if (trusted !== undefined) checkTrustedState(trusted, size, root, failures);

  const scan = await scanEntries(source, {
    size,
    trustedSize: trusted !== undefined && trusted.size < size ? trusted.size : undefined,
    concurrency: Math.max(1, options.concurrency ?? 16),
    failures,
    onProgress: options.onProgress,
    pool: options.pool,
  });
  await checkUpperTiles(source, size, scan.level8, scan.level8Reported, failures);

  if (scan.root === undefined) {
    failures.add({
      check: 'root',
      message: `root not recomputed: the log serves ${scan.entriesChecked} usable entries of ${size}`,
    });
  } else if (!equalBytes(scan.root, root)) {
    failures.add({
      check: 'root',
      message: 'root mismatch: the root recomputed from the entries differs from the checkpoint root',
    });
  }
  if (trusted !== undefined && trusted.size > 0 && trusted.size < size) {
    if (scan.rootAtTrusted === undefined) {
      failures.add({
        check: 'consistency',
        index: trusted.size,
        message: `consistency not verified: entries before the trusted size ${trusted.size} are missing`,
      });
    } else if (!equalBytes(scan.rootAtTrusted, trusted.root)) {
      failures.add({
        check: 'consistency',
        index: trusted.size,
        message: `log rewritten: the root recomputed at the trusted size ${trusted.size} differs from the trusted root`,
      });
    }
  }
  return report({ origin, size, root: toBase64(root), entriesChecked: scan.entriesChecked, cosignatures });
}

function checkpointCheckOf(code: VerifyErrorCode): AuditCheck {
  if (code === 'NOTE_MALFORMED' || code === 'CHECKPOINT_MALFORMED') return 'checkpoint';
  return code === 'COSIGNATURE_MISSING' ? 'checkpoint-witness' : 'checkpoint-signature';
}

// RFC 9162 §2.1.4 consistency against the trusted state: a log never shrinks and never signs two
// different roots for one size (tlog-checkpoint §Signatures).
function checkTrustedState(
  trusted: TrustedState,
  size: number,
  root: Uint8Array,
  failures: FailureList,
): void {
  if (size < trusted.size) {
    failures.add({
      check: 'consistency',
      index: size,
      message: `checkpoint is smaller than trusted state (${size} < ${trusted.size}): the log was truncated or rolled back`,
    });
  } else if (size === trusted.size && !equalBytes(root, trusted.root)) {
    failures.add({
      check: 'consistency',
      message: `fork: checkpoint has the trusted size ${size} but a different root`,
    });
  }
}
