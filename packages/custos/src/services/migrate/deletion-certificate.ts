import { hash } from 'node:crypto';
import {
  CompactRange,
  canonicalize,
  fromBase64,
  hashLeaf,
  isVerifyError,
  type NoteSigner,
  parseVerifierKey,
  signNote,
  toBase64,
  utf8Encode,
  verifyCheckpoint,
  verifyInclusion,
  verifyNote,
} from '@custos/verify';
import { CustosError, isCustosError } from '../../domain/errors.js';
import type { LedgerReceipt } from '../ledger/ledger-service.js';

/** Format tag of a certificate file. */
export const CERTIFICATE_FORMAT = 'custos-deletion-certificate/v1';

/** How the source copies were removed. */
export type DeletionMethod = 'delete' | 'crypto-shred' | 'destroyed';

/** What the custodian signs: one purged dataset. */
export interface DeletionCertificate {
  readonly format: typeof CERTIFICATE_FORMAT;
  readonly dataset: string;
  readonly source: string;
  readonly site: string;
  readonly collection: string;
  readonly method: DeletionMethod;
  /** Records deleted at the source, each verified at its target first. */
  readonly count: number;
  /** RFC 6962 root (base64) over the deleted records' digests, in copy order. */
  readonly root: string;
  /** Records held back at the source (unknown jurisdiction, bad records): not covered. */
  readonly heldBack: number;
  /** Source columns deliberately not copied (the dataset's `discard`): deleted with their rows. */
  readonly discarded: readonly string[];
  /** Records found by the leftover scan: always 0 in an issued certificate. */
  readonly leftover: number;
  readonly issuedAt: string;
  /** The ledger the certificate is recorded in (the signing key's name). */
  readonly ledgerOrigin: string;
}

/** A certificate file: everything an auditor needs offline. */
export interface CertificateFile {
  readonly format: typeof CERTIFICATE_FORMAT;
  /** C2SP signed note whose text is the certificate's RFC 8785 JSON and a newline. */
  readonly note: string;
  /** The deleted records' digests (hex), in the order the root is computed over. */
  readonly digests: readonly string[];
  /** The ledger entry recording the certificate, its inclusion proof and the signed checkpoint. */
  readonly ledger: LedgerReceipt;
  /**
   * The custodian's verifier key, for information only: verification uses the keys the auditor
   * pins (`--key`), never this one, since anyone can sign a self-consistent file with a fresh key.
   */
  readonly verifierKey: string;
}

/** SHA-256 (hex) of a certificate's signed text, as the ledger entry records it. */
export function certificateDigest(text: string): string {
  return hash('sha256', text, 'hex');
}

/** Signs a certificate as a C2SP signed note. */
export async function signCertificate(
  cert: DeletionCertificate,
  signer: NoteSigner,
): Promise<{ note: string; text: string }> {
  const text = `${canonicalize(cert)}\n`;
  return { note: await signNote(text, [signer]), text };
}

/** The RFC 6962 root (base64) over digests given as hex. */
export function digestsRoot(digests: readonly string[]): string {
  const range = new CompactRange();
  for (const d of digests) range.appendLeafHash(hashLeaf(Buffer.from(d, 'hex')));
  return toBase64(range.root());
}

/** One check `verify-certificate` made. */
export interface CertificateCheck {
  readonly check: 'format' | 'signature' | 'count' | 'root' | 'ledger-entry' | 'checkpoint' | 'inclusion';
  readonly detail: string;
}

/** The outcome: the checks that passed and, if one failed, which and why. */
export interface CertificateVerdict {
  readonly ok: boolean;
  readonly passed: readonly CertificateCheck[];
  readonly failed: CertificateCheck | undefined;
  readonly certificate: DeletionCertificate | undefined;
}

class CheckFailed extends Error {
  constructor(readonly check: CertificateCheck) {
    super(check.detail);
  }
}

function fail(check: CertificateCheck['check'], detail: string): never {
  throw new CheckFailed({ check, detail });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseFile(text: string): CertificateFile {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    fail('format', 'the file is not JSON');
  }
  if (!isObject(v) || v.format !== CERTIFICATE_FORMAT) fail('format', `not a ${CERTIFICATE_FORMAT} file`);
  const l = v.ledger;
  if (
    typeof v.note !== 'string' ||
    typeof v.verifierKey !== 'string' ||
    !Array.isArray(v.digests) ||
    !v.digests.every((d) => typeof d === 'string' && /^[0-9a-f]{64}$/.test(d)) ||
    !isObject(l) ||
    !Number.isSafeInteger(l.index) ||
    typeof l.entry !== 'string' ||
    typeof l.checkpoint !== 'string' ||
    !Array.isArray(l.proof) ||
    !l.proof.every((p) => typeof p === 'string')
  ) {
    fail('format', 'a field is missing or has the wrong type');
  }
  return v as unknown as CertificateFile;
}

