import type { LedgerQueue } from '../../ports/ledger-queue.js';
import { LedgerQueueClient, type QueueClientOptions } from './ledger-queue-client.js';
import type { SharedLedger } from './ledger-service.js';
import { LedgerSequencer, type SequencerOptions, type SequencerStats } from './sequencer.js';

/** Settings of a process in a shared ledger. */
export interface SharedLedgerOptions extends SequencerOptions, QueueClientOptions {
  /** Contend for the sequencer lock (`custos serve`); false for short-lived tools, which only queue. */
  readonly sequence: boolean;
}

/** The multi-instance mode of one process, as `LedgerService` uses it, plus its sequencer's counters. */
export interface SharedLedgerHandle extends SharedLedger {
  /** The sequencer's counters (undefined when this process does not contend). */
  stats(): SequencerStats | undefined;
}

/**
 * Wires a process into a shared ledger: a queue client for its appends and, unless `sequence` is
 * false, a sequencer that contends for the lock from now on. `close` stops both and the queue.
 */
export function createSharedLedger(queue: LedgerQueue, options: SharedLedgerOptions): SharedLedgerHandle {
  const settle: { client?: LedgerQueueClient } = {};
  const sequencer = options.sequence
    ? new LedgerSequencer(
        queue,
        options,
        (sequenced) => settle.client?.settle(sequenced),
        (entry) => (settle.client as LedgerQueueClient).appendQueued(entry),
      )
    : undefined;
  const client = new LedgerQueueClient(queue, sequencer, options);
  settle.client = client;
  sequencer?.start();
  return {
    append: (entry) => client.append(entry),
    isSequencer: () => client.isSequencer(),
    stats: () => sequencer?.stats(),
    async close() {
      client.close();
      await sequencer?.close();
      await queue.close();
    },
  };
}
