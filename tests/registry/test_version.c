/*
 * Models, versions and artifacts: registration and numbering (also across
 * processes), content addressing and deduplication, verified and streaming
 * reads, damaged blobs, listings with filters, deletion and garbage
 * collection, signatures, profiles, metrics and approvals.
 */
#include <math.h>
#include <sodium.h>
#include <sys/wait.h>
#include <unistd.h>

#include "registry_fixture.h"

static void test_model_create_and_errors(void **state)
{
    mlops_db *db = rt_open("models.db");
    char *json = NULL;
    cJSON *doc;
    (void)state;
    assert_int_equal(mlops_model_create(db, "fraud", "card fraud", "{\"team\": \"risk\"}"), MLOPS_OK);
    ts_assert_error(mlops_model_create(db, "fraud", NULL, NULL), MLOPS_EEXISTS, "model \"fraud\" already exists");
    ts_assert_error(mlops_model_create(db, "a@b", NULL, NULL), MLOPS_EINVAL, "not allowed");
    ts_assert_error(mlops_model_create(db, "", NULL, NULL), MLOPS_EINVAL, "1 to 128");
    ts_assert_error(mlops_model_create(db, "x", NULL, "{\"team\": 3}"), MLOPS_EFORMAT, "$.team");
    ts_assert_error(mlops_model_create(db, "x", NULL, "[1"), MLOPS_EFORMAT, "invalid JSON");
    ts_assert_error(mlops_model_create(NULL, "x", NULL, NULL), MLOPS_EINVAL, "db");
    ts_assert_error(mlops_model_create(db, NULL, NULL, NULL), MLOPS_EINVAL, "name");
    ts_assert_error(mlops_model_show(&json, db, "nope"), MLOPS_ENOTFOUND, "model \"nope\" not found");
    assert_null(json);
    ts_assert_error(mlops_model_show(NULL, db, "fraud"), MLOPS_EINVAL, "json_out");
    assert_int_equal(mlops_model_show(&json, db, "fraud"), MLOPS_OK);
    doc = rt_json(json);
    assert_string_equal(cJSON_GetObjectItem(doc, "description")->valuestring, "card fraud");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "tags"), "team")->valuestring, "risk");
    assert_string_equal(cJSON_GetObjectItem(doc, "creator")->valuestring, "alice");
    cJSON_Delete(doc);
    assert_int_equal(mlops_model_create(db, "churn", NULL, NULL), MLOPS_OK);
    assert_int_equal(mlops_model_list(&json, db), MLOPS_OK);
    doc = rt_json(json);
    assert_int_equal(cJSON_GetArraySize(doc), 2);
    assert_string_equal(cJSON_GetArrayItem(doc, 0)->child->valuestring, "churn");
    cJSON_Delete(doc);
    mlops_db_close(db);
}

