import { randomUUID } from 'node:crypto';
import type { AlertEventType } from '../../domain/governance-config-schema.js';
import type { AlertEvent, AlertSink, AlertValue } from '../../ports/alert-sink.js';
import type { Clock } from '../../ports/clock.js';

/** Delivery counters, for health and tests. */
export interface AlertStats {
  readonly emitted: number;
  readonly delivered: number;
  readonly failed: number;
}

/**
 * Fans events out to every sink that wants them, at once and without blocking the caller: a
 * request or approval never waits on (or fails because of) a webhook. Failures are counted and
 * passed to `onFailure` (the server logs them).
 */
export class AlertDispatcher {
  private readonly inflight = new Set<Promise<void>>();
  private emitted = 0;
  private delivered = 0;
  private failed = 0;

  constructor(
    private readonly sinks: readonly AlertSink[],
    private readonly clock: Clock,
    private readonly onFailure: (sink: string, event: AlertEvent, err: unknown) => void = () => {},
  ) {}

  /** Sends an event to every accepting sink in the background; returns the event. */
  emit(type: AlertEventType, data: Record<string, AlertValue>): AlertEvent {
    const event: AlertEvent = {
      id: randomUUID(),
      type,
      time: new Date(this.clock.now()).toISOString(),
      data,
    };
    this.emitted++;
    for (const sink of this.sinks) {
      if (!sink.accepts(type)) continue;
      const p = sink.send(event).then(
        () => {
          this.delivered++;
        },
        (err: unknown) => {
          this.failed++;
          this.onFailure(sink.id, event, err);
        },
      );
      this.inflight.add(p);
      void p.finally(() => this.inflight.delete(p));
    }
    return event;
  }

  /** Resolves when every delivery started so far has finished (delivered or given up). */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  /** Counters since start. */
  stats(): AlertStats {
    return { emitted: this.emitted, delivered: this.delivered, failed: this.failed };
  }
}
