import { parentPort } from 'node:worker_threads';
import { BundleChecker, checkBundle } from '../audit/bundle-checker.js';
import { isVerifyError } from '../errors.js';

/** A bundle to check, as the pool posts it. */
export interface CheckCall {
  readonly id: number;
  readonly bundle: Uint8Array;
  readonly width: number;
  readonly tile: Uint8Array | undefined;
}

/** The worker's answer: the result, or the VerifyError the check threw. */
export type CheckReply =
  | { readonly ready: true }
  | {
      readonly id: number;
      readonly count: number;
      readonly used: number;
      readonly firstMismatch: number;
      readonly leafHashes: Uint8Array;
      readonly invalid: readonly { readonly offset: number; readonly reason: string }[];
    }
  | { readonly id: number; readonly code: string | undefined; readonly message: string };

// A bundle-checking thread of the worker pool: the same checker as the single-threaded audit.
const port = parentPort;
const checker = new BundleChecker();

port?.on('message', (call: CheckCall) => {
  try {
    const r = checkBundle(checker, call.bundle, call.width, call.tile);
    port.postMessage({ id: call.id, ...r } satisfies CheckReply, [r.leafHashes.buffer as ArrayBuffer]);
  } catch (err) {
    port.postMessage({
      id: call.id,
      code: isVerifyError(err) ? err.code : undefined,
      message: err instanceof Error ? err.message : String(err),
    } satisfies CheckReply);
  }
});
port?.postMessage({ ready: true } satisfies CheckReply);
