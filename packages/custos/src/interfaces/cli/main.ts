import { Command, CommanderError } from 'commander';
import { registerAccessCommands } from './commands/access.js';
import { registerConfigCommands } from './commands/config.js';
import { registerDemoCommands } from './commands/demo.js';
import { registerEgressCommands } from './commands/egress.js';
import { registerInitCommand } from './commands/init.js';
import { registerKeysCommands } from './commands/keys.js';
import { registerLedgerCommands } from './commands/ledger.js';
import { registerMigrateCommands } from './commands/migrate.js';
import { registerPolicyCommands } from './commands/policy.js';
import { registerResidencyCommands } from './commands/residency.js';
import { registerServeCommand } from './commands/serve.js';
import { registerSubjectCommands } from './commands/subject.js';
import { registerTokenCommand } from './commands/token.js';
import { EXIT, printError } from './context.js';

/** Holds the exit code an action chose. */
export interface ExitBox {
  code: number;
}

/** Builds the `custos` command tree. */
export function buildProgram(exit: ExitBox): Command {
  const program = new Command('custos')
    .description('Custos data-custody gateway')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError();
  registerInitCommand(program, exit);
  registerServeCommand(program, exit);
  registerConfigCommands(program, exit);
  registerResidencyCommands(program, exit);
  registerDemoCommands(program, exit);
  registerSubjectCommands(program, exit);
  registerKeysCommands(program, exit);
  registerLedgerCommands(program, exit);
  registerTokenCommand(program, exit);
  registerPolicyCommands(program, exit);
  registerAccessCommands(program, exit);
  registerMigrateCommands(program, exit);
  registerEgressCommands(program, exit);
  return program;
}

/** Runs the CLI and resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const exit: ExitBox = { code: EXIT.ok };
  const program = buildProgram(exit);
  try {
    await program.parseAsync([...argv]);
    return exit.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      ) {
        return EXIT.ok;
      }
      return EXIT.usage;
    }
    return printError(err);
  }
}