async function check(
  text: string,
  trusted: readonly ReturnType<typeof parseVerifierKey>[],
  passed: CertificateCheck[],
): Promise<DeletionCertificate> {
  const file = parseFile(text);
  passed.push({ check: 'format', detail: CERTIFICATE_FORMAT });
  let body: string;
  let signer = '';
  try {
    const verified = await verifyNote(file.note, trusted);
    body = verified.text;
    signer = verified.verified[0]?.verifier.name ?? '';
  } catch (err) {
    fail('signature', isVerifyError(err) ? `${err.code}: ${err.message}` : 'the signature does not verify');
  }
  let cert: DeletionCertificate;
  try {
    cert = JSON.parse(body) as DeletionCertificate;
  } catch {
    fail('format', 'the signed text is not JSON');
  }
  if (!isObject(cert) || cert.format !== CERTIFICATE_FORMAT || `${canonicalize(cert)}\n` !== body) {
    fail('format', 'the signed text is not a canonical certificate');
  }
  passed.push({ check: 'signature', detail: `signed by ${signer}` });
  if (cert.count !== file.digests.length) {
    fail('count', `certificate says ${cert.count} records, the file lists ${file.digests.length} digests`);
  }
  passed.push({ check: 'count', detail: `${cert.count} records` });
  if (digestsRoot(file.digests) !== cert.root) fail('root', 'the digests do not hash to the certified root');
  passed.push({ check: 'root', detail: cert.root });
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(file.ledger.entry) as Record<string, unknown>;
  } catch {
    fail('ledger-entry', 'the ledger entry is not JSON');
  }
  const details = isObject(entry.details) ? entry.details : {};
  if (
    entry.type !== 'migration' ||
    entry.action !== 'migrate.certificate' ||
    details.certificate !== certificateDigest(body) ||
    details.root !== cert.root
  ) {
    fail('ledger-entry', 'the ledger entry does not record this certificate');
  }
  passed.push({ check: 'ledger-entry', detail: `entry ${file.ledger.index}` });
  let cp: Awaited<ReturnType<typeof verifyCheckpoint>>;
  try {
    cp = await verifyCheckpoint(file.ledger.checkpoint, trusted);
  } catch (err) {
    fail('checkpoint', isVerifyError(err) ? `${err.code}: ${err.message}` : 'the checkpoint does not verify');
  }
  passed.push({ check: 'checkpoint', detail: `size ${cp.checkpoint.size}` });
  try {
    verifyInclusion(
      file.ledger.index,
      cp.checkpoint.size,
      hashLeaf(utf8Encode(file.ledger.entry)),
      file.ledger.proof.map((p) => fromBase64(p)),
      cp.checkpoint.root,
    );
  } catch (err) {
    fail('inclusion', isVerifyError(err) ? `${err.code}: ${err.message}` : 'the inclusion proof fails');
  }
  passed.push({ check: 'inclusion', detail: `entry ${file.ledger.index} of ${cp.checkpoint.size}` });
  return cert;
}

/**
 * Verifies a certificate file offline: the custodian's signature, the certified count and root
 * against the listed digests, the ledger entry that records it, the signed checkpoint, and the
 * entry's inclusion in it, all against the verifier keys the auditor pins. The key inside the file
 * is never trusted: without a pinned key this is `CERTIFICATE_UNTRUSTED`.
 */
export async function verifyCertificateFile(
  text: string,
  trustedKeys: readonly string[],
): Promise<CertificateVerdict> {
  if (trustedKeys.length === 0) {
    throw new CustosError(
      'CERTIFICATE_UNTRUSTED',
      "no verifier key is pinned: pass the custodian's key with --key (the key inside the file proves nothing)",
    );
  }
  const passed: CertificateCheck[] = [];
  try {
    let trusted: ReturnType<typeof parseVerifierKey>[];
    try {
      trusted = trustedKeys.map((k) => parseVerifierKey(k));
    } catch {
      throw new CustosError('CERTIFICATE_UNTRUSTED', 'a pinned verifier key is malformed');
    }
    const certificate = await check(text, trusted, passed);
    return { ok: true, passed, failed: undefined, certificate };
  } catch (err) {
    if (isCustosError(err)) throw err;
    if (!(err instanceof CheckFailed))
      throw new CustosError('CERTIFICATE_INVALID', 'certificate cannot be checked');
    return { ok: false, passed, failed: err.check, certificate: undefined };
  }
}
