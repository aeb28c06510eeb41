/*
 * Bundles: a round trip between two databases keeps artifact, metadata,
 * signature, metrics, lineage and profile; import is idempotent; truncated,
 * damaged, tampered, unsigned or wrongly signed bundles are refused and
 * change nothing.
 */
#include <math.h>
#include <sodium.h>

#include "registry_fixture.h"

static const size_t ART_LEN = (2u << 20) + 4321;

static mlops_db *make_source(const char *name)
{
    mlops_db *db = rt_open(name);
    assert_int_equal(mlops_model_create(db, "fraud", "card fraud", "{\"team\": \"risk\"}"), MLOPS_OK);
    rt_register(db, "fraud", 1, 100, NULL);
    rt_register(db, "fraud", 42, ART_LEN,
                "{\"metadata\": {\"framework\": \"torch\"}, \"tags\": {\"stage\": \"prod\"},"
                " \"signature\": {\"inputs\": [{\"name\": \"x\", \"shape\": [1, 8]}]},"
                " \"lineage\": {\"feature_views\": [{\"name\": \"txn\", \"version\": 3}], \"as_of_us\": 1234}}");
    assert_int_equal(mlops_version_metric_log(db, "fraud", 2, "auc", 0.9375, 0.91, 0.95, "holdout", 555), MLOPS_OK);
    assert_int_equal(mlops_version_metric_log(db, "fraud", 2, "loss", 0.1, NAN, NAN, "train", 556), MLOPS_OK);
    assert_int_equal(mlops_version_profile_set(db, "fraud", 2, "profile\0bytes", 13), MLOPS_OK);
    return db;
}

static long long versions_in(const char *name)
{
    return rt_sql_int(name, "SELECT count(*) FROM reg_version");
}

static void test_round_trip_and_idempotence(void **state)
{
    mlops_db *src = make_source("bundle_src.db");
    mlops_db *dst = rt_open("bundle_dst.db");
    char path[4096];
    void *a = NULL, *b = NULL, *profile = NULL;
    size_t a_len = 0, b_len = 0, profile_len = 0;
    char *model = NULL, *json = NULL;
    int64_t version = 0, again = 0;
    cJSON *doc, *metric;
    (void)state;
    snprintf(path, sizeof path, "%s", ts_path("fraud2.mlb"));
    assert_int_equal(mlops_bundle_export(src, "fraud", 2, path, NULL), MLOPS_OK);
    /* The destination already has a model of that name with one version: the import takes number 2. */
    assert_int_equal(mlops_model_create(dst, "fraud", NULL, NULL), MLOPS_OK);
    rt_register(dst, "fraud", 7, 10, NULL);
    assert_int_equal(mlops_bundle_import(&version, &model, dst, path), MLOPS_OK);
    assert_int_equal(version, 2);
    assert_string_equal(model, "fraud");
    mlops_free(model);
    assert_int_equal(mlops_artifact_read(&a, &a_len, src, "fraud", 2), MLOPS_OK);
    assert_int_equal(mlops_artifact_read(&b, &b_len, dst, "fraud", 2), MLOPS_OK);
    assert_int_equal(a_len, ART_LEN);
    assert_int_equal(b_len, a_len);
    assert_memory_equal(a, b, a_len);
    mlops_free(a);
    mlops_free(b);
    assert_int_equal(mlops_version_profile_get(&profile, &profile_len, dst, "fraud", 2), MLOPS_OK);
    assert_int_equal(profile_len, 13);
    assert_memory_equal(profile, "profile\0bytes", 13);
    mlops_free(profile);
    assert_int_equal(mlops_version_show(&json, dst, "fraud", 2), MLOPS_OK);
    doc = rt_json(json);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "metadata"), "framework")->valuestring, "torch");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "tags"), "stage")->valuestring, "prod");
    assert_true(cJSON_IsObject(cJSON_GetObjectItem(doc, "signature")));
    assert_int_equal((int)rt_num(doc, "as_of_us"), 1234);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "feature_views")), 1);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "metrics")), 2);
    metric = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "metrics"), 0);
    assert_true(rt_num(metric, "value") == 0.9375);
    assert_true(rt_num(metric, "ci_low") == 0.91);
    assert_int_equal((int)rt_num(metric, "time_us"), 555);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "metrics"), 1),
                                                 "ci_low")));
    assert_int_equal((int)rt_num(cJSON_GetObjectItem(doc, "origin"), "source_version"), 2);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "origin"), "source_model")->valuestring, "fraud");
    cJSON_Delete(doc);
    /* Same content again, also exported a second time: the same version. */
    assert_int_equal(mlops_bundle_import(&again, NULL, dst, path), MLOPS_OK);
    assert_int_equal(again, 2);
    assert_int_equal(mlops_bundle_export(src, "fraud", 2, ts_path("fraud2-again.mlb"), NULL), MLOPS_OK);
    assert_int_equal(mlops_bundle_import(&again, NULL, dst, ts_path("fraud2-again.mlb")), MLOPS_OK);
    assert_int_equal(again, 2);
    assert_int_equal(versions_in("bundle_dst.db"), 2);
    /* A new database gets the model too, with number 1. */
    {
        mlops_db *fresh = rt_open("bundle_fresh.db");
        assert_int_equal(mlops_bundle_import(&version, NULL, fresh, path), MLOPS_OK);
        assert_int_equal(version, 1);
        assert_int_equal(mlops_model_show(&json, fresh, "fraud"), MLOPS_OK);
        doc = rt_json(json);
        assert_string_equal(cJSON_GetObjectItem(doc, "description")->valuestring, "card fraud");
        cJSON_Delete(doc);
        mlops_db_close(fresh);
    }
    /* Exporting needs no write access. */
    {
        mlops_db *reader = NULL;
        assert_int_equal(mlops_db_open(&reader, ts_path("bundle_src.db"), "{\"read_only\": true}"), MLOPS_OK);
        assert_int_equal(mlops_bundle_export(reader, "fraud", 2, ts_path("from-read-only.mlb"), NULL), MLOPS_OK);
        mlops_db_close(reader);
        assert_int_equal(mlops_bundle_import(&again, NULL, dst, ts_path("from-read-only.mlb")), MLOPS_OK);
        assert_int_equal(again, 2);
    }
    ts_assert_error(mlops_bundle_export(src, "fraud", 9, ts_path("x.mlb"), NULL), MLOPS_ENOTFOUND, "version 9");
    ts_assert_error(mlops_bundle_export(src, "fraud", 2, "/nonexistent/dir/x.mlb", NULL), MLOPS_EIO, "cannot create");
    ts_assert_error(mlops_bundle_import(&version, NULL, dst, ts_path("absent.mlb")), MLOPS_ENOTFOUND,
                    "cannot be opened");
    mlops_db_close(src);
    mlops_db_close(dst);
}

