/*
 * The trainer's configuration document, validated strictly: an unknown key,
 * a wrong type or an out-of-range value is refused with its $.path.
 * docs/training.md lists every key and its default.
 */
#include <string.h>

#include "train_int.h"

#define SUB MLOPS__TRAIN_SUB

static int pick(int *out, const char *value, const char *path, const char *const *names, const int *codes)
{
    size_t i;
    for (i = 0; names[i]; i++) {
        if (strcmp(value, names[i]) == 0) {
            *out = codes[i];
            return MLOPS_OK;
        }
    }
    return mlops__error(MLOPS_EFORMAT, SUB, "%s: unknown value \"%s\"", path, value);
}

/* A required or optional object member; absent optional objects give *out = NULL. */
static int get_object(mlops__json **out, const mlops__json *doc, const char *key, int required)
{
    *out = mlops__json_get(doc, key);
    if (!*out)
        return required ? mlops__error(MLOPS_EFORMAT, SUB, "$.%s: required", key) : MLOPS_OK;
    if (!mlops__json_is_object(*out))
        return mlops__error(MLOPS_EFORMAT, SUB, "$.%s: expected an object", key);
    return MLOPS_OK;
}

static int parse_features(mlops__train_config *cfg, const mlops__json *doc)
{
    const mlops__json *arr = mlops__json_get(doc, "features");
    size_t i;
    if (!arr)
        return mlops__error(MLOPS_EFORMAT, SUB, "$.features: required");
    if (!mlops__json_is_array(arr) || !mlops__json_array_size(arr))
        return mlops__error(MLOPS_EFORMAT, SUB, "$.features: expected a non-empty array of column names");
    cfg->feature_count = mlops__json_array_size(arr);
    cfg->features = mlops__calloc(cfg->feature_count, sizeof *cfg->features);
    if (!cfg->features)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory reading $.features");
    for (i = 0; i < cfg->feature_count; i++) {
        const mlops__json *item = mlops__json_at(arr, i);
        if (!mlops__json_is_string(item))
            return mlops__error(MLOPS_EFORMAT, SUB, "$.features[%zu]: expected a string", i);
        cfg->features[i] = mlops__json_string(item);
    }
    return MLOPS_OK;
}

static int parse_model(mlops__train_config *cfg, const mlops__json *doc)
{
    static const char *const keys[] = {"type", "hidden", "activation", NULL};
    static const char *const types[] = {"linear", "logistic", "softmax", "mlp", NULL};
    static const int type_tasks[] = {MLOPS_TASK_REGRESSION, MLOPS_TASK_BINARY, MLOPS_TASK_MULTICLASS, 0};
    static const char *const acts[] = {"relu", "gelu", "tanh", NULL};
    static const int act_codes[] = {MLOPS__ACT_RELU, MLOPS__ACT_GELU, MLOPS__ACT_TANH};
    static const char *const tasks[] = {"regression", "binary", "multiclass", NULL};
    static const int task_codes[] = {MLOPS_TASK_REGRESSION, MLOPS_TASK_BINARY, MLOPS_TASK_MULTICLASS};
    mlops__json *model;
    const mlops__json *hidden;
    const char *type = NULL, *act = NULL, *task = NULL;
    int model_task = 0, rc;
    size_t i;

    if ((rc = get_object(&model, doc, "model", 1)) || (rc = mlops__json_check_keys(model, "$.model", SUB, keys)) ||
        (rc = mlops__json_opt_string(&type, model, "type", "$.model", SUB)) ||
        (rc = mlops__json_opt_string(&act, model, "activation", "$.model", SUB)) ||
        (rc = mlops__json_opt_string(&task, doc, "task", "$", SUB)))
        return rc;
    if (!type)
        return mlops__error(MLOPS_EFORMAT, SUB, "$.model.type: required");
    if ((rc = pick(&model_task, type, "$.model.type", types, type_tasks)))
        return rc;
    if (task && (rc = pick(&cfg->task, task, "$.task", tasks, task_codes)))
        return rc;
    if (model_task && task && model_task != cfg->task)
        return mlops__error(MLOPS_EFORMAT, SUB, "$.task: \"%s\" does not fit a %s model", task, type);
    if (model_task)
        cfg->task = model_task;
    else if (!task)
        return mlops__error(MLOPS_EFORMAT, SUB, "$.task: required for an mlp");
    hidden = mlops__json_get(model, "hidden");
    if (model_task && (hidden || act))
        return mlops__error(MLOPS_EFORMAT, SUB, "$.model.%s: a %s model has no hidden layers",
                            hidden ? "hidden" : "activation", type);
    cfg->activation = MLOPS__ACT_RELU;
    if (act && (rc = pick(&cfg->activation, act, "$.model.activation", acts, act_codes)))
        return rc;
    if (!model_task) {
        if (!hidden || !mlops__json_is_array(hidden) || !mlops__json_array_size(hidden))
            return mlops__error(MLOPS_EFORMAT, SUB, "$.model.hidden: expected a non-empty array of layer widths");
        if (mlops__json_array_size(hidden) >= MLOPS__TRAIN_MAX_LAYERS)
            return mlops__error(MLOPS_EFORMAT, SUB, "$.model.hidden: at most %d layers",
                                MLOPS__TRAIN_MAX_LAYERS - 1);
        cfg->hidden_count = mlops__json_array_size(hidden);
        for (i = 0; i < cfg->hidden_count; i++) {
            const mlops__json *item = mlops__json_at(hidden, i);
            double v = mlops__json_is_number(item) ? mlops__json_number(item) : 0;
            if (!(v >= 1 && v <= 65536 && v == (double)(size_t)v))
                return mlops__error(MLOPS_EFORMAT, SUB, "$.model.hidden[%zu]: expected an integer in [1, 65536]",
                                    i);
            cfg->hidden[i] = (size_t)v;
        }
    }
    return MLOPS_OK;
}

