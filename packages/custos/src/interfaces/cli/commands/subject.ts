import type { Command } from 'commander';
import { CustosError } from '../../../domain/errors.js';
import { subjectErasedEntry } from '../../../services/custody/custody-entries.js';
import { resolveConfigPath, withCustos } from '../context.js';
import type { ExitBox } from '../main.js';

/** `custos subject erase ID`: crypto-shreds a subject. */
export function registerSubjectCommands(program: Command, _exit: ExitBox): void {
  const subject = program.command('subject').description('subject lifecycle');
  subject
    .command('erase')
    .description("destroy a subject's data keys; its records become unreadable everywhere, copies included")
    .argument('<id>', 'subject id')
    .option('-c, --config <file>', 'configuration file')
    .action(async (id: string, opts: { config?: string }) => {
      await withCustos(resolveConfigPath(opts.config), async (custos, config) => {
        const row = await custos.subjectStore.get(id);
        if (!row) throw new CustosError('SUBJECT_UNKNOWN', 'unknown subject');
        if (row.erasedAt !== undefined) throw new CustosError('SUBJECT_ERASED', 'subject was already erased');
        await custos.subjects.erase(id);
        // The ledger gets the pseudonymous subject ref only: it never needs rewriting for erasure.
        await custos.ledger.append(
          subjectErasedEntry(config, row.jurisdiction, custos.ledger.subjectRef(id)),
        );
      });
      process.stdout.write(`erased subject ${id}: its data keys are destroyed\n`);
    });
}
