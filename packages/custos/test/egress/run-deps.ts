import { randomBytes } from 'node:crypto';
import type { Custos } from '../../src/composition-root.js';
import type { RunDeps } from '../../src/services/egress/export-run.js';

/** What `runExport` needs, from a Custos (with a fresh custodian key), with some parts replaced. */
export function runDeps(custos: Custos, over: Partial<RunDeps> = {}): RunDeps {
  return {
    config: custos.config,
    router: custos.router,
    records: custos.records,
    subjectStore: custos.subjectStore,
    ledger: custos.ledger,
    store: custos.egressStore,
    alerts: custos.gatekeeping.alerts,
    clock: custos.clock,
    custodianKey: randomBytes(32),
    ...over,
  };
}

/** The first step of an export, settled: its first chunk, or what it threw. */
export function firstStep(chunks: AsyncGenerator<string, void>): Promise<unknown> {
  return chunks.next().catch((e: unknown) => e);
}
