import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { Custos } from '../../composition-root.js';
import { answerClientError } from './client-error.js';
import { installErrorHandler, sendError } from './error-handler.js';
import { installLedgerGuard } from './ledger-guard.js';
import { fixOpenApi } from './openapi-fixes.js';
import { installAuthentication, installJsonParser, installQueryDefault } from './request-context.js';
import { registerAccessRoutes } from './routes/access.js';
import { registerEgressRoutes } from './routes/egress.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerLedgerRoutes } from './routes/ledger.js';
import { registerPolicyProposalRoutes } from './routes/policy-proposals.js';
import { registerRecordRoutes } from './routes/records.js';

/** Options for the HTTP interface. */
export interface ServerOptions {
  /**
   * Logging, as JSON lines: `true` logs every request and answer, `'errors'` only failures (what
   * `custos serve` does without `--log`); absent or false logs nothing (tests).
   */
  readonly logger?: boolean | 'errors';
  /** Where log lines go (default: standard output). */
  readonly logStream?: { write(line: string): void };
  /** Registers extra routes before the server is sealed (benchmarks' baseline routes). */
  readonly extraRoutes?: (app: FastifyInstance) => void;
}

/**
 * The logger's settings. Requests are logged by their route pattern, never their URL: paths carry
 * subject ids, record ids and cursors, which the log must not hold.
 */
function loggerOptions(options: ServerOptions): FastifyServerOptions['logger'] {
  if (!options.logger) return false;
  return {
    level: options.logger === 'errors' ? 'error' : 'info',
    ...(options.logStream ? { stream: options.logStream } : {}),
    redact: ['req.headers.authorization'],
    serializers: {
      req: (request: FastifyRequest) => ({
        method: request.method,
        route: request.routeOptions?.url ?? '(no route)',
        remoteAddress: request.ip,
      }),
    },
  };
}

/** Builds the Fastify app for a composed Custos (not yet listening). */
export async function createServer(custos: Custos, options: ServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: loggerOptions(options),
    bodyLimit: custos.config.server.bodyLimit,
    // Ids are validated by route schemas; keep the router strict about what it accepts.
    routerOptions: { maxParamLength: 200, ignoreTrailingSlash: false },
    // A HEAD would run the GET handler: a real, recorded read. No route needs one (tlog-tiles
    // clients use GET), so HEAD is a coded 404 like any other unknown route.
    exposeHeadRoutes: false,
    // The router's and Node's own refusals get coded bodies that never quote the URL or headers.
    frameworkErrors: sendError,
    clientErrorHandler: answerClientError,
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false, allowUnionTypes: true },
    },
  });
  installErrorHandler(app);
  installJsonParser(app);
  installQueryDefault(app);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Custos',
        version: '0.1.0',
        description: 'Data-custody gateway: residency-pinned storage, verifiable access ledger, gateway.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    transformObject: fixOpenApi,
  });
  registerHealthRoutes(app, custos);
  installAuthentication(app, custos);
  installLedgerGuard(app, custos);
  registerLedgerRoutes(app, custos);
  registerRecordRoutes(app, custos);
  registerAccessRoutes(app, custos);
  registerPolicyProposalRoutes(app, custos);
  registerEgressRoutes(app, custos);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  options.extraRoutes?.(app);
  await app.ready();
  return app;
}
