import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CliIo } from '../../src/cli/cli-io.js';
import { main } from '../../src/cli.js';

/** What one in-process run of custos-verify printed and returned. */
export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs custos-verify in this process with `args`, capturing its output; `stdin` feeds `--receipt -`. */
export async function runCli(args: string[], stdin = ''): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), readStdin: async () => stdin };
  const code = await main(args, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** Writes `files` (tile paths to bytes) under `dir`, replacing what was there. */
export async function writeLog(dir: string, files: Map<string, Uint8Array>): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  for (const [path, bytes] of files) {
    const file = join(dir, ...path.split('/'));
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, bytes);
  }
}
