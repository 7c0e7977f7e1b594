import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessScope, ScopeAction, StoredGrant } from '../src/ports/access-store.js';
import { issueToken } from '../src/services/auth/authenticator.js';
import { type GatekeepingWorld, gatekeepingWorld } from './gatekeeping-helpers.js';
import { as } from './gateway-helpers.js';

const SUBJECTS = ['us-user-00001', 'us-user-00002', 'us-user-00004', 'sg-user-00005'];
const COLLECTIONS = ['profiles', 'messages', 'watch_history', 'public_videos', 'metrics'];
const PROTECTED = new Set(['profiles', 'messages', 'watch_history']);
const RECORD: Record<string, string> = {
  profiles: 'profile',
  messages: 'msg-1',
  watch_history: 'watch-1',
  public_videos: 'video-1',
  metrics: 'day-1',
};
const PURPOSES = [
  'service',
  'custody',
  'SUPPORT_TICKET',
  'LEGAL_REQUEST',
  'SECURITY_INCIDENT',
  'ENGINEERING_DEBUG',
];
const ACTIONS: ScopeAction[] = ['read', 'list', 'write', 'delete'];
const PARENTS = ['parent-engineer', 'mole'];

/** A parent principal holding every role there is, directly and through every gatekeeping group. */
function addMole(c: Record<string, unknown>): void {
  (c.principals as unknown[]).push({
    id: 'mole',
    org: 'parent',
    roles: ['officer', 'approver', 'app', 'engineer', 'break-glass', 'board', 'supervisor'],
    kind: 'service',
    jurisdiction: 'US',
  });
  const groups = (c.governance as { groups: { id: string; members: string[] }[] }).groups;
  for (const g of groups) g.members.push('mole');
}

/** A random grant to a parent principal, and one request it covers. */
const grantCase = fc
  .record({
    grantee: fc.constantFrom(...PARENTS),
    collections: fc.subarray(COLLECTIONS, { minLength: 1 }),
    subjects: fc.oneof(
      fc.subarray(SUBJECTS, { minLength: 1 }).map((ids) => ({ kind: 'ids' as const, ids })),
      fc.constantFrom('US', 'SG').map((jurisdiction) => ({ kind: 'filter' as const, jurisdiction })),
    ),
    actions: fc.subarray(ACTIONS, { minLength: 1 }),
    purpose: fc.constantFrom(...PURPOSES),
    breakGlass: fc.boolean(),
    pick: fc.nat(1000),
  })
  .map((g) => {
    const inScope = SUBJECTS.filter((s) =>
      g.subjects.kind === 'ids'
        ? g.subjects.ids.includes(s)
        : s.startsWith(g.subjects.jurisdiction.toLowerCase()),
    );
    const at = <T>(xs: readonly T[], k: number): T => xs[(g.pick + k) % xs.length] as T;
    return {
      ...g,
      request: { collection: at(g.collections, 0), subject: at(inScope, 1), action: at(g.actions, 2) },
    };
  });

/** One generated case. */
type GrantCase = typeof grantCase extends fc.Arbitrary<infer T> ? T : never;

async function parentWorld(mode: 'autonomous' | 'supervised'): Promise<GatekeepingWorld> {
  const w = await gatekeepingWorld(5, {
    mutate: (c) => {
      addMole(c);
      (c.governance as Record<string, unknown>).mode = mode;
    },
  });
  const key = w.custos.tokenKey?.privateKey;
  if (!key) throw new Error('no key');
  w.tokens.mole = await issueToken(w.custos.config, key, 'mole', 3600, w.clock.now());
  for (const s of SUBJECTS)
    await w.custos.records.put(s, 'metrics', 'day-1', { day: '2026-11-01', region: 'r', active_users: 1 });
  return w;
}

let seq = 0;

/** Puts a grant straight into the access store, bypassing every gatekeeping check. */
async function plantGrant(w: GatekeepingWorld, g: GrantCase): Promise<StoredGrant> {
  const now = w.clock.now();
  const p = w.custos.config.principals.find((x) => x.id === g.grantee);
  const grantee = { id: g.grantee, org: p?.org ?? 'parent', orgKind: 'parent' as const };
  const scope: AccessScope = {
    collections: g.collections,
    subjects: g.subjects,
    fields: [],
    actions: g.actions,
  };
  const requestId = `req_planted${++seq}`;
  await w.custos.accessStore.createRequest({
    id: requestId,
    kind: g.breakGlass ? 'break-glass' : 'standard',
    requester: grantee,
    scope,
    purpose: g.purpose,
    detail: 'planted',
    ticket: undefined,
    incident: undefined,
    durationMinutes: 60,
    estimate: { subjects: 1, records: 1, exact: false },
    required: { custodian: 0, operator: 0 },
    createdAt: now,
    state: 'pending',
    decidedAt: undefined,
    decidedBy: undefined,
    decisionNote: undefined,
  });
  const grant: StoredGrant = {
    id: `grt_planted${seq}`,
    requestId,
    grantee,
    scope,
    purpose: g.purpose,
    breakGlass: g.breakGlass,
    issuedAt: now,
    expiresAt: now + 3_600_000,
    revokedAt: undefined,
    revokedBy: undefined,
    revokeReason: undefined,
    expiryRecordedAt: undefined,
    reviewDueAt: undefined,
    reviewedAt: undefined,
    escalatedAt: undefined,
  };
  await w.custos.accessStore.issueGrant(grant);
  w.custos.gatekeeping.grants.changed(g.grantee);
  return grant;
}

