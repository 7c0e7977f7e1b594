import type { CollectionSpec, CustosConfig, StoreSpec } from '../domain/config.js';
import type { Category } from '../domain/config-schema.js';
import { CustosError } from '../domain/errors.js';

/**
 * Decides where records may sit. A store is allowed for (jurisdiction, category) when its site is
 * listed by the residency rule for that pair. No rule means no allowed site: the router fails closed.
 */
export class ResidencyRouter {
  private readonly allowed = new Map<string, readonly StoreSpec[]>();
  private readonly allowedSites = new Map<string, ReadonlySet<string>>();
  private readonly collections = new Map<string, CollectionSpec>();
  private readonly stores = new Map<string, StoreSpec>();

  constructor(config: CustosConfig) {
    for (const c of config.collections) this.collections.set(c.id, c);
    for (const s of config.stores) this.stores.set(s.id, s);
    for (const rule of config.residency) {
      const sites = new Set(rule.sites);
      const key = `${rule.jurisdiction}\u0000${rule.category}`;
      this.allowedSites.set(key, sites);
      this.allowed.set(
        key,
        config.stores.filter((s) => sites.has(s.site)),
      );
    }
  }

  /** The collection's spec; throws `COLLECTION_UNKNOWN`. */
  collection(id: string): CollectionSpec {
    const c = this.collections.get(id);
    if (!c) throw new CustosError('COLLECTION_UNKNOWN', 'unknown collection');
    return c;
  }

  /** True when data of (jurisdiction, category) may sit on `site`. */
  isAllowed(jurisdiction: string, category: Category, site: string): boolean {
    return this.allowedSites.get(`${jurisdiction}\u0000${category}`)?.has(site) ?? false;
  }

  /** Every store allowed for (jurisdiction, category), in config order. */
  allowedStores(jurisdiction: string, category: Category): readonly StoreSpec[] {
    return this.allowed.get(`${jurisdiction}\u0000${category}`) ?? [];
  }

  /**
   * The store a write goes to. An explicitly named store must itself be allowed; otherwise the first
   * allowed store is used. Throws `RESIDENCY_VIOLATION` before anything is written.
   */
  storeForWrite(jurisdiction: string, category: Category, explicit?: string): StoreSpec {
    if (explicit !== undefined) {
      const store = this.stores.get(explicit);
      if (!store) throw new CustosError('STORE_UNKNOWN', `unknown store "${explicit}"`);
      if (!this.isAllowed(jurisdiction, category, store.site)) {
        throw new CustosError(
          'RESIDENCY_VIOLATION',
          `${category} data of jurisdiction ${jurisdiction} may not be stored on site ${store.site}`,
        );
      }
      return store;
    }
    const first = this.allowedStores(jurisdiction, category)[0];
    if (!first) {
      throw new CustosError(
        'RESIDENCY_VIOLATION',
        `no store is allowed for ${category} data of jurisdiction ${jurisdiction}`,
      );
    }
    return first;
  }
}
