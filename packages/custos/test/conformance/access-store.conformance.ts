import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  AccessStore,
  StoredGrant,
  StoredProposal,
  StoredRequest,
  StoredVote,
} from '../../src/ports/access-store.js';

/** Creates a fresh, empty access store and a cleanup for it. */
export type AccessStoreFactory = () => Promise<{ store: AccessStore; cleanup: () => Promise<void> }>;

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 29, 12);
const alice = { id: 'operator-engineer', org: 'operator', orgKind: 'operator' as const };
const bob = { id: 'custodian-approver', org: 'custodian', orgKind: 'custodian' as const };

function request(id: string, createdAt: number, extra: Partial<StoredRequest> = {}): StoredRequest {
  return {
    id,
    kind: 'standard',
    requester: alice,
    scope: {
      collections: ['messages'],
      subjects: { kind: 'ids', ids: ['us-user-00001', 'üñí/“odd”'] },
      fields: [],
      actions: ['read'],
    },
    purpose: 'SUPPORT_TICKET',
    detail: 'user cannot see their messages',
    ticket: 'SUP-1',
    incident: undefined,
    durationMinutes: 60,
    estimate: { subjects: 1, records: 3, exact: true },
    required: { custodian: 1, operator: 0 },
    createdAt,
    state: 'pending',
    decidedAt: undefined,
    decidedBy: undefined,
    decisionNote: undefined,
    ...extra,
  };
}

function grant(requestId: string, issuedAt: number, extra: Partial<StoredGrant> = {}): StoredGrant {
  const r = request(requestId, issuedAt);
  return {
    id: `grt_${requestId}`,
    requestId,
    grantee: alice,
    scope: r.scope,
    purpose: r.purpose,
    breakGlass: false,
    issuedAt,
    expiresAt: issuedAt + HOUR,
    revokedAt: undefined,
    revokedBy: undefined,
    revokeReason: undefined,
    expiryRecordedAt: undefined,
    reviewDueAt: undefined,
    reviewedAt: undefined,
    escalatedAt: undefined,
    ...extra,
  };
}

function proposal(id: string, createdAt: number): StoredProposal {
  return {
    id,
    proposer: bob,
    summary: 'drop a permit',
    files: [{ name: 'default.cedar', text: 'permit (principal, action, resource);' }],
    baseVersion: 'sha256:aa',
    version: `sha256:${id}`,
    createdAt,
    state: 'pending',
    decidedAt: undefined,
    decidedBy: undefined,
  };
}

const vote = (target: string, voter: StoredVote['voter'], at: number): StoredVote => ({
  target,
  voter,
  kind: 'custodian',
  verdict: 'approve',
  note: undefined,
  at,
});

