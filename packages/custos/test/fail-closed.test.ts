import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, type GatewayWorld, gatewayWorld } from './gateway-helpers.js';

const URL_US = '/v1/subjects/us-user-00001/collections/profiles/records/profile';

describe('fail closed: no ledger, no data', () => {
  let w: GatewayWorld;
  let email: string;
  beforeAll(async () => {
    w = await gatewayWorld(5, {
      mutate: (c) => {
        c.ledger = { ...(c.ledger as object), busyTimeoutMs: 50, checkpointIntervalMs: 3_600_000 };
      },
    });
    email = String((await w.custos.records.get('us-user-00001', 'profiles', 'profile')).fields.email);
  });
  afterAll(async () => {
    await w.close();
  });

  it('answers 503 LEDGER_UNAVAILABLE with no record data while the ledger store is locked, and resumes after', async () => {
    const ok = await w.app.inject({ method: 'GET', url: URL_US, headers: as(w, 'operator-app', 'service') });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain(email);

    // Another process takes the ledger database's write lock and holds it.
    const locker = new Database(join(w.custos.config.ledger.path));
    locker.exec('BEGIN EXCLUSIVE');
    try {
      const inFlight = Array.from({ length: 40 }, (_, i) =>
        w.app.inject({
          method: i % 4 === 3 ? 'PUT' : 'GET',
          url: i % 4 === 3 ? '/v1/subjects/us-user-00001/collections/messages/records/m9' : URL_US,
          headers: as(
            w,
            i % 2 === 0 ? 'operator-app' : 'custodian-officer',
            i % 2 === 0 ? 'service' : 'custody',
          ),
          ...(i % 4 === 3 ? { payload: { fields: { body: 'during outage' } } } : {}),
        }),
      );
      const responses = await Promise.all(inFlight);
      for (const r of responses) {
        expect(r.statusCode).toBe(503);
        expect((r.json() as { code: string }).code).toBe('LEDGER_UNAVAILABLE');
        expect(r.body).not.toContain(email);
        expect(r.body).not.toContain('"fields"');
      }
      const ready = await w.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
    } finally {
      locker.exec('ROLLBACK');
      locker.close();
    }
    // The write attempted during the outage never happened.
    await expect(w.custos.records.get('us-user-00001', 'messages', 'm9')).rejects.toThrow();

    const again = await w.app.inject({
      method: 'GET',
      url: URL_US,
      headers: as(w, 'operator-app', 'service'),
    });
    expect(again.statusCode).toBe(200);
    expect(again.body).toContain(email);
    expect((await w.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });
});
