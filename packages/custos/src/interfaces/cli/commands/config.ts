import type { Command } from 'commander';
import { loadConfigFile } from '../../../domain/load-config.js';
import type { ExitBox } from '../main.js';

/** `custos config check FILE`: exit 0, or exit 2 listing every error with its path. */
export function registerConfigCommands(program: Command, _exit: ExitBox): void {
  const config = program.command('config').description('work with configuration files');
  config
    .command('check')
    .description('validate a configuration file; exit 0 when valid, 2 with every error otherwise')
    .argument('<file>', 'path of custos.yaml')
    .action((file: string) => {
      const c = loadConfigFile(file);
      process.stdout.write(
        `ok: ${c.jurisdictions.length} jurisdictions, ${c.sites.length} sites, ${c.stores.length} stores, ` +
          `${c.collections.length} collections, ${c.residency.length} residency rules\n`,
      );
    });
}
