import { randomUUID } from 'node:crypto';
import type { CustosConfig } from '../../domain/config.js';
import type { Category } from '../../domain/config-schema.js';
import { CustosError } from '../../domain/errors.js';
import type { Principal } from '../../domain/principal.js';
import type { SubjectStore } from '../../ports/subject-store.js';
import type { LedgerService } from '../ledger/ledger-service.js';
import { type Authorizer, type Decision, denyReasons } from '../policy/authorizer.js';
import type { GrantContext, RecordAction } from '../policy/cedar-engine.js';
import type { RecordFields, RecordService } from '../record-service.js';
import type { ResidencyRouter } from '../residency-router.js';
import type { SubjectKeys } from '../subject-keys.js';
import { listAccessible } from './list-records.js';
import type { Masker } from './masking.js';

/** Finds a valid grant covering a request; the gatekeeping service provides the real one. */
export type GrantLookup = (
  principal: Principal,
  action: RecordAction,
  collection: string,
  subject: string | undefined,
  purpose: string,
) => Promise<GrantContext | undefined>;

/** A record as a principal receives it: masked fields only. */
export interface ServedRecord {
  readonly subject: string;
  readonly collection: string;
  readonly id: string;
  readonly fields: Record<string, string | number | boolean | null>;
}

/** Every answer carries the ledger index of its recorded decision. */
export interface Receipted<T> {
  readonly value: T;
  readonly ledgerIndex: number;
}

const PURPOSE_SHAPE = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;

/** The facts of one access request after authentication. */
export interface AccessFacts {
  readonly principal: Principal;
  readonly purpose: string;
  readonly collection: string;
  readonly subject: string;
}

/** Dependencies of the access service, from the composition root. */
export interface AccessDeps {
  readonly config: CustosConfig;
  readonly authorizer: Authorizer;
  readonly records: RecordService;
  readonly subjects: SubjectKeys;
  readonly subjectStore: SubjectStore;
  readonly router: ResidencyRouter;
  readonly ledger: LedgerService;
  readonly masker: Masker;
  readonly grants: GrantLookup;
}

/**
 * The gateway's core: authorize (Cedar, by class), record the decision in the ledger durably,
 * and only then touch data. A ledger failure is LEDGER_UNAVAILABLE with no data; a policy error is
 * a deny. Errors carry the ledger index of their decision.
 */
export class AccessService {
  private readonly purposes: ReadonlySet<string>;

  constructor(readonly deps: AccessDeps) {
    this.purposes = new Set(deps.config.purposes.map((p) => p.id));
  }

  /** Records an access decision; throws LEDGER_UNAVAILABLE when it cannot. */
  async record(
    principal: Principal,
    action: string,
    decision: {
      allow: boolean;
      reasons: readonly string[];
      policyVersion?: string;
      grantId?: string | undefined;
    },
    resource: {
      collection?: string;
      category?: string;
      jurisdiction?: string;
      site?: string;
      subjectRef?: string;
      count?: number;
    },
    purpose: string,
    details?: Record<string, string | number | boolean | string[]>,
  ): Promise<number> {
    const { index } = await this.deps.ledger.append({
      type: 'access',
      principal: { id: principal.id, org: principal.org, orgKind: principal.orgKind },
      action,
      resource,
      purpose: PURPOSE_SHAPE.test(purpose) ? purpose : '(invalid)',
      ...(decision.grantId === undefined ? {} : { grantId: decision.grantId }),
      decision: decision.allow ? 'allow' : 'deny',
      reasons: decision.reasons.length > 0 ? [...decision.reasons] : ['default-deny'],
      ...(decision.policyVersion === undefined ? {} : { policyVersion: decision.policyVersion }),
      ...(principal.release === undefined ? {} : { release: principal.release }),
      // The principal's roles, kind and jurisdiction let `policy what-if` replay the decision later.
      details: { ...principalDetails(principal), ...details },
    });
    return index;
  }

  /** Where a subject belongs; unknown subjects get jurisdiction `unknown` (ring-fenced, shares nothing). */
  private async jurisdictionOf(
    subject: string,
  ): Promise<{ jurisdiction: string; state: 'ok' | 'unknown' | 'erased' }> {
    const cached = this.deps.subjects.peek(subject);
    if (cached) return { jurisdiction: cached.row.jurisdiction, state: 'ok' };
    const row = await this.deps.subjectStore.get(subject);
    if (!row) return { jurisdiction: 'unknown', state: 'unknown' };
    return { jurisdiction: row.jurisdiction, state: row.erasedAt === undefined ? 'ok' : 'erased' };
  }

