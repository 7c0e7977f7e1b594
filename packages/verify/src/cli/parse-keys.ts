import { witnessCount } from '../checkpoint/signed-checkpoint.js';
import { isVerifyError } from '../errors.js';
import type { NoteVerifier } from '../note/note-verifier.js';
import { parseVerifierKey } from '../note/verifier-key.js';
import { CliUsageError } from './cli-io.js';

/**
 * Parses the `--key` values; a malformed key, or a key given twice (same name and key ID, which
 * C2SP signed-note uses to tell keys apart), is a usage error (exit 2).
 */
export function parseKeys(keys: readonly string[] | undefined): NoteVerifier[] {
  if (keys === undefined || keys.length === 0) throw new CliUsageError('at least one --key VKEY is required');
  const seen = new Set<string>();
  return keys.map((k, i) => {
    let verifier: NoteVerifier;
    try {
      verifier = parseVerifierKey(k.trim());
    } catch (err) {
      if (isVerifyError(err))
        throw new CliUsageError(`--key #${i + 1} is not a valid verifier key: ${err.message}`);
      throw err;
    }
    const id = `${verifier.name}\n${verifier.keyId}`;
    if (seen.has(id)) throw new CliUsageError(`--key #${i + 1} repeats a key given before`);
    seen.add(id);
    return verifier;
  });
}

/**
 * `--min-witnesses N`: how many of the witnesses given (distinct names of type 0x04 keys) must have
 * cosigned the checkpoint, 0 to their number; undefined (all of them) when absent.
 */
export function parseMinWitnesses(
  value: string | undefined,
  verifiers: readonly NoteVerifier[],
): number | undefined {
  if (value === undefined) return undefined;
  const available = witnessCount(verifiers);
  if (!/^[0-9]+$/.test(value) || Number(value) > available)
    throw new CliUsageError(
      `--min-witnesses must be a whole number from 0 to ${available}, the number of witnesses given`,
    );
  return Number(value);
}
