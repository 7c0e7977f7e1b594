import { CustosError } from '../domain/errors.js';
import type { Clock } from '../ports/clock.js';
import type { RecordStore, StoredRecord } from '../ports/record-store.js';
import { openRecord, sealRecord } from './envelope.js';
import type { ResidencyRouter } from './residency-router.js';
import type { SubjectHandle, SubjectKeys } from './subject-keys.js';

/** A record's fields: flat JSON scalars keyed by declared field name. */
export type RecordFields = Readonly<Record<string, string | number | boolean | null>>;

/** A decrypted record with where it was found. */
export interface PlainRecord {
  readonly subject: string;
  readonly collection: string;
  readonly id: string;
  readonly fields: RecordFields;
  readonly store: string;
  readonly site: string;
}

/** Where a write landed. */
export interface WriteReceipt {
  readonly store: string;
  readonly site: string;
  readonly keyVersion: number;
}

const RECORD_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** How often a merge re-reads after losing its compare-and-set before answering RECORD_CONFLICT. */
const MERGE_ATTEMPTS = 8;

/**
 * Routed, encrypted record access: writes are sealed under the subject key and sent to the store
 * the residency router names; reads go to the allowed stores and are opened with the subject key.
 * Authorization and logging sit in front of this service (the gateway), not inside it.
 */
export class RecordService {
  constructor(
    private readonly router: ResidencyRouter,
    private readonly subjects: SubjectKeys,
    private readonly stores: ReadonlyMap<string, RecordStore>,
    private readonly clock: Clock,
  ) {}

  /** The adapter of an open store; throws `STORE_UNKNOWN`. */
  adapter(id: string): RecordStore {
    const store = this.stores.get(id);
    if (!store) throw new CustosError('STORE_UNKNOWN', `store "${id}" is not open`);
    return store;
  }

  private checkFields(collection: string, fields: RecordFields): void {
    const spec = this.router.collection(collection);
    const declared = new Set(spec.fields.map((f) => f.name));
    for (const [name, value] of Object.entries(fields)) {
      if (!declared.has(name))
        throw new CustosError('VALIDATION_FAILED', 'fields names a field the collection does not declare');
      const t = typeof value;
      if (value !== null && t !== 'string' && t !== 'number' && t !== 'boolean') {
        throw new CustosError(
          'VALIDATION_FAILED',
          `field "${name}" must be a string, number, boolean or null`,
        );
      }
    }
  }

  /** Validates a record id. */
  static checkId(id: string): void {
    if (!RECORD_ID.test(id)) throw new CustosError('VALIDATION_FAILED', 'invalid record id');
  }

  /** Encrypts and stores one record where residency allows; refuses with `RESIDENCY_VIOLATION` otherwise. */
  async put(
    subject: string,
    collection: string,
    id: string,
    fields: RecordFields,
    options: { store?: string } = {},
  ): Promise<WriteReceipt> {
    RecordService.checkId(id);
    const spec = this.router.collection(collection);
    this.checkFields(collection, fields);
    const key = await this.subjects.currentKey(subject);
    const target = this.router.storeForWrite(key.jurisdiction, spec.category, options.store);
    await this.adapter(target.id).put(this.sealed(subject, collection, id, key, fields));
    return { store: target.id, site: target.site, keyVersion: key.version };
  }

  /** A record sealed under the subject's current key, as a store keeps it. */
  private sealed(
    subject: string,
    collection: string,
    id: string,
    key: { readonly key: Uint8Array; readonly version: number },
    fields: RecordFields,
  ): StoredRecord {
    return {
      subject,
      collection,
      id,
      keyVersion: key.version,
      sealed: sealRecord(
        key.key,
        { id, subject, collection, keyVersion: key.version },
        Buffer.from(JSON.stringify(fields)),
      ),
      updatedAt: this.clock.now(),
    };
  }

  /**
   * Writes `fields` over a record's current fields and keeps the others (creating the record when
   * it is absent): the write a field-scoped grant allows. A read-modify-write on the store the
   * write goes to, committed by compare-and-set (`replace` on the sealed bytes read, `insertNew`
   * when there were none) and retried when another write landed in between, so a concurrent write
   * is never silently lost; RECORD_CONFLICT after MERGE_ATTEMPTS lost races.
   */
  async merge(subject: string, collection: string, id: string, fields: RecordFields): Promise<WriteReceipt> {
    RecordService.checkId(id);
    const spec = this.router.collection(collection);
    this.checkFields(collection, fields);
    for (let attempt = 0; attempt < MERGE_ATTEMPTS; attempt++) {
      const handle = this.subjects.peek(subject) ?? (await this.subjects.open(subject));
      const key = await this.subjects.currentKey(subject);
      const target = this.router.storeForWrite(key.jurisdiction, spec.category);
      const store = this.adapter(target.id);
      const current = await store.get(subject, collection, id);
      // Reads take the first allowed store holding the record; writes go to the first allowed
      // store, so a copy elsewhere is the base only until the target has one.
      const base = current
        ? this.open(handle, current, target.id, target.site).fields
        : await this.fieldsOrEmpty(subject, collection, id);
      const record = this.sealed(subject, collection, id, key, { ...base, ...fields });
      const done = current
        ? await store.replace(record, current.sealed)
        : (await store.insertNew([record]))[0] === true;
      if (done) return { store: target.id, site: target.site, keyVersion: key.version };
    }
    throw new CustosError('RECORD_CONFLICT', 'the record kept changing during the write; retry it');
  }

