import type { CustosConfig } from '../../domain/config.js';
import type { Category } from '../../domain/config-schema.js';
import type { Principal } from '../../domain/principal.js';
import type {
  CedarAction,
  CedarDecision,
  CedarEngine,
  FlowClass,
  GrantContext,
  RecordClass,
} from './cedar-engine.js';

/** A decision with the policy version it was made under. */
export interface Decision extends CedarDecision {
  readonly policyVersion: string;
  readonly grantId: string | undefined;
}

/** The request facts a decision depends on: nothing record-specific. */
export interface AccessRequest {
  readonly principal: Principal;
  readonly action: CedarAction;
  readonly collection: string;
  readonly category: Category;
  readonly jurisdiction: string;
  readonly purpose: string;
  readonly grant?: GrantContext | undefined;
}

/** The reasons a denial is recorded and answered with: a policy error, the forbids, or default-deny. */
export function denyReasons(decision: CedarDecision): string[] {
  if (decision.errors.length > 0) return ['policy-error'];
  return decision.reasons.length > 0 ? [...decision.reasons] : ['default-deny'];
}

const CACHE_LIMIT = 100_000;
const SEP = '\u0001';

/**
 * Decides once per request class and remembers it. The class is (principal and its attributes,
 * action, collection, category, jurisdiction, purpose, grant, policy version). Policies can only see
 * class attributes (records expose nothing else, and policies naming a specific record are refused
 * at load), so the class decision equals the per-record Cedar decision; a property test checks it.
 * Changing the policy set replaces the engine, which starts an empty cache; grants and principal
 * attributes are part of the key, so a revoked grant or changed role can never hit a stale entry.
 */
export class Authorizer {
  private readonly cache = new Map<string, Decision>();
  private readonly classes = new Map<string, RecordClass>();

  constructor(
    config: CustosConfig,
    private engine: CedarEngine,
  ) {
    for (const j of config.jurisdictions) {
      for (const c of config.collections) {
        this.classes.set(`${j.id}${SEP}${c.id}`, {
          collection: c.id,
          category: c.category,
          jurisdiction: j.id,
          ringFenced: j.ringFenced,
          shareableWithParent: j.shareableWithParent.includes(c.category),
        });
      }
    }
  }

  /** The policy version decisions are made under. */
  get policyVersion(): string {
    return this.engine.policies.version;
  }

  /** False when Cedar cannot be loaded: every decision is a deny, and `/readyz` says not ready. */
  get available(): boolean {
    return this.engine.available;
  }

  /** Swaps in a new policy set; every cached decision is dropped. */
  replaceEngine(engine: CedarEngine): void {
    this.engine = engine;
    this.cache.clear();
  }

  /** Drops every cached decision. */
  invalidate(): void {
    this.cache.clear();
  }

  /** The resource class of (jurisdiction, collection); unknown jurisdictions are ring-fenced and share nothing. */
  recordClass(jurisdiction: string, collection: string, category: Category): RecordClass {
    return (
      this.classes.get(`${jurisdiction}${SEP}${collection}`) ?? {
        collection,
        category,
        jurisdiction,
        ringFenced: true,
        shareableWithParent: false,
      }
    );
  }

  /** Decides a request by its class, from the cache when possible. */
  decide(req: AccessRequest): Decision {
    const p = req.principal;
    const key = [
      p.id,
      p.org,
      p.orgKind,
      p.kind,
      p.jurisdiction,
      p.roles.join(','),
      req.action,
      req.collection,
      req.category,
      req.jurisdiction,
      req.purpose,
      req.grant ? `${req.grant.id}:${req.grant.collection}:${req.grant.breakGlass}` : '',
    ].join(SEP);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const cls = this.recordClass(req.jurisdiction, req.collection, req.category);
    const d = this.evaluate(req, `class:${req.jurisdiction}/${req.collection}`, cls);
    // A trap says nothing about the class: deny this request, decide afresh next time.
    if (d.trapped) return d;
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(key, d);
    return d;
  }

  /** The reference: one Cedar call for one specific record (what `decide` must always agree with). */
  decidePerRecord(req: AccessRequest, record: { subject: string; id: string }): Decision {
    const cls = this.recordClass(req.jurisdiction, req.collection, req.category);
    return this.evaluate(req, `${record.subject}/${req.collection}/${record.id}`, cls);
  }

  /** Decides a ledger read (no record class). */
  decideLedger(principal: Principal, purpose: string): Decision {
    const d = this.engine.evaluate(principal, 'readLedger', { id: 'main', cls: undefined }, { purpose });
    return Object.freeze({ ...d, policyVersion: this.policyVersion, grantId: undefined });
  }

  /** Decides an export of a declared flow (the Flow entity names its destination). */
  decideExport(principal: Principal, flowId: string, flow: FlowClass): Decision {
    const d = this.engine.evaluateExport(principal, flowId, flow);
    return Object.freeze({ ...d, policyVersion: this.policyVersion, grantId: undefined });
  }

  private evaluate(req: AccessRequest, resourceId: string, cls: RecordClass): Decision {
    const d = this.engine.evaluate(
      req.principal,
      req.action,
      { id: resourceId, cls },
      { purpose: req.purpose, grant: req.grant },
    );
    const usedGrant = d.allow && req.grant !== undefined && d.reasons.includes('grant-allow');
    return Object.freeze({
      ...d,
      policyVersion: this.policyVersion,
      grantId: usedGrant ? req.grant?.id : undefined,
    });
  }
}
