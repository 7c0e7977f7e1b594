/** Where CLI commands print; injectable so tests can capture output. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** Reads all of standard input (for `--receipt -`). */
  readStdin(): Promise<string>;
}

/** Exit codes: 0 verified, 1 verification failure, 2 usage or I/O error. */
export const EXIT_OK = 0;
/** A check failed. */
export const EXIT_FAILED = 1;
/** Bad arguments, unreadable input, unreachable log. */
export const EXIT_USAGE = 2;

/** A usage or I/O problem: the command exits with code 2 and prints the message. */
export class CliUsageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliUsageError';
  }
}

/** The process's stdout, stderr and stdin. */
export const processIo: CliIo = {
  out: (line) => {
    process.stdout.write(`${line}\n`);
  },
  err: (line) => {
    process.stderr.write(`${line}\n`);
  },
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin)
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    return Buffer.concat(chunks).toString('utf8');
  },
};
