import { type Command, Option } from 'commander';
import { createCustos } from '../../../composition-root.js';
import { seedDemo } from '../../../demo/demo-seed.js';
import { loadConfigFile } from '../../../domain/load-config.js';
import { releaseDigest, systemStartEntry } from '../../../services/ledger/system-entry.js';
import { createServer } from '../../http/server.js';
import { ensureDemoWorld, resolveConfigPath } from '../context.js';
import type { ExitBox } from '../main.js';
import { positiveInt } from './demo.js';
import { DEMO_TOKEN_TTL_SEC, printPrincipalTokens } from './token.js';

/** `custos serve [--demo]`: runs the HTTP server until SIGINT or SIGTERM. */
export function registerServeCommand(program: Command, _exit: ExitBox): void {
  program
    .command('serve')
    .description('run the Custos server')
    .option('-c, --config <file>', 'configuration file')
    .addOption(
      // The demo world always runs on ./custos-data/custos.yaml: a --config beside it would be ignored.
      new Option('--demo', 'run the demo world in ./custos-data (created and seeded on first start)')
        .default(false)
        .conflicts('config'),
    )
    .option('--port <n>', 'override server.port (0 picks a free port)', (v) =>
      v === '0' ? 0 : positiveInt(v),
    )
    .option('--host <host>', 'override server.host')
    .option('--log', 'log requests as JSON lines', false)
    .action(async (opts: { config?: string; demo: boolean; port?: number; host?: string; log: boolean }) => {
      const configPath = opts.demo ? ensureDemoWorld().path : resolveConfigPath(opts.config);
      const config = loadConfigFile(configPath);
      const custos = await createCustos(config, {
        onAlertFailure: (sink, type) => process.stderr.write(`alert ${type} not delivered to ${sink}\n`),
      });
      if (opts.demo && (await custos.subjectStore.count()) === 0) {
        const r = await seedDemo(custos, 50);
        process.stdout.write(`seeded demo world: ${r.subjects} subjects, ${r.records} records\n`);
      }
      // Record which code and configuration start serving, before serving anything.
      const release = await releaseDigest();
      const { index } = await custos.ledger.append(
        systemStartEntry(config, release, custos.policies.version),
      );
      const cp = await custos.ledger.checkpoint();
      // Failures are always logged; every request only with --log.
      const app = await createServer(custos, { logger: opts.log ? true : 'errors' });
      // Expiries and overdue break-glass reviews (docs/gatekeeping.md), on governance.breakGlass.checkIntervalSec.
      custos.gatekeeping.startTimer((err) =>
        process.stderr.write(`gatekeeping check failed: ${(err as Error).message ?? String(err)}\n`),
      );
      const address = await app.listen({
        host: opts.host ?? config.server.host,
        port: opts.port ?? config.server.port,
      });
      process.stdout.write(`Custos listening on ${address.replace('[::1]', 'localhost')}\n`);
      process.stdout.write(`config ${configPath}\n`);
      process.stdout.write(`ledger: system entry ${index}, release ${release}, checkpoint size ${cp.size}\n`);
      process.stdout.write(`ledger verifier key: ${custos.ledger.verifierKey}\n`);
      process.stdout.write(`policy version ${custos.policies.version}\n`);
      await printPrincipalTokens(custos, opts.demo ? DEMO_TOKEN_TTL_SEC : undefined);
      await new Promise<void>((resolveStop) => {
        const stop = (): void => resolveStop();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await app.close();
      await custos.close();
    });
}
