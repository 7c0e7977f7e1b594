import type { Command } from 'commander';
import type { ResidencyReport } from '../../../services/residency-scan.js';
import { EXIT, resolveConfigPath, withCustos } from '../context.js';
import type { ExitBox } from '../main.js';

function printReport(report: ResidencyReport): void {
  for (const s of report.stores)
    process.stdout.write(`store ${s.store} (site ${s.site}): ${s.records} records\n`);
  if (report.violations.length === 0) {
    process.stdout.write(`clean: ${report.scanned} records scanned, no residency violations\n`);
    return;
  }
  process.stdout.write(`${report.violations.length} residency violation(s) in ${report.scanned} records:\n`);
  for (const v of report.violations) {
    process.stdout.write(
      `  ${v.reason}: store ${v.store} (site ${v.site}) ${v.collection}/${v.id} subject ${v.subject}` +
        ` jurisdiction ${v.jurisdiction ?? '?'} category ${v.category ?? '?'}\n`,
    );
  }
}

/** `custos residency scan`: exit 0 when clean, 3 when any record is out of place. */
export function registerResidencyCommands(program: Command, exit: ExitBox): void {
  const residency = program.command('residency').description('residency checks');
  residency
    .command('scan')
    .description('read every registered store and report records on sites their jurisdiction does not allow')
    .option('-c, --config <file>', 'configuration file')
    .option('--json', 'machine-readable output', false)
    .action(async (opts: { config?: string; json: boolean }) => {
      const report = await withCustos(resolveConfigPath(opts.config), (custos) => custos.scanResidency());
      if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else printReport(report);
      exit.code = report.violations.length === 0 ? EXIT.ok : EXIT.violations;
    });
}