static void test_register_show_and_read(void **state)
{
    mlops_db *db = rt_open("register.db");
    const size_t len = (3u << 20) + 12345; /* four chunks, the last one partial */
    uint8_t *data = malloc(len), digest[32];
    char hex[65], *json = NULL;
    void *back = NULL;
    size_t back_len = 0;
    cJSON *doc, *artifact;
    int64_t version = 0;
    (void)state;
    rt_fill(data, len, 7);
    assert_int_equal(mlops_model_create(db, "fraud", NULL, NULL), MLOPS_OK);
    ts_assert_error(mlops_version_register(&version, db, "nope", data, 10, NULL), MLOPS_ENOTFOUND,
                    "model \"nope\" not found");
    ts_assert_error(mlops_version_register(&version, db, "fraud", data, 10, "{\"colour\": 1}"), MLOPS_EFORMAT,
                    "$.colour: unknown key");
    ts_assert_error(mlops_version_register(&version, db, "fraud", data, 10, "{\"tags\": {\"a\": 1}}"),
                    MLOPS_EFORMAT, "$.tags.a");
    ts_assert_error(mlops_version_register(&version, db, "fraud", data, 10, "{\"run_id\": 99}"), MLOPS_ENOTFOUND,
                    "run 99");
    ts_assert_error(mlops_version_register(&version, db, "fraud", data, 10, "{\"parent_version\": 4}"),
                    MLOPS_ENOTFOUND, "version 4");
    ts_assert_error(mlops_version_register(&version, db, "fraud", data, 10, "{\"zstd_level\": 99}"), MLOPS_EFORMAT,
                    "zstd_level");
    ts_assert_error(mlops_version_register(&version, db, "fraud", NULL, 10, NULL), MLOPS_EINVAL, "data");
    ts_assert_error(mlops_version_register(NULL, db, "fraud", data, 10, NULL), MLOPS_EINVAL, "version_out");
    assert_int_equal(mlops_version_register(&version, db, "fraud", data, len,
                                            "{\"metadata\": {\"framework\": \"torch\"}, \"tags\": {\"stage\": \"dev\"},"
                                            " \"signature\": {\"inputs\": [{\"name\": \"x\"}]}}"),
                     MLOPS_OK);
    assert_int_equal(version, 1);
    /* Failed registrations took no number. */
    assert_int_equal(rt_sql_int("register.db", "SELECT count(*) FROM reg_version"), 1);
    assert_int_equal(mlops_version_show(&json, db, "fraud", 1), MLOPS_OK);
    doc = rt_json(json);
    artifact = cJSON_GetObjectItem(doc, "artifact");
    crypto_hash_sha256(digest, data, len);
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    assert_string_equal(cJSON_GetObjectItem(artifact, "sha256")->valuestring, hex);
    assert_int_equal((int64_t)rt_num(artifact, "size"), (int64_t)len);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "metadata"), "framework")->valuestring, "torch");
    assert_true(cJSON_IsObject(cJSON_GetObjectItem(doc, "signature")));
    assert_string_equal(cJSON_GetObjectItem(doc, "creator")->valuestring, "alice");
    cJSON_Delete(doc);
    ts_assert_error(mlops_version_show(&json, db, "fraud", 2), MLOPS_ENOTFOUND, "model \"fraud\" version 2");
    assert_int_equal(mlops_artifact_read(&back, &back_len, db, "fraud", 1), MLOPS_OK);
    assert_int_equal(back_len, len);
    assert_memory_equal(back, data, len);
    mlops_free(back);
    assert_int_equal(rt_sql_int("register.db", "SELECT count(*) FROM reg_artifact_chunk"), 4);
    free(data);
    mlops_db_close(db);
}

static void test_writers_one_at_a_time_and_abandoned(void **state)
{
    mlops_db *db = rt_open("writers.db");
    mlops_version_writer *first = NULL, *second = NULL;
    int64_t version = 0;
    (void)state;
    assert_int_equal(mlops_model_create(db, "m", NULL, NULL), MLOPS_OK);
    assert_int_equal(mlops_version_writer_begin(&first, db, "m", NULL), MLOPS_OK);
    assert_int_equal(mlops_version_writer_write(first, "abc", 3), MLOPS_OK);
    assert_int_equal(mlops_version_writer_begin(&second, db, "m", NULL), MLOPS_OK);
    ts_assert_error(mlops_version_writer_write(first, "d", 1), MLOPS_ESTATE, "another writer");
    ts_assert_error(mlops_version_writer_commit(&version, first), MLOPS_ESTATE, "another writer");
    assert_int_equal(mlops_version_writer_write(second, "xyz", 3), MLOPS_OK);
    assert_int_equal(mlops_version_writer_commit(&version, second), MLOPS_OK);
    assert_int_equal(version, 1);
    mlops_version_writer_free(second);
    assert_int_equal(mlops_version_writer_commit(&version, first), MLOPS_OK);
    assert_int_equal(version, 2);
    mlops_version_writer_free(first);
    /* An abandoned writer leaves nothing behind and takes no number. */
    assert_int_equal(mlops_version_writer_begin(&first, db, "m", NULL), MLOPS_OK);
    assert_int_equal(mlops_version_writer_write(first, "gone", 4), MLOPS_OK);
    mlops_version_writer_free(first);
    mlops_version_writer_free(NULL);
    assert_int_equal(rt_sql_int("writers.db", "SELECT count(*) FROM reg_artifact"), 2);
    assert_int_equal(rt_register(db, "m", 3, 10, NULL), 3);
    ts_assert_error(mlops_version_writer_begin(NULL, db, "m", NULL), MLOPS_EINVAL, "out");
    ts_assert_error(mlops_version_writer_begin(&first, db, NULL, NULL), MLOPS_EINVAL, "model");
    ts_assert_error(mlops_version_writer_write(NULL, "a", 1), MLOPS_EINVAL, "writer");
    mlops_db_close(db);
}

