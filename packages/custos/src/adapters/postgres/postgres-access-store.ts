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
import { guardPg } from './pg-errors.js';
import { migratePostgres, type PgMigration, type PgMigrationReport, quoteIdent } from './pg-migrate.js';
import { PgProposalTable } from './pg-proposal-table.js';
import { withTransaction } from './pg-transaction.js';
import type { PgPool, PgQueryable } from './pg-types.js';
import type { PostgresStoreOptions } from './postgres-record-store.js';

const MIGRATIONS: readonly PgMigration[] = [
  (s) => `CREATE TABLE ${s}.access_requests (
     id text COLLATE "C" PRIMARY KEY, requester text NOT NULL, state text NOT NULL, created_at bigint NOT NULL,
     decided_at bigint, decided_by text, decision_note text, doc text NOT NULL
   );
   CREATE INDEX access_requests_by_time ON ${s}.access_requests (created_at DESC, id DESC);
   CREATE INDEX access_requests_by_state ON ${s}.access_requests (state, created_at);
   CREATE TABLE ${s}.access_votes (
     target text COLLATE "C" NOT NULL, voter text COLLATE "C" NOT NULL, at bigint NOT NULL, doc text NOT NULL,
     PRIMARY KEY (target, voter)
   );
   CREATE TABLE ${s}.access_grants (
     id text COLLATE "C" PRIMARY KEY, request_id text NOT NULL UNIQUE, grantee text NOT NULL,
     break_glass boolean NOT NULL, issued_at bigint NOT NULL, expires_at bigint NOT NULL,
     revoked_at bigint, revoked_by text, revoke_reason text, expiry_recorded_at bigint,
     review_due_at bigint, reviewed_at bigint, escalated_at bigint, doc text NOT NULL
   );
   CREATE INDEX access_grants_by_grantee ON ${s}.access_grants (grantee, expires_at);
   CREATE TABLE ${s}.policy_proposals (
     id text COLLATE "C" PRIMARY KEY, state text NOT NULL, created_at bigint NOT NULL,
     decided_at bigint, decided_by text, doc text NOT NULL
   );
   CREATE TABLE ${s}.policy_sets (
     seq bigserial PRIMARY KEY, version text NOT NULL, proposal_id text NOT NULL,
     activated_at bigint NOT NULL, activated_by text NOT NULL, files text NOT NULL
   );`,
  // The compare-and-set token of approveRequest.
  (s) => `ALTER TABLE ${s}.access_requests ADD COLUMN version bigint NOT NULL DEFAULT 0;`,
];

const NAME = 'access';

const MARK_COLUMN: Record<GrantMark, string> = {
  expiryRecordedAt: 'expiry_recorded_at',
  reviewedAt: 'reviewed_at',
  escalatedAt: 'escalated_at',
};

/**
 * The PostgreSQL adapter of the `AccessStore` port, in the custody schema. State changes are
 * single conditional UPDATEs (or one transaction for grant issuance and activation), so several
 * gateway instances can share it.
 */
export class PostgresAccessStore implements AccessStore {
  /** What the start-up migration did. */
  readonly migration: PgMigrationReport;
  private readonly pool: PgPool;
  private readonly s: string;
  private readonly release: (() => Promise<void>) | undefined;
  private readonly proposals: PgProposalTable<StoredProposal>;
  private closed = false;

  private constructor(options: PostgresStoreOptions, migration: PgMigrationReport) {
    this.pool = options.pool;
    this.release = options.release;
    this.migration = migration;
    this.s = quoteIdent(options.schema);
    this.proposals = new PgProposalTable(this.pool, NAME, this.s, POLICY_PROPOSALS);
  }

  /** Migrates the access tables to the newest version, then returns the store. */
  static async open(options: PostgresStoreOptions): Promise<PostgresAccessStore> {
    const migration = await guardPg(NAME, () =>
      migratePostgres(options.pool, options.schema, 'access', MIGRATIONS),
    );
    return new PostgresAccessStore(options, migration);
  }

  private async q<R>(text: string, values: unknown[] = []): Promise<{ rows: R[]; rowCount: number }> {
    const r = await guardPg(NAME, () => this.pool.query<R>(text, values));
    return { rows: r.rows, rowCount: r.rowCount ?? 0 };
  }

