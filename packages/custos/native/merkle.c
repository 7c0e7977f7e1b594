/*
 * custos_merkle: RFC 6962 leaf and interior-node hashing of whole ledger batches, as a Node-API
 * addon.
 *
 * Hashing is the largest CPU cost of a ledger append, and nearly all of it is the fixed cost of a
 * call into node:crypto, not SHA-256 itself: a batch of thousands of entries costs thousands of
 * calls. Here one call hashes a whole batch (or a whole level of its interior nodes) with the
 * SHA-256 of the OpenSSL that Node itself is built with (its symbols are exported by the node
 * binary; nothing else is linked). The results are the RFC 6962 hashes, byte for byte the same as
 * the portable path computes; the loader checks that before it uses the addon.
 *
 * leafHashes(blob, lengths, out): out[32i..32i+32] = SHA-256(0x00 || entry i), where the
 *   entries lie back to back in blob and lengths[i] is the length of entry i.
 * nodeHashes(src, out): out[32k..32k+32] = SHA-256(0x01 || src[64k..64k+64]), the parent of
 *   each pair of sibling hashes.
 * Both throw a TypeError for arguments of the wrong type and a RangeError for sizes that do not
 * add up (also when a length changes while hashing, as it can when out shares memory with
 * lengths); they never read or write outside the arrays they are given.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <node_api.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <string.h>

#define HASH_LEN 32

/* A typed array argument of the given type: its bytes and element count; 0 when it is not one. */
static int typed_of(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *count) {
  bool is_typed = false;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  void *raw = NULL;
  size_t length = 0;
  if (napi_get_typedarray_info(env, v, &type, &length, &raw, NULL, NULL) != napi_ok) return 0;
  if (type != want) return 0;
  *data = raw;
  *count = length;
  return 1;
}

/* leafHashes(blob: Uint8Array, lengths: Uint32Array, out: Uint8Array): undefined */
static napi_value leaf_hashes(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3) {
    napi_throw_type_error(env, NULL, "leafHashes(blob, lengths, out)");
    return NULL;
  }
  void *blob_raw, *lengths_raw, *out_raw;
  size_t blob_len, count, out_len;
  if (!typed_of(env, argv[0], napi_uint8_array, &blob_raw, &blob_len) ||
      !typed_of(env, argv[1], napi_uint32_array, &lengths_raw, &count) ||
      !typed_of(env, argv[2], napi_uint8_array, &out_raw, &out_len)) {
    napi_throw_type_error(env, NULL, "leafHashes(blob: Uint8Array, lengths: Uint32Array, out: Uint8Array)");
    return NULL;
  }
  const unsigned char *blob = (const unsigned char *)blob_raw;
  const uint32_t *lengths = (const uint32_t *)lengths_raw;
  unsigned char *out = (unsigned char *)out_raw;
  /* Every entry must lie inside blob, exactly filling it, and out must hold one hash per entry. */
  size_t total = 0;
  for (size_t i = 0; i < count; i++) {
    if (lengths[i] > blob_len - total) {
      napi_throw_range_error(env, NULL, "leafHashes: the lengths run past the end of the blob");
      return NULL;
    }
    total += lengths[i];
  }
  if (total != blob_len || count > SIZE_MAX / HASH_LEN || out_len != count * HASH_LEN) {
    napi_throw_range_error(env, NULL, "leafHashes: sizes do not add up");
    return NULL;
  }
  static const unsigned char leaf_prefix = 0x00;
  SHA256_CTX ctx;
  size_t off = 0;
  for (size_t i = 0; i < count; i++) {
    /* Read once and checked again: out may share memory with lengths (writing a hash would then
     * change a length already checked), or lengths may be shared with another thread. */
    size_t n = lengths[i];
    if (n > blob_len - off) {
      napi_throw_range_error(env, NULL, "leafHashes: the lengths changed while hashing");
      return NULL;
    }
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, &leaf_prefix, 1);
    SHA256_Update(&ctx, blob + off, n);
    SHA256_Final(out + HASH_LEN * i, &ctx);
    off += n;
  }
  return NULL;
}

/* nodeHashes(src: Uint8Array, out: Uint8Array): undefined */
static napi_value node_hashes(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2) {
    napi_throw_type_error(env, NULL, "nodeHashes(src, out)");
    return NULL;
  }
  void *src_raw, *out_raw;
  size_t src_len, out_len;
  if (!typed_of(env, argv[0], napi_uint8_array, &src_raw, &src_len) ||
      !typed_of(env, argv[1], napi_uint8_array, &out_raw, &out_len)) {
    napi_throw_type_error(env, NULL, "nodeHashes(src: Uint8Array, out: Uint8Array)");
    return NULL;
  }
  if (out_len % HASH_LEN != 0 || src_len / 2 != out_len || src_len % 2 != 0) {
    napi_throw_range_error(env, NULL, "nodeHashes: src must hold two hashes per hash of out");
    return NULL;
  }
  const unsigned char *src = (const unsigned char *)src_raw;
  unsigned char *out = (unsigned char *)out_raw;
  /* Each pair is copied before its hash is written, so out may be src itself (hashing a level in
   * place); any other overlap gives wrong hashes, never an access outside the arrays. */
  unsigned char input[1 + 2 * HASH_LEN];
  input[0] = 0x01;
  /* SHA256_Init/Update/Final, not SHA256(): in OpenSSL 3 the one-shot SHA256() looks the digest up
   * by name on every call, which costs several times the hash of these 65 bytes. */
  SHA256_CTX ctx;
  for (size_t k = 0; k < out_len / HASH_LEN; k++) {
    memcpy(input + 1, src + 2 * HASH_LEN * k, 2 * HASH_LEN);
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, input, sizeof input);
    SHA256_Final(out + HASH_LEN * k, &ctx);
  }
  return NULL;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_value fn;
  if (napi_create_function(env, "leafHashes", NAPI_AUTO_LENGTH, leaf_hashes, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "leafHashes", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "nodeHashes", NAPI_AUTO_LENGTH, node_hashes, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "nodeHashes", fn) != napi_ok) return NULL;
  return exports;
}
