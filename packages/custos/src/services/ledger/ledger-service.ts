import {
  createEd25519NoteSigner,
  ed25519PublicKeyFromSeed,
  encodeEntryInputInto,
  encodeEntryInputText,
  formatVerifierKey,
  isVerifyError,
  type LedgerEntry,
  MAX_ENTRY_SIZE,
  toBase64,
} from '@custos/verify';
import { CustosError, isCustosError } from '../../domain/errors.js';
import type { Clock } from '../../ports/clock.js';
import type { LedgerStore, LedgerTreeState, StoredCheckpoint } from '../../ports/ledger-store.js';
import { CheckpointSigner } from './checkpoint-signer.js';
import { EntryQueue } from './entry-queue.js';
import { GroupCommit, type GroupCommitStats } from './group-commit.js';
import type { LedgerKeys } from './ledger-keys.js';
import { LedgerReader, type LedgerTile } from './ledger-reader.js';
import { subjectRef } from './subject-ref.js';
import { rootOfTree } from './tree-batch.js';
import { type HashedBatch, TreeHasher } from './tree-hasher.js';
import { type EncodedEntries, entryViews, type TreeHashing } from './tree-hashing.js';

/** An entry as callers give it: the service adds the schema version and, unless given, the time. */
export type LedgerEntryInput = Omit<LedgerEntry, 'v' | 'time'> & { readonly time?: string };

/** Settings of the ledger service (from `config.ledger`). */
export interface LedgerServiceOptions {
  readonly origin: string;
  readonly maxBatch: number;
  readonly maxWaitMs: number;
  /**
   * Batches being committed at once: default 2 (the next batch is hashed while one is written),
   * 3 with `hashThread` (one is encoded, one hashed and one written at the same time).
   */
  readonly maxInFlight?: number;
  /** Sign a new checkpoint this often when there are new entries; 0 disables the timer. */
  readonly checkpointIntervalMs: number;
  readonly clock: Clock;
  /**
   * Hash large batches on a helper thread (`ledger.hashThread`); default false. Only where the
   * hashing is not native: the native addon hashes a batch faster than a hop to a thread.
   */
  readonly hashThread?: boolean;
  /** How batches are hashed: default native when the addon is loaded, portable otherwise. */
  readonly treeHashing?: TreeHashing;
  /** Several processes share the store (PostgreSQL): see `SharedLedger`. Absent: this process alone appends. */
  readonly shared?: SharedLedger | undefined;
}

/**
 * Multi-instance mode (docs/deployment.md): appends go through a shared queue and one sequencer
 * (`sequencer.ts`, `ledger-queue-client.ts`), and the store, not this process's memory, is the
 * source of truth: every read first follows the store's tree and latest checkpoint.
 */
export interface SharedLedger {
  /** Appends durably through the queue and the sequencer; resolves with the entry's index. */
  append(entry: Uint8Array): Promise<number>;
  /** True while this process is the sequencer: it alone signs the periodic checkpoints. */
  isSequencer(): boolean;
  close(): Promise<void>;
}

/** An entry with its inclusion proof against a signed checkpoint: what `custos-verify proof` checks. */
export interface LedgerReceipt {
  readonly index: number;
  /** The entry's canonical JSON (its leaf bytes, as a string). */
  readonly entry: string;
  /** Inclusion proof hashes, base64, leaf upwards. */
  readonly proof: readonly string[];
  /** The signed checkpoint note the proof is against. */
  readonly checkpoint: string;
}

/** What `/readyz` and operators see. */
export interface LedgerHealth {
  readonly writable: boolean;
  readonly size: number;
  readonly checkpointSize: number | undefined;
  readonly commits: GroupCommitStats;
}

function entryTooLong(): CustosError {
  return new CustosError('VALIDATION_FAILED', 'ledger entry is longer than 65535 bytes');
}

/** An entry's canonical text as UTF-8; VALIDATION_FAILED past MAX_ENTRY_SIZE bytes. */
function utf8Entry(text: string): Uint8Array {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > MAX_ENTRY_SIZE) throw entryTooLong();
  return bytes;
}

/** A verify-package schema error as the service's VALIDATION_FAILED; anything else as it is. */
function invalidEntry(err: unknown): unknown {
  if (!isVerifyError(err)) return err;
  return new CustosError('VALIDATION_FAILED', `ledger entry: ${err.message}`);
}

function unavailable(cause: unknown): CustosError {
  if (isCustosError(cause, 'LEDGER_UNAVAILABLE')) return cause;
  return new CustosError('LEDGER_UNAVAILABLE', 'the ledger cannot record', { cause });
}

