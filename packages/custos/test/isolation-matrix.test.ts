import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, DEMO_PRINCIPALS, type GatewayWorld, gatewayWorld } from './gateway-helpers.js';

const SUBJECTS = { US: 'us-user-00001', SG: 'sg-user-00005' } as const;
const RECORD_ID: Record<string, string> = {
  profiles: 'profile',
  messages: 'msg-1',
  watch_history: 'watch-1',
  public_videos: 'video-1',
  metrics: 'day-1',
};
const PURPOSES: (string | undefined)[] = ['service', 'custody', 'SUPPORT_TICKET', 'bogus', undefined];

interface Cell {
  method: string;
  url: string;
  principal: string;
  purpose: string | undefined;
  payload?: Record<string, unknown>;
  dataRoute: boolean;
}

/**
 * The isolation matrix: every route in the OpenAPI document × every demo principal × every
 * collection (so every category) × both jurisdictions × valid, invalid and missing purposes.
 */
describe('isolation matrix', () => {
  let w: GatewayWorld;
  const secrets = new Set<string>();
  beforeAll(async () => {
    w = await gatewayWorld(10);
    for (const s of Object.values(SUBJECTS)) {
      await w.custos.records.put(s, 'metrics', 'day-1', {
        day: '2026-11-01',
        region: 'r1',
        active_users: 10,
      });
    }
    // Every seeded protected value (strings long enough not to collide with numbers in headers).
    for (const c of w.custos.config.collections) {
      const spec = new Map(c.fields.map((f) => [f.name, f.classification]));
      for (const st of w.custos.stores.values()) {
        for (const loc of await st.scan(undefined, 100_000)) {
          if (loc.collection !== c.id) continue;
          const rec = await w.custos.records.get(loc.subject, loc.collection, loc.id);
          for (const [name, value] of Object.entries(rec.fields)) {
            if (
              typeof value === 'string' &&
              value.length >= 6 &&
              (c.category !== 'public' || spec.get(name) !== 'public')
            ) {
              secrets.add(value);
            }
          }
        }
      }
    }
  });
  afterAll(async () => {
    await w.close();
  });

  function cellsFromOpenApi(paths: Record<string, Record<string, unknown>>): Cell[] {
    const cells: Cell[] = [];
    for (const [template, ops] of Object.entries(paths)) {
      for (const method of Object.keys(ops)) {
        for (const [jur, subject] of Object.entries(SUBJECTS)) {
          for (const collection of Object.keys(RECORD_ID)) {
            const url = template
              .replace('{subject}', subject)
              .replace('{collection}', collection)
              .replace('{id}', RECORD_ID[collection] ?? 'x')
              .replace('{index}', '0')
              .replace(/\{[^}]+\}/g, '0');
            const query = template === '/v1/collections/{collection}/records' && jur === 'US' ? '' : '';
            const dataRoute = template.startsWith('/v1/subjects') || template.startsWith('/v1/collections');
            for (const principal of DEMO_PRINCIPALS) {
              for (const purpose of PURPOSES) {
                const payload: Record<string, unknown> | undefined = ['PUT', 'POST'].includes(
                  method.toUpperCase(),
                )
                  ? {
                      fields: {
                        [w.custos.config.collections.find((c) => c.id === collection)?.fields[0]?.name ??
                          'x']: 'matrix-write',
                      },
                    }
                  : undefined;
                cells.push({
                  method: method.toUpperCase(),
                  url: url + query,
                  principal,
                  purpose,
                  payload,
                  dataRoute,
                });
              }
            }
            if (!template.includes('{collection}') && !template.includes('{subject}')) break;
          }
          if (!template.includes('{subject}')) break;
        }
      }
    }
    return cells;
  }

  it('gives a parent principal no protected value on any route, and records every data decision', async () => {
    const doc = (await w.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    // Listing with a subject filter too.
    doc.paths['/v1/collections/{collection}/records?subject={subject}'] = { get: {} };
    const cells = cellsFromOpenApi(doc.paths);
    expect(cells.length).toBeGreaterThan(1000);
    const routes = new Set(
      cells.map((c) => `${c.method} ${c.url.split('?')[0]?.replace(/us-user-00001|sg-user-00005/, ':s')}`),
    );
    expect([...routes].some((r) => r.startsWith('GET /v1/collections/'))).toBe(true);
    let parentCells = 0;
    let recorded = 0;
    for (const cell of cells) {
      const r = await w.app.inject({
        method: cell.method as 'GET',
        url: cell.url,
        headers: as(w, cell.principal, cell.purpose),
        ...(cell.payload === undefined ? {} : { payload: cell.payload as Record<string, string> }),
      });
      expect(r.statusCode, `${cell.method} ${cell.url} as ${cell.principal}`).toBeLessThan(500);
      if (cell.principal === 'parent-engineer') {
        parentCells++;
        const bytes = JSON.stringify(r.headers) + r.body;
        for (const s of secrets) {
          if (bytes.includes(s))
            throw new Error(`parent received a protected value on ${cell.method} ${cell.url}`);
        }
        if (cell.url.startsWith('/ledger') || cell.url.startsWith('/v1/ledger')) {
          expect(r.statusCode, `${cell.url} must be closed to the parent`).toBe(403);
        }
      }
      if (cell.dataRoute) {
        const header = r.headers['custos-ledger-index'];
        expect(
          header,
          `${cell.method} ${cell.url} as ${cell.principal} (${cell.purpose}) has no receipt`,
        ).toBeDefined();
        const entry = JSON.parse((await w.custos.ledger.receipt(Number(header))).entry) as {
          principal: { id: string };
          decision: string;
        };
        expect(entry.principal.id).toBe(cell.principal);
        expect(['allow', 'deny']).toContain(entry.decision);
        if (r.statusCode === 403) expect(entry.decision).toBe('deny');
        recorded++;
      }
    }
    expect(parentCells).toBeGreaterThan(100);
    expect(recorded).toBeGreaterThan(500);
  }, 300_000);

  it("gives a parent principal, on every export route, only a flow's transformed output", async () => {
    const doc = (await w.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    const exportRoutes = Object.keys(doc.paths).filter((p) => p.includes('/exports'));
    expect(exportRoutes).toEqual(['/v1/flows/{id}/exports']);
    const flows = [...(await w.custos.egress.flows.all()).values()];
    const bodies: (Record<string, unknown> | undefined)[] = [
      undefined,
      { format: 'ndjson' },
      { format: 'csv' },
      { format: 'xml' },
      { fields: { email: 'x' } },
    ];
    let parentExports = 0;
    for (const template of exportRoutes) {
      for (const flowId of [...flows.map((f) => f.id), 'no-such-flow', '0']) {
        const flow = flows.find((f) => f.id === flowId);
        // What this flow lets out verbatim (allowed fields of its sources): the only protected values
        // that may reach its destination. Pseudonymised, generalised and dropped originals may not.
        const allowed = new Set<string>();
        for (const rule of flow?.fields ?? []) {
          if (rule.rule !== 'allow') continue;
          for (const source of flow?.sources ?? [])
            for (const st of w.custos.stores.values())
              for (const loc of await st.scan(undefined, 100_000)) {
                if (loc.collection !== source) continue;
                const v = (await w.custos.records.get(loc.subject, loc.collection, loc.id)).fields[
                  rule.field
                ];
                if (typeof v === 'string') allowed.add(v);
              }
        }
        for (const principal of DEMO_PRINCIPALS) {
          for (const body of bodies) {
            const r = await w.app.inject({
              method: 'POST',
              url: template.replace('{id}', flowId),
              headers: as(w, principal),
              ...(body === undefined ? {} : { payload: body as Record<string, string> }),
            });
            const cell = `POST ${flowId} as ${principal} with ${JSON.stringify(body)}`;
            expect(r.statusCode, cell).toBeLessThan(500);
            const destination =
              flow !== undefined &&
              w.custos.config.principals.find((p) => p.id === principal)?.org === flow.destination;
            if (r.statusCode === 200) expect(destination, `${cell} must be refused`).toBe(true);
            if (r.statusCode === 200 || r.statusCode === 403 || r.statusCode === 409) {
              const header = r.headers['custos-ledger-index'];
              expect(header, `${cell} has no receipt`).toBeDefined();
              const entry = JSON.parse((await w.custos.ledger.receipt(Number(header))).entry) as {
                type: string;
                principal: { id: string };
              };
              expect(entry).toMatchObject({ type: 'egress', principal: { id: principal } });
            }
            if (principal !== 'parent-engineer') continue;
            parentExports++;
            const bytes = JSON.stringify(r.headers) + r.body;
            for (const secret of secrets) {
              if (allowed.has(secret) && r.statusCode === 200) continue;
              if (bytes.includes(secret)) throw new Error(`parent received a protected value on ${cell}`);
            }
          }
        }
      }
    }
    expect(parentExports).toBeGreaterThan(15);
  }, 120_000);
});
