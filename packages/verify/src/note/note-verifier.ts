/** Verifies signatures of one key over note text (C2SP signed-note: identified by name and key ID). */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  /** Signature type byte: 0x01 Ed25519, 0x04 cosignature/v1. */
  readonly type: number;
  /** Resolves true iff `signature` (without the 4-byte key ID) is valid over `text`. */
  verify(text: Uint8Array, signature: Uint8Array): Promise<boolean>;
}

/** Signs note text with one key. */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  readonly type: number;
  /** Returns the signature bytes (without the 4-byte key ID) over `text`. */
  sign(text: Uint8Array): Promise<Uint8Array>;
}

/** Signature type byte for plain Ed25519 note signatures (C2SP signed-note). */
export const SIGNATURE_TYPE_ED25519 = 0x01;
/** Signature type byte for timestamped Ed25519 cosignatures (C2SP tlog-cosignature). */
export const SIGNATURE_TYPE_COSIGNATURE_V1 = 0x04;
