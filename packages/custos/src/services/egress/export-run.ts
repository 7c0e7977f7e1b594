import { createHash } from 'node:crypto';
import type { CustosConfig } from '../../domain/config.js';
import type { FlowSpec } from '../../domain/egress-config.js';
import { CustosError, type ErrorCode, isCustosError } from '../../domain/errors.js';
import type { Principal } from '../../domain/principal.js';
import type { Clock } from '../../ports/clock.js';
import type { EgressStore, MeterBatch } from '../../ports/egress-store.js';
import type { AlertDispatcher } from '../gatekeeping/alert-dispatcher.js';
import type { GatekeepingLedger } from '../gatekeeping/gatekeeping-entries.js';
import { Aggregator } from './aggregation.js';
import { type DlpHit, leaksForbidden, scanPatterns } from './dlp.js';
import { egressEntry, flowDetails } from './egress-entries.js';
import { type ExportFormat, type ExportSummary, RowEncoder, trailerOf } from './export-format.js';
import { FlowTransform, flowKey, type OutValue } from './flow-transform.js';
import { readBatches, type SourceDeps, type SourceRecord } from './read-batches.js';

/** The rolling window of the volume limits: 12 months (365 days). */
export const WINDOW_MS = 365 * 24 * 3_600_000;

/** Everything an export run needs, from the egress service. */
export interface RunDeps extends SourceDeps {
  readonly config: CustosConfig;
  readonly ledger: GatekeepingLedger;
  readonly store: EgressStore;
  readonly alerts: AlertDispatcher;
  readonly clock: Clock;
  /** The custodian's egress key; each flow's pseudonymisation key is derived from it. */
  readonly custodianKey: Uint8Array;
}

/** One export: who, which flow, which format, and the ledger entry that allowed it. */
export interface RunRequest {
  readonly principal: Principal;
  readonly flow: FlowSpec;
  readonly format: ExportFormat;
  readonly startIndex: number;
}

class Stop extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly reason: string,
    readonly extra: Record<string, string | number> = {},
  ) {
    super(reason);
  }
}

/** Per data type, the pseudonyms of the subjects whose tagged fields a batch lets out. */
function meterBatches(
  config: CustosConfig,
  transform: FlowTransform,
  batch: readonly SourceRecord[],
  refOf: (subject: string) => string,
): MeterBatch[] {
  const byType = new Map<string, Set<string>>();
  for (const r of batch) {
    const tags = config.egress.dataTypes[r.collection];
    if (tags === undefined) continue;
    for (const name of Object.keys(r.fields)) {
      const type = tags[name];
      const rule = transform.rule(name);
      if (type === undefined || rule === undefined || rule.rule === 'drop') continue;
      const set = byType.get(type) ?? new Set<string>();
      set.add(r.subject);
      byType.set(type, set);
    }
  }
  return [...byType].map(([dataType, subjects]) => ({ dataType, refs: [...subjects].map(refOf) }));
}

/**
 * Runs one export as a stream of text chunks. Each batch is transformed, checked for leaks (the
 * originals the flow withholds, then identifier patterns in the encoded text), metered against the
 * counterparty's 12-month limits, and only then yielded. A stop before any byte went out throws
 * the coded error; after, the last chunk is a trailer saying so. Either way one `egress` entry
 * records the whole export (rows, records, distinct subjects, suppressed groups, output digest).
 */
