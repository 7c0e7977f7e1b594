import { describe, expect, it } from 'vitest';
import { isCustosError } from '../src/domain/errors.js';
import { configFrom, demoConfigObject } from './helpers.js';

function problems(migration: unknown): string[] {
  const obj = demoConfigObject('/tmp/custos-config-test');
  obj.migration = migration;
  try {
    configFrom(obj, '/tmp/custos-config-test');
    return [];
  } catch (err) {
    if (!isCustosError(err, 'CONFIG_INVALID')) throw err;
    return [...(err.details ?? [])];
  }
}

describe('migration config', () => {
  it('accepts the demo section and normalises datasets with sorted field mappings', () => {
    const config = configFrom(demoConfigObject('/tmp/d'), '/tmp/d');
    const profiles = config.migration.sources[0]?.datasets[0];
    expect(profiles?.id).toBe('us-legacy-db/profiles');
    expect(profiles?.fields.map((f) => f.name)).toEqual(['bio', 'display_name', 'email', 'phone']);
    expect(config.migration.sources[1]?.keyFile).toBe('/tmp/d/legacy/sg-backup-archive.key');
    expect(config.migration.state).toEqual({ driver: 'sqlite', path: '/tmp/d/migration.db' });
  });

  it('reports every bad cross-reference with its exact path', () => {
    expect(
      problems({
        accounts: { source: 'nope', subjectField: 'u', jurisdictionField: 'c', values: { X: 'ZZ' } },
        sources: [
          {
            id: 'a',
            site: 'moon',
            kind: 'sqlite',
            datasets: [
              { collection: 'messages', table: 't', subjectField: 'u', fields: { email: 'e' } },
              { collection: 'ghosts', table: 't', subjectField: 'u', fields: ['x'] },
            ],
          },
          {
            id: 'a',
            site: 'sg-backup',
            kind: 'csv',
            encryption: { keyFile: 'k' },
            datasets: [
              { collection: 'profiles', table: 't', subjectField: 'u', fields: ['email', 'email2'] },
            ],
          },
          {
            id: 'p',
            site: 'sg-backup',
            kind: 'postgres',
            datasets: [{ collection: 'profiles', table: 't', subjectField: 'u', fields: ['email'] }],
          },
          {
            id: 'q',
            site: 'sg-backup',
            kind: 'sqlite',
            encryption: { keyFile: 'k' },
            path: 'x',
            datasets: [
              { collection: 'profiles', table: 't', subjectField: 'u', fields: ['email'] },
              { collection: 'profiles', table: 'u', subjectField: 'u', fields: ['email'] },
            ],
          },
        ],
      }),
    ).toEqual([
      'migration.sources[0].site: unknown site "moon"',
      'migration.sources[0].path: required for a sqlite source',
      'migration.sources[0].datasets[0].fields.email: unknown field "email" in messages',
      'migration.sources[0].datasets[1].collection: unknown collection "ghosts"',
      'migration.sources[1].id: duplicate id "a"',
      'migration.sources[1].datasets[0].file: required for a csv source',
      'migration.sources[1].datasets[0].table: not used by a csv source (give file)',
      'migration.sources[1].datasets[0].fields[1]: unknown field "email2" in profiles',
      'migration.sources[2].postgres: required for a postgres source',
      'migration.sources[3].encryption: only ndjson and csv sources can be sealed',
      'migration.sources[3].datasets[1].collection: "profiles" is already copied from this source',
      'migration.accounts.source: unknown source "nope"',
      'migration.accounts.values.X: unknown jurisdiction "ZZ"',
    ]);
  });

  it('refuses unknown keys and bad values in the section', () => {
    expect(problems({ batchSize: 0, onError: 'maybe', extra: 1 })).toEqual([
      'migration.batchSize: Too small: expected number to be >=1',
      'migration.onError: Invalid option: expected one of "stop"|"skip"',
      'migration.extra: unknown key',
    ]);
  });
});
