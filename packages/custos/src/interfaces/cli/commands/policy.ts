import type { Command } from 'commander';
import { loadConfigFile } from '../../../domain/load-config.js';
import { Authorizer } from '../../../services/policy/authorizer.js';
import { CedarEngine } from '../../../services/policy/cedar-engine.js';
import { loadPolicies } from '../../../services/policy/policy-set.js';
import { runPolicyTests } from '../../../services/policy/policy-test.js';
import { EXIT, resolveConfigPath } from '../context.js';
import type { ExitBox } from '../main.js';
import { registerPolicyGovernanceCommands } from './policy-governance.js';

/** `custos policy validate|test` and the governed changes (`propose|approve|what-if|activate|…`). */
export function registerPolicyCommands(program: Command, exit: ExitBox): void {
  const policy = program.command('policy').description('Cedar policies');
  policy
    .command('validate')
    .description('validate the shipped and operator policies against the schema (strict mode)')
    .option('-c, --config <file>', 'configuration file')
    .action((opts: { config?: string }) => {
      const config = loadConfigFile(resolveConfigPath(opts.config));
      const loaded = loadPolicies(config.policy.dir);
      process.stdout.write(`ok: ${loaded.policies.length} policies valid, version ${loaded.version}\n`);
    });
  policy
    .command('test')
    .description(
      'run a YAML file of requests with expected decisions; exit 0 when every decision is as expected',
    )
    .argument('<file>', 'policy test file')
    .option('-c, --config <file>', 'configuration file')
    .action((file: string, opts: { config?: string }) => {
      const config = loadConfigFile(resolveConfigPath(opts.config));
      const authorizer = new Authorizer(config, new CedarEngine(loadPolicies(config.policy.dir)));
      const results = runPolicyTests(file, config, authorizer);
      let failed = 0;
      for (const r of results) {
        if (r.ok) process.stdout.write(`ok   ${r.name}\n`);
        else {
          failed++;
          process.stdout.write(
            `FAIL ${r.name}: ${r.problem} (decided by: ${r.reasons.join(', ') || 'no policy'})\n`,
          );
        }
      }
      process.stdout.write(`${results.length - failed} as expected, ${failed} differed\n`);
      exit.code = failed === 0 ? EXIT.ok : EXIT.failure;
    });
  registerPolicyGovernanceCommands(policy);
}
