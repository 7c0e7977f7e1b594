import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Custos } from '../src/composition-root.js';
import { seedDemo } from '../src/demo/demo-seed.js';
import type { FlowSpec } from '../src/domain/egress-config.js';
import type { Principal } from '../src/domain/principal.js';
import type { AlertEvent } from '../src/ports/alert-sink.js';
import { type RunDeps, runExport } from '../src/services/egress/export-run.js';
import type { GatekeepingLedger } from '../src/services/gatekeeping/gatekeeping-entries.js';
import type { RecordService } from '../src/services/record-service.js';
import { firstStep, runDeps } from './egress/run-deps.js';
import { codeOf, demoCustos, type TestClock } from './helpers.js';

const operator: Principal = {
  id: 'operator-engineer',
  org: 'operator',
  orgKind: 'operator',
  roles: ['engineer'],
  kind: 'person',
  jurisdiction: '',
  release: undefined,
};

describe('egress export runs', () => {
  let custos: Custos;
  let cleanup: () => Promise<void>;
  const alerts: AlertEvent[] = [];
  beforeAll(async () => {
    ({ custos, cleanup } = await demoCustos({
      alertSinks: [{ id: 't', accepts: () => true, send: async (e) => void alerts.push(e) }],
      mutate: (c) => {
        (c.collections as unknown[]).push({
          id: 'contacts',
          category: 'protected',
          fields: ['email', 'note'],
        });
      },
    }));
    await seedDemo(custos, 10);
  });
  afterAll(async () => cleanup());

  let n = 0;
  const flow = (declaration: Record<string, unknown>): FlowSpec =>
    custos.egress.flows.parse({
      id: `run-${++n}`,
      destination: 'operator',
      destinationJurisdiction: 'US',
      purpose: 'test',
      sources: ['profiles'],
      expires: '2099-01-01',
      ...declaration,
    });
  const deps = (over: Partial<RunDeps> = {}): RunDeps => runDeps(custos, over);
  const run = (f: FlowSpec, over: Partial<RunDeps> = {}, format: 'ndjson' | 'csv' = 'ndjson') =>
    runExport(deps(over), { principal: operator, flow: f, format, startIndex: 0 });
  async function drain(
    chunks: AsyncIterable<string>,
  ): Promise<{ rows: string[]; trailer: Record<string, unknown> }> {
    let text = '';
    for await (const c of chunks) text += c;
    const lines = text.trim().split('\n');
    return { rows: lines, trailer: JSON.parse(lines.pop() ?? '{}') as Record<string, unknown> };
  }
  const persons = async (counterparty: string, dataType: string) =>
    (await custos.egress.report()).rows.find(
      (r) => r.counterparty === counterparty && r.dataType === dataType,
    )?.persons ?? 0;
  const failing = (action: string): GatekeepingLedger => ({
    append: async (e) => {
      if (e.action === action) throw new Error('ledger down');
      return custos.ledger.append(e);
    },
    subjectRef: (s) => custos.ledger.subjectRef(s),
  });

  it('meters every person whose protected data leaves as personal identifiers, tagged or not', async () => {
    expect(await persons('operator', 'personal-identifiers')).toBe(0);
    // bio is not tagged with any data type; the subject pseudonym alone also counts.
    const bio = flow({ fields: [{ field: 'bio', rule: 'allow' }] });
    await drain(run(bio));
    expect(await persons('operator', 'personal-identifiers')).toBe(10);
    // Aggregate-category data (metrics) is not about a person: nothing more is counted.
    const metrics = flow({ sources: ['metrics'], fields: [{ field: 'region', rule: 'allow' }] });
    await drain(run(metrics));
    expect(await persons('operator', 'personal-identifiers')).toBe(10);
  });

  it('meters a pseudonymised subject even when every field is dropped', async () => {
    const only = flow({ subject: 'pseudonymise', fields: [{ field: 'bio', rule: 'drop' }] });
    const before = await persons('operator', 'personal-identifiers');
    // A fresh counterparty would be cleaner; the operator already counts these 10 persons.
    const out = await drain(run(only));
    expect(out.trailer.status).toBe('complete');
    expect(out.rows.length).toBe(10);
    expect(before).toBe(10);
    const metered: string[] = [];
    const spy: Partial<RunDeps> = {
      store: {
        ...custos.egressStore,
        meter: async (req) => {
          for (const b of req.batches) metered.push(b.dataType);
          return custos.egressStore.meter(req);
        },
      } as RunDeps['store'],
    };
    await drain(run(only, spy));
    expect(metered).toContain('personal-identifiers');
  });

  it('refuses a bare field name shared by several sources; collection.field scopes a rule', async () => {
    expect(() =>
      flow({ sources: ['profiles', 'contacts'], fields: [{ field: 'email', rule: 'pseudonymise' }] }),
    ).toThrow(
      expect.objectContaining({
        details: [
          'flow.fields[0].field: "email" is a field of several sources (profiles, contacts); name one as collection.field',
        ],
      }),
    );
    await custos.subjects.register('contact-1', 'US');
    await custos.records.put('contact-1', 'contacts', 'c1', { email: 'c1@example.com', note: 'hello there' });
    const scoped = flow({
      sources: ['profiles', 'contacts'],
      fields: [
        { field: 'profiles.email', rule: 'pseudonymise' },
        { field: 'contacts.note', rule: 'allow' },
      ],
    });
    let csv = '';
    for await (const c of run(scoped, {}, 'csv')) csv += c;
    const out = { rows: csv.split('\n') };
    expect(out.rows[0]).toBe('_collection,profiles.email,contacts.note');
    expect(out.rows).toContain('contacts,,hello there');
    expect(out.rows.join('\n')).not.toContain('@example.com');
  });

  it('a complete export whose closing entry fails says unrecorded (not stopped) and alerts', async () => {
    const f = flow({ fields: [{ field: 'bio', rule: 'allow' }] });
    const out = await drain(run(f, { ledger: failing('export-complete') }));
    expect(out.rows.length).toBe(10);
    expect(out.trailer).toMatchObject({ status: 'unrecorded', code: 'LEDGER_UNAVAILABLE' });
    expect(out.trailer.ledgerIndex).toBeUndefined();
    await custos.gatekeeping.alerts.idle();
    expect(alerts.find((a) => a.type === 'egress.unrecorded' && a.data.flowId === f.id)?.data).toMatchObject({
      action: 'export-complete',
      recorded: false,
    });
  });

  it('a stop whose entry fails still alerts, and says it was not recorded', async () => {
    const f = flow({ fields: [{ field: 'email', rule: 'allow' }] });
    const err = await firstStep(run(f, { ledger: failing('export-stopped') }));
    expect(err).toMatchObject({ code: 'EGRESS_DLP_BLOCKED', ledgerIndex: undefined });
    await custos.gatekeeping.alerts.idle();
    expect(alerts.find((a) => a.type === 'egress.dlp' && a.data.flowId === f.id)?.data).toMatchObject({
      recorded: false,
    });
  });

  it('stops cleanly mid-stream when the flow expires or is replaced', async () => {
    const small = { ...custos.config, egress: { ...custos.config.egress, batchSize: 2 } };
    const clock = { ms: custos.clock.now(), now: () => clock.ms };
    const f = flow({ fields: [{ field: 'bio', rule: 'allow' }], expires: '2099-01-01T00:00:00Z' });
    const first = run(f, { config: small, clock });
    let text = '';
    for await (const c of first) {
      text += c;
      clock.ms = Date.parse('2099-01-01T00:00:00Z');
    }
    const lines = text.trim().split('\n');
    const trailer = JSON.parse(lines.pop() ?? '{}');
    expect(lines.length).toBe(2);
    expect(trailer).toMatchObject({ status: 'stopped', code: 'FLOW_EXPIRED', rows: 2 });
    const e = JSON.parse((await custos.ledger.receipt(trailer.ledgerIndex)).entry);
    expect(e).toMatchObject({ action: 'export-stopped', reasons: ['flow-expired'] });

    let replaced = false;
    const g = flow({ fields: [{ field: 'bio', rule: 'allow' }] });
    const run2 = run(g, {
      config: small,
      flowInForce: async () => (replaced ? { ...g, version: 'sha256:other' } : g),
    });
    text = '';
    for await (const c of run2) {
      text += c;
      replaced = true;
    }
    expect(JSON.parse(text.trim().split('\n').pop() ?? '{}')).toMatchObject({
      status: 'stopped',
      code: 'FLOW_STALE',
    });
  });

  it('a date-only expiry keeps the flow in force through that day (UTC)', async () => {
    const clock = custos.clock as TestClock;
    const saved = clock.ms;
    // The demo flows expire 2027-12-31.
    try {
      clock.ms = Date.parse('2027-12-31T23:59:59Z');
      const p: Principal = { ...operator, id: 'parent-engineer', org: 'parent', orgKind: 'parent' };
      const h = await custos.egress.open(p, 'parent-metrics', 'ndjson');
      await drain(h.chunks);
      clock.ms = Date.parse('2028-01-01T00:00:00Z');
      expect(await codeOf(custos.egress.open(p, 'parent-metrics', 'ndjson'))).toBe('FLOW_EXPIRED');
    } finally {
      clock.ms = saved;
    }
  });

  it('logs an uncoded failure (name and frames, never its message) before it becomes INTERNAL', async () => {
    const logged: Record<string, string>[] = [];
    const records = {
      adapter: (id: string) => custos.records.adapter(id),
      openStored: async () => {
        throw new TypeError('value jo@example.com broke');
      },
    } as unknown as RecordService;
    const f = flow({ fields: [{ field: 'bio', rule: 'allow' }] });
    const err = await firstStep(
      run(f, { records, logError: (_e, fields) => void logged.push({ ...fields }) }),
    );
    expect(err).toMatchObject({ code: 'INTERNAL' });
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ flowId: f.id, error: 'TypeError' });
    expect(logged[0]?.stack).toMatch(/at /);
    expect(JSON.stringify(logged)).not.toContain('example.com');
  });
});
