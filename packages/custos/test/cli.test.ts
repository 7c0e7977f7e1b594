import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { demoConfigYaml } from '../src/demo/demo-config.js';
import { runCli } from './cli-helpers.js';
import { tempDir } from './helpers.js';

describe('custos CLI', () => {
  let dir: string;
  let cleanup: () => void;
  let config: string;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    config = join(dir, 'custos.yaml');
    writeFileSync(config, demoConfigYaml('./data'));
  });
  afterEach(() => cleanup());

  it('init writes a valid config and a data directory', async () => {
    const target = join(dir, 'fresh');
    const r = await runCli('init', '--dir', target);
    expect(r.code).toBe(0);
    expect(existsSync(join(target, 'custos.yaml'))).toBe(true);
    expect(existsSync(join(target, 'custos-data'))).toBe(true);
    expect((await runCli('config', 'check', join(target, 'custos.yaml'))).code).toBe(0);
    const again = await runCli('init', '--dir', target);
    expect(again.code).toBe(1);
    expect(again.err).toContain('already exists');
  });

  it('config check exits 0 on a valid file', async () => {
    const r = await runCli('config', 'check', config);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ok: 2 jurisdictions/);
  });

  it('config check exits 2 listing every error with its path and no stack trace', async () => {
    const bad = readFileSync(config, 'utf8')
      .replace('site: sg-backup, path', 'site: sg-bakup, path')
      .replace('{ id: parent, kind: parent', '{ id: parent, kind: overlord')
      .replace('{ name: phone, classification: protected }', '{ name: phone, classification: secretish }')
      .replace(
        '- { id: auditor, kind: auditor, name: External auditor }',
        '- { id: auditor, kind: auditor }\n  - { id: auditor, kind: auditor }',
      );
    writeFileSync(config, bad);
    const r = await runCli('config', 'check', config);
    expect(r.code).toBe(2);
    expect(r.err).toContain('error CONFIG_INVALID');
    expect(r.err).toContain('organisations[2].kind:');
    expect(r.err).toContain('collections[0].fields[1]');
    expect(r.err).not.toMatch(/\n\s+at .*\(/);
  });

  it('config check reports cross-reference errors with their paths', async () => {
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace('site: sg-backup, path', 'site: sg-bakup, path'),
    );
    const r = await runCli('config', 'check', config);
    expect(r.code).toBe(2);
    expect(r.err).toContain('stores[3].site: unknown site "sg-bakup"');
  });

  it('config check exits 2 on YAML syntax errors and on a missing file', async () => {
    writeFileSync(config, 'version: 1\nstores: [\n');
    const syntax = await runCli('config', 'check', config);
    expect(syntax.code).toBe(2);
    expect(syntax.err).toMatch(/line \d+, column \d+/);
    const missing = await runCli('config', 'check', join(dir, 'nope.yaml'));
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('CONFIG_NOT_FOUND');
  });

  it('residency scan is clean after seeding, and exits 3 on a record written around Custos', async () => {
    expect((await runCli('demo', 'seed', '--subjects', '10', '--config', config)).code).toBe(0);
    const clean = await runCli('residency', 'scan', '--config', config);
    expect(clean.code).toBe(0);
    expect(clean.out).toContain('clean: 90 records scanned');

    // Copy a US subject's protected record straight into the SG backup store's database.
    const us = new Database(join(dir, 'data/stores/us-trusted-cloud.db'));
    const row = us
      .prepare("SELECT * FROM records WHERE subject = 'us-user-00001' AND collection = 'profiles'")
      .get();
    us.close();
    const sg = new Database(join(dir, 'data/stores/sg-backup.db'));
    sg.prepare(
      'INSERT INTO records (collection, subject, id, key_version, sealed, updated_at) VALUES (@collection, @subject, @id, @key_version, @sealed, @updated_at)',
    ).run(row as Record<string, unknown>);
    sg.prepare(
      "INSERT INTO records (collection, subject, id, key_version, sealed, updated_at) VALUES ('profiles', 'stranger', 'x', 1, x'00', 0)",
    ).run();
    sg.close();

    const dirty = await runCli('residency', 'scan', '--config', config);
    expect(dirty.code).toBe(3);
    expect(dirty.out).toContain(
      'site-not-allowed: store sg-main (site sg-backup) profiles/profile subject us-user-00001',
    );
    expect(dirty.out).toContain(
      'unknown-subject: store sg-main (site sg-backup) profiles/x subject stranger',
    );

    const json = await runCli('residency', 'scan', '--config', config, '--json');
    expect(json.code).toBe(3);
    const report = JSON.parse(json.out) as { violations: { reason: string; jurisdiction?: string }[] };
    expect(report.violations.map((v) => v.reason).sort()).toEqual(['site-not-allowed', 'unknown-subject']);
  });

  it('subject erase makes the subject unreadable and refuses a second erase', async () => {
    await runCli('demo', 'seed', '--subjects', '2', '--config', config);
    const r = await runCli('subject', 'erase', 'us-user-00001', '--config', config);
    expect(r.code).toBe(0);
    const again = await runCli('subject', 'erase', 'us-user-00001', '--config', config);
    expect(again.code).toBe(1);
    expect(again.err).toContain('SUBJECT_ERASED');
    const unknown = await runCli('subject', 'erase', 'ghost', '--config', config);
    expect(unknown.err).toContain('SUBJECT_UNKNOWN');
  });

  it('every command has --help', async () => {
    for (const cmd of [
      [],
      ['init'],
      ['serve'],
      ['config', 'check'],
      ['residency', 'scan'],
      ['demo', 'seed'],
      ['subject', 'erase'],
    ]) {
      const r = await runCli(...cmd, '--help');
      expect(r.code).toBe(0);
      expect(r.out).toContain('Usage: custos');
    }
  });

  it('serve refuses --demo with --config (usage error, exit 2) and creates nothing', async () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      // An unusable host: were the combination accepted, serve would fail to listen instead of hanging.
      const r = await runCli('serve', '--demo', '-c', config, '--host', '256.256.256.256');
      expect(r.code).toBe(2);
      expect(r.err).toContain("option '--demo' cannot be used with option '-c, --config <file>'");
      expect(existsSync(join(dir, 'custos-data'))).toBe(false);
    } finally {
      process.chdir(cwd);
    }
  });

  it('names a file it cannot read with a coded usage error, not INTERNAL', async () => {
    const missing = join(dir, 'no-such.cedar');
    const r = await runCli(
      'policy',
      'propose',
      missing,
      '--summary',
      'x',
      '--principal',
      'operator-engineer',
      '-c',
      config,
    );
    expect(r.err).toContain(`error BAD_REQUEST: cannot read ${missing} (ENOENT)`);
    expect(r.err).not.toContain('INTERNAL');
    expect(r.code).toBe(2);
  });

  it('rejects a bad option value with exit 2', async () => {
    const r = await runCli('demo', 'seed', '--subjects', 'many', '--config', config);
    expect(r.code).toBe(2);
  });
});
