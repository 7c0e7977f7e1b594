import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { CustosError } from '../../domain/errors.js';
import type { PgSource, PostgresSpec } from '../../domain/postgres-config.js';

/** The `pg.Pool` options Custos sets, resolved from a `PostgresSpec` (secrets included: never log it). */
export interface PgPoolOptions {
  readonly connectionString: string;
  readonly max: number;
  readonly statement_timeout: number;
  /** Client-side bound, so a query to a vanished server fails instead of hanging (fail closed). */
  readonly query_timeout: number | undefined;
  readonly connectionTimeoutMillis: number;
  readonly idleTimeoutMillis: number;
  readonly keepAlive: boolean;
  readonly application_name: string;
  readonly ssl: ConnectionOptions | undefined;
}

function configError(message: string): CustosError {
  return new CustosError('CONFIG_INVALID', message, { details: [message] });
}

function readSource(src: PgSource, where: string, key: string): string {
  switch (src.kind) {
    case 'inline':
      return src.value;
    case 'env': {
      const value = process.env[src.name];
      if (value === undefined || value.trim() === '') {
        throw configError(`${where}.${key}: environment variable ${src.name} is not set`);
      }
      return value.trim();
    }
    case 'file':
      return readFileText(src.path, `${where}.${key}`);
  }
}

function readFileText(path: string, at: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    throw configError(`${at}: cannot read file ${path}`);
  }
}

/**
 * Resolves a store's connection: reads the URL and password from their environment variable or
 * file, and the TLS files. Errors name the config key and the variable or file, never a value.
 */
export function resolvePgOptions(spec: PostgresSpec): PgPoolOptions {
  const urlKey = spec.url.kind === 'env' ? 'urlEnv' : spec.url.kind === 'file' ? 'urlFile' : 'url';
  let url: URL;
  try {
    url = new URL(readSource(spec.url, spec.where, urlKey));
  } catch (err) {
    if (err instanceof CustosError) throw err;
    throw configError(`${spec.where}.${urlKey}: not a valid postgres:// URL`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw configError(`${spec.where}.${urlKey}: not a postgres:// URL`);
  }
  if (spec.password) {
    const key = spec.password.kind === 'env' ? 'passwordEnv' : 'passwordFile';
    url.password = encodeURIComponent(readSource(spec.password, spec.where, key));
  }
  let ssl: ConnectionOptions | undefined;
  if (spec.tls) {
    const ssl_params = [...url.searchParams.keys()].filter((k) => k.startsWith('ssl'));
    if (ssl_params.length > 0) {
      throw configError(
        `${spec.where}.${urlKey}: give TLS settings in ${spec.where}.tls, not as URL parameters`,
      );
    }
    const tls = spec.tls;
    const file = (p: string | undefined, key: string): string | undefined =>
      p === undefined ? undefined : readFileText(p, `${spec.where}.tls.${key}`);
    ssl = {
      rejectUnauthorized: tls.rejectUnauthorized,
      ca: file(tls.caFile, 'caFile'),
      cert: file(tls.certFile, 'certFile'),
      key: file(tls.keyFile, 'keyFile'),
      servername: tls.serverName,
    };
  }
  return {
    connectionString: url.href,
    max: spec.poolSize,
    statement_timeout: spec.statementTimeoutMs,
    query_timeout: spec.statementTimeoutMs > 0 ? spec.statementTimeoutMs + spec.connectTimeoutMs : undefined,
    connectionTimeoutMillis: spec.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'custos',
    ssl,
  };
}
