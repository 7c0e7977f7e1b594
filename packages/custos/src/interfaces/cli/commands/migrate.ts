import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CustosError } from '../../../domain/errors.js';
import { createMigration } from '../../../migration-root.js';
import { verifyCertificateFile } from '../../../services/migrate/deletion-certificate.js';
import type { CopyReport } from '../../../services/migrate/migration-copy.js';
import type { MigrationPlan } from '../../../services/migrate/migration-plan.js';
import type { PurgeReport } from '../../../services/migrate/migration-purge.js';
import type { MigrationService } from '../../../services/migrate/migration-service.js';
import { EXIT, resolveConfigPath, withCustos } from '../context.js';
import type { ExitBox } from '../main.js';
import { createProgressBar } from '../progress-bar.js';

interface Opts {
  config?: string;
  json: boolean;
  dataset?: string[];
}

const out = (s: string): boolean => process.stdout.write(s);

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map(
      (r) =>
        `${r
          .map((c, i) => c.padEnd(widths[i] ?? 0))
          .join('  ')
          .trimEnd()}\n`,
    )
    .join('');
}

function printPlan(plan: MigrationPlan): void {
  const head = [
    'site',
    'dataset',
    'jurisdiction',
    'category',
    'records',
    'bytes',
    'move',
    'compliant',
    'delete',
    'unknown',
    'to',
  ];
  const rows = plan.rows.map((r) => [
    r.site,
    r.dataset,
    r.jurisdiction,
    r.category,
    ...[r.records, r.bytes, r.move, r.compliant, r.delete, r.unknown].map(String),
    r.to.join(',') || '-',
  ]);
  const t = plan.totals;
  out(
    table([
      head,
      ...rows,
      [
        'total',
        '',
        '',
        '',
        ...[t.records, t.bytes, t.move, t.compliant, t.delete, t.unknown].map(String),
        '',
      ],
    ]),
  );
  if (t.unknown > 0)
    out(`${t.unknown} record(s) have no known subject jurisdiction: held back (protected) until resolved\n`);
  for (const b of plan.invalid) out(`${b.count} invalid record(s) in ${b.dataset}; first: ${b.first}\n`);
  for (const u of plan.unmapped) {
    out(
      `unmapped column(s) in ${u.dataset}: ${u.columns.join(', ')} (map them or list them in discard; purge refuses)\n`,
    );
  }
  for (const b of plan.blocked) out(`${b.dataset} cannot be migrated as declared: ${b.code}: ${b.message}\n`);
}

function printCopy(reports: readonly CopyReport[]): void {
  for (const r of reports) {
    const err = r.error === undefined ? '' : `  error ${r.error.code}: ${r.error.message}`;
    out(
      `${r.dataset}: ${r.status}, ${r.copiedNow} copied now, ${r.copied} copied in all, ${r.held} held back, ` +
        `${r.batches} batches, root ${r.root}${err}\n`,
    );
  }
}

function printPurge(reports: readonly PurgeReport[]): void {
  for (const r of reports) {
    const err = r.error === undefined ? '' : `  error ${r.error.code}: ${r.error.message}`;
    const cert = r.certificate === undefined ? '' : `, certificate ${r.certificate}`;
    out(
      `${r.dataset}: ${r.status}, ${r.deletedNow} deleted now, ${r.deleted} in all, ${r.heldBack} held back${cert}${err}\n`,
    );
  }
}

async function withMigration<T>(opts: Opts, fn: (m: MigrationService) => Promise<T>): Promise<T> {
  return withCustos(resolveConfigPath(opts.config), async (custos) => {
    const migration = await createMigration(custos);
    try {
      return await fn(migration);
    } finally {
      await migration.close();
    }
  });
}

function common(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'configuration file')
    .option('--json', 'machine-readable output', false)
    .option('--dataset <id...>', 'only these datasets (`source/collection`) or sources');
}

