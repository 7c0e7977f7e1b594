import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatekeepingWorld, gatekeepingWorld, requestBody } from './gatekeeping-helpers.js';
import { as } from './gateway-helpers.js';

const SUBJECT = 'us-user-00002';

/** Has operator-engineer request, and custodian-approver approve, a field-scoped grant on SUBJECT. */
async function grantFields(
  w: GatekeepingWorld,
  collection: string,
  actions: string[],
  fields: string[],
): Promise<void> {
  const created = await w.app.inject({
    method: 'POST',
    url: '/v1/access/requests',
    headers: as(w, 'operator-engineer'),
    payload: requestBody([SUBJECT], {
      scope: { collections: [collection], subjects: [SUBJECT], actions, fields },
    }),
  });
  expect(created.statusCode).toBe(201);
  const approved = await w.app.inject({
    method: 'POST',
    url: `/v1/access/requests/${(created.json() as { id: string }).id}/approve`,
    headers: as(w, 'custodian-approver'),
    payload: {},
  });
  expect(approved.statusCode).toBe(200);
}

describe("a grant's field scope is enforced at the gateway", () => {
  let w: GatekeepingWorld;
  beforeAll(async () => {
    w = await gatekeepingWorld(5);
  });
  afterAll(async () => {
    await w.close();
  });

  it('serves only the granted fields, and refuses writes outside them', async () => {
    await grantFields(w, 'messages', ['read', 'write', 'list'], ['sent_at']);

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

describe('a write under a field-scoped grant keeps the fields it does not cover', () => {
  const PROFILE = `/v1/subjects/${SUBJECT}/collections/profiles/records/profile`;
  let w: GatekeepingWorld;
  beforeAll(async () => {
    w = await gatekeepingWorld(5);
    await grantFields(w, 'profiles', ['read', 'list', 'write'], ['phone']);
  });
  afterAll(async () => {
    await w.close();
  });

  it('updates only the granted field', async () => {
    const before = (await w.custos.records.get(SUBJECT, 'profiles', 'profile')).fields;
    expect(Object.keys(before).length).toBeGreaterThan(1);
    const write = await w.app.inject({
      method: 'PUT',
      url: PROFILE,
      headers: as(w, 'operator-engineer', 'SUPPORT_TICKET'),
      payload: { fields: { phone: '+1-555-0000' } },
    });
    expect(write.statusCode).toBe(200);
    const after = (await w.custos.records.get(SUBJECT, 'profiles', 'profile')).fields;
    expect(after).toEqual({ ...before, phone: '+1-555-0000' });

    const extra = await w.app.inject({
      method: 'PUT',
      url: PROFILE,
      headers: as(w, 'operator-engineer', 'SUPPORT_TICKET'),
      payload: { fields: { phone: '+1-555-1111', bio: 'changed' } },
    });
    expect(extra.statusCode).toBe(403);
    expect((await w.custos.records.get(SUBJECT, 'profiles', 'profile')).fields).toEqual(after);
  });

  it('creates an absent record with the granted fields only', async () => {
    const write = await w.app.inject({
      method: 'PUT',
      url: `/v1/subjects/${SUBJECT}/collections/profiles/records/second`,
      headers: as(w, 'operator-engineer', 'SUPPORT_TICKET'),
      payload: { fields: { phone: '+1-555-2222' } },
    });
    expect(write.statusCode).toBe(200);
    expect((await w.custos.records.get(SUBJECT, 'profiles', 'second')).fields).toEqual({
      phone: '+1-555-2222',
    });
  });

  it('loses no concurrent write: merges racing on one record all land', async () => {
    const before = (await w.custos.records.get(SUBJECT, 'profiles', 'profile')).fields;
    await Promise.all([
      w.custos.records.merge(SUBJECT, 'profiles', 'profile', { phone: '+1-555-3333' }),
      w.custos.records.merge(SUBJECT, 'profiles', 'profile', { bio: 'racing bio' }),
      w.custos.records.merge(SUBJECT, 'profiles', 'profile', { display_name: 'Racer' }),
    ]);
    expect((await w.custos.records.get(SUBJECT, 'profiles', 'profile')).fields).toEqual({
      ...before,
      phone: '+1-555-3333',
      bio: 'racing bio',
      display_name: 'Racer',
    });
  });
});
