import { resolve } from 'node:path';
import type { Command } from 'commander';
import { exportLedger } from '../../../services/ledger/ledger-export.js';
import { resolveConfigPath, withCustos } from '../context.js';
import type { ExitBox } from '../main.js';

/** `custos ledger export DIR` and `custos ledger vkey`. */
export function registerLedgerCommands(program: Command, _exit: ExitBox): void {
  const ledger = program.command('ledger').description('the verifiable access ledger');
  ledger
    .command('export')
    .description(
      'sign a fresh checkpoint and write it with every tile and entry bundle (c2sp.org/tlog-tiles) to DIR',
    )
    .argument('<dir>', 'output directory (the log prefix for `custos-verify ledger --dir`)')
    .option('-c, --config <file>', 'configuration file')
    .action(async (dir: string, opts: { config?: string }) => {
      const out = resolve(dir);
      const { report, vkey } = await withCustos(resolveConfigPath(opts.config), async (custos) => ({
        report: await exportLedger(custos.ledger, out),
        vkey: custos.ledger.verifierKey,
      }));
      process.stdout.write(
        `exported ledger size ${report.size}: ${report.hashTiles} hash tiles, ${report.entryBundles} entry bundles, ` +
          `${report.bytes} bytes to ${out}\n`,
      );
      process.stdout.write(`verify offline with: custos-verify ledger --dir ${out} --key ${vkey}\n`);
    });
  ledger
    .command('vkey')
    .description('print the verifier key of the checkpoint signer')
    .option('-c, --config <file>', 'configuration file')
    .action(async (opts: { config?: string }) => {
      const vkey = await withCustos(
        resolveConfigPath(opts.config),
        async (custos) => custos.ledger.verifierKey,
      );
      process.stdout.write(`${vkey}\n`);
    });
}
