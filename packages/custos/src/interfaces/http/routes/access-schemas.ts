/** JSON schemas of the gatekeeping routes (request bodies are strict: unknown keys are refused). */

/** An id in a path: request, grant or proposal. */
export const idParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$' } },
} as const;

const name = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$' } as const;

/** A request's scope. */
export const scopeSchema = {
  type: 'object',
  required: ['collections', 'subjects'],
  additionalProperties: false,
  properties: {
    collections: { type: 'array', items: name, minItems: 1, maxItems: 32 },
    subjects: {
      description:
        'a list of subject ids, or {"jurisdiction": "US"} for every subject of a jurisdiction (bulk)',
      anyOf: [
        { type: 'array', items: name, minItems: 1, maxItems: 1000 },
        {
          type: 'object',
          required: ['jurisdiction'],
          additionalProperties: false,
          properties: { jurisdiction: name },
        },
      ],
    },
    fields: { type: 'array', items: name, maxItems: 256 },
    actions: {
      type: 'array',
      items: { type: 'string', enum: ['read', 'list', 'write', 'delete'] },
      minItems: 1,
      maxItems: 4,
    },
  },
} as const;

const purpose = { type: 'string', minLength: 1, maxLength: 63 } as const;

/** POST /v1/access/requests */
export const createRequestBody = {
  type: 'object',
  required: ['scope', 'purpose', 'detail', 'durationHours'],
  additionalProperties: false,
  properties: {
    scope: scopeSchema,
    purpose,
    detail: { type: 'string', minLength: 1, maxLength: 4000, description: 'the justification' },
    ticket: { type: 'string', maxLength: 128 },
    durationHours: { type: 'number', exclusiveMinimum: 0, maximum: 8760 },
  },
} as const;

/** POST /v1/access/break-glass */
export const breakGlassBody = {
  type: 'object',
  required: ['scope', 'purpose'],
  additionalProperties: false,
  properties: {
    scope: scopeSchema,
    purpose,
    incident: { type: 'string', maxLength: 128, description: 'incident reference (required)' },
    detail: { type: 'string', maxLength: 4000 },
    durationMinutes: { type: 'number', exclusiveMinimum: 0, maximum: 1440 },
  },
} as const;

/** An optional body with one optional text field. */
export function noteBody(field: 'comment' | 'reason'): Record<string, unknown> {
  return {
    type: ['object', 'null'],
    additionalProperties: false,
    properties: { [field]: { type: 'string', maxLength: 1000 } },
  };
}

/** POST /v1/access/grants/{id}/review */
export const reviewBody = {
  type: 'object',
  required: ['verdict'],
  additionalProperties: false,
  properties: {
    verdict: { type: 'string', enum: ['justified', 'unjustified'] },
    note: { type: 'string', maxLength: 1000 },
  },
} as const;

/** `?state=&limit=` of the list routes. */
export function listQuery(states: readonly string[]): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      state: { type: 'string', enum: [...states] },
      limit: { type: 'string', pattern: '^([1-9][0-9]{0,2}|1000)$' },
    },
  };
}

/** POST /v1/policy/proposals */
export const proposalBody = {
  type: 'object',
  required: ['files', 'summary'],
  additionalProperties: false,
  properties: {
    summary: { type: 'string', minLength: 1, maxLength: 1000 },
    files: {
      type: 'array',
      minItems: 1,
      maxItems: 64,
      items: {
        type: 'object',
        required: ['name', 'text'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}\\.cedar$' },
          text: { type: 'string', maxLength: 262_144 },
        },
      },
    },
  },
} as const;

const errorBody = {
  type: 'object',
  properties: { code: { type: 'string' }, message: { type: 'string' } },
} as const;

/** Responses: views are documented in docs/gatekeeping.md and passed through as they are. */
export function responses(okStatus: 200 | 201, description: string): Record<number, unknown> {
  return {
    [okStatus]: { type: 'object', additionalProperties: true, description },
    400: errorBody,
    401: errorBody,
    403: errorBody,
    404: errorBody,
    409: errorBody,
    503: errorBody,
  };
}

/** Every gatekeeping route needs a bearer token. */
export const security = [{ bearer: [] }];
