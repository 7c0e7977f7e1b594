import type { LedgerEntry } from '@custos/verify';
import { issueToken } from '../src/services/auth/authenticator.js';
import { readEntries } from '../src/services/gatekeeping/what-if.js';
import { DEMO_PRINCIPALS, type GatewayWorld, gatewayWorld } from './gateway-helpers.js';
import { TestClock } from './helpers.js';

/** The demo principals gatekeeping adds. */
export const GATEKEEPING_PRINCIPALS = [
  'custodian-approver-2',
  'custodian-approver-3',
  'custodian-oncall',
  'operator-supervisor',
] as const;

/** A gateway world on an injected clock, with tokens for every demo principal. */
export interface GatekeepingWorld extends GatewayWorld {
  readonly clock: TestClock;
  /** Re-issues every token at the clock's time (after moving the clock past their expiry). */
  retoken(): Promise<void>;
  /** Every ledger entry so far. */
  entries(): Promise<{ index: number; entry: LedgerEntry }[]>;
}

/** Builds a seeded demo world whose clock the test drives. */
export async function gatekeepingWorld(
  subjects = 10,
  options: Parameters<typeof gatewayWorld>[1] = {},
): Promise<GatekeepingWorld> {
  const clock = new TestClock();
  const w = await gatewayWorld(subjects, { clock, ...options });
  const key = w.custos.tokenKey?.privateKey;
  if (!key) throw new Error('no embedded key');
  const retoken = async (): Promise<void> => {
    for (const p of [...DEMO_PRINCIPALS, ...GATEKEEPING_PRINCIPALS]) {
      if (w.custos.config.principals.some((x) => x.id === p))
        w.tokens[p] = await issueToken(w.custos.config, key, p, 3600, clock.now());
    }
  };
  await retoken();
  return Object.assign(w, {
    clock,
    retoken,
    async entries() {
      const out: { index: number; entry: LedgerEntry }[] = [];
      for await (const e of readEntries(w.custos.ledger, 0, w.custos.ledger.size)) out.push(e);
      return out;
    },
  });
}

/** A request body for one subject's collection. */
export function requestBody(
  subjects: string[] | { jurisdiction: string },
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    scope: { collections: ['messages'], subjects, actions: ['read'] },
    purpose: 'SUPPORT_TICKET',
    detail: 'the user reports missing messages',
    ticket: 'SUP-4711',
    durationHours: 2,
    ...extra,
  };
}
