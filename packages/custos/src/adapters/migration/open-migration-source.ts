import type { SourceSpec } from '../../domain/migration-config.js';
import type { MigrationSource } from '../../ports/migration-source.js';
import { FileMigrationSource } from './file-source.js';
import { PostgresMigrationSource } from './postgres-source.js';
import { sourceUnavailable } from './source-errors.js';
import { SqliteMigrationSource } from './sqlite-source.js';

/** Opens a legacy source with the adapter its `kind` names. */
export async function openMigrationSource(spec: SourceSpec): Promise<MigrationSource> {
  switch (spec.kind) {
    case 'sqlite':
      if (spec.path === undefined) throw sourceUnavailable(spec.id, 'no path');
      return SqliteMigrationSource.open(spec.id, spec.path);
    case 'postgres':
      if (spec.postgres === undefined) throw sourceUnavailable(spec.id, 'no connection');
      return PostgresMigrationSource.open(spec.id, spec.postgres);
    case 'ndjson':
    case 'csv':
      return new FileMigrationSource(spec.id, spec.kind, spec.keyFile);
  }
}