  async createRequest(r: StoredRequest): Promise<void> {
    await this.q(
      `INSERT INTO ${this.s}.access_requests (id, requester, state, created_at, decided_at, decided_by, decision_note, doc)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        r.id,
        r.requester.id,
        r.state,
        r.createdAt,
        r.decidedAt ?? null,
        r.decidedBy ?? null,
        r.decisionNote ?? null,
        requestDoc(r),
      ],
    );
  }

  async getRequest(id: string): Promise<StoredRequest | undefined> {
    const { rows } = await this.q<RequestRow>(`SELECT * FROM ${this.s}.access_requests WHERE id = $1`, [id]);
    return rows[0] ? fromRequestRow(rows[0]) : undefined;
  }

  async listRequests(q: RequestQuery): Promise<StoredRequest[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (column: string, op: string, value: string | number | undefined): void => {
      if (value === undefined) return;
      args.push(value);
      where.push(`${column} ${op} $${args.length}`);
    };
    add('state', '=', q.state);
    add('requester', '=', q.requester);
    add('created_at', '<', q.createdBefore);
    args.push(q.limit);
    const { rows } = await this.q<RequestRow>(
      `SELECT * FROM ${this.s}.access_requests ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, id DESC LIMIT $${args.length}`,
      args,
    );
    return rows.map(fromRequestRow);
  }

  async closeRequest(
    id: string,
    state: 'denied' | 'expired',
    at: number,
    by: string | undefined,
    note: string | undefined,
  ): Promise<boolean> {
    const r = await this.q(
      `UPDATE ${this.s}.access_requests SET state = $1, decided_at = $2, decided_by = $3, decision_note = $4
       WHERE id = $5 AND state = 'pending'`,
      [state, at, by ?? null, note ?? null, id],
    );
    return r.rowCount > 0;
  }

  async approveRequest(v: StoredVote): Promise<RequestVoteResult> {
    // Each retry means another approval (or a decision) committed in between, so this ends.
    for (;;) {
      const result = await guardPg(NAME, () =>
        withTransaction(this.pool, (tx) => this.tryApprove(tx, v), 'BEGIN ISOLATION LEVEL READ COMMITTED'),
      );
      if (result !== 'retry') return result;
    }
  }

  /**
   * One attempt: decide from a read, then compare-and-set the version. Under READ COMMITTED a
   * concurrent voter's UPDATE waits for this row lock and then sees the new version, so its
   * attempt returns `retry` and re-reads the votes this one committed.
   */
  private async tryApprove(tx: PgQueryable, v: StoredVote): Promise<RequestVoteResult | 'retry'> {
    const req = await tx.query<RequestRow>(`SELECT * FROM ${this.s}.access_requests WHERE id = $1`, [
      v.target,
    ]);
    const votes = await tx.query<{ doc: string }>(
      `SELECT doc FROM ${this.s}.access_votes WHERE target = $1`,
      [v.target],
    );
    const row = req.rows[0];
    const result = decideApproval(
      row,
      votes.rows.map((d) => d.doc),
      v,
    );
    if (result.outcome !== 'counted' || !row) return result;
    const bumped = await tx.query(
      `UPDATE ${this.s}.access_requests SET version = version + 1
       WHERE id = $1 AND state = 'pending' AND version = $2`,
      [v.target, row.version],
    );
    if ((bumped.rowCount ?? 0) === 0) return 'retry';
    const inserted = await tx.query(
      `INSERT INTO ${this.s}.access_votes (target, voter, at, doc) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      [v.target, v.voter.id, v.at, JSON.stringify(v)],
    );
    return (inserted.rowCount ?? 0) > 0 ? result : { outcome: 'duplicate' };
  }

