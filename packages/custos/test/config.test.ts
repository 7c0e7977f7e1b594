import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { demoConfigYaml } from '../src/demo/demo-config.js';
import { CustosError } from '../src/domain/errors.js';
import { loadConfigFile, parseConfigText } from '../src/domain/load-config.js';
import { configFrom, demoConfigObject, tempDir } from './helpers.js';

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CustosError);
    return [...((err as CustosError).details ?? [])];
  }
  throw new Error('expected the config to be rejected');
}

type Obj = Record<string, unknown> & {
  stores: Record<string, unknown>[];
  sites: Record<string, unknown>[];
  residency: Record<string, unknown>[];
  collections: Record<string, unknown>[];
  organisations: Record<string, unknown>[];
  principals: Record<string, unknown>[];
};

describe('configuration', () => {
  it('accepts the demo world and normalises it', () => {
    const c = parseConfigText(demoConfigYaml('./data'), '/srv/custos');
    expect(c.dataDir).toBe('/srv/custos/data');
    expect(c.stores.find((s) => s.id === 'us-main')?.path).toBe(
      '/srv/custos/data/stores/us-trusted-cloud.db',
    );
    expect(Object.isFrozen(c.stores[0])).toBe(true);
    expect(c.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('treats a field without a classification as protected', () => {
    const c = parseConfigText(demoConfigYaml('.'), '/x');
    const profiles = c.collections.find((col) => col.id === 'profiles');
    expect(profiles?.fields.find((f) => f.name === 'bio')?.classification).toBe('protected');
    expect(profiles?.fields.find((f) => f.name === 'display_name')?.classification).toBe('public');
  });

  it('names the exact path of an unknown reference', () => {
    const obj = demoConfigObject('.') as Obj;
    (obj.stores[2] as { site: string }).site = 'sg-bakup';
    expect(problems(() => configFrom(obj, '/x'))).toEqual(['stores[2].site: unknown site "sg-bakup"']);
  });

  it('lists every cross-reference problem at once', () => {
    const obj = demoConfigObject('.') as Obj;
    (obj.stores[0] as { site: string }).site = 'nowhere';
    (obj.sites[1] as { operator: string }).operator = 'ghost-org';
    (obj.residency[0] as { jurisdiction: string }).jurisdiction = 'FR';
    (obj.residency[1] as { sites: string[] }).sites = ['us-trusted-cloud', 'mars'];
    (obj.principals[0] as { org: string }).org = 'nobody';
    expect(problems(() => configFrom(obj, '/x'))).toEqual([
      'sites[1].operator: unknown organisation "ghost-org"',
      'stores[0].site: unknown site "nowhere"',
      'residency[0].jurisdiction: unknown jurisdiction "FR"',
      'residency[1].sites[1]: unknown site "mars"',
      'principals[0].org: unknown organisation "nobody"',
    ]);
  });

  it('rejects duplicate ids, duplicate fields and duplicate rules', () => {
    const obj = demoConfigObject('.') as Obj;
    obj.sites.push({ id: 'sg-backup', country: 'SG', operator: 'operator' });
    obj.collections.push({ id: 'profiles', category: 'public', fields: ['a', 'a'] });
    obj.residency.push({ jurisdiction: 'US', category: 'protected', sites: [] });
    expect(problems(() => configFrom(obj, '/x'))).toEqual([
      'sites[4].id: duplicate id "sg-backup"',
      'collections[5].id: duplicate id "profiles"',
      'collections[5].fields[1]: duplicate field "a"',
      'residency[8]: duplicate rule for US protected',
    ]);
  });

  it('rejects an invalid classification with its path', () => {
    const obj = demoConfigObject('.') as Obj;
    (obj.collections[0] as { fields: unknown[] }).fields[0] = { name: 'email', classification: 'secret' };
    const p = problems(() => configFrom(obj, '/x'));
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^collections\[0\]\.fields\[0\]/);
  });

  it('rejects unknown keys and wrong types, each with a path', () => {
    const obj = demoConfigObject('.') as Obj;
    (obj.stores[0] as Record<string, unknown>).colour = 'blue';
    (obj.organisations[0] as Record<string, unknown>).kind = 'overlord';
    const p = problems(() => configFrom(obj, '/x'));
    expect(p).toContain('stores[0].colour: unknown key');
    expect(p.some((l) => l.startsWith('organisations[0].kind:'))).toBe(true);
  });

  it('reports YAML syntax errors with a line number', () => {
    const p = problems(() => parseConfigText('version: 1\njurisdictions: [US\nsites: {', '/x'));
    expect(p.length).toBeGreaterThan(0);
    expect(p[0]).toMatch(/^line \d+, column \d+: /);
  });

  it('reports a missing file as CONFIG_NOT_FOUND', () => {
    try {
      loadConfigFile('/nonexistent/custos.yaml');
      expect.unreachable();
    } catch (err) {
      expect((err as CustosError).code).toBe('CONFIG_NOT_FOUND');
    }
  });

  it('loads a file and resolves paths relative to it', () => {
    const t = tempDir();
    try {
      writeFileSync(join(t.dir, 'custos.yaml'), demoConfigYaml('./d'));
      expect(loadConfigFile(join(t.dir, 'custos.yaml')).dataDir).toBe(join(t.dir, 'd'));
    } finally {
      t.cleanup();
    }
  });
});
