import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatekeepingWorld, gatekeepingWorld, requestBody } from './gatekeeping-helpers.js';
import { as } from './gateway-helpers.js';

const SUBJECT = 'us-user-00001';
const MSG = `/v1/subjects/${SUBJECT}/collections/messages/records/msg-1`;
const HOUR = 3_600_000;

interface View {
  id: string;
  state: string;
  estimate: { subjects: number; records: number };
  required: { custodian: number; operator: number };
  approvals: { by: string }[];
  grant?: { id: string; status: string; expiresAt: string };
}

describe('access request → approval → grant → expiry, over HTTP with real tokens', () => {
  let w: GatekeepingWorld;
  beforeAll(async () => {
    w = await gatekeepingWorld(10);
  });
  afterAll(async () => {
    await w.close();
  });

  const read = (url = MSG, principal = 'operator-engineer', purpose = 'SUPPORT_TICKET') =>
    w.app.inject({ method: 'GET', url, headers: as(w, principal, purpose) });

  it('denies before approval, serves masked with the grant cited after, denies after expiry; all in the ledger', async () => {
    const created = await w.app.inject({
      method: 'POST',
      url: '/v1/access/requests',
      headers: as(w, 'operator-engineer'),
      payload: requestBody([SUBJECT]),
    });
    expect(created.statusCode).toBe(201);
    const req = created.json() as View;
    expect(req).toMatchObject({
      state: 'pending',
      estimate: { subjects: 1, records: 3 },
      required: { custodian: 1 },
    });

    // 1. Denied before approval.
    const before = await read();
    expect(before.statusCode).toBe(403);
    expect((before.json() as { code: string }).code).toBe('ACCESS_DENIED');

    // 2. One approver approves: the grant is issued and the read succeeds, masked as configured.
    const approved = await w.app.inject({
      method: 'POST',
      url: `/v1/access/requests/${req.id}/approve`,
      headers: as(w, 'custodian-approver'),
      payload: { comment: 'ticket checked' },
    });
    expect(approved.statusCode).toBe(200);
    const view = approved.json() as View;
    expect(view.state).toBe('approved');
    expect(view.grant?.status).toBe('active');
    const grantId = view.grant?.id ?? '';
    const after = await read();
    expect(after.statusCode).toBe(200);
    const plain = (await w.custos.records.get(SUBJECT, 'messages', 'msg-1')).fields;
    const served = (after.json() as { fields: Record<string, unknown> }).fields;
    expect(served.body).toBe(plain.body);
    expect(served.to).not.toBe(plain.to); // hashed for engineers on a support ticket
    expect(served.to).toMatch(/^h:[A-Za-z0-9_-]{8,}$/);
    const used = JSON.parse(
      (await w.custos.ledger.receipt(Number(after.headers['custos-ledger-index']))).entry,
    );
    expect(used).toMatchObject({ type: 'access', decision: 'allow', grantId, reasons: ['grant-allow'] });

    // Outside the scope: another subject, another collection, another purpose, another action.
    expect((await read(`/v1/subjects/us-user-00002/collections/messages/records/msg-1`)).statusCode).toBe(
      403,
    );
    expect((await read(`/v1/subjects/${SUBJECT}/collections/profiles/records/profile`)).statusCode).toBe(403);
    expect((await read(MSG, 'operator-engineer', 'ENGINEERING_DEBUG')).statusCode).toBe(403);
    const write = await w.app.inject({
      method: 'PUT',
      url: MSG,
      headers: as(w, 'operator-engineer', 'SUPPORT_TICKET'),
      payload: { fields: { body: 'x' } },
    });
    expect(write.statusCode).toBe(403);

    // 3. The grant expires on the injected clock: denied on the next request.
    w.clock.advance(2 * HOUR);
    await w.retoken();
    const expired = await read();
    expect(expired.statusCode).toBe(403);
    const denial = JSON.parse(
      (await w.custos.ledger.receipt(Number(expired.headers['custos-ledger-index']))).entry,
    );
    expect(denial.decision).toBe('deny');
    expect(denial.grantId).toBeUndefined();
    const check = await w.custos.gatekeeping.checkOverdue();
    expect(check.expired).toEqual([grantId]);
    expect((await w.custos.gatekeeping.checkOverdue()).expired).toEqual([]);

    // The finished request stays queryable, with its expired grant.
    const shown = await w.app.inject({
      method: 'GET',
      url: `/v1/access/requests/${req.id}`,
      headers: as(w, 'auditor'),
    });
    expect(shown.json()).toMatchObject({ state: 'approved', grant: { id: grantId, status: 'expired' } });

    // The whole story is in the ledger, with the grant id, and no raw subject id.
    const story = (await w.entries()).map((e) => e.entry).filter((e) => e.type !== 'access' || e.grantId);
    const summary = story.filter((e) => e.type !== 'system').map((e) => `${e.type}:${e.action}`);
    expect(summary).toEqual([
      'request:create',
      'approval:approve',
      'grant:issue',
      'access:read',
      'grant:expire',
    ]);
    for (const e of story.filter((x) => x.type !== 'approval')) {
      expect(e.type === 'request' ? e.details?.requestId : e.grantId).toBe(
        e.type === 'request' ? req.id : grantId,
      );
    }
    expect(JSON.stringify(story)).not.toContain(SUBJECT);
    expect(story[0]?.resource.subjectRef).toBe(w.custos.ledger.subjectRef(SUBJECT));
  });

  it('lists requests by visibility and state', async () => {
    const mine = await w.app.inject({
      method: 'GET',
      url: '/v1/access/requests?state=approved',
      headers: as(w, 'operator-engineer'),
    });
    expect(mine.statusCode).toBe(200);
    expect((mine.json() as { requests: View[] }).requests).toHaveLength(1);
    const app = await w.app.inject({
      method: 'GET',
      url: '/v1/access/requests',
      headers: as(w, 'operator-app'),
    });
    expect((app.json() as { requests: View[] }).requests).toHaveLength(0);
    const parent = await w.app.inject({
      method: 'GET',
      url: '/v1/access/requests',
      headers: as(w, 'parent-engineer'),
    });
    expect(parent.statusCode).toBe(403);
    expect((parent.json() as { code: string }).code).toBe('PARENT_EXCLUDED');
    const anon = await w.app.inject({ method: 'GET', url: '/v1/access/requests' });
    expect(anon.statusCode).toBe(401);
  });

  it('refuses bad input with coded 4xx', async () => {
    const post = (payload: unknown, who = 'operator-engineer') =>
      w.app.inject({
        method: 'POST',
        url: '/v1/access/requests',
        headers: as(w, who),
        payload: payload as object,
      });
    const code = async (payload: unknown, who?: string) => {
      const r = await post(payload, who);
      return `${r.statusCode} ${(r.json() as { code: string }).code}`;
    };
    expect(await code(requestBody([SUBJECT], { purpose: 'ENGINEERING_DEBUG', durationHours: 5 }))).toBe(
      '400 DURATION_TOO_LONG',
    );
    expect(await code(requestBody([SUBJECT], { purpose: 'NOPE' }))).toBe('400 PURPOSE_INVALID');
    expect(await code(requestBody(['no-such-user']))).toBe('400 SCOPE_INVALID');
    expect(await code(requestBody({ jurisdiction: 'XX' }))).toBe('400 SCOPE_INVALID');
    expect(
      await code({ ...requestBody([SUBJECT]), scope: { collections: ['nope'], subjects: [SUBJECT] } }),
    ).toBe('400 SCOPE_INVALID');
    expect(
      await code({
        ...requestBody([SUBJECT]),
        scope: { collections: ['messages'], subjects: [SUBJECT], fields: ['email'] },
      }),
    ).toBe('400 SCOPE_INVALID');
    expect(await code({ ...requestBody([SUBJECT]), extra: 1 })).toBe('400 VALIDATION_FAILED');
    expect(await code({ ...requestBody([SUBJECT]), detail: '' })).toBe('400 VALIDATION_FAILED');
    expect(await code(requestBody([SUBJECT]), 'parent-engineer')).toBe('403 PARENT_EXCLUDED');
    const missing = await w.app.inject({
      method: 'POST',
      url: '/v1/access/requests/req_nope/approve',
      headers: as(w, 'custodian-approver'),
    });
    expect(missing.statusCode).toBe(404);
    expect((missing.json() as { code: string }).code).toBe('REQUEST_NOT_FOUND');
    // Someone who could decide no request learns nothing about which ids exist: an unknown id
    // gets the same answer as a real one would.
    for (const verb of ['approve', 'deny']) {
      const outsider = await w.app.inject({
        method: 'POST',
        url: `/v1/access/requests/req_nope/${verb}`,
        headers: as(w, 'operator-app'),
        payload: {},
      });
      expect([outsider.statusCode, (outsider.json() as { code: string }).code], verb).toEqual([
        403,
        'NOT_AN_APPROVER',
      ]);
    }
  });
});
