import type { AlertEventType } from '../domain/governance-config-schema.js';

/** A flat alert value: like ledger details, never a record value or a raw subject id. */
export type AlertValue = string | number | boolean | null | readonly string[];

/** One notification: a gatekeeping event worth a human's attention. */
export interface AlertEvent {
  /** Unique delivery id, so receivers can drop duplicates of a retried delivery. */
  readonly id: string;
  readonly type: AlertEventType;
  /** RFC 3339 time of the event (from the injected clock). */
  readonly time: string;
  readonly data: Readonly<Record<string, AlertValue>>;
}

/**
 * Where alerts go (webhook, chat, pager). `send` resolves once the event is delivered, or rejects
 * after the sink gave up; callers never wait on it in a request path.
 */
export interface AlertSink {
  readonly id: string;
  /** True when this sink wants events of this type. */
  accepts(type: AlertEventType): boolean;
  send(event: AlertEvent): Promise<void>;
}
