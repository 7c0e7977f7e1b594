import { type Command, InvalidArgumentError } from 'commander';
import type { Custos } from '../../../composition-root.js';
import { CustosError } from '../../../domain/errors.js';
import { issueToken } from '../../../services/auth/authenticator.js';
import { resolveConfigPath, withCustos } from '../context.js';
import type { ExitBox } from '../main.js';

/** Demo tokens last a working day. */
export const DEMO_TOKEN_TTL_SEC = 12 * 3600;

/** Prints `<id> (<org-kind>, <roles>): <token>` per declared principal (embedded mode only). */
export async function printPrincipalTokens(custos: Custos, ttlSec: number | undefined): Promise<void> {
  process.stdout.write('principals:\n');
  for (const p of custos.config.principals) {
    const label = `${p.id} (${p.orgKind}, ${p.roles.join('+') || 'no roles'})`;
    if (ttlSec === undefined || !custos.tokenKey) {
      process.stdout.write(`${label}\n`);
      continue;
    }
    const token = await issueToken(
      custos.config,
      custos.tokenKey.privateKey,
      p.id,
      ttlSec,
      custos.clock.now(),
    );
    process.stdout.write(`${label}: ${token}\n`);
  }
}

function ttl(value: string): number {
  const m = /^(\d+)(s|m|h|d)?$/.exec(value);
  if (!m) throw new InvalidArgumentError('a duration like 900, 15m, 8h or 1d');
  const n =
    Number(m[1]) * ({ s: 1, m: 60, h: 3600, d: 86400 } as const)[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be positive');
  return n;
}

/** `custos token --principal ID [--ttl]`: prints an embedded-mode token. */
export function registerTokenCommand(program: Command, _exit: ExitBox): void {
  program
    .command('token')
    .description('print a bearer token for a principal declared in the configuration (embedded auth mode)')
    .requiredOption('--principal <id>', 'principal id')
    .option('--ttl <duration>', 'lifetime: seconds, or with s/m/h/d', ttl, 3600)
    .option('--release <digest>', 'release digest claim for a service principal')
    .option('-c, --config <file>', 'configuration file')
    .action(async (opts: { principal: string; ttl: number; release?: string; config?: string }) => {
      const token = await withCustos(resolveConfigPath(opts.config), async (custos) => {
        if (!custos.tokenKey)
          throw new CustosError('BAD_REQUEST', 'tokens are issued by the identity provider in oidc mode');
        return issueToken(
          custos.config,
          custos.tokenKey.privateKey,
          opts.principal,
          opts.ttl,
          custos.clock.now(),
          opts.release,
        );
      });
      process.stdout.write(`${token}\n`);
    });
}