static void test_empty_artifact_and_dedup(void **state)
{
    mlops_db *db = rt_open("dedup.db");
    void *back = NULL;
    size_t back_len = 7;
    int64_t v = 0;
    (void)state;
    assert_int_equal(mlops_model_create(db, "m", NULL, NULL), MLOPS_OK);
    assert_int_equal(mlops_model_create(db, "n", NULL, NULL), MLOPS_OK);
    assert_int_equal(mlops_version_register(&v, db, "m", NULL, 0, NULL), MLOPS_OK);
    assert_int_equal(mlops_artifact_read(&back, &back_len, db, "m", 1), MLOPS_OK);
    assert_int_equal(back_len, 0);
    mlops_free(back);
    assert_int_equal(rt_register(db, "m", 5, 100000, NULL), 2);
    assert_int_equal(rt_register(db, "m", 5, 100000, NULL), 3);
    assert_int_equal(rt_register(db, "n", 5, 100000, NULL), 1);
    assert_int_equal(rt_register(db, "n", 6, 100000, NULL), 2);
    assert_int_equal(rt_sql_int("dedup.db", "SELECT count(*) FROM reg_artifact"), 3);
    assert_int_equal(rt_sql_int("dedup.db", "SELECT count(DISTINCT artifact_id) FROM reg_version"), 3);
    mlops_db_close(db);
}

static void test_flipped_byte_is_detected(void **state)
{
    mlops_db *db = rt_open("flip.db");
    mlops_artifact_reader *reader = NULL;
    uint8_t buf[4096];
    size_t got = 0;
    void *back = NULL;
    size_t back_len = 0;
    int rc;
    (void)state;
    assert_int_equal(mlops_model_create(db, "fraud", NULL, NULL), MLOPS_OK);
    rt_register(db, "fraud", 1, (2u << 20) + 100, NULL);
    rt_register(db, "fraud", 2, 5000, NULL);
    /* Flip one byte in the middle of the second chunk's compressed frame of version 1. */
    rt_flip("flip.db", "reg_artifact_chunk", "data",
            "idx = 1 AND artifact_id = (SELECT artifact_id FROM reg_version WHERE version = 1)", 400);
    ts_assert_error(mlops_artifact_read(&back, &back_len, db, "fraud", 1), MLOPS_ECORRUPT,
                    "model \"fraud\" version 1: artifact chunk 1");
    assert_null(back);
    /* The stream hands out the intact first chunk, then refuses: never damaged bytes. */
    assert_int_equal(mlops_artifact_reader_open(&reader, db, "fraud", 1), MLOPS_OK);
    size_t total = 0;
    while ((rc = mlops_artifact_reader_read(&got, reader, buf, sizeof buf)) == MLOPS_OK)
        total += got;
    ts_assert_error(rc, MLOPS_ECORRUPT, "version 1");
    assert_int_equal(total, 1u << 20);
    ts_assert_error(mlops_artifact_reader_read(&got, reader, buf, sizeof buf), MLOPS_ECORRUPT, "failed earlier");
    mlops_artifact_reader_free(reader);
    /* The other version is untouched. */
    assert_int_equal(mlops_artifact_read(&back, &back_len, db, "fraud", 2), MLOPS_OK);
    assert_int_equal(back_len, 5000);
    mlops_free(back);
    /* A missing chunk is detected too. */
    rt_sql("flip.db", "DELETE FROM reg_artifact_chunk WHERE idx = 0 AND artifact_id ="
                      " (SELECT artifact_id FROM reg_version WHERE version = 2)");
    ts_assert_error(mlops_artifact_read(&back, &back_len, db, "fraud", 2), MLOPS_ECORRUPT,
                    "model \"fraud\" version 2");
    mlops_db_close(db);
}

