import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayWorld, gatewayWorld } from './gateway-helpers.js';

const segment = fc.oneof(
  fc.constantFrom(
    'us-user-00001',
    'sg-user-00005',
    'profiles',
    'messages',
    'metrics',
    'profile',
    'msg-1',
    '..',
    '.',
    '%00',
    '%2e%2e',
    '%ff',
    '~',
    '',
  ),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.string({ unit: 'binary', maxLength: 20 }).map((s) => encodeURIComponent(s)),
  fc.stringMatching(/^[A-Za-z0-9_.:-]{100,300}$/),
);

const path = fc.oneof(
  fc.tuple(segment, segment, segment).map(([s, c, i]) => `/v1/subjects/${s}/collections/${c}/records/${i}`),
  fc.tuple(segment, segment).map(([s, c]) => `/v1/subjects/${s}/collections/${c}/records`),
  fc.tuple(segment, fc.string({ maxLength: 30 })).map(([c, q]) => `/v1/collections/${c}/records?${q}`),
  fc.tuple(segment, fc.integer()).map(([c, n]) => `/v1/collections/${c}/records?limit=${n}&cursor=${c}`),
  fc.tuple(segment, segment).map(([a, b]) => `/ledger/tile/${a}/${b}`),
  fc
    .tuple(segment, fc.string({ maxLength: 12 }))
    .map(([a, b]) => `/v1/ledger/entries/${a}?x=${encodeURIComponent(b)}`),
  fc
    .tuple(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }))
    .map(
      ([a, b]) => `/v1/ledger/proofs/consistency?from=${encodeURIComponent(a)}&to=${encodeURIComponent(b)}`,
    ),
  fc.constantFrom('/healthz', '/readyz', '/openapi.json', '/', '//', '/v1', '/ledger/checkpoint'),
);

const body = fc.oneof(
  fc.constant(undefined),
  fc.json({ maxDepth: 4 }),
  fc.string({ maxLength: 200 }),
  fc.constantFrom(
    '{"fields":{"email":"x"}}',
    '{"fields":{"email":{"a":1}}}',
    '{"fields":[]}',
    '{"fields":{}}',
    '{',
    'null',
    '[]',
    '{"fields":{"__proto__":{"x":1}}}',
  ),
  fc.integer({ min: 1, max: 200 }).map((d) => `${'['.repeat(d)}${']'.repeat(d)}`),
  fc.integer({ min: 1, max: 200 }).map((d) => `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`),
  fc.uint8Array({ maxLength: 100 }).map((b) => Buffer.from(b)),
);

describe('fuzzing the HTTP surface', () => {
  let w: GatewayWorld;
  beforeAll(async () => {
    w = await gatewayWorld(3);
  });
  afterAll(async () => {
    await w.close();
  });

  it('answers 10,000 random malformed requests without a 5xx, a crash or unbounded memory', async () => {
    const valid = w.tokens['operator-app'] ?? '';
    const token = fc.oneof(
      fc.constant(undefined),
      fc.constant(`Bearer ${valid}`),
      fc.constant(`Bearer ${w.tokens['parent-engineer']}`),
      fc.string({ maxLength: 60 }),
      fc.string({ maxLength: 60 }).map((s) => `Bearer ${s}`),
      fc
        .tuple(fc.nat({ max: valid.length - 1 }), fc.string({ minLength: 1, maxLength: 1 }))
        .map(([i, c]) => `Bearer ${valid.slice(0, i)}${c}${valid.slice(i + 1)}`),
      fc.constant(`Bearer ${Buffer.from('{"alg":"none"}').toString('base64url')}.${valid.split('.')[1]}.`),
    );
    const request = fc.record({
      method: fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
      url: path,
      authorization: token,
      purpose: fc.option(fc.oneof(fc.constantFrom('service', 'custody', ''), fc.string({ maxLength: 30 })), {
        nil: undefined,
      }),
      contentType: fc.constantFrom(
        'application/json',
        'text/plain',
        'application/json; charset=latin1',
        'multipart/form-data',
        '',
      ),
      body,
    });
    const rssBefore = process.memoryUsage().rss;
    let n = 0;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const headers: Record<string, string> = {};
        if (r.authorization !== undefined) headers.authorization = r.authorization;
        if (r.purpose !== undefined) headers['custos-purpose'] = r.purpose;
        if (r.contentType !== '') headers['content-type'] = r.contentType;
        let res: Awaited<ReturnType<typeof w.app.inject>>;
        try {
          res = await w.app.inject({
            method: r.method as 'GET',
            url: r.url,
            headers,
            ...(r.body === undefined || r.method === 'GET' || r.method === 'HEAD'
              ? {}
              : {
                  payload:
                    typeof r.body === 'string' || Buffer.isBuffer(r.body) ? r.body : JSON.stringify(r.body),
                }),
          });
        } catch (err) {
          // light-my-request itself refuses some invalid URLs before they reach the server.
          expect(String(err)).toMatch(/Invalid|URL|url/);
          return;
        }
        n++;
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        expect(res.statusCode, `${r.method} ${r.url} → ${res.body.slice(0, 200)}`).toBeLessThan(500);
        if (res.statusCode >= 400 && r.method !== 'HEAD') {
          const b = JSON.parse(res.body) as { code?: unknown };
          expect(typeof b.code).toBe('string');
          expect(res.body).not.toContain(valid.split('.')[2] ?? '~');
        }
      }),
      { numRuns: 10_000 },
    );
    expect(n).toBeGreaterThan(9000);
    expect((await w.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const growthMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    expect(growthMb).toBeLessThan(300);
  }, 300_000);
});
