import type { CustosConfig } from '../../domain/config.js';
import { CustosError, isCustosError } from '../../domain/errors.js';
import type { AccessStore, PolicyFile } from '../../ports/access-store.js';
import { checkPolicyBounds } from '../policy/policy-bounds.js';
import { type LoadedPolicies, loadPolicies, type PolicyText, splitPolicies } from '../policy/policy-set.js';

/**
 * Policies that a governed change may never alter: the parent's isolation (DESIGN promise 2), and
 * that a flow's output goes to its destination only.
 */
export const PROTECTED_POLICIES = [
  'parent-isolation',
  'parent-ledger-isolation',
  'flow-destination-only',
] as const;

/**
 * Splits policy files into policies (POLICY_INVALID on a syntax error). The files come from a
 * proposal, so the message names the file by position only: Cedar's parser output quotes the
 * text. The parser's own words stay in `details`, which no HTTP response carries.
 */
export function policiesOf(files: readonly PolicyFile[]): PolicyText[] {
  return files.flatMap((f, i) => {
    // The limits first, naming the file by position: their message gives the line and the limit.
    checkPolicyBounds(`files[${i}]`, f.text);
    try {
      return splitPolicies(f.name, f.text);
    } catch (err) {
      if (!isCustosError(err, 'POLICY_INVALID')) throw err;
      throw new CustosError('POLICY_INVALID', `files[${i}] is not valid Cedar`, {
        cause: err,
        details: err.details,
      });
    }
  });
}

/**
 * The policy set to start with: explicit overrides (tests, tools), else the set last activated
 * through governance (persisted in the access store, so a restart keeps it), else the shipped
 * defaults plus `policy.dir`. A persisted set is validated against the current schema like any other.
 */
export async function loadActivePolicies(
  store: AccessStore,
  config: CustosConfig,
  overrides: readonly PolicyText[] | undefined,
): Promise<LoadedPolicies> {
  if (overrides !== undefined) return loadPolicies(config.policy.dir, overrides);
  const active = await store.activePolicySet();
  if (active === undefined) return loadPolicies(config.policy.dir);
  try {
    return loadPolicies(undefined, policiesOf(active.files));
  } catch (err) {
    throw new CustosError(
      'POLICY_INVALID',
      `the policy set activated by proposal ${active.proposalId} no longer validates`,
      { cause: err, details: err instanceof CustosError ? err.details : undefined },
    );
  }
}

/**
 * Refuses a proposed set that drops or alters a protected policy: those are exactly the shipped
 * text, so the parent stays forbidden whatever the board votes.
 */
export function checkProtected(shipped: readonly PolicyText[], proposed: readonly PolicyText[]): void {
  const problems: string[] = [];
  for (const id of PROTECTED_POLICIES) {
    const want = shipped.find((p) => p.id === id);
    const got = proposed.find((p) => p.id === id);
    if (want && got?.text.trim() !== want.text.trim())
      problems.push(`policy "${id}" must stay exactly as shipped (parent isolation is not negotiable)`);
  }
  if (problems.length > 0)
    throw new CustosError('POLICY_INVALID', 'the proposal alters parent isolation', { details: problems });
}
