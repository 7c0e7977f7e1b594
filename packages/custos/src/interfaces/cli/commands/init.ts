import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { demoConfigYaml } from '../../../demo/demo-config.js';
import { CustosError } from '../../../domain/errors.js';
import type { ExitBox } from '../main.js';

/** `custos init`: writes a starting `custos.yaml` and creates the data directory. */
export function registerInitCommand(program: Command, _exit: ExitBox): void {
  program
    .command('init')
    .description('write a starting custos.yaml (the demo world layout) and create its data directory')
    .option('--dir <dir>', 'directory to write custos.yaml into', '.')
    .option('--data-dir <dir>', 'data directory, relative to the config file', './custos-data')
    .option('--force', 'overwrite an existing custos.yaml', false)
    .action((opts: { dir: string; dataDir: string; force: boolean }) => {
      const file = resolve(opts.dir, 'custos.yaml');
      if (existsSync(file) && !opts.force) {
        throw new CustosError('BAD_REQUEST', `${file} already exists; pass --force to overwrite`);
      }
      mkdirSync(opts.dir, { recursive: true });
      writeFileSync(file, demoConfigYaml(opts.dataDir), { mode: 0o600 });
      mkdirSync(join(opts.dir, opts.dataDir), { recursive: true, mode: 0o700 });
      process.stdout.write(`wrote ${file}\ncreated ${resolve(opts.dir, opts.dataDir)}\n`);
    });
}
