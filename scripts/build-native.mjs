// Builds Custos's optional native addons against the Node-API and OpenSSL headers that ship with
// this Node. Run by `npm ci` (the root `prepare` script).
//   envelope (packages/custos/native/envelope.c): the AES-256-GCM open of the record read path;
//   merkle   (packages/custos/native/merkle.c):   RFC 6962 hashing of whole ledger batches.
// Without a C compiler or those headers, or with CUSTOS_NATIVE_<NAME>=0 (CUSTOS_NATIVE=0 for
// both), it builds nothing and Custos uses its portable code: the same results, slower. It never
// fails the install, and it never leaves an older build in place.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'packages/custos/native');
const outDir = join(nativeDir, 'build');

const ADDONS = [
  {
    name: 'envelope',
    headers: ['node_api.h', join('openssl', 'evp.h')],
    fallback: 'record reads use node:crypto',
  },
  {
    name: 'merkle',
    headers: ['node_api.h', join('openssl', 'sha.h')],
    fallback: 'ledger hashing uses node:crypto',
  },
];

/** Builds one addon; returns why it was not built, or undefined when it was. */
function build({ name, headers }) {
  const source = join(nativeDir, `${name}.c`);
  const out = join(outDir, `custos_${name}.node`);
  // What the binary was built from and for; the loader refuses it when any of this differs.
  const stampFile = join(outDir, `custos_${name}.json`);
  // Whatever happens below, no earlier build survives it.
  rmSync(out, { force: true });
  rmSync(stampFile, { force: true });

  const switchName = `CUSTOS_NATIVE_${name.toUpperCase()}`;
  if (process.env.CUSTOS_NATIVE === '0') return 'CUSTOS_NATIVE=0';
  if (process.env[switchName] === '0') return `${switchName}=0`;
  const include = join(dirname(process.execPath), '..', 'include', 'node');
  for (const header of headers) {
    if (!existsSync(join(include, header))) return `no ${header} under ${include}`;
  }
  const cc = process.env.CC || 'cc';
  const flags = ['-O2', '-fPIC', '-shared', '-std=c11', '-Wall', '-Wextra', '-Werror', `-I${include}`];
  // The addon links nothing: Node-API and OpenSSL symbols resolve against the running node
  // binary. Bind them all at load, so a node without one of them refuses the addon at require
  // (catchable) instead of dying on the first call.
  if (process.platform === 'darwin') flags.push('-undefined', 'dynamic_lookup');
  else flags.push('-Wl,-z,now');
  mkdirSync(outDir, { recursive: true });
  const tmp = join(outDir, `custos_${name}.${process.pid}.tmp.node`);
  const r = spawnSync(cc, [...flags, '-o', tmp, source], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error !== undefined || r.status !== 0) {
    rmSync(tmp, { force: true });
    return r.error !== undefined ? `${cc}: ${r.error.message}` : `${cc} exited with ${r.status}`;
  }
  // Loaded once here, so a binary this node cannot load is never left in place.
  try {
    createRequire(import.meta.url)(tmp);
  } catch (err) {
    rmSync(tmp, { force: true });
    return `the built addon does not load: ${err.message}`;
  }
  const stamp = {
    source: createHash('sha256').update(readFileSync(source)).digest('hex'),
    modules: process.versions.modules,
    openssl: process.versions.openssl,
    platform: `${process.platform}-${process.arch}`,
  };
  renameSync(tmp, out);
  writeFileSync(stampFile, `${JSON.stringify(stamp, null, 2)}\n`);
  return undefined;
}

for (const addon of ADDONS) {
  const why = build(addon);
  process.stdout.write(
    why === undefined
      ? `native ${addon.name}: built packages/custos/native/build/custos_${addon.name}.node\n`
      : `native ${addon.name}: not built (${why}); ${addon.fallback}\n`,
  );
}
