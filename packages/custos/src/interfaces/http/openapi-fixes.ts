import type { SwaggerTransformObject } from '@fastify/swagger';
import { PURPOSE_HEADER } from './request-context.js';

interface Operation {
  requestBody?: { required?: boolean; content?: Record<string, { schema?: { type?: unknown } }> };
  parameters?: { in?: string; name?: string; required?: boolean }[];
}

/** True when every content type of a request body admits `null`: the route reads it as optional. */
function optionalBody(op: Operation): boolean {
  const media = Object.values(op.requestBody?.content ?? {});
  return (
    media.length > 0 && media.every((m) => Array.isArray(m.schema?.type) && m.schema.type.includes('null'))
  );
}

/**
 * Corrects what @fastify/swagger cannot infer from route schemas:
 * - it marks every request body required; bodies whose schema admits `null` are optional (an
 *   empty body is read as `{}`).
 * - the purpose header is validated by the access service (which records a refusal), not the
 *   schema, so the schema leaves it optional; every route that declares it refuses without it.
 */
export const fixOpenApi: SwaggerTransformObject = (doc) => {
  if (!('openapiObject' in doc)) return doc.swaggerObject;
  const api = doc.openapiObject;
  for (const item of Object.values(api.paths ?? {})) {
    for (const op of Object.values(item ?? {}) as Operation[]) {
      if (typeof op !== 'object' || op === null) continue;
      if (op.requestBody && optionalBody(op)) op.requestBody.required = false;
      for (const p of op.parameters ?? [])
        if (p.in === 'header' && p.name === PURPOSE_HEADER) p.required = true;
    }
  }
  return api;
};