/**
 * The access ledger: an append-only RFC 6962 Merkle log with group commit, signed checkpoints
 * and no-fork protection. Fail closed: `append` resolves only once its entry is durable, and
 * rejects with LEDGER_UNAVAILABLE when the store cannot write.
 */
export class LedgerService {
  /** The verifier key string (C2SP signed-note vkey) auditors pin. */
  readonly verifierKey: string;
  readonly origin: string;
  private readonly store: LedgerStore;
  private readonly keys: LedgerKeys;
  private readonly clock: Clock;
  private readonly reader: LedgerReader;
  private readonly signer: CheckpointSigner;
  private readonly commits: GroupCommit<number>;
  /** The bytes of entries submitted to `commits`, in the same order. */
  private readonly queued = new EntryQueue();
  private readonly hasher: TreeHasher;
  private tree: LedgerTreeState;
  private root: Uint8Array;
  /** Set when a commit failed: the in-memory tree must be reloaded from the store before the next one. */
  private stale = false;
  /** Tree after the last batch placed (handed to the store, maybe not committed yet). */
  private placedTree: LedgerTreeState | undefined;
  /** Serialises the placing stage of batches (see commitBatch). */
  private placing: Promise<void> = Promise.resolve();
  private closed = false;
  private latest: StoredCheckpoint | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly shared: SharedLedger | undefined;

  private constructor(
    store: LedgerStore,
    keys: LedgerKeys,
    init: ServiceInit,
    options: LedgerServiceOptions,
  ) {
    this.store = store;
    this.keys = keys;
    this.clock = options.clock;
    this.origin = options.origin;
    this.verifierKey = init.verifierKey;
    this.tree = init.tree;
    this.root = rootOfTree(init.tree);
    this.latest = init.latest;
    this.shared = options.shared;
    this.hasher = new TreeHasher(options.hashThread ?? false, options.treeHashing);
    this.reader = new LedgerReader(store);
    this.signer = new CheckpointSigner(store, init.signer, options.origin, options.clock, (from, to) =>
      this.reader.consistencyProof(from, to, this.tree.size),
    );
    this.commits = new GroupCommit((entries) => this.commitBatch(entries), {
      ...options,
      // Two stages (hash, write), or three with the hashing thread (encode, hash, write).
      maxInFlight: options.maxInFlight ?? (this.hasher.usesThread ? 3 : 2),
    });
    if (options.checkpointIntervalMs > 0) {
      this.timer = setInterval(() => void this.checkpointIfGrown(), options.checkpointIntervalMs);
      this.timer.unref();
    }
  }

  /** Opens the ledger on a store: reads the tree and the last checkpoint, refuses a store behind it. */
  static async open(
    store: LedgerStore,
    keys: LedgerKeys,
    options: LedgerServiceOptions,
  ): Promise<LedgerService> {
    // Checkpoint first: another process may append and sign in between, never shrink the tree.
    const latest = await store.lastCheckpoint();
    const tree = await store.readTree();
    if (latest !== undefined && latest.size > tree.size) {
      throw new CustosError(
        'LEDGER_UNAVAILABLE',
        `the ledger store holds ${tree.size} entries but size ${latest.size} was signed: it lost data`,
      );
    }
    const signer = await createEd25519NoteSigner(options.origin, keys.signingSeed);
    const verifierKey = formatVerifierKey(options.origin, await ed25519PublicKeyFromSeed(keys.signingSeed));
    return new LedgerService(store, keys, { tree, latest, signer, verifierKey }, options);
  }

  /** Committed (durable) number of entries. */
  get size(): number {
    return this.tree.size;
  }

  /** The keyed pseudonym (`sr1:…`) to record instead of a subject id. */
  subjectRef(subjectId: string): string {
    return subjectRef(this.keys.subjectRefKey, subjectId);
  }

  private lastMs = -1;
  private lastIso = '';

  /** The clock's time as RFC 3339 with milliseconds, formatted once per millisecond. */
  private isoNow(): string {
    const ms = this.clock.now();
    if (ms !== this.lastMs) {
      this.lastMs = ms;
      this.lastIso = new Date(ms).toISOString();
    }
    return this.lastIso;
  }

  /** Encodes an entry (RFC 8785 JCS, schema v1); throws VALIDATION_FAILED when it breaks the schema. */
  encode(input: LedgerEntryInput): Uint8Array {
    return utf8Entry(this.encodeText(input));
  }

  /** The canonical JSON text of an entry; throws VALIDATION_FAILED. The caller checks its length in bytes. */
  private encodeText(input: LedgerEntryInput): string {
    try {
      return encodeEntryInputText(input, this.isoNow());
    } catch (err) {
      throw invalidEntry(err);
    }
  }

