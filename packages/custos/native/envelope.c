/*
 * custos_envelope: AES-256-GCM open for the record read path, as a Node-API addon.
 *
 * Node's createDecipheriv builds a new cipher context (and looks the cipher up) on every call,
 * which costs more than the decryption of a small record. This addon decrypts with the OpenSSL
 * that Node itself is built with (its symbols are exported by the node binary; nothing else is
 * linked), using one cipher fetched once and one context per thread that is reset after every
 * call, so no key schedule outlives the call. It does exactly what the portable path does:
 * iv(12) || ciphertext || tag(16), the AAD authenticated, the tag checked by OpenSSL. On any
 * failure it wipes what it decrypted and returns undefined; the caller maps that to one opaque
 * DECRYPT_FAILED.
 */
#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>

#define KEY_LEN 32
#define IV_LEN 12
#define TAG_LEN 16

typedef struct {
  EVP_CIPHER *cipher;
  EVP_CIPHER_CTX *ctx;
} envelope_state;

static void free_state(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  envelope_state *s = (envelope_state *)data;
  if (s == NULL) return;
  if (s->ctx != NULL) EVP_CIPHER_CTX_free(s->ctx);
  if (s->cipher != NULL) EVP_CIPHER_free(s->cipher);
  free(s);
}

/* A Uint8Array (or Buffer) argument's bytes; 0 when it is not one. */
static int bytes_of(napi_env env, napi_value v, unsigned char **data, size_t *len) {
  bool is_typed = false;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  void *raw = NULL;
  size_t length = 0;
  if (napi_get_typedarray_info(env, v, &type, &length, &raw, NULL, NULL) != napi_ok) return 0;
  if (type != napi_uint8_array) return 0;
  *data = (unsigned char *)raw;
  *len = length;
  return 1;
}

static napi_value undefined_value(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

/* open(key: Uint8Array(32), sealed: Uint8Array, aad: Uint8Array): Buffer | undefined */
static napi_value open_record(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  envelope_state *s = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3) {
    napi_throw_type_error(env, NULL, "open(key, sealed, aad)");
    return NULL;
  }
  if (napi_get_instance_data(env, (void **)&s) != napi_ok || s == NULL) {
    napi_throw_error(env, NULL, "envelope addon not initialised");
    return NULL;
  }
  unsigned char *key, *sealed, *aad;
  size_t key_len, sealed_len, aad_len;
  if (!bytes_of(env, argv[0], &key, &key_len) || !bytes_of(env, argv[1], &sealed, &sealed_len) ||
      !bytes_of(env, argv[2], &aad, &aad_len)) {
    napi_throw_type_error(env, NULL, "open(key, sealed, aad) takes Uint8Arrays");
    return NULL;
  }
  if (key_len != KEY_LEN || sealed_len < IV_LEN + TAG_LEN || aad_len > (size_t)0x7fffffff ||
      sealed_len - IV_LEN - TAG_LEN > (size_t)0x7fffffff)
    return undefined_value(env);

  size_t ct_len = sealed_len - IV_LEN - TAG_LEN;
  const unsigned char *iv = sealed;
  const unsigned char *ct = sealed + IV_LEN;
  const unsigned char *tag = sealed + IV_LEN + ct_len;

  void *out_data = NULL;
  napi_value out;
  if (napi_create_buffer(env, ct_len, &out_data, &out) != napi_ok) {
    napi_throw_error(env, NULL, "cannot allocate the plaintext buffer");
    return NULL;
  }
  unsigned char scratch[1];
  unsigned char *plain = ct_len > 0 ? (unsigned char *)out_data : scratch;

  int ok = 1, len = 0, tail = 0;
  EVP_CIPHER_CTX *ctx = s->ctx;
  ok = ok && EVP_DecryptInit_ex2(ctx, s->cipher, NULL, NULL, NULL) == 1;
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, IV_LEN, NULL) == 1;
  ok = ok && EVP_DecryptInit_ex2(ctx, NULL, key, iv, NULL) == 1;
  if (ok && aad_len > 0) ok = EVP_DecryptUpdate(ctx, NULL, &len, aad, (int)aad_len) == 1;
  if (ok && ct_len > 0) ok = EVP_DecryptUpdate(ctx, plain, &len, ct, (int)ct_len) == 1;
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, (void *)tag) == 1;
  ok = ok && EVP_DecryptFinal_ex(ctx, plain + (ct_len > 0 ? len : 0), &tail) == 1;
  /* No key schedule or GHASH state outlives the call. */
  EVP_CIPHER_CTX_reset(ctx);
  if (!ok) {
    if (ct_len > 0) OPENSSL_cleanse(out_data, ct_len);
    return undefined_value(env);
  }
  return out;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  envelope_state *s = (envelope_state *)calloc(1, sizeof(envelope_state));
  if (s == NULL) return NULL;
  s->cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
  s->ctx = EVP_CIPHER_CTX_new();
  if (s->cipher == NULL || s->ctx == NULL) {
    free_state(env, s, NULL);
    napi_throw_error(env, NULL, "AES-256-GCM is not available");
    return NULL;
  }
  if (napi_set_instance_data(env, s, free_state, NULL) != napi_ok) {
    free_state(env, s, NULL);
    return NULL;
  }
  napi_value fn;
  if (napi_create_function(env, "open", NAPI_AUTO_LENGTH, open_record, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "open", fn) != napi_ok) return NULL;
  return exports;
}
