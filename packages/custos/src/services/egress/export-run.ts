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
import { type DlpHit, leaksWithheld, scanPatterns } from './dlp.js';
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
  /**
   * The flow in force now with this id: re-read before every batch, so an export stops cleanly when
   * its flow is replaced (or withdrawn) mid-stream. Absent: only expiry is re-checked.
   */
  readonly flowInForce?: ((id: string) => Promise<FlowSpec | undefined>) | undefined;
  /** Told about an unexpected (uncoded) failure: error name, code and stack frames, never data. */
  readonly logError?: ((event: string, fields: Readonly<Record<string, string>>) => void) | undefined;
}

/** Collection categories whose records are about a person: anything of theirs leaving counts. */
const PERSONAL_CATEGORIES: ReadonlySet<string> = new Set(['protected', 'interoperability']);

/** An uncoded error as logged: its name, code and stack frames, never its message (it may hold data). */
export function describeError(err: unknown): Record<string, string> {
  if (!(err instanceof Error)) return { error: typeof err };
  const code = (err as { code?: unknown }).code;
  const frames = (err.stack ?? '')
    .split('\n')
    .filter((l) => /^\s+at /.test(l))
    .slice(0, 8)
    .map((l) => l.trim())
    .join(' | ');
  return { error: err.name, ...(typeof code === 'string' ? { errorCode: code } : {}), stack: frames };
}

