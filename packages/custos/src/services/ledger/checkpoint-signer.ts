import { type NoteSigner, signCheckpoint, verifyConsistency } from '@custos/verify';
import { CustosError } from '../../domain/errors.js';
import type { Clock } from '../../ports/clock.js';
import type { LedgerStore, StoredCheckpoint } from '../../ports/ledger-store.js';

/** Proves that the stored tree at `size` extends the stored tree at `from` (RFC 9162 §2.1.4.1). */
export type ConsistencyProver = (from: number, to: number) => Promise<Uint8Array[]>;

function refuse(message: string, cause?: unknown): never {
  throw new CustosError('LEDGER_FORK_REFUSED', message, cause === undefined ? undefined : { cause });
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Signs checkpoints (c2sp.org/tlog-checkpoint, key name = origin) and keeps the no-fork promise:
 * it never signs a tree smaller than, or inconsistent with, the last checkpoint it recorded. The
 * last checkpoint is read from the store each time, so the promise holds across restarts and
 * across processes sharing the store; the store re-checks size and root atomically on save.
 */
export class CheckpointSigner {
  private readonly store: LedgerStore;
  private readonly signer: NoteSigner;
  private readonly origin: string;
  private readonly clock: Clock;
  private readonly prove: ConsistencyProver;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    store: LedgerStore,
    signer: NoteSigner,
    origin: string,
    clock: Clock,
    prove: ConsistencyProver,
  ) {
    this.store = store;
    this.signer = signer;
    this.origin = origin;
    this.clock = clock;
    this.prove = prove;
  }

  /** Signs (and records, before returning) a checkpoint of the tree of `size` entries with `root`. */
  sign(size: number, root: Uint8Array): Promise<StoredCheckpoint> {
    // One signing at a time: two concurrent calls must not both pass the check against the same "last".
    const next = this.chain.then(() => this.signNow(size, root));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async signNow(size: number, root: Uint8Array): Promise<StoredCheckpoint> {
    const last = await this.store.lastCheckpoint();
    if (last !== undefined) {
      if (size < last.size) refuse(`refusing to sign size ${size}: size ${last.size} was already signed`);
      if (size === last.size) {
        if (!sameBytes(root, last.root)) refuse(`refusing to sign a second root for size ${size}`);
        return last;
      }
      if (last.size > 0) {
        try {
          verifyConsistency(last.size, size, last.root, root, await this.prove(last.size, size));
        } catch (err) {
          refuse(`refusing to sign size ${size}: it is not consistent with signed size ${last.size}`, err);
        }
      }
    }
    const note = await signCheckpoint({ origin: this.origin, size, root, extensions: [] }, this.signer);
    const checkpoint: StoredCheckpoint = { size, root, note, signedAt: this.clock.now() };
    await this.store.saveCheckpoint(checkpoint);
    return checkpoint;
  }
}
