import { setFlagsFromString } from 'node:v8';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { CustosError } from '../../domain/errors.js';

// Node 20's V8 (11.3) can abort the process ("Fatal error: unreachable code" in
// Deoptimizer::DoComputeBuiltinContinuation) when TurboFan-inlined code around the Cedar wasm
// calls is lazily deoptimized. Reproduced under load in the authorizer property test; turning
// off TurboFan inlining avoids it. Set before any of this code is optimized.
setFlagsFromString('--no-turbo-inlining');

import type { Principal } from '../../domain/principal.js';
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

/** The one place Cedar runs; a thrown error becomes a failure answer (and so a deny). */
function callCedar(call: cedar.StatefulAuthorizationCall): cedar.AuthorizationAnswer {
  try {
    return cedar.statefulIsAuthorized(call);
  } catch (err) {
    const message = `cedar: ${(err as Error).message}`;
    return {
      type: 'failure',
      errors: [{ message, help: null, code: null, url: null, severity: null }],
      warnings: [],
    };
  }
}

/**
 * Cedar through the wasm build, with the schema and policy set parsed once (`preparse*`) and
 * evaluated with `statefulIsAuthorized`, which is ~10x faster than re-parsing per call.
 */
export class CedarEngine {
  private readonly schemaName: string;
  private readonly setId: string;

  constructor(readonly policies: LoadedPolicies) {
    counter++;
    this.schemaName = `custos-schema-${counter}`;
    this.setId = `custos-policies-${counter}`;
    const s = cedar.preparseSchema(this.schemaName, policies.schema);
    if (s.type !== 'success') throw new CustosError('POLICY_INVALID', 'schema failed to parse');
    const staticPolicies = Object.fromEntries(policies.policies.map((p) => [p.id, p.text]));
    const p = cedar.preparsePolicySet(this.setId, { staticPolicies });
    if (p.type !== 'success') throw new CustosError('POLICY_INVALID', 'policy set failed to parse');
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
    const answer = callCedar({
      principal: { type: 'Custos::Principal', id: principal.id },
      action: { type: 'Custos::Action', id: action },
      resource,
      context,
      preparsedSchemaName: this.schemaName,
      validateRequest: true,
      preparsedPolicySetId: this.setId,
      entities,
    });
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
