import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { auditLedger, parseEntry, parseVerifierKey, type TileSource } from '@custos/verify';
import { afterAll, describe, expect, it } from 'vitest';
import { demoConfigYaml } from '../../src/demo/demo-config.js';
import { loadConfigFile } from '../../src/domain/load-config.js';
import { releaseDigest } from '../../src/services/ledger/system-entry.js';
import { runCli } from '../cli-helpers.js';
import { tempDir } from '../helpers.js';
import { runVerifier } from './ledger-helpers.js';

const BIN = fileURLToPath(new URL('../../bin/custos.js', import.meta.url));

/** Starts `custos serve` as a real process; resolves with its URL once it listens. */
function serve(config: string): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve', '--config', config, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 60_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /Custos listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m?.[1] && out.includes('ledger verifier key:')) {
        clearTimeout(timer);
        resolve({ child, url: m[1], output: () => out });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}:\n${out}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

describe('custos serve records a system entry; custos ledger export verifies offline', () => {
  const t = tempDir('custos-ledger-export-');
  afterAll(() => t.cleanup());

  it('serves a verifiable ledger from the first start, and the export passes custos-verify with the server stopped', async () => {
    const configPath = join(t.dir, 'custos.yaml');
    writeFileSync(configPath, demoConfigYaml('data'));
    const config = loadConfigFile(configPath);
    const vkey = (await runCli('ledger', 'vkey', '--config', configPath)).out.trim();
    expect(vkey).toMatch(/^demo\.custos\.local\/custos\/US\+[0-9a-f]{8}\+/);
    const state = join(t.dir, 'auditor-state');
    // Ledger routes need an authenticated principal the policy lets read the ledger: the auditor.
    const token = (await runCli('token', '--principal', 'auditor', '--config', configPath)).out.trim();
    const headers = { authorization: `Bearer ${token}` };
    for (let start = 1; start <= 2; start++) {
      const server = await serve(configPath);
      try {
        expect(server.output()).toContain(`ledger verifier key: ${vkey}`);
        const receipt = (await (
          await fetch(`${server.url}/v1/ledger/entries/${start - 1}`, { headers })
        ).json()) as {
          entry: string;
        };
        const entry = parseEntry(Buffer.from(receipt.entry));
        expect(entry.type).toBe('system');
        expect(entry.release).toBe(await releaseDigest());
        expect(entry.details?.configDigest).toBe(`sha256:${config.digest}`);
        // 'none' until policies exist; then the version `custos serve` prints.
        const policy = /^policy version (\S+)$/m.exec(server.output())?.[1] ?? 'none';
        expect(entry.policyVersion).toBe(policy);
        const source: TileSource = {
          get: async (path) => {
            const r = await fetch(`${server.url}/ledger/${path}`, { headers });
            return r.status === 200 ? new Uint8Array(await r.arrayBuffer()) : undefined;
          },
        };
        const online = await auditLedger(source, { verifiers: [parseVerifierKey(vkey)] });
        expect(online.failures).toEqual([]);
        expect(online.size).toBe(start);
      } finally {
        await stop(server.child);
      }
      const dir = join(t.dir, `export-${start}`);
      const exported = await runCli('ledger', 'export', dir, '--config', configPath);
      expect(exported.err).toBe('');
      expect(exported.code).toBe(0);
      expect(exported.out).toContain(`exported ledger size ${start}`);
      const offline = await runVerifier(['ledger', '--dir', dir, '--key', vkey, '--state', state]);
      expect(offline.code, offline.out).toBe(0);
    }
  }, 120_000);
});