static void write_variant(const char *name, const char *data, size_t len)
{
    ts_write_file(ts_path(name), data, len);
}

static void test_damaged_bundles_change_nothing(void **state)
{
    mlops_db *src = make_source("damage_src.db");
    mlops_db *dst = rt_open("damage_dst.db");
    char path[4096];
    size_t len = 0, cuts[] = {0, 5, 100, 1u << 20, 0, 0}, i;
    char *bytes, *copy;
    long long audit_before;
    int64_t version = 0;
    (void)state;
    snprintf(path, sizeof path, "%s", ts_path("damage.mlb"));
    assert_int_equal(mlops_bundle_export(src, "fraud", 2, path, NULL), MLOPS_OK);
    bytes = ts_read_file(path, &len);
    copy = malloc(len);
    cuts[4] = len - 1;
    cuts[5] = len - 200;
    audit_before = rt_sql_int("damage_dst.db", "SELECT count(*) FROM audit_log");
    for (i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        write_variant("cut.mlb", bytes, cuts[i]);
        assert_true(mlops_bundle_import(&version, NULL, dst, ts_path("cut.mlb")) < 0);
        assert_true(mlops_error_last()->code == MLOPS_ECORRUPT || mlops_error_last()->code == MLOPS_EFORMAT);
    }
    write_variant("cut.mlb", bytes, len - 1);
    ts_assert_error(mlops_bundle_import(&version, NULL, dst, ts_path("cut.mlb")), MLOPS_ECORRUPT, "truncated");
    write_variant("junk.mlb", "hello, world", 12);
    ts_assert_error(mlops_bundle_import(&version, NULL, dst, ts_path("junk.mlb")), MLOPS_EFORMAT,
                    "not an mlops bundle");
    /* A flipped byte inside the artifact's second chunk. */
    memcpy(copy, bytes, len);
    copy[8 + (1u << 20) + 77] ^= 0x20;
    write_variant("flip_art.mlb", copy, len);
    ts_assert_error(mlops_bundle_import(&version, NULL, dst, ts_path("flip_art.mlb")), MLOPS_ECORRUPT, "artifact");
    /* A flipped byte in the manifest. */
    memcpy(copy, bytes, len);
    copy[len - 160 - 10] ^= 0x01;
    write_variant("flip_man.mlb", copy, len);
    ts_assert_error(mlops_bundle_import(&version, NULL, dst, ts_path("flip_man.mlb")), MLOPS_ECORRUPT, "manifest");
    /* Nothing was stored by any of them. */
    assert_int_equal(versions_in("damage_dst.db"), 0);
    assert_int_equal(rt_sql_int("damage_dst.db", "SELECT count(*) FROM reg_model"), 0);
    assert_int_equal(rt_sql_int("damage_dst.db", "SELECT count(*) FROM reg_artifact_chunk"), 0);
    assert_int_equal(rt_sql_int("damage_dst.db", "SELECT count(*) FROM audit_log"), audit_before);
    /* The intact bundle still imports. */
    assert_int_equal(mlops_bundle_import(&version, NULL, dst, path), MLOPS_OK);
    assert_int_equal(version, 1);
    free(copy);
    free(bytes);
    mlops_db_close(src);
    mlops_db_close(dst);
}

