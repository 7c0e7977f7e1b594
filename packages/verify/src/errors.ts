/**
 * Stable error codes raised by the verifier. Each names the check that failed, never the data
 * that failed it (STYLE.md, "Errors").
 */
export type VerifyErrorCode =
  | 'INPUT_INVALID'
  | 'INCLUSION_INVALID'
  | 'CONSISTENCY_INVALID'
  | 'NOTE_MALFORMED'
  | 'NOTE_UNVERIFIED'
  | 'SIGNATURE_INVALID'
  | 'CHECKPOINT_MALFORMED'
  | 'ORIGIN_MISMATCH'
  | 'COSIGNATURE_INVALID'
  | 'COSIGNATURE_MISSING'
  | 'KEY_MALFORMED'
  | 'ENTRY_INVALID'
  | 'JSON_INVALID'
  | 'TILE_MALFORMED'
  | 'TILE_PATH_MALFORMED'
  | 'BUNDLE_MALFORMED'
  | 'RANGE_INVALID'
  | 'CRYPTO_UNAVAILABLE';

/** The one error class of the verifier: a stable `code` plus a human-readable message. */
export class VerifyError extends Error {
  /** Stable machine-readable code; safe to switch on. */
  readonly code: VerifyErrorCode;

  constructor(code: VerifyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VerifyError';
    this.code = code;
  }
}

/** Returns true when `err` is a {@link VerifyError}, optionally with the given code. */
export function isVerifyError(err: unknown, code?: VerifyErrorCode): err is VerifyError {
  return err instanceof VerifyError && (code === undefined || err.code === code);
}