static int parse_loss_and_classes(mlops__train_config *cfg, const mlops__json *doc)
{
    static const char *const losses[] = {"mse", "binary_cross_entropy", "cross_entropy", NULL};
    static const int loss_tasks[] = {MLOPS_TASK_REGRESSION, MLOPS_TASK_BINARY, MLOPS_TASK_MULTICLASS};
    const mlops__json *weights = mlops__json_get(doc, "class_weights");
    const char *loss = NULL;
    int loss_task = 0, rc;
    int64_t classes = 0;
    size_t i;

    if ((rc = mlops__json_opt_string(&loss, doc, "loss", "$", SUB)) ||
        (loss && (rc = pick(&loss_task, loss, "$.loss", losses, loss_tasks))) ||
        (rc = mlops__json_opt_int(&classes, doc, "classes", "$", SUB, 2, 65536)))
        return rc;
    if (loss && loss_task != cfg->task)
        return mlops__error(MLOPS_EFORMAT, SUB, "$.loss: \"%s\" does not fit the model's task", loss);
    if (classes && cfg->task != MLOPS_TASK_MULTICLASS)
        return mlops__error(MLOPS_EFORMAT, SUB, "$.classes: only a multiclass model has a class count");
    cfg->classes = cfg->task == MLOPS_TASK_BINARY ? 2 : (size_t)classes;
    if (!weights)
        return MLOPS_OK;
    if (cfg->task == MLOPS_TASK_REGRESSION)
        return mlops__error(MLOPS_EFORMAT, SUB, "$.class_weights: a regression has no classes");
    if (!mlops__json_is_array(weights) || !mlops__json_array_size(weights) ||
        mlops__json_array_size(weights) > 65536)
        return mlops__error(MLOPS_EFORMAT, SUB, "$.class_weights: expected a non-empty array of numbers");
    cfg->class_weight_count = mlops__json_array_size(weights);
    cfg->class_weights = mlops__malloc(cfg->class_weight_count * sizeof *cfg->class_weights);
    if (!cfg->class_weights)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory reading $.class_weights");
    for (i = 0; i < cfg->class_weight_count; i++) {
        const mlops__json *item = mlops__json_at(weights, i);
        double v = mlops__json_is_number(item) ? mlops__json_number(item) : -1;
        if (!(v > 0 && v <= 1e6))
            return mlops__error(MLOPS_EFORMAT, SUB, "$.class_weights[%zu]: expected a number in (0, 1e6]", i);
        cfg->class_weights[i] = v;
    }
    return MLOPS_OK;
}

