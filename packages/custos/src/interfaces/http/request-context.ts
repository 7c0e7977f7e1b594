import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Custos } from '../../composition-root.js';
import { CustosError } from '../../domain/errors.js';
import type { Principal } from '../../domain/principal.js';

/** The purpose header every data route requires. */
export const PURPOSE_HEADER = 'custos-purpose';
/** The receipt header: the ledger index of the decision behind a response. */
export const LEDGER_INDEX_HEADER = 'Custos-Ledger-Index';
/** Deepest JSON nesting accepted in a request body. */
export const MAX_JSON_DEPTH = 32;

const principals = new WeakMap<FastifyRequest, Promise<Principal>>();

/** Authenticates the request's bearer token, once per request (the `onRequest` hook does it first). */
export function principalOf(custos: Custos, request: FastifyRequest): Promise<Principal> {
  let p = principals.get(request);
  if (p === undefined) {
    const h = request.headers.authorization;
    p = custos.authenticator.authenticate(typeof h === 'string' ? h : undefined);
    principals.set(request, p);
  }
  return p;
}

/**
 * Authenticates every route that declares `security` before its body is read or validated, so
 * an anonymous caller learns nothing about a route's schema: no token is 401, whatever the body.
 */
export function installAuthentication(app: FastifyInstance, custos: Custos): void {
  app.addHook('onRequest', async (request) => {
    const security = (request.routeOptions.schema as { security?: unknown } | undefined)?.security;
    if (Array.isArray(security) && security.length > 0) await principalOf(custos, request);
  });
}

/** An empty querystring schema: a route without parameters refuses any (400 VALIDATION_FAILED). */
const noQuery = { type: 'object', additionalProperties: false, properties: {} } as const;

/** Gives every route registered after this a querystring schema, an empty one if it declares none. */
export function installQueryDefault(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    if (route.schema?.querystring !== undefined) return;
    route.schema = { ...route.schema, querystring: noQuery };
  });
}

/** The `Custos-Purpose` header (empty when missing; the access service refuses and records it). */
export function purposeOf(request: FastifyRequest): string {
  const h = request.headers[PURPOSE_HEADER];
  return typeof h === 'string' ? h : '';
}

/** Checks JSON nesting depth before parsing, so a hostile body cannot exhaust the parser's stack. */
export function checkJsonDepth(text: string, max = MAX_JSON_DEPTH): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) throw new CustosError('BAD_REQUEST', `JSON nesting deeper than ${max}`);
    } else if (c === 125 || c === 93) depth--;
  }
}

/** True when the route's body schema admits `null`: the body is optional (approve, deny, export…). */
function bodyIsOptional(request: FastifyRequest): boolean {
  const body = (request.routeOptions.schema as { body?: { type?: unknown } } | undefined)?.body;
  return Array.isArray(body?.type) && body.type.includes('null');
}

/**
 * Replaces Fastify's JSON parser with one that caps depth and answers coded errors, and removes
 * the text/plain parser: JSON is the only body accepted, anything else is 415.
 */
export function installJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    try {
      if (text.trim() === '') {
        if (bodyIsOptional(req)) done(null, {});
        else done(new CustosError('BAD_REQUEST', 'empty JSON body'), undefined);
        return;
      }
      checkJsonDepth(text);
      done(null, JSON.parse(text));
    } catch (err) {
      done(
        err instanceof CustosError ? err : new CustosError('BAD_REQUEST', 'malformed JSON body'),
        undefined,
      );
    }
  });
}
