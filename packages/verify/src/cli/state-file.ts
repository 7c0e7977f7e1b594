import { readFile, rename, writeFile } from 'node:fs/promises';
import { CliUsageError } from './cli-io.js';

/** Reads the trusted checkpoint stored in `file`, or undefined when the file does not exist yet. */
export async function readStateFile(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
    throw new CliUsageError(`cannot read state file ${file}`, { cause: err });
  }
}

/** Replaces `file` with the new trusted checkpoint atomically (write a temporary file, then rename). */
export async function writeStateFile(file: string, checkpoint: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, checkpoint, 'utf8');
    await rename(tmp, file);
  } catch (err) {
    throw new CliUsageError(`cannot write state file ${file}`, { cause: err });
  }
}
