import { CustosError, isCustosError } from '../../domain/errors.js';
import type { DatasetSpec } from '../../domain/migration-config.js';
import type { MigratedRecord } from '../../ports/migration-state.js';
import { openRecord } from '../envelope.js';
import type { MigrationContext } from './migration-context.js';
import { recordDigest } from './source-record.js';

function mismatch(dataset: DatasetSpec, what: string): CustosError {
  return new CustosError('MIGRATION_VERIFY_FAILED', `dataset ${dataset.id}: ${what}`, {
    details: [`${dataset.id}: ${what}`],
  });
}

/**
 * Reads records back from their target stores, decrypts them and compares the digest of the
 * canonical plaintext with the expected one. Any difference, missing record or failed decryption
 * is `MIGRATION_VERIFY_FAILED`: the caller then neither counts the batch nor deletes anything.
 */
export async function verifyAtTarget(
  ctx: MigrationContext,
  dataset: DatasetSpec,
  records: readonly Pick<MigratedRecord, 'seq' | 'subject' | 'id' | 'digest' | 'store'>[],
): Promise<void> {
  for (const r of records) {
    const store = ctx.stores.get(r.store);
    if (store === undefined) throw mismatch(dataset, `target store "${r.store}" is not open`);
    const stored = await store.get(r.subject, dataset.collection, r.id);
    if (stored === undefined) throw mismatch(dataset, `record #${r.seq} is missing at ${r.store}`);
    let plain: Buffer;
    try {
      const key =
        ctx.subjects.peek(r.subject)?.keys.get(stored.keyVersion) ??
        (await ctx.subjects.keyVersion(r.subject, stored.keyVersion));
      plain = openRecord(
        key,
        { id: r.id, subject: r.subject, collection: dataset.collection, keyVersion: stored.keyVersion },
        stored.sealed,
      );
    } catch (err) {
      if (isCustosError(err, 'STORE_UNAVAILABLE') || isCustosError(err, 'KEY_UNAVAILABLE')) throw err;
      throw mismatch(dataset, `record #${r.seq} at ${r.store} cannot be decrypted`);
    }
    if (!recordDigest(dataset.collection, r.subject, r.id, plain).equals(r.digest)) {
      throw mismatch(dataset, `record #${r.seq} at ${r.store} differs from the source`);
    }
  }
}

/**
 * The digest of what the target already holds under (collection, subject, id): undefined when it
 * holds nothing, `unreadable` when the record cannot be opened. Migration writes only where this
 * is undefined (insert-if-absent): a different record there is a conflict, never overwritten.
 */
export async function digestAtTarget(
  ctx: MigrationContext,
  dataset: DatasetSpec,
  store: string,
  subject: string,
  id: string,
): Promise<Buffer | 'unreadable' | undefined> {
  const target = ctx.stores.get(store);
  if (target === undefined) throw mismatch(dataset, `target store "${store}" is not open`);
  const stored = target.getNow
    ? target.getNow(subject, dataset.collection, id)
    : await target.get(subject, dataset.collection, id);
  if (stored === undefined) return undefined;
  try {
    const key =
      ctx.subjects.peek(subject)?.keys.get(stored.keyVersion) ??
      (await ctx.subjects.keyVersion(subject, stored.keyVersion));
    const plain = openRecord(
      key,
      { id, subject, collection: dataset.collection, keyVersion: stored.keyVersion },
      stored.sealed,
    );
    return recordDigest(dataset.collection, subject, id, plain);
  } catch (err) {
    if (isCustosError(err, 'STORE_UNAVAILABLE')) throw err;
    return 'unreadable';
  }
}
