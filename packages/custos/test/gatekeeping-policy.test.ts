import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { LedgerEntry } from '@custos/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCustos } from '../src/composition-root.js';
import type { CustosConfig } from '../src/domain/config.js';
import type { Principal } from '../src/domain/principal.js';
import { SHIPPED_POLICY_DIR, splitPolicies } from '../src/services/policy/policy-set.js';
import { type GatekeepingWorld, gatekeepingWorld, requestBody } from './gatekeeping-helpers.js';
import { as } from './gateway-helpers.js';
import { configFrom, demoConfigObject, TestClock, tempDir } from './helpers.js';

const SHIPPED = readFileSync(join(SHIPPED_POLICY_DIR, 'default.cedar'), 'utf8');
const SCHEMA = readFileSync(join(SHIPPED_POLICY_DIR, 'custos.cedarschema'), 'utf8');
const policies = splitPolicies('default.cedar', SHIPPED);

/** The shipped set without one policy, as one file. */
function without(id: string): { name: string; text: string }[] {
  return [
    {
      name: 'default.cedar',
      text: policies
        .filter((p) => p.id !== id)
        .map((p) => p.text)
        .join('\n\n'),
    },
  ];
}

/** A small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The brute-force reference: every entry re-decided by a stateless Cedar call per record (no class
 * cache, no Authorizer), principal taken from its declaration in the config.
 */
function bruteForce(
  e: LedgerEntry,
  config: CustosConfig,
  texts: readonly { id: string; text: string }[],
): boolean {
  const p = config.principals.find((x) => x.id === e.principal.id) as Principal & { jurisdiction?: string };
  const jurisdictions = e.resource.jurisdiction
    ? [e.resource.jurisdiction]
    : config.jurisdictions.map((j) => j.id);
  return jurisdictions.some((jur) => {
    const j = config.jurisdictions.find((x) => x.id === jur);
    const category = e.resource.category ?? '';
    const answer = cedar.isAuthorized({
      principal: { type: 'Custos::Principal', id: p.id },
      action: { type: 'Custos::Action', id: e.action },
      resource: { type: 'Custos::Record', id: `${e.resource.subjectRef ?? '*'}/${e.resource.collection}/x` },
      context: {
        purpose: e.purpose ?? '',
        ...(e.grantId
          ? { grant: { id: e.grantId, collection: e.resource.collection ?? '', breakGlass: false } }
          : {}),
      },
      schema: SCHEMA,
      validateRequest: true,
      policies: { staticPolicies: Object.fromEntries(texts.map((t) => [t.id, t.text])) },
      entities: [
        {
          uid: { type: 'Custos::Principal', id: p.id },
          attrs: {
            orgKind: p.orgKind,
            org: p.org,
            kind: p.kind,
            roles: [...p.roles],
            jurisdiction: p.jurisdiction ?? '',
          },
          parents: [],
        },
        {
          uid: { type: 'Custos::Record', id: `${e.resource.subjectRef ?? '*'}/${e.resource.collection}/x` },
          attrs: {
            collection: e.resource.collection ?? '',
            category,
            jurisdiction: jur,
            ringFenced: j?.ringFenced ?? true,
            shareableWithParent: (j?.shareableWithParent ?? []).includes(category as never),
          },
          parents: [],
        },
      ],
    });
    return answer.type === 'success' && answer.response.decision === 'allow';
  });
}

