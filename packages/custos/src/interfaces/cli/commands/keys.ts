import type { Command } from 'commander';
import { CustosError } from '../../../domain/errors.js';
import { kekRotatedEntry } from '../../../services/custody/custody-entries.js';
import type { KekRotationReport } from '../../../services/subject-keys.js';
import { resolveConfigPath, withCustos } from '../context.js';
import type { ExitBox } from '../main.js';

/** One jurisdiction's key-encryption keys, as `custos keys status` reports them. */
interface KekStatus {
  readonly jurisdiction: string;
  readonly versions: number[];
  /** True when some data key is still wrapped under an older version than the newest. */
  readonly rewrapPending: boolean;
}

/** `custos keys status` and `custos keys rotate JURISDICTION`. */
export function registerKeysCommands(program: Command, _exit: ExitBox): void {
  const keys = program.command('keys').description('key-encryption keys (KEKs): status and rotation');
  keys
    .command('status')
    .description("list each jurisdiction's KEK versions and whether data keys still use an older one")
    .option('-c, --config <file>', 'configuration file')
    .option('--json', 'machine-readable output')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const status = await withCustos(resolveConfigPath(opts.config), async (custos, config) => {
        const out: KekStatus[] = [];
        for (const j of config.jurisdictions) {
          const versions = await custos.keyProvider.versions(j.id);
          const newest = versions.at(-1) ?? 0;
          const pending = (await custos.subjectStore.keysWrappedBefore(j.id, newest, 1)).length > 0;
          out.push({ jurisdiction: j.id, versions, rewrapPending: pending });
        }
        return out;
      });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
        return;
      }
      for (const s of status) {
        const v = s.versions.length === 0 ? 'none yet' : s.versions.map((n) => `v${n}`).join(', ');
        process.stdout.write(
          `${s.jurisdiction}: KEK ${v}${s.rewrapPending ? ' (data keys under an older version: rotate again)' : ''}\n`,
        );
      }
    });
  keys
    .command('rotate')
    .description(
      "create the jurisdiction's next KEK version and rewrap every data key under it; with --destroy-old, " +
        'destroy the older versions, so custody backups from before can no longer revive erased subjects',
    )
    .argument('<jurisdiction>', 'jurisdiction id')
    .option('--destroy-old', 'destroy older KEK versions once nothing refers to them')
    .option('-c, --config <file>', 'configuration file')
    .option('--json', 'machine-readable output')
    .action(async (jurisdiction: string, opts: { config?: string; destroyOld?: boolean; json?: boolean }) => {
      const report: KekRotationReport = await withCustos(
        resolveConfigPath(opts.config),
        async (custos, config) => {
          if (!config.jurisdictions.some((j) => j.id === jurisdiction))
            throw new CustosError('JURISDICTION_UNKNOWN', `unknown jurisdiction "${jurisdiction}"`);
          const r = await custos.subjects.rotateKek(jurisdiction, { destroyOld: opts.destroyOld === true });
          await custos.ledger.append(kekRotatedEntry(config, r));
          return r;
        },
      );
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(report)}\n`);
        return;
      }
      process.stdout.write(
        `${report.jurisdiction}: now KEK v${report.kekVersion}; ${report.rewrapped} data keys rewrapped` +
          (report.destroyed.length > 0
            ? `; destroyed ${report.destroyed.map((v) => `v${v}`).join(', ')}\n`
            : '\n'),
      );
    });
}
