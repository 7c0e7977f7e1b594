import type { TileSource } from '../audit/tile-source.js';
import { CliUsageError } from './cli-io.js';

/** Reads a log over HTTP(S) from its tile prefix with the global fetch (c2sp.org/tlog-tiles). */
export class HttpTileSource implements TileSource {
  readonly #base: string;
  readonly #headers: Record<string, string>;

  /**
   * `prefix` is the log's URL prefix; throws CliUsageError unless it is an http(s) URL. `token`,
   * when given, is sent as `Authorization: Bearer <token>` (Custos guards its ledger routes).
   */
  constructor(prefix: string, token?: string) {
    this.#headers = { 'accept-encoding': 'gzip, identity' };
    if (token !== undefined) this.#headers.authorization = `Bearer ${token}`;
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

  /** GETs `<prefix>/<path>`; 404 and 410 mean "not there", other failures throw CliUsageError. */
  async get(path: string): Promise<Uint8Array | undefined> {
    const url = this.#base + path;
    let res: Response;
    try {
      res = await fetch(url, { headers: this.#headers });
    } catch (err) {
      throw new CliUsageError(`cannot reach ${url}`, { cause: err });
    }
    if (res.status === 404 || res.status === 410) return undefined;
    if (!res.ok) throw new CliUsageError(`GET ${url} failed with HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  }
}
