import type { FastifyInstance } from 'fastify';
import type { Custos } from '../../composition-root.js';
import { CustosError } from '../../domain/errors.js';
import { principalOf, purposeOf } from './request-context.js';

/**
 * Whether a route pattern (as registered, e.g. `/v1/ledger/entries/:index`) is one of the ledger's
 * read routes (tiles, checkpoint, receipts, proofs). The guard asks this of the route the router
 * matched, never of the raw request URL: the router matches percent-decoded paths, so
 * `/%6Cedger/checkpoint` reaches `/ledger/checkpoint` while its raw URL starts with something else.
 */
export function isLedgerRoute(route: string): boolean {
  return route.startsWith('/ledger/') || route === '/ledger' || route.startsWith('/v1/ledger/');
}

/**
 * Guards every ledger route: the caller must authenticate and Cedar must allow `readLedger`
 * (custodian and auditor organisations by default; the parent is forbidden). Denials are recorded
 * in the ledger; allowed reads are not, so an auditor syncing tiles does not grow the log it audits.
 */
export function installLedgerGuard(app: FastifyInstance, custos: Custos): void {
  app.addHook('onRequest', async (request) => {
    // The matched route (undefined when nothing matched: that request ends in a 404).
    const route = request.routeOptions.url;
    if (route === undefined || !isLedgerRoute(route)) return;
    const principal = await principalOf(custos, request);
    const purpose = purposeOf(request) || 'audit';
    const decision = custos.authorizer.decideLedger(principal, purpose);
    if (decision.allow) return;
    const index = await custos.access.record(principal, 'readLedger', decision, {}, purpose);
    throw new CustosError('ACCESS_DENIED', 'the ledger is not readable by this principal', {
      ledgerIndex: index,
      reasons: decision.reasons.length > 0 ? decision.reasons : ['default-deny'],
    });
  });
}
