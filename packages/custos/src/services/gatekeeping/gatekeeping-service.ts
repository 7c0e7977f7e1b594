import type { CustosConfig } from '../../domain/config.js';
import type { AccessStore } from '../../ports/access-store.js';
import type { AlertSink } from '../../ports/alert-sink.js';
import type { Clock } from '../../ports/clock.js';
import type { RecordStore } from '../../ports/record-store.js';
import type { SubjectStore } from '../../ports/subject-store.js';
import type { GrantLookup } from '../access/access-service.js';
import type { Authorizer } from '../policy/authorizer.js';
import type { LoadedPolicies } from '../policy/policy-set.js';
import type { ResidencyRouter } from '../residency-router.js';
import type { SubjectKeys } from '../subject-keys.js';
import { AlertDispatcher } from './alert-dispatcher.js';
import { BreakGlassService } from './break-glass.js';
import type { GatekeepingContext } from './gatekeeping-context.js';
import type { GatekeepingLedger } from './gatekeeping-entries.js';
import { Governance } from './governance.js';
import { GrantService } from './grant-service.js';
import { PolicyGovernance } from './policy-governance.js';
import { RequestService } from './request-service.js';
import type { EntrySource } from './what-if.js';

/** Dependencies of gatekeeping, from the composition root. */
export interface GatekeepingDeps {
  readonly config: CustosConfig;
  readonly store: AccessStore;
  readonly ledger: GatekeepingLedger & EntrySource;
  readonly clock: Clock;
  readonly authorizer: Authorizer;
  readonly policies: LoadedPolicies;
  readonly router: ResidencyRouter;
  readonly stores: ReadonlyMap<string, RecordStore>;
  readonly subjectStore: SubjectStore;
  readonly subjects: SubjectKeys;
  readonly sinks: readonly AlertSink[];
  /** Told about alerts a sink gave up on (the server logs them). */
  readonly onAlertFailure?: (sink: string, type: string, err: unknown) => void;
}

/** What one periodic check did. */
export interface OverdueReport {
  /** Grants whose expiry was recorded. */
  readonly expired: readonly string[];
  /** Break-glass grants escalated for a missed review. */
  readonly escalated: readonly string[];
  /** Pending requests closed for being undecided past their time to live. */
  readonly expiredRequests: readonly string[];
  /** Pending requests whose met quorum had not produced a grant yet (a failed issuance), now issued. */
  readonly issued: readonly string[];
  /** True when a policy set activated elsewhere was picked up. */
  readonly policyReloaded: boolean;
}

/**
 * The custodian's gate: access requests and quorum approval, grants (and the gateway's grant
 * lookup), break-glass with review, governed policy changes, and alerts. See docs/gatekeeping.md.
 */
export class GatekeepingService {
  readonly requests: RequestService;
  readonly grants: GrantService;
  readonly breakGlass: BreakGlassService;
  readonly policy: PolicyGovernance;
  readonly alerts: AlertDispatcher;
  readonly governance: Governance;
  private readonly ctx: GatekeepingContext;
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<OverdueReport> | undefined;

  constructor(deps: GatekeepingDeps) {
    this.governance = new Governance(deps.config.governance);
    this.alerts = new AlertDispatcher(deps.sinks, deps.clock, (sink, event, err) =>
      deps.onAlertFailure?.(sink, event.type, err),
    );
    let grants: GrantService | undefined;
    this.ctx = {
      config: deps.config,
      store: deps.store,
      ledger: deps.ledger,
      clock: deps.clock,
      governance: this.governance,
      alerts: this.alerts,
      estimate: deps,
      grantsChanged: (id) => grants?.changed(id),
    };
    grants = new GrantService(this.ctx, deps);
    this.grants = grants;
    this.requests = new RequestService(this.ctx);
    this.breakGlass = new BreakGlassService(this.ctx, this.requests, this.grants);
    this.policy = new PolicyGovernance(this.ctx, deps.authorizer, deps.ledger, deps.policies);
  }

  /** The GrantLookup the gateway calls for every request. */
  get grantLookup(): GrantLookup {
    return this.grants.lookup;
  }

  /**
   * The periodic check, driven by the injected clock: records grant expiries, escalates overdue
   * break-glass reviews, expires undecided requests, issues grants whose quorum was met but whose
   * issuance failed, and picks up a policy set activated by another instance. Runs one at a time.
   */
  checkOverdue(): Promise<OverdueReport> {
    this.checking ??= this.runCheck().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  private async runCheck(): Promise<OverdueReport> {
    const { expired, escalated } = await this.grants.sweep();
    const now = this.ctx.clock.now();
    const ttl = this.ctx.config.governance.requestTtlHours * 3_600_000;
    const expiredRequests: string[] = [];
    const issued: string[] = [];
    for (const r of await this.ctx.store.listRequests({ state: 'pending', limit: 1000 })) {
      if (r.createdAt + ttl <= now) {
        if (await this.requests.expire(r)) expiredRequests.push(r.id);
        continue;
      }
      const votes = await this.ctx.store.votes(r.id);
      const custodian = votes.filter((v) => v.kind === 'custodian').length;
      const operator = votes.filter((v) => v.kind === 'operator').length;
      const due =
        r.kind === 'break-glass' || (custodian >= r.required.custodian && operator >= r.required.operator);
      if (due && (await this.requests.issue(r))) issued.push(r.id);
    }
    const policyReloaded = await this.policy.reload();
    return { expired, escalated, expiredRequests, issued, policyReloaded };
  }

  /** Runs `checkOverdue` every `governance.breakGlass.checkIntervalSec` (as `custos serve` does). */
  startTimer(onError: (err: unknown) => void = () => {}): void {
    if (this.timer) return;
    this.timer = setInterval(
      () => void this.checkOverdue().catch(onError),
      this.ctx.config.governance.breakGlass.checkIntervalSec * 1000,
    );
    this.timer.unref();
  }

  /** Stops the timer and gives alerts in flight up to `graceMs` to finish. */
  async close(graceMs = 2000): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.checking?.catch(() => {});
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([
      this.alerts.idle(),
      new Promise<void>((r) => {
        timeout = setTimeout(r, graceMs);
      }),
    ]);
    clearTimeout(timeout);
  }
}
