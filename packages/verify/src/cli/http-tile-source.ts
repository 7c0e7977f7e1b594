import type { TileGetOptions, TileSource } from '../audit/tile-source.js';
import { concatBytes } from '../encoding/bytes.js';
import { CliUsageError } from './cli-io.js';
import { maxBytesFor } from './read-limits.js';

/** Default time allowed for one request, headers and body: `--timeout`. */
export const DEFAULT_HTTP_TIMEOUT_MS = 30_000;

/** Options of {@link HttpTileSource}. */
export interface HttpTileSourceOptions {
  /** Sent as `Authorization: Bearer <token>` (Custos guards its ledger routes). */
  readonly token?: string | undefined;
  /** Time allowed for one request from sending it to the last body byte (default 30 s). */
  readonly timeoutMs?: number | undefined;
}

// Reads the body, counting the bytes fetch hands over: they are already decoded, so a gzip bomb
// stops at the same limit as a plain body.
async function readCapped(res: Response, limit: number, url: string): Promise<Uint8Array> {
  if (res.body === null) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw new CliUsageError(`GET ${url}: the response is larger than ${limit} bytes, the most it may hold`);
    }
    chunks.push(value);
  }
  return concatBytes(...chunks);
}

/** Reads a log over HTTP(S) from its tile prefix with the global fetch (c2sp.org/tlog-tiles). */
export class HttpTileSource implements TileSource {
  readonly #base: string;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;

  /** `prefix` is the log's URL prefix; throws CliUsageError unless it is an http(s) URL. */
  constructor(prefix: string, options: HttpTileSourceOptions = {}) {
    this.#headers = { 'accept-encoding': 'gzip, identity' };
    if (options.token !== undefined) this.#headers.authorization = `Bearer ${options.token}`;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
    let url: URL;
    try {
      url = new URL(prefix);
    } catch {
      throw new CliUsageError(`not a URL: ${prefix}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new CliUsageError('the URL must be http or https');
    this.#base = url.href.endsWith('/') ? url.href : `${url.href}/`;
  }

  /**
   * GETs `<prefix>/<path>`; 404 and 410 mean "not there". Throws CliUsageError on other HTTP
   * errors, on a request that takes longer than the timeout (a body that trickles in too), and
   * on a body larger than any valid checkpoint, tile or bundle. When `options.signal` aborts, the
   * request is dropped and the promise rejects with the signal's reason.
   */
  async get(path: string, options?: TileGetOptions): Promise<Uint8Array | undefined> {
    const url = this.#base + path;
    const outer = options?.signal;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#timeoutMs);
    const onAbort = (): void => controller.abort(outer?.reason);
    if (outer?.aborted === true) onAbort();
    outer?.addEventListener('abort', onAbort, { once: true });
    try {
      return await this.#fetch(url, maxBytesFor(path), controller.signal);
    } catch (err) {
      if (timedOut)
        throw new CliUsageError(`GET ${url} timed out after ${this.#timeoutMs / 1000} s`, { cause: err });
      if (outer?.aborted === true) throw outer.reason;
      throw err;
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    }
  }

  async #fetch(url: string, limit: number, signal: AbortSignal): Promise<Uint8Array | undefined> {
    let res: Response;
    try {
      res = await fetch(url, { headers: this.#headers, signal });
    } catch (err) {
      throw new CliUsageError(`cannot reach ${url}`, { cause: err });
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      if (res.status === 404 || res.status === 410) return undefined;
      throw new CliUsageError(`GET ${url} failed with HTTP ${res.status}`);
    }
    try {
      return await readCapped(res, limit, url);
    } catch (err) {
      if (err instanceof CliUsageError) throw err;
      throw new CliUsageError(`cannot read the response to GET ${url}`, { cause: err });
    }
  }
}
