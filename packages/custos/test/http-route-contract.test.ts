import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, type GatewayWorld, gatewayWorld } from './gateway-helpers.js';

interface Operation {
  security?: unknown[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: { type?: unknown } }> };
  parameters?: { in: string; name: string; required?: boolean }[];
  responses: Record<string, { content?: Record<string, unknown> }>;
}
type Doc = { paths: Record<string, Record<string, Operation>> };

/** Every documented route as method, concrete URL (path parameters filled with valid ids) and operation. */
function routesOf(doc: Doc): { method: string; path: string; url: string; op: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      url: path.replace(/\{[^}]+\}/g, '1'),
      op,
    })),
  );
}

const optional = (op: Operation) =>
  Object.values(op.requestBody?.content ?? {}).some(
    (m) => Array.isArray(m.schema?.type) && m.schema.type.includes('null'),
  );

/** A body each route with a required body accepts, so that only the query string is wrong. */
const VALID_BODIES: Record<string, unknown> = {
  'POST /v1/access/requests': {
    scope: { collections: ['messages'], subjects: ['us-user-00001'] },
    purpose: 'SUPPORT_TICKET',
    detail: 'd',
    durationHours: 1,
  },
  'POST /v1/access/break-glass': {
    scope: { collections: ['messages'], subjects: ['us-user-00001'] },
    purpose: 'SUPPORT_TICKET',
  },
  'POST /v1/access/grants/{id}/review': { verdict: 'justified' },
  'POST /v1/policy/proposals': { files: [{ name: 'a.cedar', text: '' }], summary: 's' },
  'POST /v1/flows/proposals': { flow: {}, summary: 's' },
  'PUT /v1/subjects/{subject}/collections/{collection}/records/{id}': { fields: {} },
  'POST /v1/subjects/{subject}/collections/{collection}/records': { fields: {} },
};

describe('HTTP: every route authenticates first, refuses unknown query parameters, documents itself', () => {
  let w: GatewayWorld;
  let doc: Doc;
  beforeAll(async () => {
    w = await gatewayWorld(3);
    doc = (await w.app.inject({ method: 'GET', url: '/openapi.json' })).json() as Doc;
  });
  afterAll(async () => {
    await w.close();
  });

  it('declares a bearer token on every route but health', () => {
    const open = routesOf(doc)
      .filter((r) => !r.op.security?.length)
      .map((r) => r.path);
    expect(open.sort()).toEqual(['/healthz', '/readyz']);
  });

  it('answers 401 AUTH_REQUIRED without a token before looking at the body, on every secured route', async () => {
    const secured = routesOf(doc).filter((r) => r.op.security?.length);
    expect(secured.length).toBeGreaterThan(30);
    for (const r of secured) {
      const res = await w.app.inject({
        method: r.method as 'GET',
        url: r.url,
        ...(r.method === 'GET' || r.method === 'DELETE' ? {} : { payload: {} }),
      });
      expect([res.statusCode, (res.json() as { code: string }).code], `${r.method} ${r.path}`).toEqual([
        401,
        'AUTH_REQUIRED',
      ]);
    }
  });

  it('refuses an unknown query parameter on every route with 400 VALIDATION_FAILED', async () => {
    for (const r of routesOf(doc)) {
      const body = VALID_BODIES[`${r.method} ${r.path}`] ?? (r.op.requestBody ? {} : undefined);
      const res = await w.app.inject({
        method: r.method as 'GET',
        url: `${r.url}?evil=1`,
        headers: as(w, 'custodian-officer', 'custody'),
        ...(body === undefined ? {} : { payload: body as object }),
      });
      const b = res.json() as { code: string; message: string };
      expect([res.statusCode, b.code], `${r.method} ${r.path}: ${res.body}`).toEqual([
        400,
        'VALIDATION_FAILED',
      ]);
      expect(b.message, `${r.method} ${r.path}`).toMatch(/querystring/);
    }
  });

  it('reads an empty JSON body as {} on the routes whose body is optional', async () => {
    const routes = routesOf(doc).filter((r) => r.op.requestBody && optional(r.op));
    expect(routes.map((r) => r.path)).toEqual(
      expect.arrayContaining([
        '/v1/access/requests/{id}/approve',
        '/v1/access/requests/{id}/deny',
        '/v1/access/grants/{id}/revoke',
        '/v1/flows/{id}/exports',
        '/v1/policy/proposals/{id}/activate',
        '/v1/flows/proposals/{id}/activate',
      ]),
    );
    for (const r of routes) {
      const res = await w.app.inject({
        method: 'POST',
        url: r.url,
        headers: { ...as(w, 'custodian-approver'), 'content-type': 'application/json' },
      });
      const b = res.json() as { code: string };
      expect(res.statusCode, `${r.path}: ${res.body}`).not.toBe(400);
      expect(b.code, r.path).toMatch(
        /_NOT_FOUND$|NOT_PERMITTED|NOT_AN_APPROVER|EGRESS_NO_FLOW|ACCESS_DENIED/,
      );
    }
    // A required body stays required.
    const res = await w.app.inject({
      method: 'POST',
      url: '/v1/access/requests',
      headers: { ...as(w, 'operator-engineer'), 'content-type': 'application/json' },
    });
    expect([res.statusCode, (res.json() as { code: string }).code]).toEqual([400, 'BAD_REQUEST']);
  });

  it('documents what the routes do: ledger security and refusals, optional bodies, the purpose header, JSON errors', () => {
    const ledger = routesOf(doc).filter(
      (r) => r.path.startsWith('/ledger') || r.path.startsWith('/v1/ledger'),
    );
    expect(ledger.length).toBeGreaterThanOrEqual(5);
    for (const r of ledger) {
      expect(r.op.security, r.path).toEqual([{ bearer: [] }]);
      expect(Object.keys(r.op.responses), r.path).toEqual(expect.arrayContaining(['401', '403']));
    }
    for (const path of [
      '/v1/flows/{id}/exports',
      '/v1/policy/proposals/{id}/activate',
      '/v1/flows/proposals/{id}/activate',
    ]) {
      expect(doc.paths[path]?.post?.requestBody?.required, path).toBe(false);
    }
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const purpose = op.parameters?.find((p) => p.in === 'header' && p.name === 'custos-purpose');
        if (path.includes('/records')) expect(purpose?.required, `${method} ${path}`).toBe(true);
        // Every error answer is JSON, whatever the route's success type.
        for (const [status, res] of Object.entries(op.responses)) {
          if (Number(status) >= 400 && res.content)
            expect(Object.keys(res.content), `${method} ${path} ${status}`).toEqual(['application/json']);
        }
      }
    }
    const checkpoint = doc.paths['/ledger/checkpoint']?.get;
    expect(Object.keys(checkpoint?.responses['200']?.content ?? {})).toEqual(['text/plain']);
    expect(Object.keys(checkpoint?.responses['503']?.content ?? {})).toEqual(['application/json']);
    for (const item of Object.values(doc.paths)) expect(Object.keys(item)).not.toContain('head');
  });
});