/* Rewrite the manifest-hash field of a bundle so that an edited manifest passes the hash check. */
static void fix_manifest_hash(char *bytes, size_t len)
{
    const unsigned char *t = (const unsigned char *)bytes + len - 160;
    uint64_t offset = 0, mlen = 0;
    int i;
    for (i = 7; i >= 0; i--) {
        offset = (offset << 8) | t[i];
        mlen = (mlen << 8) | t[8 + i];
    }
    crypto_hash_sha256((unsigned char *)bytes + len - 160 + 16, (const unsigned char *)bytes + offset, mlen);
}

static void test_signatures_and_trust(void **state)
{
    uint8_t pk1[32], sk1[64], pk2[32], sk2[64];
    mlops_db *src = make_source("sign_src.db");
    mlops_db *dst = rt_open("sign_dst.db");
    size_t len = 0;
    char *bytes, *at;
    int64_t version = 0;
    (void)state;
    assert_int_equal(mlops_bundle_keygen(pk1, sk1), MLOPS_OK);
    assert_int_equal(mlops_bundle_keygen(pk2, sk2), MLOPS_OK);
    assert_memory_not_equal(pk1, pk2, 32);
    ts_assert_error(mlops_bundle_keygen(NULL, sk1), MLOPS_EINVAL, "public_key");
    assert_int_equal(mlops_bundle_export(src, "fraud", 2, ts_path("unsigned.mlb"), NULL), MLOPS_OK);
    assert_int_equal(mlops_bundle_export(src, "fraud", 2, ts_path("signed1.mlb"), sk1), MLOPS_OK);
    assert_int_equal(mlops_bundle_export(src, "fraud", 2, ts_path("signed2.mlb"), sk2), MLOPS_OK);
    /* A signed bundle whose manifest was edited (its hash fixed up) fails its signature. */
    bytes = ts_read_file(ts_path("signed1.mlb"), &len);
    at = NULL;
    for (size_t k = 0; k + 14 <= len && !at; k++)
        if (memcmp(bytes + k, "\"stage\":\"prod\"", 14) == 0)
            at = bytes + k;
    assert_non_null(at);
    memcpy(at, "\"stage\":\"dev!\"", 14);
    fix_manifest_hash(bytes, len);
    ts_write_file(ts_path("tampered.mlb"), bytes, len);
    free(bytes);
    ts_assert_error(mlops_bundle_import(&version, NULL, dst, ts_path("tampered.mlb")), MLOPS_EPOLICY,
                    "signature does not verify");
    assert_int_equal(mlops_bundle_trust_key(dst, pk1, "release key"), MLOPS_OK);
    ts_assert_error(mlops_bundle_import(&version, NULL, dst, ts_path("unsigned.mlb")), MLOPS_EPOLICY, "unsigned");
    ts_assert_error(mlops_bundle_import(&version, NULL, dst, ts_path("signed2.mlb")), MLOPS_EPOLICY,
                    "does not trust");
    assert_int_equal(versions_in("sign_dst.db"), 0);
    assert_int_equal(mlops_bundle_import(&version, NULL, dst, ts_path("signed1.mlb")), MLOPS_OK);
    assert_int_equal(version, 1);
    ts_assert_error(mlops_bundle_trust_key(dst, NULL, "x"), MLOPS_EINVAL, "public_key");
    mlops_db_close(src);
    mlops_db_close(dst);
}

typedef struct alloc_ctx {
    mlops_db *src;
    mlops_db *dst;
    int64_t version;
} alloc_ctx;

static int export_call(void *p)
{
    alloc_ctx *ctx = p;
    return mlops_bundle_export(ctx->src, "fraud", 2, ts_path("alloc.mlb"), NULL);
}

static int import_call(void *p)
{
    alloc_ctx *ctx = p;
    return mlops_bundle_import(&ctx->version, NULL, ctx->dst, ts_path("alloc.mlb"));
}

static void undo_import(void *p)
{
    alloc_ctx *ctx = p;
    if (ctx->version)
        assert_int_equal(mlops_version_delete(ctx->dst, "fraud", ctx->version), MLOPS_OK);
    ctx->version = 0;
}

static void test_allocation_failures(void **state)
{
    alloc_ctx ctx = {0};
    (void)state;
    ctx.src = make_source("alloc_src.db");
    ctx.dst = rt_open("alloc_dst.db");
    assert_int_equal(export_call(&ctx), MLOPS_OK);
    assert_true(ts_each_allocation_failure(export_call, NULL, &ctx) > 3);
    assert_int_equal(import_call(&ctx), MLOPS_OK);
    undo_import(&ctx);
    assert_int_equal(import_call(&ctx), MLOPS_OK);
    undo_import(&ctx);
    assert_true(ts_each_allocation_failure(import_call, undo_import, &ctx) > 3);
    assert_int_equal(mlops_allocator_set(NULL), MLOPS_OK);
    mlops_db_close(ctx.src);
    mlops_db_close(ctx.dst);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_and_idempotence),
        cmocka_unit_test(test_damaged_bundles_change_nothing),
        cmocka_unit_test(test_signatures_and_trust),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
