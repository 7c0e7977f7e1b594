import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal } from '../../../domain/principal.js';
import type { ProposalState } from '../../../ports/access-store.js';
import { idParams, listQuery, noteBody, responses, security } from './access-schemas.js';

const STATES = ['pending', 'approved', 'rejected', 'active', 'superseded'] as const;

/** What a governed proposal kind (a policy set, a flow) offers its routes. */
export interface ProposalOps {
  list(p: Principal, state: ProposalState | undefined, limit: number): Promise<unknown[]>;
  show(p: Principal, id: string): Promise<unknown>;
  approve(p: Principal, id: string, comment: string | undefined): Promise<unknown>;
  reject(p: Principal, id: string, reason: string | undefined): Promise<unknown>;
  activate(p: Principal, id: string): Promise<unknown>;
}

type Id = { Params: { id: string } };

/**
 * The routes every governed proposal kind shares under `base`: list, show, and the board's
 * approve, reject (or the proposer's withdrawal) and activate.
 */
export function registerProposalRoutes(
  app: FastifyInstance,
  base: string,
  noun: string,
  tags: readonly string[],
  who: (req: FastifyRequest) => Promise<Principal>,
  ops: ProposalOps,
): void {
  app.get<{ Querystring: { state?: ProposalState; limit?: string } }>(
    base,
    {
      schema: {
        summary: `List ${noun} proposals, newest first`,
        tags: [...tags],
        querystring: listQuery(STATES),
        security,
        response: responses(200, '{ proposals: [...] }'),
      },
    },
    async (req) => ({
      proposals: await ops.list(await who(req), req.query.state, Number(req.query.limit ?? 100)),
    }),
  );

  app.get<Id>(
    `${base}/:id`,
    {
      schema: {
        summary: `One ${noun} proposal with its approvals`,
        tags: [...tags],
        params: idParams,
        security,
        response: responses(200, 'the proposal'),
      },
    },
    async (req) => ops.show(await who(req), req.params.id),
  );

  for (const [action, summary] of [
    ['approve', `Approve a ${noun} proposal (governance board)`],
    ['reject', `Reject a ${noun} proposal (board), or withdraw it (proposer)`],
    ['activate', `Activate an approved ${noun} proposal: recorded, persisted, in force`],
  ] as const) {
    app.post<Id & { Body: { comment?: string; reason?: string } | null }>(
      `${base}/:id/${action}`,
      {
        schema: {
          summary,
          tags: [...tags],
          params: idParams,
          body: noteBody(action === 'approve' ? 'comment' : 'reason'),
          security,
          response: responses(200, 'the proposal'),
        },
      },
      async (req) => {
        const principal = await who(req);
        if (action === 'approve') return ops.approve(principal, req.params.id, req.body?.comment);
        if (action === 'reject') return ops.reject(principal, req.params.id, req.body?.reason);
        return ops.activate(principal, req.params.id);
      },
    );
  }
}
