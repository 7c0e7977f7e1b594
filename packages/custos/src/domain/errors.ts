/**
 * Every error Custos raises carries one stable code from this list. Codes are part of the
 * public contract: they are documented in the README and mapped to HTTP statuses in one place.
 */
export const ERROR_CODES = {
  CONFIG_INVALID: 400,
  CONFIG_NOT_FOUND: 400,
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  PURPOSE_INVALID: 400,
  POLICY_INVALID: 400,
  AUTH_REQUIRED: 401,
  TOKEN_MALFORMED: 401,
  TOKEN_EXPIRED: 401,
  TOKEN_NOT_YET_VALID: 401,
  TOKEN_AUDIENCE: 401,
  TOKEN_ISSUER: 401,
  TOKEN_ALG_REFUSED: 401,
  TOKEN_SIGNATURE: 401,
  PRINCIPAL_UNKNOWN: 401,
  ACCESS_DENIED: 403,
  RESIDENCY_VIOLATION: 409,
  SUBJECT_UNKNOWN: 404,
  SUBJECT_EXISTS: 409,
  SUBJECT_ERASED: 410,
  RECORD_NOT_FOUND: 404,
  /** A field-scoped write kept losing its compare-and-set to concurrent writes of the record (retry). */
  RECORD_CONFLICT: 409,
  COLLECTION_UNKNOWN: 404,
  STORE_UNKNOWN: 404,
  JURISDICTION_UNKNOWN: 400,
  DECRYPT_FAILED: 500,
  KEY_UNAVAILABLE: 503,
  /** Destroying the newest KEK version, or one that still wraps data keys, is refused. */
  KEY_DESTROY_REFUSED: 409,
  /** A new data key was wrapped under a KEK version a rotation retired (the writer wraps again). */
  KEK_STALE: 409,
  STORE_UNAVAILABLE: 503,
  /** A database's schema was written by a newer Custos; this one refuses to start against it. */
  SCHEMA_TOO_NEW: 500,
  LEDGER_UNAVAILABLE: 503,
  /**
   * A ledger batch was placed on a tree another writer has since grown; nothing was written. The
   * ledger service places it again once; callers see LEDGER_UNAVAILABLE if that fails too.
   */
  LEDGER_MOVED: 409,
  LEDGER_FORK_REFUSED: 500,
  ENTRY_NOT_FOUND: 404,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  /** The request's headers exceed Node's limit (16 KB): refused before any route runs. */
  HEADERS_TOO_LARGE: 431,
  /** The request's headers or body did not arrive within the server's timeouts. */
  REQUEST_TIMEOUT: 408,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INTERNAL: 500,
  // Gatekeeping (docs/gatekeeping.md).
  /** A request's scope names an unknown collection, field, action or subject filter. */
  SCOPE_INVALID: 400,
  /** The requested duration is longer than the purpose (or break-glass) allows. */
  DURATION_TOO_LONG: 400,
  /** Break-glass needs an incident reference. */
  INCIDENT_REQUIRED: 400,
  /** Parent principals take no part in gatekeeping: they cannot request, approve or review. */
  PARENT_EXCLUDED: 403,
  /** Nobody approves (or reviews) their own request, grant or proposal. */
  SELF_APPROVAL: 403,
  /** The principal does not hold the approver (reviewer, board) role this step needs. */
  NOT_AN_APPROVER: 403,
  /** `excludeRequesterOrg`: no approver from the requester's organisation. */
  REQUESTER_ORG_EXCLUDED: 403,
  /** The principal lacks the break-glass role. */
  BREAK_GLASS_NOT_ALLOWED: 403,
  /** The principal may not see or change this request or grant. */
  NOT_PERMITTED: 403,
  REQUEST_NOT_FOUND: 404,
  GRANT_NOT_FOUND: 404,
  PROPOSAL_NOT_FOUND: 404,
  /** The same principal approved (or reviewed) this already. */
  DUPLICATE_APPROVAL: 409,
  REQUEST_NOT_PENDING: 409,
  GRANT_EXPIRED: 409,
  GRANT_REVOKED: 409,
  PROPOSAL_NOT_PENDING: 409,
  /** Only an approved proposal can be activated. */
  PROPOSAL_NOT_APPROVED: 409,
  /** The active policy set changed since the proposal was made: propose again against the new one. */
  PROPOSAL_STALE: 409,
  // Egress (docs/egress.md).
  /** No declared flow by that id: nothing leaves outside a flow. */
  EGRESS_NO_FLOW: 403,
  /** The flow's expiry (re-evaluation) date has passed. */
  FLOW_EXPIRED: 403,
  /** The export would take a counterparty over a 12-month volume limit for a data type. */
  EGRESS_LIMIT_EXCEEDED: 409,
  /** The data-loss check found a protected value or identifier pattern in the output. */
  EGRESS_DLP_BLOCKED: 409,
  /** A governed flow change names a flow version that is no longer the one in force. */
  FLOW_STALE: 409,
  /** An alert sink gave up delivering an event (never surfaced to a request; counted and logged). */
  ALERT_UNDELIVERED: 502,
  // Migration off legacy sites (docs/migration.md).
  /** A source record cannot be copied: malformed line, wrong column count, missing subject or id. */
  MIGRATION_RECORD_INVALID: 422,
  /** A legacy source cannot be read or written (unreachable database, missing file or key). */
  MIGRATION_SOURCE_UNAVAILABLE: 503,
  /** A copied batch read back from its target store does not match the source's digest. */
  MIGRATION_VERIFY_FAILED: 500,
  /** The step cannot run yet: purge before the copy finished, or records left at the source after a purge. */
  MIGRATION_NOT_READY: 409,
  /** A source that cannot delete rows awaits physical destruction: no certificate until it is gone. */
  DESTRUCTION_PENDING: 409,
  /** A deletion certificate fails verification (signature, ledger inclusion, root or count). */
  CERTIFICATE_INVALID: 400,
  /** A deletion certificate was checked without a pinned verifier key: its own key proves nothing. */
  CERTIFICATE_UNTRUSTED: 400,
  /** A database dataset's id column is not unique and NOT NULL: rows cannot be paged or deleted exactly. */
  MIGRATION_KEY_NOT_UNIQUE: 422,
  /** The target already holds a different record under the same (collection, subject, id). */
  MIGRATION_CONFLICT: 409,
  /** Source columns are neither mapped nor listed in `discard`: purge would delete data never copied. */
  MIGRATION_UNMAPPED_COLUMNS: 422,
  /** Another migration process holds the state store's lock. */
  MIGRATION_BUSY: 409,
} as const;

/** A stable, documented error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The one error class of Custos: a stable code, a message safe to show, and an optional cause. */
export class CustosError extends Error {
  readonly code: ErrorCode;
  /** Extra structured, non-sensitive details (for example every config issue). */
  readonly details: readonly string[] | undefined;
  /** For access decisions: the ledger index of the recorded decision, returned as a receipt. */
  readonly ledgerIndex: number | undefined;
  /** For access decisions: the policy ids that decided. */
  readonly reasons: readonly string[] | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options?: {
      cause?: unknown;
      details?: readonly string[];
      ledgerIndex?: number;
      reasons?: readonly string[];
    },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CustosError';
    this.code = code;
    this.details = options?.details;
    this.ledgerIndex = options?.ledgerIndex;
    this.reasons = options?.reasons;
  }
}

/** Returns the HTTP status for an error code. */
export function httpStatusFor(code: ErrorCode): number {
  return ERROR_CODES[code];
}

/** True when `err` is a CustosError, optionally with the given code. */
export function isCustosError(err: unknown, code?: ErrorCode): err is CustosError {
  return err instanceof CustosError && (code === undefined || err.code === code);
}
