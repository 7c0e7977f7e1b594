/** Helpers of the multi-process tests: a demo world on PostgreSQL, and `custos serve` as real processes. */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { createCustos } from '../src/composition-root.js';
import type { CustosConfig } from '../src/domain/config.js';
import { loadConfigFile } from '../src/domain/load-config.js';
import { issueToken } from '../src/services/auth/authenticator.js';
import { demoConfigObject } from './helpers.js';

const BIN = fileURLToPath(new URL('../bin/custos.js', import.meta.url));

/** A demo world whose record stores, custody store and ledger all live on one PostgreSQL. */
export interface PgWorld {
  readonly configPath: string;
  readonly config: CustosConfig;
  /** Every PostgreSQL schema the world uses (to drop afterwards). */
  readonly schemas: readonly string[];
  readonly ledgerSchema: string;
}

/**
 * Writes the demo configuration with every store on PostgreSQL (URL from the environment variable
 * `urlEnv`, schemas `<prefix>_<id>`) and a shared ledger with fast failover settings.
 */
export function writePgWorld(dir: string, prefix: string, urlEnv: string): PgWorld {
  const obj = demoConfigObject(join(dir, 'data')) as Record<string, unknown> & {
    stores: { id: string; site: string }[];
    ledger: Record<string, unknown>;
  };
  const schemaOf = (id: string): string => `${prefix}_${id.replace(/-/g, '_')}`;
  const conn = { urlEnv, poolSize: 6, statementTimeoutMs: 3000, connectTimeoutMs: 2000 };
  obj.stores = obj.stores.map((s) => ({
    id: s.id,
    driver: 'postgres',
    site: s.site,
    schema: schemaOf(s.id),
    ...conn,
  }));
  obj.custody = { driver: 'postgres', schema: schemaOf('custody'), ...conn };
  obj.ledger = {
    ...obj.ledger,
    checkpointIntervalMs: 200,
    driver: 'postgres',
    postgres: { schema: schemaOf('ledger'), ...conn },
    sequencer: { lockRetryMs: 250, pollMs: 50, ackTimeoutMs: 8000 },
  };
  const configPath = join(dir, 'custos.yaml');
  writeFileSync(configPath, stringify(obj));
  return {
    configPath,
    config: loadConfigFile(configPath),
    schemas: [...obj.stores.map((s) => schemaOf(s.id)), schemaOf('custody'), schemaOf('ledger')],
    ledgerSchema: schemaOf('ledger'),
  };
}

/**
 * Creates the world's keys and registers `subjects` (US) once, before any server starts, without
 * contending for the sequencer; returns bearer tokens for the operator app and the auditor.
 */
export async function seedPgWorld(
  world: PgWorld,
  subjects: readonly string[],
): Promise<{ operator: string; auditor: string }> {
  const custos = await createCustos(world.config, { ledgerSequencer: false });
  try {
    for (const id of subjects) await custos.subjects.register(id, 'US');
    const key = custos.tokenKey?.privateKey;
    if (key === undefined) throw new Error('embedded token key missing');
    const now = Date.now();
    return {
      operator: await issueToken(world.config, key, 'operator-app', 3600, now),
      auditor: await issueToken(world.config, key, 'auditor', 3600, now),
    };
  } finally {
    await custos.close();
  }
}

/** A running `custos serve` process. */
export interface ServeProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly url: string;
  output(): string;
}

/** Starts `custos serve -c <config> --port 0`; resolves once it listens. */
export function startServe(configPath: string, env: NodeJS.ProcessEnv = process.env): Promise<ServeProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve', '-c', configPath, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not start:\n${out}`));
    }, 60_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /Custos listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m?.[1] && out.includes('ledger verifier key:')) {
        clearTimeout(timer);
        resolve({ child, pid: child.pid ?? -1, url: m[1], output: () => out });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}:\n${out}`));
    });
  });
}

/** Stops a server (SIGTERM, then SIGKILL after 5 s); resolves once it exited. */
export function stopServe(server: ServeProcess): Promise<void> {
  return new Promise((resolve) => {
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      resolve();
      return;
    }
    const force = setTimeout(() => server.child.kill('SIGKILL'), 5000);
    server.child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    server.child.kill('SIGTERM');
  });
}
