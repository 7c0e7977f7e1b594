import type { FastifyInstance } from 'fastify';
import type { Custos } from '../../../composition-root.js';
import type { PolicyFile, ProposalState } from '../../../ports/access-store.js';
import { principalOf } from '../request-context.js';
import { idParams, listQuery, noteBody, proposalBody, responses, security } from './access-schemas.js';

const STATES = ['pending', 'approved', 'rejected', 'active', 'superseded'] as const;
const tags = ['policy'];

type Id = { Params: { id: string } };

/**
 * Governed policy changes: propose a whole new policy set (with its diff), the board approves by
 * quorum, `what-if` replays recent decisions against it, activation swaps it in.
 */
export function registerPolicyProposalRoutes(app: FastifyInstance, custos: Custos): void {
  const gov = custos.gatekeeping.policy;
  const who = (req: Parameters<typeof principalOf>[1]) => principalOf(custos, req);

  app.post<{ Body: { files: PolicyFile[]; summary: string } }>(
    '/v1/policy/proposals',
    {
      schema: {
        summary: 'Propose a new policy set (every file of it)',
        tags,
        body: proposalBody,
        security,
        response: responses(201, 'the proposal with its diff against the active set'),
      },
    },
    async (req, reply) =>
      reply.status(201).send(await gov.propose(await who(req), req.body.files, req.body.summary)),
  );

  app.get<{ Querystring: { state?: ProposalState; limit?: string } }>(
    '/v1/policy/proposals',
    {
      schema: {
        summary: 'List policy proposals, newest first',
        tags,
        querystring: listQuery(STATES),
        security,
        response: responses(200, '{ proposals: [...] }'),
      },
    },
    async (req) => ({
      proposals: await gov.list(await who(req), req.query.state, Number(req.query.limit ?? 100)),
    }),
  );

  app.get<Id>(
    '/v1/policy/proposals/:id',
    {
      schema: {
        summary: 'One proposal with its diff and approvals',
        tags,
        params: idParams,
        security,
        response: responses(200, 'the proposal'),
      },
    },
    async (req) => gov.view(await gov.get(await who(req), req.params.id)),
  );

  app.get<Id & { Querystring: { last?: string } }>(
    '/v1/policy/proposals/:id/what-if',
    {
      schema: {
        summary: 'Replay the last N access decisions against the proposal; list those that would change',
        tags,
        params: idParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { last: { type: 'string', pattern: '^([1-9][0-9]{0,5}|1000000)$' } },
        },
        security,
        response: responses(200, 'the replay report'),
      },
    },
    async (req) => gov.whatIf(await who(req), req.params.id, Number(req.query.last ?? 1000)),
  );

  for (const [action, summary] of [
    ['approve', 'Approve a proposal (governance board)'],
    ['reject', 'Reject a proposal (board), or withdraw it (proposer)'],
    ['activate', 'Activate an approved proposal: recorded, persisted, swapped in'],
  ] as const) {
    app.post<Id & { Body: { comment?: string; reason?: string } | null }>(
      `/v1/policy/proposals/:id/${action}`,
      {
        schema: {
          summary,
          tags,
          params: idParams,
          body: noteBody(action === 'approve' ? 'comment' : 'reason'),
          security,
          response: responses(200, 'the proposal'),
        },
      },
      async (req) => {
        const principal = await who(req);
        if (action === 'approve') return gov.approve(principal, req.params.id, req.body?.comment);
        if (action === 'reject') return gov.reject(principal, req.params.id, req.body?.reason);
        return gov.activate(principal, req.params.id);
      },
    );
  }
}
