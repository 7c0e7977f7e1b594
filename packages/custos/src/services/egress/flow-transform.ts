import { createHmac, hkdfSync } from 'node:crypto';
import type { CollectionSpec } from '../../domain/config.js';
import type { FieldRuleSpec, FlowSpec } from '../../domain/egress-config.js';
import type { RecordFields } from '../record-service.js';

/** A value as it leaves. */
export type OutValue = string | number | boolean | null;

/** One transformed record, with what must never appear beside it. */
export interface TransformedRecord {
  readonly values: Record<string, OutValue>;
  /**
   * Original values the flow does not let out (dropped, pseudonymised, undeclared, the raw
   * subject id), at least `MIN_FORBIDDEN_LENGTH` characters: the data-loss check looks for them.
   */
  readonly forbidden: readonly string[];
}

/** Shorter originals are not looked for: they collide with ordinary output (`"1"`, `"US"`). */
export const MIN_FORBIDDEN_LENGTH = 6;

const PSEUDONYM_CONTEXT = 'custos egress pseudonym v1\n';

/**
 * The flow's own pseudonymisation key: HKDF-SHA256 (RFC 5869) of the custodian's egress key with
 * the flow id as info. The same value maps to the same pseudonym within a flow and to unrelated
 * ones in other flows, and no flow's output helps link another's.
 */
export function flowKey(custodianKey: Uint8Array, flowId: string): Buffer {
  return Buffer.from(hkdfSync('sha256', custodianKey, 'custos-egress-v1', `flow:${flowId}`, 32));
}

/** The pseudonym of a value under a flow key: `p:` and 22 base64url characters (132 bits). */
export function pseudonymise(key: Buffer, value: string): string {
  return `p:${createHmac('sha256', key).update(PSEUDONYM_CONTEXT).update(value).digest('base64url').slice(0, 22)}`;
}

/**
 * Coarsens a value. Anything that does not have the expected shape becomes null: a value the rule
 * cannot coarsen never leaves as it was.
 */
export function generalise(rule: Extract<FieldRuleSpec, { rule: 'generalise' }>, value: OutValue): OutValue {
  if (value === null) return null;
  switch (rule.to) {
    case 'year':
      return typeof value === 'string' ? (/^(\d{4})(?:-\d{2}|$)/.exec(value)?.[1] ?? null) : null;
    case 'month':
      return typeof value === 'string' ? (/^(\d{4}-\d{2})(?:-\d{2}|$)/.exec(value)?.[1] ?? null) : null;
    case 'country': {
      // A location written as `CC`, `CC-region…`, `CC/…`, `CC,…` or `CC …` (ISO 3166-1 alpha-2 first).
      const m = typeof value === 'string' ? /^([A-Za-z]{2})(?:$|[-_/, ])/.exec(value) : null;
      return m?.[1] ? m[1].toUpperCase() : null;
    }
    case 'bucket': {
      const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
      const width = rule.width ?? 1;
      if (!Number.isFinite(n) || (typeof value === 'string' && value.trim() === '')) return null;
      const lo = Math.floor(n / width) * width;
      return `${lo}..${lo + width}`;
    }
  }
}

/** Column names of the output that are not fields; fields cannot start with `_`. */
export const COLLECTION_COLUMN = '_collection';
/** The pseudonymised subject column. */
export const SUBJECT_COLUMN = '_subject';

/**
 * A flow compiled for one run: per source collection, what happens to each field. Fields no rule
 * names are dropped (fail closed).
 */
export class FlowTransform {
  private readonly rules = new Map<string, FieldRuleSpec>();
  /** Output columns in order (record mode). */
  readonly columns: readonly string[];

  constructor(
    readonly flow: FlowSpec,
    private readonly key: Buffer,
    collections: readonly CollectionSpec[],
  ) {
    for (const r of flow.fields) this.rules.set(r.field, r);
    const cols: string[] = [];
    if (flow.sources.length > 1) cols.push(COLLECTION_COLUMN);
    if (flow.subject === 'pseudonymise') cols.push(SUBJECT_COLUMN);
    const declared = new Set(
      collections.filter((c) => flow.sources.includes(c.id)).flatMap((c) => c.fields.map((f) => f.name)),
    );
    for (const r of flow.fields) if (r.rule !== 'drop' && declared.has(r.field)) cols.push(r.field);
    this.columns = cols;
  }

  /** The rule of a field, or undefined (dropped). */
  rule(field: string): FieldRuleSpec | undefined {
    return this.rules.get(field);
  }

  /** Applies the field rules to one decrypted record. */
  apply(subject: string, collection: string, fields: RecordFields): TransformedRecord {
    const values: Record<string, OutValue> = {};
    const forbidden: string[] = [];
    const forbid = (v: OutValue): void => {
      if (v === null || typeof v === 'boolean') return;
      const s = String(v);
      if (s.length >= MIN_FORBIDDEN_LENGTH) forbidden.push(s);
    };
    if (this.flow.sources.length > 1) values[COLLECTION_COLUMN] = collection;
    if (this.flow.subject === 'pseudonymise') values[SUBJECT_COLUMN] = pseudonymise(this.key, subject);
    forbid(subject);
    for (const [name, value] of Object.entries(fields)) {
      const rule = this.rules.get(name);
      if (rule === undefined || rule.rule === 'drop') {
        forbid(value);
        continue;
      }
      switch (rule.rule) {
        case 'allow':
          values[name] = value;
          break;
        case 'pseudonymise':
          values[name] = value === null ? null : pseudonymise(this.key, String(value));
          forbid(value);
          break;
        case 'generalise': {
          const out = generalise(rule, value);
          values[name] = out;
          // An original that was already as coarse as the rule asks for is not a leak.
          if (out === null || String(out) !== String(value)) forbid(value);
          break;
        }
      }
    }
    return { values, forbidden };
  }
}
