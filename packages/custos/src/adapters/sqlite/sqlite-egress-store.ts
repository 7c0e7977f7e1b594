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
import { migrateSqlite, openSqlite, type SqliteDatabase } from './sqlite-database.js';
import { SqliteProposalTable } from './sqlite-proposal-table.js';
import { statementCache } from './sqlite-statements.js';

const MIGRATIONS = [
  `CREATE TABLE egress_persons (
     counterparty TEXT NOT NULL, data_type TEXT NOT NULL, subject_ref TEXT NOT NULL, last_at INTEGER NOT NULL,
     PRIMARY KEY (counterparty, data_type, subject_ref)
   ) WITHOUT ROWID;
   CREATE INDEX egress_persons_by_time ON egress_persons (counterparty, data_type, last_at);
   CREATE TABLE egress_flow_proposals (
     id TEXT PRIMARY KEY, state TEXT NOT NULL, created_at INTEGER NOT NULL,
     decided_at INTEGER, decided_by TEXT, doc TEXT NOT NULL
   );
   CREATE TABLE egress_flows (
     flow_id TEXT PRIMARY KEY, version TEXT NOT NULL, doc TEXT NOT NULL
   );`,
];

/** The SQLite adapter of the `EgressStore` port, in the custody database. */
export class SqliteEgressStore implements EgressStore {
  private readonly db: SqliteDatabase;

  private readonly proposals: SqliteProposalTable<StoredFlowProposal>;

  constructor(path: string) {
    this.db = openSqlite(path, { synchronous: 'FULL' });
    migrateSqlite(this.db, 'egress', MIGRATIONS);
    this.proposals = new SqliteProposalTable(statementCache(this.db), FLOW_PROPOSALS);
  }

  async meter(req: MeterRequest): Promise<MeterResult> {
    const count = this.db.prepare(
      'SELECT COUNT(*) AS n FROM egress_persons WHERE counterparty = ? AND data_type = ? AND last_at >= ?',
    );
    const seen = this.db.prepare(
      'SELECT 1 FROM egress_persons WHERE counterparty = ? AND data_type = ? AND subject_ref = ? AND last_at >= ?',
    );
    const upsert = this.db.prepare(
      `INSERT INTO egress_persons (counterparty, data_type, subject_ref, last_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (counterparty, data_type, subject_ref) DO UPDATE SET last_at = excluded.last_at`,
    );
    const run = this.db.transaction((): MeterResult => {
      const totals: Record<string, number> = {};
      for (const b of req.batches) {
        const refs = [...new Set(b.refs)];
        const before = (count.get(req.counterparty, b.dataType, req.since) as { n: number }).n;
        let fresh = 0;
        for (const r of refs) if (seen.get(req.counterparty, b.dataType, r, req.since) === undefined) fresh++;
        const limit = req.limits[b.dataType] ?? 0;
        if (before + fresh > limit) return { ok: false, dataType: b.dataType, total: before + fresh, limit };
        totals[b.dataType] = before + fresh;
      }
      for (const b of req.batches)
        for (const r of new Set(b.refs)) upsert.run(req.counterparty, b.dataType, r, req.at);
      return { ok: true, totals };
    });
    return run.immediate();
  }

  async totals(since: number): Promise<VolumeTotal[]> {
    const rows = this.db
      .prepare(
        `SELECT counterparty, data_type, COUNT(*) AS persons FROM egress_persons WHERE last_at >= ?
         GROUP BY counterparty, data_type ORDER BY counterparty, data_type`,
      )
      .all(since) as { counterparty: string; data_type: string; persons: number }[];
    return rows.map((r) => ({ counterparty: r.counterparty, dataType: r.data_type, persons: r.persons }));
  }

  async createFlowProposal(p: StoredFlowProposal): Promise<void> {
    this.proposals.create(p);
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

  async activateFlow(flow: StoredFlow, baseVersion: string | undefined): Promise<boolean> {
    const run = this.db.transaction((): boolean => {
      const cur = this.db.prepare('SELECT version FROM egress_flows WHERE flow_id = ?').get(flow.flowId) as
        | { version: string }
        | undefined;
      if (cur?.version !== baseVersion) return false;
      if (!this.proposals.activate(flow.proposalId, flow.activatedAt, flow.activatedBy)) return false;
      this.db
        .prepare(
          `INSERT INTO egress_flows (flow_id, version, doc) VALUES (?, ?, ?)
           ON CONFLICT (flow_id) DO UPDATE SET version = excluded.version, doc = excluded.doc`,
        )
        .run(flow.flowId, flow.version, JSON.stringify(flow));
      return true;
    });
    return run.immediate();
  }

  async activeFlows(): Promise<StoredFlow[]> {
    const rows = this.db.prepare('SELECT doc FROM egress_flows ORDER BY flow_id').all() as { doc: string }[];
    return rows.map((r) => JSON.parse(r.doc) as StoredFlow);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
