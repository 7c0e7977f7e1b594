import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Custos, createCustos } from '../../composition-root.js';
import { demoConfigYaml } from '../../demo/demo-config.js';
import type { CustosConfig } from '../../domain/config.js';
import { CustosError } from '../../domain/errors.js';
import { loadConfigFile } from '../../domain/load-config.js';

/** Exit codes shared by every command. */
export const EXIT = { ok: 0, failure: 1, usage: 2, violations: 3 } as const;

/** The demo world's data directory, relative to the working directory. */
export const DEMO_DIR = 'custos-data';

/**
 * Finds the configuration: `--config` if given, else `./custos.yaml`, else the demo world's
 * `./custos-data/custos.yaml`.
 */
export function resolveConfigPath(explicit: string | undefined): string {
  if (explicit !== undefined) return resolve(explicit);
  if (existsSync('custos.yaml')) return resolve('custos.yaml');
  const demo = join(DEMO_DIR, 'custos.yaml');
  if (existsSync(demo)) return resolve(demo);
  throw new CustosError(
    'CONFIG_NOT_FOUND',
    'no configuration: pass --config FILE, run `custos init`, or `npm start`',
    {
      details: ['custos.yaml: file not found'],
    },
  );
}

/** Creates the demo data directory and its config on first use; returns the config path. */
export function ensureDemoWorld(dir = DEMO_DIR): { path: string; created: boolean } {
  const path = resolve(dir, 'custos.yaml');
  if (existsSync(path)) return { path, created: false };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(path, demoConfigYaml('.'), { mode: 0o600 });
  return { path, created: true };
}

/** Loads the config and composes Custos, runs `fn`, and always closes. */
export async function withCustos<T>(
  configPath: string,
  fn: (custos: Custos, config: CustosConfig) => Promise<T>,
): Promise<T> {
  const config = loadConfigFile(configPath);
  const custos = await createCustos(config);
  try {
    return await fn(custos, config);
  } finally {
    await custos.close();
  }
}

/** Writes a coded error to stderr: the code, the message and every detail line; never a stack. */
export function printError(err: unknown): number {
  if (err instanceof CustosError) {
    process.stderr.write(`error ${err.code}: ${err.message}\n`);
    for (const d of err.details ?? []) process.stderr.write(`  ${d}\n`);
    return err.code === 'CONFIG_INVALID' || err.code === 'CONFIG_NOT_FOUND' || err.code === 'POLICY_INVALID'
      ? EXIT.usage
      : EXIT.failure;
  }
  const file = unreadableFile(err);
  if (file !== undefined) {
    // A file named on the command line that cannot be read is the caller's mistake, not Custos's.
    process.stderr.write(`error BAD_REQUEST: cannot read ${file.path} (${file.code})\n`);
    return EXIT.usage;
  }
  process.stderr.write(`error INTERNAL: ${(err as Error)?.message ?? String(err)}\n`);
  return EXIT.failure;
}

/** The path and code of a file-system error that says a file cannot be read, else undefined. */
function unreadableFile(err: unknown): { path: string; code: string } | undefined {
  const e = err as { code?: unknown; path?: unknown; syscall?: unknown } | null;
  if (typeof e?.path !== 'string' || typeof e.code !== 'string') return undefined;
  if (!['ENOENT', 'EACCES', 'EISDIR', 'ENOTDIR', 'EPERM', 'ELOOP'].includes(e.code)) return undefined;
  return e.syscall === 'open' || e.syscall === 'read' || e.syscall === 'scandir' || e.syscall === 'stat'
    ? { path: e.path, code: e.code }
    : undefined;
}
