import { isAbsolute, resolve } from 'node:path';
import type { RawConfig } from './config-schema.js';
import { type AlertEventType, governanceSchema, type RawGovernance } from './governance-config-schema.js';

/** A quorum rule after normalisation (absent conditions match everything). */
export interface QuorumRuleSpec {
  readonly purposes: readonly string[] | undefined;
  readonly actions: readonly string[] | undefined;
  readonly minSubjects: number | undefined;
  readonly minRecords: number | undefined;
  readonly bulk: boolean | undefined;
  readonly approvals: number;
}

/** A webhook alert sink; the secret is still a reference, read when the sink opens. */
export interface WebhookSpec {
  readonly id: string;
  readonly url: string;
  readonly secret:
    | { readonly kind: 'env'; readonly name: string }
    | { readonly kind: 'file'; readonly path: string };
  readonly events: readonly AlertEventType[] | undefined;
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly backoffMs: number;
}

/** The validated, normalised governance section. */
export interface GovernanceSpec {
  readonly mode: 'autonomous' | 'supervised';
  readonly approverRole: string;
  readonly excludeRequesterOrg: boolean;
  readonly requestTtlHours: number;
  /** Gatekeeping roles each principal id holds through groups, nested groups included. */
  readonly groupRoles: Readonly<Record<string, readonly string[]>>;
  readonly quorum: { readonly default: number; readonly rules: readonly QuorumRuleSpec[] };
  readonly supervision: {
    readonly purposes: readonly string[];
    readonly role: string;
    readonly approvals: number;
  };
  readonly breakGlass: {
    readonly role: string;
    readonly maxDurationMinutes: number;
    readonly reviewers: number;
    readonly reviewerRole: string;
    readonly reviewDeadlineHours: number;
    readonly checkIntervalSec: number;
  };
  readonly board: { readonly role: string; readonly quorum: number; readonly operatorApprovals: number };
  readonly webhooks: readonly WebhookSpec[];
}

type Group = RawGovernance['groups'][number];

/** Every principal id reachable from a group (its members and its subgroups' members). */
function membersOf(groups: ReadonlyMap<string, Group>, start: string): Set<string> {
  const out = new Set<string>();
  const seen = new Set<string>();
  const stack = [start];
  while (stack.length > 0) {
    const g = groups.get(stack.pop() ?? '');
    if (!g || seen.has(g.id)) continue;
    seen.add(g.id);
    for (const m of g.members) out.add(m);
    stack.push(...g.subgroups);
  }
  return out;
}

/** Maps each principal id to the roles its groups confer. */
function groupRoles(raw: RawGovernance): Record<string, string[]> {
  const groups = new Map(raw.groups.map((g) => [g.id, g]));
  const roles: Record<string, Set<string>> = {};
  for (const g of raw.groups) {
    if (g.roles.length === 0) continue;
    for (const m of membersOf(groups, g.id)) {
      roles[m] ??= new Set();
      for (const r of g.roles) roles[m].add(r);
    }
  }
  return Object.fromEntries(Object.entries(roles).map(([k, v]) => [k, [...v].sort()]));
}

/** Finds a subgroup cycle, returned as `a → b → a`, or undefined. */
function findCycle(raw: RawGovernance): string | undefined {
  const groups = new Map(raw.groups.map((g) => [g.id, g]));
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (gid: string): string | undefined => {
    if (state.get(gid) === 'done') return undefined;
    if (state.get(gid) === 'open') return [...path.slice(path.indexOf(gid)), gid].join(' → ');
    state.set(gid, 'open');
    path.push(gid);
    for (const s of groups.get(gid)?.subgroups ?? []) {
      const c = visit(s);
      if (c) return c;
    }
    path.pop();
    state.set(gid, 'done');
    return undefined;
  };
  for (const g of raw.groups) {
    const c = visit(g.id);
    if (c) return c;
  }
  return undefined;
}

/** Counts declared principals of an organisation kind holding a role, directly or through groups. */
function holders(raw: RawConfig, gov: RawGovernance, kind: string, role: string): number {
  const kinds = new Map(raw.organisations.map((o) => [o.id, o.kind]));
  const viaGroups = groupRoles(gov);
  return raw.principals.filter(
    (p) => kinds.get(p.org) === kind && (p.roles.includes(role) || (viaGroups[p.id] ?? []).includes(role)),
  ).length;
}

/**
 * Checks the governance section against the rest of the config; returns every problem. When the
 * section is written out (not defaulted), tokens are embedded (so every principal is declared) and
 * nothing else is wrong, it also checks that each quorum can be reached by the declared principals.
 */
