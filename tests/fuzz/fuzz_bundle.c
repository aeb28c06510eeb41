/*
 * Bundle import. The input is a bundle file, imported twice:
 *   - as it is, into a database that trusts no key;
 *   - resealed when its trailer points at a manifest: the manifest's SHA-256
 *     is recomputed and, when the trailer says the bundle is signed, it is
 *     signed again with this program's key, which the second database
 *     trusts. So mutations of the manifest reach its parser and the import
 *     behind it instead of stopping at the hash or the signature.
 * An import fails with a status and a message, or stores a version that
 * shows, reads back, imports again as the same version, and exports to a
 * bundle that imports again. Each import runs inside a transaction that is
 * rolled back, so every input meets the same two databases.
 */
#include <sodium.h>

#include "core/core_int.h"
#include "store/store_int.h"
#include "fuzz_common.h"

/* The bundle trailer (src/registry/bundle.c): offsets of its fields. */
#define TRAILER_BYTES 160
#define T_MANIFEST_OFFSET 0
#define T_MANIFEST_LEN 8
#define T_SHA256 16
#define T_FLAGS 48
#define T_PUBLIC_KEY 56
#define T_SIGNATURE 88

static const char *bundle_path, *export_path;
static uint8_t public_key[crypto_sign_PUBLICKEYBYTES], secret_key[crypto_sign_SECRETKEYBYTES];
static mlops_db *plain_db, *trusting_db;

static void setup(void)
{
    static const uint8_t seed[crypto_sign_SEEDBYTES] = "libmlops fuzz bundle signing key";
    bundle_path = fuzz_scratch_file("input.mlb");
    export_path = fuzz_scratch_file("export.mlb");
    FUZZ_CHECK(sodium_init() >= 0);
    FUZZ_CHECK(crypto_sign_seed_keypair(public_key, secret_key, seed) == 0);
    FUZZ_CHECK(mlops_db_open(&plain_db, ":memory:", "{\"actor\":\"fuzz\"}") == MLOPS_OK);
    FUZZ_CHECK(mlops_db_open(&trusting_db, ":memory:", "{\"actor\":\"fuzz\"}") == MLOPS_OK);
    FUZZ_CHECK(mlops_bundle_trust_key(trusting_db, public_key, "fuzz") == MLOPS_OK);
    /* A model of the seeds' name already exists in one database, not in the other. */
    FUZZ_CHECK(mlops_model_create(plain_db, "fraud", "present before the import", NULL) == MLOPS_OK);
}

/* A stored version can be shown and read, and goes out and comes back in as a bundle. */
static void check_imported(mlops_db *db, const char *model, int64_t version, const uint8_t *secret)
{
    char *shown = NULL, *model_again = NULL;
    void *artifact = NULL;
    size_t len = 0;
    int64_t again = 0;
    FUZZ_CHECK(mlops_version_show(&shown, db, model, version) == MLOPS_OK);
    FUZZ_CHECK(mlops_artifact_read(&artifact, &len, db, model, version) == MLOPS_OK);
    FUZZ_CHECK(mlops_bundle_import(&again, NULL, db, bundle_path) == MLOPS_OK);
    FUZZ_CHECK(again == version);
    FUZZ_CHECK(mlops_bundle_export(db, model, version, export_path, secret) == MLOPS_OK);
    FUZZ_CHECK(mlops_bundle_import(&again, &model_again, db, export_path) == MLOPS_OK);
    FUZZ_CHECK(strcmp(model, model_again) == 0);
    mlops_free(model_again);
    mlops_free(artifact);
    mlops_free(shown);
}

static void import(mlops_db *db, const uint8_t *data, size_t size, const uint8_t *secret)
{
    int64_t version = 0;
    char *model = NULL;
    int rc;
    fuzz_write_file(bundle_path, data, size);
    FUZZ_CHECK(mlops__tx_begin(db) == MLOPS_OK);
    rc = mlops_bundle_import(&version, &model, db, bundle_path);
    if (rc == MLOPS_OK) {
        FUZZ_CHECK(version >= 1 && model != NULL);
        check_imported(db, model, version, secret);
    } else {
        FUZZ_CHECK_FAILURE(rc);
        FUZZ_CHECK(version == 0 && model == NULL);
    }
    FUZZ_CHECK(mlops__tx_end(db, MLOPS_ESTATE) == MLOPS_ESTATE);
    FUZZ_CHECK(mlops__tx_depth(db) == 0);
    mlops_free(model);
}

/* Recompute the manifest hash (and the signature, with this program's key) of a bundle whose trailer is coherent. */
static int reseal(uint8_t *bundle, size_t size)
{
    uint8_t *trailer, message[8 + MLOPS__SHA256_BYTES];
    uint64_t offset, len;
    if (size < 8 + TRAILER_BYTES)
        return 0;
    trailer = bundle + size - TRAILER_BYTES;
    offset = fuzz_get_le(trailer + T_MANIFEST_OFFSET, 8);
    len = fuzz_get_le(trailer + T_MANIFEST_LEN, 8);
    if (offset < 8 || offset > size - TRAILER_BYTES || len != size - TRAILER_BYTES - offset)
        return 0;
    mlops__sha256_digest(trailer + T_SHA256, bundle + offset, (size_t)len);
    if (fuzz_get_le(trailer + T_FLAGS, 8) != 1)
        return 1;
    memcpy(trailer + T_PUBLIC_KEY, public_key, sizeof public_key);
    memcpy(message, bundle, 8);
    memcpy(message + 8, trailer + T_SHA256, MLOPS__SHA256_BYTES);
    FUZZ_CHECK(crypto_sign_detached(trailer + T_SIGNATURE, NULL, message, sizeof message, secret_key) == 0);
    return 2;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy;
    int sealed;
    if (!plain_db)
        setup();
    import(plain_db, data, size, NULL);
    copy = malloc(size ? size : 1);
    FUZZ_CHECK(copy != NULL);
    if (size)
        memcpy(copy, data, size);
    sealed = reseal(copy, size);
    if (sealed == 1)
        import(plain_db, copy, size, NULL);
    else if (sealed == 2)
        import(trusting_db, copy, size, secret_key);
    free(copy);
    return 0;
}
