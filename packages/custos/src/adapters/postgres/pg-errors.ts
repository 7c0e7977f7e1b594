import { CustosError, isCustosError } from '../../domain/errors.js';

/** SQLSTATE classes that mean the request, not the database, was at fault (data exceptions). */
const DATA_EXCEPTION = '22';

function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Maps a `pg` failure to a CustosError. The message names the store and the error code only:
 * never the URL, the password, or the driver's own message (which can echo record values).
 */
export function toStoreError(err: unknown, store: string): CustosError {
  if (isCustosError(err)) return err;
  const code = sqlState(err);
  if (code?.startsWith(DATA_EXCEPTION)) {
    return new CustosError('BAD_REQUEST', `store ${store}: value cannot be stored (SQLSTATE ${code})`);
  }
  const why =
    code === '57014'
      ? 'statement timed out'
      : code === undefined
        ? 'connection failed'
        : /^[0-9A-Z]{5}$/.test(code)
          ? `SQLSTATE ${code}`
          : /^[A-Z][A-Z0-9_]{1,31}$/.test(code)
            ? code
            : 'driver error';
  return new CustosError('STORE_UNAVAILABLE', `store ${store}: PostgreSQL unavailable (${why})`);
}

/** Runs `fn`, turning any driver failure into a coded, secret-free CustosError. */
export async function guardPg<T>(store: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toStoreError(err, store);
  }
}
