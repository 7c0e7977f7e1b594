import type { FlowSpec } from '../../../domain/egress-config.js';

/**
 * POST /v1/flows/proposals. The declaration itself is checked by the flow schema (zod) and against
 * the configuration, which report every problem with its path (`flow.fields[2].rule: …`).
 */
export const flowProposalBody = {
  type: 'object',
  required: ['flow', 'summary'],
  additionalProperties: false,
  properties: {
    summary: { type: 'string', minLength: 1, maxLength: 1000 },
    flow: {
      type: 'object',
      description: 'a flow declaration, as under egress.flows[] in custos.yaml (docs/egress.md)',
      additionalProperties: true,
      maxProperties: 32,
    },
  },
} as const;

/** A flow in force as shown by GET /v1/flows: the declaration, never data. */
export function flowView(f: FlowSpec): Record<string, unknown> {
  return {
    id: f.id,
    destination: f.destination,
    destinationJurisdiction: f.destinationJurisdiction,
    purpose: f.purpose,
    sources: f.sources,
    jurisdictions: f.jurisdictions,
    fields: f.fields,
    subject: f.subject,
    aggregate: f.aggregate,
    limits: f.limits,
    expires: new Date(f.expiresAt).toISOString(),
    version: f.version,
    origin: f.origin,
  };
}