function defaultLogError(event: string, fields: Readonly<Record<string, string>>): void {
  process.stderr.write(`${JSON.stringify({ level: 'error', event, ...fields })}\n`);
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

/**
 * Per data type, the pseudonyms of the subjects a batch lets something of out. A record counts when
 * any of its fields leaves (allowed, pseudonymised, generalised or aggregated: anything but dropped)
 * or its subject does (pseudonymised): under each data type tagged on a field that leaves, and, when
 * none is tagged and the record is about a person (a protected or interoperability collection), as
 * `personal-identifiers`.
 */
function meterBatches(
  config: CustosConfig,
  transform: FlowTransform,
  batch: readonly SourceRecord[],
  refOf: (subject: string) => string,
): MeterBatch[] {
  const byType = new Map<string, Set<string>>();
  const add = (type: string, subject: string): void => {
    const set = byType.get(type) ?? new Set<string>();
    set.add(subject);
    byType.set(type, set);
  };
  for (const r of batch) {
    const tags = config.egress.dataTypes[r.collection] ?? {};
    let leaves = transform.flow.subject === 'pseudonymise';
    let tagged = false;
    for (const name of Object.keys(r.fields)) {
      const rule = transform.rule(r.collection, name);
      if (rule === undefined || rule.rule === 'drop') continue;
      leaves = true;
      const type = tags[name];
      if (type !== undefined) {
        tagged = true;
        add(type, r.subject);
      }
    }
    const category = config.collections.find((c) => c.id === r.collection)?.category ?? 'protected';
    if (leaves && !tagged && PERSONAL_CATEGORIES.has(category)) add('personal-identifiers', r.subject);
  }
  return [...byType].map(([dataType, subjects]) => ({ dataType, refs: [...subjects].map(refOf) }));
}

/**
 * Runs one export as a stream of text chunks. Before each batch the flow must still be in force
 * (unexpired, not replaced). Each batch is transformed, checked for leaks (the originals the flow
 * withholds, then identifier patterns in the encoded text), metered against the counterparty's
 * 12-month limits, and only then yielded. A stop before any byte went out throws the coded error;
 * after, the last chunk is a trailer saying so. Either way one `egress` entry records the whole
 * export (rows, records, distinct subjects, suppressed groups, output digest); if that entry cannot
 * be written, an alert says so and the trailer of a complete export says `unrecorded`.
 */
export async function* runExport(deps: RunDeps, req: RunRequest): AsyncGenerator<string, void> {
  const { flow, format } = req;
  const transform = new FlowTransform(
    flow,
    flowKey(deps.custodianKey, flow.id, flow.destination),
    deps.config.collections,
  );
  const agg = flow.aggregate
    ? new Aggregator(flow.aggregate.groupBy, flow.aggregate.metrics, flow.aggregate.minGroupSize)
    : undefined;
  const columns = agg ? agg.columns() : transform.columns;
  const visibleColumns = agg ? (flow.aggregate?.groupBy ?? []) : transform.columns;
  const encoder = new RowEncoder(format, columns);
  const hash = createHash('sha256');
  /** Distinct subjects behind the rows sent: O(distinct subjects) memory (docs/egress.md). */
  const subjects = new Set<string>();
  const counts = {
    rows: 0,
    records: 0,
    subjects: 0,
    recordsRead: 0,
    suppressedGroups: 0,
    suppressedRecords: 0,
    bytes: 0,
  };
  let sent = false;
  let finished = false;
  const log = deps.logError ?? defaultLogError;

  const summary = (status: ExportSummary['status'], code?: string, ledgerIndex?: number): ExportSummary => ({
    status,
    ...(code === undefined ? {} : { code }),
    flow: flow.id,
    rows: counts.rows,
    records: counts.records,
    subjects: agg ? counts.subjects : subjects.size,
    suppressedGroups: counts.suppressedGroups,
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
            // For the ledger only (never in the trailer): what the suppressed groups held.
            suppressedRecords: counts.suppressedRecords,
            recordsRead: counts.recordsRead,
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
  const unrecorded = (action: string, s: ExportSummary): void => {
    deps.alerts.emit('egress.unrecorded', {
      flowId: flow.id,
      principal: req.principal.id,
      action,
      status: s.status,
      rows: s.rows,
      digest: s.digest,
      recorded: false,
    });
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
  /** The flow must still be in force: unexpired, and not replaced by another version. */
  const inForce = async (): Promise<void> => {
    if (deps.clock.now() >= flow.expiresAt) throw new Stop('FLOW_EXPIRED', 'flow-expired');
    if (deps.flowInForce) {
      const current = await deps.flowInForce(flow.id);
      if (current?.version !== flow.version)
        throw new Stop('FLOW_STALE', 'flow-replaced', { inForce: current?.version ?? 'none' });
    }
  };

  try {
    try {
      for await (const batch of readBatches(deps, flow, deps.config.egress.batchSize)) {
        await inForce();
        const out: Record<string, OutValue>[] = [];
        for (const r of batch) {
          const t = transform.apply(r.subject, r.collection, r.fields);
          const cells = visibleColumns.map((c) => [c, t.values[c]] as const);
          if (leaksWithheld(cells, t.forbidden)) throw dlp({ detector: 'protected-value' });
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
        counts.recordsRead += batch.length;
        if (agg) {
          batch.forEach((r, i) => {
            agg.add(r.subject, out[i] ?? {});
          });
        } else {
          for (const r of batch) subjects.add(r.subject);
          counts.records += batch.length;
          counts.rows += out.length;
          yield emit(text);
        }
      }
      if (agg) {
        await inForce();
        const res = agg.result();
        const text = encoder.encode(res.rows);
        // The group keys are scanned for identifier patterns; the metrics are counts and sums over
        // k or more persons, computed here (a sum of large numbers can look like a phone number).
        const keys = res.rows
          .map((row) => JSON.stringify(visibleColumns.map((c) => row[c] ?? null)))
          .join('\n');
        const hit = scanPatterns(keys);
        if (hit) throw dlp(hit);
        counts.rows = res.rows.length;
        // Over the groups sent only: nothing about the suppressed ones but their number.
        counts.records = res.records;
        counts.subjects = res.subjects;
        counts.suppressedGroups = res.suppressedGroups;
        counts.suppressedRecords = res.suppressedRecords;
        yield emit(text);
      } else if (!encoder.started) yield emit(encoder.encode([]));
    } catch (err) {
      if (err instanceof Stop) throw err;
      if (isCustosError(err)) throw new Stop(err.code, 'error');
      // Not one of ours: say what it was (never its message, which may hold data), then INTERNAL.
      log('egress.export-error', { flowId: flow.id, principal: req.principal.id, ...describeError(err) });
      throw new Stop('INTERNAL', 'error');
    }
    const done = summary('complete');
    const index = await record('export-complete', done);
    finished = true;
    if (index === undefined) {
      // Everything was sent; only the closing entry is missing. Say exactly that.
      unrecorded('export-complete', done);
      yield trailerOf(format, summary('unrecorded', 'LEDGER_UNAVAILABLE'));
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
          : 'egress.stopped';
    // The stop alerts whether or not it could be recorded, and says which.
    deps.alerts.emit(alert, {
      flowId: flow.id,
      principal: req.principal.id,
      code: err.code,
      recorded: index !== undefined,
      ...err.extra,
    });
    if (!sent) {
      throw new CustosError(err.code, stopMessage(err.code), {
        ...(index === undefined ? {} : { ledgerIndex: index }),
        reasons: [err.reason],
      });
    }
    yield trailerOf(format, { ...s, ledgerIndex: index });
  } finally {
    // The reader went away mid-stream: what it received is still recorded.
    if (!finished) {
      const s = summary('stopped', 'ABORTED');
      if ((await record('export-aborted', s, 'client-aborted')) === undefined)
        unrecorded('export-aborted', s);
    }
  }
}

function stopMessage(code: ErrorCode): string {
  switch (code) {
    case 'EGRESS_LIMIT_EXCEEDED':
      return 'the export would exceed the counterparty volume limit; nothing was sent';
    case 'EGRESS_DLP_BLOCKED':
      return 'the data-loss check stopped the export; nothing was sent';
    case 'FLOW_EXPIRED':
      return 'the flow expired before the export could start; nothing was sent';
    case 'FLOW_STALE':
      return 'the flow was replaced before the export could start; nothing was sent';
    default:
      return 'the export failed; nothing was sent';
  }
}
