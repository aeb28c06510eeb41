/*
 * Trainer settings: the input is the configuration of mlops_net_train() on a
 * small frame (two features, binary, class and real labels, a timestamp, a
 * string column). A configuration is refused with a status and a message, or
 * trains a net that predicts, reports itself, evaluates and exports to ONNX
 * that opens as a session. So that every input trains quickly, this program
 * skips configurations asking for more than a small amount of work (epochs,
 * layer widths, classes, bootstrap resamples, threads); the library's own
 * bounds on those are tested in tests/train.
 */
#include "core/core_int.h"
#include "fuzz_common.h"

#define ROWS 12

/* Does `doc` ask for more work than this program gives each input? */
static int too_much_work(const char *doc)
{
    static const struct {
        const char *key;
        double max;
    } caps[] = {{"epochs", 20}, {"batch_size", 64}, {"bootstrap", 100}, {"threads", 4}, {"shards", 8},
                {"classes", 16}, {"patience", 20}, {"step_epochs", 20}};
    mlops__json *json = NULL;
    const mlops__json *model, *hidden;
    size_t i;
    int over = 0;
    if (mlops__json_parse(&json, doc, "fuzz", "configuration") != MLOPS_OK || !mlops__json_is_object(json)) {
        mlops__json_free(json);
        return 0;
    }
    for (i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        const mlops__json *node = mlops__json_get(json, caps[i].key);
        over |= node && mlops__json_is_number(node) && mlops__json_number(node) > caps[i].max;
    }
    model = mlops__json_get(json, "model");
    hidden = model ? mlops__json_get(model, "hidden") : NULL;
    for (i = 0; hidden && i < mlops__json_array_size(hidden); i++) {
        const mlops__json *width = mlops__json_at(hidden, i);
        over |= i >= 4 || (mlops__json_is_number(width) && mlops__json_number(width) > 32);
    }
    mlops__json_free(json);
    return over;
}

static const mlops_frame *training_frame(void)
{
    static mlops_frame *frame;
    static const char csv[] = "a,b,y,k,r,t,s\n"
                              "0,1,0,0,0.5,100,x\n1,0,1,1,1.5,101,y\n2,1,1,2,2.5,102,x\n0.5,2,0,0,0.1,103,z\n"
                              "3,3,1,1,3.5,104,y\n-1,0,0,2,-1.5,105,x\n1.5,,1,0,1.1,106,x\n2.5,0.5,0,1,2.2,107,z\n"
                              "0.1,1.1,1,2,0.3,108,y\n4,2,0,0,4.1,109,x\n-2,1,1,1,-2.2,110,y\n1,1,0,2,1.0,111,z\n";
    if (!frame)
        FUZZ_CHECK(mlops_frame_parse_csv(&frame, csv, sizeof csv - 1, NULL) == MLOPS_OK);
    return frame;
}

static void use(const mlops_net *net, const mlops_frame *frame)
{
    float out[ROWS * 16];
    mlops_metrics *metrics = NULL;
    mlops_session *session = NULL;
    char *report = NULL;
    void *onnx = NULL;
    size_t len = 0;
    int rc;
    FUZZ_CHECK(mlops_net_outputs(net) >= 1 && mlops_net_outputs(net) <= 16);
    rc = mlops_net_predict_frame(out, sizeof out / sizeof out[0], net, frame);
    if (rc != MLOPS_OK)
        FUZZ_CHECK_FAILURE(rc);
    FUZZ_CHECK(mlops_net_report_json(&report, net) == MLOPS_OK);
    rc = mlops_net_evaluate(&metrics, net, frame, NULL);
    if (rc != MLOPS_OK)
        FUZZ_CHECK_FAILURE(rc);
    FUZZ_CHECK(mlops_net_export_onnx(&onnx, &len, net, NULL) == MLOPS_OK);
    FUZZ_CHECK(mlops_session_open(&session, onnx, len, NULL, NULL) == MLOPS_OK);
    FUZZ_CHECK(mlops_session_input_width(session) == mlops_net_inputs(net));
    mlops_session_free(session);
    mlops_free(onnx);
    mlops_metrics_free(metrics);
    mlops_free(report);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const mlops_frame *frame = training_frame();
    char *doc = fuzz_strndup(data, size);
    mlops_net *net = NULL;
    int rc;
    if (!too_much_work(doc)) {
        rc = mlops_net_train(&net, frame, doc);
        if (rc == MLOPS_OK) {
            use(net, frame);
            mlops_net_free(net);
        } else {
            FUZZ_CHECK_FAILURE(rc);
            FUZZ_CHECK(net == NULL);
        }
    }
    free(doc);
    return 0;
}
