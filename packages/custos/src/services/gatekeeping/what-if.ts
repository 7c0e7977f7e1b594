import { decodeEntryBundle, type LedgerEntry, TILE_WIDTH } from '@custos/verify';
import type { CustosConfig } from '../../domain/config.js';
import type { Category } from '../../domain/config-schema.js';
import type { Principal } from '../../domain/principal.js';
import type { LedgerTile } from '../ledger/ledger-reader.js';
import type { Authorizer } from '../policy/authorizer.js';
import type { RecordAction } from '../policy/cedar-engine.js';

/** The part of the ledger a replay reads: committed entries, a bundle at a time. */
export interface EntrySource {
  readonly size: number;
  entryBundle(index: number, width: number): Promise<LedgerTile | undefined>;
}

/** One past decision that the proposed policies would decide the other way. */
export interface WhatIfChange {
  readonly index: number;
  readonly time: string;
  readonly principal: string;
  readonly orgKind: string;
  readonly action: string;
  readonly collection: string | undefined;
  readonly jurisdiction: string | undefined;
  readonly purpose: string;
  readonly grantId: string | undefined;
  readonly recorded: 'allow' | 'deny';
  readonly proposed: 'allow' | 'deny';
  /** Policies that decided under the proposal. */
  readonly reasons: readonly string[];
}

/** The outcome of a replay. */
export interface WhatIfReport {
  /** Ledger indexes replayed: [from, to). */
  readonly from: number;
  readonly to: number;
  /** Access decisions re-decided. */
  readonly replayed: number;
  /** Access entries that are not policy decisions (invalid purpose) or lack the facts to replay. */
  readonly skipped: number;
  readonly changes: readonly WhatIfChange[];
}

const RECORD_ACTIONS = new Set(['read', 'list', 'write', 'delete']);

/** Reads the committed entries [from, to) in bundles. */
export async function* readEntries(
  source: EntrySource,
  from: number,
  to: number,
): AsyncGenerator<{ index: number; entry: LedgerEntry }> {
  const decoder = new TextDecoder();
  for (let tile = Math.floor(from / TILE_WIDTH); tile * TILE_WIDTH < to; tile++) {
    const start = tile * TILE_WIDTH;
    const bundle = await source.entryBundle(tile, Math.min(TILE_WIDTH, source.size - start));
    if (!bundle) return;
    const entries = decodeEntryBundle(bundle.bytes);
    for (let k = Math.max(0, from - start); k < entries.length && start + k < to; k++) {
      yield { index: start + k, entry: JSON.parse(decoder.decode(entries[k])) as LedgerEntry };
    }
  }
}

/**
 * The principal of an access entry as the decision saw it: roles, kind and jurisdiction come from
 * the entry's details (recorded since gatekeeping), else from the principal's declaration.
 */
export function principalOfEntry(e: LedgerEntry, config: CustosConfig): Principal | undefined {
  if (e.principal.orgKind === 'system') return undefined;
  const d = e.details ?? {};
  const declared = config.principals.find((p) => p.id === e.principal.id);
  const recorded = Array.isArray(d.principalRoles);
  const roles = recorded ? (d.principalRoles as string[]) : declared?.roles;
  const kind =
    d.principalKind === 'person' || d.principalKind === 'service' ? d.principalKind : declared?.kind;
  if (roles === undefined || kind === undefined) return undefined;
  const jurisdiction =
    typeof d.principalJurisdiction === 'string'
      ? d.principalJurisdiction
      : recorded
        ? ''
        : (declared?.jurisdiction ?? '');
  return {
    id: e.principal.id,
    org: e.principal.org,
    orgKind: e.principal.orgKind,
    roles,
    kind,
    jurisdiction,
    release: e.release,
  };
}

/**
 * Re-decides one access entry with `authorizer`. Undefined when the entry is not a replayable
 * policy decision. A grant is part of the replay when the recorded decision used it (its id is in
 * the entry); a listing recorded without a jurisdiction is allowed when any jurisdiction is.
 */
export async function redecide(
  e: LedgerEntry,
  config: CustosConfig,
  authorizer: Authorizer,
  breakGlass: (grantId: string) => Promise<boolean>,
): Promise<{ allow: boolean; reasons: readonly string[] } | undefined> {
  if (e.type !== 'access' || (e.decision !== 'allow' && e.decision !== 'deny')) return undefined;
  if (e.reasons.includes('purpose-invalid')) return undefined;
  const principal = principalOfEntry(e, config);
  if (!principal) return undefined;
  const purpose = e.purpose ?? '';
  if (e.action === 'readLedger') return authorizer.decideLedger(principal, purpose);
  const { collection, category } = e.resource;
  if (!RECORD_ACTIONS.has(e.action) || collection === undefined || category === undefined) return undefined;
  const grant =
    e.grantId === undefined
      ? undefined
      : { id: e.grantId, collection, breakGlass: await breakGlass(e.grantId) };
  const jurisdictions = e.resource.jurisdiction
    ? [e.resource.jurisdiction]
    : config.jurisdictions.map((j) => j.id);
  const reasons = new Set<string>();
  let allow = false;
  for (const jurisdiction of jurisdictions) {
    const d = authorizer.decide({
      principal,
      action: e.action as RecordAction,
      collection,
      category: category as Category,
      jurisdiction,
      purpose,
      grant,
    });
    if (d.allow) allow = true;
    for (const r of d.reasons) reasons.add(r);
  }
  return { allow, reasons: [...reasons] };
}

/** Replays the last `last` ledger entries against `authorizer`; lists every decision that would flip. */
export async function whatIf(
  source: EntrySource,
  last: number,
  config: CustosConfig,
  authorizer: Authorizer,
  breakGlass: (grantId: string) => Promise<boolean>,
): Promise<WhatIfReport> {
  const to = source.size;
  const from = Math.max(0, to - last);
  let replayed = 0;
  let skipped = 0;
  const changes: WhatIfChange[] = [];
  for await (const { index, entry: e } of readEntries(source, from, to)) {
    if (e.type !== 'access') continue;
    const d = await redecide(e, config, authorizer, breakGlass);
    if (!d) {
      skipped++;
      continue;
    }
    replayed++;
    if (d.allow === (e.decision === 'allow')) continue;
    changes.push({
      index,
      time: e.time,
      principal: e.principal.id,
      orgKind: e.principal.orgKind,
      action: e.action,
      collection: e.resource.collection,
      jurisdiction: e.resource.jurisdiction,
      purpose: e.purpose ?? '',
      grantId: e.grantId,
      recorded: e.decision === 'allow' ? 'allow' : 'deny',
      proposed: d.allow ? 'allow' : 'deny',
      reasons: d.reasons,
    });
  }
  return { from, to, replayed, skipped, changes };
}