/* An allocator that counts bytes in use and remembers the peak. */
static size_t bytes_now, bytes_peak;
static void *peak_malloc(size_t size, void *payload)
{
    size_t *p = malloc(size + 16);
    (void)payload;
    if (!p)
        return NULL;
    p[0] = size;
    bytes_now += size;
    if (bytes_now > bytes_peak)
        bytes_peak = bytes_now;
    return (char *)p + 16;
}
static void peak_free(void *ptr, void *payload)
{
    (void)payload;
    if (!ptr)
        return;
    bytes_now -= *(size_t *)((char *)ptr - 16);
    free((char *)ptr - 16);
}
static void *peak_realloc(void *ptr, size_t size, void *payload)
{
    void *fresh = peak_malloc(size, payload);
    if (fresh && ptr) {
        size_t old = *(size_t *)((char *)ptr - 16);
        memcpy(fresh, ptr, old < size ? old : size);
        peak_free(ptr, payload);
    }
    return fresh;
}

static void test_big_artifact_streams_in_bounded_memory(void **state)
{
    mlops_allocator counting = {MLOPS_ALLOCATOR_VERSION, peak_malloc, peak_realloc, peak_free, NULL};
    const size_t piece = 1u << 18;
    const char *env = getenv("MLOPS_TEST_HUGE");
    size_t total = env && *env == '1' ? (size_t)512 << 20 : RT_BIG_BYTES, done;
    mlops_db *db = NULL;
    mlops_version_writer *writer = NULL;
    mlops_artifact_reader *reader = NULL;
    uint8_t *buf = malloc(piece), *expect = malloc(piece);
    crypto_hash_sha256_state want, got_state;
    uint8_t want_digest[32], got_digest[32];
    int64_t version = 0;
    size_t got = 0;
    int rc;
    (void)state;
    assert_int_equal(mlops_allocator_set(&counting), MLOPS_OK);
    db = rt_open("big.db");
    assert_int_equal(mlops_model_create(db, "big", NULL, NULL), MLOPS_OK);
    crypto_hash_sha256_init(&want);
    assert_int_equal(mlops_version_writer_begin(&writer, db, "big", "{\"zstd_level\": 1}"), MLOPS_OK);
    for (done = 0; done < total; done += piece) {
        rt_fill(buf, piece, done);
        crypto_hash_sha256_update(&want, buf, piece);
        assert_int_equal(mlops_version_writer_write(writer, buf, piece), MLOPS_OK);
    }
    assert_int_equal(mlops_version_writer_commit(&version, writer), MLOPS_OK);
    ts_assert_error(mlops_version_writer_write(writer, buf, 1), MLOPS_ESTATE, "committed already");
    {
        int64_t twice = 0;
        ts_assert_error(mlops_version_writer_commit(&twice, writer), MLOPS_ESTATE, "committed already");
    }
    mlops_version_writer_free(writer);
    crypto_hash_sha256_final(&want, want_digest);
    assert_int_equal(mlops_artifact_reader_open(&reader, db, "big", version), MLOPS_OK);
    assert_int_equal(mlops_artifact_reader_size(reader), (int64_t)total);
    crypto_hash_sha256_init(&got_state);
    done = 0;
    while ((rc = mlops_artifact_reader_read(&got, reader, buf, piece)) == MLOPS_OK) {
        if (done % (16u << 20) == 0 && got == piece) {
            rt_fill(expect, piece, done);
            assert_memory_equal(buf, expect, piece);
        }
        crypto_hash_sha256_update(&got_state, buf, got);
        done += got;
    }
    assert_int_equal(rc, MLOPS_DONE);
    mlops_artifact_reader_free(reader);
    mlops_db_close(db);
    assert_int_equal(bytes_now, 0);
    assert_int_equal(mlops_allocator_set(NULL), MLOPS_OK);
    crypto_hash_sha256_final(&got_state, got_digest);
    assert_int_equal(done, total);
    assert_memory_equal(got_digest, want_digest, 32);
    /* Writer and reader hold a chunk or two, never the artifact. */
    assert_true(bytes_peak < (8u << 20));
    free(buf);
    free(expect);
}

