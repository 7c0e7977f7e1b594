import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustosError } from '../../domain/errors.js';

/** File (in the keys directory) of the Ed25519 seed that signs checkpoints. */
export const SIGNING_KEY_FILE = 'ledger-signing.key';
/** File (in the keys directory) of the custodian key behind subject pseudonyms. */
export const SUBJECT_REF_KEY_FILE = 'ledger-subject-ref.key';

/** The ledger's two secrets, each 32 random bytes. */
export interface LedgerKeys {
  /** Ed25519 seed (RFC 8032 private key) of the checkpoint signer. */
  readonly signingSeed: Uint8Array;
  /** HMAC-SHA256 key of `subjectRef`. */
  readonly subjectRefKey: Uint8Array;
}

/** Reads a 32-byte key file in `dir`, creating it (mode 0600) on first use; creation is race-free (`wx`). */
export function loadOrCreate(dir: string, name: string): Uint8Array {
  const path = join(dir, name);
  let key: Buffer;
  try {
    key = readFileSync(path);
  } catch {
    try {
      writeFileSync(path, randomBytes(32), { flag: 'wx', mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new CustosError('KEY_UNAVAILABLE', `cannot create ledger key ${name}`, { cause: err });
      }
    }
    key = readFileSync(path);
  }
  if (key.length !== 32) throw new CustosError('KEY_UNAVAILABLE', `ledger key ${name} is corrupt`);
  return new Uint8Array(key);
}

/** Loads the ledger keys from the keys directory (mode 0700), creating them on first start. */
export function loadLedgerKeys(dir: string): LedgerKeys {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  return {
    signingSeed: loadOrCreate(dir, SIGNING_KEY_FILE),
    subjectRefKey: loadOrCreate(dir, SUBJECT_REF_KEY_FILE),
  };
}