static int parse_optimizer(mlops__train_config *cfg, const mlops__json *doc)
{
    static const char *const keys[] = {"type", "learning_rate", "momentum", "beta1", "beta2", "epsilon", NULL};
    static const char *const types[] = {"sgd", "adam", NULL};
    static const int codes[] = {MLOPS__OPT_SGD, MLOPS__OPT_ADAM};
    mlops__json *opt;
    const char *type = NULL;
    int rc;

    cfg->optimizer = MLOPS__OPT_ADAM;
    cfg->learning_rate = 1e-3;
    cfg->momentum = 0.0;
    cfg->beta1 = 0.9;
    cfg->beta2 = 0.999;
    cfg->epsilon = 1e-8;
    if ((rc = get_object(&opt, doc, "optimizer", 0)) || !opt)
        return rc;
    if ((rc = mlops__json_check_keys(opt, "$.optimizer", SUB, keys)) ||
        (rc = mlops__json_opt_string(&type, opt, "type", "$.optimizer", SUB)) ||
        (type && (rc = pick(&cfg->optimizer, type, "$.optimizer.type", types, codes))))
        return rc;
    if (cfg->optimizer == MLOPS__OPT_SGD)
        cfg->learning_rate = 0.01;
    if ((rc = mlops__json_opt_double(&cfg->learning_rate, opt, "learning_rate", "$.optimizer", SUB, 1e-12, 1e3)))
        return rc;
    if (cfg->optimizer == MLOPS__OPT_SGD) {
        if (mlops__json_get(opt, "beta1") || mlops__json_get(opt, "beta2") || mlops__json_get(opt, "epsilon"))
            return mlops__error(MLOPS_EFORMAT, SUB, "$.optimizer: beta1, beta2 and epsilon belong to adam");
        return mlops__json_opt_double(&cfg->momentum, opt, "momentum", "$.optimizer", SUB, 0.0, 0.999999);
    }
    if (mlops__json_get(opt, "momentum"))
        return mlops__error(MLOPS_EFORMAT, SUB, "$.optimizer.momentum: belongs to sgd");
    if ((rc = mlops__json_opt_double(&cfg->beta1, opt, "beta1", "$.optimizer", SUB, 0.0, 0.999999)) ||
        (rc = mlops__json_opt_double(&cfg->beta2, opt, "beta2", "$.optimizer", SUB, 0.0, 0.99999999)) ||
        (rc = mlops__json_opt_double(&cfg->epsilon, opt, "epsilon", "$.optimizer", SUB, 1e-30, 1.0)))
        return rc;
    return MLOPS_OK;
}

static int parse_schedule(mlops__train_config *cfg, const mlops__json *doc)
{
    static const char *const keys[] = {"type", "min_learning_rate", "step_epochs", "gamma", NULL};
    static const char *const types[] = {"constant", "cosine", "step", NULL};
    static const int codes[] = {MLOPS__SCHED_CONSTANT, MLOPS__SCHED_COSINE, MLOPS__SCHED_STEP};
    mlops__json *sched;
    const char *type = NULL;
    int rc;

    cfg->schedule = MLOPS__SCHED_CONSTANT;
    cfg->gamma = 0.1;
    cfg->step_epochs = 10;
    if ((rc = get_object(&sched, doc, "schedule", 0)) || !sched)
        return rc;
    if ((rc = mlops__json_check_keys(sched, "$.schedule", SUB, keys)) ||
        (rc = mlops__json_opt_string(&type, sched, "type", "$.schedule", SUB)) ||
        (type && (rc = pick(&cfg->schedule, type, "$.schedule.type", types, codes))) ||
        (rc = mlops__json_opt_double(&cfg->min_learning_rate, sched, "min_learning_rate", "$.schedule", SUB, 0.0,
                                     1e3)) ||
        (rc = mlops__json_opt_int(&cfg->step_epochs, sched, "step_epochs", "$.schedule", SUB, 1, 1000000)) ||
        (rc = mlops__json_opt_double(&cfg->gamma, sched, "gamma", "$.schedule", SUB, 1e-12, 1.0)))
        return rc;
    return MLOPS_OK;
}

static int parse_split_and_stopping(mlops__train_config *cfg, const mlops__json *doc)
{
    static const char *const split_keys[] = {"validation", "test", "time_column", NULL};
    static const char *const stop_keys[] = {"metric", "patience", "min_delta", NULL};
    static const char *const nulls[] = {"impute_mean", "refuse", NULL};
    static const int null_codes[] = {0, 1};
    mlops__json *split, *stop;
    const char *null_policy = NULL;
    int rc;

    cfg->patience = 10;
    if ((rc = mlops__json_opt_string(&null_policy, doc, "nulls", "$", SUB)) ||
        (null_policy && (rc = pick(&cfg->nulls_refuse, null_policy, "$.nulls", nulls, null_codes))) ||
        (rc = get_object(&split, doc, "split", 0)))
        return rc;
    if (split && ((rc = mlops__json_check_keys(split, "$.split", SUB, split_keys)) ||
                  (rc = mlops__json_opt_double(&cfg->validation_fraction, split, "validation", "$.split", SUB, 0.0,
                                               0.9)) ||
                  (rc = mlops__json_opt_double(&cfg->test_fraction, split, "test", "$.split", SUB, 0.0, 0.9)) ||
                  (rc = mlops__json_opt_string(&cfg->time_column, split, "time_column", "$.split", SUB))))
        return rc;
    if (cfg->validation_fraction + cfg->test_fraction > 0.9)
        return mlops__error(MLOPS_EFORMAT, SUB, "$.split: validation + test must leave at least 10%% to train");
    if ((rc = get_object(&stop, doc, "early_stopping", 0)) || !stop)
        return rc;
    if ((rc = mlops__json_check_keys(stop, "$.early_stopping", SUB, stop_keys)) ||
        (rc = mlops__json_opt_string(&cfg->stop_metric, stop, "metric", "$.early_stopping", SUB)) ||
        (rc = mlops__json_opt_int(&cfg->patience, stop, "patience", "$.early_stopping", SUB, 1, 1000000)) ||
        (rc = mlops__json_opt_double(&cfg->min_delta, stop, "min_delta", "$.early_stopping", SUB, 0.0, 1e30)))
        return rc;
    if (!cfg->stop_metric)
        cfg->stop_metric = "loss";
    if (strcmp(cfg->stop_metric, "loss") != 0 && mlops__metric_higher_is_better(cfg->task, cfg->stop_metric) < 0)
        return mlops__error(MLOPS_EFORMAT, SUB, "$.early_stopping.metric: \"%s\" is not a metric of this task",
                            cfg->stop_metric);
    if (cfg->validation_fraction <= 0)
        return mlops__error(MLOPS_EFORMAT, SUB, "$.early_stopping: needs a validation split ($.split.validation)");
    return MLOPS_OK;
}