static void test_list_filters_newest_first(void **state)
{
    mlops_db *db = rt_open("list.db");
    char *json = NULL;
    cJSON *doc;
    (void)state;
    assert_int_equal(mlops_model_create(db, "m", NULL, NULL), MLOPS_OK);
    rt_register(db, "m", 1, 100, "{\"tags\": {\"stage\": \"dev\"}}");
    rt_register(db, "m", 2, 100, "{\"tags\": {\"stage\": \"prod\", \"team\": \"a\"}}");
    rt_register(db, "m", 3, 100, "{\"tags\": {\"stage\": \"prod\"}}");
    rt_register(db, "m", 4, 100, NULL);
    assert_int_equal(mlops_version_metric_log(db, "m", 1, "auc", 0.95, NAN, NAN, "holdout", 0), MLOPS_OK);
    assert_int_equal(mlops_version_metric_log(db, "m", 2, "auc", 0.85, 0.8, 0.9, "holdout", 0), MLOPS_OK);
    assert_int_equal(mlops_version_metric_log(db, "m", 3, "auc", 0.70, NAN, NAN, "holdout", 1000), MLOPS_OK);
    /* The latest value counts: version 3 re-measured later at 0.92. */
    assert_int_equal(mlops_version_metric_log(db, "m", 3, "auc", 0.92, NAN, NAN, "holdout", 2000), MLOPS_OK);
    assert_int_equal(mlops_version_list(&json, db, "m", NULL), MLOPS_OK);
    doc = rt_json(json);
    assert_int_equal(cJSON_GetArraySize(doc), 4);
    assert_int_equal((int)rt_num(cJSON_GetArrayItem(doc, 0), "version"), 4);
    assert_int_equal((int)rt_num(cJSON_GetArrayItem(doc, 3), "version"), 1);
    cJSON_Delete(doc);
    assert_int_equal(mlops_version_list(&json, db, "m", "{\"tags\": {\"stage\": \"prod\"}}"), MLOPS_OK);
    doc = rt_json(json);
    assert_int_equal(cJSON_GetArraySize(doc), 2);
    assert_int_equal((int)rt_num(cJSON_GetArrayItem(doc, 0), "version"), 3);
    assert_int_equal((int)rt_num(cJSON_GetArrayItem(doc, 1), "version"), 2);
    cJSON_Delete(doc);
    assert_int_equal(mlops_version_list(&json, db, "m", "{\"metric\": \"auc >= 0.9\"}"), MLOPS_OK);
    doc = rt_json(json);
    assert_int_equal(cJSON_GetArraySize(doc), 2);
    assert_int_equal((int)rt_num(cJSON_GetArrayItem(doc, 0), "version"), 3);
    assert_int_equal((int)rt_num(cJSON_GetArrayItem(doc, 1), "version"), 1);
    cJSON_Delete(doc);
    assert_int_equal(mlops_version_list(&json, db, "m", "{\"metric\": \"auc<0.9\", \"tags\": {\"team\": \"a\"},"
                                                        " \"limit\": 5}"), MLOPS_OK);
    doc = rt_json(json);
    assert_int_equal(cJSON_GetArraySize(doc), 1);
    assert_int_equal((int)rt_num(cJSON_GetArrayItem(doc, 0), "version"), 2);
    cJSON_Delete(doc);
    assert_int_equal(mlops_version_list(&json, db, "m", "{\"limit\": 1}"), MLOPS_OK);
    doc = rt_json(json);
    assert_int_equal(cJSON_GetArraySize(doc), 1);
    cJSON_Delete(doc);
    ts_assert_error(mlops_version_list(&json, db, "m", "{\"metric\": \"auc ~ 3\"}"), MLOPS_EFORMAT, "$.metric");
    ts_assert_error(mlops_version_list(&json, db, "m", "{\"metric\": \"auc >= x\"}"), MLOPS_EFORMAT, "$.metric");
    ts_assert_error(mlops_version_list(&json, db, "m", "{\"sort\": 1}"), MLOPS_EFORMAT, "$.sort");
    ts_assert_error(mlops_version_list(&json, db, "m", "{\"tags\": []}"), MLOPS_EFORMAT, "$.tags");
    ts_assert_error(mlops_version_list(&json, db, "zz", NULL), MLOPS_ENOTFOUND, "zz");
    assert_null(json);
    /* Metric argument checks. */
    ts_assert_error(mlops_version_metric_log(db, "m", 1, "auc", NAN, NAN, NAN, NULL, 0), MLOPS_EINVAL, "finite");
    ts_assert_error(mlops_version_metric_log(db, "m", 1, "auc", 0.5, 0.6, 0.4, NULL, 0), MLOPS_EINVAL, "interval");
    ts_assert_error(mlops_version_metric_log(db, "m", 1, "auc", 0.5, 0.4, NAN, NULL, 0), MLOPS_EINVAL, "interval");
    ts_assert_error(mlops_version_metric_log(db, "m", 9, "auc", 0.5, NAN, NAN, NULL, 0), MLOPS_ENOTFOUND,
                    "version 9");
    mlops_db_close(db);
}

