import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatekeepingWorld, gatekeepingWorld, requestBody } from './gatekeeping-helpers.js';
import { as } from './gateway-helpers.js';

const SUBJECT = 'us-user-00002';

describe("a grant's field scope is enforced at the gateway", () => {
  let w: GatekeepingWorld;
  beforeAll(async () => {
    w = await gatekeepingWorld(5);
  });
  afterAll(async () => {
    await w.close();
  });

  it('serves only the granted fields, and refuses writes outside them', async () => {
    const created = await w.app.inject({
      method: 'POST',
      url: '/v1/access/requests',
      headers: as(w, 'operator-engineer'),
      payload: requestBody([SUBJECT], {
        scope: {
          collections: ['messages'],
          subjects: [SUBJECT],
          actions: ['read', 'write', 'list'],
          fields: ['sent_at'],
        },
      }),
    });
    expect(created.statusCode).toBe(201);
    const id = (created.json() as { id: string }).id;
    const approved = await w.app.inject({
      method: 'POST',
      url: `/v1/access/requests/${id}/approve`,
      headers: as(w, 'custodian-approver'),
      payload: {},
    });
    expect(approved.statusCode).toBe(200);

    const plain = (await w.custos.records.get(SUBJECT, 'messages', 'msg-1')).fields;
    const r = await w.app.inject({
      method: 'GET',
      url: `/v1/subjects/${SUBJECT}/collections/messages/records/msg-1`,
      headers: as(w, 'operator-engineer', 'SUPPORT_TICKET'),
    });
    expect(r.statusCode).toBe(200);
    expect((r.json() as { fields: Record<string, unknown> }).fields).toEqual({ sent_at: plain.sent_at });
    expect(r.body).not.toContain(String(plain.body));

    const list = await w.app.inject({
      method: 'GET',
      url: `/v1/collections/messages/records?subject=${SUBJECT}`,
      headers: as(w, 'operator-engineer', 'SUPPORT_TICKET'),
    });
    expect(list.statusCode).toBe(200);
    for (const rec of (list.json() as { records: { fields: Record<string, unknown> }[] }).records) {
      expect(Object.keys(rec.fields)).toEqual(['sent_at']);
    }

    const write = await w.app.inject({
      method: 'PUT',
      url: `/v1/subjects/${SUBJECT}/collections/messages/records/msg-1`,
      headers: as(w, 'operator-engineer', 'SUPPORT_TICKET'),
      payload: { fields: { body: 'overwritten' } },
    });
    expect(write.statusCode).toBe(403);
    expect((write.json() as { reasons: string[] }).reasons).toEqual(['grant-field-scope']);
    expect((await w.custos.records.get(SUBJECT, 'messages', 'msg-1')).fields.body).toBe(plain.body);
  });
});
