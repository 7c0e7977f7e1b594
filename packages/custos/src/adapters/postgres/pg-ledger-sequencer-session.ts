import { CustosError } from '../../domain/errors.js';
import type {
  QueuedEntry,
  RejectedEntry,
  SequencedEntry,
  SequencerSession,
} from '../../ports/ledger-queue.js';
import type { LedgerBatch, LedgerTreeState } from '../../ports/ledger-store.js';
import type { PgSessionClient } from './pg-ledger-session.js';
import type { LedgerSql } from './pg-ledger-sql.js';
import { commitLedgerBatch } from './pg-ledger-sql.js';
import { namedStatement } from './pg-statement.js';
import { toLedgerError, toTreeState } from './postgres-ledger-store.js';

/**
 * The server drops the session of a vanished client (host down, network cut) after
 * `tcp_keepalives_idle + count × interval` seconds of silence, or after `tcp_user_timeout` ms of
 * unacknowledged data: about 4 s. That releases the advisory lock, which bounds failover.
 */
const KEEPALIVE = [
  'SET tcp_keepalives_idle = 2',
  'SET tcp_keepalives_interval = 1',
  'SET tcp_keepalives_count = 2',
  'SET tcp_user_timeout = 4000',
];

/** Statements of the queue, for one schema. */
export function queueSql(schema: string, tables: string) {
  const q = `${tables}.ledger_queue`;
  const done = `${tables}.ledger_sequenced`;
  return {
    lock: namedStatement('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok'),
    lockName: `custos:ledger:${schema}`,
    enqueue: namedStatement(`WITH ins AS (
        INSERT INTO ${q} (ord, entry) SELECT o, e FROM unnest($1::bytea[]) WITH ORDINALITY AS t(e, o)
        RETURNING id, ord)
      SELECT ins.id, ins.ord FROM ins, (SELECT pg_notify($2, '')) AS n`),
    lookup: namedStatement(`SELECT id, seq_index FROM ${done} WHERE id = ANY($1::bigint[])`),
    pending: namedStatement(`SELECT id, entry FROM ${q} ORDER BY id LIMIT $1`),
    reject: namedStatement(`WITH m AS (SELECT * FROM unnest($1::bigint[], $2::text[]) AS u(id, reason)),
        gone AS (DELETE FROM ${q} q USING m WHERE q.id = m.id RETURNING q.id, q.entry, q.enqueued_at)
      INSERT INTO ${tables}.ledger_rejected (id, entry, reason, enqueued_at)
        SELECT gone.id, gone.entry, m.reason, gone.enqueued_at FROM gone JOIN m ON m.id = gone.id`),
    prune: namedStatement(
      `DELETE FROM ${done} WHERE sequenced_at < now() - make_interval(secs => $1::double precision / 1000)`,
    ),
  };
}

/** The queue statements' type. */
export type QueueSql = ReturnType<typeof queueSql>;

/** Channels: entries enqueued (the sequencer listens) and entries sequenced (waiters listen). */
export interface QueueChannels {
  readonly enqueued: string;
  readonly sequenced: string;
}

/**
 * A sequencer session on one dedicated connection: it holds the advisory lock and carries every
 * write, so a writer without the lock cannot exist. Any failure ends the session.
 */
export class PgSequencerSession implements SequencerSession {
  readonly lost: Promise<void>;
  private readonly client: PgSessionClient;
  private readonly sql: LedgerSql;
  private readonly qsql: QueueSql;
  private readonly channels: QueueChannels;
  private readonly listeners: (() => void)[] = [];
  private markLost: () => void = () => {};
  private ended = false;

  private constructor(client: PgSessionClient, sql: LedgerSql, qsql: QueueSql, channels: QueueChannels) {
    this.client = client;
    this.sql = sql;
    this.qsql = qsql;
    this.channels = channels;
    this.lost = new Promise((resolve) => {
      this.markLost = resolve;
    });
    client.on('end', () => this.end());
    client.on('error', () => this.end());
    client.on('notification', (m) => {
      if (m.channel === channels.enqueued) for (const l of this.listeners) l();
    });
  }

  /** Takes the lock on `client` (a fresh dedicated connection): a session, or undefined when held elsewhere. */
  static async acquire(
    client: PgSessionClient,
    sql: LedgerSql,
    qsql: QueueSql,
    channels: QueueChannels,
  ): Promise<PgSequencerSession | undefined> {
    try {
      for (const statement of KEEPALIVE) {
        // A server or proxy without one of these settings still gets a sequencer; only the bound
        // on noticing a vanished host is then the operating system's.
        await client.query(statement).catch(() => undefined);
      }
      const { rows } = await client.query<{ ok: boolean }>(qsql.lock, [qsql.lockName]);
      if (rows[0]?.ok !== true) {
        await client.end().catch(() => {});
        return undefined;
      }
      await client.query(`LISTEN "${channels.enqueued}"`);
      return new PgSequencerSession(client, sql, qsql, channels);
    } catch (err) {
      await client.end().catch(() => {});
      throw toLedgerError(err, 'take the sequencer lock');
    }
  }

  private end(): void {
    this.ended = true;
    this.markLost();
  }

  private async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.ended) throw new CustosError('LEDGER_UNAVAILABLE', 'the sequencer session has ended');
    try {
      return await fn();
    } catch (err) {
      // After any failure the connection's state is unknown: end it, and with it the lock.
      void this.release();
      throw toLedgerError(err, what);
    }
  }

  readTree(): Promise<LedgerTreeState> {
    return this.run('read its tree state', async () => {
      const { rows } = await this.client.query<{ size: string; frontier: Buffer }>(this.sql.tree);
      return toTreeState(rows[0]);
    });
  }

  pending(limit: number): Promise<QueuedEntry[]> {
    return this.run('read its queue', async () => {
      const { rows } = await this.client.query<{ id: string; entry: Buffer }>(this.qsql.pending, [limit]);
      return rows.map((r) => ({ id: Number(r.id), entry: r.entry }));
    });
  }

  onEnqueued(listener: () => void): void {
    this.listeners.push(listener);
  }

  commit(batch: LedgerBatch, sequenced: readonly SequencedEntry[]): Promise<void> {
    return this.run('commit a batch', async () => {
      await commitLedgerBatch(this.client, this.sql, batch, {
        ids: sequenced.map((q) => q.id),
        indexes: sequenced.map((q) => q.index),
        channel: this.channels.sequenced,
      });
    });
  }

  reject(rejected: readonly RejectedEntry[]): Promise<void> {
    return this.run('reject queue entries', async () => {
      await this.client.query(this.qsql.reject, [rejected.map((r) => r.id), rejected.map((r) => r.reason)]);
    });
  }

  prune(ageMs: number): Promise<number> {
    return this.run(
      'prune its queue',
      async () => (await this.client.query(this.qsql.prune, [ageMs])).rowCount ?? 0,
    );
  }

  async release(): Promise<void> {
    if (this.ended) return;
    this.end();
    // Closing the connection releases the session lock and rolls back an open transaction.
    await this.client.end().catch(() => {});
  }
}
