/**
 * Child process of the migration crash test: `crash-child.ts CONFIG`. It loads the code, prints
 * `READY`, then waits for `run` or `purge` on stdin (so the parent can prepare the next child while
 * the current one works). It prints `P done total` after every batch and `DONE` at the end; the parent kills
 * it with SIGKILL at a random moment. Nothing is opened before the step arrives.
 */
import { createInterface } from 'node:readline';

const { createCustos } = await import('../../src/composition-root.js');
const { loadConfigFile } = await import('../../src/domain/load-config.js');
const { createMigration } = await import('../../src/migration-root.js');

const configPath = process.argv[2] as string;
process.stdout.write('READY\n');
const lines = createInterface({ input: process.stdin });
const step = await new Promise<string>((resolve) => lines.once('line', resolve));
lines.close();
const custos = await createCustos(loadConfigFile(configPath));
const migration = await createMigration(custos);
const progress = (p: { done: number; total: number }): void => {
  process.stdout.write(`P ${p.done} ${p.total}\n`);
};
const reports =
  step === 'run' ? await migration.run(undefined, progress) : await migration.purge(undefined, progress);
await migration.close();
await custos.close();
process.stdout.write(`DONE ${JSON.stringify(reports.map((r) => r.status))}\n`);
