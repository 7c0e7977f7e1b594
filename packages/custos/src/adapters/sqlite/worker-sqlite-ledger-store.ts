import { Worker } from 'node:worker_threads';
import { CustosError, ERROR_CODES, type ErrorCode } from '../../domain/errors.js';
import type {
  LedgerBatch,
  LedgerStore,
  LedgerTreeState,
  StoredCheckpoint,
} from '../../ports/ledger-store.js';
import { SqliteLedgerStore, type SqliteLedgerStoreOptions } from './sqlite-ledger-store.js';
import {
  packBatch,
  type WorkerCall,
  type WorkerInit,
  type WorkerReply,
} from './worker/ledger-worker-protocol.js';

type Pending = { resolve: () => void; reject: (err: CustosError) => void };
type CallBody = WorkerCall extends infer C ? (C extends { id: number } ? Omit<C, 'id'> : never) : never;

/**
 * The SQLite ledger store with its writes on a worker thread. A durable commit fsyncs; done on the
 * thread that serves requests it would stall every request for the length of the fsync. Here the
 * worker owns the write connection (appends, checkpoints, probes) and the calling thread keeps a
 * read connection (WAL lets readers run beside the writer), so tiles and proofs never queue
 * behind a commit. If the worker dies every pending and later write fails with LEDGER_UNAVAILABLE.
 */
export class WorkerSqliteLedgerStore implements LedgerStore {
  private readonly reader: SqliteLedgerStore;
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private dead: CustosError | undefined;

  constructor(path: string, options: SqliteLedgerStoreOptions = {}) {
    // The reader opens (and migrates) the database first, so open errors surface here, synchronously.
    this.reader = new SqliteLedgerStore(path, options);
    const init: WorkerInit = {
      path,
      busyTimeoutMs: options.busyTimeoutMs ?? 2000,
      compressEntries: options.compressEntries ?? true,
    };
    this.worker = new Worker(new URL('./worker/ledger-worker-boot.mjs', import.meta.url), {
      workerData: init,
    });
    this.worker.unref();
    this.worker.on('message', (reply: WorkerReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (reply.ok) p.resolve();
      else {
        const code = (reply.code in ERROR_CODES ? reply.code : 'LEDGER_UNAVAILABLE') as ErrorCode;
        p.reject(new CustosError(code, reply.message));
      }
    });
    const fail = (why: string): void => {
      this.dead = new CustosError('LEDGER_UNAVAILABLE', `ledger writer thread ${why}`);
      for (const p of this.pending.values()) p.reject(this.dead);
      this.pending.clear();
    };
    this.worker.on('error', () => fail('failed'));
    this.worker.on('exit', () => fail('exited'));
  }

  private call(body: CallBody, transfer: ArrayBuffer[] = []): Promise<void> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // A worker with calls in flight keeps the process alive; an idle one does not.
      if (this.pending.size === 1) this.worker.ref();
      this.worker.postMessage({ ...body, id } as WorkerCall, transfer);
    }).finally(() => {
      if (this.pending.size === 0) this.worker.unref();
    });
  }

  async appendBatch(batch: LedgerBatch): Promise<void> {
    const packed = packBatch(batch);
    // The packed entries are a fresh buffer of their own: hand it over instead of copying it again.
    return this.call({ op: 'append', batch: packed }, [packed.blob.buffer as ArrayBuffer]);
  }

  async saveCheckpoint(checkpoint: StoredCheckpoint): Promise<void> {
    return this.call({ op: 'checkpoint', checkpoint });
  }

  async probeWritable(): Promise<void> {
    return this.call({ op: 'probe' });
  }

  readTree(): Promise<LedgerTreeState> {
    return this.reader.readTree();
  }

  readEntries(start: number, end: number): Promise<Uint8Array[]> {
    return this.reader.readEntries(start, end);
  }

  readEntryBundle(start: number, end: number): Promise<Uint8Array> {
    return this.reader.readEntryBundle(start, end);
  }

  readHashes(level: number, start: number, end: number): Promise<Uint8Array> {
    return this.reader.readHashes(level, start, end);
  }

  lastCheckpoint(): Promise<StoredCheckpoint | undefined> {
    return this.reader.lastCheckpoint();
  }

  listCheckpoints(afterSize: number, limit: number): Promise<StoredCheckpoint[]> {
    return this.reader.listCheckpoints(afterSize, limit);
  }

  async close(): Promise<void> {
    if (!this.dead) {
      await this.call({ op: 'close' }).catch(() => undefined);
      await this.worker.terminate();
    }
    await this.reader.close();
  }
}
