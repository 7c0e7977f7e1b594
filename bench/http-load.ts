/** HTTP load from a separate process (bench/load-client.ts), shared by the HTTP benches. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run$ = promisify(execFile);

/** autocannon's summary of one load run. */
export interface LoadResult {
  rps: number;
  total: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

/** Runs `seconds` of load with 32 connections, cycling through `paths`, in its own process. */
export async function runLoad(
  url: string,
  paths: string[],
  headers: Record<string, string>,
  seconds: number,
): Promise<LoadResult> {
  const { stdout } = await run$(
    process.execPath,
    [
      '--import',
      'tsx',
      join(import.meta.dirname, 'load-client.ts'),
      JSON.stringify({ url, paths, headers, seconds, connections: 32 }),
    ],
    { maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as LoadResult;
}

/** The US subjects `seedDemo(custos, n)` creates (one in five is SG). */
export function demoUsSubjects(n: number): string[] {
  return Array.from({ length: n }, (_, i) => i + 1)
    .filter((i) => i % 5 !== 0)
    .map((i) => `us-user-${String(i).padStart(5, '0')}`);
}
