import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhookSignature } from '../src/adapters/webhook/webhook-signature.js';
import { openWebhookSinks, WebhookSink } from '../src/adapters/webhook/webhook-sink.js';
import { CustosError } from '../src/domain/errors.js';
import type { AlertEvent } from '../src/ports/alert-sink.js';
import { AlertDispatcher } from '../src/services/gatekeeping/alert-dispatcher.js';
import { TestClock } from './helpers.js';

const event: AlertEvent = { id: 'e1', type: 'break-glass', time: '2026-11-29T12:00:00.000Z', data: { n: 1 } };

describe('webhook sink', () => {
  let server: Server;
  let url: string;
  /** Status codes to answer, in order; then 200. */
  let script: number[] = [];
  let attempts: { attempt: string; signature: string; body: string }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        attempts.push({
          attempt: String(req.headers['custos-attempt']),
          signature: String(req.headers['custos-signature']),
          body,
        });
        const status = script.shift() ?? 200;
        if (status === 0) return; // never answer: the client times out
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const sink = (extra: Partial<ConstructorParameters<typeof WebhookSink>[0]> = {}) => {
    const sleeps: number[] = [];
    const s = new WebhookSink({
      id: 'soc',
      url,
      secret: Buffer.from('k'),
      events: undefined,
      timeoutMs: 300,
      maxAttempts: 4,
      backoffMs: 100,
      clock: new TestClock(),
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 1,
      ...extra,
    });
    return { s, sleeps };
  };

  it('retries 5xx, 429 and timeouts with exponential backoff, then delivers', async () => {
    script = [503, 429, 0];
    attempts = [];
    const { s, sleeps } = sink();
    await s.send(event);
    expect(attempts.map((a) => a.attempt)).toEqual(['1', '2', '3', '4']);
    expect(sleeps).toEqual([100, 200, 400]);
    const clockSec = Math.floor(new TestClock().now() / 1000);
    for (const a of attempts) {
      expect(a.signature).toBe(signWebhook(Buffer.from('k'), a.body, clockSec));
      expect(verifyWebhookSignature(Buffer.from('k'), a.body, a.signature, clockSec)).toBe(true);
      expect(verifyWebhookSignature(Buffer.from('k'), a.body, a.signature, clockSec + 301)).toBe(false);
    }
  });

  it('does not retry a 4xx, and reports giving up with ALERT_UNDELIVERED', async () => {
    script = [400];
    attempts = [];
    await expect(sink().s.send(event)).rejects.toMatchObject({ code: 'ALERT_UNDELIVERED' });
    expect(attempts).toHaveLength(1);
    script = [500, 500, 500, 500];
    attempts = [];
    await expect(sink().s.send(event)).rejects.toMatchObject({ code: 'ALERT_UNDELIVERED' });
    expect(attempts).toHaveLength(4);
  });

  it('the dispatcher never blocks or throws: failures are counted and reported', async () => {
    script = [400];
    const failures: string[] = [];
    const d = new AlertDispatcher([sink({ events: ['break-glass'] }).s], new TestClock(), (s, e) =>
      failures.push(`${s}:${e.type}`),
    );
    d.emit('break-glass', {});
    d.emit('request.created', {}); // not subscribed
    await d.idle();
    expect(d.stats()).toEqual({ emitted: 2, delivered: 0, failed: 1 });
    expect(failures).toEqual(['soc:break-glass']);
  });

  it('reads the secret when the sink opens, never echoing it', () => {
    const spec = {
      id: 'soc',
      url,
      secret: { kind: 'env' as const, name: 'CUSTOS_TEST_UNSET_SECRET' },
      events: undefined,
      timeoutMs: 100,
      maxAttempts: 1,
      backoffMs: 1,
    };
    delete process.env.CUSTOS_TEST_UNSET_SECRET;
    expect(() => openWebhookSinks([spec], new TestClock())).toThrow(CustosError);
    try {
      openWebhookSinks([{ ...spec, secret: { kind: 'file', path: '/nonexistent/secret' } }], new TestClock());
    } catch (err) {
      expect((err as CustosError).code).toBe('CONFIG_INVALID');
      expect((err as CustosError).message).toContain('secretFile');
    }
    process.env.CUSTOS_TEST_SET_SECRET = 's3cr3t';
    expect(
      openWebhookSinks(
        [{ ...spec, secret: { kind: 'env', name: 'CUSTOS_TEST_SET_SECRET' } }],
        new TestClock(),
      ),
    ).toHaveLength(1);
  });
});
