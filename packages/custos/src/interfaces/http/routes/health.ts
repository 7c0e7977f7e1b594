import type { FastifyInstance } from 'fastify';
import type { Custos } from '../../../composition-root.js';

const statusSchema = {
  type: 'object',
  properties: {
    status: { type: 'string' },
    checks: { type: 'object', additionalProperties: { type: 'string' } },
  },
} as const;

/** `/healthz` (the process is alive) and `/readyz` (every dependency answers). */
export function registerHealthRoutes(app: FastifyInstance, custos: Custos): void {
  app.get(
    '/healthz',
    { schema: { summary: 'Liveness', tags: ['health'], response: { 200: statusSchema } } },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      schema: { summary: 'Readiness', tags: ['health'], response: { 200: statusSchema, 503: statusSchema } },
    },
    async (_req, reply) => {
      const checks: Record<string, string> = {};
      let ready = true;
      try {
        await custos.subjectStore.get('readiness-probe');
        checks.custody = 'ok';
      } catch {
        checks.custody = 'unavailable';
        ready = false;
      }
      checks.ledger = (await custos.ledger.isWritable()) ? 'ok' : 'unavailable';
      if (checks.ledger !== 'ok') ready = false;
      // Without a Cedar engine every decision is a deny: not ready.
      checks.policy = custos.authorizer.available ? 'ok' : 'unavailable';
      if (checks.policy !== 'ok') ready = false;
      for (const [id, store] of custos.stores) {
        try {
          await store.scan(undefined, 1);
          checks[`store:${id}`] = 'ok';
        } catch {
          checks[`store:${id}`] = 'unavailable';
          ready = false;
        }
      }
      return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unready', checks });
    },
  );
}
