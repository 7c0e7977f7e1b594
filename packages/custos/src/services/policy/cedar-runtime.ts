import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import type * as CedarWasm from '@cedar-policy/cedar-wasm/nodejs';

// Node 20's V8 (11.3) can abort the process ("Fatal error: unreachable code" in
// Deoptimizer::DoComputeBuiltinContinuation) when TurboFan-inlined code around the Cedar wasm
// calls is lazily deoptimized. Reproduced under load in the authorizer property test; turning
// off TurboFan inlining avoids it. Set before the wasm build is loaded or any of this code is optimized.
setFlagsFromString('--no-turbo-inlining');

/** The Cedar wasm build's API (the part Custos calls is whatever this module exports). */
export type CedarModule = typeof CedarWasm;

/** The outcome of one call into Cedar: its value, or why there is none. */
export type CedarRun<T> =
  | { readonly ok: true; readonly value: T }
  | {
      readonly ok: false;
      /** `trap`: the call threw (stack overflow, wasm trap); `unavailable`: no instance could be loaded. */
      readonly failure: 'trap' | 'unavailable';
      readonly message: string;
    };

const requireCjs = createRequire(import.meta.url);
/** How long after a failed load of the Cedar wasm build the next attempt waits. */
const LOAD_RETRY_MS = 5_000;
const NODE_BUILD = '@cedar-policy/cedar-wasm/nodejs';

/**
 * Loads a fresh instance of the Cedar wasm build. The Node build is CommonJS and instantiates its
 * wasm module when first required, so dropping it from the require cache and requiring it again
 * gives a new instance with clean memory.
 */
export function loadCedarWasm(): CedarModule {
  const path = requireCjs.resolve(NODE_BUILD);
  delete requireCjs.cache[path];
  return requireCjs(path) as CedarModule;
}

/**
 * One Cedar wasm instance, replaced after a trap. A trap (a stack overflow in Cedar's recursive
 * parser or evaluator shows up as `RuntimeError: memory access out of bounds` or `RangeError`)
 * leaves the instance's memory corrupt: every later call into it fails. So any throw from a call
 * discards the instance and loads a new one at once; `generation` counts instances, so users of
 * state kept inside wasm (preparsed policy sets) know to rebuild it. If no instance can be loaded
 * the runtime is `available: false` (`/readyz` answers 503) and every call fails, i.e. denies.
 */
export class CedarRuntime {
  private cedar: CedarModule | undefined;
  private instances = 0;
  private loadFailed = false;
  /** After a failed load, no new attempt before this time (ms): loading is synchronous work. */
  private retryAt = 0;

  constructor(
    private readonly load: () => CedarModule = loadCedarWasm,
    private readonly retryMs = LOAD_RETRY_MS,
  ) {}

  /** Counts the instances loaded; changes after every trap. */
  get generation(): number {
    return this.instances;
  }

  /** False when the last attempt to load an instance failed. */
  get available(): boolean {
    return !this.loadFailed;
  }

  /** Runs `call` on the current instance; a throw discards the instance and is answered, never thrown. */
  run<T>(call: (cedar: CedarModule) => T): CedarRun<T> {
    const cedar = this.instance();
    if (cedar === undefined)
      return { ok: false, failure: 'unavailable', message: 'the Cedar engine cannot be loaded' };
    try {
      return { ok: true, value: call(cedar) };
    } catch (err) {
      this.cedar = undefined;
      this.instance();
      const name = err instanceof Error ? err.name : 'error';
      return { ok: false, failure: 'trap', message: `Cedar failed (${name}); the engine was reloaded` };
    }
  }

  private instance(): CedarModule | undefined {
    if (this.cedar !== undefined) return this.cedar;
    // A failed load is not retried on every call: each try reads and compiles the wasm module on
    // the event loop, and calls keep failing (denying) meanwhile anyway.
    if (this.loadFailed && Date.now() < this.retryAt) return undefined;
    try {
      this.cedar = this.load();
      this.instances++;
      this.loadFailed = false;
    } catch {
      this.loadFailed = true;
      this.retryAt = Date.now() + this.retryMs;
    }
    return this.cedar;
  }
}

/** The process's Cedar runtime, shared by policy loading, validation and every engine. */
export const CEDAR = new CedarRuntime();
