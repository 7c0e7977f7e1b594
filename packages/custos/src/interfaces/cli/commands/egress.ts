import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Command } from 'commander';
import { CustosError } from '../../../domain/errors.js';
import type { EgressReport } from '../../../services/egress/egress-service.js';
import { EXPORT_FORMATS, type ExportFormat } from '../../../services/egress/export-format.js';
import { EXIT, resolveConfigPath, withCustos } from '../context.js';
import type { ExitBox } from '../main.js';
import { actingPrincipal, actor } from './access.js';

function printReport(r: EgressReport): void {
  process.stdout.write(`egress volumes, ${r.windowStart} .. ${r.at} (rolling 12 months, distinct persons)\n`);
  const head = ['counterparty', 'data type', 'persons', 'threshold', 'used'];
  const rows = r.rows.map((x) => [
    x.counterparty,
    x.dataType,
    String(x.persons),
    String(x.threshold),
    `${(x.ratio * 100).toFixed(1)}%${x.persons > x.threshold ? ' OVER' : ''}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  for (const row of [head, ...rows])
    process.stdout.write(
      `${row
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd()}\n`,
    );
}

/** `custos egress export FLOW` and `custos egress report`. */
export function registerEgressCommands(program: Command, exit: ExitBox): void {
  const egress = program
    .command('egress')
    .description('egress firewall: exports through declared flows, volumes');

  actor(
    egress
      .command('export <flow>')
      .description(
        'export through a declared flow, as a principal of its destination; the last line is the trailer',
      )
      .option('--format <format>', `${EXPORT_FORMATS.join(' or ')}`, 'ndjson')
      .option('-o, --out <file>', 'write to this file (default: standard output)'),
  ).action(
    async (
      flow: string,
      opts: { config?: string; principal?: string; token?: string; format: string; out?: string },
    ) => {
      if (!(EXPORT_FORMATS as readonly string[]).includes(opts.format))
        throw new CustosError('VALIDATION_FAILED', `--format must be ${EXPORT_FORMATS.join(' or ')}`);
      await withCustos(resolveConfigPath(opts.config), async (custos) => {
        const principal = await actingPrincipal(custos, opts);
        const handle = await custos.egress.open(principal, flow, opts.format as ExportFormat);
        const out = opts.out === undefined ? process.stdout : createWriteStream(opts.out, { mode: 0o600 });
        let last = '';
        for await (const chunk of handle.chunks) {
          last = chunk;
          if (!out.write(chunk)) await once(out, 'drain');
        }
        if (out !== process.stdout) {
          out.end();
          await once(out, 'finish');
        }
        await custos.gatekeeping.alerts.idle();
        // A stop after data went out is said by the trailer; the exit code says it too.
        if (/"status":"stopped"|status=stopped/.test(last)) {
          process.stderr.write('export stopped: see the trailer line\n');
          exit.code = EXIT.failure;
        }
      });
    },
  );

  egress
    .command('report')
    .description(
      'per counterparty: distinct persons sent in the last 12 months by data type, against thresholds',
    )
    .option('-c, --config <file>', 'configuration file')
    .option('--json', 'machine-readable output', false)
    .action(async (opts: { config?: string; json: boolean }) => {
      const report = await withCustos(resolveConfigPath(opts.config), (custos) => custos.egress.report());
      if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else printReport(report);
      exit.code = report.rows.some((r) => r.persons > r.threshold) ? EXIT.violations : EXIT.ok;
    });
}
