import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { auditLedger, type TrustedState } from '../audit/audit-ledger.js';
import type { AuditReport } from '../audit/audit-report.js';
import type { TileSource } from '../audit/tile-source.js';
import { verifyCheckpoint } from '../checkpoint/signed-checkpoint.js';
import { isVerifyError } from '../errors.js';
import { createWorkerCheckPool } from '../node/worker-check-pool.js';
import type { NoteVerifier } from '../note/note-verifier.js';
import { type CliIo, CliUsageError, EXIT_FAILED, EXIT_OK } from './cli-io.js';
import { DirTileSource } from './dir-tile-source.js';
import { HttpTileSource, type HttpTileSourceOptions } from './http-tile-source.js';
import { parseKeys, parseMinWitnesses } from './parse-keys.js';
import { printable } from './printable.js';
import { readStateFile, writeStateFile } from './state-file.js';

/** Help text of `custos-verify ledger`. */
export const LEDGER_USAGE = `Usage: custos-verify ledger (--url URL | --dir DIR) --key VKEY [--key VKEY ...] [--min-witnesses N] [--state FILE] [--token-file FILE] [--timeout SECONDS] [--jobs N] [--json]

Audits a whole Custos ledger served as tiles (c2sp.org/tlog-tiles): verifies the signed
checkpoint, schema-checks and hashes every entry, compares with the hash tiles, recomputes
the root, and checks consistency with the previously trusted checkpoint.

  --url URL     log prefix over HTTP(S) (serves checkpoint and tile/...)
  --token-file FILE  bearer token sent with --url requests (or env CUSTOS_VERIFY_TOKEN)
  --timeout SECONDS  time allowed for each --url request, body included (default 30)
  --dir DIR     log prefix as a local directory
  --key VKEY    trusted verifier key name+hex8+base64 (repeatable): the log key (type 0x01,
                named after the origin) and witness keys (type 0x04)
  --min-witnesses N  witness keys that must have cosigned the checkpoint (default: all given)
  --state FILE  trusted checkpoint: read if it exists, replaced after a successful audit
  --jobs N      threads that check and hash entry bundles (default: CPUs, at most 4; 1 = none)
  --json        print the report as JSON

Exit status: 0 verified, 1 a check failed, 2 usage or I/O error.`;

async function readToken(file: string | undefined): Promise<string | undefined> {
  if (file === undefined) return process.env.CUSTOS_VERIFY_TOKEN || undefined;
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    throw new CliUsageError(`cannot read token file ${file}`, { cause: err });
  }
}

async function openSource(
  url: string | undefined,
  dir: string | undefined,
  http: HttpTileSourceOptions,
): Promise<TileSource> {
  if ((url === undefined) === (dir === undefined))
    throw new CliUsageError('give exactly one of --url or --dir');
  return url !== undefined ? new HttpTileSource(url, http) : DirTileSource.open(dir as string);
}

/** `--timeout`: seconds, more than 0 and at most an hour; absent: the source's default. */
function parseTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (!/^[0-9]+(\.[0-9]+)?$/.test(value) || seconds <= 0 || seconds > 3600)
    throw new CliUsageError('--timeout must be a number of seconds, more than 0 and at most 3600');
  return seconds * 1000;
}

async function loadTrusted(
  file: string,
  verifiers: readonly NoteVerifier[],
): Promise<{ state: TrustedState; origin: string } | undefined> {
  const text = await readStateFile(file);
  if (text === undefined) return undefined;
  try {
    // The stored checkpoint met the witness quorum when it was stored; a witness key added
    // since must not make it unreadable. Every signature on it by a trusted key must verify.
    const { checkpoint } = await verifyCheckpoint(text, verifiers, { minWitnesses: 0 });
    return { state: { size: checkpoint.size, root: checkpoint.root }, origin: checkpoint.origin };
  } catch (err) {
    if (isVerifyError(err))
      throw new CliUsageError(
        `state file ${file} is not a checkpoint signed by the given keys (${err.code})`,
      );
    throw err;
  }
}

