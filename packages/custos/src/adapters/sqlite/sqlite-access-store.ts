import type {
  AccessStore,
  GrantMark,
  ProposalState,
  RequestQuery,
  RequestVoteResult,
  StoredGrant,
  StoredPolicySet,
  StoredProposal,
  StoredRequest,
  StoredVote,
} from '../../ports/access-store.js';
import {
  decideApproval,
  fromGrantRow,
  fromRequestRow,
  type GrantRow,
  grantDoc,
  type RequestRow,
  requestDoc,
} from '../access-store-rows.js';
import { POLICY_PROPOSALS } from '../proposal-rows.js';
import { migrateSqlite, openSqlite, type SqliteDatabase } from './sqlite-database.js';
import { SqliteProposalTable } from './sqlite-proposal-table.js';
import { type SqliteStatement, statementCache } from './sqlite-statements.js';

const MIGRATIONS = [
  `CREATE TABLE access_requests (
     id TEXT PRIMARY KEY, requester TEXT NOT NULL, state TEXT NOT NULL, created_at INTEGER NOT NULL,
     decided_at INTEGER, decided_by TEXT, decision_note TEXT, doc TEXT NOT NULL
   );
   CREATE INDEX access_requests_by_time ON access_requests (created_at DESC, id DESC);
   CREATE INDEX access_requests_by_state ON access_requests (state, created_at);
   CREATE TABLE access_votes (
     target TEXT NOT NULL, voter TEXT NOT NULL, at INTEGER NOT NULL, doc TEXT NOT NULL,
     PRIMARY KEY (target, voter)
   ) WITHOUT ROWID;
   CREATE TABLE access_grants (
     id TEXT PRIMARY KEY, request_id TEXT NOT NULL UNIQUE, grantee TEXT NOT NULL,
     break_glass INTEGER NOT NULL, issued_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
     revoked_at INTEGER, revoked_by TEXT, revoke_reason TEXT, expiry_recorded_at INTEGER,
     review_due_at INTEGER, reviewed_at INTEGER, escalated_at INTEGER, doc TEXT NOT NULL
   );
   CREATE INDEX access_grants_by_grantee ON access_grants (grantee, expires_at);
   CREATE TABLE policy_proposals (
     id TEXT PRIMARY KEY, state TEXT NOT NULL, created_at INTEGER NOT NULL,
     decided_at INTEGER, decided_by TEXT, doc TEXT NOT NULL
   );
   CREATE TABLE policy_sets (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, version TEXT NOT NULL, proposal_id TEXT NOT NULL,
     activated_at INTEGER NOT NULL, activated_by TEXT NOT NULL, files TEXT NOT NULL
   );`,
  // The compare-and-set token of approveRequest.
  'ALTER TABLE access_requests ADD COLUMN version INTEGER NOT NULL DEFAULT 0;',
];

const MARK_COLUMN: Record<GrantMark, string> = {
  expiryRecordedAt: 'expiry_recorded_at',
  reviewedAt: 'reviewed_at',
  escalatedAt: 'escalated_at',
};

/** The SQLite adapter of the `AccessStore` port: tables beside the subjects in the custody database. */
export class SqliteAccessStore implements AccessStore {
  private readonly db: SqliteDatabase;

  /** Prepared statements, compiled once (the grant lookup runs on every gateway request). */
  private readonly stmt: (sql: string) => SqliteStatement;

  private readonly proposals: SqliteProposalTable<StoredProposal>;

  constructor(path: string) {
    this.db = openSqlite(path, { synchronous: 'FULL' });
    migrateSqlite(this.db, 'access', MIGRATIONS);
    this.stmt = statementCache(this.db);
    this.proposals = new SqliteProposalTable(this.stmt, POLICY_PROPOSALS);
  }

