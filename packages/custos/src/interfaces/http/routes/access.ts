import type { FastifyInstance } from 'fastify';
import type { Custos } from '../../../composition-root.js';
import type { RequestState } from '../../../ports/access-store.js';
import type { BreakGlassInput, ReviewInput } from '../../../services/gatekeeping/break-glass.js';
import type { RequestInput } from '../../../services/gatekeeping/request-service.js';
import { principalOf } from '../request-context.js';
import {
  breakGlassBody,
  createRequestBody,
  idParams,
  listQuery,
  noteBody,
  responses,
  reviewBody,
  security,
} from './access-schemas.js';

const REQUEST_STATES = ['pending', 'approved', 'denied', 'expired'] as const;
const tags = ['access'];

type Id = { Params: { id: string } };

/**
 * The gatekeeping API: access requests, approvals, grants, break-glass and reviews. Routes parse
 * and authenticate; the gatekeeping service decides, records in the ledger and alerts.
 */
export function registerAccessRoutes(app: FastifyInstance, custos: Custos): void {
  const gk = custos.gatekeeping;
  const who = (req: Parameters<typeof principalOf>[1]) => principalOf(custos, req);

  app.post<{ Body: RequestInput }>(
    '/v1/access/requests',
    {
      schema: {
        summary: 'Request access beyond standing policy (scoped, justified, time-bound)',
        tags,
        body: createRequestBody,
        security,
        response: responses(201, 'the request as approvers see it'),
      },
    },
    async (req, reply) => reply.status(201).send(await gk.requests.create(await who(req), req.body)),
  );

  app.get<{ Querystring: { state?: RequestState; limit?: string } }>(
    '/v1/access/requests',
    {
      schema: {
        summary: 'List the requests the caller may see, newest first',
        tags,
        querystring: listQuery(REQUEST_STATES),
        security,
        response: responses(200, '{ requests: [...] }'),
      },
    },
    async (req) => ({
      requests: await gk.requests.list(await who(req), req.query.state, Number(req.query.limit ?? 100)),
    }),
  );

  app.get<Id>(
    '/v1/access/requests/:id',
    {
      schema: {
        summary: 'One request: exact scope, estimates, quorum, approvals, grant',
        tags,
        params: idParams,
        security,
        response: responses(200, 'the request'),
      },
    },
    async (req) => gk.requests.view(await gk.requests.get(await who(req), req.params.id)),
  );

  app.post<Id & { Body: { comment?: string } | null }>(
    '/v1/access/requests/:id/approve',
    {
      schema: {
        summary: 'Approve a request; the approval completing the quorum issues the grant',
        tags,
        params: idParams,
        body: noteBody('comment'),
        security,
        response: responses(200, 'the request after the approval'),
      },
    },
    async (req) => gk.requests.approve(await who(req), req.params.id, req.body?.comment),
  );

  app.post<Id & { Body: { reason?: string } | null }>(
    '/v1/access/requests/:id/deny',
    {
      schema: {
        summary: 'Deny a request',
        tags,
        params: idParams,
        body: noteBody('reason'),
        security,
        response: responses(200, 'the denied request'),
      },
    },
    async (req) => gk.requests.deny(await who(req), req.params.id, req.body?.reason),
  );

  app.get<Id>(
    '/v1/access/grants/:id',
    {
      schema: {
        summary: 'One grant: status, expiry, revocation, reviews',
        tags,
        params: idParams,
        security,
        response: responses(200, 'the grant'),
      },
    },
    // Visible to whoever may see the request it came from; GRANT_NOT_FOUND to anyone else.
    async (req) => gk.grants.view(await gk.grants.getFor(await who(req), req.params.id)),
  );

  app.post<Id & { Body: { reason?: string } | null }>(
    '/v1/access/grants/:id/revoke',
    {
      schema: {
        summary: 'Revoke a grant (effective on the next request)',
        tags,
        params: idParams,
        body: noteBody('reason'),
        security,
        response: responses(200, 'the revoked grant'),
      },
    },
    async (req) => gk.grants.revoke(await who(req), req.params.id, req.body?.reason),
  );

  app.post<{ Body: BreakGlassInput }>(
    '/v1/access/break-glass',
    {
      schema: {
        summary: 'Issue yourself an emergency grant (break-glass role; alerted at once; reviewed afterwards)',
        tags,
        body: breakGlassBody,
        security,
        response: responses(201, 'the break-glass request with its grant'),
      },
    },
    async (req, reply) => reply.status(201).send(await gk.breakGlass.open(await who(req), req.body)),
  );

  app.post<Id & { Body: ReviewInput }>(
    '/v1/access/grants/:id/review',
    {
      schema: {
        summary: 'Review a break-glass grant (justified, or unjustified which revokes it)',
        tags,
        params: idParams,
        body: reviewBody,
        security,
        response: responses(200, 'the grant with its reviews'),
      },
    },
    async (req) => gk.breakGlass.review(await who(req), req.params.id, req.body),
  );
}
