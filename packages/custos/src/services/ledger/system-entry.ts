import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CustosConfig } from '../../domain/config.js';
import type { LedgerEntryInput } from './ledger-service.js';

/** The `@custos/custos` package directory (this file is `src/services/ledger/system-entry.ts`). */
const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, d.name);
    if (d.isDirectory()) out.push(...(await listFiles(path)));
    else if (d.isFile()) out.push(path);
  }
  return out;
}

/**
 * The release digest of the running code: `sha256:` and the hex SHA-256 of a manifest listing,
 * for `package.json` and every file under `src/` of the custos package, sorted by relative path
 * (with `/` separators), one line `<path> <hex sha256 of the file>\n`. Reviewers recompute it
 * from the reviewed source tree.
 */
export async function releaseDigest(packageRoot: string = PACKAGE_ROOT): Promise<string> {
  const files = [join(packageRoot, 'package.json'), ...(await listFiles(join(packageRoot, 'src')))];
  const lines = await Promise.all(
    files.map(async (file) => {
      const rel = relative(packageRoot, file).split(sep).join('/');
      return `${rel} ${createHash('sha256')
        .update(await readFile(file))
        .digest('hex')}\n`;
    }),
  );
  lines.sort();
  return `sha256:${createHash('sha256').update(lines.join('')).digest('hex')}`;
}

/** Policy version recorded until the gateway adds Cedar policies. */
export const NO_POLICY_VERSION = 'none';

/**
 * The `system` entry appended when the server starts: which code (release digest) runs with which
 * configuration (config digest) and policy version.
 */
export function systemStartEntry(
  config: CustosConfig,
  release: string,
  policyVersion = NO_POLICY_VERSION,
): LedgerEntryInput {
  const custodian = config.organisations.find((o) => o.kind === 'custodian');
  return {
    type: 'system',
    principal: { id: 'custos', org: custodian?.id ?? 'custos', orgKind: 'system' },
    action: 'start',
    resource: {},
    decision: 'none',
    reasons: [],
    policyVersion,
    release,
    details: { configDigest: `sha256:${config.digest}`, origin: config.ledger.origin },
  };
}
