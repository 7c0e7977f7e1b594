import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { verifyCheckpoint } from '../checkpoint/signed-checkpoint.js';
import { fromBase64 } from '../encoding/base64.js';
import { isWellFormedString, utf8Encode } from '../encoding/bytes.js';
import { parseEntry } from '../entry/entry-codec.js';
import { isVerifyError } from '../errors.js';
import { hashLeaf } from '../merkle/rfc6962.js';
import { verifyInclusion } from '../merkle/verify-inclusion.js';
import { type CliIo, CliUsageError, EXIT_FAILED, EXIT_OK } from './cli-io.js';
import { parseKeys, parseMinWitnesses } from './parse-keys.js';
import { printable } from './printable.js';

/** Help text of `custos-verify proof`. */
export const PROOF_USAGE = `Usage: custos-verify proof --receipt FILE|- --key VKEY [--key VKEY ...] [--min-witnesses N]

Verifies a ledger receipt: the checkpoint signature, the entry against schema v1, and the
inclusion proof of the entry at its index (RFC 9162 §2.1.3.2). A receipt is JSON:
  { "index": n, "entry": "<canonical entry JSON>", "proof": ["<base64>", ...],
    "checkpoint": "<signed checkpoint note>" }

  --receipt FILE  receipt file, or - for standard input
  --key VKEY      trusted verifier key name+hex8+base64 (repeatable): the log key and witness keys
  --min-witnesses N  witness keys that must have cosigned the checkpoint (default: all given)

Exit status: 0 verified, 1 a check failed, 2 usage or I/O error.`;

/** A receipt as the gateway hands it out with a ledger index. */
interface Receipt {
  readonly index: number;
  readonly entry: string;
  readonly proof: readonly string[];
  readonly checkpoint: string;
}

function toReceipt(value: unknown): Receipt | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  if (typeof r.index !== 'number' || !Number.isSafeInteger(r.index) || r.index < 0) return undefined;
  // A lone surrogate is not text: UTF-8 encoding would turn it into U+FFFD, so a receipt could
  // name an entry it does not hold and still verify.
  const isText = (v: unknown): v is string => typeof v === 'string' && isWellFormedString(v);
  if (!isText(r.entry) || !isText(r.checkpoint)) return undefined;
  if (!Array.isArray(r.proof) || !r.proof.every(isText)) return undefined;
  return { index: r.index, entry: r.entry, proof: r.proof as string[], checkpoint: r.checkpoint };
}

async function readReceipt(path: string, io: CliIo): Promise<string> {
  if (path === '-') return io.readStdin();
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new CliUsageError(`cannot read receipt ${path}`, { cause: err });
  }
}

function fail(io: CliIo, check: string, message: string): number {
  io.out(`FAIL ${check}: ${printable(message)}`);
  return EXIT_FAILED;
}

/** Runs `custos-verify proof`; returns the exit code. */
export async function runProofCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      receipt: { type: 'string' },
      key: { type: 'string', multiple: true },
      'min-witnesses': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help === true) {
    io.out(PROOF_USAGE);
    return EXIT_OK;
  }
  if (values.receipt === undefined) throw new CliUsageError('--receipt FILE|- is required');
  const verifiers = parseKeys(values.key);
  const minWitnesses = parseMinWitnesses(values['min-witnesses'], verifiers);
  const text = await readReceipt(values.receipt, io);
  let receipt: Receipt | undefined;
  try {
    receipt = toReceipt(JSON.parse(text));
  } catch {
    receipt = undefined;
  }
  if (receipt === undefined)
    return fail(
      io,
      'receipt',
      'receipt is not {index, entry, proof[], checkpoint} JSON of well-formed strings',
    );
  try {
    const { checkpoint } = await verifyCheckpoint(receipt.checkpoint, verifiers, { minWitnesses });
    const entryBytes = utf8Encode(receipt.entry);
    const entry = parseEntry(entryBytes);
    const proof = receipt.proof.map((p) => fromBase64(p));
    verifyInclusion(receipt.index, checkpoint.size, hashLeaf(entryBytes), proof, checkpoint.root);
    io.out(`origin:   ${printable(checkpoint.origin)}`);
    io.out(`size:     ${checkpoint.size}`);
    const summary = `${entry.type} ${entry.action} ${entry.decision} at ${entry.time}`;
    io.out(`entry:    ${receipt.index} (${printable(summary)})`);
    io.out(`OK: entry ${receipt.index} is included in the checkpoint`);
    return EXIT_OK;
  } catch (err) {
    if (!isVerifyError(err)) throw err;
    return fail(io, err.code, err.message);
  }
}