// ECMAScript dates reach ±8.64e15 ms (ECMA-262 §21.4.1.1); a valid cosignature may claim up to
// 2^63 − 1 seconds, so print the seconds themselves beyond that.
const MAX_DATE_SECONDS = 8_640_000_000_000n;

function formatTimestamp(seconds: bigint): string {
  return seconds <= MAX_DATE_SECONDS
    ? new Date(Number(seconds) * 1000).toISOString()
    : `${seconds} s after 1970-01-01T00:00:00Z`;
}

/** The report as JSON; timestamps stay exact (a number when safe, else a decimal string). */
function reportJson(report: AuditReport, seconds: number): string {
  const cosignatures = report.cosignatures.map((c) => ({
    ...c,
    timestamp: c.timestamp <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(c.timestamp) : c.timestamp.toString(),
  }));
  return JSON.stringify({ ...report, cosignatures, seconds }, null, 2);
}

function printReport(io: CliIo, report: AuditReport, seconds: number): void {
  io.out(`origin:          ${printable(report.origin ?? '(unverified)')}`);
  io.out(`size:            ${report.size ?? '-'}`);
  io.out(`root:            ${report.root ?? '-'}`);
  io.out(`entries checked: ${report.entriesChecked}`);
  for (const c of report.cosignatures)
    io.out(`cosigned by:     ${printable(c.name)} at ${formatTimestamp(c.timestamp)}`);
  io.out(`time:            ${seconds.toFixed(3)} s`);
  for (const f of report.failures) {
    io.out(`FAIL ${f.check}${f.index === undefined ? '' : ` [entry ${f.index}]`}: ${printable(f.message)}`);
  }
  io.out(report.ok ? 'OK: ledger verified' : `FAILED: ${report.failures.length} check(s) failed`);
}

/** `--jobs`: a whole number from 1 to 64; by default the CPUs, at most 4. */
function parseJobs(value: string | undefined): number {
  if (value === undefined) return Math.min(4, availableParallelism());
  if (!/^[0-9]+$/.test(value) || Number(value) < 1 || Number(value) > 64)
    throw new CliUsageError('--jobs must be a whole number from 1 to 64');
  return Number(value);
}

/** Runs `custos-verify ledger`; returns the exit code. */
export async function runLedgerCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      url: { type: 'string' },
      dir: { type: 'string' },
      key: { type: 'string', multiple: true },
      'min-witnesses': { type: 'string' },
      state: { type: 'string' },
      'token-file': { type: 'string' },
      timeout: { type: 'string' },
      jobs: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help === true) {
    io.out(LEDGER_USAGE);
    return EXIT_OK;
  }
  const jobs = parseJobs(values.jobs);
  const timeoutMs = parseTimeout(values.timeout);
  const verifiers = parseKeys(values.key);
  const minWitnesses = parseMinWitnesses(values['min-witnesses'], verifiers);
  const token = await readToken(values['token-file']);
  const source = await openSource(values.url, values.dir, { token, timeoutMs });
  const checkpoint = await source.get('checkpoint');
  if (checkpoint === undefined) throw new CliUsageError('no checkpoint is served at the log prefix');
  const trusted = values.state === undefined ? undefined : await loadTrusted(values.state, verifiers);
  const started = performance.now();
  const pool = jobs > 1 ? createWorkerCheckPool(jobs) : undefined;
  let report: AuditReport;
  try {
    report = await auditLedger(source, {
      checkpoint,
      verifiers,
      minWitnesses,
      trusted: trusted?.state,
      pool,
    });
  } finally {
    await pool?.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const failures = [...report.failures];
  if (trusted !== undefined && report.origin !== undefined && report.origin !== trusted.origin) {
    failures.push({
      check: 'consistency',
      message: 'the checkpoint origin differs from the trusted checkpoint origin',
    });
  }
  const final: AuditReport = { ...report, ok: failures.length === 0, failures };
  if (values.json === true) io.out(reportJson(final, seconds));
  else printReport(io, final, seconds);
  if (!final.ok) return EXIT_FAILED;
  if (values.state !== undefined) await writeStateFile(values.state, new TextDecoder().decode(checkpoint));
  return EXIT_OK;
}
