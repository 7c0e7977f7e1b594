import { describe, expect, it } from 'vitest';
import type { CustosConfig } from '../src/domain/config.js';
import { CustosError } from '../src/domain/errors.js';
import { configFrom, demoConfigObject } from './helpers.js';

/** The demo config with `ledger` keys added. */
function withLedger(keys: Record<string, unknown>): CustosConfig {
  const obj = demoConfigObject('/srv/custos/data') as Record<string, unknown> & { ledger: object };
  obj.ledger = { ...obj.ledger, ...keys };
  return configFrom(obj, '/srv/custos');
}

function problems(keys: Record<string, unknown>): string[] {
  try {
    withLedger(keys);
  } catch (err) {
    expect(err).toBeInstanceOf(CustosError);
    expect((err as CustosError).code).toBe('CONFIG_INVALID');
    return [...((err as CustosError).details ?? [])];
  }
  throw new Error('expected the config to be rejected');
}

describe('shared ledger configuration', () => {
  it('keeps SQLite by default, with the sequencer defaults filled in', () => {
    const c = withLedger({});
    expect(c.ledger.driver).toBe('sqlite');
    expect(c.ledger.postgres).toBeUndefined();
    expect(c.ledger.sequencer).toEqual({
      lockRetryMs: 1000,
      pollMs: 250,
      ackTimeoutMs: 10_000,
      retainMs: 600_000,
    });
  });

  it('normalises a postgres ledger: schema custos_ledger, files against the config directory', () => {
    const c = withLedger({
      driver: 'postgres',
      postgres: { urlEnv: 'LEDGER_PG', passwordFile: 'secrets/pg', tls: { caFile: 'ca.pem' } },
      sequencer: { lockRetryMs: 500 },
    });
    expect(c.ledger.driver).toBe('postgres');
    expect(c.ledger.postgres).toMatchObject({
      where: 'ledger.postgres',
      url: { kind: 'env', name: 'LEDGER_PG' },
      password: { kind: 'file', path: '/srv/custos/secrets/pg' },
      schema: 'custos_ledger',
      poolSize: 10,
      tls: { caFile: '/srv/custos/ca.pem' },
    });
    expect(c.ledger.sequencer.lockRetryMs).toBe(500);
    expect(c.ledger.sequencer.ackTimeoutMs).toBe(10_000);
  });

  it('refuses inconsistent or secret-bearing ledger settings, naming the key and never the secret', () => {
    expect(problems({ driver: 'postgres' })).toEqual([
      'ledger.postgres: required when ledger.driver is postgres',
    ]);
    expect(problems({ postgres: { urlEnv: 'X' } })).toEqual([
      'ledger: postgres and sequencer need driver: postgres',
    ]);
    const leak = problems({ driver: 'postgres', postgres: { url: 'postgres://custos:hunter2@db/custos' } });
    expect(leak.join('\n')).toContain('ledger.postgres.url: must not contain a password');
    expect(leak.join('\n')).not.toContain('hunter2');
    expect(
      problems({
        driver: 'postgres',
        postgres: { urlEnv: 'X' },
        sequencer: { lockRetryMs: 5000, ackTimeoutMs: 5000 },
      }),
    ).toEqual(['ledger.sequencer.ackTimeoutMs: must exceed lockRetryMs + pollMs, or failover fails appends']);
    expect(problems({ driver: 'postgres', postgres: { urlEnv: 'X', hosts: 3 } })).toEqual([
      'ledger.postgres.hosts: unknown key',
    ]);
  });
});
