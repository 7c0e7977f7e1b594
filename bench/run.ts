/**
 * Benchmark runner: `npm run bench -- NAME [--tiny]`, or `npm run bench -- all --tiny` (what CI runs).
 * Each bench measures Custos against a baseline in the same run and prints ratios, one line per
 * target: `bench NAME: <what> = <ratio>x (target >= <t>x)`.
 */
import { readdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Options every bench receives. */
export interface BenchOptions {
  /** Tiny sizes: CI runs every bench this way so benches never rot. */
  readonly tiny: boolean;
}

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => basename(f, '.bench.ts'))
  .sort();

const args = process.argv.slice(2);
const tiny = args.includes('--tiny') || process.env.BENCH_TINY === '1';
const names = args.filter((a) => !a.startsWith('--'));
const selected = names.length === 0 || names.includes('all') ? available : names;
for (const name of selected) {
  if (!available.includes(name)) {
    process.stderr.write(`unknown bench "${name}"; available: ${available.join(', ')}\n`);
    process.exit(2);
  }
  const mod = (await import(`./${name}.bench.ts`)) as { run(opts: BenchOptions): Promise<void> };
  process.stdout.write(`== bench ${name}${tiny ? ' (tiny)' : ''}\n`);
  await mod.run({ tiny });
}
