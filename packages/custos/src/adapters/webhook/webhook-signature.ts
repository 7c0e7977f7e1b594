import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header carrying the signature: `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const SIGNATURE_HEADER = 'custos-signature';

/**
 * Signs a webhook body: HMAC-SHA256 under the shared secret of `<t>.<body>`, where `t` is the
 * delivery time in Unix seconds. Binding the time lets receivers refuse replays of old deliveries.
 */
export function signWebhook(secret: Uint8Array, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.`).update(body, 'utf8').digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * Verifies a signature header (what a receiver does): the MAC must match in constant time and the
 * timestamp be within `toleranceSec` of `nowSec`. Returns false on any malformed input.
 */
export function verifyWebhookSignature(
  secret: Uint8Array,
  body: string,
  header: string | undefined,
  nowSec: number,
  toleranceSec = 300,
): boolean {
  const m = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!m) return false;
  const t = Number(m[1]);
  if (Math.abs(nowSec - t) > toleranceSec) return false;
  const expected = Buffer.from(signWebhook(secret, body, t).slice(-64), 'hex');
  return timingSafeEqual(expected, Buffer.from(m[2] ?? '', 'hex'));
}
