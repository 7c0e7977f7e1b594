import { randomBytes } from 'node:crypto';
import { CustosError, isCustosError } from '../domain/errors.js';
import type { Clock } from '../ports/clock.js';
import type { KeyProvider } from '../ports/key-provider.js';
import type { SubjectRow, SubjectStore } from '../ports/subject-store.js';

/** An unwrapped subject data key. */
export interface DataKey {
  readonly version: number;
  readonly key: Uint8Array;
}

/** A subject with its unwrapped data keys, as cached in memory. */
export interface SubjectHandle {
  readonly row: SubjectRow;
  readonly keys: ReadonlyMap<number, Uint8Array>;
  readonly current: number;
}

type CachedSubject = SubjectHandle & { readonly expiresAt: number };

/** What one KEK rotation did (see {@link SubjectKeys.rotateKek}). */
export interface KekRotationReport {
  readonly jurisdiction: string;
  /** The KEK version every data key of the jurisdiction is now wrapped under. */
  readonly kekVersion: number;
  /** Key rows rewrapped by this run. */
  readonly rewrapped: number;
  /** Older KEK versions destroyed (only with `destroyOld`). */
  readonly destroyed: readonly number[];
}

/**
 * How long unwrapped keys stay cached. Another process (a second gateway, `custos subject erase`)
 * can erase a subject; after at most this long every process has dropped the key it held.
 */
export const SUBJECT_KEY_CACHE_MS = 5_000;

/** Wrap attempts when a rotation retires the KEK version a new key was wrapped under meanwhile. */
const STALE_RETRIES = 3;

/** Runs `attempt` (wrap and store) again while the store answers KEK_STALE, a few times. */
async function retryStale<T>(attempt: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (!isCustosError(err, 'KEK_STALE') || i >= STALE_RETRIES) throw err;
    }
  }
}

function dekAad(subject: string, jurisdiction: string, version: number): Buffer {
  return Buffer.from(JSON.stringify(['custos-dek-v1', subject, jurisdiction, version]));
}

/**
 * Subject registry and envelope keys: each subject has AES-256 data keys wrapped by its
 * jurisdiction's KEK. Unwrapped keys are cached in memory (bounded, for SUBJECT_KEY_CACHE_MS);
 * erasure here evicts them at once, erasure by another process within that bound.
 */
export class SubjectKeys {
  private readonly cache = new Map<string, CachedSubject>();

  constructor(
    private readonly store: SubjectStore,
    private readonly keys: KeyProvider,
    private readonly clock: Clock,
    private readonly cacheLimit = 100_000,
    /** How long unwrapped keys stay cached; the migration, which re-checks erasure per batch, keeps them longer. */
    private readonly cacheMs = SUBJECT_KEY_CACHE_MS,
  ) {}

  /** Registers a subject and creates its first data key. Resolves false when it already exists. */
  async register(id: string, jurisdiction: string): Promise<boolean> {
    const dek = randomBytes(32);
    return retryStale(async () => {
      const wrapped = await this.keys.wrap(jurisdiction, dek, dekAad(id, jurisdiction, 1));
      return this.store.create(
        { id, jurisdiction, erasedAt: undefined },
        { subject: id, version: 1, kekVersion: wrapped.kekVersion, wrapped: wrapped.blob },
      );
    });
  }

  /** Registers many subjects in one transaction (existing ones are skipped); resolves with how many were new. */
  async registerMany(
    subjects: readonly { readonly id: string; readonly jurisdiction: string }[],
  ): Promise<number> {
    if (subjects.length === 0) return 0;
    return retryStale(async () => {
      const entries = [];
      for (const { id, jurisdiction } of subjects) {
        const wrapped = await this.keys.wrap(jurisdiction, randomBytes(32), dekAad(id, jurisdiction, 1));
        entries.push({
          subject: { id, jurisdiction, erasedAt: undefined },
          key: { subject: id, version: 1, kekVersion: wrapped.kekVersion, wrapped: wrapped.blob },
        });
      }
      // Not cached here: a subject that existed already keeps its own key, which `open` loads.
      return this.store.createMany(entries);
    });
  }

  /**
   * The subject's cached keys, synchronously, or undefined when not cached yet. The read path uses
   * this to skip a promise hop per request; `open` loads on a miss.
   */
  peek(id: string): SubjectHandle | undefined {
    const hit = this.cache.get(id);
    return hit !== undefined && hit.expiresAt > this.clock.now() ? hit : undefined;
  }

  /** Loads (or returns cached) the subject's row and unwrapped keys. */
  async open(id: string): Promise<SubjectHandle> {
    return this.load(id);
  }

  /** The subject's row; throws `SUBJECT_UNKNOWN` or `SUBJECT_ERASED`. */
  async subject(id: string): Promise<SubjectRow> {
    return (await this.load(id)).row;
  }

