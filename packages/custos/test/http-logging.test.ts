import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Custos } from '../src/composition-root.js';
import { seedDemo } from '../src/demo/demo-seed.js';
import { createServer } from '../src/interfaces/http/server.js';
import { issueToken } from '../src/services/auth/authenticator.js';
import { demoCustos } from './helpers.js';

describe('request logs', () => {
  const lines: string[] = [];
  let custos: Custos;
  let cleanup: () => Promise<void> | void;
  let token: string;
  beforeAll(async () => {
    ({ custos, cleanup } = await demoCustos());
    await seedDemo(custos, 3);
    const key = custos.tokenKey?.privateKey;
    if (!key) throw new Error('no embedded key');
    token = await issueToken(custos.config, key, 'operator-app', 600, custos.clock.now());
  });
  afterAll(async () => {
    await cleanup();
  });

  it('name the route, never the URL: no subject id, record id or cursor reaches the log', async () => {
    const secrets = ['us-user-00001', token];
    const app = await createServer(custos, { logger: true, logStream: { write: (l) => lines.push(l) } });
    try {
      const headers = { authorization: `Bearer ${token}`, 'custos-purpose': 'service' };
      const read = await app.inject({
        method: 'GET',
        url: '/v1/subjects/us-user-00001/collections/profiles/records/profile',
        headers,
      });
      expect(read.statusCode).toBe(200);
      const list = await app.inject({
        method: 'GET',
        url: '/v1/collections/profiles/records?limit=1',
        headers,
      });
      expect(list.statusCode).toBe(200);
      const cursor = (list.json() as { nextCursor?: string }).nextCursor;
      expect(cursor).toBeDefined();
      secrets.push(cursor as string);
      await app.inject({
        method: 'GET',
        url: `/v1/collections/profiles/records?cursor=${cursor}&limit=1`,
        headers,
      });
    } finally {
      await app.close();
    }
    const log = lines.join('');
    expect(log).toContain('/v1/subjects/:subject/collections/:collection/records/:id');
    for (const secret of secrets) expect(log).not.toContain(secret);
  });

  it('logs only failures at the errors level', async () => {
    const errors: string[] = [];
    const app = await createServer(custos, { logger: 'errors', logStream: { write: (l) => errors.push(l) } });
    try {
      const ok = await app.inject({ method: 'GET', url: '/healthz' });
      expect(ok.statusCode).toBe(200);
    } finally {
      await app.close();
    }
    expect(errors).toEqual([]);
  });
});
