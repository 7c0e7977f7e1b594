import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../src/services/auth/authenticator.js';
import { as, type GatewayWorld, gatewayWorld } from './gateway-helpers.js';

describe('parent isolation beats grants, break-glass and borrowed roles', () => {
  let w: GatewayWorld;
  beforeAll(async () => {
    // Every request is offered a break-glass grant covering it.
    w = await gatewayWorld(5, {
      grants: async (_p, _a, collection) => ({ id: 'bg-everything', collection, breakGlass: true }),
      mutate: (c) => {
        (c.principals as unknown[]).push({
          id: 'mole',
          org: 'parent',
          roles: ['officer', 'approver', 'app'],
          kind: 'service',
          jurisdiction: 'US',
        });
      },
    });
    const key = w.custos.tokenKey?.privateKey;
    if (!key) throw new Error('no key');
    w.tokens.mole = await issueToken(w.custos.config, key, 'mole', 600, w.custos.clock.now());
  });
  afterAll(async () => {
    await w.close();
  });

  it('a grant lets an operator engineer read, and the ledger cites the grant', async () => {
    const r = await w.app.inject({
      method: 'GET',
      url: '/v1/subjects/us-user-00001/collections/messages/records/msg-1',
      headers: as(w, 'operator-engineer', 'SUPPORT_TICKET'),
    });
    expect(r.statusCode).toBe(200);
    const entry = JSON.parse(
      (await w.custos.ledger.receipt(Number(r.headers['custos-ledger-index']))).entry,
    ) as { grantId: string };
    expect(entry.grantId).toBe('bg-everything');
  });

  for (const who of ['parent-engineer', 'mole']) {
    it(`${who} is denied every protected collection, even holding a break-glass grant`, async () => {
      for (const c of ['profiles', 'messages', 'watch_history', 'metrics']) {
        for (const purpose of ['service', 'custody', 'SECURITY_INCIDENT']) {
          const r = await w.app.inject({
            method: 'GET',
            url: `/v1/subjects/us-user-00001/collections/${c}/records/x`,
            headers: as(w, who, purpose),
          });
          expect(r.statusCode).toBe(403);
          expect((r.json() as { reasons: string[] }).reasons).toContain('parent-isolation');
        }
      }
    });
  }

  it('closes the ledger to the parent and opens it to auditors and custodians', async () => {
    for (const url of [
      '/ledger/checkpoint',
      '/ledger/vkey',
      '/v1/ledger/entries/0',
      '/ledger/tile/entries/000.p/1',
      // Percent-encoded paths reach the same routes: the guard must see them as ledger routes too.
      '/%6Cedger/checkpoint',
      '/%6cedger/vkey',
      '/v1/%6Cedger/entries/0',
      '/%76%31/ledger/entries/0',
      '/%6Cedger/tile/entries/000.p/1',
    ]) {
      expect((await w.app.inject({ method: 'GET', url, headers: as(w, 'parent-engineer') })).statusCode).toBe(
        403,
      );
      expect((await w.app.inject({ method: 'GET', url, headers: as(w, 'mole') })).statusCode).toBe(403);
      expect((await w.app.inject({ method: 'GET', url })).statusCode).toBe(401);
    }
    for (const who of ['auditor', 'custodian-officer']) {
      expect(
        (await w.app.inject({ method: 'GET', url: '/ledger/checkpoint', headers: as(w, who) })).statusCode,
      ).toBe(200);
    }
  });
});
