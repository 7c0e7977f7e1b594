/**
 * Node-only additions to `@custos/verify` (worker threads). The main entry stays free of Node
 * modules so that it runs in browsers.
 * @packageDocumentation
 */
export { createWorkerCheckPool, type WorkerCheckPoolOptions } from './node/worker-check-pool.js';
