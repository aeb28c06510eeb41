/*
 * Train, evaluate, track and register in one call.
 *
 * Training runs first, outside any transaction (it can take minutes and must
 * not hold the database's write lock). Everything written afterwards — the
 * run with its configuration and per-epoch series, the version with its ONNX
 * artifact, signature, metadata and lineage, the test metrics with their
 * intervals, the reference profile — goes into one transaction: either all
 * of it is there, or the database is exactly as before.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mlops/drift.h"
#include "mlops/registry.h"
#include "../store/store_int.h"
#include "train_int.h"

#define SUB MLOPS__TRAIN_SUB

typedef struct register_options {
    mlops__json *doc;
    const char *experiment, *run_name;
    char *tags, *lineage, *export_options;   /* JSON text or NULL */
    int64_t parent_version;
    int profile;
} register_options;

static int json_member_text(char **out, const mlops__json *doc, const char *key)
{
    const mlops__json *node = mlops__json_get(doc, key);
    *out = NULL;
    if (!node)
        return MLOPS_OK;
    if (!mlops__json_is_object(node))
        return mlops__error(MLOPS_EFORMAT, SUB, "registration options: $.%s: expected an object", key);
    *out = mlops__json_print(node);
    return *out ? MLOPS_OK : mlops__error(MLOPS_ENOMEM, SUB, "out of memory reading $.%s", key);
}

static int parse_options(register_options *o, const char *options_json, const char *model)
{
    static const char *const keys[] = {"experiment", "run_name", "tags", "parent_version", "lineage", "export",
                                       "profile", NULL};
    int rc;
    memset(o, 0, sizeof *o);
    o->experiment = model;
    o->run_name = "train";
    o->profile = 1;
    if ((rc = mlops__json_parse(&o->doc, options_json ? options_json : "{}", SUB, "registration options")))
        return rc;
    if (!mlops__json_is_object(o->doc))
        return mlops__error(MLOPS_EFORMAT, SUB, "registration options: $: expected an object");
    if ((rc = mlops__json_check_keys(o->doc, "registration options: $", SUB, keys)) ||
        (rc = mlops__json_opt_string(&o->experiment, o->doc, "experiment", "registration options: $", SUB)) ||
        (rc = mlops__json_opt_string(&o->run_name, o->doc, "run_name", "registration options: $", SUB)) ||
        (rc = mlops__json_opt_int(&o->parent_version, o->doc, "parent_version", "registration options: $", SUB, 1,
                                  INT64_MAX)) ||
        (rc = mlops__json_opt_bool(&o->profile, o->doc, "profile", "registration options: $", SUB)) ||
        (rc = json_member_text(&o->tags, o->doc, "tags")) || (rc = json_member_text(&o->lineage, o->doc, "lineage")) ||
        (rc = json_member_text(&o->export_options, o->doc, "export")))
        return rc;
    return MLOPS_OK;
}

static void free_options(register_options *o)
{
    mlops__free(o->tags);
    mlops__free(o->lineage);
    mlops__free(o->export_options);
    mlops__json_free(o->doc);
}

/* The run's series: training loss and validation score per epoch, and the test metrics at step 0. */
static int log_run(mlops_db *db, int64_t run, const mlops_net *net)
{
    mlops__json *report = NULL;
    const mlops__json *epochs, *metric;
    char key[96];
    size_t i;
    int rc;
    if ((rc = mlops__json_parse(&report, net->report, SUB, "training report")))
        return rc;
    epochs = mlops__json_get(report, "epochs");
    metric = mlops__json_get(report, "validation_metric");
    snprintf(key, sizeof key, "validation_%s", metric ? mlops__json_string(metric) : "loss");
    for (i = 0; i < mlops__json_array_size(epochs) && !rc; i++) {
        const mlops__json *e = mlops__json_at(epochs, i), *v = mlops__json_get(e, "validation");
        rc = mlops_run_log_metric(db, run, "loss", mlops__json_number(mlops__json_get(e, "loss")), (int64_t)i + 1, 0);
        if (!rc && v && mlops__json_is_number(v))
            rc = mlops_run_log_metric(db, run, key, mlops__json_number(v), (int64_t)i + 1, 0);
    }
    for (i = 0; i < net->test_metrics->count && !rc; i++) {
        if (isnan(net->test_metrics->value[i]))
            continue;
        snprintf(key, sizeof key, "test_%s", net->test_metrics->names[i]);
        rc = mlops_run_log_metric(db, run, key, net->test_metrics->value[i], 0, 0);
    }
    mlops__json_free(report);
    return rc;
}

/* Registration options for the registry: run, parent, lineage, tags, signature and metadata. */
static int version_options(char **out, const mlops_net *net, const register_options *o, int64_t run)
{
    static const char *const tasks[] = {"", "regression", "binary", "multiclass"};
    mlops__buf buf;
    char number[64];
    size_t i;
    int rc;
    mlops__buf_init(&buf);
    mlops__buf_printf(&buf, "{\"run_id\":%lld", (long long)run);
    if (o->parent_version)
        mlops__buf_printf(&buf, ",\"parent_version\":%lld", (long long)o->parent_version);
    if (o->lineage)
        mlops__buf_printf(&buf, ",\"lineage\":%s", o->lineage);
    if (o->tags)
        mlops__buf_printf(&buf, ",\"tags\":%s", o->tags);
    mlops__buf_printf(&buf, ",\"signature\":{\"inputs\":[{\"name\":\"features\",\"type\":\"float32\",\"shape\":[-1,%zu]}],"
                      "\"outputs\":[{\"name\":\"output\",\"type\":\"float32\",\"shape\":[-1,%zu]}]}",
                      net->inputs, net->outputs);
    mlops__buf_printf(&buf, ",\"metadata\":{\"format\":\"onnx\",\"producer\":\"libmlops trainer\",\"task\":\"%s\","
                      "\"label\":", tasks[net->task]);
    mlops__buf_json_string(&buf, net->label);
    mlops__buf_puts(&buf, ",\"features\":[");
    for (i = 0; i < net->feature_count; i++) {
        if (i)
            mlops__buf_putc(&buf, ',');
        mlops__buf_json_string(&buf, net->features[i]);
    }
    mlops__buf_puts(&buf, "],\"impute\":[");
    for (i = 0; i < net->inputs; i++) {
        mlops__format_double(number, sizeof number, net->impute[i]);
        mlops__buf_printf(&buf, "%s%s", i ? "," : "", number);
    }
    mlops__buf_puts(&buf, "]}}");
    if ((rc = mlops__buf_status(&buf, SUB))) {
        mlops__buf_free(&buf);
        return rc;
    }
    *out = mlops__buf_detach(&buf, NULL);
    return MLOPS_OK;
}

