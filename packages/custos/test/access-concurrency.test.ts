import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatekeepingWorld, gatekeepingWorld, requestBody } from './gatekeeping-helpers.js';
import { as } from './gateway-helpers.js';
import { freshSchema, testPool, withPostgres } from './pg-helpers.js';

const APPROVERS = ['custodian-approver', 'custodian-approver-2', 'custodian-approver-3'];

/**
 * Approvers racing on a quorum-1 request: exactly one vote counts and issues the grant, the others
 * get REQUEST_NOT_PENDING, and the ledger holds one approval and one grant issue.
 */
function racingApprovals(world: () => GatekeepingWorld): void {
  it('counts one of three simultaneous approvals of a quorum-1 request and issues one grant', async () => {
    const w = world();
    const created = await w.app.inject({
      method: 'POST',
      url: '/v1/access/requests',
      headers: as(w, 'operator-engineer'),
      payload: requestBody(['us-user-00001']),
    });
    expect(created.statusCode).toBe(201);
    const id = (created.json() as { id: string; required: { custodian: number } }).id;
    expect((created.json() as { required: { custodian: number } }).required.custodian).toBe(1);

    const replies = await Promise.all(
      APPROVERS.map((who) =>
        w.app.inject({ method: 'POST', url: `/v1/access/requests/${id}/approve`, headers: as(w, who) }),
      ),
    );
    const outcomes = replies.map((r) => (r.statusCode === 200 ? 200 : `${r.statusCode} ${r.json().code}`));
    expect(outcomes.filter((o) => o === 200)).toHaveLength(1);
    expect(outcomes.filter((o) => o !== 200)).toEqual(['409 REQUEST_NOT_PENDING', '409 REQUEST_NOT_PENDING']);

    const shown = await w.app.inject({
      method: 'GET',
      url: `/v1/access/requests/${id}`,
      headers: as(w, 'auditor'),
    });
    const view = shown.json() as { state: string; approvals: unknown[]; grant?: { id: string } };
    expect(view.state).toBe('approved');
    expect(view.approvals).toHaveLength(1);

    const mine = (await w.entries())
      .map((e) => e.entry)
      .filter(
        (e) =>
          (e.type === 'approval' && e.details?.requestId === id) ||
          (e.type === 'grant' && e.grantId === view.grant?.id),
      )
      .map((e) => `${e.type}:${e.action}`);
    expect(mine).toEqual(['approval:approve', 'grant:issue']);
  });
}

describe('concurrent approvals on SQLite', () => {
  let w: GatekeepingWorld;
  beforeAll(async () => {
    w = await gatekeepingWorld(3);
  });
  afterAll(async () => {
    await w.close();
  });
  racingApprovals(() => w);
});

withPostgres('concurrent approvals on PostgreSQL', (url) => {
  describe('concurrent approvals on PostgreSQL', () => {
    const schema = freshSchema('race');
    let w: GatekeepingWorld;
    beforeAll(async () => {
      w = await gatekeepingWorld(3, {
        mutate: (obj) => {
          obj.custody = { driver: 'postgres', urlEnv: 'CUSTOS_PG_URL', schema, poolSize: 4 };
        },
      });
    });
    afterAll(async () => {
      await w.close();
      await testPool(url).dropAndEnd(schema);
    });
    racingApprovals(() => w);
  });
});
