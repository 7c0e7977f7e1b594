import { describe, expect, it } from 'vitest';
import { AlertDispatcher } from '../src/services/gatekeeping/alert-dispatcher.js';
import { LateAlerts } from '../src/services/gatekeeping/late-alerts.js';
import { recordingSink, TestClock } from './helpers.js';

describe('LateAlerts (alerts of parts that start before the dispatcher)', () => {
  it('holds events raised before the dispatcher is attached, then sends them in order, then sends directly', async () => {
    const { sink, events } = recordingSink();
    const late = new LateAlerts<number>((alerts, n) => alerts.emit('ledger.rejected', { count: n }));
    late.emit(1);
    late.emit(2);
    expect(events).toEqual([]);
    late.attach(new AlertDispatcher([sink], new TestClock()));
    late.emit(3);
    await new Promise((r) => setTimeout(r, 10));
    expect(events.map((e) => e.data.count)).toEqual([1, 2, 3]);
  });

  it('holds at most 100 events, keeping the newest', async () => {
    const { sink, events } = recordingSink();
    const late = new LateAlerts<number>((alerts, n) => alerts.emit('ledger.rejected', { count: n }));
    for (let i = 0; i < 150; i++) late.emit(i);
    late.attach(new AlertDispatcher([sink], new TestClock()));
    await new Promise((r) => setTimeout(r, 10));
    expect(events.map((e) => e.data.count)).toEqual(Array.from({ length: 100 }, (_, i) => i + 50));
  });
});
