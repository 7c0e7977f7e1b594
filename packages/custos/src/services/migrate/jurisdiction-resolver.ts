import type { MigrationSource } from '../../ports/migration-source.js';
import type { MigrationContext } from './migration-context.js';

/** What is known of a subject's home jurisdiction. */
export interface SubjectJurisdiction {
  /** Undefined when neither Custos nor the accounts source knows it: the record is held back. */
  readonly jurisdiction: string | undefined;
  /** Already registered with Custos (its keys exist). */
  readonly registered: boolean;
  readonly erased: boolean;
}

/** An accounts entry listed twice with different jurisdictions, or with an unknown one. */
const CONFLICT = '';

/**
 * Resolves subjects' jurisdictions: Custos's own subject registry first, then the declared accounts
 * source. A value that is not a configured jurisdiction is unknown: it is never guessed.
 */
export class JurisdictionResolver {
  private accounts: Map<string, string> | undefined;
  private readonly jurisdictions: ReadonlySet<string>;

  constructor(private readonly ctx: MigrationContext) {
    this.jurisdictions = new Set(ctx.config.jurisdictions.map((j) => j.id));
  }

  /** Reads the accounts source once (subject → jurisdiction); empty when none is declared. */
  private async loadAccounts(): Promise<Map<string, string>> {
    if (this.accounts) return this.accounts;
    const map = new Map<string, string>();
    const spec = this.ctx.config.migration.accounts;
    if (spec !== undefined) {
      const sourceSpec = this.ctx.config.migration.sources.find((s) => s.id === spec.source);
      if (sourceSpec !== undefined) {
        const source: MigrationSource = await this.ctx.openSource(sourceSpec);
        try {
          // One read of the whole table: accounts are keyed by subject, which may repeat, so
          // paging by it could skip rows at a page boundary. The map is held whole anyway.
          const page = await source.read(spec.location, undefined, Number.MAX_SAFE_INTEGER);
          for (const item of page.items) {
            const subject = item.row?.[spec.subjectField];
            const raw = item.row?.[spec.jurisdictionField];
            if ((typeof subject !== 'string' && typeof subject !== 'number') || typeof raw !== 'string')
              continue;
            const j = spec.values?.[raw] ?? raw;
            const s = String(subject);
            const prior = map.get(s);
            // Listed twice with different jurisdictions: unknown (held back), never last-wins.
            if (prior === undefined) map.set(s, this.jurisdictions.has(j) ? j : CONFLICT);
            else if (prior !== j) map.set(s, CONFLICT);
          }
        } finally {
          await source.close();
        }
      }
    }
    this.accounts = map;
    return map;
  }

  /** Subjects found registered and not erased, remembered for the run (see `resolve`). */
  private readonly seen = new Map<string, string>();

  /**
   * Looks up many subjects at once. A subject once found registered is not looked up again in
   * this run: if it is erased meanwhile, its copies are sealed under a destroyed key, and purge,
   * which re-verifies every copy, deletes nothing of it.
   */
  async resolve(subjects: readonly string[]): Promise<Map<string, SubjectJurisdiction>> {
    const out = new Map<string, SubjectJurisdiction>();
    const unseen: string[] = [];
    for (const s of subjects) {
      const j = this.seen.get(s);
      if (j === undefined) unseen.push(s);
      else out.set(s, { jurisdiction: j, registered: true, erased: false });
    }
    if (unseen.length === 0) return out;
    const known = await this.ctx.subjectStore.getMany(unseen);
    let accounts: Map<string, string> | undefined;
    for (const s of unseen) {
      const row = known.get(s);
      if (row !== undefined) {
        out.set(s, { jurisdiction: row.jurisdiction, registered: true, erased: row.erasedAt !== undefined });
        if (row.erasedAt === undefined) this.seen.set(s, row.jurisdiction);
        continue;
      }
      accounts ??= await this.loadAccounts();
      const j = accounts.get(s);
      out.set(s, { jurisdiction: j === CONFLICT ? undefined : j, registered: false, erased: false });
    }
    return out;
  }
}
