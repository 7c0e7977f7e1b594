import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Custos } from '../../../composition-root.js';
import type { RecordFields } from '../../../services/record-service.js';
import { LEDGER_INDEX_HEADER, principalOf, purposeOf } from '../request-context.js';

const idParam = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$' } as const;
/** Path parameters of the collection routes; `recordParams` adds the record id. */
const params = {
  type: 'object',
  required: ['subject', 'collection'],
  additionalProperties: false,
  properties: { subject: idParam, collection: idParam },
} as const;
const recordParams = {
  type: 'object',
  required: ['subject', 'collection', 'id'],
  additionalProperties: false,
  properties: { ...params.properties, id: idParam },
} as const;
const purposeHeader = {
  type: 'object',
  properties: { 'custos-purpose': { type: 'string', description: 'a configured purpose, e.g. service' } },
} as const;
const scalar = { type: ['string', 'number', 'boolean', 'null'] } as const;
const fieldsBody = {
  type: 'object',
  required: ['fields'],
  additionalProperties: false,
  properties: {
    fields: { type: 'object', additionalProperties: scalar, maxProperties: 256 },
  },
} as const;
/** The error body of data routes (with the decision's reasons and ledger index). */
export const errorBody = {
  type: 'object',
  properties: {
    code: { type: 'string' },
    message: { type: 'string' },
    reasons: { type: 'array', items: { type: 'string' } },
    ledgerIndex: { type: 'integer' },
  },
} as const;
const recordBody = {
  type: 'object',
  properties: {
    subject: { type: 'string' },
    collection: { type: 'string' },
    id: { type: 'string' },
    fields: { type: 'object', additionalProperties: true },
  },
} as const;
const errors = {
  400: errorBody,
  401: errorBody,
  403: errorBody,
  404: errorBody,
  410: errorBody,
  503: errorBody,
};
const security = [{ bearer: [] }];

function receipt(reply: FastifyReply, index: number): FastifyReply {
  return reply.header(LEDGER_INDEX_HEADER, String(index));
}

interface RecordParams {
  subject: string;
  collection: string;
  id: string;
}

/** The record API. Every route authenticates, then the access service decides and records before any data moves. */
export function registerRecordRoutes(app: FastifyInstance, custos: Custos): void {
  const facts = async (
    req: { headers: Record<string, unknown> },
    p: { subject: string; collection: string },
  ) => ({
    principal: await principalOf(custos, req as never),
    purpose: purposeOf(req as never),
    subject: p.subject,
    collection: p.collection,
  });

  app.get<{ Params: RecordParams }>(
    '/v1/subjects/:subject/collections/:collection/records/:id',
    {
      schema: {
        summary: 'Read one record (authorized, recorded, decrypted, masked)',
        tags: ['records'],
        params: recordParams,
        headers: purposeHeader,
        security,
        response: { 200: recordBody, ...errors },
      },
    },
    async (req, reply) => {
      const r = await custos.access.read(await facts(req, req.params), req.params.id);
      return receipt(reply, r.ledgerIndex).send(r.value);
    },
  );

  app.put<{ Params: RecordParams; Body: { fields: RecordFields } }>(
    '/v1/subjects/:subject/collections/:collection/records/:id',
    {
      schema: {
        summary: 'Create or replace one record',
        tags: ['records'],
        params: recordParams,
        headers: purposeHeader,
        body: fieldsBody,
        security,
        response: {
          200: { type: 'object', properties: { id: { type: 'string' }, site: { type: 'string' } } },
          ...errors,
          409: errorBody,
        },
      },
    },
    async (req, reply) => {
      const r = await custos.access.write(await facts(req, req.params), req.params.id, req.body.fields);
      return receipt(reply, r.ledgerIndex).send(r.value);
    },
  );

  app.post<{ Params: Omit<RecordParams, 'id'>; Body: { fields: RecordFields } }>(
    '/v1/subjects/:subject/collections/:collection/records',
    {
      schema: {
        summary: 'Create a record with a generated id',
        tags: ['records'],
        params,
        headers: purposeHeader,
        body: fieldsBody,
        security,
        response: {
          201: { type: 'object', properties: { id: { type: 'string' }, site: { type: 'string' } } },
          ...errors,
          409: errorBody,
        },
      },
    },
    async (req, reply) => {
      const r = await custos.access.write(await facts(req, req.params), undefined, req.body.fields);
      return receipt(reply, r.ledgerIndex).status(201).send(r.value);
    },
  );

  app.delete<{ Params: RecordParams }>(
    '/v1/subjects/:subject/collections/:collection/records/:id',
    {
      schema: {
        summary: 'Delete one record',
        tags: ['records'],
        params: recordParams,
        headers: purposeHeader,
        security,
        response: { 200: { type: 'object', properties: { deleted: { type: 'boolean' } } }, ...errors },
      },
    },
    async (req, reply) => {
      const r = await custos.access.delete(await facts(req, req.params), req.params.id);
      return receipt(reply, r.ledgerIndex).send(r.value);
    },
  );

  app.get<{
    Params: { collection: string };
    Querystring: { subject?: string; cursor?: string; limit?: string };
  }>(
    '/v1/collections/:collection/records',
    {
      schema: {
        summary: 'List the records of a collection the caller may see',
        tags: ['records'],
        params: {
          type: 'object',
          required: ['collection'],
          additionalProperties: false,
          properties: { collection: idParam },
        },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            subject: idParam,
            cursor: { type: 'string', maxLength: 1024, pattern: '^[A-Za-z0-9_-]*$' },
            limit: { type: 'string', pattern: '^([1-9][0-9]{0,2}|1000)$' },
          },
        },
        headers: purposeHeader,
        security,
        response: {
          200: {
            type: 'object',
            properties: { records: { type: 'array', items: recordBody }, nextCursor: { type: 'string' } },
          },
          ...errors,
        },
      },
    },
    async (req, reply) => {
      const principal = await principalOf(custos, req);
      const r = await custos.access.list(principal, purposeOf(req), req.params.collection, {
        subject: req.query.subject,
        cursor: req.query.cursor,
        limit: req.query.limit === undefined ? 100 : Number(req.query.limit),
      });
      return receipt(reply, r.ledgerIndex).send(r.value);
    },
  );
}