  private async load(id: string): Promise<CachedSubject> {
    const hit = this.peek(id);
    if (hit) return hit as CachedSubject;
    this.cache.delete(id);
    const row = await this.store.get(id);
    if (!row) throw new CustosError('SUBJECT_UNKNOWN', 'unknown subject');
    if (row.erasedAt !== undefined) throw new CustosError('SUBJECT_ERASED', 'subject has been erased');
    const keys = new Map<number, Uint8Array>();
    let current = 0;
    for (const k of await this.store.keys(id)) {
      keys.set(
        k.version,
        await this.keys.unwrap(
          row.jurisdiction,
          { kekVersion: k.kekVersion, blob: k.wrapped },
          dekAad(id, row.jurisdiction, k.version),
        ),
      );
      current = Math.max(current, k.version);
    }
    if (current === 0) throw new CustosError('SUBJECT_ERASED', 'subject has been erased');
    const entry: CachedSubject = Object.freeze({
      row,
      keys,
      current,
      expiresAt: this.clock.now() + this.cacheMs,
    });
    if (this.cache.size >= this.cacheLimit) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(id, entry);
    return entry;
  }

  /** The current data key, for writing. */
  async currentKey(id: string): Promise<DataKey & { jurisdiction: string }> {
    const s = await this.load(id);
    const key = s.keys.get(s.current);
    if (!key) throw new CustosError('SUBJECT_ERASED', 'subject has been erased');
    return { version: s.current, key, jurisdiction: s.row.jurisdiction };
  }

  /** A specific data key version, for reading. Unknown versions are indistinguishable from tampering. */
  async keyVersion(id: string, version: number): Promise<Uint8Array> {
    const s = await this.load(id);
    const key = s.keys.get(version);
    if (!key) throw new CustosError('DECRYPT_FAILED', 'decryption failed');
    return key;
  }

  /**
   * Rotates a jurisdiction's KEK: creates the next version, rewraps every data key still wrapped
   * under an older one (data keys themselves do not change, so no record is re-encrypted), and with
   * `destroyOld` destroys the older versions once nothing refers to them. After that, a backup of
   * the custody database taken before the rotation is useless: the wrapped keys of subjects erased
   * since then can no longer be unwrapped anywhere. Safe to re-run after an interruption.
   */
  async rotateKek(
    jurisdiction: string,
    options: { destroyOld?: boolean; batch?: number } = {},
  ): Promise<KekRotationReport> {
    const kekVersion = await this.keys.rotate(jurisdiction);
    // From now on no data key wrapped under an older version can be added (a writer that wrapped
    // under one just before the rotation is refused and wraps again), and every one added before
    // is visible to the rewrap below: no key can slip in under a version about to be destroyed.
    await this.store.raiseKekFloor(jurisdiction, kekVersion);
    const rewrapped = await this.rewrapBefore(jurisdiction, kekVersion, options.batch ?? 500);
    const destroyed: number[] = [];
    if (options.destroyOld === true) {
      if ((await this.store.keysWrappedBefore(jurisdiction, kekVersion, 1)).length > 0) {
        throw new CustosError(
          'KEY_DESTROY_REFUSED',
          `data keys of ${jurisdiction} are still wrapped under an older KEK; run the rotation again`,
        );
      }
      for (const v of await this.keys.versions(jurisdiction)) {
        if (v >= kekVersion) continue;
        await this.keys.destroy(jurisdiction, v);
        destroyed.push(v);
      }
    }
    return { jurisdiction, kekVersion, rewrapped, destroyed };
  }

  /** Rewraps every key row of `jurisdiction` wrapped before `kekVersion`; resolves to how many. */
  private async rewrapBefore(jurisdiction: string, kekVersion: number, batch: number): Promise<number> {
    let rewrapped = 0;
    for (;;) {
      const rows = await this.store.keysWrappedBefore(jurisdiction, kekVersion, batch);
      if (rows.length === 0) break;
      for (const row of rows) {
        const aad = dekAad(row.subject, jurisdiction, row.version);
        const dek = await this.keys.unwrap(
          jurisdiction,
          { kekVersion: row.kekVersion, blob: row.wrapped },
          aad,
        );
        const wrapped = await this.keys.wrap(jurisdiction, dek, aad);
        dek.fill(0);
        // Compare-and-set: a row erased or rewrapped meanwhile is left alone (and not listed again).
        const done = await this.store.rewrap(
          { ...row, kekVersion: wrapped.kekVersion, wrapped: wrapped.blob },
          row.kekVersion,
        );
        if (done) rewrapped++;
      }
    }
    return rewrapped;
  }

  /** Crypto-shreds a subject: every data key is destroyed. Resolves false if it was unknown or already erased. */
  async erase(id: string): Promise<boolean> {
    this.cache.delete(id);
    return this.store.erase(id, this.clock.now());
  }
}