describe('governed policy changes: propose, what-if, board quorum, activation', () => {
  let w: GatekeepingWorld;
  beforeAll(async () => {
    w = await gatekeepingWorld(10);
    // A grant in the traffic, so replays cover grant decisions too.
    const created = await w.app.inject({
      method: 'POST',
      url: '/v1/access/requests',
      headers: as(w, 'operator-engineer'),
      payload: requestBody(['us-user-00001', 'us-user-00002']),
    });
    await w.app.inject({
      method: 'POST',
      url: `/v1/access/requests/${(created.json() as { id: string }).id}/approve`,
      headers: as(w, 'custodian-approver'),
    });
    // Random traffic: principals × purposes × collections × subjects, reads and listings.
    const rand = prng(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    const who = [
      'custodian-officer',
      'operator-app',
      'operator-engineer',
      'auditor',
      'parent-engineer',
      'custodian-approver',
    ];
    const purposes = ['custody', 'service', 'SUPPORT_TICKET', 'LEGAL_REQUEST'];
    const collections = ['profiles', 'messages', 'watch_history', 'public_videos', 'metrics'];
    const subjects = ['us-user-00001', 'us-user-00002', 'us-user-00003', 'sg-user-00005'];
    for (let i = 0; i < 160; i++) {
      const c = pick(collections);
      const s = pick(subjects);
      const r = rand();
      const url =
        r < 0.6
          ? `/v1/subjects/${s}/collections/${c}/records/${c === 'profiles' ? 'profile' : c === 'messages' ? 'msg-1' : 'x'}`
          : r < 0.8
            ? `/v1/collections/${c}/records?subject=${s}`
            : `/v1/collections/${c}/records`;
      await w.app.inject({ method: 'GET', url, headers: as(w, pick(who), pick(purposes)) });
    }
  });
  afterAll(async () => {
    await w.close();
  });

  const post = async (url: string, who: string, payload: object = {}) => {
    const r = await w.app.inject({ method: 'POST', url, headers: as(w, who), payload });
    return {
      status: r.statusCode,
      body: r.json() as Record<string, unknown> & { id: string; code: string; state: string },
    };
  };

  it('refuses proposals that touch parent isolation or do not validate', async () => {
    const parent = await post('/v1/policy/proposals', 'custodian-approver-2', {
      files: without('parent-isolation'),
      summary: 'let the parent in',
    });
    expect([parent.status, parent.body.code]).toEqual([400, 'POLICY_INVALID']);
    const broken = await post('/v1/policy/proposals', 'custodian-approver-2', {
      files: [
        { name: 'default.cedar', text: `${SHIPPED}\npermit (principal, action, resource) when { nope };` },
      ],
      summary: 'broken',
    });
    expect([broken.status, broken.body.code]).toEqual([400, 'POLICY_INVALID']);
    const same = await post('/v1/policy/proposals', 'custodian-approver-2', {
      files: [{ name: 'default.cedar', text: SHIPPED }],
      summary: 'no change',
    });
    expect([same.status, same.body.code]).toEqual([400, 'BAD_REQUEST']);
  });

  it('what-if lists exactly the past decisions a removed permit flips (vs brute force); the board activates it', async () => {
    const proposed = await post('/v1/policy/proposals', 'custodian-approver-2', {
      files: without('custodian-officer-read'),
      summary: 'officers stop reading records for custody',
    });
    expect(proposed.status).toBe(201);
    const id = proposed.body.id;
    expect(proposed.body.diff).toEqual([
      expect.objectContaining({ id: 'custodian-officer-read', change: 'removed' }),
    ]);

    const size = w.custos.ledger.size;
    const res = await w.app.inject({
      method: 'GET',
      url: `/v1/policy/proposals/${id}/what-if?last=${size}`,
      headers: as(w, 'auditor'),
    });
    expect(res.statusCode).toBe(200);
    const report = res.json() as {
      from: number;
      to: number;
      replayed: number;
      changes: { index: number; recorded: string; principal: string }[];
    };
    expect([report.from, report.to]).toEqual([0, size]);

    const texts = policies.filter((p) => p.id !== 'custodian-officer-read');
    const expected: number[] = [];
    let replayable = 0;
    for (const { index, entry } of await w.entries()) {
      if (entry.type !== 'access' || entry.reasons.includes('purpose-invalid')) continue;
      replayable++;
      if (bruteForce(entry, w.custos.config, texts) !== (entry.decision === 'allow')) expected.push(index);
    }
    expect(report.replayed).toBe(replayable);
    expect(report.changes.map((c) => c.index)).toEqual(expected);
    expect(expected.length).toBeGreaterThan(3);
    for (const c of report.changes) expect([c.principal, c.recorded]).toEqual(['custodian-officer', 'allow']);

    // --last N replays only the last N entries.
    const tail = await w.custos.gatekeeping.policy.whatIf(
      await w.custos.authenticator.authenticate(`Bearer ${w.tokens['custodian-officer']}`),
      id,
      20,
    );
    expect(tail.from).toBe(size - 20);
    expect(tail.changes.map((c) => c.index)).toEqual(expected.filter((i) => i >= size - 20));
    for (const [who, code] of [
      ['operator-engineer', 'NOT_PERMITTED'],
      ['parent-engineer', 'PARENT_EXCLUDED'],
    ]) {
      const r = await w.app.inject({
        method: 'GET',
        url: `/v1/policy/proposals/${id}/what-if`,
        headers: as(w, who as string),
      });
      expect((r.json() as { code: string }).code).toBe(code);
    }

    // Board quorum (2 custodian board members); no self-approval, no outsiders.
    const approve = (who: string) => post(`/v1/policy/proposals/${id}/approve`, who);
    expect((await approve('custodian-approver-2')).body.code).toBe('SELF_APPROVAL');
    expect((await approve('operator-supervisor')).body.code).toBe('NOT_AN_APPROVER'); // autonomous mode
    expect((await approve('custodian-approver-3')).body.code).toBe('NOT_AN_APPROVER');
    expect((await approve('custodian-officer')).body.state).toBe('pending');
    expect((await approve('custodian-officer')).body.code).toBe('DUPLICATE_APPROVAL');
    expect((await post(`/v1/policy/proposals/${id}/activate`, 'custodian-officer')).body.code).toBe(
      'PROPOSAL_NOT_APPROVED',
    );
    expect((await approve('custodian-approver')).body.state).toBe('approved');

    const officerRead = () =>
      w.app.inject({
        method: 'GET',
        url: '/v1/subjects/us-user-00003/collections/profiles/records/profile',
        headers: as(w, 'custodian-officer', 'custody'),
      });
    expect((await officerRead()).statusCode).toBe(200);
    const activated = await post(`/v1/policy/proposals/${id}/activate`, 'custodian-approver');
    expect(activated.body.state).toBe('active');
    expect(w.custos.authorizer.policyVersion).toBe(activated.body.version);
    expect(w.custos.policies.version).toBe(activated.body.version);
    const denied = await officerRead();
    expect(denied.statusCode).toBe(403);
    const entries = (await w.entries()).map((e) => e.entry);
    const activation = entries.find((e) => e.type === 'policy' && e.action === 'activate');
    expect(activation).toMatchObject({ policyVersion: activated.body.version, details: { proposalId: id } });
    expect(
      JSON.parse((await w.custos.ledger.receipt(Number(denied.headers['custos-ledger-index']))).entry)
        .policyVersion,
    ).toBe(activated.body.version);
    expect(entries.filter((e) => e.type === 'policy').map((e) => e.action)).toEqual(['propose', 'activate']);
  });
});

describe('an activated policy set survives a restart; supervised boards need the operator', () => {
  const t = tempDir();
  afterAll(() => t.cleanup());

  it('persists the set in the access store and loads it at start', async () => {
    const obj = demoConfigObject(t.dir);
    (obj.governance as Record<string, unknown>).mode = 'supervised';
    const config = configFrom(obj, t.dir);
    const clock = new TestClock();
    const first = await createCustos(config, { clock });
    const who = async (id: string) => {
      const { issueToken } = await import('../src/services/auth/authenticator.js');
      const key = first.tokenKey?.privateKey;
      if (!key) throw new Error('no key');
      return first.authenticator.authenticate(`Bearer ${await issueToken(config, key, id, 60, clock.now())}`);
    };
    const gov = first.gatekeeping.policy;
    const p = await gov.propose(await who('operator-engineer'), without('public-read'), 'no public reads');
    await gov.approve(await who('custodian-officer'), p.id, undefined);
    expect((await gov.approve(await who('custodian-approver'), p.id, undefined)).state).toBe('pending');
    expect((await gov.approve(await who('operator-supervisor'), p.id, undefined)).state).toBe('approved');
    const active = await gov.activate(await who('custodian-officer'), p.id);
    const shippedVersion = (await import('../src/services/policy/policy-set.js')).loadPolicies(
      undefined,
    ).version;
    expect(active.version).not.toBe(shippedVersion);
    await first.close();

    const second = await createCustos(config, { clock });
    try {
      expect(second.policies.version).toBe(active.version);
      expect(second.authorizer.policyVersion).toBe(active.version);
      expect(second.policies.policies.some((x) => x.id === 'public-read')).toBe(false);
    } finally {
      await second.close();
    }
  });
});
