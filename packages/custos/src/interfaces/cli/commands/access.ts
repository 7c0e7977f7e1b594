import type { Command } from 'commander';
import type { Custos } from '../../../composition-root.js';
import { CustosError } from '../../../domain/errors.js';
import type { Principal } from '../../../domain/principal.js';
import type { RequestState, ScopeAction } from '../../../ports/access-store.js';
import { issueToken } from '../../../services/auth/authenticator.js';
import type { ScopeInput } from '../../../services/gatekeeping/scope.js';
import { resolveConfigPath, withCustos } from '../context.js';
import type { ExitBox } from '../main.js';

/** Options every acting command takes. */
interface ActorOptions {
  config?: string;
  principal?: string;
  token?: string;
}

/**
 * Who the CLI acts as: `--token` (or `CUSTOS_TOKEN`), verified like any bearer token, so it works
 * with OIDC too; or, in embedded mode, `--principal ID` for a principal declared in the config
 * (whoever holds the config and keys can mint its tokens anyway).
 */
export async function actingPrincipal(custos: Custos, opts: ActorOptions): Promise<Principal> {
  const token = opts.token ?? process.env.CUSTOS_TOKEN;
  if (token !== undefined && token !== '') return custos.authenticator.authenticate(`Bearer ${token}`);
  if (opts.principal === undefined)
    throw new CustosError(
      'AUTH_REQUIRED',
      'say who acts: --principal ID (embedded mode) or --token/CUSTOS_TOKEN',
    );
  if (!custos.tokenKey)
    throw new CustosError('AUTH_REQUIRED', '--principal works in embedded mode only; use --token with OIDC');
  const t = await issueToken(
    custos.config,
    custos.tokenKey.privateKey,
    opts.principal,
    60,
    custos.clock.now(),
  );
  return custos.authenticator.authenticate(`Bearer ${t}`);
}

/** Adds the acting options to a command. */
export function actor(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'configuration file')
    .option('--principal <id>', 'act as this declared principal (embedded auth mode)')
    .option('--token <jwt>', 'act as the holder of this bearer token (default: $CUSTOS_TOKEN)');
}

/** Runs `fn` as the acting principal and prints its result as JSON. */
export async function act<T>(
  opts: ActorOptions,
  fn: (custos: Custos, p: Principal) => Promise<T>,
): Promise<void> {
  const out = await withCustos(resolveConfigPath(opts.config), async (custos) => {
    const result = await fn(custos, await actingPrincipal(custos, opts));
    await custos.gatekeeping.alerts.idle();
    return result;
  });
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

const list = (v: string): string[] =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

interface ScopeOptions {
  collections: string;
  subjects?: string;
  jurisdiction?: string;
  fields?: string;
  actions: string;
}

function scopeOf(o: ScopeOptions): ScopeInput {
  if ((o.subjects === undefined) === (o.jurisdiction === undefined))
    throw new CustosError('SCOPE_INVALID', 'give exactly one of --subjects and --jurisdiction');
  return {
    collections: list(o.collections),
    subjects: o.subjects !== undefined ? list(o.subjects) : { jurisdiction: o.jurisdiction ?? '' },
    fields: o.fields === undefined ? [] : list(o.fields),
    actions: list(o.actions) as ScopeAction[],
  };
}

function scoped(cmd: Command): Command {
  return cmd
    .requiredOption('--collections <list>', 'collections, comma-separated')
    .option('--subjects <list>', 'subject ids, comma-separated')
    .option('--jurisdiction <id>', 'instead of --subjects: every subject of a jurisdiction (bulk)')
    .option('--fields <list>', 'fields, comma-separated (default: all)')
    .option('--actions <list>', 'read, list, write, delete', 'read')
    .requiredOption('--purpose <code>', 'a configured purpose, e.g. SUPPORT_TICKET');
}

const number = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new CustosError('VALIDATION_FAILED', 'must be a positive number');
  return n;
};