static void test_delete_gc_signature_profile_approval(void **state)
{
    mlops_db *db = rt_open("delete.db");
    mlops_db *bob = rt_open_as("delete.db", "bob");
    void *profile = NULL;
    size_t profile_len = 0;
    char *json = NULL;
    int64_t removed = -1;
    cJSON *doc;
    (void)state;
    assert_int_equal(mlops_model_create(db, "m", NULL, NULL), MLOPS_OK);
    rt_register(db, "m", 1, 3000, NULL);
    rt_register(db, "m", 2, 3000, NULL);
    rt_register(db, "m", 1, 3000, NULL); /* shares version 1's artifact */
    assert_int_equal(mlops_version_delete(db, "m", 1), MLOPS_OK);
    ts_assert_error(mlops_version_delete(db, "m", 1), MLOPS_ENOTFOUND, "version 1");
    assert_int_equal(mlops_artifact_gc(&removed, db), MLOPS_OK);
    assert_int_equal(removed, 0); /* still used by version 3 */
    assert_int_equal(mlops_version_delete(db, "m", 3), MLOPS_OK);
    assert_int_equal(mlops_artifact_gc(&removed, db), MLOPS_OK);
    assert_int_equal(removed, 1);
    assert_int_equal(rt_sql_int("delete.db", "SELECT count(*) FROM reg_artifact_chunk"), 1);
    /* Numbers are never reused after a deletion. */
    assert_int_equal(rt_register(db, "m", 9, 10, NULL), 4);

    ts_assert_error(mlops_version_signature_fill(db, "m", 2, "[]"), MLOPS_EFORMAT, "expected an object");
    assert_int_equal(mlops_version_signature_fill(db, "m", 2, "{\"inputs\": []}"), MLOPS_OK);
    ts_assert_error(mlops_version_signature_fill(db, "m", 2, "{\"inputs\": [1]}"), MLOPS_ESTATE, "already has");

    ts_assert_error(mlops_version_profile_get(&profile, &profile_len, db, "m", 2), MLOPS_ENOTFOUND,
                    "no reference profile");
    assert_int_equal(mlops_version_profile_set(db, "m", 2, "\x01\x02\x00\x03", 4), MLOPS_OK);
    assert_int_equal(mlops_version_profile_get(&profile, &profile_len, db, "m", 2), MLOPS_OK);
    assert_int_equal(profile_len, 4);
    assert_memory_equal(profile, "\x01\x02\x00\x03", 4);
    mlops_free(profile);

    assert_int_equal(mlops_version_approve(db, "m", 2, "looks good"), MLOPS_OK);
    ts_assert_error(mlops_version_approve(db, "m", 2, "again"), MLOPS_EEXISTS, "already approved by \"alice\"");
    assert_int_equal(mlops_version_approve(bob, "m", 2, NULL), MLOPS_OK);
    assert_int_equal(mlops_version_show(&json, db, "m", 2), MLOPS_OK);
    doc = rt_json(json);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "approvals")), 2);
    assert_int_equal((int)rt_num(doc, "profile_bytes"), 4);
    cJSON_Delete(doc);
    mlops_db_close(bob);
    mlops_db_close(db);
}

