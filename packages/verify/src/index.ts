/**
 * @custos/verify: the zero-dependency verifier for the Custos ledger.
 * @packageDocumentation
 */
export const VERIFY_VERSION = '0.1.0';
