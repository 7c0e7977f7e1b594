/**
 * @custos/verify: the zero-dependency verifier for the Custos ledger. Runs in Node and browsers.
 * @packageDocumentation
 */

/** Version of this package. */
export const VERIFY_VERSION = '0.1.0';

export { type AuditOptions, auditLedger, type TrustedState } from './audit/audit-ledger.js';
export {
  type AuditCheck,
  type AuditCosignature,
  type AuditFailure,
  type AuditReport,
  FailureList,
} from './audit/audit-report.js';
export type { BundleCheckPool, BundleCheckResult, InvalidEntry } from './audit/bundle-checker.js';
export {
  type FetchedTile,
  fetchTile,
  MemoryTileSource,
  type TileGetOptions,
  type TileSource,
} from './audit/tile-source.js';
export { type Checkpoint, formatCheckpoint, parseCheckpoint } from './checkpoint/checkpoint.js';
export {
  COSIGNATURE_SIZE,
  cosignatureMessage,
  cosignatureTimestamp,
  createCosignatureVerifier,
  createCosigner,
} from './checkpoint/cosignature.js';
export {
  signCheckpoint,
  type VerifiedCheckpoint,
  type VerifiedCosignature,
  type VerifyCheckpointOptions,
  verifyCheckpoint,
  witnessCount,
  witnessKeys,
  witnessQuorum,
} from './checkpoint/signed-checkpoint.js';
export {
  createEd25519Signer,
  createEd25519Verifier,
  type Ed25519SignFn,
  type Ed25519VerifyFn,
  ed25519PublicKeyFromSeed,
  ed25519Sign,
  ed25519Verify,
  randomSeed,
} from './crypto/ed25519.js';
export { SHA256_IMPLEMENTATION, sha256, sha256Into } from './crypto/sha256.js';
export { sha256Pure } from './crypto/sha256-pure.js';
export { fromBase64, toBase64 } from './encoding/base64.js';
export { concatBytes, equalBytes, toHex, utf8DecodeStrict, utf8Encode } from './encoding/bytes.js';
export { checkEntryBytes } from './entry/check-entry-bytes.js';
export { encodeEntryInputInto } from './entry/encode-entry-into.js';
export {
  encodeEntry,
  encodeEntryInputText,
  encodeEntryReference,
  encodeEntryText,
  parseEntry,
} from './entry/entry-codec.js';
export {
  DECISIONS,
  type Decision,
  ENTRY_TYPES,
  type EntryDetailValue,
  type EntryPrincipal,
  type EntryResource,
  type EntryType,
  type LedgerEntry,
  MAX_ENTRY_STRING,
  ORG_KINDS,
  type OrgKind,
  SUBJECT_REF_PATTERN,
} from './entry/ledger-entry.js';
export { validateEntry } from './entry/validate-entry.js';
export { isVerifyError, VerifyError, type VerifyErrorCode } from './errors.js';
export { canonicalize, canonicalizeToBytes, type JsonValue } from './jcs/canonicalize.js';
export { CompactRange, type CompactRangeState } from './merkle/compact-range.js';
export { MerkleTree } from './merkle/merkle-tree.js';
export {
  consistencyProof,
  type GetNode,
  type GetNodeAsync,
  inclusionProof,
  type ProofPlan,
  planConsistencyProof,
  planInclusionProof,
  resolveProofPlan,
  resolveProofPlanAsync,
  rootFromNodes,
} from './merkle/proof-generation.js';
export {
  emptyRoot,
  HASH_SIZE,
  hashChildren,
  hashChildrenAt,
  hashLeaf,
  hashLeafInto,
} from './merkle/rfc6962.js';
export { rootFromLeafHashes } from './merkle/root.js';
export { decomposeRange, type NodeId } from './merkle/tree-math.js';
export { verifyConsistency } from './merkle/verify-consistency.js';
export { rootFromInclusionProof, verifyInclusion } from './merkle/verify-inclusion.js';
export { createNoteSigner, type GeneratedNoteKey, generateNoteKey } from './note/generate-key.js';
export { computeKeyId, formatKeyId } from './note/key-id.js';
export {
  type NoteSigner,
  type NoteVerifier,
  SIGNATURE_TYPE_COSIGNATURE_V1,
  SIGNATURE_TYPE_ED25519,
} from './note/note-verifier.js';
export {
  formatNote,
  formatSignatureLine,
  isValidKeyName,
  MAX_NOTE_SIGNATURES,
  type Note,
  type NoteSignature,
  parseNote,
} from './note/signed-note.js';
export {
  createEd25519NoteSigner,
  createEd25519NoteVerifier,
  formatSignerKey,
  formatVerifierKey,
  parseSignerKey,
  parseVerifierKey,
  type SignerKey,
} from './note/verifier-key.js';
export {
  addNoteSignatures,
  signNote,
  type VerifiedNote,
  type VerifiedSignature,
  verifyNote,
} from './note/verify-note.js';
export { buildTiles } from './tiles/build-tiles.js';
export { decodeEntryBundle, encodeEntryBundle, MAX_ENTRY_SIZE } from './tiles/entry-bundle.js';
export {
  decodeHashTile,
  encodeHashTile,
  locateNodeInTiles,
  nodeFromTiles,
  type ReadHashTile,
  subtreeRootOfHashes,
  type TileNodeLocation,
} from './tiles/hash-tile.js';
export {
  entryBundlePath,
  formatTileIndex,
  formatTilePath,
  hashTilePath,
  parseTilePath,
  TILE_HEIGHT,
  TILE_WIDTH,
  type TileRef,
} from './tiles/tile-path.js';
export { entryBundlesForSize, hashTileFor, hashTilesForSize } from './tiles/tiles-for-size.js';
