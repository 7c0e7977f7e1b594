import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CHECKPOINT_BYTES, MAX_ENTRY_BUNDLE_BYTES, MAX_HASH_TILE_BYTES } from '../src/cli/read-limits.js';
import { runCli } from './helpers/cli-run.js';
import { createLog, type LogFixture } from './helpers/log-fixture.js';

// A loopback log server that misbehaves per URL prefix: /<mode>/<path under the log prefix>.
// Every answer is bounded in size, and held requests end when the test closes the server.
let log: LogFixture;
let base: string;
let held = 0;
const server = createServer((req, res) => {
  const [, mode, ...rest] = (req.url ?? '/').split('/');
  const path = rest.join('/');
  const hold = (r: ServerResponse): void => {
    held += 1;
    r.on('close', () => {
      held -= 1;
    });
  };
  const body = (bytes: Uint8Array | undefined, headers: Record<string, string> = {}): void => {
    if (bytes === undefined) res.writeHead(404).end();
    else res.writeHead(200, headers).end(bytes);
  };
  switch (mode) {
    case 'hang':
      return hold(res);
    case 'trickle':
      if (path !== 'checkpoint') return body(log.files.get(path));
      {
        res.writeHead(200);
        const timer = setInterval(() => res.write('a'), 20);
        res.on('close', () => clearInterval(timer));
      }
      return;
    case 'big-checkpoint':
      return body(path === 'checkpoint' ? new Uint8Array(MAX_CHECKPOINT_BYTES + 1) : log.files.get(path));
    case 'big-tile':
      return body(path === 'tile/0/000' ? new Uint8Array(MAX_HASH_TILE_BYTES + 1) : log.files.get(path));
    case 'gzip-bomb':
      // ~17 KiB on the wire, more than the largest bundle once decoded.
      if (path === 'tile/entries/000')
        return body(gzipSync(new Uint8Array(MAX_ENTRY_BUNDLE_BYTES + 65536)), { 'content-encoding': 'gzip' });
      return body(log.files.get(path));
    case 'missing-then-hang':
      if (path === 'tile/entries/000') return body(undefined);
      if (path.startsWith('tile/entries/')) return hold(res);
      return body(log.files.get(path));
    default:
      return body(undefined);
  }
});

beforeAll(async () => {
  log = await createLog(700);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const ledger = (mode: string, ...extra: string[]) =>
  runCli(['ledger', '--url', `${base}/${mode}`, '--key', log.key.verifierKey, '--jobs', '1', ...extra]);

describe('custos-verify ledger --url: bounded reads', () => {
  it('times out a server that never answers: exit 2 naming the request', async () => {
    const started = performance.now();
    const r = await ledger('hang', '--timeout', '0.2');
    expect(r.code).toBe(2);
    expect(r.err).toContain(`GET ${base}/hang/checkpoint timed out after 0.2 s`);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('times out a body that trickles in: the timeout covers the whole response', async () => {
    const r = await ledger('trickle', '--timeout', '0.3');
    expect(r.code).toBe(2);
    expect(r.err).toContain('/trickle/checkpoint timed out');
  });

  it.each([
    ['a checkpoint', 'big-checkpoint', 'checkpoint', MAX_CHECKPOINT_BYTES],
    ['a hash tile', 'big-tile', 'tile/0/000', MAX_HASH_TILE_BYTES],
    ['a gzip bomb, counted decoded', 'gzip-bomb', 'tile/entries/000', MAX_ENTRY_BUNDLE_BYTES],
  ])('refuses %s larger than it may be: exit 2 naming the path', async (_name, mode, path, limit) => {
    const r = await ledger(mode);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`GET ${base}/${mode}/${path}: the response is larger than ${limit} bytes`);
  });

  it('aborts the reads still in flight once the verdict is known', async () => {
    const r = await ledger('missing-then-hang');
    expect(r.code).toBe(1);
    expect(r.out).toContain('FAIL entry-bundle [entry 0]');
    // The prefetched bundles 1 and 2 never get an answer: the verifier must have dropped them
    // (closing their connections) instead of leaving them open until the 30 s timeout.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(held).toBe(0);
  });

  it.each([['0'], ['-1'], ['abc'], ['3601']])('exits 2 on --timeout %s', async (value) => {
    const r = await ledger('hang', '--timeout', value);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--timeout');
  });
});