  /**
   * Authorizes and records one single-subject request. Resolves with the decision's ledger index
   * when allowed; throws the coded refusal (with its ledger index) otherwise.
   */
  async authorize(
    facts: AccessFacts,
    action: RecordAction,
    extra?: { site?: string },
  ): Promise<{
    index: number;
    decision: Decision;
    category: Category;
    jurisdiction: string;
    /** The deciding grant's field scope, when it has one. */
    only: ReadonlySet<string> | undefined;
  }> {
    const { principal, purpose, collection, subject } = facts;
    const spec = this.deps.router.collection(collection);
    const where = await this.jurisdictionOf(subject);
    const subjectRef = this.deps.ledger.subjectRef(subject);
    const resource = {
      collection,
      category: spec.category,
      jurisdiction: where.jurisdiction,
      subjectRef,
      ...(extra?.site ? { site: extra.site } : {}),
    };
    if (!this.purposes.has(purpose)) {
      const index = await this.record(
        principal,
        action,
        { allow: false, reasons: ['purpose-invalid'] },
        resource,
        purpose,
      );
      throw new CustosError('PURPOSE_INVALID', 'the Custos-Purpose header must name a configured purpose', {
        ledgerIndex: index,
        reasons: ['purpose-invalid'],
      });
    }
    const grant = await this.deps.grants(principal, action, collection, subject, purpose);
    const decision = this.deps.authorizer.decide({
      principal,
      action,
      collection,
      category: spec.category,
      jurisdiction: where.jurisdiction,
      purpose,
      grant,
    });
    const index = await this.record(principal, action, decision, resource, purpose);
    if (!decision.allow) {
      const reasons = denyReasons(decision);
      throw new CustosError('ACCESS_DENIED', 'access denied by policy', { ledgerIndex: index, reasons });
    }
    if (where.state === 'unknown')
      throw new CustosError('SUBJECT_UNKNOWN', 'unknown subject', { ledgerIndex: index });
    if (where.state === 'erased')
      throw new CustosError('SUBJECT_ERASED', 'subject has been erased', { ledgerIndex: index });
    // A decision that rests on a field-scoped grant serves (or writes) only those fields.
    const only = decision.grantId !== undefined && grant?.fields?.length ? new Set(grant.fields) : undefined;
    return { index, decision, category: spec.category, jurisdiction: where.jurisdiction, only };
  }

  private serve(
    facts: AccessFacts,
    id: string,
    fields: RecordFields,
    only?: ReadonlySet<string>,
  ): ServedRecord {
    const plan = this.deps.masker.plan(facts.principal, facts.purpose, facts.collection);
    return {
      subject: facts.subject,
      collection: facts.collection,
      id,
      fields: this.deps.masker.apply(plan, fields, only),
    };
  }

  /** Reads one record: authorize, log, fetch, decrypt, mask. */
  async read(facts: AccessFacts, id: string): Promise<Receipted<ServedRecord>> {
    const { index, only } = await this.authorize(facts, 'read');
    try {
      const rec = await this.deps.records.get(facts.subject, facts.collection, id);
      return { value: this.serve(facts, id, rec.fields, only), ledgerIndex: index };
    } catch (err) {
      throw withIndex(err, index);
    }
  }

  /** Writes (creates or replaces) one record; under a field-scoped grant, only the granted fields. */
  async write(
    facts: AccessFacts,
    id: string | undefined,
    fields: RecordFields,
  ): Promise<Receipted<{ id: string; site: string }>> {
    const recordId = id ?? randomUUID();
    const { index, only } = await this.authorize(facts, 'write');
    if (only && Object.keys(fields).some((f) => !only.has(f))) {
      throw new CustosError('ACCESS_DENIED', 'the grant does not cover every field written', {
        ledgerIndex: index,
        reasons: ['grant-field-scope'],
      });
    }
    try {
      // Under a field-scoped grant the write replaces only the granted fields: the others are
      // kept (read-modify-write by compare-and-set), not wiped.
      const receipt = only
        ? await this.deps.records.merge(facts.subject, facts.collection, recordId, fields)
        : await this.deps.records.put(facts.subject, facts.collection, recordId, fields);
      return { value: { id: recordId, site: receipt.site }, ledgerIndex: index };
    } catch (err) {
      throw withIndex(err, index);
    }
  }

  /** Deletes one record. */
  async delete(facts: AccessFacts, id: string): Promise<Receipted<{ deleted: boolean }>> {
    const { index } = await this.authorize(facts, 'delete');
    try {
      const deleted = await this.deps.records.delete(facts.subject, facts.collection, id);
      if (!deleted) throw new CustosError('RECORD_NOT_FOUND', 'record not found');
      return { value: { deleted }, ledgerIndex: index };
    } catch (err) {
      throw withIndex(err, index);
    }
  }

  /** Lists the records of a collection the principal may see; one ledger entry with count and digest. */
  async list(
    principal: Principal,
    purpose: string,
    collection: string,
    query: { subject?: string | undefined; cursor?: string | undefined; limit: number },
  ): Promise<Receipted<{ records: ServedRecord[]; nextCursor: string | undefined }>> {
    return listAccessible(this, principal, purpose, collection, query, this.purposes);
  }
}

/** The principal attributes a decision depended on, as ledger entry details. */
export function principalDetails(principal: Principal): Record<string, string | string[]> {
  return {
    principalRoles: [...principal.roles],
    principalKind: principal.kind,
    ...(principal.jurisdiction === '' ? {} : { principalJurisdiction: principal.jurisdiction }),
  };
}

/** Attaches a decision's ledger index to an error raised after the decision was recorded. */
export function withIndex(err: unknown, index: number): unknown {
  if (err instanceof CustosError && err.ledgerIndex === undefined) {
    return new CustosError(err.code, err.message, {
      cause: err.cause,
      details: err.details,
      ledgerIndex: index,
      reasons: err.reasons,
    });
  }
  return err;
}
