/**
 * Child of `bench migrate`: runs `migrate run` on the configuration it is given, in its own process
 * so that its peak RSS is the migration's alone. Prints one JSON line: records, seconds, maxRssKb.
 */
import { createCustos } from '../packages/custos/src/composition-root.js';
import { loadConfigFile } from '../packages/custos/src/domain/load-config.js';
import { createMigration } from '../packages/custos/src/migration-root.js';

const custos = await createCustos(loadConfigFile(process.argv[2] as string));
const migration = await createMigration(custos);
const start = performance.now();
const reports = await migration.run();
const seconds = (performance.now() - start) / 1000;
await migration.close();
await custos.close();
const records = reports.reduce((n, r) => n + r.copied, 0);
const failed = reports.filter((r) => r.status === 'failed').length;
process.stdout.write(
  `${JSON.stringify({ records, seconds, failed, maxRssKb: process.resourceUsage().maxRSS })}\n`,
);
