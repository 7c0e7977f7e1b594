import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhookSignature } from '../src/adapters/webhook/webhook-signature.js';
import { type GatekeepingWorld, gatekeepingWorld } from './gatekeeping-helpers.js';
import { as } from './gateway-helpers.js';

const SECRET = 'whsec-test-only-0123456789';
const HOUR = 3_600_000;

interface Delivery {
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local webhook receiver recording every POST. */
async function receiver(): Promise<{
  url: string;
  got: Delivery[];
  server: Server;
  next: (type: string) => Promise<Delivery>;
}> {
  const got: Delivery[] = [];
  const waiters: { type: string; resolve: (d: Delivery) => void }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', () => {
      const d = { at: Date.now(), headers: req.headers, body };
      got.push(d);
      for (const w of waiters.filter((x) => x.type === req.headers['custos-event'])) w.resolve(d);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const next = (type: string) =>
    new Promise<Delivery>((resolve) => {
      const seen = got.find((d) => d.headers['custos-event'] === type);
      if (seen) resolve(seen);
      else waiters.push({ type, resolve });
    });
  return { url: `http://127.0.0.1:${port}/hooks/custos`, got, server, next };
}

describe('break-glass: alerted at once, reviewed by two other custodians, escalated when overdue', () => {
  let w: GatekeepingWorld;
  let hook: Awaited<ReturnType<typeof receiver>>;
  beforeAll(async () => {
    hook = await receiver();
    process.env.CUSTOS_TEST_WEBHOOK_SECRET = SECRET;
    w = await gatekeepingWorld(5, {
      mutate: (c) => {
        (c.governance as Record<string, unknown>).alerts = {
          webhooks: [{ id: 'soc', url: hook.url, secretEnv: 'CUSTOS_TEST_WEBHOOK_SECRET', backoffMs: 10 }],
        };
      },
    });
  });
  afterAll(async () => {
    await w.close();
    await new Promise((r) => hook.server.close(r));
  });

  const open = (who: string, extra: Record<string, unknown> = {}) =>
    w.app.inject({
      method: 'POST',
      url: '/v1/access/break-glass',
      headers: as(w, who),
      payload: {
        scope: { collections: ['messages'], subjects: ['us-user-00001'] },
        purpose: 'SECURITY_INCIDENT',
        incident: 'INC-2026-0042',
        detail: 'account takeover in progress',
        ...extra,
      },
    });
  const code = (r: { statusCode: number; json(): unknown }) =>
    `${r.statusCode} ${(r.json() as { code: string }).code}`;

  it('refuses callers without the role, a missing incident, and longer than the cap', async () => {
    expect(code(await open('custodian-officer'))).toBe('403 BREAK_GLASS_NOT_ALLOWED');
    expect(code(await open('operator-engineer'))).toBe('403 BREAK_GLASS_NOT_ALLOWED');
    expect(code(await open('parent-engineer'))).toBe('403 PARENT_EXCLUDED');
    expect(code(await open('custodian-oncall', { incident: '  ' }))).toBe('400 INCIDENT_REQUIRED');
    expect(code(await open('custodian-oncall', { incident: undefined }))).toBe('400 INCIDENT_REQUIRED');
    expect(code(await open('custodian-oncall', { durationMinutes: 61 }))).toBe('400 DURATION_TOO_LONG');
  });

  it('issues the grant at once, fires a signed webhook within 1 s, and escalates a missed review', async () => {
    const t0 = Date.now();
    const opened = await open('custodian-oncall');
    expect(opened.statusCode).toBe(201);
    const view = opened.json() as {
      id: string;
      state: string;
      grant: { id: string; expiresAt: string; reviewDueAt: string };
    };
    expect(view.state).toBe('approved');
    expect(Date.parse(view.grant.expiresAt) - w.clock.now()).toBe(HOUR);
    const alert = await hook.next('break-glass');
    expect(alert.at - t0).toBeLessThan(1000);
    const nowSec = Math.floor(w.clock.now() / 1000);
    expect(
      verifyWebhookSignature(
        Buffer.from(SECRET),
        alert.body,
        alert.headers['custos-signature'] as string,
        nowSec,
      ),
    ).toBe(true);
    expect(
      verifyWebhookSignature(
        Buffer.from('wrong'),
        alert.body,
        alert.headers['custos-signature'] as string,
        nowSec,
      ),
    ).toBe(false);
    expect(
      verifyWebhookSignature(
        Buffer.from(SECRET),
        `${alert.body} `,
        alert.headers['custos-signature'] as string,
        nowSec,
      ),
    ).toBe(false);
    const event = JSON.parse(alert.body) as { type: string; data: Record<string, unknown> };
    expect(event).toMatchObject({
      type: 'break-glass',
      data: { holder: 'custodian-oncall', incident: 'INC-2026-0042', grantId: view.grant.id },
    });
    expect(alert.body).not.toContain('us-user-00001');

    // The grant works at the gateway and the ledger cites it as a break-glass use.
    const r = await w.app.inject({
      method: 'GET',
      url: '/v1/subjects/us-user-00001/collections/messages/records/msg-1',
      headers: as(w, 'custodian-oncall', 'SECURITY_INCIDENT'),
    });
    expect(r.statusCode).toBe(200);
    const used = JSON.parse((await w.custos.ledger.receipt(Number(r.headers['custos-ledger-index']))).entry);
    expect(used.grantId).toBe(view.grant.id);

    // Reviews: not by the holder, not by a non-reviewer, once each.
    const review = (who: string, verdict = 'justified') =>
      w.app.inject({
        method: 'POST',
        url: `/v1/access/grants/${view.grant.id}/review`,
        headers: as(w, who),
        payload: { verdict, note: 'checked the incident' },
      });
    expect(code(await review('custodian-oncall'))).toBe('403 SELF_APPROVAL');
    expect(code(await review('custodian-officer'))).toBe('403 NOT_AN_APPROVER');
    // Someone who may not see the grant learns nothing about it: the answer for an unknown id.
    expect(code(await review('operator-supervisor'))).toBe('404 GRANT_NOT_FOUND');
    expect((await review('custodian-approver')).statusCode).toBe(200);
    expect(code(await review('custodian-approver'))).toBe('409 DUPLICATE_APPROVAL');

    // One review of two by the deadline: the check escalates, once.
    w.clock.advance(23 * HOUR);
    // The one-hour grant expired long ago: its expiry is recorded now; the review is not due yet.
    expect(await w.custos.gatekeeping.checkOverdue()).toMatchObject({
      escalated: [],
      expired: [view.grant.id],
    });
    w.clock.advance(HOUR);
    await w.retoken();
    const t1 = Date.now();
    const report = await w.custos.gatekeeping.checkOverdue();
    expect(report.escalated).toEqual([view.grant.id]);
    expect(report.expired).toEqual([]);
    const overdue = await hook.next('review.overdue');
    expect(overdue.at - t1).toBeLessThan(1000);
    expect(JSON.parse(overdue.body).data).toMatchObject({ grantId: view.grant.id, reviews: 1, required: 2 });
    expect((await w.custos.gatekeeping.checkOverdue()).escalated).toEqual([]);
    const ledger = (await w.entries()).map((e) => e.entry);
    const overdueEntry = ledger.find((e) => e.action === 'review-overdue');
    expect(overdueEntry).toMatchObject({
      type: 'approval',
      grantId: view.grant.id,
      principal: { orgKind: 'system' },
    });
    expect(ledger.find((e) => e.type === 'request' && e.action === 'break-glass')?.details?.incident).toBe(
      'INC-2026-0042',
    );
  });

  it('two reviews before the deadline complete it; an unjustified verdict revokes the grant at once', async () => {
    const opened = (await open('custodian-oncall')).json() as { grant: { id: string } };
    const id = opened.grant.id;
    const review = (who: string, verdict: string) =>
      w.app.inject({
        method: 'POST',
        url: `/v1/access/grants/${id}/review`,
        headers: as(w, who),
        payload: { verdict },
      });
    await review('custodian-approver-2', 'justified');
    const second = await review('custodian-approver-3', 'unjustified');
    expect(second.json()).toMatchObject({ status: 'revoked', revokedBy: 'custodian-approver-3' });
    expect((second.json() as { reviewedAt?: string }).reviewedAt).toBeDefined();
    const r = await w.app.inject({
      method: 'GET',
      url: '/v1/subjects/us-user-00001/collections/messages/records/msg-1',
      headers: as(w, 'custodian-oncall', 'SECURITY_INCIDENT'),
    });
    expect(r.statusCode).toBe(403);
    w.clock.advance(25 * HOUR);
    expect((await w.custos.gatekeeping.checkOverdue()).escalated).not.toContain(id);
    await w.custos.gatekeeping.alerts.idle();
    expect(hook.got.map((d) => d.headers['custos-event'])).toEqual(
      expect.arrayContaining(['break-glass', 'grant.issued', 'grant.revoked', 'review.completed']),
    );
  });
});
