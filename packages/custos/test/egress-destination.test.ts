import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertEvent } from '../src/ports/alert-sink.js';
import { SHIPPED_POLICY_DIR, splitPolicies } from '../src/services/policy/policy-set.js';
import { as, type GatewayWorld, gatewayWorld } from './gateway-helpers.js';

const OPEN_PERMIT = splitPolicies(
  'operator.cedar',
  '@id("open-everything")\npermit (principal, action, resource);',
);
const SHIPPED = splitPolicies(
  'default.cedar',
  readFileSync(join(SHIPPED_POLICY_DIR, 'default.cedar'), 'utf8'),
);

async function world(policies: typeof SHIPPED, alerts: AlertEvent[]): Promise<GatewayWorld> {
  return gatewayWorld(5, {
    policies,
    alertSinks: [{ id: 't', accepts: () => true, send: async (e) => void alerts.push(e) }],
  });
}

describe('egress: only the destination receives a flow', () => {
  describe('with an operator policy that permits everything (on top of the shipped set)', () => {
    let w: GatewayWorld;
    const alerts: AlertEvent[] = [];
    beforeAll(async () => {
      w = await world([...SHIPPED, ...OPEN_PERMIT], alerts);
    });
    afterAll(async () => w.close());

    it('Cedar forbids export to anyone outside the destination (flow-destination-only)', async () => {
      const op = await w.custos.authenticator.authenticate(`Bearer ${w.tokens['operator-engineer']}`);
      const d = w.custos.authorizer.decideExport(op, 'parent-interop', {
        destination: 'parent',
        destinationKind: 'parent',
        destinationJurisdiction: 'CN',
      });
      expect(d.allow).toBe(false);
      expect(d.reasons).toContain('flow-destination-only');
      const parent = await w.custos.authenticator.authenticate(`Bearer ${w.tokens['parent-engineer']}`);
      expect(
        w.custos.authorizer.decideExport(parent, 'parent-interop', {
          destination: 'parent',
          destinationKind: 'parent',
          destinationJurisdiction: 'CN',
        }).allow,
      ).toBe(true);
    });
  });

  describe('with policies that permit every export (no shipped forbid at all)', () => {
    let w: GatewayWorld;
    const alerts: AlertEvent[] = [];
    beforeAll(async () => {
      w = await world(OPEN_PERMIT, alerts);
    });
    afterAll(async () => w.close());

    it('the gateway still refuses non-destination principals in code: coded, ledgered, alerted', async () => {
      for (const principal of ['operator-engineer', 'custodian-officer', 'auditor']) {
        const r = await w.app.inject({
          method: 'POST',
          url: '/v1/flows/parent-interop/exports',
          headers: as(w, principal),
          payload: { format: 'ndjson' },
        });
        expect(r.statusCode, principal).toBe(403);
        expect(r.json().code).toBe('ACCESS_DENIED');
        expect(r.body).not.toContain('"p:');
        const entry = JSON.parse((await w.custos.ledger.receipt(r.json().ledgerIndex)).entry);
        expect(entry).toMatchObject({
          type: 'egress',
          action: 'export',
          decision: 'deny',
          reasons: ['not-destination'],
          principal: { id: principal },
        });
      }
      await w.custos.gatekeeping.alerts.idle();
      expect(alerts.filter((a) => a.type === 'egress.refused').length).toBe(3);
      const ok = await w.app.inject({
        method: 'POST',
        url: '/v1/flows/parent-interop/exports',
        headers: as(w, 'parent-engineer'),
      });
      expect(ok.statusCode).toBe(200);
    });
  });
});