/* Profile of the frame's scalar numeric feature columns, serialised. */
static int training_profile(void **out, size_t *len_out, const mlops_net *net, const mlops_frame *frame)
{
    mlops_profile *profile = NULL;
    mlops__buf spec;
    size_t i, column, listed = 0;
    int rc;
    *out = NULL;
    mlops__buf_init(&spec);
    mlops__buf_puts(&spec, "{\"columns\":[");
    for (i = 0; i < net->feature_count; i++) {
        int type;
        if (mlops_frame_column_index(&column, frame, net->features[i]))
            continue;
        type = mlops_frame_column_type(frame, column);
        if (type != MLOPS_TYPE_INT64 && type != MLOPS_TYPE_FLOAT64 && type != MLOPS_TYPE_BOOL)
            continue;
        mlops__buf_puts(&spec, listed++ ? ",{\"name\":" : "{\"name\":");
        mlops__buf_json_string(&spec, net->features[i]);
        mlops__buf_puts(&spec, ",\"kind\":\"numeric\"}");
    }
    mlops__buf_puts(&spec, "]}");
    if ((rc = mlops__buf_status(&spec, SUB)) || !listed)
        goto out_free_spec;
    if (!(rc = mlops_profile_new(&profile, spec.data)) && !(rc = mlops_profile_update_frame(profile, frame)))
        rc = mlops_profile_serialize(out, len_out, profile);
    mlops_profile_free(profile);
out_free_spec:
    mlops__buf_free(&spec);
    return rc;
}

/* Every write of the registration, inside the caller's transaction. */
static int record(int64_t *version_out, mlops_db *db, const char *model, const mlops_net *net,
                  const mlops_frame *frame, const char *config_json, const register_options *o)
{
    void *onnx = NULL, *profile = NULL;
    size_t onnx_len = 0, profile_len = 0, i;
    char *options = NULL;
    int64_t run = 0, version = 0;
    int rc;

    if ((rc = mlops_net_export_onnx(&onnx, &onnx_len, net, o->export_options)) ||
        (o->profile && (rc = training_profile(&profile, &profile_len, net, frame))) ||
        (rc = mlops_run_start(&run, db, o->experiment, o->run_name, config_json, o->tags)) ||
        (rc = log_run(db, run, net)) || (rc = version_options(&options, net, o, run)) ||
        (rc = mlops_version_register(&version, db, model, onnx, onnx_len, options)))
        goto out_free;
    for (i = 0; i < net->test_metrics->count && !rc; i++)
        if (!isnan(net->test_metrics->value[i]))
            rc = mlops_version_metric_log(db, model, version, net->test_metrics->names[i],
                                          net->test_metrics->value[i], net->test_metrics->low[i],
                                          net->test_metrics->high[i], "test", 0);
    if (!rc && profile)
        rc = mlops_version_profile_set(db, model, version, profile, profile_len);
    if (!rc) {
        char text[32];
        snprintf(text, sizeof text, "%lld", (long long)version);
        rc = mlops_run_set_tag(db, run, "model_version", text);
    }
    if (!rc)
        rc = mlops_run_end(db, run, "finished");
    if (!rc)
        *version_out = version;
out_free:
    mlops_free(onnx);
    mlops_free(profile);
    mlops__free(options);
    return rc;
}

int mlops_net_train_register(int64_t *version_out, mlops_net **net_out, mlops_db *db, const char *model,
                             const mlops_frame *frame, const char *config_json, const char *options_json)
{
    register_options o;
    mlops_net *net = NULL;
    int rc;

    if (version_out)
        *version_out = 0;
    if (net_out)
        *net_out = NULL;
    if (!version_out || !db || !model || !frame || !config_json)
        return mlops__error_null(SUB, "mlops_net_train_register", !version_out ? "version_out" : !db ? "db"
                                                                 : !model ? "model" : !frame ? "frame"
                                                                                             : "config_json");
    if ((rc = parse_options(&o, options_json, model)))
        goto out_free_options;
    if ((rc = mlops_net_train(&net, frame, config_json)))
        goto out_free_options;
    if (!net->test_metrics) {
        rc = mlops__error(MLOPS_EINVAL, SUB, "model \"%s\": registration evaluates on the test split; set "
                          "$.split.test in the configuration", model);
        goto out_free_net;
    }
    if ((rc = mlops__tx_begin(db)))
        goto out_free_net;
    rc = mlops__tx_end(db, record(version_out, db, model, net, frame, config_json, &o));
    if (rc) {
        *version_out = 0;
        mlops__error_prefix("model \"%s\"", model);
    }
out_free_net:
    if (!rc && net_out)
        *net_out = net;
    else
        mlops_net_free(net);
out_free_options:
    free_options(&o);
    return rc;
}