  async createRequest(r: StoredRequest): Promise<void> {
    this.stmt(
      `INSERT INTO access_requests (id, requester, state, created_at, decided_at, decided_by, decision_note, doc)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      r.id,
      r.requester.id,
      r.state,
      r.createdAt,
      r.decidedAt ?? null,
      r.decidedBy ?? null,
      r.decisionNote ?? null,
      requestDoc(r),
    );
  }

  async getRequest(id: string): Promise<StoredRequest | undefined> {
    const row = this.stmt('SELECT * FROM access_requests WHERE id = ?').get(id) as RequestRow | undefined;
    return row ? fromRequestRow(row) : undefined;
  }

  async listRequests(q: RequestQuery): Promise<StoredRequest[]> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const add = (clause: string, value: string | number | undefined): void => {
      if (value === undefined) return;
      where.push(clause);
      args.push(value);
    };
    add('state = ?', q.state);
    add('requester = ?', q.requester);
    add('created_at < ?', q.createdBefore);
    const sql = `SELECT * FROM access_requests ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at DESC, id DESC LIMIT ?`;
    return (this.stmt(sql).all(...args, q.limit) as RequestRow[]).map(fromRequestRow);
  }

  async closeRequest(
    id: string,
    state: 'denied' | 'expired',
    at: number,
    by: string | undefined,
    note: string | undefined,
  ): Promise<boolean> {
    const r = this.stmt(
      `UPDATE access_requests SET state = ?, decided_at = ?, decided_by = ?, decision_note = ?
         WHERE id = ? AND state = 'pending'`,
    ).run(state, at, by ?? null, note ?? null, id);
    return r.changes > 0;
  }

  async approveRequest(v: StoredVote): Promise<RequestVoteResult> {
    // IMMEDIATE takes the write lock before reading, so another process cannot vote in between;
    // the version compare-and-set states the invariant the PostgreSQL adapter relies on.
    const approve = this.db.transaction((): RequestVoteResult => {
      const row = this.stmt('SELECT * FROM access_requests WHERE id = ?').get(v.target) as
        | RequestRow
        | undefined;
      const docs = this.stmt('SELECT doc FROM access_votes WHERE target = ?').all(v.target) as {
        doc: string;
      }[];
      const result = decideApproval(
        row,
        docs.map((d) => d.doc),
        v,
      );
      if (result.outcome !== 'counted' || !row) return result;
      const bumped = this.stmt(
        `UPDATE access_requests SET version = version + 1 WHERE id = ? AND state = 'pending' AND version = ?`,
      ).run(v.target, row.version);
      if (bumped.changes === 0) return { outcome: 'not-pending' };
      return this.insertVote(v) ? result : { outcome: 'duplicate' };
    });
    return approve.immediate();
  }

  private insertVote(v: StoredVote): boolean {
    const r = this.stmt(
      'INSERT INTO access_votes (target, voter, at, doc) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ).run(v.target, v.voter.id, v.at, JSON.stringify(v));
    return r.changes > 0;
  }

  async addVote(v: StoredVote): Promise<boolean> {
    return this.insertVote(v);
  }

  async removeVote(target: string, voterId: string): Promise<void> {
    this.stmt('DELETE FROM access_votes WHERE target = ? AND voter = ?').run(target, voterId);
  }

  async votes(target: string): Promise<StoredVote[]> {
    const rows = this.stmt('SELECT doc FROM access_votes WHERE target = ? ORDER BY at, voter').all(
      target,
    ) as { doc: string }[];
    return rows.map((r) => JSON.parse(r.doc) as StoredVote);
  }

  async issueGrant(g: StoredGrant): Promise<boolean> {
    return this.db.transaction(() => {
      const moved = this.stmt(
        `UPDATE access_requests SET state = 'approved', decided_at = ? WHERE id = ? AND state = 'pending'`,
      ).run(g.issuedAt, g.requestId);
      if (moved.changes === 0) return false;
      this.stmt(
        `INSERT INTO access_grants (id, request_id, grantee, break_glass, issued_at, expires_at,
             revoked_at, revoked_by, revoke_reason, expiry_recorded_at, review_due_at, reviewed_at, escalated_at, doc)
           VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL, ?, NULL, NULL, ?)`,
      ).run(
        g.id,
        g.requestId,
        g.grantee.id,
        g.breakGlass ? 1 : 0,
        g.issuedAt,
        g.expiresAt,
        g.reviewDueAt ?? null,
        grantDoc(g),
      );
      return true;
    })();
  }

  private grantWhere(where: string, ...args: (string | number)[]): StoredGrant[] {
    const rows = this.stmt(`SELECT * FROM access_grants WHERE ${where}`).all(...args) as GrantRow[];
    return rows.map(fromGrantRow);
  }

  async getGrant(id: string): Promise<StoredGrant | undefined> {
    return this.grantWhere('id = ?', id)[0];
  }

  async grantForRequest(requestId: string): Promise<StoredGrant | undefined> {
    return this.grantWhere('request_id = ?', requestId)[0];
  }

  async activeGrants(granteeId: string, now: number): Promise<StoredGrant[]> {
    return this.grantWhere(
      'grantee = ? AND expires_at > ? AND issued_at <= ? AND revoked_at IS NULL ORDER BY issued_at, id',
      granteeId,
      now,
      now,
    );
  }

  async revokeGrant(id: string, at: number, by: string, reason: string): Promise<boolean> {
    const r = this.stmt(
      'UPDATE access_grants SET revoked_at = ?, revoked_by = ?, revoke_reason = ? WHERE id = ? AND revoked_at IS NULL',
    ).run(at, by, reason, id);
    return r.changes > 0;
  }

  async markGrant(id: string, mark: GrantMark, at: number): Promise<boolean> {
    const col = MARK_COLUMN[mark];
    const r = this.stmt(`UPDATE access_grants SET ${col} = ? WHERE id = ? AND ${col} IS NULL`).run(at, id);
    return r.changes > 0;
  }

  async grantsDue(now: number): Promise<StoredGrant[]> {
    return this.grantWhere(
      `(revoked_at IS NULL AND expires_at <= ? AND expiry_recorded_at IS NULL)
       OR (break_glass = 1 AND reviewed_at IS NULL AND escalated_at IS NULL AND review_due_at <= ?)
       ORDER BY issued_at, id`,
      now,
      now,
    );
  }

  async createProposal(p: StoredProposal): Promise<void> {
    this.proposals.create(p);
  }

  async getProposal(id: string): Promise<StoredProposal | undefined> {
    return this.proposals.get(id);
  }

  async listProposals(state: ProposalState | undefined, limit: number): Promise<StoredProposal[]> {
    return this.proposals.list(state, limit);
  }

  async setProposalState(...args: Parameters<AccessStore['setProposalState']>): Promise<boolean> {
    return this.proposals.setState(...args);
  }

  async activatePolicySet(set: StoredPolicySet): Promise<boolean> {
    return this.db.transaction(() => {
      if (!this.proposals.activate(set.proposalId, set.activatedAt, set.activatedBy)) return false;
      this.proposals.supersedeOthers(set.proposalId, set.activatedAt, set.activatedBy);
      this.stmt(
        'INSERT INTO policy_sets (version, proposal_id, activated_at, activated_by, files) VALUES (?, ?, ?, ?, ?)',
      ).run(set.version, set.proposalId, set.activatedAt, set.activatedBy, JSON.stringify(set.files));
      return true;
    })();
  }

  async activePolicySet(): Promise<StoredPolicySet | undefined> {
    const row = this.stmt('SELECT * FROM policy_sets ORDER BY seq DESC LIMIT 1').get() as
      | { version: string; proposal_id: string; activated_at: number; activated_by: string; files: string }
      | undefined;
    if (!row) return undefined;
    return {
      version: row.version,
      proposalId: row.proposal_id,
      activatedAt: Number(row.activated_at),
      activatedBy: row.activated_by,
      files: JSON.parse(row.files) as StoredPolicySet['files'],
    };
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
