import { isVerifyError, parseTilePath, type TileRef } from '@custos/verify';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Custos } from '../../../composition-root.js';
import { CustosError } from '../../../domain/errors.js';
import type { LedgerTile } from '../../../services/ledger/ledger-reader.js';

/** A decimal index or size as it appears in a URL: no sign, no leading zeros, at most 2^53 - 1. */
const decimal = { type: 'string', pattern: '^(0|[1-9][0-9]{0,15})$' } as const;
const errorBody = {
  type: 'object',
  properties: { code: { type: 'string' }, message: { type: 'string' } },
} as const;
const binary = { type: 'string', format: 'binary' } as const;
/** Every ledger route needs a token and a `readLedger` permit (the ledger guard). */
const security = [{ bearer: [] }];
const refusals = { 401: errorBody, 403: errorBody, 503: errorBody } as const;
const text = (description: string) => ({
  description,
  content: { 'text/plain': { schema: { type: 'string' } } },
});

/** Full tiles never change (c2sp.org/tlog-tiles §Caching); everything else may. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

function toSafeInt(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new CustosError('BAD_REQUEST', `${what} is too large`);
  return n;
}

function parseTile(rest: string): TileRef {
  try {
    return parseTilePath(`tile/${rest}`);
  } catch (err) {
    if (isVerifyError(err)) throw new CustosError('BAD_REQUEST', 'not a tile path (c2sp.org/tlog-tiles)');
    throw err;
  }
}

function sendTile(reply: FastifyReply, tile: LedgerTile | undefined): FastifyReply {
  if (tile === undefined) throw new CustosError('NOT_FOUND', 'no such tile');
  return reply
    .type('application/octet-stream')
    .header('cache-control', tile.immutable ? IMMUTABLE : 'no-cache')
    .send(Buffer.from(tile.bytes.buffer, tile.bytes.byteOffset, tile.bytes.byteLength));
}

/**
 * The read-only ledger routes: the tlog-tiles layout under `/ledger` (checkpoint, hash tiles,
 * entry bundles, verifier key) and JSON receipts and proofs under `/v1/ledger`.
 */
export function registerLedgerRoutes(app: FastifyInstance, custos: Custos): void {
  const ledger = custos.ledger;
  app.get(
    '/ledger/checkpoint',
    {
      schema: {
        summary: 'Latest signed checkpoint (c2sp.org/tlog-checkpoint signed note)',
        tags: ['ledger'],
        security,
        response: { 200: text('the checkpoint note'), ...refusals },
      },
    },
    async (_req, reply) => {
      const cp = await ledger.latestCheckpoint();
      return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-cache').send(cp.note);
    },
  );
  app.get(
    '/ledger/vkey',
    {
      schema: {
        summary: 'Verifier key of the checkpoint signer (C2SP signed-note vkey)',
        tags: ['ledger'],
        security,
        response: { 200: text('the vkey line'), ...refusals },
      },
    },
    async (_req, reply) => reply.type('text/plain; charset=utf-8').send(`${ledger.verifierKey}\n`),
  );
  app.get<{ Params: { '*': string } }>(
    '/ledger/tile/*',
    {
      schema: {
        summary:
          'Hash tile tile/<L>/<N>[.p/<W>] or entry bundle tile/entries/<N>[.p/<W>] (c2sp.org/tlog-tiles)',
        tags: ['ledger'],
        params: { type: 'object', properties: { '*': { type: 'string', maxLength: 64 } }, required: ['*'] },
        security,
        response: {
          200: { description: 'the tile', content: { 'application/octet-stream': { schema: binary } } },
          400: errorBody,
          404: errorBody,
          ...refusals,
        },
      },
    },
    async (req, reply) => {
      const ref = parseTile(req.params['*']);
      switch (ref.kind) {
        case 'hash':
          return sendTile(reply, await ledger.hashTile(ref.level, ref.index, ref.width));
        case 'entries':
          return sendTile(reply, await ledger.entryBundle(ref.index, ref.width));
      }
    },
  );
  app.get<{ Params: { index: string } }>(
    '/v1/ledger/entries/:index',
    {
      schema: {
        summary: 'A ledger entry with its inclusion proof against the latest signed checkpoint',
        tags: ['ledger'],
        params: { type: 'object', properties: { index: decimal }, required: ['index'] },
        response: {
          200: {
            type: 'object',
            required: ['index', 'entry', 'proof', 'checkpoint'],
            properties: {
              index: { type: 'integer' },
              entry: { type: 'string', description: 'canonical JSON (RFC 8785) of the entry' },
              proof: { type: 'array', items: { type: 'string', description: 'base64 hash' } },
              checkpoint: { type: 'string', description: 'signed checkpoint note' },
            },
          },
          400: errorBody,
          404: errorBody,
          ...refusals,
        },
        security,
      },
    },
    async (req) => ledger.receipt(toSafeInt(req.params.index, 'index')),
  );
  app.get<{ Querystring: { from: string; to: string } }>(
    '/v1/ledger/proofs/consistency',
    {
      schema: {
        summary: 'Consistency proof between two tree sizes (RFC 9162 §2.1.4)',
        tags: ['ledger'],
        querystring: {
          type: 'object',
          properties: { from: decimal, to: decimal },
          required: ['from', 'to'],
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            required: ['from', 'to', 'proof'],
            properties: {
              from: { type: 'integer' },
              to: { type: 'integer' },
              proof: { type: 'array', items: { type: 'string' } },
            },
          },
          400: errorBody,
          ...refusals,
        },
        security,
      },
    },
    async (req) => {
      const from = toSafeInt(req.query.from, 'from');
      const to = toSafeInt(req.query.to, 'to');
      return { from, to, proof: await ledger.consistency(from, to) };
    },
  );
}
