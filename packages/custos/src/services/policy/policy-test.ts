import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import type { CustosConfig } from '../../domain/config.js';
import { CATEGORIES, ORG_KINDS } from '../../domain/config-schema.js';
import { CustosError } from '../../domain/errors.js';
import type { Principal } from '../../domain/principal.js';
import type { Authorizer } from './authorizer.js';

const caseSchema = z.strictObject({
  name: z.string().min(1),
  principal: z.union([
    z.string(),
    z.strictObject({
      id: z.string(),
      org: z.string(),
      orgKind: z.enum(ORG_KINDS),
      roles: z.array(z.string()).default([]),
      kind: z.enum(['person', 'service']).default('person'),
      jurisdiction: z.string().default(''),
    }),
  ]),
  action: z.enum(['read', 'list', 'write', 'delete', 'readLedger']),
  collection: z.string().optional(),
  category: z.enum(CATEGORIES).optional(),
  jurisdiction: z.string().optional(),
  purpose: z.string(),
  grant: z
    .strictObject({ id: z.string(), collection: z.string(), breakGlass: z.boolean().default(false) })
    .optional(),
  expect: z.enum(['allow', 'deny']),
  reasons: z.array(z.string()).optional(),
});

const fileSchema = z.strictObject({ requests: z.array(caseSchema).min(1) });

/** The outcome of one test request. */
export interface PolicyTestResult {
  readonly name: string;
  readonly ok: boolean;
  readonly expected: 'allow' | 'deny';
  readonly got: 'allow' | 'deny';
  readonly reasons: readonly string[];
  /** Why it failed, when it did. */
  readonly problem: string | undefined;
}

/**
 * Runs a YAML file of requests with expected decisions against the policy set in force. A request
 * names a declared principal (or describes one inline), an action, a collection and jurisdiction,
 * a purpose, optionally a grant, the expected decision and optionally the policies expected to decide.
 */
export function runPolicyTests(
  file: string,
  config: CustosConfig,
  authorizer: Authorizer,
): PolicyTestResult[] {
  let raw: unknown;
  try {
    const doc = parseDocument(readFileSync(file, 'utf8'));
    if (doc.errors.length > 0) throw new Error(doc.errors[0]?.message ?? 'yaml');
    raw = doc.toJS();
  } catch (cause) {
    throw new CustosError('BAD_REQUEST', `cannot read policy test file ${file}`, { cause });
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new CustosError('BAD_REQUEST', `policy test file ${file} is invalid`, {
      details: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
    });
  }
  return parsed.data.requests.map((c, i) => {
    let principal: Principal;
    if (typeof c.principal === 'string') {
      const p = config.principals.find((x) => x.id === c.principal);
      if (!p)
        throw new CustosError('BAD_REQUEST', `requests[${i}].principal: unknown principal "${c.principal}"`);
      principal = { ...p, jurisdiction: p.jurisdiction ?? '', release: undefined };
    } else {
      principal = { ...c.principal, release: undefined };
    }
    let decision: { allow: boolean; reasons: readonly string[] };
    if (c.action === 'readLedger') {
      decision = authorizer.decideLedger(principal, c.purpose);
    } else {
      const spec = config.collections.find((x) => x.id === c.collection);
      const category = c.category ?? spec?.category;
      if (!c.collection || !category)
        throw new CustosError('BAD_REQUEST', `requests[${i}]: collection or category missing`);
      decision = authorizer.decide({
        principal,
        action: c.action,
        collection: c.collection,
        category,
        jurisdiction: c.jurisdiction ?? 'unknown',
        purpose: c.purpose,
        grant: c.grant,
      });
    }
    const got = decision.allow ? 'allow' : 'deny';
    let problem: string | undefined;
    if (got !== c.expect) problem = `expected ${c.expect}, got ${got}`;
    else if (c.reasons && !c.reasons.every((r) => decision.reasons.includes(r))) {
      problem = `expected reasons [${c.reasons.join(', ')}], got [${decision.reasons.join(', ')}]`;
    }
    return {
      name: c.name,
      ok: problem === undefined,
      expected: c.expect,
      got,
      reasons: decision.reasons,
      problem,
    };
  });
}