int mlops__train_config_parse(mlops__train_config *cfg, const char *text)
{
    static const char *const keys[] = {"features", "label", "task", "model", "loss", "classes", "class_weights",
                                       "optimizer", "weight_decay", "schedule", "epochs", "batch_size", "seed",
                                       "threads", "shards", "standardize", "nulls", "split", "early_stopping",
                                       "bootstrap", NULL};
    int64_t seed = 0;
    int rc;

    memset(cfg, 0, sizeof *cfg);
    cfg->epochs = 10;
    cfg->batch_size = 32;
    cfg->threads = 1;
    cfg->shards = 1;
    cfg->bootstrap = 1000;
    cfg->standardize = 1;
    if ((rc = mlops__json_parse(&cfg->doc, text, SUB, "trainer configuration")))
        return rc;
    if (!mlops__json_is_object(cfg->doc))
        return mlops__error(MLOPS_EFORMAT, SUB, "$: expected an object");
    if ((rc = mlops__json_check_keys(cfg->doc, "$", SUB, keys)) || (rc = parse_features(cfg, cfg->doc)) ||
        (rc = mlops__json_opt_string(&cfg->label, cfg->doc, "label", "$", SUB)))
        return rc;
    if (!cfg->label)
        return mlops__error(MLOPS_EFORMAT, SUB, "$.label: required");
    if ((rc = parse_model(cfg, cfg->doc)) || (rc = parse_loss_and_classes(cfg, cfg->doc)) ||
        (rc = parse_optimizer(cfg, cfg->doc)) || (rc = parse_schedule(cfg, cfg->doc)) ||
        (rc = mlops__json_opt_double(&cfg->weight_decay, cfg->doc, "weight_decay", "$", SUB, 0.0, 1e3)) ||
        (rc = mlops__json_opt_int(&cfg->epochs, cfg->doc, "epochs", "$", SUB, 1, 1000000)) ||
        (rc = mlops__json_opt_int(&cfg->batch_size, cfg->doc, "batch_size", "$", SUB, 1, 1 << 20)) ||
        (rc = mlops__json_opt_int(&seed, cfg->doc, "seed", "$", SUB, 0, INT64_MAX)) ||
        (rc = mlops__json_opt_int(&cfg->threads, cfg->doc, "threads", "$", SUB, 1, 64)) ||
        (rc = mlops__json_opt_int(&cfg->shards, cfg->doc, "shards", "$", SUB, 1, 64)) ||
        (rc = mlops__json_opt_int(&cfg->bootstrap, cfg->doc, "bootstrap", "$", SUB, 0, 100000)) ||
        (rc = mlops__json_opt_bool(&cfg->standardize, cfg->doc, "standardize", "$", SUB)) ||
        (rc = parse_split_and_stopping(cfg, cfg->doc)))
        return rc;
    cfg->seed = (uint64_t)seed;
    if (cfg->class_weights && cfg->task == MLOPS_TASK_BINARY && cfg->class_weight_count != 2)
        return mlops__error(MLOPS_EFORMAT, SUB, "$.class_weights: a binary model needs 2 weights, not %zu",
                            cfg->class_weight_count);
    if (cfg->class_weights && cfg->classes && cfg->class_weight_count != cfg->classes)
        return mlops__error(MLOPS_EFORMAT, SUB, "$.class_weights: %zu weights for %zu classes",
                            cfg->class_weight_count, cfg->classes);
    return MLOPS_OK;
}

void mlops__train_config_free(mlops__train_config *cfg)
{
    mlops__free(cfg->features);
    mlops__free(cfg->class_weights);
    mlops__json_free(cfg->doc);
    memset(cfg, 0, sizeof *cfg);
}
