import type { MigrationProgress } from '../../services/migrate/migration-context.js';

/**
 * A one-line progress bar on stderr: counts, rate and ETA. Silent when stderr is not a terminal, so
 * logs and pipes get only the final report.
 */
export function createProgressBar(
  stream: NodeJS.WriteStream = process.stderr,
  now: () => number = Date.now,
): { update(p: MigrationProgress): void; done(): void } {
  if (!stream.isTTY) return { update: () => {}, done: () => {} };
  let start = 0;
  let first = 0;
  let current = '';
  let drawn = false;
  return {
    update(p) {
      const t = now();
      if (current !== `${p.step}:${p.dataset}`) {
        current = `${p.step}:${p.dataset}`;
        start = t;
        first = p.done;
        if (drawn) stream.write('\n');
      }
      const rate = t > start ? ((p.done - first) * 1000) / (t - start) : 0;
      const left = Math.max(0, p.total - p.done);
      const eta = rate > 0 ? `${Math.ceil(left / rate)}s` : '?';
      const width = 24;
      const filled = p.total > 0 ? Math.min(width, Math.round((p.done / p.total) * width)) : 0;
      stream.write(
        `\r${p.step} ${p.dataset} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total} ` +
          `${Math.round(rate)}/s ETA ${eta}   `,
      );
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}
