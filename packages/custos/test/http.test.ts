import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Custos } from '../src/composition-root.js';
import { CustosError } from '../src/domain/errors.js';
import { toErrorResponse } from '../src/interfaces/http/error-handler.js';
import { createServer } from '../src/interfaces/http/server.js';
import { demoCustos } from './helpers.js';

describe('HTTP server skeleton', () => {
  let custos: Custos;
  let app: FastifyInstance;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ custos, cleanup } = await demoCustos());
    app = await createServer(custos);
  });
  afterAll(async () => {
    await app.close();
    await cleanup();
  });

  it('GET /healthz answers ok', async () => {
    const r = await app.inject({ method: 'GET', url: '/healthz' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz checks the custody database and every store', async () => {
    const r = await app.inject({ method: 'GET', url: '/readyz' });
    expect(r.statusCode).toBe(200);
    const body = r.json() as { status: string; checks: Record<string, string> };
    expect(body.status).toBe('ready');
    expect(body.checks['store:us-main']).toBe('ok');
  });

  it('serves an OpenAPI 3.1 document listing the routes', async () => {
    const r = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(r.statusCode).toBe(200);
    const doc = r.json() as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/healthz', '/readyz']));
  });

  it('declares in /openapi.json only path parameters that appear in their path template', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, { parameters?: { in: string; name: string }[] }>>;
    };
    const wrong: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      const inTemplate = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(operations)) {
        const declared = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
        for (const name of declared) {
          if (!inTemplate.includes(name)) wrong.push(`${method.toUpperCase()} ${path}: ${name}`);
        }
      }
    }
    expect(Object.keys(doc.paths)).toContain('/v1/subjects/{subject}/collections/{collection}/records');
    expect(wrong).toEqual([]);
  });

  it('answers an unknown route with a coded 404', async () => {
    const r = await app.inject({ method: 'GET', url: '/v1/nothing/here' });
    expect(r.statusCode).toBe(404);
    expect(r.json()).toEqual({ code: 'NOT_FOUND', message: 'no such route' });
  });

  it('maps every coded error to its status and body in one place', () => {
    expect(toErrorResponse(new CustosError('RESIDENCY_VIOLATION', 'no'))).toEqual({
      status: 409,
      body: { code: 'RESIDENCY_VIOLATION', message: 'no' },
    });
    expect(toErrorResponse(new CustosError('LEDGER_UNAVAILABLE', 'down')).status).toBe(503);
    expect(toErrorResponse(new CustosError('SUBJECT_ERASED', 'gone')).status).toBe(410);
    const internal = toErrorResponse(new Error('secret token abc'));
    expect(internal).toEqual({ status: 500, body: { code: 'INTERNAL', message: 'internal error' } });
  });

  it('refuses oversized and malformed bodies with codes, never a crash', async () => {
    const big = await app.inject({
      method: 'POST',
      url: '/healthz',
      headers: { 'content-type': 'application/json' },
      payload: `{"a":"${'x'.repeat(2 * 1024 * 1024)}"}`,
    });
    expect(big.statusCode).toBeGreaterThanOrEqual(400);
    expect(big.statusCode).toBeLessThan(500);
    const bad = await app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'content-type': 'application/json' },
      payload: '{"unterminated',
    });
    expect(bad.statusCode).toBeLessThan(500);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});