/* Two processes register 200 versions each into one file: numbers 1..400, each once. */
static void test_concurrent_processes_number_without_gaps(void **state)
{
    const int per_child = 200;
    pid_t pids[2];
    mlops_db *db = rt_open("concurrent.db");
    int i, status;
    (void)state;
    assert_int_equal(mlops_model_create(db, "m", NULL, NULL), MLOPS_OK);
    mlops_db_close(db);
    for (i = 0; i < 2; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            mlops_db *child = NULL;
            int k, failures = 0;
            uint8_t payload[64];
            if (mlops_db_open(&child, ts_path("concurrent.db"), "{\"busy_timeout_ms\": 120000}"))
                _exit(10);
            for (k = 0; k < per_child; k++) {
                int64_t version = 0;
                memset(payload, 0, sizeof payload);
                snprintf((char *)payload, sizeof payload, "child %d artifact %d", i, k);
                if (mlops_version_register(&version, child, "m", payload, sizeof payload, NULL))
                    failures++;
            }
            mlops_db_close(child);
            _exit(failures ? 11 : 0);
        }
    }
    for (i = 0; i < 2; i++) {
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    assert_int_equal(rt_sql_int("concurrent.db", "SELECT count(*) FROM reg_version"), 2 * per_child);
    assert_int_equal(rt_sql_int("concurrent.db", "SELECT count(DISTINCT version) FROM reg_version"), 2 * per_child);
    assert_int_equal(rt_sql_int("concurrent.db", "SELECT min(version) FROM reg_version"), 1);
    assert_int_equal(rt_sql_int("concurrent.db", "SELECT max(version) FROM reg_version"), 2 * per_child);
}

typedef struct alloc_ctx {
    mlops_db *db;
    int64_t version;
    char *json;
    void *data;
    size_t len;
} alloc_ctx;

static int register_call(void *p)
{
    alloc_ctx *ctx = p;
    uint8_t data[3000];
    rt_fill(data, sizeof data, 77);
    return mlops_version_register(&ctx->version, ctx->db, "m", data, sizeof data,
                                  "{\"tags\": {\"a\": \"b\"}, \"lineage\": {\"feature_views\": [{\"name\": \"v\","
                                  " \"version\": 1}], \"as_of_us\": 5}}");
}

static int create_call(void *p)
{
    alloc_ctx *ctx = p;
    return mlops_model_create(ctx->db, "created", "under allocation failures", "{\"k\": \"v\"}");
}

static int show_call(void *p)
{
    alloc_ctx *ctx = p;
    return mlops_version_list(&ctx->json, ctx->db, "m", "{\"tags\": {\"a\": \"b\"}}");
}

static void free_json(void *p)
{
    alloc_ctx *ctx = p;
    mlops_free(ctx->json);
    ctx->json = NULL;
}

static int read_call(void *p)
{
    alloc_ctx *ctx = p;
    return mlops_artifact_read(&ctx->data, &ctx->len, ctx->db, "m", 1);
}

static void free_data(void *p)
{
    alloc_ctx *ctx = p;
    mlops_free(ctx->data);
    ctx->data = NULL;
}

static void test_allocation_failures(void **state)
{
    alloc_ctx ctx = {0};
    (void)state;
    ctx.db = rt_open("alloc.db");
    assert_int_equal(mlops_model_create(ctx.db, "m", NULL, NULL), MLOPS_OK);
    /* Successful calls first fill the statement cache (which is not a leak): one storing new content, one
       finding it stored already, which is the path every later call takes. */
    assert_int_equal(register_call(&ctx), MLOPS_OK);
    assert_int_equal(register_call(&ctx), MLOPS_OK);
    assert_true(ts_each_allocation_failure(register_call, NULL, &ctx) > 3);
    assert_int_equal(ctx.version, 3); /* every failed attempt left nothing behind */
    assert_int_equal(rt_sql_int("alloc.db", "SELECT count(*) FROM reg_version"), 3);
    assert_int_equal(show_call(&ctx), MLOPS_OK);
    free_json(&ctx);
    assert_true(ts_each_allocation_failure(show_call, free_json, &ctx) > 3);
    assert_int_equal(read_call(&ctx), MLOPS_OK);
    free_data(&ctx);
    assert_true(ts_each_allocation_failure(create_call, NULL, &ctx) > 0);
    assert_true(ts_each_allocation_failure(read_call, free_data, &ctx) > 1);
    assert_int_equal(mlops_allocator_set(NULL), MLOPS_OK);
    mlops_db_close(ctx.db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_create_and_errors),
        cmocka_unit_test(test_register_show_and_read),
        cmocka_unit_test(test_writers_one_at_a_time_and_abandoned),
        cmocka_unit_test(test_empty_artifact_and_dedup),
        cmocka_unit_test(test_flipped_byte_is_detected),
        cmocka_unit_test(test_big_artifact_streams_in_bounded_memory),
        cmocka_unit_test(test_list_filters_newest_first),
        cmocka_unit_test(test_delete_gc_signature_profile_approval),
        cmocka_unit_test(test_concurrent_processes_number_without_gaps),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
