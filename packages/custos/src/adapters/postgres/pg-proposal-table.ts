import type { ProposalHeader, ProposalState, ProposalStorage } from '../../ports/access-store.js';
import {
  fromProposalRow,
  type ProposalRow,
  type ProposalTableSpec,
  proposalInsertValues,
} from '../proposal-rows.js';
import { guardPg } from './pg-errors.js';
import type { PgQueryable } from './pg-types.js';

/**
 * One proposal table in PostgreSQL (`policy_proposals` of the access store, `egress_flow_proposals`
 * of the egress store). State changes are single conditional UPDATEs; `activate` and
 * `supersedeOthers` run on the caller's transaction.
 */
export class PgProposalTable<P extends ProposalHeader> implements ProposalStorage<P> {
  private readonly pool: PgQueryable;
  private readonly store: string;
  private readonly spec: ProposalTableSpec<P>;
  /** The schema-qualified table. */
  private readonly t: string;

  /** `store` names the store in errors; `schema` is already quoted. */
  constructor(pool: PgQueryable, store: string, schema: string, spec: ProposalTableSpec<P>) {
    this.pool = pool;
    this.store = store;
    this.spec = spec;
    this.t = `${schema}.${spec.table}`;
  }

  private async q(text: string, values: unknown[]): Promise<{ rows: ProposalRow[]; rowCount: number }> {
    const r = await guardPg(this.store, () => this.pool.query<ProposalRow>(text, values));
    return { rows: r.rows, rowCount: r.rowCount ?? 0 };
  }

  /** Inserts a new proposal. */
  async create(p: P): Promise<void> {
    await this.q(
      `INSERT INTO ${this.t} (id, state, created_at, decided_at, decided_by, doc) VALUES ($1, $2, $3, $4, $5, $6)`,
      proposalInsertValues(this.spec, p),
    );
  }

  /** One proposal, if it exists. */
  async get(id: string): Promise<P | undefined> {
    const { rows } = await this.q(`SELECT * FROM ${this.t} WHERE id = $1`, [id]);
    return rows[0] ? fromProposalRow<P>(rows[0]) : undefined;
  }

  /** Proposals (of one state, or all), newest first. */
  async list(state: ProposalState | undefined, limit: number): Promise<P[]> {
    const { rows } =
      state === undefined
        ? await this.q(`SELECT * FROM ${this.t} ORDER BY created_at DESC, id DESC LIMIT $1`, [limit])
        : await this.q(
            `SELECT * FROM ${this.t} WHERE state = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
            [state, limit],
          );
    return rows.map((r) => fromProposalRow<P>(r));
  }

  /** Moves a proposal from one of `from` to `to`; false when it was in none of them. */
  async setState(
    id: string,
    from: readonly ProposalState[],
    to: ProposalState,
    at: number,
    by: string,
  ): Promise<boolean> {
    const r = await this.q(
      `UPDATE ${this.t} SET state = $1, decided_at = $2, decided_by = $3
       WHERE id = $4 AND state = ANY($5::text[])`,
      [to, at, by, id, [...from]],
    );
    return r.rowCount > 0;
  }

  /** Moves an approved proposal to `active` on the transaction `tx`; false when it was not approved. */
  async activate(tx: PgQueryable, id: string, at: number, by: string): Promise<boolean> {
    const moved = await tx.query(
      `UPDATE ${this.t} SET state = 'active', decided_at = $1, decided_by = $2
       WHERE id = $3 AND state = 'approved'`,
      [at, by, id],
    );
    return (moved.rowCount ?? 0) > 0;
  }

  /** Moves every other active, approved or pending proposal to `superseded`, on the transaction `tx`. */
  async supersedeOthers(tx: PgQueryable, id: string, at: number, by: string): Promise<void> {
    await tx.query(
      `UPDATE ${this.t} SET state = 'superseded', decided_at = $1, decided_by = $2
       WHERE state IN ('active', 'approved', 'pending') AND id <> $3`,
      [at, by, id],
    );
  }
}
