import type { FastifyInstance } from 'fastify';
import type { Custos } from '../../../composition-root.js';
import type { PolicyFile } from '../../../ports/access-store.js';
import { principalOf } from '../request-context.js';
import { idParams, proposalBody, responses, security } from './access-schemas.js';
import { registerProposalRoutes } from './proposal-routes.js';

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

  registerProposalRoutes(app, '/v1/policy/proposals', 'policy', tags, who, {
    list: (p, state, limit) => gov.list(p, state, limit),
    show: async (p, id) => gov.view(await gov.get(p, id)),
    approve: (p, id, note) => gov.approve(p, id, note),
    reject: (p, id, reason) => gov.reject(p, id, reason),
    activate: (p, id) => gov.activate(p, id),
  });
}
