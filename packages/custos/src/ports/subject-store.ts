/** A subject known to Custos: an end user with a home jurisdiction. */
export interface SubjectRow {
  readonly id: string;
  readonly jurisdiction: string;
  /** Milliseconds since the epoch when the subject was erased, if it was. */
  readonly erasedAt: number | undefined;
}

/** A subject's wrapped data key, one row per key version. */
export interface SubjectKeyRow {
  readonly subject: string;
  readonly version: number;
  readonly kekVersion: number;
  readonly wrapped: Uint8Array;
}

/**
 * The custodian's registry of subjects and their wrapped data keys. Erasure deletes every key row
 * (crypto-shredding) and leaves a tombstone so reads can answer `SUBJECT_ERASED`.
 */
export interface SubjectStore {
  get(id: string): Promise<SubjectRow | undefined>;
  /** Looks up many subjects at once (for scans); unknown ids are absent from the map. */
  getMany(ids: readonly string[]): Promise<Map<string, SubjectRow>>;
  /**
   * Creates a subject with its first key; resolves false if the subject already exists. Refuses
   * (`KEK_STALE`, nothing written) a key wrapped under a KEK version below the jurisdiction's floor.
   */
  create(subject: SubjectRow, key: SubjectKeyRow): Promise<boolean>;
  /**
   * Creates many subjects in one transaction (existing ones are left as they are); resolves with
   * how many were new. Refuses the whole call (`KEK_STALE`) if any key is below its floor.
   */
  createMany(
    entries: readonly { readonly subject: SubjectRow; readonly key: SubjectKeyRow }[],
  ): Promise<number>;
  keys(id: string): Promise<SubjectKeyRow[]>;
  /** Destroys every key of the subject and marks it erased, in one transaction. */
  erase(id: string, at: number): Promise<boolean>;
  count(): Promise<number>;
  /**
   * Key rows of subjects of `jurisdiction` still wrapped under a KEK version older than
   * `kekVersion`, at most `limit`, in (subject, version) order: what a KEK rotation must rewrap.
   */
  keysWrappedBefore(jurisdiction: string, kekVersion: number, limit: number): Promise<SubjectKeyRow[]>;
  /**
   * Replaces one key row's wrapping, only if it is still wrapped under `fromKekVersion` (compare
   * and set, so concurrent rotations or an erasure in between never resurrect a key). Resolves
   * true when the row was updated.
   */
  rewrap(row: SubjectKeyRow, fromKekVersion: number): Promise<boolean>;
  /**
   * Raises the KEK floor of `jurisdiction` to `kekVersion` (it never goes down): from then on
   * `create` and `createMany` refuse keys wrapped under an older version. Resolves once no creation
   * that could still add such a key is in progress, so every key row that got in before is visible
   * to `keysWrappedBefore` afterwards: what lets a rotation destroy old versions without a race
   * (provided every writer checks the floor: all instances run a release that has it).
   */
  raiseKekFloor(jurisdiction: string, kekVersion: number): Promise<void>;
  close(): Promise<void>;
}