  private async fieldsOrEmpty(subject: string, collection: string, id: string): Promise<RecordFields> {
    try {
      return (await this.getAsync(subject, collection, id)).fields;
    } catch (err) {
      if (err instanceof CustosError && err.code === 'RECORD_NOT_FOUND') return {};
      throw err;
    }
  }

  private open(subject: SubjectHandle, stored: StoredRecord, storeId: string, site: string): PlainRecord {
    const key = subject.keys.get(stored.keyVersion);
    // An unknown key version is indistinguishable from tampering.
    if (!key) throw new CustosError('DECRYPT_FAILED', 'decryption failed');
    // A stored record carries its own binding (id, subject, collection, key version).
    const plain = openRecord(key, stored, stored.sealed);
    let fields: RecordFields;
    try {
      fields = JSON.parse(plain.toString('utf8')) as RecordFields;
    } catch {
      throw new CustosError('DECRYPT_FAILED', 'decryption failed');
    }
    return {
      subject: stored.subject,
      collection: stored.collection,
      id: stored.id,
      fields,
      store: storeId,
      site,
    };
  }

  /** Decrypts a record fetched straight from a store (for listings). */
  async openStored(stored: StoredRecord): Promise<RecordFields> {
    const handle = this.subjects.peek(stored.subject) ?? (await this.subjects.open(stored.subject));
    return this.open(handle, stored, '', '').fields;
  }

  /**
   * Reads and decrypts one record from the stores residency allows for it.
   *
   * Hot path: when the subject's keys are cached and every allowed store answers synchronously
   * (`getNow`, embedded SQLite), the whole read runs without a promise hop; otherwise it falls back
   * to the asynchronous path. Both give the same answers and the same errors.
   */
  get(subject: string, collection: string, id: string): Promise<PlainRecord> {
    try {
      const handle = this.subjects.peek(subject);
      const fast = handle === undefined ? undefined : this.getNow(handle, collection, id);
      if (fast !== undefined) return Promise.resolve(fast);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.getAsync(subject, collection, id);
  }

  /** The synchronous read; undefined when some allowed store cannot answer synchronously. */
  private getNow(handle: SubjectHandle, collection: string, id: string): PlainRecord | undefined {
    const spec = this.router.collection(collection);
    const stores = this.router.allowedStores(handle.row.jurisdiction, spec.category);
    for (const store of stores) {
      const adapter = this.adapter(store.id);
      if (adapter.getNow === undefined) return undefined;
      const stored = adapter.getNow(handle.row.id, collection, id);
      if (stored) return this.open(handle, stored, store.id, store.site);
    }
    throw new CustosError('RECORD_NOT_FOUND', 'record not found');
  }

  private async getAsync(subject: string, collection: string, id: string): Promise<PlainRecord> {
    const spec = this.router.collection(collection);
    const handle = this.subjects.peek(subject) ?? (await this.subjects.open(subject));
    for (const store of this.router.allowedStores(handle.row.jurisdiction, spec.category)) {
      const stored = await this.adapter(store.id).get(subject, collection, id);
      if (stored) return this.open(handle, stored, store.id, store.site);
    }
    throw new CustosError('RECORD_NOT_FOUND', 'record not found');
  }

  /** Deletes one record from every allowed store; resolves true when one existed. */
  async delete(subject: string, collection: string, id: string): Promise<boolean> {
    const spec = this.router.collection(collection);
    const row = await this.subjects.subject(subject);
    let found = false;
    for (const store of this.router.allowedStores(row.jurisdiction, spec.category)) {
      if (await this.adapter(store.id).delete(subject, collection, id)) found = true;
    }
    return found;
  }

  /** Lists one subject's records of a collection, decrypted. */
  async listForSubject(
    subject: string,
    collection: string,
    limit = 100,
    afterId?: string,
  ): Promise<PlainRecord[]> {
    const spec = this.router.collection(collection);
    const handle = await this.subjects.open(subject);
    const out: PlainRecord[] = [];
    for (const store of this.router.allowedStores(handle.row.jurisdiction, spec.category)) {
      const page = await this.adapter(store.id).list({
        collection,
        subject,
        after: afterId === undefined ? undefined : { subject, id: afterId },
        limit,
      });
      for (const r of page) out.push(this.open(handle, r, store.id, store.site));
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(0, limit);
  }
}
