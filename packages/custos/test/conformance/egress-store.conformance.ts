import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EgressStore, StoredFlowProposal } from '../../src/ports/egress-store.js';

/** Creates a fresh, empty egress store and a cleanup for it. */
export type EgressStoreFactory = () => Promise<{ store: EgressStore; cleanup: () => Promise<void> }>;

const DAY = 24 * 3_600_000;
const T0 = Date.UTC(2026, 10, 29, 12);
const limits = { 'personal-identifiers': 3, health: 1 };

function proposal(id: string, createdAt: number): StoredFlowProposal {
  return {
    id,
    flowId: 'f1',
    proposer: { id: 'operator-engineer', org: 'operator', orgKind: 'operator' },
    summary: 'üñí “odd” text',
    declaration: '{"id":"f1"}',
    baseVersion: undefined,
    version: `sha256:${id}`,
    createdAt,
    state: 'pending',
    decidedAt: undefined,
    decidedBy: undefined,
  };
}

/** The one conformance suite of the EgressStore port, run against every adapter. */
export function egressStoreConformance(name: string, factory: EgressStoreFactory): void {
  describe(`EgressStore conformance: ${name}`, () => {
    let store: EgressStore;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await factory());
    });
    afterEach(async () => {
      await cleanup();
    });

    const meter = (refs: string[], at: number, dataType = 'personal-identifiers', counterparty = 'parent') =>
      store.meter({ counterparty, batches: [{ dataType, refs }], at, since: at - 365 * DAY, limits });

    it('counts distinct persons per counterparty and data type, and refuses a batch over the limit whole', async () => {
      expect(await meter(['a', 'b', 'a'], T0)).toEqual({ ok: true, totals: { 'personal-identifiers': 2 } });
      expect(await meter(['a', 'b'], T0 + 1)).toEqual({ ok: true, totals: { 'personal-identifiers': 2 } });
      expect(await meter(['c', 'd'], T0 + 2)).toEqual({
        ok: false,
        dataType: 'personal-identifiers',
        total: 4,
        limit: 3,
      });
      expect(await meter(['c'], T0 + 3)).toEqual({ ok: true, totals: { 'personal-identifiers': 3 } });
      expect(await meter(['x', 'y', 'z', 'w'], T0, 'personal-identifiers', 'other')).toMatchObject({
        ok: false,
      });
      expect(await store.totals(T0 - DAY)).toEqual([
        { counterparty: 'parent', dataType: 'personal-identifiers', persons: 3 },
      ]);
    });

    it('refuses every data type of a batch when one is over, and counts none of it', async () => {
      const r = await store.meter({
        counterparty: 'parent',
        batches: [
          { dataType: 'personal-identifiers', refs: ['a'] },
          { dataType: 'health', refs: ['a', 'b'] },
        ],
        at: T0,
        since: T0 - 365 * DAY,
        limits,
      });
      expect(r).toMatchObject({ ok: false, dataType: 'health' });
      expect(await store.totals(0)).toEqual([]);
    });

    it('lets persons leave the window a year after their last send', async () => {
      await meter(['a', 'b', 'c'], T0);
      expect((await meter(['d'], T0 + 100 * DAY)).ok).toBe(false);
      await meter(['a'], T0 + 200 * DAY);
      const later = T0 + 366 * DAY;
      expect(await store.totals(later - 365 * DAY)).toEqual([
        { counterparty: 'parent', dataType: 'personal-identifiers', persons: 1 },
      ]);
      expect(await meter(['d', 'e'], later)).toEqual({ ok: true, totals: { 'personal-identifiers': 3 } });
    });

    it('keeps flow proposals and activates one only when approved and the base version still holds', async () => {
      await store.createFlowProposal(proposal('flw_a', T0));
      await store.createFlowProposal(proposal('flw_b', T0 + 1));
      expect((await store.listFlowProposals(undefined, 10)).map((p) => p.id)).toEqual(['flw_b', 'flw_a']);
      expect(await store.getFlowProposal('flw_a')).toEqual(proposal('flw_a', T0));
      expect(await store.getFlowProposal('nope')).toBeUndefined();
      const flow = {
        flowId: 'f1',
        version: 'sha256:flw_a',
        declaration: '{"id":"f1"}',
        proposalId: 'flw_a',
        activatedAt: T0 + 5,
        activatedBy: 'custodian-officer',
      };
      expect(await store.activateFlow(flow, undefined)).toBe(false);
      expect(
        await store.setFlowProposalState('flw_a', ['pending'], 'approved', T0 + 2, 'custodian-approver'),
      ).toBe(true);
      expect(await store.setFlowProposalState('flw_a', ['pending'], 'approved', T0 + 2, 'x')).toBe(false);
      expect(await store.listFlowProposals('approved', 10)).toMatchObject([
        { id: 'flw_a', state: 'approved', decidedAt: T0 + 2, decidedBy: 'custodian-approver' },
      ]);
      expect(await store.activateFlow(flow, 'sha256:other')).toBe(false);
      expect(await store.activateFlow(flow, undefined)).toBe(true);
      expect(await store.activeFlows()).toEqual([flow]);
      expect((await store.getFlowProposal('flw_a'))?.state).toBe('active');
      await store.setFlowProposalState('flw_b', ['pending'], 'approved', T0 + 6, 'custodian-approver');
      const next = { ...flow, version: 'sha256:flw_b', proposalId: 'flw_b' };
      expect(await store.activateFlow(next, undefined)).toBe(false);
      expect(await store.activateFlow(next, 'sha256:flw_a')).toBe(true);
      expect((await store.activeFlows()).map((f) => f.version)).toEqual(['sha256:flw_b']);
    });
  });
}
