import type { FastifyInstance } from 'fastify';
import type { Custos } from '../src/composition-root.js';
import { seedDemo } from '../src/demo/demo-seed.js';
import { createServer } from '../src/interfaces/http/server.js';
import { issueToken } from '../src/services/auth/authenticator.js';
import { demoCustos } from './helpers.js';

/** The demo principals. */
export const DEMO_PRINCIPALS = [
  'custodian-officer',
  'custodian-approver',
  'operator-app',
  'operator-engineer',
  'parent-engineer',
  'auditor',
] as const;

/** A demo world with a server and a token per demo principal. */
export interface GatewayWorld {
  readonly custos: Custos;
  readonly app: FastifyInstance;
  readonly tokens: Record<string, string>;
  readonly dir: string;
  close(): Promise<void>;
}

/** Builds a seeded demo world (subjects) and an in-process server. */
export async function gatewayWorld(
  subjects = 10,
  options: Parameters<typeof demoCustos>[0] = {},
): Promise<GatewayWorld> {
  const { custos, dir, cleanup } = await demoCustos(options);
  await seedDemo(custos, subjects);
  const app = await createServer(custos);
  const tokens: Record<string, string> = {};
  const key = custos.tokenKey?.privateKey;
  if (!key) throw new Error('no embedded key');
  for (const p of DEMO_PRINCIPALS)
    tokens[p] = await issueToken(custos.config, key, p, 3600, custos.clock.now());
  return {
    custos,
    app,
    tokens,
    dir,
    async close() {
      await app.close();
      await cleanup();
    },
  };
}

/** Headers for a request as `principal` with `purpose`. */
export function as(world: GatewayWorld, principal: string, purpose?: string): Record<string, string> {
  const h: Record<string, string> = { authorization: `Bearer ${world.tokens[principal]}` };
  if (purpose !== undefined) h['custos-purpose'] = purpose;
  return h;
}
