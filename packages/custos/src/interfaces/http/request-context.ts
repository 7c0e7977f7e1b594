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

/** Authenticates the request's bearer token. */
export function principalOf(custos: Custos, request: FastifyRequest): Promise<Principal> {
  const h = request.headers.authorization;
  return custos.authenticator.authenticate(typeof h === 'string' ? h : undefined);
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

/** Replaces Fastify's JSON parser with one that caps depth and answers coded errors. */
export function installJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    try {
      if (text.trim() === '') {
        done(new CustosError('BAD_REQUEST', 'empty JSON body'), undefined);
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
