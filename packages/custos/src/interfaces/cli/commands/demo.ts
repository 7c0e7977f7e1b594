import { type Command, InvalidArgumentError } from 'commander';
import { seedDemo } from '../../../demo/demo-seed.js';
import { resolveConfigPath, withCustos } from '../context.js';
import type { ExitBox } from '../main.js';

/** Parses a positive integer option. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

/** `custos demo seed --subjects N`. */
export function registerDemoCommands(program: Command, _exit: ExitBox): void {
  const demo = program.command('demo').description('demo world helpers');
  demo
    .command('seed')
    .description('seed demo subjects (4 in 5 from the US) with profiles, messages, watch history and videos')
    .option('-c, --config <file>', 'configuration file')
    .option('--subjects <n>', 'number of subjects', positiveInt, 50)
    .option('--seed <n>', 'PRNG seed for the generated values', positiveInt, 1)
    .action(async (opts: { config?: string; subjects: number; seed: number }) => {
      const r = await withCustos(resolveConfigPath(opts.config), (custos) =>
        seedDemo(custos, opts.subjects, opts.seed),
      );
      process.stdout.write(`seeded ${r.subjects} new subjects, ${r.records} records\n`);
      if (r.legacyRecords > 0)
        process.stdout.write(`seeded legacy sources: ${r.legacyRecords} records under legacy/\n`);
    });
}