for (const mode of ['autonomous', 'supervised'] as const) {
  describe(`no grant ever gives a parent principal protected data (${mode} mode)`, () => {
    let w: GatekeepingWorld;
    beforeAll(async () => {
      w = await parentWorld(mode);
    });
    afterAll(async () => {
      await w.close();
    });

    it('random grants and break-glass grants held by parent principals, through the real gateway', async () => {
      let offered = 0;
      await fc.assert(
        fc.asyncProperty(grantCase, async (g) => {
          const grant = await plantGrant(w, g);
          const { collection, subject, action } = g.request;
          const principal = await w.custos.authenticator.authenticate(`Bearer ${w.tokens[g.grantee]}`);
          const ctx = await w.custos.gatekeeping.grantLookup(
            principal,
            action,
            collection,
            subject,
            g.purpose,
          );
          expect(ctx?.id).toBeDefined(); // the gate does offer a covering grant to Cedar ...
          offered++;
          const base = `/v1/subjects/${subject}/collections/${collection}/records`;
          const r = await w.app.inject({
            method:
              action === 'read' ? 'GET' : action === 'write' ? 'PUT' : action === 'delete' ? 'DELETE' : 'GET',
            url:
              action === 'list'
                ? `/v1/collections/${collection}/records?subject=${subject}`
                : `${base}/${RECORD[collection]}`,
            headers: as(w, g.grantee, g.purpose),
            ...(action === 'write' ? { payload: { fields: { x: 'y' } } } : {}),
          });
          // ... and Cedar's forbid wins: nothing protected, nothing of a ring-fenced jurisdiction but public.
          if (PROTECTED.has(collection) || collection === 'metrics') {
            expect(r.statusCode, `${g.grantee} ${action} ${collection}`).toBe(403);
            expect((r.json() as { reasons: string[] }).reasons).toContain('parent-isolation');
            const entry = JSON.parse(
              (await w.custos.ledger.receipt(Number(r.headers['custos-ledger-index']))).entry,
            );
            expect(entry.decision).toBe('deny');
            expect(entry.grantId).toBeUndefined();
          }
          expect(grant.id).toBeDefined();
        }),
        { numRuns: 60, seed: mode === 'autonomous' ? 42 : 43 },
      );
      expect(offered).toBe(60);
    });

    it('parent principals cannot request, approve, break glass, review, propose or approve policy', async () => {
      const open = await w.app.inject({
        method: 'POST',
        url: '/v1/access/requests',
        headers: as(w, 'operator-engineer'),
        payload: {
          scope: { collections: ['messages'], subjects: ['us-user-00001'] },
          purpose: 'LEGAL_REQUEST',
          detail: 'x',
          durationHours: 1,
        },
      });
      const id = (open.json() as { id: string }).id;
      const bg = await w.app.inject({
        method: 'POST',
        url: '/v1/access/break-glass',
        headers: as(w, 'custodian-oncall'),
        payload: {
          scope: { collections: ['messages'], subjects: ['us-user-00001'] },
          purpose: 'SECURITY_INCIDENT',
          incident: 'I-1',
        },
      });
      const grantId = (bg.json() as { grant: { id: string } }).grant.id;
      for (const who of PARENTS) {
        for (const [url, payload] of [
          [
            '/v1/access/requests',
            {
              scope: { collections: ['profiles'], subjects: ['us-user-00001'] },
              purpose: 'SUPPORT_TICKET',
              detail: 'x',
              durationHours: 1,
            },
          ],
          [`/v1/access/requests/${id}/approve`, {}],
          [`/v1/access/requests/${id}/deny`, {}],
          [
            '/v1/access/break-glass',
            {
              scope: { collections: ['profiles'], subjects: { jurisdiction: 'US' } },
              purpose: 'SECURITY_INCIDENT',
              incident: 'I-2',
            },
          ],
          [`/v1/access/grants/${grantId}/review`, { verdict: 'justified' }],
          [`/v1/access/grants/${grantId}/revoke`, {}],
          [
            '/v1/policy/proposals',
            { files: [{ name: 'a.cedar', text: 'permit (principal, action, resource);' }], summary: 'x' },
          ],
        ] as const) {
          const r = await w.app.inject({ method: 'POST', url, headers: as(w, who), payload });
          expect([r.statusCode, (r.json() as { code: string }).code], `${who} ${url}`).toEqual([
            403,
            'PARENT_EXCLUDED',
          ]);
        }
      }
      // The request is still pending: no parent vote counted.
      expect((await w.custos.accessStore.votes(id)).length).toBe(0);
    });
  });
}
