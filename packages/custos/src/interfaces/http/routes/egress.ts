import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Custos } from '../../../composition-root.js';
import { isCustosError } from '../../../domain/errors.js';
import { EXPORT_FORMATS, type ExportFormat } from '../../../services/egress/export-format.js';
import { refuseParent } from '../../../services/gatekeeping/governance.js';
import { LEDGER_INDEX_HEADER, principalOf } from '../request-context.js';
import { idParams, responses, security } from './access-schemas.js';
import { flowProposalBody, flowView } from './egress-schemas.js';
import { registerProposalRoutes } from './proposal-routes.js';
import { errorBody } from './records.js';

const tags = ['egress'];
type Id = { Params: { id: string } };

const exportBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { format: { type: 'string', enum: [...EXPORT_FORMATS], default: 'ndjson' } },
} as const;

const exportResponses = {
  ...Object.fromEntries([400, 401, 403, 404, 409, 503].map((s) => [s, errorBody])),
  200: {
    description:
      'the flow\'s transformed output, streamed; the last line is the trailer (`{"@custos":"export-end",…}` or `# custos export-end …`) with status complete or stopped',
    content: {
      'application/x-ndjson': { schema: { type: 'string' } },
      'text/csv': { schema: { type: 'string' } },
    },
  },
};

/**
 * The egress routes: exports through declared flows (streamed NDJSON or CSV), the flows in force,
 * governed flow proposals, and the 12-month volume report.
 */
export function registerEgressRoutes(app: FastifyInstance, custos: Custos): void {
  const who = (req: Parameters<typeof principalOf>[1]) => principalOf(custos, req);
  const gov = custos.egress.proposals;

  app.post<Id & { Body: { format?: ExportFormat } | null }>(
    '/v1/flows/:id/exports',
    {
      schema: {
        summary: 'Export through a declared flow (destination organisation principals only)',
        tags,
        params: idParams,
        body: exportBody,
        security,
        response: exportResponses,
      },
    },
    async (req, reply) => {
      const principal = await who(req);
      try {
        const handle = await custos.egress.open(principal, req.params.id, req.body?.format ?? 'ndjson');
        // The first chunk is produced before answering: a stop before any data is a coded error.
        const first = await handle.chunks.next();
        async function* all(): AsyncGenerator<string> {
          if (!first.done) yield first.value;
          yield* handle.chunks;
        }
        return reply
          .header(LEDGER_INDEX_HEADER, String(handle.ledgerIndex))
          .type(handle.contentType)
          .send(Readable.from(all()));
      } catch (err) {
        if (isCustosError(err))
          req.log.warn({ code: err.code, flow: req.params.id, principal: principal.id }, 'egress refused');
        throw err;
      }
    },
  );

  app.get(
    '/v1/flows',
    {
      schema: {
        summary: 'The flows in force that the caller may see',
        tags,
        security,
        response: responses(200, '{ flows: [...] }'),
      },
    },
    async (req) => {
      const principal = await who(req);
      const flows = [...(await custos.egress.flows.all()).values()];
      // The parent (and any other destination) sees the flows addressed to it, nothing else.
      const visible = ['custodian', 'operator', 'auditor'].includes(principal.orgKind)
        ? flows
        : flows.filter((f) => f.destination === principal.org);
      return { flows: visible.map(flowView) };
    },
  );

  app.get(
    '/v1/egress/report',
    {
      schema: {
        summary:
          'Per counterparty: distinct persons sent in the last 12 months by data type, against thresholds',
        tags,
        security,
        response: responses(200, '{ windowStart, at, rows: [...] }'),
      },
    },
    async (req) => {
      refuseParent(await who(req));
      return custos.egress.report();
    },
  );

  app.post<{ Body: { flow: unknown; summary: string } }>(
    '/v1/flows/proposals',
    {
      schema: {
        summary: 'Propose a flow (new, or a change of the flow in force with the same id)',
        tags,
        body: flowProposalBody,
        security,
        response: responses(201, 'the proposal'),
      },
    },
    async (req, reply) =>
      reply.status(201).send(await gov.propose(await who(req), req.body.flow, req.body.summary)),
  );

  registerProposalRoutes(app, '/v1/flows/proposals', 'flow', tags, who, {
    list: (p, state, limit) => gov.list(p, state, limit),
    show: (p, id) => gov.show(p, id),
    approve: (p, id, note) => gov.approve(p, id, note),
    reject: (p, id, reason) => gov.reject(p, id, reason),
    activate: (p, id) => gov.activate(p, id),
  });
}
