import { isVerifyError } from '../errors.js';
import type { NoteVerifier } from '../note/note-verifier.js';
import { parseVerifierKey } from '../note/verifier-key.js';
import { CliUsageError } from './cli-io.js';

/** Parses the `--key` values; a malformed key is a usage error (exit 2). */
export function parseKeys(keys: readonly string[] | undefined): NoteVerifier[] {
  if (keys === undefined || keys.length === 0) throw new CliUsageError('at least one --key VKEY is required');
  return keys.map((k, i) => {
    try {
      return parseVerifierKey(k.trim());
    } catch (err) {
      if (isVerifyError(err))
        throw new CliUsageError(`--key #${i + 1} is not a valid verifier key: ${err.message}`);
      throw err;
    }
  });
}
