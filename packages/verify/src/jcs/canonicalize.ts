import { isWellFormedString } from '../encoding/bytes.js';
import { VerifyError } from '../errors.js';

/** A JSON value as the canonicalizer accepts it (`undefined` members of objects are dropped). */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue | undefined };

function invalid(message: string): never {
  throw new VerifyError('JSON_INVALID', message);
}

function serializeString(s: string): string {
  // RFC 8785 §3.2.2.2 serialises strings as ECMAScript JSON.stringify does; lone surrogates are
  // not I-JSON (RFC 7493 §2.1) and are rejected.
  if (!isWellFormedString(s)) invalid('string contains a lone surrogate');
  return JSON.stringify(s);
}

function serialize(value: unknown, depth: number): string {
  if (depth > 64) invalid('JSON nesting is too deep');
  switch (typeof value) {
    case 'string':
      return serializeString(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      // RFC 8785 §3.2.2.3: ECMAScript Number serialisation; NaN and Infinity are not JSON.
      if (!Number.isFinite(value)) invalid('number is not finite');
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          if (item === undefined) invalid('array element is undefined');
          out += (i > 0 ? ',' : '') + serialize(item, depth + 1);
        }
        return `${out}]`;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) invalid('only plain objects can be canonicalized');
      const record = value as Record<string, unknown>;
      // RFC 8785 §3.2.3: sort property names by their UTF-16 code units (the default sort order).
      const keys = Object.keys(record).sort();
      let out = '{';
      let first = true;
      for (const k of keys) {
        const v = record[k];
        if (v === undefined) continue;
        out += `${first ? '' : ','}${serializeString(k)}:${serialize(v, depth + 1)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      return invalid(`cannot canonicalize a ${typeof value}`);
  }
}

/**
 * Serialises a JSON value per RFC 8785 (JSON Canonicalization Scheme): no whitespace, object
 * members sorted by UTF-16 code units, ECMAScript number and string serialisation. Rejects
 * non-finite numbers, lone surrogates, undefined array elements and non-plain objects
 * (VerifyError 'JSON_INVALID'); drops `undefined` object members.
 */
export function canonicalize(value: unknown): string {
  return serialize(value, 0);
}

/** {@link canonicalize} encoded as UTF-8 bytes. */
export function canonicalizeToBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalize(value));
}
