import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, type GatewayWorld, gatewayWorld } from './gateway-helpers.js';
import { recordingSink, type TestClock } from './helpers.js';

interface Trailer {
  '@custos': string;
  status: string;
  code?: string;
  rows: number;
  subjects: number;
  suppressedGroups: number;
  digest: string;
  ledgerIndex?: number;
}

function lines(body: string): Record<string, unknown>[] {
  return body
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function entryAt(w: GatewayWorld, index: number): Promise<Record<string, unknown>> {
  return w.custos.ledger.receipt(index).then((r) => JSON.parse(r.entry) as Record<string, unknown>);
}

describe('egress exports', () => {
  let w: GatewayWorld;
  const { sink, events: alerts } = recordingSink('test');
  beforeAll(async () => {
    w = await gatewayWorld(30, {
      alertSinks: [sink],
      mutate: (c) => {
        const egress = c.egress as { flows: Record<string, unknown>[] };
        egress.flows.push(
          {
            id: 'leaky-contacts',
            destination: 'operator',
            destinationJurisdiction: 'US',
            purpose: 'a badly declared flow that lets emails out',
            sources: ['profiles'],
            fields: [{ field: 'email', rule: 'allow' }],
            expires: '2030-01-01',
          },
          {
            id: 'old-flow',
            destination: 'parent',
            destinationJurisdiction: 'CN',
            purpose: 'expired',
            jurisdictions: ['US'],
            sources: ['metrics'],
            fields: [{ field: 'region', rule: 'allow' }],
            expires: '2026-01-01',
          },
        );
      },
    });
  });
  afterAll(async () => {
    await w.close();
  });

  const exportAs = (principal: string, flow: string, format = 'ndjson') =>
    w.app.inject({
      method: 'POST',
      url: `/v1/flows/${flow}/exports`,
      headers: as(w, principal),
      payload: { format },
    });

  it('streams an aggregate flow to the parent, groups of k or more only, and records it', async () => {
    const r = await exportAs('parent-engineer', 'parent-metrics');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toContain('application/x-ndjson');
    const out = lines(r.body);
    const trailer = out.pop() as unknown as Trailer;
    expect(trailer['@custos']).toBe('export-end');
    expect(trailer.status).toBe('complete');
    for (const row of out) expect(row.subjects as number).toBeGreaterThanOrEqual(5);
    expect(out.length).toBe(trailer.rows);
    const entry = await entryAt(w, trailer.ledgerIndex ?? -1);
    expect(entry).toMatchObject({ type: 'egress', action: 'export-complete', decision: 'allow' });
    expect((entry.details as Record<string, unknown>).digest).toBe(trailer.digest);
    const start = await entryAt(w, Number(r.headers['custos-ledger-index']));
    expect(start).toMatchObject({ type: 'egress', action: 'export', decision: 'allow' });
  });

  it('pseudonymises subjects and fields, stably within a flow, in CSV too', async () => {
    const a = await exportAs('parent-engineer', 'parent-interop');
    const b = await exportAs('parent-engineer', 'parent-interop', 'csv');
    expect(a.statusCode).toBe(200);
    expect(b.statusCode).toBe(200);
    const rows = lines(a.body);
    rows.pop();
    // US subjects only (the flow names its jurisdictions): the six SG subjects stay home.
    expect(rows.length).toBe(24);
    const profile = await w.custos.records.get('us-user-00001', 'profiles', 'profile');
    expect(a.body).not.toContain(String(profile.fields.email));
    expect(a.body).not.toContain('us-user-00001');
    const first = rows[0] as Record<string, string>;
    expect(first._subject).toMatch(/^p:/);
    expect(b.body).toContain(first._subject);
    expect(b.body.trim().split('\n').at(-1)).toMatch(/^# custos export-end status=complete /);
  });

  it('refuses principals outside the destination, unknown and expired flows, with codes, ledger and alerts', async () => {
    const denied = await exportAs('operator-app', 'parent-metrics');
    expect(denied.statusCode).toBe(403);
    expect(denied.json().code).toBe('ACCESS_DENIED');
    const none = await exportAs('parent-engineer', 'no-such-flow');
    expect(none.json().code).toBe('EGRESS_NO_FLOW');
    const old = await exportAs('parent-engineer', 'old-flow');
    expect(old.statusCode).toBe(403);
    expect(old.json().code).toBe('FLOW_EXPIRED');
    const e = await entryAt(w, old.json().ledgerIndex);
    expect(e).toMatchObject({ type: 'egress', decision: 'deny', reasons: ['flow-expired'] });
    await w.custos.gatekeeping.alerts.idle();
    expect(alerts.filter((a) => a.type === 'egress.refused').length).toBeGreaterThanOrEqual(3);
  });

  it('refuses a flow once the clock passes its expiry', async () => {
    const clock = w.custos.clock as TestClock;
    const saved = clock.ms;
    const parent = await w.custos.authenticator.authenticate(`Bearer ${w.tokens['parent-engineer']}`);
    clock.ms = Date.parse('2028-01-01');
    try {
      await expect(w.custos.egress.open(parent, 'parent-metrics', 'ndjson')).rejects.toMatchObject({
        code: 'FLOW_EXPIRED',
      });
    } finally {
      clock.ms = saved;
    }
  });

  it('stops on a DLP hit, withholds everything and alerts', async () => {
    const r = await exportAs('operator-engineer', 'leaky-contacts');
    expect(r.statusCode).toBe(409);
    expect(r.json().code).toBe('EGRESS_DLP_BLOCKED');
    expect(r.body).not.toContain('@example.com');
    const e = await entryAt(w, r.json().ledgerIndex);
    expect(e).toMatchObject({ action: 'export-stopped', decision: 'deny', reasons: ['dlp'] });
    await w.custos.gatekeeping.alerts.idle();
    expect(alerts.some((a) => a.type === 'egress.dlp')).toBe(true);
  });

  it('reports 12-month totals per counterparty against thresholds', async () => {
    const r = await w.app.inject({
      method: 'GET',
      url: '/v1/egress/report',
      headers: as(w, 'custodian-officer'),
    });
    expect(r.statusCode).toBe(200);
    const rows = r.json().rows as {
      counterparty: string;
      dataType: string;
      persons: number;
      threshold: number;
    }[];
    const pi = rows.find((x) => x.counterparty === 'parent' && x.dataType === 'personal-identifiers');
    expect(pi).toMatchObject({ persons: 24, threshold: 10000 });
    const parent = await w.app.inject({
      method: 'GET',
      url: '/v1/egress/report',
      headers: as(w, 'parent-engineer'),
    });
    expect(parent.statusCode).toBe(403);
  });
});