export async function* runExport(deps: RunDeps, req: RunRequest): AsyncGenerator<string, void> {
  const { flow, format } = req;
  const transform = new FlowTransform(flow, flowKey(deps.custodianKey, flow.id), deps.config.collections);
  const agg = flow.aggregate
    ? new Aggregator(flow.aggregate.groupBy, flow.aggregate.metrics, flow.aggregate.minGroupSize)
    : undefined;
  const encoder = new RowEncoder(format, agg ? agg.columns() : transform.columns);
  const hash = createHash('sha256');
  const subjects = new Set<string>();
  const counts = { rows: 0, records: 0, suppressedGroups: 0, suppressedRecords: 0, bytes: 0 };
  let sent = false;
  let finished = false;

  const summary = (status: ExportSummary['status'], code?: string, ledgerIndex?: number): ExportSummary => ({
    status,
    ...(code === undefined ? {} : { code }),
    flow: flow.id,
    rows: counts.rows,
    records: counts.records,
    subjects: subjects.size,
    suppressedGroups: counts.suppressedGroups,
    suppressedRecords: counts.suppressedRecords,
    digest: `sha256:${hash.copy().digest('hex')}`,
    ...(ledgerIndex === undefined ? {} : { ledgerIndex }),
  });

  /** Records the end of the export; resolves with its index, or undefined when the ledger failed. */
  const record = async (
    action: string,
    s: ExportSummary,
    reason?: string,
    extra = {},
  ): Promise<number | undefined> => {
    try {
      const { index } = await deps.ledger.append(
        egressEntry(
          req.principal,
          action,
          s.status === 'complete' ? 'allow' : 'deny',
          reason ? [reason] : [],
          {
            ...flowDetails(flow),
            format,
            startIndex: req.startIndex,
            rows: s.rows,
            records: s.records,
            subjects: s.subjects,
            suppressedGroups: s.suppressedGroups,
            suppressedRecords: s.suppressedRecords,
            bytes: counts.bytes,
            digest: s.digest,
            ...(s.code === undefined ? {} : { code: s.code }),
            ...extra,
          },
          { count: s.rows },
        ),
      );
      return index;
    } catch {
      return undefined;
    }
  };

  const emit = (text: string): string => {
    hash.update(text);
    counts.bytes += Buffer.byteLength(text);
    sent = true;
    return text;
  };

  const refs = new Map<string, string>();
  const refOf = (s: string): string => {
    let r = refs.get(s);
    if (r === undefined) {
      r = deps.ledger.subjectRef(s);
      if (refs.size > 100_000) refs.clear();
      refs.set(s, r);
    }
    return r;
  };
  const dlp = (hit: DlpHit): Stop => new Stop('EGRESS_DLP_BLOCKED', 'dlp', { detector: hit.detector });

  try {
    try {
      for await (const batch of readBatches(deps, flow, deps.config.egress.batchSize)) {
        const out: Record<string, OutValue>[] = [];
        for (const r of batch) {
          const t = transform.apply(r.subject, r.collection, r.fields);
          const visible = agg
            ? Object.fromEntries(flow.aggregate?.groupBy.map((g) => [g, t.values[g] ?? null]) ?? [])
            : t.values;
          if (leaksForbidden(visible, t.forbidden)) throw dlp({ detector: 'protected-value' });
          out.push(t.values);
        }
        const text = agg ? '' : encoder.encode(out);
        const hit = agg ? undefined : scanPatterns(text);
        if (hit) throw dlp(hit);
        const metered = meterBatches(deps.config, transform, batch, refOf);
        if (metered.length > 0) {
          const m = await deps.store.meter({
            counterparty: flow.destination,
            batches: metered,
            at: deps.clock.now(),
            since: deps.clock.now() - WINDOW_MS,
            limits: flow.limits,
          });
          if (!m.ok)
            throw new Stop('EGRESS_LIMIT_EXCEEDED', 'volume-limit', {
              dataType: m.dataType,
              limit: m.limit,
              wouldBe: m.total,
            });
        }
        for (const r of batch) subjects.add(r.subject);
        counts.records += batch.length;
        if (agg) {
          batch.forEach((r, i) => {
            agg.add(r.subject, out[i] ?? {});
          });
        } else {
          counts.rows += out.length;
          yield emit(text);
        }
      }
      if (agg) {
        const res = agg.result();
        const text = encoder.encode(res.rows);
        const hit = scanPatterns(text);
        if (hit) throw dlp(hit);
        counts.rows = res.rows.length;
        counts.suppressedGroups = res.suppressedGroups;
        counts.suppressedRecords = res.suppressedRecords;
        yield emit(text);
      } else if (!encoder.started) yield emit(encoder.encode([]));
    } catch (err) {
      if (err instanceof Stop) throw err;
      const code: ErrorCode = isCustosError(err) ? err.code : 'INTERNAL';
      throw new Stop(code, 'error');
    }
    const done = summary('complete');
    const index = await record('export-complete', done);
    finished = true;
    if (index === undefined) {
      yield trailerOf(format, summary('stopped', 'LEDGER_UNAVAILABLE'));
      return;
    }
    yield trailerOf(format, { ...done, ledgerIndex: index });
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
    finished = true;
    const s = summary('stopped', err.code);
    const index = await record('export-stopped', s, err.reason, err.extra);
    const alert =
      err.code === 'EGRESS_DLP_BLOCKED'
        ? 'egress.dlp'
        : err.code === 'EGRESS_LIMIT_EXCEEDED'
          ? 'egress.limit'
          : undefined;
    if (alert)
      deps.alerts.emit(alert, { flowId: flow.id, principal: req.principal.id, code: err.code, ...err.extra });
    if (!sent) {
      throw new CustosError(err.code, stopMessage(err.code), {
        ...(index === undefined ? {} : { ledgerIndex: index }),
        reasons: [err.reason],
      });
    }
    yield trailerOf(format, { ...s, ledgerIndex: index });
  } finally {
    // The reader went away mid-stream: what it received is still recorded.
    if (!finished) await record('export-aborted', summary('stopped', 'ABORTED'), 'client-aborted');
  }
}

function stopMessage(code: ErrorCode): string {
  switch (code) {
    case 'EGRESS_LIMIT_EXCEEDED':
      return 'the export would exceed the counterparty volume limit; nothing was sent';
    case 'EGRESS_DLP_BLOCKED':
      return 'the data-loss check stopped the export; nothing was sent';
    default:
      return 'the export failed; nothing was sent';
  }
}
