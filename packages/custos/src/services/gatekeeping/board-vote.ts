import { CustosError } from '../../domain/errors.js';
import type { Principal } from '../../domain/principal.js';
import type { AccessStore, StoredVote } from '../../ports/access-store.js';
import type { Clock } from '../../ports/clock.js';
import { text } from './gatekeeping-context.js';
import { type EntryDetails, entry, type GatekeepingLedger } from './gatekeeping-entries.js';
import { type Governance, refOf } from './governance.js';

/** What a board vote needs: votes live in the access store, beside every other vote. */
export interface BoardVoteDeps {
  readonly store: Pick<AccessStore, 'addVote' | 'removeVote' | 'votes'>;
  readonly ledger: GatekeepingLedger;
  readonly clock: Clock;
  readonly governance: Governance;
}

/** The proposal being voted on (a policy set or a flow). */
export interface BoardTarget {
  readonly id: string;
  readonly proposerId: string;
  readonly pending: boolean;
  /** The ledger action of the approval (`approve-policy`, `approve-flow`). */
  readonly action: string;
  readonly policyVersion?: string;
  readonly details: EntryDetails;
}

/**
 * Records one board member's approval of a proposal: no self-approval, board members only, one
 * vote each, recorded in the ledger (the vote is withdrawn if the ledger cannot record it).
 * Resolves true when the board quorum (and, supervised, the operator approvals) is now met.
 */
export async function castBoardVote(
  deps: BoardVoteDeps,
  quorum: number,
  principal: Principal,
  target: BoardTarget,
  note: string | undefined,
): Promise<boolean> {
  if (principal.id === target.proposerId)
    throw new CustosError('SELF_APPROVAL', 'nobody approves their own proposal');
  const kind = boardMember(deps.governance, principal);
  if (!target.pending) throw new CustosError('PROPOSAL_NOT_PENDING', 'the proposal is no longer pending');
  const vote: StoredVote = {
    target: target.id,
    voter: refOf(principal),
    kind,
    verdict: 'approve',
    note: text(note, 1000, 'comment'),
    at: deps.clock.now(),
  };
  if (!(await deps.store.addVote(vote)))
    throw new CustosError('DUPLICATE_APPROVAL', 'this principal already approved the proposal');
  const votes = await deps.store.votes(target.id);
  const board = votes.filter((v) => v.kind === 'board').length;
  const operator = votes.filter((v) => v.kind === 'board-operator').length;
  try {
    await deps.ledger.append(
      entry('approval', vote.voter, target.action, 'allow', {
        ...(target.policyVersion === undefined ? {} : { policyVersion: target.policyVersion }),
        details: { ...target.details, as: kind, approvals: board, operatorApprovals: operator },
      }),
    );
  } catch (err) {
    await deps.store.removeVote(target.id, principal.id);
    throw err;
  }
  return board >= quorum && operator >= deps.governance.boardOperatorApprovals;
}

/** How a board member's vote counts; NOT_AN_APPROVER for anyone else. */
export function boardMember(governance: Governance, principal: Principal): StoredVote['kind'] {
  const kind = governance.boardVoteKind(principal);
  if (kind === undefined)
    throw new CustosError('NOT_AN_APPROVER', 'only governance board members decide proposals');
  return kind;
}
