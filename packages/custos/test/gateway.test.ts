import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, type GatewayWorld, gatewayWorld } from './gateway-helpers.js';

const US = 'us-user-00001';
const SG = 'sg-user-00005';
const profile = (s: string) => `/v1/subjects/${s}/collections/profiles/records/profile`;

describe('gateway: authorized, recorded, masked access', () => {
  let w: GatewayWorld;
  beforeAll(async () => {
    w = await gatewayWorld(10);
  });
  afterAll(async () => {
    await w.close();
  });

  it('lets the operator app read its own jurisdiction for `service`, with a ledger receipt', async () => {
    const before = w.custos.ledger.size;
    const r = await w.app.inject({
      method: 'GET',
      url: profile(US),
      headers: as(w, 'operator-app', 'service'),
    });
    expect(r.statusCode).toBe(200);
    const body = r.json() as { fields: Record<string, unknown> };
    expect(body.fields.email).toMatch(/@example\.com$/);
    const index = Number(r.headers['custos-ledger-index']);
    expect(index).toBeGreaterThanOrEqual(before);
    const entry = JSON.parse((await w.custos.ledger.receipt(index)).entry) as Record<string, unknown>;
    expect(entry).toMatchObject({ type: 'access', action: 'read', decision: 'allow', purpose: 'service' });
    expect(JSON.stringify(entry)).not.toContain(US);
    expect(JSON.stringify(entry)).not.toContain('@example.com');
  });

  it('denies the operator app another jurisdiction, recording the deny', async () => {
    const r = await w.app.inject({
      method: 'GET',
      url: profile(SG),
      headers: as(w, 'operator-app', 'service'),
    });
    expect(r.statusCode).toBe(403);
    const body = r.json() as { code: string; ledgerIndex: number; reasons: string[] };
    expect(body.code).toBe('ACCESS_DENIED');
    const entry = JSON.parse((await w.custos.ledger.receipt(body.ledgerIndex)).entry) as { decision: string };
    expect(entry.decision).toBe('deny');
    expect(r.headers['custos-ledger-index']).toBe(String(body.ledgerIndex));
  });

  it('never gives the parent protected data, and says which policy forbade it', async () => {
    for (const purpose of ['service', 'custody', 'SUPPORT_TICKET']) {
      const r = await w.app.inject({
        method: 'GET',
        url: profile(US),
        headers: as(w, 'parent-engineer', purpose),
      });
      expect(r.statusCode).toBe(403);
      expect(r.body).not.toContain('@example.com');
      expect((r.json() as { reasons: string[] }).reasons).toContain('parent-isolation');
    }
  });

  it('lets anyone, the parent included, read public data', async () => {
    const r = await w.app.inject({
      method: 'GET',
      url: `/v1/subjects/${US}/collections/public_videos/records/video-1`,
      headers: as(w, 'parent-engineer', 'service'),
    });
    expect(r.statusCode).toBe(200);
  });

  it('masks fields for the custodian officer as configured', async () => {
    const r = await w.app.inject({
      method: 'GET',
      url: profile(US),
      headers: as(w, 'custodian-officer', 'custody'),
    });
    expect(r.statusCode).toBe(200);
    const f = (r.json() as { fields: Record<string, string> }).fields;
    expect(f.email).toMatch(/^h:[A-Za-z0-9_-]{22}$/);
    expect(f.phone).toMatch(/^\*+\d{4}$/);
    expect(f.birth_date).toMatch(/^\d{4}$/);
    const original = await w.custos.records.get(US, 'profiles', 'profile');
    expect(r.body).not.toContain(String(original.fields.email));
    expect(r.body).not.toContain(String(original.fields.phone));
  });

  it('refuses a missing or unknown purpose with 400, recorded', async () => {
    const none = await w.app.inject({ method: 'GET', url: profile(US), headers: as(w, 'operator-app') });
    expect(none.statusCode).toBe(400);
    expect((none.json() as { code: string }).code).toBe('PURPOSE_INVALID');
    const odd = await w.app.inject({
      method: 'GET',
      url: profile(US),
      headers: as(w, 'operator-app', 'fun'),
    });
    expect(odd.statusCode).toBe(400);
    expect(odd.headers['custos-ledger-index']).toBeDefined();
  });

  it('writes, creates, lists and deletes through the gateway', async () => {
    const put = await w.app.inject({
      method: 'PUT',
      url: `/v1/subjects/${US}/collections/messages/records/m-new`,
      headers: as(w, 'operator-app', 'service'),
      payload: { fields: { to: 'x', body: 'hello', sent_at: '2026-11-29' } },
    });
    expect(put.statusCode).toBe(200);
    expect((put.json() as { site: string }).site).toBe('us-trusted-cloud');
    const post = await w.app.inject({
      method: 'POST',
      url: `/v1/subjects/${US}/collections/messages/records`,
      headers: as(w, 'operator-app', 'service'),
      payload: { fields: { body: 'second' } },
    });
    expect(post.statusCode).toBe(201);
    const list = await w.app.inject({
      method: 'GET',
      url: `/v1/collections/messages/records?subject=${US}&limit=2`,
      headers: as(w, 'operator-app', 'service'),
    });
    expect(list.statusCode).toBe(200);
    const page = list.json() as { records: { id: string }[]; nextCursor?: string };
    expect(page.records).toHaveLength(2);
    expect(page.nextCursor).toBeDefined();
    const next = await w.app.inject({
      method: 'GET',
      url: `/v1/collections/messages/records?subject=${US}&limit=10&cursor=${page.nextCursor}`,
      headers: as(w, 'operator-app', 'service'),
    });
    expect((next.json() as { records: unknown[] }).records.length).toBe(3);
    const del = await w.app.inject({
      method: 'DELETE',
      url: `/v1/subjects/${US}/collections/messages/records/m-new`,
      headers: as(w, 'operator-app', 'service'),
    });
    expect(del.statusCode).toBe(200);
  });

  it('lists across subjects only the jurisdictions the principal may see, with one entry holding count and digest', async () => {
    const r = await w.app.inject({
      method: 'GET',
      url: '/v1/collections/profiles/records?limit=1000',
      headers: as(w, 'operator-app', 'service'),
    });
    expect(r.statusCode).toBe(200);
    const recs = (r.json() as { records: { subject: string }[] }).records;
    expect(recs.length).toBe(8);
    expect(recs.every((x) => x.subject.startsWith('us-'))).toBe(true);
    const entry = JSON.parse(
      (await w.custos.ledger.receipt(Number(r.headers['custos-ledger-index']))).entry,
    ) as {
      resource: { count: number };
      details: { digest: string };
    };
    expect(entry.resource.count).toBe(8);
    expect(entry.details.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('refuses writes that residency forbids even for allowed principals', async () => {
    const r = await w.app.inject({
      method: 'PUT',
      url: `/v1/subjects/${US}/collections/profiles/records/p2`,
      headers: as(w, 'operator-app', 'service'),
      payload: { fields: { nope: 1 } },
    });
    expect(r.statusCode).toBe(400);
    expect((r.json() as { code: string }).code).toBe('VALIDATION_FAILED');
  });
});
