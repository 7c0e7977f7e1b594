/**
 * Load generator for the HTTP benches, run as its own process so it does not share the server's
 * event loop: `node --import tsx bench/load-client.ts '<json options>'`. Prints autocannon's result
 * summary as one JSON line.
 */
import autocannon from 'autocannon';

interface LoadOptions {
  readonly url: string;
  readonly paths: readonly string[];
  readonly headers: Record<string, string>;
  readonly seconds: number;
  readonly connections: number;
}

const opts = JSON.parse(process.argv[2] ?? '{}') as LoadOptions;
let i = 0;
const result = await autocannon({
  url: opts.url,
  connections: opts.connections,
  duration: opts.seconds,
  headers: opts.headers,
  requests: [
    {
      setupRequest: (req) => {
        i = (i + 1) % opts.paths.length;
        return { ...req, path: opts.paths[i] ?? '/' };
      },
    },
  ],
});
process.stdout.write(
  `${JSON.stringify({
    rps: result.requests.average,
    total: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  })}\n`,
);
