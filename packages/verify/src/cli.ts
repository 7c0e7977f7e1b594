import { type CliIo, CliUsageError, EXIT_OK, EXIT_USAGE, processIo } from './cli/cli-io.js';
import { runLedgerCommand } from './cli/ledger-command.js';
import { printable, printableLines } from './cli/printable.js';
import { runProofCommand } from './cli/proof-command.js';

/** Top-level help of the custos-verify command. */
export const USAGE = `Usage: custos-verify <command> [options]

Commands:
  ledger   audit a whole ledger served as tiles (--url URL | --dir DIR)
  proof    verify one receipt's inclusion proof (--receipt FILE|-)

Run custos-verify <command> --help for the options of a command.
Exit status: 0 verified, 1 a check failed, 2 usage or I/O error.`;

/**
 * Entry point of the `custos-verify` CLI (Node only). Parses `argv` (without node and script),
 * runs the command and returns the exit code: 0 ok, 1 verification failure, 2 usage or I/O error.
 */
export async function main(argv: readonly string[], rawIo: CliIo = processIo): Promise<number> {
  // Whatever a line carries (a server's reply, an entry, a path), nothing in it reaches the
  // terminal as a control sequence.
  const io: CliIo = {
    out: (line) => rawIo.out(printableLines(line)),
    err: (line) => rawIo.err(printableLines(line)),
    readStdin: () => rawIo.readStdin(),
  };
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'ledger':
        return await runLedgerCommand(rest, io);
      case 'proof':
        return await runProofCommand(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE);
        return command === undefined ? EXIT_USAGE : EXIT_OK;
      default:
        io.err(`custos-verify: unknown command ${command}\n\n${USAGE}`);
        return EXIT_USAGE;
    }
  } catch (err) {
    if (err instanceof CliUsageError) {
      io.err(`custos-verify: ${printable(err.message)}`);
      return EXIT_USAGE;
    }
    // parseArgs reports unknown or malformed options with ERR_PARSE_ARGS_* codes.
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      io.err(`custos-verify: ${(err as Error).message}`);
      return EXIT_USAGE;
    }
    io.err(`custos-verify: unexpected error: ${printable(err instanceof Error ? err.message : String(err))}`);
    return EXIT_USAGE;
  }
}
