import { z } from 'zod';

/**
 * The `governance` section of `custos.yaml`: who approves access requests and policy changes, by
 * what quorum, how break-glass works, and where alerts go. Every key is documented in
 * docs/gatekeeping.md; references to other sections are checked in `checkGovernance`.
 */
const id = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'must be 1-63 letters, digits, ".", "_" or "-"');
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be an environment variable name');

/** Actions a request's scope may name (the record actions of the Cedar schema). */
export const SCOPE_ACTIONS = ['read', 'list', 'write', 'delete'] as const;

/** Events an alert sink can receive. */
export const ALERT_EVENTS = [
  'request.created',
  'request.approved',
  'request.denied',
  'grant.issued',
  'grant.revoked',
  'break-glass',
  'review.completed',
  'review.overdue',
  'policy.proposed',
  'policy.activated',
  'flow.proposed',
  'flow.activated',
  'egress.refused',
  'egress.limit',
  'egress.dlp',
  'egress.stopped',
  'egress.unrecorded',
  'ledger.rejected',
] as const;
/** An alert event type. */
export type AlertEventType = (typeof ALERT_EVENTS)[number];

const group = z.strictObject({
  id,
  /** Roles every member (direct or through a subgroup) holds for gatekeeping. */
  roles: z.array(id).default([]),
  /** Principal ids. */
  members: z.array(id).default([]),
  /** Groups whose members are members of this group too. */
  subgroups: z.array(id).default([]),
});

const quorumRule = z.strictObject({
  /** The rule applies to these purposes only (default: all). */
  purposes: z.array(z.string()).optional(),
  /** The rule applies when the scope names any of these actions. */
  actions: z.array(z.enum(SCOPE_ACTIONS)).min(1).optional(),
  /** The rule applies when at least this many subjects are in scope (estimated for filters). */
  minSubjects: z.number().int().min(1).optional(),
  /** The rule applies when at least this many records are in scope (estimated). */
  minRecords: z.number().int().min(1).optional(),
  /** true: applies to requests whose subjects are a filter (bulk) rather than a list. */
  bulk: z.boolean().optional(),
  /** Custodian approvals this rule requires; the largest matching rule wins. */
  approvals: z.number().int().min(1).max(20),
});

const webhook = z.strictObject({
  id,
  url: z.url(),
  /** Environment variable holding the HMAC secret (or `secretFile`). */
  secretEnv: envName.optional(),
  secretFile: z.string().min(1).optional(),
  /** Events sent to this hook (default: all). */
  events: z.array(z.enum(ALERT_EVENTS)).min(1).optional(),
  timeoutMs: z.number().int().min(100).max(60_000).default(5000),
  maxAttempts: z.number().int().min(1).max(20).default(5),
  /** First retry delay; doubles per attempt (with jitter), capped at 60 s. */
  backoffMs: z.number().int().min(1).max(60_000).default(500),
});

/** The zod schema of the `governance` section. */
export const governanceSchema = z
  .strictObject({
    /** `autonomous`: custodian approvers decide alone; `supervised`: chosen purposes also need the operator. */
    mode: z.enum(['autonomous', 'supervised']).default('autonomous'),
    /** Role (in a custodian organisation) that approves access requests. */
    approverRole: id.default('approver'),
    /** No approver from the requester's organisation counts. */
    excludeRequesterOrg: z.boolean().default(false),
    /** A pending request not decided within this many hours expires. */
    requestTtlHours: z
      .number()
      .positive()
      .max(24 * 90)
      .default(72),
    groups: z.array(group).default([]),
    quorum: z
      .strictObject({
        default: z.number().int().min(1).max(20).default(1),
        rules: z.array(quorumRule).default([]),
      })
      .prefault({}),
    /** Supervised mode: requests with these purposes also need operator approvals. */
    supervision: z
      .strictObject({
        purposes: z.array(z.string()).default([]),
        /** Role (in an operator organisation) that supervises. */
        role: id.default('supervisor'),
        approvals: z.number().int().min(1).max(20).default(1),
      })
      .prefault({}),
    breakGlass: z
      .strictObject({
        role: id.default('break-glass'),
        maxDurationMinutes: z
          .number()
          .int()
          .min(1)
          .max(24 * 60)
          .default(60),
        /** Distinct custodians (not the holder) who must review each break-glass grant. */
        reviewers: z.number().int().min(1).max(10).default(2),
        /** Role reviewers hold (default: the approver role). */
        reviewerRole: id.optional(),
        reviewDeadlineHours: z
          .number()
          .positive()
          .max(24 * 30)
          .default(24),
        /** How often `custos serve` checks for overdue reviews and expired grants. */
        checkIntervalSec: z.number().int().min(1).max(3600).default(60),
      })
      .prefault({}),
    /** The governance board that approves policy changes. */
    board: z
      .strictObject({
        role: id.default('board'),
        quorum: z.number().int().min(1).max(20).default(2),
        /** Supervised mode: operator board members whose approval is also required. */
        operatorApprovals: z.number().int().min(0).max(20).default(1),
      })
      .prefault({}),
    alerts: z.strictObject({ webhooks: z.array(webhook).default([]) }).prefault({}),
  })
  .prefault({});

/** The governance section as written, after defaults. */
export type RawGovernance = z.output<typeof governanceSchema>;
