import { createHmac } from 'node:crypto';

/** Domain separation: the same custodian key must never yield the same MAC for another purpose. */
const CONTEXT = 'custos subject-ref v1\n';

/**
 * Returns the keyed pseudonym of a subject as the ledger schema wants it: `sr1:` and the
 * base64url (unpadded) HMAC-SHA256 of the subject id under the custodian key. The ledger never
 * holds a raw subject id, so erasing a subject never means rewriting the ledger.
 */
export function subjectRef(key: Uint8Array, subjectId: string): string {
  return `sr1:${createHmac('sha256', key).update(CONTEXT).update(subjectId, 'utf8').digest('base64url')}`;
}
