import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CustosError, type ErrorCode, httpStatusFor } from '../../domain/errors.js';

/** The JSON body of every error response. It never echoes request values, records or tokens. */
export interface ErrorBody {
  readonly code: ErrorCode;
  readonly message: string;
  /** For access decisions: the policy ids that decided. */
  readonly reasons?: readonly string[];
  /** For access decisions: where the decision sits in the ledger. */
  readonly ledgerIndex?: number;
}

/** Maps anything thrown in a route to a status and a coded body. Unknown errors become 500 INTERNAL. */
export function toErrorResponse(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof CustosError) {
    const body: ErrorBody = {
      code: err.code,
      message: err.message,
      ...(err.reasons === undefined ? {} : { reasons: err.reasons }),
      ...(err.ledgerIndex === undefined ? {} : { ledgerIndex: err.ledgerIndex }),
    };
    return { status: httpStatusFor(err.code), body };
  }
  const fe = err as Partial<FastifyError> & { validation?: unknown };
  if (fe.validation !== undefined) {
    // Fastify's schema messages name the offending property, never its value.
    return { status: 400, body: { code: 'VALIDATION_FAILED', message: fe.message ?? 'invalid request' } };
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, body: { code: 'PAYLOAD_TOO_LARGE', message: 'request body is too large' } };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, body: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'unsupported content type' } };
    // The router's own refusals: Fastify's messages quote the URL, so they are replaced.
    case 'FST_ERR_BAD_URL':
      return { status: 400, body: { code: 'BAD_REQUEST', message: 'malformed URL' } };
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return { status: 400, body: { code: 'VALIDATION_FAILED', message: 'a path parameter is too long' } };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, body: { code: 'BAD_REQUEST', message: 'malformed request body' } };
    default:
      break;
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, body: { code: 'BAD_REQUEST', message: 'bad request' } };
  }
  return { status: 500, body: { code: 'INTERNAL', message: 'internal error' } };
}

/**
 * Answers an error with its status and coded body. It is the error handler, and also Fastify's
 * `frameworkErrors` option, which the router calls for a malformed URL or an over-long path
 * parameter before any route (or the error handler) is involved.
 */
export function sendError(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const { status, body } = toErrorResponse(err);
  if (body.ledgerIndex !== undefined) void reply.header('Custos-Ledger-Index', String(body.ledgerIndex));
  if (status >= 500)
    request.log.error({ code: body.code, err: { name: (err as Error).name } }, 'request failed');
  void reply.status(status).send(body);
}

/** Installs the single error handler and the coded 404. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler(sendError);
  app.setNotFoundHandler((_request, reply) => {
    void reply.status(404).send({ code: 'NOT_FOUND', message: 'no such route' } satisfies ErrorBody);
  });
}
