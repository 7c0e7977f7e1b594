import type { OrgKind } from './config-schema.js';

/** An authenticated principal, as the gateway and policies see it. */
export interface Principal {
  readonly id: string;
  readonly org: string;
  readonly orgKind: OrgKind;
  readonly roles: readonly string[];
  readonly kind: 'person' | 'service';
  /** The jurisdiction a service principal serves; empty when none. */
  readonly jurisdiction: string;
  /** Release digest claimed by a service principal (checked by release attestation). */
  readonly release: string | undefined;
}
