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

  it('refuses a parent flow that does not name its jurisdictions (no implicit ring-fenced default)', async () => {
    const t = tempDir();
    const obj = demoConfigObject(t.dir) as { egress: { flows: Record<string, unknown>[] } };
    obj.egress.flows.push({ ...FLOW, id: 'to-parent', destination: 'parent' });
    try {
      configFrom(obj, t.dir);
      throw new Error('accepted');
    } catch (err) {
      expect((err as { details: string[] }).details).toEqual([
        'egress.flows[2].jurisdictions: required for a flow to a parent organisation (ring-fenced: US, SG); list the jurisdictions it may read',
      ]);
    } finally {
      t.cleanup();
    }
    const r = await w.app.inject({
      method: 'POST',
      url: '/v1/flows/proposals',
      headers: as(w, 'operator-engineer'),
      payload: { flow: { ...FLOW, id: 'to-parent', destination: 'parent' }, summary: 's' },
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().code).toBe('VALIDATION_FAILED');
    expect(() => w.custos.egress.flows.parse({ ...FLOW, id: 'to-parent', destination: 'parent' })).toThrow(
      expect.objectContaining({
        details: [
          'flow.jurisdictions: required for a flow to a parent organisation (ring-fenced: US, SG); list the jurisdictions it may read',
        ],
      }),
    );
    // Listed explicitly, it is the governed exception.
    const ok = await w.app.inject({
      method: 'POST',
      url: '/v1/flows/proposals',
      headers: as(w, 'operator-engineer'),
      payload: {
        flow: { ...FLOW, id: 'to-parent', destination: 'parent', jurisdictions: ['US'] },
        summary: 's',
      },
    });
    expect(ok.statusCode).toBe(201);
    // The demo flows to the parent read US subjects only.
    for (const f of w.custos.config.egress.flows) expect(f.jurisdictions).toEqual(['US']);
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

  it('activation races: the change whose base went stale between its check and its swap loses, unrecorded', async () => {
    const post = (principal: string, url: string, payload?: Record<string, unknown>) =>
      w.app.inject({ method: 'POST', url, headers: as(w, principal), ...(payload ? { payload } : {}) });
    const race = { ...FLOW, id: 'operator-race' };
    const ids: string[] = [];
    for (const expires of ['2031-01-01', '2032-01-01']) {
      const p = await post('operator-engineer', '/v1/flows/proposals', {
        flow: { ...race, expires },
        summary: expires,
      });
      ids.push(p.json().id as string);
      for (const voter of ['custodian-officer', 'custodian-approver'])
        await post(voter, `/v1/flows/proposals/${p.json().id}/approve`);
    }
    const [first, second] = ids as [string, string];
    const officer = await w.custos.authenticator.authenticate(`Bearer ${w.tokens['custodian-officer']}`);
    const store = w.custos.egressStore;
    const realActiveFlows = store.activeFlows.bind(store);
    const realAppend = w.custos.ledger.append.bind(w.custos.ledger);
    const activations: string[] = [];
    let armed = true;
    // The second activation reads the store (base still "no flow"); before it swaps, the first
    // activation runs to completion.
    store.activeFlows = async () => {
      const rows = await realActiveFlows();
      if (armed) {
        armed = false;
        await w.custos.egress.proposals.activate(officer, first);
      }
      return rows;
    };
    w.custos.ledger.append = async (e) => {
      if (e.action === 'flow-activate') activations.push(String(e.details?.proposalId));
      return realAppend(e);
    };
    try {
      await expect(w.custos.egress.proposals.activate(officer, second)).rejects.toMatchObject({
        code: 'FLOW_STALE',
      });
    } finally {
      store.activeFlows = realActiveFlows;
      w.custos.ledger.append = realAppend;
    }
    expect(activations).toEqual([first]);
    const inForce = await w.custos.egress.flows.get('operator-race');
    expect(inForce?.expiresAt).toBe(Date.parse('2031-01-02T00:00:00Z'));
    expect((await w.custos.egress.proposals.show(officer, second)).state).toBe('approved');
  });
});
