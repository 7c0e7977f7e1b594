import { createHash } from 'node:crypto';
import { CustosError } from '../../domain/errors.js';
import type { Principal } from '../../domain/principal.js';
import type { StoredRecord } from '../../ports/record-store.js';
import type { AccessService, Receipted, ServedRecord } from './access-service.js';

/** Digest of the served record ids (`subject/id` lines), recorded with a listing instead of the ids. */
export function digestIds(ids: readonly string[]): string {
  const h = createHash('sha256');
  for (const id of ids) h.update(`${id}\n`);
  return `sha256:${h.digest('hex')}`;
}

interface Cursor {
  /** Index into the list of stores being walked. */
  readonly s: number;
  readonly subject: string;
  readonly id: string;
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.s, c.subject, c.id])).toString('base64url');
}

function decodeCursor(text: string | undefined): Cursor | undefined {
  if (text === undefined || text === '') return undefined;
  try {
    const v = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (
      Array.isArray(v) &&
      v.length === 3 &&
      Number.isSafeInteger(v[0]) &&
      v[0] >= 0 &&
      typeof v[1] === 'string' &&
      typeof v[2] === 'string'
    ) {
      return { s: v[0] as number, subject: v[1], id: v[2] };
    }
  } catch {
    // fall through
  }
  throw new CustosError('VALIDATION_FAILED', 'invalid cursor');
}

/**
 * Answers "which records of this collection may this principal see": the allowed jurisdictions are
 * decided first (one class decision each), and only the stores residency allows for them are read.
 * Rows of other jurisdictions sharing a store are skipped before decryption. A denial is recorded
 * before refusing; an allowed listing is recorded (count and digest of ids) before anything is returned.
 */
export async function listAccessible(
  svc: AccessService,
  principal: Principal,
  purpose: string,
  collection: string,
  query: { subject?: string | undefined; cursor?: string | undefined; limit: number },
  purposes: ReadonlySet<string>,
): Promise<Receipted<{ records: ServedRecord[]; nextCursor: string | undefined }>> {
  const { config, authorizer, router, ledger, masker, subjectStore, subjects } = svc.deps;
  const spec = router.collection(collection);
  const base = { collection, category: spec.category };
  if (!purposes.has(purpose)) {
    const index = await svc.record(
      principal,
      'list',
      { allow: false, reasons: ['purpose-invalid'] },
      base,
      purpose,
    );
    throw new CustosError('PURPOSE_INVALID', 'the Custos-Purpose header must name a configured purpose', {
      ledgerIndex: index,
    });
  }
  const cursor = decodeCursor(query.cursor);
  const grant =
    query.subject === undefined
      ? undefined
      : await svc.deps.grants(principal, 'list', collection, query.subject, purpose);
  let jurisdictions: string[];
  if (query.subject !== undefined) {
    const row = subjects.peek(query.subject)?.row ?? (await subjectStore.get(query.subject));
    jurisdictions = [row?.jurisdiction ?? 'unknown'];
  } else {
    jurisdictions = config.jurisdictions.map((j) => j.id);
  }
  const decisions = jurisdictions.map((j) => ({
    j,
    d: authorizer.decide({
      principal,
      action: 'list',
      collection,
      category: spec.category,
      jurisdiction: j,
      purpose,
      grant,
    }),
  }));
  const allowed = decisions.filter((x) => x.d.allow);
  const subjectRef = query.subject === undefined ? undefined : ledger.subjectRef(query.subject);
  if (allowed.length === 0) {
    const reasons = [
      ...new Set(decisions.flatMap((x) => (x.d.errors.length > 0 ? ['policy-error'] : x.d.reasons))),
    ];
    const index = await svc.record(
      principal,
      'list',
      { allow: false, reasons, policyVersion: authorizer.policyVersion },
      {
        ...base,
        ...(subjectRef ? { subjectRef } : {}),
        ...(jurisdictions.length === 1 ? { jurisdiction: jurisdictions[0] } : {}),
      },
      purpose,
    );
    throw new CustosError('ACCESS_DENIED', 'access denied by policy', {
      ledgerIndex: index,
      reasons: reasons.length ? reasons : ['default-deny'],
    });
  }
  const allowedSet = new Set(allowed.map((x) => x.j));
  const storeIds = [
    ...new Set(allowed.flatMap((x) => router.allowedStores(x.j, spec.category).map((s) => s.id))),
  ];
  const limit = query.limit;
  const served: ServedRecord[] = [];
  const plan = masker.plan(principal, purpose, collection);
  const usedGrant = allowed.some((x) => x.d.grantId !== undefined);
  const only = usedGrant && grant?.fields?.length ? new Set(grant.fields) : undefined;
  let next: Cursor | undefined;
  let s = cursor?.s ?? 0;
  let after = cursor ? { subject: cursor.subject, id: cursor.id } : undefined;
  while (s < storeIds.length && served.length < limit) {
    const store = svc.deps.records.adapter(storeIds[s] ?? '');
    const page: StoredRecord[] = await store.list({
      collection,
      subject: query.subject,
      after,
      limit: limit - served.length,
    });
    if (page.length === 0) {
      s++;
      after = undefined;
      continue;
    }
    const owners = await subjectStore.getMany([...new Set(page.map((r) => r.subject))]);
    for (const r of page) {
      const owner = owners.get(r.subject);
      if (!owner || owner.erasedAt !== undefined || !allowedSet.has(owner.jurisdiction)) continue;
      const plain = await svc.deps.records.openStored(r);
      served.push({ subject: r.subject, collection, id: r.id, fields: masker.apply(plan, plain, only) });
    }
    const last = page[page.length - 1];
    after = last ? { subject: last.subject, id: last.id } : undefined;
    if (served.length >= limit && after) next = { s, ...after };
  }
  const grantId = allowed.find((x) => x.d.grantId !== undefined)?.d.grantId;
  const reasons = [...new Set(allowed.flatMap((x) => x.d.reasons))];
  const index = await svc.record(
    principal,
    'list',
    { allow: true, reasons, policyVersion: authorizer.policyVersion, grantId },
    {
      ...base,
      ...(subjectRef ? { subjectRef } : {}),
      ...(allowed.length === 1 ? { jurisdiction: allowed[0]?.j } : {}),
      count: served.length,
    },
    purpose,
    { digest: digestIds(served.map((r) => `${r.subject}/${r.id}`)), jurisdictions: [...allowedSet] },
  );
  return {
    value: { records: served, nextCursor: next ? encodeCursor(next) : undefined },
    ledgerIndex: index,
  };
}
