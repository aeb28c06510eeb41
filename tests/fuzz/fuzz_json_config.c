/*
 * The JSON configurations of the public API that have no target of their
 * own, fed the same document: database open options (on a private in-memory
 * database), CSV read and write options, profile specifications and profile
 * options, drift report configurations, session options (with a calibration
 * frame, for "auto"), version registration options and version list
 * filters (in a transaction rolled back after each input), and metrics
 * options. Each either is accepted or refused with a status and a message.
 * Definitions, gate policies, router and trainer settings have targets of
 * their own (fuzz_view_def, fuzz_gate_policy, fuzz_router_settings,
 * fuzz_train_settings).
 */
#include "store/store_int.h"
#include "fuzz_common.h"

static const char csv[] = "id,name,score\n1,a,0.5\n2,\"b,c\",\n";

#define CHECK_RESULT(rc) do { if ((rc) != MLOPS_OK) FUZZ_CHECK_FAILURE(rc); } while (0)

/* Shared state, made once: a frame of numbers, a small model as ONNX bytes, a registry. */
static mlops_frame *numbers;
static void *model;
static size_t model_len;
static mlops_db *registry;

static void setup(void)
{
    static const char rows[] = "a,b,y\n0,1,0\n1,0,1\n2,1,1\n0.5,2,0\n3,3,1\n-1,0,0\n";
    mlops_net *net = NULL;
    FUZZ_CHECK(mlops_frame_parse_csv(&numbers, rows, sizeof rows - 1, NULL) == MLOPS_OK);
    FUZZ_CHECK(mlops_net_train(&net, numbers, "{\"features\":[\"a\",\"b\"],\"label\":\"y\",\"model\":"
                                              "{\"type\":\"logistic\"},\"epochs\":1}") == MLOPS_OK);
    FUZZ_CHECK(mlops_net_export_onnx(&model, &model_len, net, NULL) == MLOPS_OK);
    mlops_net_free(net);
    FUZZ_CHECK(mlops_db_open(&registry, ":memory:", NULL) == MLOPS_OK);
    FUZZ_CHECK(mlops_model_create(registry, "m", NULL, NULL) == MLOPS_OK);
}

static void profiles_and_drift(const char *doc)
{
    mlops_profile *profile = NULL;
    char *text = NULL;
    int rc = mlops_profile_new(&profile, doc);
    if (rc == MLOPS_OK) {
        FUZZ_CHECK(mlops_profile_describe(&text, profile) == MLOPS_OK);
        mlops_free(text);
        text = NULL;
        mlops_profile_free(profile);
        profile = NULL;
    } else {
        FUZZ_CHECK_FAILURE(rc);
    }
    rc = mlops_profile_new_for_frame(&profile, numbers, doc);
    if (rc == MLOPS_OK) {
        FUZZ_CHECK(mlops_profile_update_frame(profile, numbers) == MLOPS_OK);
        rc = mlops_drift_report_profiles(&text, profile, profile, doc);
        CHECK_RESULT(rc);
        mlops_free(text);
        text = NULL;
        mlops_profile_free(profile);
    } else {
        FUZZ_CHECK_FAILURE(rc);
    }
    rc = mlops_drift_report_frames(&text, numbers, numbers, doc);
    CHECK_RESULT(rc);
    mlops_free(text);
}

static void session_and_metrics(const char *doc)
{
    static const float scores[4] = {0.1f, 0.8f, 0.6f, 0.3f};
    static const double labels[4] = {0, 1, 1, 0};
    mlops_session *session = NULL;
    mlops_metrics *metrics = NULL;
    int rc = mlops_session_open(&session, model, model_len, doc, numbers);
    if (rc == MLOPS_OK) {
        float x[2] = {1, 2}, y[1];
        FUZZ_CHECK(mlops_session_run(session, x, 1, y, 1) == MLOPS_OK);
        mlops_session_free(session);
    } else {
        FUZZ_CHECK_FAILURE(rc);
    }
    rc = mlops_metrics_compute(&metrics, MLOPS_TASK_BINARY, scores, labels, 4, 2, doc);
    CHECK_RESULT(rc);
    mlops_metrics_free(metrics);
}

static void versions(const char *doc)
{
    int64_t version = 0;
    char *list = NULL;
    int rc;
    FUZZ_CHECK(mlops__tx_begin(registry) == MLOPS_OK);
    rc = mlops_version_register(&version, registry, "m", model, model_len, doc);
    CHECK_RESULT(rc);
    rc = mlops_version_list(&list, registry, "m", doc);
    CHECK_RESULT(rc);
    mlops_free(list);
    FUZZ_CHECK(mlops__tx_end(registry, MLOPS_ESTATE) == MLOPS_ESTATE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *doc = fuzz_strndup(data, size);
    mlops_frame *frame = NULL;
    mlops_db *db = NULL;
    char *text = NULL;
    int rc;

    rc = mlops_db_open(&db, ":memory:", doc);
    if (rc == MLOPS_OK) {
        int32_t version = 0;
        FUZZ_CHECK(mlops_db_schema_version(&version, db) == MLOPS_OK);
        FUZZ_CHECK(version == mlops_db_schema_version_supported());
        mlops_db_close(db);
    } else {
        FUZZ_CHECK_FAILURE(rc);
        FUZZ_CHECK(db == NULL);
    }

    rc = mlops_frame_parse_csv(&frame, csv, sizeof csv - 1, doc);
    /* Three lines: two rows after a header, or three without one. */
    if (rc == MLOPS_OK)
        FUZZ_CHECK(mlops_frame_rows(frame) <= 3);
    else
        FUZZ_CHECK_FAILURE(rc);
    mlops_frame_free(frame);
    frame = NULL;

    FUZZ_CHECK(mlops_frame_parse_csv(&frame, csv, sizeof csv - 1, NULL) == MLOPS_OK);
    rc = mlops_frame_format_csv(&text, NULL, frame, doc);
    if (rc == MLOPS_OK)
        mlops_free(text);
    else
        FUZZ_CHECK_FAILURE(rc);
    mlops_frame_free(frame);
    if (!numbers)
        setup();
    profiles_and_drift(doc);
    session_and_metrics(doc);
    versions(doc);
    free(doc);
    return 0;
}