/** The `AccessStore` conformance suite, run against every adapter. */
export function accessStoreConformance(name: string, factory: AccessStoreFactory): void {
  describe(`AccessStore conformance: ${name}`, () => {
    let store: AccessStore;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await factory());
    });
    afterEach(async () => {
      await cleanup();
    });

    it('stores requests exactly and lists them newest first, filtered', async () => {
      await store.createRequest(request('req_a', T0));
      await store.createRequest(
        request('req_b', T0 + 1, { requester: bob, kind: 'break-glass', incident: 'INC-9' }),
      );
      await store.createRequest(request('req_c', T0 + 2));
      expect(await store.getRequest('req_a')).toEqual(request('req_a', T0));
      expect(await store.getRequest('nope')).toBeUndefined();
      expect((await store.listRequests({ limit: 10 })).map((r) => r.id)).toEqual(['req_c', 'req_b', 'req_a']);
      expect((await store.listRequests({ limit: 2 })).map((r) => r.id)).toEqual(['req_c', 'req_b']);
      expect((await store.listRequests({ requester: bob.id, limit: 10 })).map((r) => r.id)).toEqual([
        'req_b',
      ]);
      expect((await store.listRequests({ createdBefore: T0 + 2, limit: 10 })).map((r) => r.id)).toEqual([
        'req_b',
        'req_a',
      ]);
      expect((await store.getRequest('req_b'))?.incident).toBe('INC-9');
    });

    it('closes a request only while it is pending, and keeps it queryable', async () => {
      await store.createRequest(request('req_a', T0));
      expect(await store.closeRequest('req_a', 'denied', T0 + 5, bob.id, 'not justified')).toBe(true);
      expect(await store.closeRequest('req_a', 'expired', T0 + 6, undefined, undefined)).toBe(false);
      const r = await store.getRequest('req_a');
      expect(r).toMatchObject({
        state: 'denied',
        decidedAt: T0 + 5,
        decidedBy: bob.id,
        decisionNote: 'not justified',
      });
      expect((await store.listRequests({ state: 'denied', limit: 5 })).map((x) => x.id)).toEqual(['req_a']);
      expect(await store.listRequests({ state: 'pending', limit: 5 })).toEqual([]);
      expect(await store.issueGrant(grant('req_a', T0 + 7))).toBe(false);
      expect(await store.grantForRequest('req_a')).toBeUndefined();
    });

    it('counts one vote per voter and target, in order, and can withdraw one', async () => {
      expect(await store.addVote(vote('req_a', bob, T0 + 2))).toBe(true);
      expect(await store.addVote(vote('req_a', bob, T0 + 3))).toBe(false);
      expect(await store.addVote(vote('req_a', alice, T0 + 1))).toBe(true);
      expect(await store.addVote(vote('req_b', bob, T0))).toBe(true);
      expect((await store.votes('req_a')).map((v) => [v.voter.id, v.at])).toEqual([
        [alice.id, T0 + 1],
        [bob.id, T0 + 2],
      ]);
      await store.removeVote('req_a', alice.id);
      expect(await store.votes('req_a')).toEqual([vote('req_a', bob, T0 + 2)]);
    });

    it('counts approvals of a pending request only until its quorum is met', async () => {
      const carol = { id: 'custodian-approver-2', org: 'custodian', orgKind: 'custodian' as const };
      await store.createRequest(request('req_a', T0, { required: { custodian: 2, operator: 0 } }));
      expect(await store.approveRequest(vote('req_a', bob, T0 + 1))).toEqual({
        outcome: 'counted',
        approvals: { custodian: 1, operator: 0 },
        quorumMet: false,
      });
      expect(await store.approveRequest(vote('req_a', bob, T0 + 2))).toEqual({ outcome: 'duplicate' });
      expect(await store.approveRequest(vote('req_a', carol, T0 + 3))).toEqual({
        outcome: 'counted',
        approvals: { custodian: 2, operator: 0 },
        quorumMet: true,
      });
      // The quorum is met: a third vote does not count, though no grant is issued yet.
      expect(await store.approveRequest(vote('req_a', alice, T0 + 4))).toEqual({ outcome: 'not-pending' });
      expect((await store.votes('req_a')).map((v) => v.voter.id)).toEqual([bob.id, carol.id]);
      expect(await store.approveRequest(vote('req_nope', bob, T0))).toEqual({ outcome: 'not-pending' });
      await store.createRequest(request('req_b', T0));
      await store.closeRequest('req_b', 'denied', T0 + 1, bob.id, undefined);
      expect(await store.approveRequest(vote('req_b', carol, T0 + 2))).toEqual({ outcome: 'not-pending' });
      expect(await store.votes('req_b')).toEqual([]);
    });

    it('counts exactly one of many simultaneous approvals of a quorum-1 request', async () => {
      await store.createRequest(request('req_a', T0));
      const voters = Array.from({ length: 8 }, (_, i) => ({ ...bob, id: `approver-${i}` }));
      const results = await Promise.all(voters.map((v, i) => store.approveRequest(vote('req_a', v, T0 + i))));
      const counted = results.filter((r) => r.outcome === 'counted');
      expect(counted).toEqual([
        { outcome: 'counted', approvals: { custodian: 1, operator: 0 }, quorumMet: true },
      ]);
      expect(results.filter((r) => r.outcome === 'not-pending')).toHaveLength(voters.length - 1);
      expect(await store.votes('req_a')).toHaveLength(1);
    });

    it('issues a grant once, atomically approving its request', async () => {
      await store.createRequest(request('req_a', T0));
      const g = grant('req_a', T0 + 10);
      expect(await store.issueGrant(g)).toBe(true);
      expect(await store.issueGrant({ ...g, id: 'grt_other' })).toBe(false);
      expect(await store.getGrant(g.id)).toEqual(g);
      expect(await store.grantForRequest('req_a')).toEqual(g);
      expect(await store.getRequest('req_a')).toMatchObject({ state: 'approved', decidedAt: T0 + 10 });
      expect(await store.closeRequest('req_a', 'denied', T0 + 11, bob.id, undefined)).toBe(false);
    });

    it('finds the grants in force for a principal at a time', async () => {
      for (const [id, at] of [
        ['req_a', T0],
        ['req_b', T0 + HOUR / 2],
      ] as const) {
        await store.createRequest(request(id, at));
        await store.issueGrant(grant(id, at));
      }
      const ids = async (now: number) => (await store.activeGrants(alice.id, now)).map((g) => g.id);
      expect(await ids(T0 - 1)).toEqual([]);
      expect(await ids(T0)).toEqual(['grt_req_a']);
      expect(await ids(T0 + HOUR / 2)).toEqual(['grt_req_a', 'grt_req_b']);
      expect(await ids(T0 + HOUR)).toEqual(['grt_req_b']);
      expect(await store.activeGrants(bob.id, T0 + 1)).toEqual([]);
      expect(await store.revokeGrant('grt_req_b', T0 + HOUR, bob.id, 'done')).toBe(true);
      expect(await store.revokeGrant('grt_req_b', T0 + HOUR + 1, bob.id, 'again')).toBe(false);
      expect(await ids(T0 + HOUR)).toEqual([]);
      expect(await store.getGrant('grt_req_b')).toMatchObject({
        revokedAt: T0 + HOUR,
        revokedBy: bob.id,
        revokeReason: 'done',
      });
    });

    it('lists grants due for expiry records and overdue reviews; marks are once-only', async () => {
      await store.createRequest(request('req_a', T0));
      await store.issueGrant(grant('req_a', T0));
      await store.createRequest(request('req_bg', T0, { kind: 'break-glass' }));
      await store.issueGrant(
        grant('req_bg', T0, { breakGlass: true, expiresAt: T0 + 3 * HOUR, reviewDueAt: T0 + 2 * HOUR }),
      );
      const due = async (now: number) => (await store.grantsDue(now)).map((g) => g.id);
      expect(await due(T0 + HOUR - 1)).toEqual([]);
      expect(await due(T0 + HOUR)).toEqual(['grt_req_a']);
      expect(await store.markGrant('grt_req_a', 'expiryRecordedAt', T0 + HOUR)).toBe(true);
      expect(await store.markGrant('grt_req_a', 'expiryRecordedAt', T0 + HOUR + 1)).toBe(false);
      expect(await due(T0 + 2 * HOUR)).toEqual(['grt_req_bg']);
      expect(await store.markGrant('grt_req_bg', 'escalatedAt', T0 + 2 * HOUR)).toBe(true);
      expect(await due(T0 + 2 * HOUR)).toEqual([]);
      expect(await due(T0 + 3 * HOUR)).toEqual(['grt_req_bg']);
      expect((await store.getGrant('grt_req_bg'))?.escalatedAt).toBe(T0 + 2 * HOUR);
      expect(await store.markGrant('grt_req_bg', 'reviewedAt', T0 + 3 * HOUR)).toBe(true);
      expect((await store.getGrant('grt_req_bg'))?.reviewedAt).toBe(T0 + 3 * HOUR);
    });

    it('moves proposals between states by compare-and-set', async () => {
      await store.createProposal(proposal('pol_a', T0));
      await store.createProposal(proposal('pol_b', T0 + 1));
      expect(await store.getProposal('pol_a')).toEqual(proposal('pol_a', T0));
      expect((await store.listProposals(undefined, 10)).map((p) => p.id)).toEqual(['pol_b', 'pol_a']);
      expect(await store.setProposalState('pol_a', ['pending'], 'approved', T0 + 2, bob.id)).toBe(true);
      expect(await store.setProposalState('pol_a', ['pending'], 'rejected', T0 + 3, bob.id)).toBe(false);
      expect((await store.listProposals('approved', 10)).map((p) => p.id)).toEqual(['pol_a']);
      expect(await store.getProposal('pol_a')).toMatchObject({ state: 'approved', decidedAt: T0 + 2 });
    });

    it('activates only an approved proposal, supersedes the others, and remembers the active set', async () => {
      expect(await store.activePolicySet()).toBeUndefined();
      await store.createProposal(proposal('pol_a', T0));
      await store.createProposal(proposal('pol_b', T0 + 1));
      const set = (id: string, at: number) => ({
        version: `sha256:${id}`,
        files: [{ name: 'x.cedar', text: `// ${id}\n` }],
        proposalId: id,
        activatedAt: at,
        activatedBy: bob.id,
      });
      expect(await store.activatePolicySet(set('pol_a', T0 + 2))).toBe(false);
      await store.setProposalState('pol_a', ['pending'], 'approved', T0 + 2, bob.id);
      expect(await store.activatePolicySet(set('pol_a', T0 + 3))).toBe(true);
      expect(await store.activePolicySet()).toEqual(set('pol_a', T0 + 3));
      expect((await store.getProposal('pol_a'))?.state).toBe('active');
      expect((await store.getProposal('pol_b'))?.state).toBe('superseded');
      await store.createProposal(proposal('pol_c', T0 + 4));
      await store.setProposalState('pol_c', ['pending'], 'approved', T0 + 5, bob.id);
      expect(await store.activatePolicySet(set('pol_c', T0 + 6))).toBe(true);
      expect((await store.activePolicySet())?.proposalId).toBe('pol_c');
      expect((await store.getProposal('pol_a'))?.state).toBe('superseded');
    });
  });
}
