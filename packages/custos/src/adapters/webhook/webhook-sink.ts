import { readFileSync } from 'node:fs';
import { CustosError } from '../../domain/errors.js';
import type { WebhookSpec } from '../../domain/governance-config.js';
import type { AlertEventType } from '../../domain/governance-config-schema.js';
import type { AlertEvent, AlertSink } from '../../ports/alert-sink.js';
import type { Clock } from '../../ports/clock.js';
import { SIGNATURE_HEADER, signWebhook } from './webhook-signature.js';

/** Longest wait between two attempts. */
const MAX_BACKOFF_MS = 60_000;

/** Settings of one webhook sink; `sleep`, `fetch` and `random` are injectable for tests. */
export interface WebhookSinkOptions {
  readonly id: string;
  readonly url: string;
  readonly secret: Uint8Array;
  readonly events: readonly AlertEventType[] | undefined;
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly backoffMs: number;
  readonly clock: Clock;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly fetch?: typeof fetch;
  readonly random?: () => number;
}

const realSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

/** True for answers worth retrying: server errors, rate limiting and request timeouts. */
function retryable(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

/**
 * Delivers alerts by HTTP POST of the event as JSON, signed with HMAC-SHA256 (see
 * `signWebhook`), retried on network errors, timeouts, 5xx, 408 and 429 with exponential backoff
 * and jitter. Other 4xx answers are final. Redirects are not followed.
 */
export class WebhookSink implements AlertSink {
  readonly id: string;
  private readonly options: WebhookSinkOptions;

  constructor(options: WebhookSinkOptions) {
    this.id = options.id;
    this.options = options;
  }

  accepts(type: AlertEventType): boolean {
    return this.options.events === undefined || this.options.events.includes(type);
  }

  async send(event: AlertEvent): Promise<void> {
    const o = this.options;
    const body = JSON.stringify(event);
    const doFetch = o.fetch ?? fetch;
    let last = 'no attempt';
    for (let attempt = 1; attempt <= o.maxAttempts; attempt++) {
      const t = Math.floor(o.clock.now() / 1000);
      try {
        const res = await doFetch(o.url, {
          method: 'POST',
          redirect: 'manual',
          signal: AbortSignal.timeout(o.timeoutMs),
          headers: {
            'content-type': 'application/json',
            'user-agent': 'custos-webhook/1',
            'custos-event': event.type,
            'custos-delivery': event.id,
            'custos-attempt': String(attempt),
            [SIGNATURE_HEADER]: signWebhook(o.secret, body, t),
          },
          body,
        });
        await res.body?.cancel().catch(() => {});
        if (res.status >= 200 && res.status < 300) return;
        last = `HTTP ${res.status}`;
        if (!retryable(res.status)) break;
      } catch (err) {
        last = (err as Error).name === 'TimeoutError' ? 'timed out' : 'connection failed';
      }
      if (attempt < o.maxAttempts) {
        const base = Math.min(MAX_BACKOFF_MS, o.backoffMs * 2 ** (attempt - 1));
        await (o.sleep ?? realSleep)(Math.round(base * (0.5 + 0.5 * (o.random ?? Math.random)())));
      }
    }
    throw new CustosError('ALERT_UNDELIVERED', `webhook ${o.id}: ${event.type} not delivered (${last})`);
  }
}

/** Reads a webhook's secret from its environment variable or file; never echoes the value. */
function readSecret(spec: WebhookSpec, index: number): Uint8Array {
  const where = `governance.alerts.webhooks[${index}]`;
  if (spec.secret.kind === 'env') {
    const v = process.env[spec.secret.name];
    if (v === undefined || v === '')
      throw new CustosError(
        'CONFIG_INVALID',
        `${where}.secretEnv: environment variable ${spec.secret.name} is not set`,
      );
    return Buffer.from(v, 'utf8');
  }
  try {
    const v = readFileSync(spec.secret.path, 'utf8').trim();
    if (v === '') throw new Error('empty');
    return Buffer.from(v, 'utf8');
  } catch {
    throw new CustosError('CONFIG_INVALID', `${where}.secretFile: cannot read ${spec.secret.path}`);
  }
}

/** Opens the configured webhook sinks (reading their secrets now, not at config load). */
export function openWebhookSinks(specs: readonly WebhookSpec[], clock: Clock): WebhookSink[] {
  return specs.map(
    (s, i) =>
      new WebhookSink({
        id: s.id,
        url: s.url,
        secret: readSecret(s, i),
        events: s.events,
        timeoutMs: s.timeoutMs,
        maxAttempts: s.maxAttempts,
        backoffMs: s.backoffMs,
        clock,
      }),
  );
}
