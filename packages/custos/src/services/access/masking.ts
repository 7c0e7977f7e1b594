import { createHmac } from 'node:crypto';
import type { CustosConfig } from '../../domain/config.js';
import type { Mask } from '../../domain/config-schema.js';
import type { Principal } from '../../domain/principal.js';
import type { RecordFields } from '../record-service.js';

/** For each field of a collection: shown in clear, or masked, or dropped. */
export type FieldPlan = ReadonlyMap<string, Mask | 'clear'>;

const MASK_CONTEXT = 'custos field-mask v1\n';

/**
 * Applies the configured masking rules. A rule matches when the principal has one of its roles (or
 * any role if none listed), its organisation kind is listed (or none listed), the purpose is
 * listed (or none listed) and the collection is listed (or none listed). For each field the first
 * matching rule wins; a field no rule matches is shown in clear. Masked and dropped values never
 * reach the response: the plan is applied to a fresh object.
 */
export class Masker {
  private readonly plans = new Map<string, FieldPlan>();

  constructor(
    private readonly config: CustosConfig,
    private readonly hashKey: Uint8Array,
  ) {}

  /** The field plan for a principal, purpose and collection (cached). */
  plan(principal: Principal, purpose: string, collection: string): FieldPlan {
    const key = `${principal.orgKind}\u0001${principal.roles.join(',')}\u0001${purpose}\u0001${collection}`;
    const hit = this.plans.get(key);
    if (hit) return hit;
    const spec = this.config.collections.find((c) => c.id === collection);
    const plan = new Map<string, Mask | 'clear'>();
    for (const f of spec?.fields ?? []) {
      const rule = this.config.masking.find(
        (r) =>
          r.fields.includes(f.name) &&
          (r.roles === undefined || r.roles.some((role) => principal.roles.includes(role))) &&
          (r.orgKinds === undefined || r.orgKinds.includes(principal.orgKind)) &&
          (r.purposes === undefined || r.purposes.includes(purpose)) &&
          (r.collections === undefined || r.collections.includes(collection)),
      );
      plan.set(f.name, rule?.mask ?? 'clear');
    }
    if (this.plans.size > 10_000) this.plans.clear();
    this.plans.set(key, plan);
    return plan;
  }

  /**
   * Returns a new object holding only what the plan lets through. Undeclared fields are dropped,
   * and so is every field outside `only` (a grant's field scope) when it is given.
   */
  apply(
    plan: FieldPlan,
    fields: RecordFields,
    only?: ReadonlySet<string>,
  ): Record<string, string | number | boolean | null> {
    const out: Record<string, string | number | boolean | null> = {};
    for (const [name, value] of Object.entries(fields)) {
      if (only !== undefined && !only.has(name)) continue;
      const how = plan.get(name);
      if (how === undefined || how === 'drop') continue;
      out[name] = how === 'clear' ? value : this.mask(how, value);
    }
    return out;
  }

  private mask(how: Exclude<Mask, 'drop'>, value: string | number | boolean | null): string | null {
    if (value === null) return null;
    const s = String(value);
    switch (how) {
      case 'last4':
        return s.length <= 4
          ? '*'.repeat(s.length)
          : `${'*'.repeat(Math.min(s.length - 4, 8))}${s.slice(-4)}`;
      case 'hash':
        // Keyed, so a masked phone number or email cannot be brute-forced back from the output.
        return `h:${createHmac('sha256', this.hashKey).update(MASK_CONTEXT).update(s).digest('base64url').slice(0, 22)}`;
      case 'year': {
        const m = /^(\d{4})-\d{2}/.exec(s);
        return m?.[1] ?? null;
      }
      case 'redact':
        return '[redacted]';
    }
  }
}
