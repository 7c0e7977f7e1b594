import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { type CreateCustosOptions, type Custos, createCustos } from '../src/composition-root.js';
import { demoConfigYaml } from '../src/demo/demo-config.js';
import type { CustosConfig } from '../src/domain/config.js';
import { CustosError } from '../src/domain/errors.js';
import { parseConfigText } from '../src/domain/load-config.js';
import type { AlertEvent, AlertSink } from '../src/ports/alert-sink.js';
import type { Clock } from '../src/ports/clock.js';

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix = 'custos-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The demo configuration as a plain object, for tests to modify. */
export function demoConfigObject(dataDir: string): Record<string, unknown> {
  return parse(demoConfigYaml(dataDir)) as Record<string, unknown>;
}

/** Validates a config object (through YAML text, as a file would be). */
export function configFrom(obj: unknown, baseDir: string): CustosConfig {
  return parseConfigText(stringify(obj), baseDir);
}

/** A manually driven clock. */
export class TestClock implements Clock {
  constructor(public ms = Date.UTC(2026, 10, 29, 12, 0, 0)) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** Composes Custos on the demo config in a fresh temp dir. */
export async function demoCustos(
  options: { mutate?: (config: Record<string, unknown>) => void } & CreateCustosOptions = {},
): Promise<{ custos: Custos; dir: string; cleanup: () => Promise<void> }> {
  const t = tempDir();
  const obj = demoConfigObject(t.dir);
  options.mutate?.(obj);
  const config = configFrom(obj, t.dir);
  const custos = await createCustos(config, { clock: new TestClock(), ...options });
  return {
    custos,
    dir: t.dir,
    cleanup: async () => {
      await custos.close();
      t.cleanup();
    },
  };
}

/** Settles `p` and names the outcome: the CustosError code it rejected with, or `no error`. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return err instanceof CustosError ? err.code : `not a CustosError: ${String(err)}`;
  }
  return 'no error';
}

/** An alert sink that accepts every event and keeps it in `events`, in delivery order. */
export function recordingSink(id = 'recorder'): { sink: AlertSink; events: AlertEvent[] } {
  const events: AlertEvent[] = [];
  return {
    events,
    sink: {
      id,
      accepts: () => true,
      send: async (event) => {
        events.push(event);
      },
    },
  };
}
