// Builds the optional native AES-256-GCM open of the record read path
// (packages/custos/native/envelope.c) against the Node-API and OpenSSL headers that ship with
// this Node. Run by `npm ci` (the root `prepare` script). Without a C compiler or those headers,
// or with CUSTOS_NATIVE_ENVELOPE=0, it builds nothing and Custos decrypts with node:crypto: the
// same results, slower. It never fails the install, and it never leaves an older build in place.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'packages/custos/native/envelope.c');
const outDir = join(root, 'packages/custos/native/build');
const out = join(outDir, 'custos_envelope.node');
// What the binary was built from and for; the loader refuses it when any of this differs.
const stampFile = join(outDir, 'custos_envelope.json');

// Whatever happens below, no earlier build survives it.
rmSync(out, { force: true });
rmSync(stampFile, { force: true });

function skip(why) {
  process.stdout.write(`native envelope: not built (${why}); record reads use node:crypto\n`);
  process.exit(0);
}

if (process.env.CUSTOS_NATIVE_ENVELOPE === '0') skip('CUSTOS_NATIVE_ENVELOPE=0');
const include = join(dirname(process.execPath), '..', 'include', 'node');
for (const header of ['node_api.h', join('openssl', 'evp.h')]) {
  if (!existsSync(join(include, header))) skip(`no ${header} under ${include}`);
}
const cc = process.env.CC || 'cc';
const flags = ['-O2', '-fPIC', '-shared', '-std=c11', '-Wall', '-Wextra', '-Werror', `-I${include}`];
// The addon links nothing: Node-API and OpenSSL symbols resolve against the running node binary.
// Bind them all at load, so a node without one of them refuses the addon at require (catchable)
// instead of dying on the first call.
if (process.platform === 'darwin') flags.push('-undefined', 'dynamic_lookup');
else flags.push('-Wl,-z,now');
mkdirSync(outDir, { recursive: true });
const tmp = join(outDir, `custos_envelope.${process.pid}.tmp.node`);
const r = spawnSync(cc, [...flags, '-o', tmp, source], { stdio: ['ignore', 'inherit', 'inherit'] });
if (r.error !== undefined || r.status !== 0) {
  rmSync(tmp, { force: true });
  skip(r.error !== undefined ? `${cc}: ${r.error.message}` : `${cc} exited with ${r.status}`);
}
// Loaded once here, so a binary this node cannot load is never left in place.
try {
  createRequire(import.meta.url)(tmp);
} catch (err) {
  rmSync(tmp, { force: true });
  skip(`the built addon does not load: ${err.message}`);
}
const stamp = {
  source: createHash('sha256').update(readFileSync(source)).digest('hex'),
  modules: process.versions.modules,
  openssl: process.versions.openssl,
  platform: `${process.platform}-${process.arch}`,
};
renameSync(tmp, out);
writeFileSync(stampFile, `${JSON.stringify(stamp, null, 2)}\n`);
process.stdout.write(`native envelope: built ${out}\n`);
