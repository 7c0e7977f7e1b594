import { createHash } from 'node:crypto';
import { CustosError } from '../../domain/errors.js';
import type { LedgerQueue, SequencedEntry, SequencerSession } from '../../ports/ledger-queue.js';
import {
  PgSequencerSession,
  type QueueChannels,
  type QueueSql,
  queueSql,
} from './pg-ledger-sequencer-session.js';
import type { PgSessionClient, PgSessionFactory } from './pg-ledger-session.js';
import type { LedgerSql } from './pg-ledger-sql.js';
import { quoteIdent } from './pg-migrate.js';
import type { PgPool } from './pg-types.js';
import { toLedgerError } from './postgres-ledger-store.js';

/** How long the waiters' listener waits before reconnecting after its connection was lost. */
const RELISTEN_MS = 1000;
/** Most ids per lookup statement. */
const LOOKUP_CHUNK = 10_000;

/** What the queue needs: the ledger store's pool, schema and statements, and dedicated connections. */
export interface PostgresLedgerQueueOptions {
  readonly pool: PgPool;
  readonly schema: string;
  readonly sql: LedgerSql;
  readonly sessions: PgSessionFactory;
}

/** Notification channels of a schema: short, valid identifiers whatever the schema name's length. */
function channelsOf(schema: string): QueueChannels {
  const tag = createHash('sha256').update(schema).digest('hex').slice(0, 16);
  return { enqueued: `custos_enq_${tag}`, sequenced: `custos_seq_${tag}` };
}

/**
 * The PostgreSQL adapter of the `LedgerQueue` port, in the ledger store's schema (table
 * `ledger_queue`). Enqueueing is one autocommit statement (insert and NOTIFY); waiters learn of
 * sequenced entries from NOTIFY on one dedicated listening connection per process (re-opened when
 * lost) and by polling. The sequencer's session is another dedicated connection (see
 * `PgSequencerSession`).
 */
export class PostgresLedgerQueue implements LedgerQueue {
  private readonly pool: PgPool;
  private readonly sql: LedgerSql;
  private readonly qsql: QueueSql;
  private readonly channels: QueueChannels;
  private readonly sessions: PgSessionFactory;
  private readonly listeners: (() => void)[] = [];
  private listener: PgSessionClient | undefined;
  private relisten: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: PostgresLedgerQueueOptions) {
    this.pool = options.pool;
    this.sql = options.sql;
    this.sessions = options.sessions;
    this.qsql = queueSql(options.schema, quoteIdent(options.schema));
    this.channels = channelsOf(options.schema);
  }

  private guard(): void {
    if (this.closed) throw new CustosError('LEDGER_UNAVAILABLE', 'the ledger queue is closed');
  }

  async enqueue(entries: readonly Uint8Array[]): Promise<number[]> {
    this.guard();
    try {
      const { rows } = await this.pool.query<{ id: string; ord: string }>(this.qsql.enqueue, [
        entries.map((e) => (Buffer.isBuffer(e) ? e : Buffer.from(e.buffer, e.byteOffset, e.byteLength))),
        this.channels.enqueued,
      ]);
      const ids = new Array<number>(entries.length);
      for (const r of rows) ids[Number(r.ord) - 1] = Number(r.id);
      if (rows.length !== entries.length || ids.some((id) => id === undefined)) {
        throw new CustosError('LEDGER_UNAVAILABLE', 'ledger queue did not return every entry id');
      }
      return ids;
    } catch (err) {
      throw toLedgerError(err, 'queue entries');
    }
  }

  async lookup(ids: readonly number[]): Promise<SequencedEntry[]> {
    this.guard();
    const out: SequencedEntry[] = [];
    try {
      for (let i = 0; i < ids.length; i += LOOKUP_CHUNK) {
        const { rows } = await this.pool.query<{ id: string; seq_index: string }>(this.qsql.lookup, [
          ids.slice(i, i + LOOKUP_CHUNK),
        ]);
        for (const r of rows) out.push({ id: Number(r.id), index: Number(r.seq_index) });
      }
    } catch (err) {
      throw toLedgerError(err, 'read its queue');
    }
    return out;
  }

  onSequenced(listener: () => void): void {
    this.listeners.push(listener);
    if (this.listener === undefined && this.relisten === undefined) void this.listen();
  }

  private async listen(): Promise<void> {
    this.relisten = undefined;
    if (this.closed) return;
    let client: PgSessionClient | undefined;
    try {
      client = await this.sessions('listener');
      const held = client;
      const lost = (): void => {
        if (this.listener !== held) return;
        this.listener = undefined;
        this.scheduleListen();
      };
      held.on('end', lost);
      held.on('error', lost);
      held.on('notification', (m) => {
        if (m.channel === this.channels.sequenced) for (const l of this.listeners) l();
      });
      await held.query(`LISTEN "${this.channels.sequenced}"`);
      if (this.closed) {
        await held.end().catch(() => {});
        return;
      }
      this.listener = held;
      // Entries sequenced while nobody listened: let the waiters look.
      for (const l of this.listeners) l();
    } catch {
      await client?.end().catch(() => {});
      this.scheduleListen();
    }
  }

  private scheduleListen(): void {
    if (this.closed || this.relisten !== undefined) return;
    this.relisten = setTimeout(() => void this.listen(), RELISTEN_MS);
    this.relisten.unref();
  }

  async tryAcquire(): Promise<SequencerSession | undefined> {
    this.guard();
    let client: PgSessionClient;
    try {
      client = await this.sessions('sequencer');
    } catch (err) {
      throw toLedgerError(err, 'connect its sequencer');
    }
    return PgSequencerSession.acquire(client, this.sql, this.qsql, this.channels);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.relisten !== undefined) clearTimeout(this.relisten);
    const l = this.listener;
    this.listener = undefined;
    await l?.end().catch(() => {});
  }
}
