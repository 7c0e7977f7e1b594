import { createHmac, hkdfSync } from 'node:crypto';
import type { CollectionSpec } from '../../domain/config.js';
import type { FieldRuleSpec, FlowSpec } from '../../domain/egress-config.js';
import type { RecordFields } from '../record-service.js';
import { type Withheld, withheld } from './dlp.js';

/** A value as it leaves. */
export type OutValue = string | number | boolean | null;

/** One transformed record, with what must never appear beside it. */
export interface TransformedRecord {
  readonly values: Record<string, OutValue>;
  /**
   * Original values the flow does not let out (dropped, pseudonymised, undeclared, generalised, the
   * raw subject id), normalised: the data-loss check looks for them (see dlp.ts for the rule).
   */
  readonly forbidden: readonly Withheld[];
}

const PSEUDONYM_CONTEXT = 'custos egress pseudonym v1\n';

/**
 * The flow's own pseudonymisation key: HKDF-SHA256 (RFC 5869) of the custodian's egress key with
 * the flow id and its destination as info. The same value maps to the same pseudonym within a flow
 * and to unrelated ones in other flows, and a flow re-declared to another destination under the
 * same id gets another key too.
 */
export function flowKey(custodianKey: Uint8Array, flowId: string, destination: string): Buffer {
  return Buffer.from(
    hkdfSync('sha256', custodianKey, 'custos-egress-v1', `flow:${flowId}\ndestination:${destination}`, 32),
  );
}

/** The pseudonym of a value under a flow key: `p:` and 22 base64url characters (132 bits). */
export function pseudonymise(key: Buffer, value: string): string {
  return `p:${createHmac('sha256', key).update(PSEUDONYM_CONTEXT).update(value).digest('base64url').slice(0, 22)}`;
}

const regions = new Intl.DisplayNames(['en'], { type: 'region' });
/** Region codes ICU knows that are not places (unions, the UN, unknown). */
const NOT_COUNTRIES = new Set(['EU', 'EZ', 'UN', 'QO', 'ZZ']);
const known = new Map<string, boolean>();

/** True for an ISO 3166-1 alpha-2 code (as ICU knows them), upper case. */
export function isCountryCode(code: string): boolean {
  let k = known.get(code);
  if (k === undefined) {
    k = /^[A-Z]{2}$/.test(code) && !NOT_COUNTRIES.has(code) && regions.of(code) !== code;
    if (known.size < 1000) known.set(code, k);
  }
  return k;
}

/** A decimal integer or decimal fraction as written (no exponents, hex or blanks). */
const DECIMAL = /^-?\d{1,16}(?:\.\d+)?$/;

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
      // An ISO 3166-1 alpha-2 code (`US`, `sg`) or an ISO 3166-2 subdivision (`US-CA`, `gb-lnd`) of a
      // known country; free text never becomes a code.
      if (typeof value !== 'string') return null;
      const code = /^([A-Za-z]{2})(?:-[A-Za-z0-9]{1,3})?$/.exec(value.trim())?.[1]?.toUpperCase();
      return code !== undefined && isCountryCode(code) ? code : null;
    }
    case 'bucket': {
      // Integer arithmetic on the integer part: no float artefacts in the bounds.
      const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
      const n = typeof value === 'number' ? value : DECIMAL.test(text) ? Number(text) : Number.NaN;
      const width = rule.width ?? 2;
      if (!Number.isFinite(n) || !Number.isInteger(width) || width < 2) return null;
      const i = Math.floor(n);
      if (!Number.isSafeInteger(i) || !Number.isSafeInteger(i + width) || !Number.isSafeInteger(i - width))
        return null;
      const lo = i - (((i % width) + width) % width);
      return `${lo}..${lo + width}`;
    }
  }
}

/** Column names of the output that are not fields; fields cannot start with `_`. */
export const COLLECTION_COLUMN = '_collection';
/** The pseudonymised subject column. */
export const SUBJECT_COLUMN = '_subject';

/**
 * A flow compiled for one run: per source collection, what happens to each field. A rule names a
 * field (`email`: that field in every source that has it) or a collection's field
 * (`profiles.email`); its output column is what it names. Fields no rule names are dropped (fail
 * closed).
 */
export class FlowTransform {
  /** `collection.field` → rule. */
  private readonly rules = new Map<string, FieldRuleSpec>();
  /** Output columns in order (record mode). */
  readonly columns: readonly string[];

  constructor(
    readonly flow: FlowSpec,
    private readonly key: Buffer,
    collections: readonly CollectionSpec[],
  ) {
    const sources = collections.filter((c) => flow.sources.includes(c.id));
    const cols: string[] = [];
    if (flow.sources.length > 1) cols.push(COLLECTION_COLUMN);
    if (flow.subject === 'pseudonymise') cols.push(SUBJECT_COLUMN);
    for (const r of flow.fields) {
      let applies = false;
      for (const c of sources)
        for (const f of c.fields)
          if (r.field === f.name || r.field === `${c.id}.${f.name}`) {
            // A collection-qualified rule wins over a bare one.
            if (r.field === f.name && this.rules.has(`${c.id}.${f.name}`)) continue;
            this.rules.set(`${c.id}.${f.name}`, r);
            applies = true;
          }
      if (applies && r.rule !== 'drop') cols.push(r.field);
    }
    this.columns = cols;
  }

  /** The rule of a collection's field, or undefined (dropped). */
  rule(collection: string, field: string): FieldRuleSpec | undefined {
    return this.rules.get(`${collection}.${field}`);
  }

  /** Applies the field rules to one decrypted record. */
  apply(subject: string, collection: string, fields: RecordFields): TransformedRecord {
    const values: Record<string, OutValue> = {};
    const forbidden: Withheld[] = [];
    const forbid = (v: OutValue, column?: string): void => {
      if (v === null || typeof v === 'boolean') return;
      const w = withheld(String(v), column);
      if (w) forbidden.push(w);
    };
    if (this.flow.sources.length > 1) values[COLLECTION_COLUMN] = collection;
    if (this.flow.subject === 'pseudonymise') values[SUBJECT_COLUMN] = pseudonymise(this.key, subject);
    forbid(subject);
    for (const [name, value] of Object.entries(fields)) {
      const rule = this.rules.get(`${collection}.${name}`);
      if (rule === undefined || rule.rule === 'drop') {
        forbid(value);
        continue;
      }
      switch (rule.rule) {
        case 'allow':
          values[rule.field] = value;
          break;
        case 'pseudonymise':
          values[rule.field] = value === null ? null : pseudonymise(this.key, String(value));
          forbid(value);
          break;
        case 'generalise': {
          const out = generalise(rule, value);
          values[rule.field] = out;
          // An original that was already as coarse as the rule asks for is not a leak. Otherwise it
          // is looked for everywhere but in its own generalised cell (a bucket's bounds may be the
          // value itself: that is the value coarsened, not leaked).
          if (out === null || String(out) !== String(value))
            forbid(value, out === null ? undefined : rule.field);
          break;
        }
      }
    }
    return { values, forbidden };
  }
}