  async addVote(v: StoredVote): Promise<boolean> {
    const r = await this.q(
      `INSERT INTO ${this.s}.access_votes (target, voter, at, doc) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      [v.target, v.voter.id, v.at, JSON.stringify(v)],
    );
    return r.rowCount > 0;
  }

  async removeVote(target: string, voterId: string): Promise<void> {
    await this.q(`DELETE FROM ${this.s}.access_votes WHERE target = $1 AND voter = $2`, [target, voterId]);
  }

  async votes(target: string): Promise<StoredVote[]> {
    const { rows } = await this.q<{ doc: string }>(
      `SELECT doc FROM ${this.s}.access_votes WHERE target = $1 ORDER BY at, voter`,
      [target],
    );
    return rows.map((r) => JSON.parse(r.doc) as StoredVote);
  }

  async issueGrant(g: StoredGrant): Promise<boolean> {
    return guardPg(NAME, () =>
      withTransaction(this.pool, async (tx) => {
        const moved = await tx.query(
          `UPDATE ${this.s}.access_requests SET state = 'approved', decided_at = $1 WHERE id = $2 AND state = 'pending'`,
          [g.issuedAt, g.requestId],
        );
        if ((moved.rowCount ?? 0) === 0) return false;
        await tx.query(
          `INSERT INTO ${this.s}.access_grants (id, request_id, grantee, break_glass, issued_at, expires_at, review_due_at, doc)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [
            g.id,
            g.requestId,
            g.grantee.id,
            g.breakGlass,
            g.issuedAt,
            g.expiresAt,
            g.reviewDueAt ?? null,
            grantDoc(g),
          ],
        );
        return true;
      }),
    );
  }

  private async grantsWhere(where: string, args: unknown[]): Promise<StoredGrant[]> {
    const { rows } = await this.q<GrantRow>(`SELECT * FROM ${this.s}.access_grants WHERE ${where}`, args);
    return rows.map(fromGrantRow);
  }

  async getGrant(id: string): Promise<StoredGrant | undefined> {
    return (await this.grantsWhere('id = $1', [id]))[0];
  }

  async grantForRequest(requestId: string): Promise<StoredGrant | undefined> {
    return (await this.grantsWhere('request_id = $1', [requestId]))[0];
  }

  async activeGrants(granteeId: string, now: number): Promise<StoredGrant[]> {
    return this.grantsWhere(
      'grantee = $1 AND expires_at > $2 AND issued_at <= $2 AND revoked_at IS NULL ORDER BY issued_at, id',
      [granteeId, now],
    );
  }

  async revokeGrant(id: string, at: number, by: string, reason: string): Promise<boolean> {
    const r = await this.q(
      `UPDATE ${this.s}.access_grants SET revoked_at = $1, revoked_by = $2, revoke_reason = $3
       WHERE id = $4 AND revoked_at IS NULL`,
      [at, by, reason, id],
    );
    return r.rowCount > 0;
  }

  async markGrant(id: string, mark: GrantMark, at: number): Promise<boolean> {
    const col = MARK_COLUMN[mark];
    const r = await this.q(
      `UPDATE ${this.s}.access_grants SET ${col} = $1 WHERE id = $2 AND ${col} IS NULL`,
      [at, id],
    );
    return r.rowCount > 0;
  }

  async grantsDue(now: number): Promise<StoredGrant[]> {
    return this.grantsWhere(
      `(revoked_at IS NULL AND expires_at <= $1 AND expiry_recorded_at IS NULL)
       OR (break_glass AND reviewed_at IS NULL AND escalated_at IS NULL AND review_due_at <= $1)
       ORDER BY issued_at, id`,
      [now],
    );
  }

  async createProposal(p: StoredProposal): Promise<void> {
    await this.proposals.create(p);
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
    return guardPg(NAME, () =>
      withTransaction(this.pool, async (tx) => {
        if (!(await this.proposals.activate(tx, set.proposalId, set.activatedAt, set.activatedBy)))
          return false;
        await this.proposals.supersedeOthers(tx, set.proposalId, set.activatedAt, set.activatedBy);
        await tx.query(
          `INSERT INTO ${this.s}.policy_sets (version, proposal_id, activated_at, activated_by, files)
           VALUES ($1, $2, $3, $4, $5)`,
          [set.version, set.proposalId, set.activatedAt, set.activatedBy, JSON.stringify(set.files)],
        );
        return true;
      }),
    );
  }

  async activePolicySet(): Promise<StoredPolicySet | undefined> {
    const { rows } = await this.q<{
      version: string;
      proposal_id: string;
      activated_at: string;
      activated_by: string;
      files: string;
    }>(`SELECT * FROM ${this.s}.policy_sets ORDER BY seq DESC LIMIT 1`);
    const row = rows[0];
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
    if (this.closed) return;
    this.closed = true;
    await this.release?.();
  }
}
