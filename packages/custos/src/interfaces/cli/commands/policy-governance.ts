import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { CustosError } from '../../../domain/errors.js';
import type { ProposalState } from '../../../ports/access-store.js';
import type { WhatIfReport } from '../../../services/gatekeeping/what-if.js';
import { resolveConfigPath, withCustos } from '../context.js';
import { act, actingPrincipal, actor } from './access.js';

function positive(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new CustosError('VALIDATION_FAILED', 'must be a positive integer');
  return n;
}

/** Formats a what-if report: one line per decision that would flip, then a summary. */
export function formatWhatIf(r: WhatIfReport & { proposalId: string }): string {
  const lines = r.changes.map(
    (c) =>
      `#${c.index} ${c.time} ${c.principal} (${c.orgKind}) ${c.action} ${c.collection ?? '-'} ` +
      `${c.jurisdiction ?? '*'} purpose=${c.purpose}${c.grantId ? ` grant=${c.grantId}` : ''}: ` +
      `${c.recorded} -> ${c.proposed} (${c.reasons.join(', ') || 'no policy'})`,
  );
  lines.push(
    `${r.changes.length} of ${r.replayed} decisions in entries ${r.from}..${r.to - 1} would change ` +
      `under ${r.proposalId} (${r.skipped} not replayable)`,
  );
  return `${lines.join('\n')}\n`;
}

/** `custos policy propose|proposals|show|approve|reject|what-if|activate`: governed policy changes. */
export function registerPolicyGovernanceCommands(policy: Command): void {
  actor(policy.command('propose').description('propose a new policy set: every .cedar file of it'))
    .argument('<files...>', 'policy files (the whole proposed set)')
    .requiredOption('--summary <text>', 'what the change does and why')
    .action((files: string[], o: { summary: string; config?: string; principal?: string; token?: string }) =>
      act(o, (c, p) =>
        c.gatekeeping.policy.propose(
          p,
          files.map((f) => ({ name: basename(f), text: readFileSync(f, 'utf8') })),
          o.summary,
        ),
      ),
    );
  actor(policy.command('proposals').description('list policy proposals, newest first'))
    .option('--state <state>', 'pending, approved, rejected, active or superseded')
    .action((o: { state?: ProposalState; config?: string; principal?: string; token?: string }) =>
      act(o, (c, p) => c.gatekeeping.policy.list(p, o.state, 100)),
    );
  actor(
    policy.command('show').description('show a proposal with its diff').argument('<id>', 'proposal id'),
  ).action((id: string, o: { config?: string; principal?: string; token?: string }) =>
    act(o, async (c, p) => c.gatekeeping.policy.view(await c.gatekeeping.policy.get(p, id))),
  );
  for (const [name, description] of [
    ['approve', 'approve a proposal (governance board)'],
    ['reject', 'reject a proposal (board) or withdraw it (proposer)'],
    ['activate', 'activate an approved proposal (recorded in the ledger, persisted, swapped in)'],
  ] as const) {
    actor(policy.command(name).description(description).argument('<id>', 'proposal id'))
      .option('--note <text>', 'comment or reason')
      .action((id: string, o: { note?: string; config?: string; principal?: string; token?: string }) =>
        act(o, (c, p) => {
          const gov = c.gatekeeping.policy;
          if (name === 'approve') return gov.approve(p, id, o.note);
          if (name === 'reject') return gov.reject(p, id, o.note);
          return gov.activate(p, id);
        }),
      );
  }
  actor(
    policy
      .command('what-if')
      .description('replay the last N access decisions against a proposal; list every one that would change')
      .argument('<id>', 'proposal id'),
  )
    .option('--last <n>', 'how many ledger entries to replay', positive, 1000)
    .option('--json', 'print the report as JSON', false)
    .action(
      async (
        id: string,
        o: { last: number; json: boolean; config?: string; principal?: string; token?: string },
      ) => {
        const report = await withCustos(resolveConfigPath(o.config), async (c) =>
          c.gatekeeping.policy.whatIf(await actingPrincipal(c, o), id, o.last),
        );
        process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : formatWhatIf(report));
      },
    );
}