export function checkGovernance(
  raw: RawConfig,
  given: RawGovernance | undefined,
  checkQuorums = true,
): string[] {
  const gov = given ?? governanceSchema.parse(undefined);
  const problems: string[] = [];
  const purposes = new Set(raw.purposes.map((p) => p.id));
  const principals = new Set(raw.principals.map((p) => p.id));
  const groupIds = new Set<string>();
  gov.groups.forEach((g, i) => {
    if (groupIds.has(g.id)) problems.push(`governance.groups[${i}].id: duplicate id "${g.id}"`);
    groupIds.add(g.id);
  });
  gov.groups.forEach((g, i) => {
    g.subgroups.forEach((s, j) => {
      if (!groupIds.has(s)) problems.push(`governance.groups[${i}].subgroups[${j}]: unknown group "${s}"`);
    });
    if (raw.auth.mode === 'embedded') {
      g.members.forEach((m, j) => {
        if (!principals.has(m))
          problems.push(`governance.groups[${i}].members[${j}]: unknown principal "${m}"`);
      });
    }
  });
  const cycle = findCycle(gov);
  if (cycle) problems.push(`governance.groups: subgroups form a cycle (${cycle})`);
  const purposeRef = (path: string, p: string): void => {
    if (!purposes.has(p)) problems.push(`${path}: unknown purpose "${p}"`);
  };
  gov.quorum.rules.forEach((r, i) => {
    (r.purposes ?? []).forEach((p, j) => {
      purposeRef(`governance.quorum.rules[${i}].purposes[${j}]`, p);
    });
  });
  gov.supervision.purposes.forEach((p, j) => {
    purposeRef(`governance.supervision.purposes[${j}]`, p);
  });
  const hasOperator = raw.organisations.some((o) => o.kind === 'operator');
  if (gov.mode === 'supervised' && !hasOperator)
    problems.push('governance.mode: "supervised" needs an organisation of kind operator');
  const hooks = new Set<string>();
  gov.alerts.webhooks.forEach((w, i) => {
    const where = `governance.alerts.webhooks[${i}]`;
    if (hooks.has(w.id)) problems.push(`${where}.id: duplicate id "${w.id}"`);
    hooks.add(w.id);
    if ((w.secretEnv === undefined) === (w.secretFile === undefined))
      problems.push(`${where}: give exactly one of secretEnv, secretFile`);
    if (!/^https?:\/\//i.test(w.url)) problems.push(`${where}.url: must be an http:// or https:// URL`);
  });
  if (checkQuorums && problems.length === 0 && given !== undefined && raw.auth.mode === 'embedded') {
    problems.push(...checkAttainable(raw, gov));
  }
  return problems;
}

function checkAttainable(raw: RawConfig, gov: RawGovernance): string[] {
  const problems: string[] = [];
  const need = (path: string, required: number, kind: string, role: string): void => {
    const n = holders(raw, gov, kind, role);
    if (n < required)
      problems.push(
        `${path}: needs ${required} ${kind} principal(s) with role "${role}", only ${n} declared`,
      );
  };
  const most = Math.max(gov.quorum.default, ...gov.quorum.rules.map((r) => r.approvals));
  need('governance.quorum', most, 'custodian', gov.approverRole);
  const reviewerRole = gov.breakGlass.reviewerRole ?? gov.approverRole;
  need('governance.breakGlass.reviewers', gov.breakGlass.reviewers, 'custodian', reviewerRole);
  need('governance.board.quorum', gov.board.quorum, 'custodian', gov.board.role);
  if (gov.mode === 'supervised') {
    if (gov.supervision.purposes.length > 0)
      need('governance.supervision.approvals', gov.supervision.approvals, 'operator', gov.supervision.role);
    if (gov.board.operatorApprovals > 0)
      need('governance.board.operatorApprovals', gov.board.operatorApprovals, 'operator', gov.board.role);
  }
  return problems;
}

/** Normalises a checked governance section; secret files resolve against the config's directory. */
export function toGovernanceSpec(given: RawGovernance | undefined, baseDir: string): GovernanceSpec {
  const gov = given ?? governanceSchema.parse(undefined);
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  return {
    mode: gov.mode,
    approverRole: gov.approverRole,
    excludeRequesterOrg: gov.excludeRequesterOrg,
    requestTtlHours: gov.requestTtlHours,
    groupRoles: groupRoles(gov),
    quorum: {
      default: gov.quorum.default,
      rules: gov.quorum.rules.map((r) => ({
        purposes: r.purposes,
        actions: r.actions,
        minSubjects: r.minSubjects,
        minRecords: r.minRecords,
        bulk: r.bulk,
        approvals: r.approvals,
      })),
    },
    supervision: gov.supervision,
    breakGlass: { ...gov.breakGlass, reviewerRole: gov.breakGlass.reviewerRole ?? gov.approverRole },
    board: gov.board,
    webhooks: gov.alerts.webhooks.map((w) => ({
      id: w.id,
      url: w.url,
      secret:
        w.secretEnv !== undefined
          ? { kind: 'env' as const, name: w.secretEnv }
          : { kind: 'file' as const, path: abs(w.secretFile ?? '') },
      events: w.events,
      timeoutMs: w.timeoutMs,
      maxAttempts: w.maxAttempts,
      backoffMs: w.backoffMs,
    })),
  };
}
