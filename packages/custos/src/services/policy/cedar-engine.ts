import type * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { CustosError } from '../../domain/errors.js';
import type { Principal } from '../../domain/principal.js';
import { CEDAR, type CedarRuntime } from './cedar-runtime.js';
import type { LoadedPolicies } from './policy-set.js';

/** Actions on records and the ledger, as named in the Cedar schema. */
export type RecordAction = 'read' | 'list' | 'write' | 'delete';
/** Any Cedar action Custos asks about. */
export type CedarAction = RecordAction | 'readLedger' | 'export';

/** The attributes of an egress flow as policies see them. */
export interface FlowClass {
  readonly destination: string;
  readonly destinationKind: string;
  readonly destinationJurisdiction: string;
}

/** The attributes of a request's resource class: all a Record exposes to policy. */
export interface RecordClass {
  readonly collection: string;
  readonly category: string;
  readonly jurisdiction: string;
  readonly ringFenced: boolean;
  readonly shareableWithParent: boolean;
}

/** A grant as it appears in the Cedar context: present only when valid and covering the request. */
export interface GrantContext {
  readonly id: string;
  readonly collection: string;
  readonly breakGlass: boolean;
  /** Fields the grant's scope allows; absent or empty means every field. Enforced by the gateway, not Cedar. */
  readonly fields?: readonly string[] | undefined;
}

/** What Cedar decided. Evaluation errors are a deny (fail closed). */
export interface CedarDecision {
  readonly allow: boolean;
  /** Ids of the policies that decided (the determining permits, or the forbids). */
  readonly reasons: readonly string[];
  readonly errors: readonly string[];
  /** Cedar itself failed (a wasm trap, or no engine): a deny that says nothing about the request, so not cached. */
  readonly trapped?: true;
}

let counter = 0;

/** The Principal entity: only the attributes the schema declares. */
function principalEntity(principal: Principal): cedar.EntityJson {
  const roles: string[] = [];
  for (const r of principal.roles) roles.push(r);
  return {
    uid: { type: 'Custos::Principal', id: principal.id },
    attrs: {
      orgKind: principal.orgKind,
      org: principal.org,
      kind: principal.kind,
      roles,
      jurisdiction: principal.jurisdiction,
    },
    parents: [],
  };
}

/** A deny for a request Cedar could not answer at all. */
function denyUnanswered(message: string): CedarDecision {
  return { allow: false, reasons: [], errors: [`cedar: ${message}`], trapped: true };
}

/**
 * Cedar through the wasm build, with the schema and policy set parsed once (`preparse*`) and
 * evaluated with `statefulIsAuthorized`, which is ~10x faster than re-parsing per call. The
 * preparsed state lives inside the wasm instance: when the runtime replaces a trapped instance,
 * the next call parses them again into the new one. Every failure of Cedar is a deny (fail closed).
 */
export class CedarEngine {
  private readonly schemaName: string;
  private readonly setId: string;
  /** The runtime generation the schema and set were preparsed in. */
  private prepared = -1;

  constructor(
    readonly policies: LoadedPolicies,
    private readonly runtime: CedarRuntime = CEDAR,
  ) {
    counter++;
    this.schemaName = `custos-schema-${counter}`;
    this.setId = `custos-policies-${counter}`;
    const problem = this.prepare();
    if (problem !== undefined) throw new CustosError('POLICY_INVALID', problem);
  }

  /** False when Cedar cannot be loaded at all (every decision is then a deny). */
  get available(): boolean {
    return this.runtime.available;
  }

  /** Preparses the schema and policy set into the current instance; a problem, or undefined. */
  private prepare(): string | undefined {
    const staticPolicies = Object.fromEntries(this.policies.policies.map((p) => [p.id, p.text]));
    const run = this.runtime.run((c) => {
      const s = c.preparseSchema(this.schemaName, this.policies.schema);
      if (s.type !== 'success') return 'schema failed to parse';
      const p = c.preparsePolicySet(this.setId, { staticPolicies });
      return p.type === 'success' ? undefined : 'policy set failed to parse';
    });
    if (!run.ok) return `policy set cannot be evaluated: ${run.message}`;
    if (run.value === undefined) this.prepared = this.runtime.generation;
    return run.value;
  }

  /** Evaluates one request. `resourceId` names the Record (per-record calls) or the class. */
  evaluate(
    principal: Principal,
    action: CedarAction,
    resource: { readonly id: string; readonly cls: RecordClass | undefined },
    context: { readonly purpose: string; readonly grant?: GrantContext | undefined },
  ): CedarDecision {
    // Plain loops instead of map/spread over arrays: on Node 20, V8 can crash (a fatal
    // "unreachable code" in the deoptimizer) when code around these wasm calls is deoptimized
    // inside a builtin's callback continuation. Keep builtins with callbacks off this path.
    const resourceType = resource.cls ? 'Custos::Record' : 'Custos::Ledger';
    const entities: cedar.Entities = [principalEntity(principal)];
    if (resource.cls) {
      entities.push({
        uid: { type: resourceType, id: resource.id },
        attrs: { ...resource.cls },
        parents: [],
      });
    } else {
      entities.push({ uid: { type: resourceType, id: resource.id }, attrs: {}, parents: [] });
    }
    const ctx: cedar.Context = { purpose: context.purpose };
    // Only the schema's Grant attributes go to Cedar; `fields` is enforced by the gateway.
    if (context.grant) {
      ctx.grant = {
        id: context.grant.id,
        collection: context.grant.collection,
        breakGlass: context.grant.breakGlass,
      };
    }
    return this.call(principal, action, { type: resourceType, id: resource.id }, ctx, entities);
  }

  /** Evaluates an export of a flow (one call per export; nothing to cache). */
  evaluateExport(principal: Principal, flowId: string, flow: FlowClass): CedarDecision {
    const uid = { type: 'Custos::Flow', id: flowId };
    const entities: cedar.Entities = [principalEntity(principal), { uid, attrs: { ...flow }, parents: [] }];
    return this.call(principal, 'export', uid, { purpose: 'egress' }, entities);
  }

  private call(
    principal: Principal,
    action: CedarAction,
    resource: { type: string; id: string },
    context: cedar.Context,
    entities: cedar.Entities,
  ): CedarDecision {
    if (this.prepared !== this.runtime.generation) {
      const problem = this.prepare();
      if (problem !== undefined) return denyUnanswered(problem);
    }
    const call: cedar.StatefulAuthorizationCall = {
      principal: { type: 'Custos::Principal', id: principal.id },
      action: { type: 'Custos::Action', id: action },
      resource,
      context,
      preparsedSchemaName: this.schemaName,
      validateRequest: true,
      preparsedPolicySetId: this.setId,
      entities,
    };
    const run = this.runtime.run((c) => c.statefulIsAuthorized(call));
    if (!run.ok) return denyUnanswered(run.message);
    const answer = run.value;
    if (answer.type !== 'success') {
      const failures: string[] = [];
      for (const e of answer.errors) failures.push(e.message);
      return { allow: false, reasons: [], errors: failures };
    }
    const { decision, diagnostics } = answer.response;
    const errors: string[] = [];
    for (const e of diagnostics.errors) errors.push(`${e.policyId}: ${e.error.message}`);
    return { allow: decision === 'allow' && errors.length === 0, reasons: diagnostics.reason, errors };
  }
}