  /** True while `append` encodes an entry into the queue. */
  private encoding = false;

  /** Appends an entry; resolves with its index once durable, rejects with LEDGER_UNAVAILABLE otherwise. */
  append(input: LedgerEntryInput): Promise<{ index: number }> {
    if (this.shared) {
      let bytes: Uint8Array;
      try {
        bytes = this.encode(input);
      } catch (err) {
        return Promise.reject(err);
      }
      if (this.closed) return Promise.reject(new CustosError('LEDGER_UNAVAILABLE', 'the ledger is closed'));
      return this.shared.append(bytes).then((index) => ({ index }));
    }
    // The bytes wait in the queue, encoded straight into it; the group commit carries only their
    // length, and each batch takes its entries' bytes off the queue in the same order (commitBatch).
    // A getter on the input that appends would write into the room this entry has reserved.
    if (this.encoding) {
      return Promise.reject(
        new CustosError('VALIDATION_FAILED', 'ledger entry: appended while another entry was being encoded'),
      );
    }
    const buf = this.queued.reserve(MAX_ENTRY_SIZE + 1);
    const start = this.queued.writeOffset;
    let end: number;
    this.encoding = true;
    try {
      end = encodeEntryInputInto(input, this.isoNow(), buf, start);
    } catch (err) {
      return Promise.reject(invalidEntry(err));
    } finally {
      this.encoding = false;
    }
    if (this.closed) return Promise.reject(new CustosError('LEDGER_UNAVAILABLE', 'the ledger is closed'));
    this.queued.advance(end - start);
    return this.commits.submit(end - start);
  }

  /** Shared mode: catches up with the tree and the latest checkpoint other processes committed. */
  private async follow(): Promise<void> {
    if (this.shared === undefined) return;
    const latest = await this.store.lastCheckpoint();
    const tree = await this.store.readTree();
    if (tree.size > this.tree.size) {
      this.root = rootOfTree(tree);
      this.tree = tree;
    }
    if (latest !== undefined && latest.size > (this.latest?.size ?? -1)) this.latest = latest;
  }

  private async commitBatch(lengths: number[]): Promise<number> {
    // Synchronously, before any await: batches take their bytes in the order they were formed.
    const encoded = this.queued.take(lengths);
    try {
      return await this.placeAndWrite(encoded);
    } catch (err) {
      // The commit may or may not have reached the disk: resynchronise from the store next time.
      this.stale = true;
      if (!isCustosError(err, 'LEDGER_MOVED')) throw unavailable(err);
    }
    // Another writer grew the tree (the CLI beside a server, say) and nothing of this batch was
    // written. Once the writes handed to the store before have settled, place it again, once, on
    // the stored tree.
    await Promise.allSettled([...this.writes]);
    try {
      return await this.placeAndWrite(encoded);
    } catch (err) {
      this.stale = true;
      throw unavailable(err);
    }
  }

  /** Writes handed to the store and not settled yet. */
  private readonly writes = new Set<Promise<void>>();

  /**
   * Places a batch on the tree and writes it; returns the index of its first entry. Stage 1,
   * strictly in call order: place the batch after the one handed to the store before it and hash
   * it. Stage 2: write it. While batch N is being written, batch N+1 is placed on N's resulting
   * tree, so hashing overlaps the writer thread's commit. If N fails, N+1 fails too (the store
   * refuses a batch not placed on its tree), and the next placement reloads.
   */
  private async placeAndWrite(encoded: EncodedEntries): Promise<number> {
    let prev: LedgerTreeState | undefined;
    let built: HashedBatch | undefined;
    const placed = this.placing.then(async () => {
      if (this.stale) await this.reload();
      prev = this.placedTree ?? this.tree;
      built = await this.hasher.hash(prev, encoded);
      this.placedTree = built.tree;
    });
    this.placing = placed.catch(() => undefined);
    await placed;
    const { entries, levels, tree, root } = built as HashedBatch;
    const { size: firstIndex, frontier: priorFrontier } = prev as LedgerTreeState;
    const write = this.store.appendBatch({
      firstIndex,
      priorFrontier,
      entries: entryViews(entries),
      levels,
      tree,
    });
    this.writes.add(write);
    try {
      await write;
    } finally {
      this.writes.delete(write);
    }
    this.tree = tree;
    this.root = root;
    return firstIndex;
  }

  private async reload(): Promise<void> {
    this.placedTree = undefined;
    const tree = await this.store.readTree();
    this.root = rootOfTree(tree);
    this.tree = tree;
    this.reader.clear();
    this.stale = false;
  }

