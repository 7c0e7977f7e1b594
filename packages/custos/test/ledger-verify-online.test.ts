import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main as verifyMain } from '../../verify/src/cli.js';
import { as, type GatewayWorld, gatewayWorld } from './gateway-helpers.js';

async function runVerify(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
    out += String(c);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => {
    out += String(c);
    return true;
  });
  try {
    return { code: await verifyMain(args), out };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('custos-verify against a live, guarded server', () => {
  let w: GatewayWorld;
  let url: string;
  beforeAll(async () => {
    w = await gatewayWorld(3);
    for (let i = 0; i < 5; i++) {
      await w.app.inject({
        method: 'GET',
        url: '/v1/subjects/us-user-00001/collections/profiles/records/profile',
        headers: as(w, 'operator-app', 'service'),
      });
    }
    await w.custos.ledger.checkpoint();
    url = await w.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await w.close();
  });

  it('audits over HTTP with an auditor token, and is refused without one or with a parent token', async () => {
    const key = w.custos.ledger.verifierKey;
    const auditor = join(w.dir, 'auditor.token');
    writeFileSync(auditor, w.tokens.auditor ?? '');
    const ok = await runVerify(['ledger', '--url', `${url}/ledger`, '--key', key, '--token-file', auditor]);
    expect(ok.code, ok.out).toBe(0);
    const anonymous = await runVerify(['ledger', '--url', `${url}/ledger`, '--key', key]);
    expect(anonymous.code).toBe(2);
    expect(anonymous.out).toContain('401');
    const parent = join(w.dir, 'parent.token');
    writeFileSync(parent, w.tokens['parent-engineer'] ?? '');
    const denied = await runVerify([
      'ledger',
      '--url',
      `${url}/ledger`,
      '--key',
      key,
      '--token-file',
      parent,
    ]);
    expect(denied.code).toBe(2);
    expect(denied.out).toContain('403');
  });
});
