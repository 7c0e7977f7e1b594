import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

const BIN = fileURLToPath(new URL('../bin/custos.js', import.meta.url));

/** Starts `custos serve --demo` as a real process and resolves once it prints its URL. */
function startDemo(cwd: string): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve', '--demo', '--port', '0'], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`demo did not start:\n${out}`)), 60_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /Custos listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m?.[1] && out.includes('auditor (auditor')) {
        clearTimeout(timer);
        resolve({ child, url: m[1], output: () => out });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`demo exited with ${code}:\n${out}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

describe('npm start (custos serve --demo), as a real process', () => {
  const t = tempDir();
  afterAll(() => t.cleanup());

  it('creates and seeds ./custos-data, serves /healthz, prints the principals, and reuses the data on restart', async () => {
    const first = await startDemo(t.dir);
    try {
      expect(first.output()).toContain('seeded demo world: 50 subjects');
      for (const p of [
        'custodian-officer',
        'custodian-approver',
        'operator-app',
        'operator-engineer',
        'parent-engineer',
        'auditor',
      ]) {
        expect(first.output()).toMatch(new RegExp(`^${p} \\(`, 'm'));
      }
      const health = await fetch(`${first.url}/healthz`);
      expect(health.status).toBe(200);
      const ready = await fetch(`${first.url}/readyz`);
      expect(ready.status).toBe(200);
    } finally {
      await stop(first.child);
    }
    const second = await startDemo(t.dir);
    try {
      expect(second.output()).not.toContain('seeded demo world');
      expect((await fetch(`${second.url}/healthz`)).status).toBe(200);
    } finally {
      await stop(second.child);
    }
  }, 120_000);
});
