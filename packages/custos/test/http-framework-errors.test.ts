import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/domain/errors.js';
import { as, type GatewayWorld, gatewayWorld } from './gateway-helpers.js';

const RECORD = '/v1/subjects/us-user-00001/collections/profiles/records';

/** Sends raw bytes over a real socket and reads until the server closes (or 5 s pass). */
function rawHttp(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', (err) => (chunks.length > 0 ? undefined : reject(err)));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.write(request);
  });
}

/** The status and JSON body of a raw HTTP response. */
function parse(response: string): { status: number; body: { code: string; message: string } } {
  const [head = '', body = ''] = response.split('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
  expect(head).toMatch(/content-type: application\/json/i);
  return { status, body: JSON.parse(body) as { code: string; message: string } };
}

/** A coded body (a documented Custos code, its status) that quotes nothing of the request. */
function expectCoded(status: number, body: unknown, code: string, mustNotContain: readonly string[]): void {
  expect(body).toEqual({ code, message: expect.any(String) });
  expect(status).toBe(ERROR_CODES[code as keyof typeof ERROR_CODES]);
  const text = JSON.stringify(body);
  for (const s of mustNotContain) expect(text).not.toContain(s);
}

describe('HTTP: the router and Node refuse with coded bodies that echo nothing', () => {
  let w: GatewayWorld;
  let port: number;
  beforeAll(async () => {
    w = await gatewayWorld(3);
    await w.app.listen({ port: 0, host: '127.0.0.1' });
    port = (w.app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await w.close();
  });

  it('answers a malformed URL component with BAD_REQUEST, not FST_ERR_BAD_URL quoting the URL', async () => {
    const r = await w.app.inject({
      method: 'GET',
      url: `${RECORD}/%FF`,
      headers: as(w, 'operator-app', 'service'),
    });
    expectCoded(r.statusCode, r.json(), 'BAD_REQUEST', ['%FF', 'us-user-00001', 'FST_']);
  });

  it('answers an over-long path parameter with VALIDATION_FAILED, not a 414 quoting the URL', async () => {
    const long = 'a'.repeat(250);
    const r = await w.app.inject({
      method: 'GET',
      url: `${RECORD}/${long}`,
      headers: as(w, 'operator-app', 'service'),
    });
    expectCoded(r.statusCode, r.json(), 'VALIDATION_FAILED', [long, 'us-user-00001', 'FST_']);
  });

  it('refuses headers over 16 KB with HEADERS_TOO_LARGE, over a real socket', async () => {
    const secret = `Bearer ${'t'.repeat(17 * 1024)}`;
    const res = parse(
      await rawHttp(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: ${secret}\r\n\r\n`),
    );
    expectCoded(res.status, res.body, 'HEADERS_TOO_LARGE', ['ttttttttt']);
  });

  const malformed: readonly [string, string][] = [
    ['a negative Content-Length', 'Content-Length: -1\r\n\r\n'],
    ['two different Content-Lengths', 'Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}'],
    [
      'Content-Length with Transfer-Encoding',
      'Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
    ],
    ['a bad chunk size', 'Transfer-Encoding: chunked\r\n\r\nzz-secret\r\n{}\r\n0\r\n\r\n'],
  ];
  for (const [what, rest] of malformed) {
    it(`refuses ${what} with BAD_REQUEST as JSON, over a real socket`, async () => {
      const head = 'POST /v1/access/requests HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n';
      const res = parse(await rawHttp(port, head + rest));
      expectCoded(res.status, res.body, 'BAD_REQUEST', ['secret', 'Client Error']);
    });
  }

  it('keeps serving after the refusals', async () => {
    const res = await rawHttp(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(res).toMatch(/^HTTP\/1\.1 200/);
  });

  it('accepts only JSON bodies: text/plain is 415 UNSUPPORTED_MEDIA_TYPE, not a validation error', async () => {
    const r = await w.app.inject({
      method: 'POST',
      url: '/v1/access/requests',
      headers: { ...as(w, 'operator-engineer'), 'content-type': 'text/plain' },
      payload: '{"scope":{}}',
    });
    expectCoded(r.statusCode, r.json(), 'UNSUPPORTED_MEDIA_TYPE', ['scope']);
    const put = await w.app.inject({
      method: 'PUT',
      url: `${RECORD}/profile`,
      headers: { ...as(w, 'operator-app', 'service'), 'content-type': 'text/plain' },
      payload: 'hello',
    });
    expect([put.statusCode, (put.json() as { code: string }).code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
  });

  it('exposes no HEAD routes: a HEAD on a record reads nothing and records nothing', async () => {
    const before = w.custos.ledger.size;
    for (const url of [`${RECORD}/profile`, '/ledger/checkpoint', '/v1/flows', '/healthz']) {
      const r = await w.app.inject({ method: 'HEAD', url, headers: as(w, 'custodian-officer', 'custody') });
      expect(r.statusCode, url).toBe(404);
    }
    expect(w.custos.ledger.size).toBe(before);
    const get = await w.app.inject({
      method: 'GET',
      url: `${RECORD}/profile`,
      headers: as(w, 'custodian-officer', 'custody'),
    });
    expect(get.statusCode).toBe(200);
  });
});
