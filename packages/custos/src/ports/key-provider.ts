/** A data key wrapped by a key-encryption key (KEK). */
export interface WrappedKey {
  /** Version of the KEK that wrapped it. */
  readonly kekVersion: number;
  readonly blob: Uint8Array;
}

/**
 * Holds key-encryption keys, one versioned series per jurisdiction, and wraps data keys with them.
 * KEK material never leaves the provider (the PKCS#11 adapter keeps it in the HSM).
 */
export interface KeyProvider {
  /** Wraps `dataKey` under the current KEK for `kekId`, binding `aad`. Creates the KEK if needed. */
  wrap(kekId: string, dataKey: Uint8Array, aad: Uint8Array): Promise<WrappedKey>;
  /** Unwraps; any tampering or wrong AAD gives `DECRYPT_FAILED`, unknown versions `KEY_UNAVAILABLE`. */
  unwrap(kekId: string, wrapped: WrappedKey, aad: Uint8Array): Promise<Uint8Array>;
  /** The KEK versions that exist for `kekId`, ascending. */
  versions(kekId: string): Promise<number[]>;
  /** Creates the next KEK version for `kekId`; later `wrap` calls use it. Resolves to the new version. */
  rotate(kekId: string): Promise<number>;
  /**
   * Destroys one KEK version for good: nothing it wrapped can be unwrapped afterwards, including
   * copies in backups of the custody database. Refuses (`KEY_DESTROY_REFUSED`) the newest version.
   */
  destroy(kekId: string, version: number): Promise<void>;
  close(): Promise<void>;
}
