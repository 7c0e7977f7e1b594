/** Helpers shared by the benches. */

/** Runs `fn` repeatedly for about `ms` milliseconds (after a warm-up) and returns operations per second. */
export async function opsPerSecond(fn: (i: number) => unknown, ms: number, warmup = 200): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn(i);
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let k = 0; k < 100; k++) await fn(n++);
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

/** Formats a rate with thousands separators. */
export function fmtRate(opsPerSec: number): string {
  return `${Math.round(opsPerSec).toLocaleString('en-US')}/s`;
}

/** Prints the one line a target ends as, and returns whether it was met. */
export function reportRatio(bench: string, what: string, ratio: number, target: number): boolean {
  process.stdout.write(`bench ${bench}: ${what} = ${ratio.toFixed(2)}x (target >= ${target}x)\n`);
  return ratio >= target;
}
