import { randomBytes } from 'node:crypto';
import { lstat, open, readFile, realpath, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CliUsageError } from './cli-io.js';

function codeOf(err: unknown): unknown {
  return (err as { code?: unknown }).code;
}

/**
 * The file the state lives in: `file` itself, or the file a symbolic link at `file` points to
 * (written through, the link is kept). Undefined when neither exists yet; a link pointing
 * nowhere is an error, not "no state yet", or a typo in its target would reset the trust.
 */
async function resolveStateFile(file: string): Promise<string | undefined> {
  try {
    return await realpath(file);
  } catch (err) {
    if (codeOf(err) !== 'ENOENT')
      throw new CliUsageError(`cannot resolve state file ${file}`, { cause: err });
  }
  let isLink = false;
  try {
    isLink = (await lstat(file)).isSymbolicLink();
  } catch (err) {
    if (codeOf(err) !== 'ENOENT') throw new CliUsageError(`cannot read state file ${file}`, { cause: err });
  }
  if (isLink) throw new CliUsageError(`state file ${file} is a symbolic link to a file that does not exist`);
  return undefined;
}

/** Reads the trusted checkpoint stored in `file`, or undefined when the file does not exist yet. */
export async function readStateFile(file: string): Promise<string | undefined> {
  const target = await resolveStateFile(file);
  if (target === undefined) return undefined;
  try {
    return await readFile(target, 'utf8');
  } catch (err) {
    throw new CliUsageError(`cannot read state file ${file}`, { cause: err });
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (err) {
    // Some platforms and file systems cannot fsync a directory; the rename is still atomic.
    if (codeOf(err) !== 'EINVAL' && codeOf(err) !== 'EPERM' && codeOf(err) !== 'EISDIR') throw err;
  } finally {
    await handle.close();
  }
}

/**
 * Replaces the trusted checkpoint in `file` atomically and durably: writes a temporary file with
 * an unpredictable name, created exclusively (never through a planted link) and readable by the
 * owner only, syncs it, renames it over the target and syncs the directory. When `file` is a
 * symbolic link, the file it points to is replaced and the link kept.
 */
export async function writeStateFile(file: string, checkpoint: string): Promise<void> {
  const target = (await resolveStateFile(file)) ?? file;
  const dir = dirname(target);
  const tmp = join(dir, `.${basename(target)}.${randomBytes(12).toString('hex')}.tmp`);
  let created = false;
  try {
    const handle = await open(tmp, 'wx', 0o600);
    created = true;
    try {
      await handle.writeFile(checkpoint, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, target);
    created = false;
    await syncDirectory(dir);
  } catch (err) {
    if (created) await unlink(tmp).catch(() => undefined);
    throw new CliUsageError(`cannot write state file ${file}`, { cause: err });
  }
}