/** `custos access request|list|show|approve|deny|revoke|break-glass|review`. */
export function registerAccessCommands(program: Command, _exit: ExitBox): void {
  const access = program.command('access').description('access requests, approvals, grants, break-glass');
  scoped(
    actor(access.command('request').description('request access (prints the request as approvers see it)')),
  )
    .requiredOption('--detail <text>', 'justification')
    .option('--ticket <ref>', 'ticket reference')
    .requiredOption('--hours <n>', "duration in hours (at most the purpose's maximum)", number)
    .action(
      (
        o: ActorOptions & ScopeOptions & { purpose: string; detail: string; ticket?: string; hours: number },
      ) =>
        act(o, (c, p) =>
          c.gatekeeping.requests.create(p, {
            scope: scopeOf(o),
            purpose: o.purpose,
            detail: o.detail,
            ticket: o.ticket,
            durationHours: o.hours,
          }),
        ),
    );
  actor(access.command('list').description('list the requests you may see, newest first'))
    .option('--state <state>', 'pending, approved, denied or expired')
    .option('--limit <n>', 'at most this many', number, 100)
    .action((o: ActorOptions & { state?: RequestState; limit: number }) =>
      act(o, (c, p) => c.gatekeeping.requests.list(p, o.state, Math.floor(o.limit))),
    );
  actor(access.command('show').description('show one request').argument('<id>', 'request id')).action(
    (id: string, o: ActorOptions) =>
      act(o, async (c, p) => c.gatekeeping.requests.view(await c.gatekeeping.requests.get(p, id))),
  );
  actor(access.command('approve').description('approve a request').argument('<id>', 'request id'))
    .option('--comment <text>', 'comment')
    .action((id: string, o: ActorOptions & { comment?: string }) =>
      act(o, (c, p) => c.gatekeeping.requests.approve(p, id, o.comment)),
    );
  actor(access.command('deny').description('deny a request').argument('<id>', 'request id'))
    .option('--reason <text>', 'reason')
    .action((id: string, o: ActorOptions & { reason?: string }) =>
      act(o, (c, p) => c.gatekeeping.requests.deny(p, id, o.reason)),
    );
  actor(access.command('revoke').description('revoke a grant').argument('<grant>', 'grant id'))
    .option('--reason <text>', 'reason')
    .action((id: string, o: ActorOptions & { reason?: string }) =>
      act(o, (c, p) => c.gatekeeping.grants.revoke(p, id, o.reason)),
    );
  scoped(
    actor(access.command('break-glass').description('issue yourself an emergency grant (alerted, reviewed)')),
  )
    .option('--incident <ref>', 'incident reference (required)')
    .option('--detail <text>', 'what happened')
    .option('--minutes <n>', 'duration in minutes (default and cap: breakGlass.maxDurationMinutes)', number)
    .action(
      (
        o: ActorOptions &
          ScopeOptions & { purpose: string; incident?: string; detail?: string; minutes?: number },
      ) =>
        act(o, (c, p) =>
          c.gatekeeping.breakGlass.open(p, {
            scope: scopeOf(o),
            purpose: o.purpose,
            incident: o.incident ?? '',
            detail: o.detail,
            durationMinutes: o.minutes,
          }),
        ),
    );
  actor(access.command('review').description('review a break-glass grant').argument('<grant>', 'grant id'))
    .requiredOption('--verdict <v>', 'justified or unjustified (which revokes the grant)')
    .option('--note <text>', 'note')
    .action((id: string, o: ActorOptions & { verdict: string; note?: string }) => {
      if (o.verdict !== 'justified' && o.verdict !== 'unjustified')
        throw new CustosError('VALIDATION_FAILED', '--verdict is justified or unjustified');
      return act(o, (c, p) =>
        c.gatekeeping.breakGlass.review(p, id, { verdict: o.verdict as 'justified', note: o.note }),
      );
    });
  access
    .command('check')
    .description('run the periodic check now: record expiries, escalate overdue break-glass reviews')
    .option('-c, --config <file>', 'configuration file')
    .action(async (o: { config?: string }) => {
      const report = await withCustos(resolveConfigPath(o.config), async (c) => {
        const r = await c.gatekeeping.checkOverdue();
        await c.gatekeeping.alerts.idle();
        return r;
      });
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    });
}
