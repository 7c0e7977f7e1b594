import type { MetricSpec } from '../../domain/egress-config.js';
import type { OutValue } from './flow-transform.js';

interface Group {
  readonly key: readonly OutValue[];
  readonly subjects: Set<string>;
  count: number;
  readonly sums: number[];
}

/** The aggregated output: the groups large enough to leave, and what was held back. */
export interface AggregateResult {
  readonly rows: readonly Record<string, OutValue>[];
  /** Groups with fewer distinct subjects than k: withheld, counted here and in the report. */
  readonly suppressedGroups: number;
  /** Records that fell in suppressed groups. */
  readonly suppressedRecords: number;
}

/**
 * Group-by aggregation with a minimum group size k, counted in distinct subjects (persons, not
 * records): a group of fewer than k persons is suppressed whole, never output. Memory grows with
 * the number of groups and of subjects per group, not with the output.
 */
export class Aggregator {
  private readonly groups = new Map<string, Group>();
  private readonly sumFields: readonly string[];

  constructor(
    private readonly groupBy: readonly string[],
    private readonly metrics: readonly MetricSpec[],
    private readonly minGroupSize: number,
  ) {
    this.sumFields = metrics.filter((m) => m.kind === 'sum').map((m) => m.field ?? '');
  }

  /** Adds one transformed record of `subject`. */
  add(subject: string, values: Readonly<Record<string, OutValue>>): void {
    const key = this.groupBy.map((g) => values[g] ?? null);
    const id = JSON.stringify(key);
    let g = this.groups.get(id);
    if (!g) {
      g = { key, subjects: new Set(), count: 0, sums: this.sumFields.map(() => 0) };
      this.groups.set(id, g);
    }
    g.count++;
    g.subjects.add(subject);
    this.sumFields.forEach((f, i) => {
      const v = values[f];
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
      if (Number.isFinite(n)) g.sums[i] = (g.sums[i] ?? 0) + n;
    });
  }

  /** The groups of at least k persons, in key order, and the count of those suppressed. */
  result(): AggregateResult {
    const rows: Record<string, OutValue>[] = [];
    let suppressedGroups = 0;
    let suppressedRecords = 0;
    const ids = [...this.groups.keys()].sort();
    for (const id of ids) {
      const g = this.groups.get(id);
      if (!g) continue;
      if (g.subjects.size < this.minGroupSize) {
        suppressedGroups++;
        suppressedRecords += g.count;
        continue;
      }
      const row: Record<string, OutValue> = {};
      this.groupBy.forEach((name, i) => {
        row[name] = g.key[i] ?? null;
      });
      let s = 0;
      for (const m of this.metrics) {
        if (m.kind === 'count') row[m.as] = g.count;
        else if (m.kind === 'distinct-subjects') row[m.as] = g.subjects.size;
        else row[m.as] = g.sums[s++] ?? 0;
      }
      rows.push(row);
    }
    return { rows, suppressedGroups, suppressedRecords };
  }

  /** Output columns: the group-by fields, then the metrics. */
  columns(): string[] {
    return [...this.groupBy, ...this.metrics.map((m) => m.as)];
  }
}
