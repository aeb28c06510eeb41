/*
 * Router settings: the input is the settings document of a router on a
 * model with a champion and a challenger alias, each version a small net
 * (made by the trainer) with a reference profile. Settings are refused with
 * a status and a message, or give a router that answers a few requests on
 * the arm it assigns, takes an outcome, reports metrics and closes its drift
 * window (so the "drift.config" document is used too).
 */
#include "fuzz_common.h"

#define WIDTH 2

static mlops_db *db;

static void close_db(void)
{
    mlops_db_close(db);
}

/* Register a net trained with `seed` on `frame` as a new version of "m" with a reference profile. */
static void add_version(const mlops_frame *frame, int seed)
{
    char config[160];
    mlops_net *net = NULL;
    mlops_profile *profile = NULL;
    void *onnx = NULL, *profile_bytes = NULL;
    size_t onnx_len = 0, profile_len = 0;
    int64_t version = 0;
    snprintf(config, sizeof config,
             "{\"features\":[\"a\",\"b\"],\"label\":\"y\",\"model\":{\"type\":\"logistic\"},\"epochs\":2,\"seed\":%d}",
             seed);
    FUZZ_CHECK(mlops_net_train(&net, frame, config) == MLOPS_OK);
    FUZZ_CHECK(mlops_net_export_onnx(&onnx, &onnx_len, net, NULL) == MLOPS_OK);
    FUZZ_CHECK(mlops_version_register(&version, db, "m", onnx, onnx_len, NULL) == MLOPS_OK);
    FUZZ_CHECK(mlops_profile_new(&profile, "{\"columns\":[{\"name\":\"a\",\"kind\":\"numeric\"},"
                                           "{\"name\":\"b\",\"kind\":\"numeric\"}],\"quantile_k\":16}") == MLOPS_OK);
    FUZZ_CHECK(mlops_profile_update_frame(profile, frame) == MLOPS_OK);
    FUZZ_CHECK(mlops_profile_serialize(&profile_bytes, &profile_len, profile) == MLOPS_OK);
    FUZZ_CHECK(mlops_version_profile_set(db, "m", version, profile_bytes, profile_len) == MLOPS_OK);
    mlops_free(profile_bytes);
    mlops_profile_free(profile);
    mlops_free(onnx);
    mlops_net_free(net);
}

static void setup(void)
{
    static const char csv[] = "a,b,y\n0,1,0\n1,0,1\n2,1,1\n0.5,2,0\n3,3,1\n-1,0,0\n";
    mlops_frame *frame = NULL;
    FUZZ_CHECK(mlops_db_open(&db, fuzz_scratch_file("serve.db"), "{\"actor\":\"fuzz\"}") == MLOPS_OK);
    atexit(close_db); /* runs before the scratch directory's removal, registered earlier */
    FUZZ_CHECK(mlops_frame_parse_csv(&frame, csv, sizeof csv - 1, NULL) == MLOPS_OK);
    FUZZ_CHECK(mlops_model_create(db, "m", "served", NULL) == MLOPS_OK);
    add_version(frame, 1);
    add_version(frame, 2);
    FUZZ_CHECK(mlops_alias_set(db, "m", "production", 1) == MLOPS_OK);
    FUZZ_CHECK(mlops_alias_set(db, "m", "staging", 2) == MLOPS_OK);
    mlops_frame_free(frame);
}

static void serve(mlops_router *router)
{
    static const char *const keys[] = {"r1", "r2", "r3", "r4"};
    static const float input[WIDTH] = {0.5f, 1.5f};
    char *metrics = NULL;
    size_t i;
    int rc;
    for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        int32_t arm = -1;
        int64_t version = 0;
        float output[4];
        FUZZ_CHECK(mlops_router_assign(&arm, router, keys[i]) == MLOPS_OK);
        FUZZ_CHECK(arm == MLOPS_ARM_CHAMPION || arm == MLOPS_ARM_CHALLENGER);
        rc = mlops_router_run(&version, router, keys[i], input, 1, output, sizeof output / sizeof output[0]);
        if (rc != MLOPS_OK) {
            FUZZ_CHECK_FAILURE(rc);
            continue;
        }
        FUZZ_CHECK(version == 1 || version == 2);
        rc = mlops_router_outcome(router, keys[i], (double)(i % 2));
        if (rc != MLOPS_OK)
            FUZZ_CHECK_FAILURE(rc);
    }
    FUZZ_CHECK(mlops_router_metrics_json(&metrics, router) == MLOPS_OK);
    mlops_free(metrics);
    rc = mlops_router_drift_flush(router);
    if (rc != MLOPS_OK)
        FUZZ_CHECK_FAILURE(rc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *settings = fuzz_strndup(data, size);
    mlops_router *router = NULL;
    int rc;
    if (!db)
        setup();
    rc = mlops_router_open(&router, db, "m", settings);
    if (rc == MLOPS_OK) {
        FUZZ_CHECK(mlops_router_version(router, MLOPS_ARM_CHAMPION) == 1);
        serve(router);
        mlops_router_close(router);
    } else {
        FUZZ_CHECK_FAILURE(rc);
        FUZZ_CHECK(router == NULL);
    }
    free(settings);
    return 0;
}
