import { createHash } from 'node:crypto';
import { CustosError } from '../../domain/errors.js';
import type { DatasetSpec } from '../../domain/migration-config.js';
import type { SourceItem, SourceRow } from '../../ports/migration-source.js';

/** A source row mapped onto its collection: what gets sealed, and the digest it is verified by. */
export interface SourceRecord {
  readonly at: string;
  readonly key: string;
  readonly subject: string;
  readonly id: string;
  /** The fields as canonical JSON (RFC 8785: members in code unit order, scalars only). */
  readonly plaintext: Buffer;
  readonly digest: Buffer;
  /** Source columns neither mapped (id, subject, fields) nor listed in `discard`. */
  readonly unmapped: readonly string[];
}

/** A row's columns that are neither mapped nor deliberately discarded: deleting them loses data. */
export function unmappedColumns(dataset: DatasetSpec, row: SourceRow): string[] {
  const out: string[] = [];
  for (const c of Object.keys(row)) {
    if (c === dataset.idField || c === dataset.subjectField || dataset.discard.includes(c)) continue;
    if (!dataset.fields.some((f) => f.from === c)) out.push(c);
  }
  return out;
}

const RECORD_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** The coded error for a bad source record: names the source, the dataset and where the record is. */
export function invalidRecord(dataset: DatasetSpec, at: string, why: string): CustosError {
  return new CustosError(
    'MIGRATION_RECORD_INVALID',
    `source "${dataset.source}", dataset ${dataset.id}, record at ${at}: ${why}`,
    { details: [`${dataset.id} ${at}: ${why}`] },
  );
}

function asId(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value === 'bigint') return String(value);
  return undefined;
}

/**
 * SHA-256 of a record's canonical JSON, `{"collection":…,"fields":…,"id":…,"subject":…}`. The
 * members are in RFC 8785 order and `fields` is already canonical, so this is exactly the JCS form
 * an auditor recomputes, without a second serialisation.
 */
export function recordDigest(collection: string, subject: string, id: string, plaintext: Uint8Array): Buffer {
  return createHash('sha256')
    .update(`{"collection":${JSON.stringify(collection)},"fields":`)
    .update(plaintext)
    .update(`,"id":${JSON.stringify(id)},"subject":${JSON.stringify(subject)}}`)
    .digest();
}

/** Maps a source row onto the dataset's collection; throws `MIGRATION_RECORD_INVALID`. */
export function toSourceRecord(dataset: DatasetSpec, item: SourceItem): SourceRecord {
  if (item.row === undefined) throw invalidRecord(dataset, item.at, item.error ?? 'unreadable row');
  return mapRow(dataset, item.row, item.at, item.key);
}

/** Maps a parsed row (see `toSourceRecord`). */
export function mapRow(dataset: DatasetSpec, row: SourceRow, at: string, key: string): SourceRecord {
  const subject = asId(row[dataset.subjectField]);
  if (subject === undefined) throw invalidRecord(dataset, at, `missing subject id (${dataset.subjectField})`);
  const id = asId(row[dataset.idField]);
  if (id === undefined || !RECORD_ID.test(id)) {
    throw invalidRecord(dataset, at, `missing or invalid record id (${dataset.idField})`);
  }
  const fields: Record<string, string | number | boolean | null> = {};
  for (const f of dataset.fields) {
    const v = row[f.from];
    if (v === undefined) continue;
    if (v === null || typeof v === 'string' || typeof v === 'boolean') fields[f.name] = v;
    else if (typeof v === 'number' && Number.isFinite(v)) fields[f.name] = v;
    else if (typeof v === 'bigint' && Number.isSafeInteger(Number(v))) fields[f.name] = Number(v);
    else throw invalidRecord(dataset, at, `field "${f.from}" is not a string, number, boolean or null`);
  }
  const plaintext = Buffer.from(JSON.stringify(fields));
  return {
    at,
    key,
    subject,
    id,
    plaintext,
    digest: recordDigest(dataset.collection, subject, id, plaintext),
    unmapped: unmappedColumns(dataset, row),
  };
}
