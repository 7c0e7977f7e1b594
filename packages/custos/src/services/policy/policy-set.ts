import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CustosError } from '../../domain/errors.js';
import { CEDAR } from './cedar-runtime.js';
import { checkPolicyBounds, checkPolicySetSize } from './policy-bounds.js';

/** Where the shipped schema and default policies live. */
export const SHIPPED_POLICY_DIR = fileURLToPath(new URL('../../../policies/', import.meta.url));

/** One policy with its id and where it came from. */
export interface PolicyText {
  readonly id: string;
  readonly file: string;
  readonly text: string;
}

/** A loaded, validated policy set. */
export interface LoadedPolicies {
  readonly schema: string;
  readonly policies: readonly PolicyText[];
  /** `sha256:<hex>` over the schema and every policy (id and text), in id order. */
  readonly version: string;
}

/** A policy text Cedar could not even process (it trapped): refused, and the engine was reloaded. */
function unprocessable(what: string): CustosError {
  return new CustosError('POLICY_INVALID', `${what}: Cedar could not process the policy text`);
}

/**
 * Splits a policy file into policies, each named by its `@id` annotation (or `file#n`). The text is
 * bounded first (size, nesting: see POLICY_LIMITS), so Cedar never sees a text it would trap on.
 */
export function splitPolicies(file: string, text: string): PolicyText[] {
  checkPolicyBounds(file, text);
  const run = CEDAR.run((c) => c.policySetTextToParts(text));
  if (!run.ok) throw unprocessable(file);
  const parts = run.value;
  if (parts.type !== 'success') {
    const msg = parts.errors.map((e) => e.message).join('; ');
    throw new CustosError('POLICY_INVALID', `${file}: ${msg}`, {
      details: parts.errors.map((e) => `${file}: ${e.message}`),
    });
  }
  return parts.policies.map((p, i) => {
    const m = /@id\(\s*"([^"]+)"\s*\)/.exec(p);
    return { id: m?.[1] ?? `${file}#${i}`, file, text: p };
  });
}

/** Line (1-based) of a byte offset in a text, for error messages. */
function lineOf(text: string, offset: number): number {
  return text.slice(0, offset).split('\n').length;
}

/**
 * Validates policies against the schema in strict mode. The wasm `validate` answers `success` even
 * when policies are invalid, so the error lists are what decides. Also refuses policies that name a
 * specific Record entity: decisions must depend only on a request's class, which is what lets the
 * gateway decide once per class (see Authorizer).
 */
export function validatePolicies(schema: string, policies: readonly PolicyText[]): void {
  checkPolicySetSize(policies);
  for (const p of policies) checkPolicyBounds(p.file, p.text);
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const p of policies) {
    if (ids.has(p.id)) problems.push(`${p.file}: duplicate policy id "${p.id}"`);
    ids.add(p.id);
    if (/Custos::Record::"/.test(p.text)) {
      problems.push(
        `${p.file}: policy "${p.id}": policies may not name a specific record (decisions are per class)`,
      );
    }
  }
  const staticPolicies = Object.fromEntries(policies.map((p) => [p.id, p.text]));
  const run = CEDAR.run((c) =>
    c.validate({ schema, policies: { staticPolicies }, validationSettings: { mode: 'strict' } }),
  );
  if (!run.ok) throw unprocessable('policy set');
  const answer = run.value;
  if (answer.type === 'failure') {
    for (const e of answer.errors) problems.push(`policy set: ${e.message}`);
  } else {
    for (const e of answer.validationErrors) {
      const p = policies.find((x) => x.id === e.policyId);
      const loc = e.error.sourceLocations?.[0];
      const line = p && loc ? `, line ${lineOf(p.text, loc.start)}` : '';
      problems.push(`${p?.file ?? 'policy'}: policy "${e.policyId}"${line}: ${e.error.message}`);
    }
  }
  if (problems.length > 0) {
    throw new CustosError('POLICY_INVALID', `policy validation failed with ${problems.length} error(s)`, {
      details: problems,
    });
  }
}

/** Computes the policy version hash. */
export function policyVersion(schema: string, policies: readonly PolicyText[]): string {
  const h = createHash('sha256').update(schema);
  for (const p of [...policies].sort((a, b) => (a.id < b.id ? -1 : 1))) h.update(`\0${p.id}\0${p.text}`);
  return `sha256:${h.digest('hex')}`;
}

/** Reads every `*.cedar` file of a directory, in name order. */
function readPolicyDir(dir: string): PolicyText[] {
  if (!existsSync(dir)) throw new CustosError('POLICY_INVALID', `policy directory ${dir} does not exist`);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cedar'))
    .sort()
    .flatMap((f) => splitPolicies(f, readFileSync(join(dir, f), 'utf8')));
}

/**
 * Loads the shipped schema and default policies plus the operator's policies, validates them
 * strictly, and versions them. Any error throws `POLICY_INVALID` with the policy id, line and message.
 */
export function loadPolicies(
  operatorDir: string | undefined,
  overrides?: readonly PolicyText[],
): LoadedPolicies {
  const schema = readFileSync(join(SHIPPED_POLICY_DIR, 'custos.cedarschema'), 'utf8');
  const policies = overrides ?? [
    ...splitPolicies('default.cedar', readFileSync(join(SHIPPED_POLICY_DIR, 'default.cedar'), 'utf8')),
    ...(operatorDir === undefined ? [] : readPolicyDir(operatorDir)),
  ];
  validatePolicies(schema, policies);
  return Object.freeze({
    schema,
    policies: Object.freeze(policies),
    version: policyVersion(schema, policies),
  });
}
