import type { ProposalState } from '../../ports/access-store.js';
import type {
  EgressStore,
  MeterRequest,
  MeterResult,
  StoredFlow,
  StoredFlowProposal,
  VolumeTotal,
} from '../../ports/egress-store.js';
import { FLOW_PROPOSALS } from '../proposal-rows.js';
import { guardPg } from './pg-errors.js';
import { migratePostgres, type PgMigration, type PgMigrationReport, quoteIdent } from './pg-migrate.js';
import { PgProposalTable } from './pg-proposal-table.js';
import { withTransaction } from './pg-transaction.js';
import type { PgPool } from './pg-types.js';
import type { PostgresStoreOptions } from './postgres-record-store.js';

const MIGRATIONS: readonly PgMigration[] = [
  (s) => `CREATE TABLE ${s}.egress_persons (
     counterparty text COLLATE "C" NOT NULL, data_type text COLLATE "C" NOT NULL,
     subject_ref text COLLATE "C" NOT NULL, last_at bigint NOT NULL,
     PRIMARY KEY (counterparty, data_type, subject_ref)
   );
   CREATE INDEX egress_persons_by_time ON ${s}.egress_persons (counterparty, data_type, last_at);
   CREATE TABLE ${s}.egress_flow_proposals (
     id text COLLATE "C" PRIMARY KEY, state text NOT NULL, created_at bigint NOT NULL,
     decided_at bigint, decided_by text, doc text NOT NULL
   );
   CREATE TABLE ${s}.egress_flows (
     flow_id text COLLATE "C" PRIMARY KEY, version text NOT NULL, doc text NOT NULL
   );`,
];

const NAME = 'egress';

/**
 * The PostgreSQL adapter of the `EgressStore` port, in the custody schema. Metering takes a
 * transaction-scoped advisory lock per counterparty, so concurrent exports by several gateway
 * instances cannot both slip under a limit.
 */
export class PostgresEgressStore implements EgressStore {
  /** What the start-up migration did. */
  readonly migration: PgMigrationReport;
  private readonly pool: PgPool;
  private readonly s: string;
  private readonly schema: string;
  private readonly release: (() => Promise<void>) | undefined;
  private readonly proposals: PgProposalTable<StoredFlowProposal>;
  private closed = false;

  private constructor(options: PostgresStoreOptions, migration: PgMigrationReport) {
    this.pool = options.pool;
    this.release = options.release;
    this.migration = migration;
    this.schema = options.schema;
    this.s = quoteIdent(options.schema);
    this.proposals = new PgProposalTable(this.pool, NAME, this.s, FLOW_PROPOSALS);
  }

  /** Migrates the egress tables to the newest version, then returns the store. */
  static async open(options: PostgresStoreOptions): Promise<PostgresEgressStore> {
    const migration = await guardPg(NAME, () =>
      migratePostgres(options.pool, options.schema, 'egress', MIGRATIONS),
    );
    return new PostgresEgressStore(options, migration);
  }

  private async q<R>(text: string, values: unknown[] = []): Promise<{ rows: R[]; rowCount: number }> {
    const r = await guardPg(NAME, () => this.pool.query<R>(text, values));
    return { rows: r.rows, rowCount: r.rowCount ?? 0 };
  }

  meter(req: MeterRequest): Promise<MeterResult> {
    return guardPg(NAME, () =>
      withTransaction(this.pool, async (tx): Promise<MeterResult> => {
        await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
          `custos:egress:${this.schema}:${req.counterparty}`,
        ]);
        const totals: Record<string, number> = {};
        for (const b of req.batches) {
          const refs = [...new Set(b.refs)];
          const { rows } = await tx.query<{ before: string; fresh: string }>(
            `SELECT
               (SELECT COUNT(*) FROM ${this.s}.egress_persons
                 WHERE counterparty = $1 AND data_type = $2 AND last_at >= $3) AS before,
               (SELECT COUNT(*) FROM unnest($4::text[]) AS r(ref)
                 WHERE NOT EXISTS (SELECT 1 FROM ${this.s}.egress_persons p WHERE p.counterparty = $1
                   AND p.data_type = $2 AND p.subject_ref = r.ref AND p.last_at >= $3)) AS fresh`,
            [req.counterparty, b.dataType, req.since, refs],
          );
          const total = Number(rows[0]?.before ?? 0) + Number(rows[0]?.fresh ?? 0);
          const limit = req.limits[b.dataType] ?? 0;
          if (total > limit) return { ok: false, dataType: b.dataType, total, limit };
          totals[b.dataType] = total;
        }
        for (const b of req.batches) {
          await tx.query(
            `INSERT INTO ${this.s}.egress_persons (counterparty, data_type, subject_ref, last_at)
             SELECT $1, $2, ref, $4 FROM unnest($3::text[]) AS r(ref)
             ON CONFLICT (counterparty, data_type, subject_ref) DO UPDATE SET last_at = excluded.last_at`,
            [req.counterparty, b.dataType, [...new Set(b.refs)], req.at],
          );
        }
        return { ok: true, totals };
      }),
    );
  }

  async totals(since: number): Promise<VolumeTotal[]> {
    const { rows } = await this.q<{ counterparty: string; data_type: string; persons: string }>(
      `SELECT counterparty, data_type, COUNT(*) AS persons FROM ${this.s}.egress_persons WHERE last_at >= $1
       GROUP BY counterparty, data_type ORDER BY counterparty, data_type`,
      [since],
    );
    return rows.map((r) => ({
      counterparty: r.counterparty,
      dataType: r.data_type,
      persons: Number(r.persons),
    }));
  }

  async createFlowProposal(p: StoredFlowProposal): Promise<void> {
    await this.proposals.create(p);
  }

  async getFlowProposal(id: string): Promise<StoredFlowProposal | undefined> {
    return this.proposals.get(id);
  }

  async listFlowProposals(state: ProposalState | undefined, limit: number): Promise<StoredFlowProposal[]> {
    return this.proposals.list(state, limit);
  }

  async setFlowProposalState(...args: Parameters<EgressStore['setFlowProposalState']>): Promise<boolean> {
    return this.proposals.setState(...args);
  }

  activateFlow(flow: StoredFlow, baseVersion: string | undefined): Promise<boolean> {
    return guardPg(NAME, () =>
      withTransaction(this.pool, async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
          `custos:flow:${this.schema}:${flow.flowId}`,
        ]);
        const cur = await tx.query<{ version: string }>(
          `SELECT version FROM ${this.s}.egress_flows WHERE flow_id = $1`,
          [flow.flowId],
        );
        if (cur.rows[0]?.version !== baseVersion) return false;
        if (!(await this.proposals.activate(tx, flow.proposalId, flow.activatedAt, flow.activatedBy))) {
          return false;
        }
        await tx.query(
          `INSERT INTO ${this.s}.egress_flows (flow_id, version, doc) VALUES ($1, $2, $3)
           ON CONFLICT (flow_id) DO UPDATE SET version = excluded.version, doc = excluded.doc`,
          [flow.flowId, flow.version, JSON.stringify(flow)],
        );
        return true;
      }),
    );
  }

  async activeFlows(): Promise<StoredFlow[]> {
    const { rows } = await this.q<{ doc: string }>(`SELECT doc FROM ${this.s}.egress_flows ORDER BY flow_id`);
    return rows.map((r) => JSON.parse(r.doc) as StoredFlow);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.release?.();
  }
}
