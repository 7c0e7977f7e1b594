import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatekeepingWorld, gatekeepingWorld, requestBody } from './gatekeeping-helpers.js';
import { as } from './gateway-helpers.js';

interface View {
  id: string;
  state: string;
  estimate: { subjects: number; records: number };
  required: { custodian: number; operator: number };
  approvals: { by: string; kind: string }[];
  grant?: { id: string; status: string };
}

const PROFILE = (s: string) => `/v1/subjects/${s}/collections/profiles/records/profile`;

async function post(w: GatekeepingWorld, url: string, who: string, payload: object = {}) {
  const r = await w.app.inject({ method: 'POST', url, headers: as(w, who), payload });
  return { status: r.statusCode, body: r.json() as View & { code: string; status?: string } };
}

describe('quorum: bulk requests, self-approval, double approval, outsiders', () => {
  let w: GatekeepingWorld;
  beforeAll(async () => {
    w = await gatekeepingWorld(10);
  });
  afterAll(async () => {
    await w.close();
  });

  const bulk = (actions: string[]) =>
    post(w, '/v1/access/requests', 'operator-engineer', {
      scope: { collections: ['profiles'], subjects: { jurisdiction: 'US' }, actions },
      purpose: 'LEGAL_REQUEST',
      detail: 'court order 2026-117',
      ticket: 'LEG-117',
      durationHours: 24,
    });

  it('a bulk request needs two approvers; self, repeat and outsider approvals are refused', async () => {
    const created = await bulk(['read']);
    expect(created.status).toBe(201);
    const id = created.body.id;
    // Estimated from the stores: 8 US subjects of 10 seeded, one profile each.
    expect(created.body.estimate).toEqual({ subjects: 8, records: 8, exact: false });
    expect(created.body.required).toEqual({ custodian: 2, operator: 0 });
    const approve = (who: string) => post(w, `/v1/access/requests/${id}/approve`, who);

    const self = await approve('operator-engineer');
    expect([self.status, self.body.code]).toEqual([403, 'SELF_APPROVAL']);
    for (const [who, code] of [
      ['custodian-officer', 'NOT_AN_APPROVER'], // custodian without the approver role
      ['auditor', 'NOT_AN_APPROVER'],
      ['operator-supervisor', 'NOT_AN_APPROVER'], // autonomous mode: operators do not count
      ['operator-app', 'NOT_AN_APPROVER'],
      ['parent-engineer', 'PARENT_EXCLUDED'],
    ]) {
      const r = await approve(who as string);
      expect([r.status, r.body.code], who).toEqual([403, code]);
    }
    const first = await approve('custodian-approver');
    expect(first.status).toBe(200);
    expect(first.body.state).toBe('pending');
    const again = await approve('custodian-approver');
    expect([again.status, again.body.code]).toEqual([409, 'DUPLICATE_APPROVAL']);
    const denied = await w.app.inject({
      method: 'GET',
      url: PROFILE('us-user-00002'),
      headers: as(w, 'operator-engineer', 'LEGAL_REQUEST'),
    });
    expect(denied.statusCode).toBe(403);

    // custodian-approver-3 is an approver only through a nested group.
    const second = await approve('custodian-approver-3');
    expect(second.status).toBe(200);
    expect(second.body.state).toBe('approved');
    expect(second.body.approvals.map((a) => a.by)).toEqual(['custodian-approver', 'custodian-approver-3']);
    const grantId = second.body.grant?.id ?? '';
    for (const s of ['us-user-00002', 'us-user-00009']) {
      const r = await w.app.inject({
        method: 'GET',
        url: PROFILE(s),
        headers: as(w, 'operator-engineer', 'LEGAL_REQUEST'),
      });
      expect(r.statusCode, s).toBe(200);
    }
    // The filter is the jurisdiction: an SG subject is out of scope.
    const sg = await w.app.inject({
      method: 'GET',
      url: PROFILE('sg-user-00005'),
      headers: as(w, 'operator-engineer', 'LEGAL_REQUEST'),
    });
    expect(sg.statusCode).toBe(403);
    const late = await approve('custodian-approver-2');
    expect([late.status, late.body.code]).toEqual([409, 'REQUEST_NOT_PENDING']);

    // Revocation takes effect on the next request.
    const outsider = await post(w, `/v1/access/grants/${grantId}/revoke`, 'operator-app', { reason: 'x' });
    // An outsider, who may not see the grant, gets the answer for an unknown id.
    expect([outsider.status, outsider.body.code]).toEqual([404, 'GRANT_NOT_FOUND']);
    const revoked = await post(w, `/v1/access/grants/${grantId}/revoke`, 'custodian-approver-2', {
      reason: 'done',
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body.status).toBe('revoked');
    const after = await w.app.inject({
      method: 'GET',
      url: PROFILE('us-user-00002'),
      headers: as(w, 'operator-engineer', 'LEGAL_REQUEST'),
    });
    expect(after.statusCode).toBe(403);
    const twice = await post(w, `/v1/access/grants/${grantId}/revoke`, 'custodian-approver-2');
    expect([twice.status, twice.body.code]).toEqual([409, 'GRANT_REVOKED']);
    const entries = (await w.entries()).map((e) => e.entry);
    expect(entries.some((e) => e.type === 'grant' && e.action === 'revoke' && e.grantId === grantId)).toBe(
      true,
    );
  });

  it('a bulk export needs three approvers', async () => {
    const created = await bulk(['read', 'list']);
    expect(created.body.required.custodian).toBe(3);
    const id = created.body.id;
    for (const who of ['custodian-approver', 'custodian-approver-2']) {
      expect((await post(w, `/v1/access/requests/${id}/approve`, who)).body.state).toBe('pending');
    }
    expect((await post(w, `/v1/access/requests/${id}/approve`, 'custodian-approver-3')).body.state).toBe(
      'approved',
    );
  });

  it('one denial closes a request; it stays queryable', async () => {
    const created = await post(w, '/v1/access/requests', 'operator-engineer', requestBody(['us-user-00003']));
    const id = created.body.id;
    const self = await post(w, `/v1/access/requests/${id}/deny`, 'operator-engineer');
    expect([self.status, self.body.code]).toEqual([403, 'SELF_APPROVAL']);
    const denied = await post(w, `/v1/access/requests/${id}/deny`, 'custodian-approver-2', {
      reason: 'no ticket',
    });
    expect(denied.body).toMatchObject({
      state: 'denied',
      decidedBy: 'custodian-approver-2',
      decisionNote: 'no ticket',
    });
    const late = await post(w, `/v1/access/requests/${id}/approve`, 'custodian-approver');
    expect([late.status, late.body.code]).toEqual([409, 'REQUEST_NOT_PENDING']);
    const listed = await w.app.inject({
      method: 'GET',
      url: '/v1/access/requests?state=denied',
      headers: as(w, 'custodian-officer'),
    });
    expect((listed.json() as { requests: View[] }).requests.map((r) => r.id)).toEqual([id]);
  });

  it('an undecided request expires after requestTtlHours, recorded by the periodic check', async () => {
    const created = await post(w, '/v1/access/requests', 'operator-engineer', requestBody(['us-user-00004']));
    w.clock.advance(72 * 3_600_000);
    await w.retoken();
    const report = await w.custos.gatekeeping.checkOverdue();
    expect(report.expiredRequests).toContain(created.body.id);
    const late = await post(w, `/v1/access/requests/${created.body.id}/approve`, 'custodian-approver');
    expect(late.body.code).toBe('REQUEST_NOT_PENDING');
  });
});

function world(mode: 'autonomous' | 'supervised', excludeRequesterOrg: boolean) {
  return gatekeepingWorld(5, {
    mutate: (c) => {
      Object.assign(c.governance as object, { mode, excludeRequesterOrg });
    },
  });
}

describe('supervised mode', () => {
  let w: GatekeepingWorld;
  beforeAll(async () => {
    w = await world('supervised', false);
  });
  afterAll(async () => {
    await w.close();
  });

  it('a supervised purpose also needs an operator supervisor; other purposes do not', async () => {
    const legal = await post(w, '/v1/access/requests', 'operator-engineer', {
      ...requestBody(['us-user-00001']),
      purpose: 'LEGAL_REQUEST',
    });
    expect(legal.body.required).toEqual({ custodian: 1, operator: 1 });
    const id = legal.body.id;
    expect((await post(w, `/v1/access/requests/${id}/approve`, 'custodian-approver')).body.state).toBe(
      'pending',
    );
    const sup = await post(w, `/v1/access/requests/${id}/approve`, 'operator-supervisor');
    expect(sup.body.state).toBe('approved');
    expect(sup.body.approvals.map((a) => a.kind)).toEqual(['custodian', 'operator']);
    const r = await w.app.inject({
      method: 'GET',
      url: '/v1/subjects/us-user-00001/collections/messages/records/msg-1',
      headers: as(w, 'operator-engineer', 'LEGAL_REQUEST'),
    });
    expect(r.statusCode).toBe(200);

    const support = await post(w, '/v1/access/requests', 'operator-engineer', requestBody(['us-user-00001']));
    expect(support.body.required).toEqual({ custodian: 1, operator: 0 });
    const notNeeded = await post(w, `/v1/access/requests/${support.body.id}/approve`, 'operator-supervisor');
    expect(notNeeded.body.code).toBe('NOT_AN_APPROVER');
  });
});

describe('excludeRequesterOrg', () => {
  let w: GatekeepingWorld;
  beforeAll(async () => {
    w = await world('autonomous', true);
  });
  afterAll(async () => {
    await w.close();
  });

  it("refuses approvers from the requester's organisation", async () => {
    const officer = await post(w, '/v1/access/requests', 'custodian-officer', requestBody(['us-user-00001']));
    const own = await post(w, `/v1/access/requests/${officer.body.id}/approve`, 'custodian-approver');
    expect([own.status, own.body.code]).toEqual([403, 'REQUESTER_ORG_EXCLUDED']);
    const op = await post(w, '/v1/access/requests', 'operator-engineer', requestBody(['us-user-00001']));
    expect(
      (await post(w, `/v1/access/requests/${op.body.id}/approve`, 'custodian-approver')).body.state,
    ).toBe('approved');
  });
});
