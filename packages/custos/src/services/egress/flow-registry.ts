import type { CustosConfig } from '../../domain/config.js';
import { checkFlow, type FlowSpec, type FlowWorld, toFlowSpec } from '../../domain/egress-config.js';
import { flowSchema } from '../../domain/egress-config-schema.js';
import { CustosError } from '../../domain/errors.js';
import { formatPath } from '../../domain/load-config.js';
import type { EgressStore } from '../../ports/egress-store.js';

/**
 * The flows in force: those declared in the configuration, replaced or joined by those activated
 * through governance. Governed flows are read from the store on every lookup, so a flow activated
 * by another gateway instance is in force here at once.
 */
export class FlowRegistry {
  /** What flow declarations are checked against. */
  readonly world: FlowWorld;

  constructor(
    private readonly config: CustosConfig,
    private readonly store: EgressStore,
  ) {
    this.world = {
      organisations: config.organisations,
      jurisdictions: config.jurisdictions,
      collectionFields: new Map(config.collections.map((c) => [c.id, new Set(c.fields.map((f) => f.name))])),
    };
  }

  /**
   * Parses and checks a declaration (from a proposal or the store); VALIDATION_FAILED lists every
   * problem with its path under `at`.
   */
  parse(declaration: unknown, at = 'flow'): FlowSpec {
    const parsed = flowSchema.safeParse(declaration);
    if (!parsed.success) {
      const details = parsed.error.issues.map((i) =>
        i.code === 'unrecognized_keys'
          ? `${formatPath([at, ...i.path])}: unknown key(s) ${i.keys.join(', ')}`
          : `${formatPath([at, ...i.path])}: ${i.message}`,
      );
      throw new CustosError('VALIDATION_FAILED', 'the flow declaration is invalid', { details });
    }
    const problems = checkFlow(this.world, parsed.data, at);
    if (problems.length > 0)
      throw new CustosError('VALIDATION_FAILED', 'the flow declaration is invalid', { details: problems });
    return toFlowSpec(
      parsed.data,
      {
        jurisdictions: this.config.jurisdictions.map((j) => j.id),
        thresholds: this.config.egress.thresholds,
      },
      'governance',
    );
  }

  /** Every flow in force, by id. */
  async all(): Promise<Map<string, FlowSpec>> {
    const flows = new Map(this.config.egress.flows.map((f) => [f.id, f]));
    for (const stored of await this.store.activeFlows()) {
      try {
        flows.set(stored.flowId, this.parse(JSON.parse(stored.declaration)));
      } catch {
        // A governed flow that no longer fits the configuration is not in force (fail closed).
        flows.delete(stored.flowId);
      }
    }
    return flows;
  }

  /** The flow in force with this id, if any. */
  async get(id: string): Promise<FlowSpec | undefined> {
    return (await this.all()).get(id);
  }

  /** The stored version of a governed flow (what a change's activation must still find). */
  async storedVersion(id: string): Promise<string | undefined> {
    return (await this.store.activeFlows()).find((f) => f.flowId === id)?.version;
  }
}
