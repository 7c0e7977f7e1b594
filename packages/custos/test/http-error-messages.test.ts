import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatekeepingWorld, gatekeepingWorld, requestBody } from './gatekeeping-helpers.js';
import { as } from './gateway-helpers.js';

const US = 'us-user-00001';

describe('HTTP: errors name the parameter, never its value, and do not reveal which ids exist', () => {
  let w: GatekeepingWorld;
  beforeAll(async () => {
    w = await gatekeepingWorld(5);
  });
  afterAll(async () => {
    await w.close();
  });

  const call = async (
    method: 'GET' | 'POST' | 'PUT',
    url: string,
    principal: string,
    payload?: object,
    purpose?: string,
  ) => {
    const r = await w.app.inject({
      method,
      url,
      headers: as(w, principal, purpose),
      ...(payload ? { payload } : {}),
    });
    return { status: r.statusCode, code: (r.json() as { code: string }).code, text: r.body };
  };

  it('does not echo collection, field, jurisdiction, ledger index or Cedar text', async () => {
    const cases: [Promise<{ status: number; code: string; text: string }>, string, string][] = [
      [
        call('GET', `/v1/subjects/${US}/collections/nope123/records/x`, 'operator-app', undefined, 'service'),
        'COLLECTION_UNKNOWN',
        'nope123',
      ],
      [
        call(
          'PUT',
          `/v1/subjects/${US}/collections/profiles/records/p`,
          'operator-app',
          { fields: { secret_field_xyz: 1 } },
          'service',
        ),
        'VALIDATION_FAILED',
        'secret_field_xyz',
      ],
      [
        call(
          'POST',
          '/v1/access/requests',
          'operator-engineer',
          requestBody([US], { scope: { collections: ['secretcoll'], subjects: [US] } }),
        ),
        'SCOPE_INVALID',
        'secretcoll',
      ],
      [
        call(
          'POST',
          '/v1/access/requests',
          'operator-engineer',
          requestBody([US], { scope: { collections: ['messages'], subjects: [US], fields: ['leakme'] } }),
        ),
        'SCOPE_INVALID',
        'leakme',
      ],
      [
        call('POST', '/v1/access/requests', 'operator-engineer', requestBody({ jurisdiction: 'FRX' })),
        'SCOPE_INVALID',
        'FRX',
      ],
      [call('GET', '/v1/ledger/entries/9007199254740991', 'auditor'), 'ENTRY_NOT_FOUND', '9007199254740991'],
      [
        call('POST', '/v1/policy/proposals', 'custodian-approver-2', {
          files: [{ name: 'x.cedar', text: 'permit (principal, action, resource) when { leakcedar };;' }],
          summary: 's',
        }),
        'POLICY_INVALID',
        'leakcedar',
      ],
    ];
    for (const [pending, code, secret] of cases) {
      const r = await pending;
      expect(r.code, r.text).toBe(code);
      expect(r.text).not.toContain(secret);
    }
  });

  it('answers GRANT_NOT_FOUND for a grant the caller may not see, exactly as for an unknown id', async () => {
    const created = await call('POST', '/v1/access/requests', 'operator-engineer', requestBody([US]));
    const id = (JSON.parse(created.text) as { id: string }).id;
    const approved = await call('POST', `/v1/access/requests/${id}/approve`, 'custodian-approver', {});
    const grant = (JSON.parse(approved.text) as { grant: { id: string } }).grant.id;
    expect(grant).toMatch(/^grt_/);

    const outsider = 'operator-app';
    for (const target of [grant, 'grt_00000000000000000000000000000000']) {
      const shown = await call('GET', `/v1/access/grants/${target}`, outsider);
      expect([shown.status, shown.code], target).toEqual([404, 'GRANT_NOT_FOUND']);
      const revoked = await call('POST', `/v1/access/grants/${target}/revoke`, outsider, {});
      expect([revoked.status, revoked.code], target).toEqual([404, 'GRANT_NOT_FOUND']);
      const reviewed = await call('POST', `/v1/access/grants/${target}/review`, outsider, {
        verdict: 'justified',
      });
      expect([reviewed.status, reviewed.code], target).toEqual([404, 'GRANT_NOT_FOUND']);
    }
    // Those who may see the request still see the grant, and the holder still revokes it.
    expect((await call('GET', `/v1/access/grants/${grant}`, 'operator-engineer')).status).toBe(200);
    expect((await call('GET', `/v1/access/grants/${grant}`, 'auditor')).status).toBe(200);
    const byAuditor = await call('POST', `/v1/access/grants/${grant}/revoke`, 'auditor', {});
    expect(byAuditor.code).toBe('NOT_PERMITTED');
    expect((await call('POST', `/v1/access/grants/${grant}/revoke`, 'operator-engineer', {})).status).toBe(
      200,
    );
  });
});
