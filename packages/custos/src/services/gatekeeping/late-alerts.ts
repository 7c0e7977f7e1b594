import type { AlertDispatcher } from './alert-dispatcher.js';

/** Most events held while no dispatcher is attached; older ones are dropped past it. */
const MAX_HELD = 100;

/**
 * Alerts for a part that starts before the alert dispatcher exists (the shared ledger's
 * sequencer): events raised before `attach` are held (at most 100, the newest kept) and sent when
 * the dispatcher is attached; later ones go straight out.
 */
export class LateAlerts<T> {
  private dispatcher: AlertDispatcher | undefined;
  private held: T[] = [];

  constructor(private readonly send: (alerts: AlertDispatcher, event: T) => void) {}

  /** Sends `event`, or holds it until a dispatcher is attached. */
  emit(event: T): void {
    if (this.dispatcher !== undefined) {
      this.send(this.dispatcher, event);
      return;
    }
    this.held.push(event);
    if (this.held.length > MAX_HELD) this.held.shift();
  }

  /** Attaches the dispatcher and sends what was held, in order. */
  attach(dispatcher: AlertDispatcher): void {
    this.dispatcher = dispatcher;
    const held = this.held;
    this.held = [];
    for (const event of held) this.send(dispatcher, event);
  }
}
