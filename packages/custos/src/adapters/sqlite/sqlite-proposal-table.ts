import type { ProposalHeader, ProposalState } from '../../ports/access-store.js';
import {
  fromProposalRow,
  type ProposalRow,
  type ProposalTableSpec,
  proposalInsertValues,
} from '../proposal-rows.js';
import type { SqliteStatement } from './sqlite-statements.js';

/**
 * One proposal table in SQLite (`policy_proposals` of the access store, `egress_flow_proposals`
 * of the egress store). Calls are synchronous, so a store can run `activate` and
 * `supersedeOthers` inside its own transaction.
 */
export class SqliteProposalTable<P extends ProposalHeader> {
  private readonly stmt: (sql: string) => SqliteStatement;
  private readonly spec: ProposalTableSpec<P>;

  /** `stmt` prepares (and may cache) a statement on the store's database. */
  constructor(stmt: (sql: string) => SqliteStatement, spec: ProposalTableSpec<P>) {
    this.stmt = stmt;
    this.spec = spec;
  }

  /** Inserts a new proposal. */
  create(p: P): void {
    this.stmt(
      `INSERT INTO ${this.spec.table} (id, state, created_at, decided_at, decided_by, doc) VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(...proposalInsertValues(this.spec, p));
  }

  /** One proposal, if it exists. */
  get(id: string): P | undefined {
    const row = this.stmt(`SELECT * FROM ${this.spec.table} WHERE id = ?`).get(id) as ProposalRow | undefined;
    return row ? fromProposalRow<P>(row) : undefined;
  }

  /** Proposals (of one state, or all), newest first. */
  list(state: ProposalState | undefined, limit: number): P[] {
    const t = this.spec.table;
    const rows = (
      state === undefined
        ? this.stmt(`SELECT * FROM ${t} ORDER BY created_at DESC, id DESC LIMIT ?`).all(limit)
        : this.stmt(`SELECT * FROM ${t} WHERE state = ? ORDER BY created_at DESC, id DESC LIMIT ?`).all(
            state,
            limit,
          )
    ) as ProposalRow[];
    return rows.map((r) => fromProposalRow<P>(r));
  }

  /** Moves a proposal from one of `from` to `to`; false when it was in none of them. */
  setState(id: string, from: readonly ProposalState[], to: ProposalState, at: number, by: string): boolean {
    // `state IN ()` matches nothing in SQLite anyway; skip the statement.
    if (from.length === 0) return false;
    const r = this.stmt(
      `UPDATE ${this.spec.table} SET state = ?, decided_at = ?, decided_by = ?
         WHERE id = ? AND state IN (${from.map(() => '?').join(', ')})`,
    ).run(to, at, by, id, ...from);
    return r.changes > 0;
  }

  /** Moves an approved proposal to `active`; false when it was not approved. Run in a transaction. */
  activate(id: string, at: number, by: string): boolean {
    const r = this.stmt(
      `UPDATE ${this.spec.table} SET state = 'active', decided_at = ?, decided_by = ? WHERE id = ? AND state = 'approved'`,
    ).run(at, by, id);
    return r.changes > 0;
  }

  /** Moves every other active, approved or pending proposal to `superseded`. Run in a transaction. */
  supersedeOthers(id: string, at: number, by: string): void {
    this.stmt(
      `UPDATE ${this.spec.table} SET state = 'superseded', decided_at = ?, decided_by = ?
         WHERE state IN ('active', 'approved', 'pending') AND id <> ?`,
    ).run(at, by, id);
  }
}