  private async checkpointIfGrown(): Promise<void> {
    if (this.shared !== undefined && !this.shared.isSequencer()) return;
    await this.follow().catch(() => undefined);
    if (this.closed || this.tree.size === (this.latest?.size ?? -1)) return;
    try {
      await this.checkpoint();
    } catch {
      // Reported through health(); the next tick retries.
    }
  }

  /** Signs (if the tree grew) and records a checkpoint of the committed tree; returns the latest. */
  async checkpoint(): Promise<StoredCheckpoint> {
    await this.follow();
    if (this.shared && this.latest !== undefined && this.latest.size >= this.tree.size) return this.latest;
    let cp: StoredCheckpoint;
    try {
      cp = await this.signer.sign(this.tree.size, this.root);
    } catch (err) {
      // Shared mode: another process signed a larger tree first; that one is as good.
      if (!this.shared || !isCustosError(err, 'LEDGER_FORK_REFUSED')) throw err;
      const size = this.tree.size;
      await this.follow();
      if (this.latest === undefined || this.latest.size < size) throw err;
      return this.latest;
    }
    if (this.latest === undefined || cp.size >= this.latest.size) this.latest = cp;
    return cp;
  }

  /** The latest signed checkpoint, signing the first one if there is none yet. */
  async latestCheckpoint(): Promise<StoredCheckpoint> {
    await this.follow();
    return this.latest ?? this.checkpoint();
  }

  /** Entry `index` with its inclusion proof against the latest checkpoint (signed now if needed). */
  async receipt(index: number): Promise<LedgerReceipt> {
    if (index >= this.tree.size) await this.follow();
    const size = this.tree.size;
    if (!Number.isSafeInteger(index) || index < 0)
      throw new CustosError('BAD_REQUEST', 'index must be a non-negative integer');
    if (index >= size) throw new CustosError('ENTRY_NOT_FOUND', 'no ledger entry at that index');
    let cp = this.latest;
    if (cp === undefined || cp.size <= index) cp = await this.checkpoint();
    const [entry] = await this.store.readEntries(index, index + 1);
    if (entry === undefined)
      throw new CustosError('LEDGER_UNAVAILABLE', `ledger entry ${index} is missing from the store`);
    const proof = await this.reader.inclusionProof(index, cp.size, size);
    return {
      index,
      entry: Buffer.from(entry).toString('utf8'),
      proof: proof.map(toBase64),
      checkpoint: cp.note,
    };
  }

  /** Consistency proof between two tree sizes, base64. */
  async consistency(from: number, to: number): Promise<string[]> {
    if (to > this.tree.size) await this.follow();
    return (await this.reader.consistencyProof(from, to, this.tree.size)).map(toBase64);
  }

  /** Inclusion proof of `index` in the tree of `size` entries (raw hashes). */
  async inclusionProof(index: number, size: number): Promise<Uint8Array[]> {
    if (size > this.tree.size) await this.follow();
    return this.reader.inclusionProof(index, size, this.tree.size);
  }

  /** Hash tile (c2sp.org/tlog-tiles), or undefined when it does not exist yet. */
  async hashTile(level: number, index: number, width: number): Promise<LedgerTile | undefined> {
    const tile = await this.reader.hashTile(level, index, width, this.tree.size);
    if (tile !== undefined || this.shared === undefined) return tile;
    await this.follow();
    return this.reader.hashTile(level, index, width, this.tree.size);
  }

  /** Entry bundle (c2sp.org/tlog-tiles), or undefined when it does not exist yet. */
  async entryBundle(index: number, width: number): Promise<LedgerTile | undefined> {
    const tile = await this.reader.entryBundle(index, width, this.tree.size);
    if (tile !== undefined || this.shared === undefined) return tile;
    await this.follow();
    return this.reader.entryBundle(index, width, this.tree.size);
  }

  /** Resolves true when an append could be committed now (the store takes its write lock). */
  async isWritable(): Promise<boolean> {
    if (this.closed) return false;
    try {
      await this.store.probeWritable();
      return true;
    } catch {
      return false;
    }
  }

  /** Health summary for readiness checks. */
  async health(): Promise<LedgerHealth> {
    await this.follow().catch(() => undefined);
    return {
      writable: await this.isWritable(),
      size: this.tree.size,
      checkpointSize: this.latest?.size,
      commits: this.commits.stats(),
    };
  }

  /** Stops the checkpoint timer and closes the store; later appends reject with LEDGER_UNAVAILABLE. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.shared?.close();
    await this.hasher.close();
    await this.store.close();
  }
}

interface ServiceInit {
  readonly tree: LedgerTreeState;
  readonly latest: StoredCheckpoint | undefined;
  readonly signer: Awaited<ReturnType<typeof createEd25519NoteSigner>>;
  readonly verifierKey: string;
}