/** `custos migrate plan|run|purge|verify-certificate|status` (docs/migration.md). */
export function registerMigrateCommands(program: Command, exit: ExitBox): void {
  const migrate = program.command('migrate').description('migrate data off legacy sites (docs/migration.md)');
  common(
    migrate.command('plan').description('inventory of the legacy sources: what moves, what is held back'),
  ).action(async (opts: Opts) => {
    const plan = await withMigration(opts, (m) => m.plan(opts.dataset));
    if (opts.json) out(`${JSON.stringify(plan, null, 2)}\n`);
    else printPlan(plan);
    // A dataset that cannot be migrated as declared is a failure scripts must see.
    if (plan.blocked.length > 0) exit.code = EXIT.failure;
  });
  common(
    migrate.command('run').description('copy, verify and checkpoint, batch by batch (resumable)'),
  ).action(async (opts: Opts) => {
    const bar = createProgressBar();
    let reports: CopyReport[];
    try {
      reports = await withMigration(opts, (m) => m.run(opts.dataset, (p) => bar.update(p)));
    } catch (err) {
      bar.done();
      const partial = (err as { reports?: CopyReport[] }).reports;
      if (partial !== undefined && !opts.json) printCopy(partial);
      throw err;
    }
    bar.done();
    if (opts.json) out(`${JSON.stringify(reports, null, 2)}\n`);
    else printCopy(reports);
    if (reports.some((r) => r.status === 'failed')) exit.code = EXIT.failure;
  });
  common(
    migrate.command('purge').description('delete verified source copies; issue signed deletion certificates'),
  ).action(async (opts: Opts) => {
    const bar = createProgressBar();
    const reports = await withMigration(opts, (m) => m.purge(opts.dataset, (p) => bar.update(p))).finally(
      () => bar.done(),
    );
    if (opts.json) out(`${JSON.stringify(reports, null, 2)}\n`);
    else printPurge(reports);
    if (reports.some((r) => r.status !== 'purged')) exit.code = EXIT.failure;
  });
  common(migrate.command('status').description('where each dataset stands')).action(async (opts: Opts) => {
    const status = await withMigration(opts, (m) => m.status(opts.dataset));
    if (opts.json) {
      out(`${JSON.stringify(status, null, 2)}\n`);
      return;
    }
    const head = ['dataset', 'site', 'phase', 'copied', 'held', 'deleted', 'batches', 'certificate'];
    const rows = status.map((s) => [
      s.dataset,
      s.site,
      s.phase,
      String(s.copied),
      String(s.held),
      String(s.deleted),
      String(s.batches),
      s.certificate ?? (s.pending === undefined ? '-' : `pending: ${s.pending}`),
    ]);
    out(table([head, ...rows]));
  });
  migrate
    .command('verify-certificate')
    .description('check a deletion certificate offline: signature, ledger inclusion, root and count')
    .argument('<file>', 'certificate file')
    .option(
      '--key <vkey>',
      'a custodian verifier key to trust (required; repeatable). The key inside the file is never trusted',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--json', 'machine-readable output', false)
    .action(async (file: string, opts: { key: string[]; json: boolean }) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        throw new CustosError('CERTIFICATE_INVALID', `cannot read ${file}`);
      }
      const verdict = await verifyCertificateFile(text, opts.key);
      if (opts.json) out(`${JSON.stringify(verdict, null, 2)}\n`);
      else {
        for (const c of verdict.passed) out(`ok    ${c.check}: ${c.detail}\n`);
        if (verdict.failed) out(`FAIL  ${verdict.failed.check}: ${verdict.failed.detail}\n`);
        if (verdict.ok && verdict.certificate) {
          const c = verdict.certificate;
          out(
            `certificate valid: ${c.count} record(s) of ${c.collection} ${c.method === 'delete' ? 'deleted' : c.method === 'crypto-shred' ? 'crypto-shredded' : 'destroyed'} at ${c.site} (${c.dataset}), ${c.issuedAt}\n`,
          );
        }
      }
      if (!verdict.ok) {
        throw new CustosError(
          'CERTIFICATE_INVALID',
          `certificate fails the ${verdict.failed?.check ?? ''} check`,
        );
      }
    });
}
