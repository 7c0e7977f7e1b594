import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, type GatewayWorld, gatewayWorld } from './gateway-helpers.js';
import { configFrom, demoConfigObject, tempDir } from './helpers.js';

const FLOW = {
  id: 'operator-tiers',
  destination: 'operator',
  destinationJurisdiction: 'US',
  purpose: 'birth years for the operator',
  sources: ['profiles'],
  fields: [{ field: 'birth_date', rule: 'generalise', to: 'year' }],
  expires: '2030-01-01',
};

describe('egress flows: config checks and governed proposals', () => {
  let w: GatewayWorld;
  beforeAll(async () => {
    w = await gatewayWorld(5);
  });
  afterAll(async () => {
    await w.close();
  });

  it('reports every bad flow reference with its exact path', () => {
    const t = tempDir();
    const obj = demoConfigObject(t.dir) as {
      egress: { flows: Record<string, unknown>[]; dataTypes: unknown[] };
    };
    obj.egress.dataTypes.push({ collection: 'profiles', field: 'nope', type: 'health' });
    obj.egress.flows.push({
      ...FLOW,
      destination: 'parnet',
      sources: ['profiles', 'ghosts'],
      jurisdictions: ['FR'],
      fields: [{ field: 'emial', rule: 'allow' }],
    });
    try {
      configFrom(obj, t.dir);
      throw new Error('accepted');
    } catch (err) {
      expect((err as { details: string[] }).details).toEqual([
        'egress.dataTypes[3].field: unknown field "nope" in profiles',
        'egress.flows[2].destination: unknown organisation "parnet"',
        'egress.flows[2].sources[1]: unknown collection "ghosts"',
        'egress.flows[2].jurisdictions[0]: unknown jurisdiction "FR"',
        `egress.flows[2].fields[0].field: "emial" is not a field of the flow's sources`,
      ]);
    } finally {
      t.cleanup();
    }
  });

  it('creates a flow through a proposal, board quorum and activation; the parent takes no part', async () => {
    const post = (principal: string, url: string, payload?: Record<string, unknown>) =>
      w.app.inject({ method: 'POST', url, headers: as(w, principal), ...(payload ? { payload } : {}) });
    const bad = await post('operator-engineer', '/v1/flows/proposals', {
      flow: { ...FLOW, sources: ['ghosts'] },
      summary: 's',
    });
    expect(bad.statusCode).toBe(400);
    expect(
      (await post('parent-engineer', '/v1/flows/proposals', { flow: FLOW, summary: 's' })).json().code,
    ).toBe('PARENT_EXCLUDED');
    const created = await post('operator-engineer', '/v1/flows/proposals', {
      flow: FLOW,
      summary: 'birth years',
    });
    expect(created.statusCode).toBe(201);
    const id = created.json().id as string;
    expect((await post('operator-app', `/v1/flows/${FLOW.id}/exports`)).json().code).toBe('EGRESS_NO_FLOW');
    expect((await post('operator-engineer', `/v1/flows/proposals/${id}/approve`)).json().code).toBe(
      'SELF_APPROVAL',
    );
    expect((await post('custodian-officer', `/v1/flows/proposals/${id}/activate`)).json().code).toBe(
      'PROPOSAL_NOT_APPROVED',
    );
    expect((await post('custodian-officer', `/v1/flows/proposals/${id}/approve`)).json().state).toBe(
      'pending',
    );
    expect((await post('custodian-approver', `/v1/flows/proposals/${id}/approve`)).json().state).toBe(
      'approved',
    );
    const active = await post('custodian-officer', `/v1/flows/proposals/${id}/activate`);
    expect(active.json().state).toBe('active');
    const out = await post('operator-app', `/v1/flows/${FLOW.id}/exports`, { format: 'csv' });
    expect(out.statusCode).toBe(200);
    expect(out.body.split('\n')[0]).toBe('birth_date');
    expect(out.body).toMatch(/^19\d\d$/m);
    // A change made against the old version after another change won is stale.
    const a = await post('operator-engineer', '/v1/flows/proposals', {
      flow: { ...FLOW, expires: '2031-01-01' },
      summary: 'a',
    });
    const b = await post('operator-engineer', '/v1/flows/proposals', {
      flow: { ...FLOW, expires: '2032-01-01' },
      summary: 'b',
    });
    for (const p of [a, b])
      for (const voter of ['custodian-officer', 'custodian-approver'])
        await post(voter, `/v1/flows/proposals/${p.json().id}/approve`);
    expect((await post('custodian-officer', `/v1/flows/proposals/${a.json().id}/activate`)).statusCode).toBe(
      200,
    );
    expect((await post('custodian-officer', `/v1/flows/proposals/${b.json().id}/activate`)).json().code).toBe(
      'FLOW_STALE',
    );
  });
});
