/*
 * The router: settings, arm loading, the epoch-protected route that readers
 * use, the hot path and the background thread that follows alias moves.
 *
 * Readers enter the epoch on their shard's gate (count of the current
 * parity, re-checked after the increment), load the route and leave when the
 * call is done. A reload publishes a new route, advances the epoch and waits
 * until the gates of the old parity drain: from then on no call can still
 * hold the old route, and arms it alone held are closed.
 */
#include <errno.h>
#include <stdio.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "serve_int.h"
#include "../store/store_int.h"

static const char *const arm_names[2] = {"champion", "challenger"};

unsigned mlops__serve_shard(void)
{
    static atomic_uint next_shard;
    static _Thread_local unsigned shard_plus_one;
    if (shard_plus_one == 0)
        shard_plus_one = 1 + atomic_fetch_add_explicit(&next_shard, 1, memory_order_relaxed) % SERVE_SHARDS;
    return shard_plus_one - 1;
}

/* ---- settings ------------------------------------------------------------------------------------ */

static int copy_object(char **out, const mlops__json *json, const char *key, const char *path)
{
    const mlops__json *node = mlops__json_get(json, key);
    if (node == NULL)
        return MLOPS_OK;
    if (!mlops__json_is_object(node))
        return mlops__error(MLOPS_EFORMAT, SERVE_SUB, "router settings: %s.%s: expected an object", path, key);
    *out = mlops__json_print(node);
    return *out ? MLOPS_OK : mlops__error(MLOPS_ENOMEM, SERVE_SUB, "router settings: out of memory");
}

static int check_alias(const char *alias, const char *path)
{
    size_t i, n = strlen(alias);
    if (n == 0 || n > 64 || (alias[0] >= '0' && alias[0] <= '9'))
        return mlops__error(MLOPS_EFORMAT, SERVE_SUB, "router settings: %s: \"%s\" is not an alias name", path, alias);
    for (i = 0; i < n; i++) {
        char c = alias[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-'))
            return mlops__error(MLOPS_EFORMAT, SERVE_SUB, "router settings: %s: \"%s\" is not an alias name", path,
                                alias);
    }
    return MLOPS_OK;
}

static int parse_settings(mlops_router *r, const char *settings_json)
{
    static const char *const keys[] = {"champion", "challenger", "mode", "share", "salt", "reload_interval_ms",
                                       "session", "drift", "outcomes", NULL};
    static const char *const drift_keys[] = {"window_ms", "sample", "config", NULL};
    static const char *const outcome_keys[] = {"capacity", "task", NULL};
    const char *champion = "production", *challenger = NULL, *mode = "canary", *salt = "", *task = "auto";
    mlops__json *json = NULL;
    const mlops__json *drift, *outcomes;
    int64_t reload = 1000, window = 60000, capacity = 16384;
    double share = NAN, sample = 1.0;
    int rc;

    if (settings_json == NULL)
        settings_json = "{}";
    if ((rc = mlops__json_parse(&json, settings_json, SERVE_SUB, "router settings")) != MLOPS_OK)
        return rc;
    if (!mlops__json_is_object(json)) {
        rc = mlops__error(MLOPS_EFORMAT, SERVE_SUB, "router settings: $: expected an object");
        goto out_free_json;
    }
    drift = mlops__json_get(json, "drift");
    outcomes = mlops__json_get(json, "outcomes");
    if ((rc = mlops__json_check_keys(json, "$", SERVE_SUB, keys)) != MLOPS_OK ||
        (rc = mlops__json_opt_string(&champion, json, "champion", "$", SERVE_SUB)) != MLOPS_OK ||
        (rc = mlops__json_opt_string(&challenger, json, "challenger", "$", SERVE_SUB)) != MLOPS_OK ||
        (rc = mlops__json_opt_string(&mode, json, "mode", "$", SERVE_SUB)) != MLOPS_OK ||
        (rc = mlops__json_opt_double(&share, json, "share", "$", SERVE_SUB, 0.0, 1.0)) != MLOPS_OK ||
        (rc = mlops__json_opt_string(&salt, json, "salt", "$", SERVE_SUB)) != MLOPS_OK ||
        (rc = mlops__json_opt_int(&reload, json, "reload_interval_ms", "$", SERVE_SUB, 0, 60000)) != MLOPS_OK ||
        (rc = copy_object(&r->session_options, json, "session", "$")) != MLOPS_OK)
        goto out_free_json;
    if (drift != NULL) {
        if (!mlops__json_is_object(drift)) {
            rc = mlops__error(MLOPS_EFORMAT, SERVE_SUB, "router settings: $.drift: expected an object");
            goto out_free_json;
        }
        if ((rc = mlops__json_check_keys(drift, "$.drift", SERVE_SUB, drift_keys)) != MLOPS_OK ||
            (rc = mlops__json_opt_int(&window, drift, "window_ms", "$.drift", SERVE_SUB, 0, 86400000)) !=
                MLOPS_OK ||
            (rc = mlops__json_opt_double(&sample, drift, "sample", "$.drift", SERVE_SUB, 0.0, 1.0)) != MLOPS_OK ||
            (rc = copy_object(&r->drift_config, drift, "config", "$.drift")) != MLOPS_OK)
            goto out_free_json;
    }
    if (outcomes != NULL) {
        if (!mlops__json_is_object(outcomes)) {
            rc = mlops__error(MLOPS_EFORMAT, SERVE_SUB, "router settings: $.outcomes: expected an object");
            goto out_free_json;
        }
        if ((rc = mlops__json_check_keys(outcomes, "$.outcomes", SERVE_SUB, outcome_keys)) != MLOPS_OK ||
            (rc = mlops__json_opt_int(&capacity, outcomes, "capacity", "$.outcomes", SERVE_SUB, 0, 16777216)) !=
                MLOPS_OK ||
            (rc = mlops__json_opt_string(&task, outcomes, "task", "$.outcomes", SERVE_SUB)) != MLOPS_OK)
            goto out_free_json;
    }
    if ((rc = check_alias(champion, "$.champion")) != MLOPS_OK ||
        (challenger && (rc = check_alias(challenger, "$.challenger")) != MLOPS_OK))
        goto out_free_json;
    if (challenger && strcmp(challenger, champion) == 0) {
        rc = mlops__error(MLOPS_EFORMAT, SERVE_SUB, "router settings: $.challenger: same alias as the champion");
        goto out_free_json;
    }
    if (strcmp(mode, "canary") == 0)
        r->mode = SERVE_MODE_CANARY;
    else if (strcmp(mode, "shadow") == 0)
        r->mode = SERVE_MODE_SHADOW;
    else if (strcmp(mode, "ab") == 0)
        r->mode = SERVE_MODE_AB;
    else {
        rc = mlops__error(MLOPS_EFORMAT, SERVE_SUB, "router settings: $.mode: \"%s\" is not canary, shadow or ab",
                          mode);
        goto out_free_json;
    }
    if (strcmp(task, "auto") == 0)
        r->task = SERVE_TASK_AUTO;
    else if (strcmp(task, "classification") == 0)
        r->task = SERVE_TASK_CLASSIFICATION;
    else if (strcmp(task, "regression") == 0)
        r->task = SERVE_TASK_REGRESSION;
    else {
        rc = mlops__error(MLOPS_EFORMAT, SERVE_SUB,
                          "router settings: $.outcomes.task: \"%s\" is not auto, classification or regression", task);
        goto out_free_json;
    }
    r->share = !isnan(share) ? share : r->mode == SERVE_MODE_CANARY ? 0.1 : r->mode == SERVE_MODE_AB ? 0.5 : 1.0;
    r->salt_seed = mlops__hash64(salt, strlen(salt), 0x6d6c6f7073u);
    r->reload_ms = (int32_t)reload;
    r->window_ms = window;
    r->drift_sample = (uint64_t)(sample * 1048576.0);
    r->outcome_cap = (size_t)capacity;
    r->aliases[0] = mlops__strdup(champion);
    r->aliases[1] = challenger ? mlops__strdup(challenger) : NULL;
    if (r->aliases[0] == NULL || (challenger && r->aliases[1] == NULL))
        rc = mlops__error(MLOPS_ENOMEM, SERVE_SUB, "router settings: out of memory");
out_free_json:
    mlops__json_free(json);
    return rc;
}

/* ---- arms ---------------------------------------------------------------------------------------- */

static void arm_free(serve_arm *arm)
{
    if (arm == NULL)
        return;
    mlops__serve_monitor_free(arm);
    mlops_session_free(arm->session);
    mlops__free(arm);
}

/* Load `version` for arm `which`: artifact, session, reference profile, drift shards. */
static int arm_load(serve_arm **out, mlops_router *r, int32_t which, int64_t version)
{
    serve_arm *arm;
    int rc;

    *out = NULL;
    arm = mlops__calloc(1, sizeof *arm);
    if (arm == NULL)
        return mlops__error(MLOPS_ENOMEM, SERVE_SUB, "model \"%s\" version %lld: out of memory", r->model,
                            (long long)version);
    arm->arm = which;
    arm->version = version;
    if ((rc = mlops__serve_session_load(&arm->session, r->db, r->model, version, r->session_options, NULL)) !=
        MLOPS_OK)
        goto out_fail;
    arm->in_width = mlops_session_input_width(arm->session);
    arm->out_width = mlops_session_output_width(arm->session);
    if (arm->in_width == 0 || arm->out_width == 0) {
        rc = mlops__error(MLOPS_EUNSUPPORTED, SERVE_SUB, "the model has no single float input and output");
        goto out_fail;
    }
    if ((rc = mlops__serve_series_get(&arm->series, r, which, version, arm->out_width)) != MLOPS_OK ||
        (rc = mlops__serve_monitor_init(r, arm)) != MLOPS_OK)
        goto out_fail;
    *out = arm;
    return MLOPS_OK;
out_fail:
    arm_free(arm);
    mlops__error_prefix("router \"%s\": %s version %lld", r->model, arm_names[which], (long long)version);
    return rc;
}

/* Drop one route reference of `arm`; the last one closes its drift window and frees it. */
static void arm_release(mlops_router *r, serve_arm *arm)
{
    if (arm == NULL || --arm->refs > 0)
        return;
    if (arm->pshards != NULL && mlops__serve_monitor_close(r, arm, mlops__now_us()) != MLOPS_OK)
        r->reload_errors++;
    arm_free(arm);
}

static void route_release(mlops_router *r, serve_route *route)
{
    if (route == NULL)
        return;
    arm_release(r, route->arm[0]);
    arm_release(r, route->arm[1]);
    mlops__free(route);
}

/* ---- the epoch ----------------------------------------------------------------------------------- */

static unsigned epoch_enter(mlops_router *r, unsigned shard)
{
    for (;;) {
        uint64_t e = atomic_load(&r->epoch);
        atomic_fetch_add(&r->gates[shard].count[e & 1], 1);
        if (atomic_load(&r->epoch) == e)
            return (unsigned)(e & 1);
        atomic_fetch_sub(&r->gates[shard].count[e & 1], 1);
    }
}

static void epoch_leave(mlops_router *r, unsigned shard, unsigned parity)
{
    atomic_fetch_sub(&r->gates[shard].count[parity], 1);
}

/* Publish `route` and wait until no call can hold the previous one, which is then released. */
static void route_publish(mlops_router *r, serve_route *route)
{
    serve_route *old = atomic_exchange(&r->route, route);
    uint64_t e = atomic_fetch_add(&r->epoch, 1);
    unsigned parity = (unsigned)(e & 1), s;
    for (s = 0; s < SERVE_SHARDS; s++)
        while (atomic_load(&r->gates[s].count[parity]) != 0) {
            struct timespec pause = {0, 20000};
            nanosleep(&pause, NULL);
        }
    route_release(r, old);
}

/* ---- reload -------------------------------------------------------------------------------------- */

static void note_reload_error(mlops_router *r)
{
    const mlops_error *e = mlops_error_last();
    char *text = mlops__strdup(e && e->message ? e->message : "unknown error");
    r->reload_errors++;
    if (text != NULL) {
        mlops__free(r->last_reload_error);
        r->last_reload_error = text;
    }
}

/* Resolve both aliases and swap in what changed; under the control mutex. */
static int reload_locked(int32_t *changed_out, mlops_router *r)
{
    serve_route *cur = atomic_load(&r->route), *next = NULL;
    serve_arm *arms[2] = {NULL, NULL};
    int64_t want[2] = {0, 0};
    int rc = MLOPS_OK, rc_arm, i, changed = 0;
    char ref[256];

    for (i = 0; i < 2; i++) {
        serve_arm *have = cur ? cur->arm[i] : NULL;
        if (r->aliases[i] == NULL)
            continue;
        snprintf(ref, sizeof ref, "%s@%s", r->model, r->aliases[i]);
        rc_arm = mlops_model_resolve(&want[i], r->db, ref);
        if (rc_arm == MLOPS_ENOTFOUND && i == 1) {
            want[i] = 0; /* the challenger alias is not set (any more) */
        } else if (rc_arm != MLOPS_OK) {
            arms[i] = have; /* keep answering from what we have */
            if (rc == MLOPS_OK)
                rc = rc_arm;
            note_reload_error(r);
            continue;
        }
        if (want[i] == 0)
            continue;
        if (have != NULL && have->version == want[i]) {
            arms[i] = have;
            continue;
        }
        rc_arm = arm_load(&arms[i], r, (int32_t)i, want[i]);
        if (rc_arm == MLOPS_OK && i == 1 && (arms[0] || (cur && cur->arm[0])) &&
            arms[i]->in_width != (arms[0] ? arms[0] : cur->arm[0])->in_width) {
            rc_arm = mlops__error(MLOPS_ECONFLICT, SERVE_SUB,
                                  "router \"%s\": challenger version %lld takes %zu inputs, the champion %zu",
                                  r->model, (long long)want[i], arms[i]->in_width,
                                  (arms[0] ? arms[0] : cur->arm[0])->in_width);
            arm_free(arms[i]);
            arms[i] = NULL;
        }
        if (rc_arm == MLOPS_OK && i == 0 && cur && cur->arm[0] && arms[0]->in_width != cur->arm[0]->in_width) {
            rc_arm = mlops__error(MLOPS_ECONFLICT, SERVE_SUB,
                                  "router \"%s\": champion version %lld takes %zu inputs, the serving one %zu",
                                  r->model, (long long)want[i], arms[0]->in_width, cur->arm[0]->in_width);
            arm_free(arms[0]);
            arms[0] = NULL;
        }
        if (rc_arm != MLOPS_OK) {
            arms[i] = have;
            if (rc == MLOPS_OK)
                rc = rc_arm;
            note_reload_error(r);
        }
    }
    if (arms[0] == NULL && rc == MLOPS_OK)
        rc = mlops__error(MLOPS_ENOTFOUND, SERVE_SUB, "router \"%s\": no version to serve", r->model);
    changed = cur == NULL || arms[0] != cur->arm[0] || arms[1] != cur->arm[1];
    if (changed && arms[0] != NULL) {
        next = mlops__calloc(1, sizeof *next);
        if (next == NULL) {
            rc = mlops__error(MLOPS_ENOMEM, SERVE_SUB, "router \"%s\": out of memory for a route", r->model);
            changed = 0;
        }
    } else {
        changed = 0;
    }
    if (!changed) {
        for (i = 0; i < 2; i++)
            if (arms[i] != NULL && (cur == NULL || arms[i] != cur->arm[i]))
                arm_free(arms[i]);
    } else {
        for (i = 0; i < 2; i++) {
            next->arm[i] = arms[i];
            if (arms[i] != NULL)
                arms[i]->refs++;
        }
        route_publish(r, next);
        r->reloads++;
    }
    if (changed_out)
        *changed_out = changed;
    return rc;
}

int mlops_router_reload(int32_t *changed_out, mlops_router *router)
{
    int rc;
    if (changed_out)
        *changed_out = 0;
    if (router == NULL)
        return mlops__error_null(SERVE_SUB, "mlops_router_reload", "router");
    pthread_mutex_lock(&router->ctl);
    atomic_store(&router->dirty, 0);
    rc = reload_locked(changed_out, router);
    pthread_mutex_unlock(&router->ctl);
    return rc;
}

static void on_change(const mlops_registry_change *change, void *payload)
{
    mlops_router *r = payload;
    if (change->model != NULL && strcmp(change->model, r->model) == 0)
        atomic_store(&r->dirty, 1);
}

/* Close the drift windows that ended; under the control mutex. */
static void close_due_windows(mlops_router *r)
{
    serve_route *route = atomic_load(&r->route);
    int64_t now = mlops__now_us();
    int i;
    if (route == NULL || r->window_ms == 0)
        return;
    for (i = 0; i < 2; i++) {
        serve_arm *arm = route->arm[i];
        if (arm != NULL && arm->pshards != NULL && now >= arm->window_start_us + r->window_ms * 1000 &&
            mlops__serve_monitor_close(r, arm, now) != MLOPS_OK)
            note_reload_error(r);
    }
}

static void *background(void *arg)
{
    mlops_router *r = arg;
    pthread_mutex_lock(&r->ctl);
    while (!r->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += r->reload_ms / 1000;
        until.tv_nsec += (long)(r->reload_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!r->stopping && pthread_cond_timedwait(&r->wake, &r->ctl, &until) != ETIMEDOUT)
            ;
        if (r->stopping)
            break;
        if (r->follow && mlops_registry_watch_poll(NULL, r->watch) != MLOPS_OK)
            note_reload_error(r);
        if (atomic_exchange(&r->dirty, 0) && reload_locked(NULL, r) != MLOPS_OK)
            note_reload_error(r);
        close_due_windows(r);
    }
    pthread_mutex_unlock(&r->ctl);
    return NULL;
}

/* ---- open / close -------------------------------------------------------------------------------- */

static int open_connection(mlops_router *r, mlops_db *db)
{
    mlops__buf options;
    int rc;
    mlops__buf_init(&options);
    mlops__buf_puts(&options, "{\"busy_timeout_ms\": 30000, \"actor\": ");
    mlops__buf_json_string(&options, mlops__db_actor(db));
    mlops__buf_putc(&options, '}');
    if ((rc = mlops__buf_status(&options, SERVE_SUB)) == MLOPS_OK)
        rc = mlops_db_open(&r->db, r->path, options.data);
    mlops__buf_free(&options);
    return rc;
}

void mlops_router_close(mlops_router *router)
{
    serve_route *route;
    int i;
    if (router == NULL)
        return;
    if (router->thread_running) {
        pthread_mutex_lock(&router->ctl);
        router->stopping = 1;
        pthread_cond_signal(&router->wake);
        pthread_mutex_unlock(&router->ctl);
        pthread_join(router->thread, NULL);
    }
    mlops_registry_watch_close(router->watch);
    route = atomic_exchange(&router->route, NULL);
    route_release(router, route);
    mlops__serve_series_free_all(router);
    mlops_db_close(router->db);
    pthread_mutex_destroy(&router->ctl);
    pthread_cond_destroy(&router->wake);
    for (i = 0; i < SERVE_SHARDS; i++)
        mlops__free(router->scratch[i].data);
    mlops__free(router->slots);
    mlops__free(router->last_reload_error);
    mlops__free(router->aliases[0]);
    mlops__free(router->aliases[1]);
    mlops__free(router->session_options);
    mlops__free(router->drift_config);
    mlops__free(router->path);
    mlops__free(router->model);
    mlops__free(router);
}

int mlops_router_open(mlops_router **out, mlops_db *db, const char *model, const char *settings_json)
{
    mlops_router *r;
    const char *path;
    int rc;

    if (out == NULL)
        return mlops__error_null(SERVE_SUB, "mlops_router_open", "out");
    *out = NULL;
    if (db == NULL)
        return mlops__error_null(SERVE_SUB, "mlops_router_open", "db");
    if (model == NULL)
        return mlops__error_null(SERVE_SUB, "mlops_router_open", "model");
    path = mlops_db_path(db);
    if (path == NULL || mlops__db_is_memory(db))
        return mlops__error(MLOPS_EUNSUPPORTED, SERVE_SUB,
                            "router \"%s\": needs a database file (the router opens its own connection)", model);
    r = mlops__calloc(1, sizeof *r);
    if (r == NULL)
        return mlops__error(MLOPS_ENOMEM, SERVE_SUB, "router \"%s\": out of memory", model);
    if (pthread_mutex_init(&r->ctl, NULL) != 0) {
        mlops__free(r);
        return mlops__error(MLOPS_ENOMEM, SERVE_SUB, "router \"%s\": cannot create a mutex", model);
    }
    if (pthread_cond_init(&r->wake, NULL) != 0) {
        pthread_mutex_destroy(&r->ctl);
        mlops__free(r);
        return mlops__error(MLOPS_ENOMEM, SERVE_SUB, "router \"%s\": cannot create a condition", model);
    }
    r->model = mlops__strdup(model);
    r->path = mlops__strdup(path);
    if (r->model == NULL || r->path == NULL) {
        rc = mlops__error(MLOPS_ENOMEM, SERVE_SUB, "router \"%s\": out of memory", model);
        goto out_fail;
    }
    if ((rc = parse_settings(r, settings_json)) != MLOPS_OK || (rc = open_connection(r, db)) != MLOPS_OK ||
        (rc = mlops__serve_outcomes_init(r)) != MLOPS_OK ||
        (rc = mlops_registry_watch_open(&r->watch, r->path, -1, on_change, r)) != MLOPS_OK)
        goto out_fail;
    pthread_mutex_lock(&r->ctl);
    rc = reload_locked(NULL, r);
    pthread_mutex_unlock(&r->ctl);
    if (rc != MLOPS_OK)
        goto out_fail;
    if (r->reload_ms > 0 || r->window_ms > 0) {
        /* without alias following the thread only closes drift windows, checking once a second */
        r->follow = r->reload_ms > 0;
        if (r->reload_ms == 0)
            r->reload_ms = 1000;
        if (pthread_create(&r->thread, NULL, background, r) != 0) {
            rc = mlops__error(MLOPS_ENOMEM, SERVE_SUB, "router \"%s\": cannot start the reload thread", model);
            goto out_fail;
        }
        r->thread_running = 1;
    }
    *out = r;
    return MLOPS_OK;
out_fail:
    mlops_router_close(r);
    return rc;
}

/* ---- the hot path -------------------------------------------------------------------------------- */

static int to_challenger(const mlops_router *r, uint64_t key_hash)
{
    double u = (double)(key_hash >> 11) * (1.0 / 9007199254740992.0);
    return u < r->share;
}

int mlops_router_assign(int32_t *arm_out, const mlops_router *router, const char *request_key)
{
    if (arm_out == NULL)
        return mlops__error_null(SERVE_SUB, "mlops_router_assign", "arm_out");
    *arm_out = MLOPS_ARM_CHAMPION;
    if (router == NULL)
        return mlops__error_null(SERVE_SUB, "mlops_router_assign", "router");
    if (request_key == NULL)
        return mlops__error_null(SERVE_SUB, "mlops_router_assign", "request_key");
    if (router->mode != SERVE_MODE_SHADOW &&
        to_challenger(router, mlops__hash64(request_key, strlen(request_key), router->salt_seed)))
        *arm_out = MLOPS_ARM_CHALLENGER;
    return MLOPS_OK;
}

int64_t mlops_router_version(const mlops_router *router, int32_t arm)
{
    mlops_router *r = (mlops_router *)router;
    serve_route *route;
    unsigned shard, parity;
    int64_t version = 0;
    if (router == NULL || (arm != MLOPS_ARM_CHAMPION && arm != MLOPS_ARM_CHALLENGER))
        return 0;
    shard = mlops__serve_shard();
    parity = epoch_enter(r, shard);
    route = atomic_load(&r->route);
    if (route != NULL && route->arm[arm] != NULL)
        version = route->arm[arm]->version;
    epoch_leave(r, shard, parity);
    return version;
}

/* This shard's scratch (or the next free one), grown to `floats`; NULL when it cannot grow. */
static serve_scratch *scratch_take(mlops_router *r, unsigned shard, size_t floats)
{
    serve_scratch *s;
    unsigned i = shard;
    for (;;) {
        int expected = 0;
        s = &r->scratch[i];
        if (atomic_compare_exchange_weak(&s->busy, &expected, 1))
            break;
        i = (i + 1) % SERVE_SHARDS;
    }
    if (s->cap < floats) {
        float *grown = mlops__realloc(s->data, floats * sizeof *grown);
        if (grown == NULL) {
            atomic_store(&s->busy, 0);
            return NULL;
        }
        s->data = grown;
        s->cap = floats;
    }
    return s;
}

/* Run the challenger on the same rows and compare it with the champion's answer. */
static void shadow_compare(mlops_router *r, serve_arm *arm, unsigned shard, const float *input, size_t rows,
                           const float *champion_out, size_t champion_width, float *scratch, int32_t *top1_out,
                           float *value_out)
{
    serve_counters *c = &arm->series->shards[shard];
    size_t width = arm->out_width, i, j;
    int64_t t0 = mlops__monotonic_ns();
    int rc = mlops_session_run(arm->session, input, rows, scratch, rows * width);
    int64_t t1 = mlops__monotonic_ns();
    uint64_t disagree = 0;
    double abs_sum = 0.0;
    (void)r;
    mlops__serve_record(arm->series, shard, rc == MLOPS_OK ? scratch : NULL, rows, (uint64_t)(t1 - t0),
                        rc != MLOPS_OK);
    if (rc != MLOPS_OK || width != champion_width) {
        atomic_fetch_add_explicit(&c->shadow_errors, 1, memory_order_relaxed);
        return;
    }
    for (i = 0; i < rows; i++) {
        const float *a = champion_out + i * width, *b = scratch + i * width;
        if (width > 1 && mlops__serve_argmax(a, width) != mlops__serve_argmax(b, width))
            disagree++;
        for (j = 0; j < width; j++)
            abs_sum += fabs((double)a[j] - (double)b[j]);
    }
    atomic_fetch_add_explicit(&c->shadow_rows, rows, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->shadow_disagree, disagree, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->shadow_abs_count, rows * width, memory_order_relaxed);
    mlops__serve_add_double(&c->shadow_abs_sum, abs_sum);
    *top1_out = (int32_t)mlops__serve_argmax(scratch, width);
    *value_out = scratch[0];
}

int mlops_router_run(int64_t *version_out, mlops_router *router, const char *request_key, const float *input,
                     size_t rows, float *output, size_t capacity)
{
    serve_route *route;
    serve_arm *arm, *shadow = NULL;
    serve_scratch *scratch = NULL;
    float *concat = NULL;
    uint64_t key_hash;
    unsigned shard, parity;
    int64_t t0, t1;
    serve_series *kept[2] = {NULL, NULL};
    int32_t top1[2] = {0, 0};
    float values[2] = {0, 0};
    int rc, pick = 0, monitored;

    if (version_out)
        *version_out = 0;
    if (router == NULL)
        return mlops__error_null(SERVE_SUB, "mlops_router_run", "router");
    if (request_key == NULL)
        return mlops__error_null(SERVE_SUB, "mlops_router_run", "request_key");
    if (input == NULL)
        return mlops__error_null(SERVE_SUB, "mlops_router_run", "input");
    if (output == NULL)
        return mlops__error_null(SERVE_SUB, "mlops_router_run", "output");
    key_hash = mlops__hash64(request_key, strlen(request_key), router->salt_seed);
    shard = mlops__serve_shard();
    parity = epoch_enter(router, shard);
    route = atomic_load(&router->route);
    if (route->arm[1] != NULL && to_challenger(router, key_hash)) {
        if (router->mode == SERVE_MODE_SHADOW)
            shadow = route->arm[1];
        else
            pick = 1;
    }
    arm = route->arm[pick];
    t0 = mlops__monotonic_ns();
    rc = mlops_session_run(arm->session, input, rows, output, capacity);
    t1 = mlops__monotonic_ns();
    mlops__serve_record(arm->series, shard, rc == MLOPS_OK ? output : NULL, rows, (uint64_t)(t1 - t0),
                        rc != MLOPS_OK);
    if (rc != MLOPS_OK) {
        mlops__error_prefix("router \"%s\": %s version %lld", router->model, arm_names[pick],
                            (long long)arm->version);
        goto out_leave;
    }
    if (version_out)
        *version_out = arm->version;
    /* the monitor sees the requests whose key falls in the sampled share (low hash bits; the arm uses the high ones) */
    monitored = arm->pshards != NULL && (key_hash & 1048575u) < router->drift_sample;
    if (rows > 0 && (shadow != NULL || monitored)) {
        /* the challenger's answer, then room for rows of inputs followed by outputs */
        size_t shadow_width = shadow != NULL ? shadow->out_width : 0;
        size_t widest = shadow_width > arm->out_width ? shadow_width : arm->out_width;
        scratch = scratch_take(router, shard, rows * (shadow_width + arm->in_width + widest));
        if (scratch != NULL)
            concat = scratch->data + rows * shadow_width;
    }
    kept[pick] = arm->series;
    top1[pick] = rows > 0 ? (int32_t)mlops__serve_argmax(output, arm->out_width) : 0;
    values[pick] = rows > 0 ? output[0] : 0.0f;
    if (scratch != NULL && shadow != NULL) {
        kept[1] = shadow->series;
        shadow_compare(router, shadow, shard, input, rows, output, arm->out_width, scratch->data, &top1[1],
                       &values[1]);
    } else if (shadow != NULL) {
        atomic_fetch_add_explicit(&shadow->series->shards[shard].shadow_errors, 1, memory_order_relaxed);
    }
    if (scratch != NULL && monitored)
        mlops__serve_monitor_feed(arm, shard, input, output, rows, concat);
    if (scratch != NULL && monitored && shadow != NULL && shadow->pshards != NULL &&
        shadow->in_width == arm->in_width)
        mlops__serve_monitor_feed(shadow, shard, input, scratch->data, rows, concat);
    if (scratch != NULL)
        atomic_store(&scratch->busy, 0);
    if (router->slots != NULL && rows > 0)
        mlops__serve_outcome_keep(router, key_hash, kept, top1, values);
out_leave:
    epoch_leave(router, shard, parity);
    return rc;
}

/* ---- drift callback and flush ------------------------------------------------------------------- */

int mlops_router_on_drift(mlops_router *router, mlops_serve_drift_fn callback, void *payload)
{
    if (router == NULL)
        return mlops__error_null(SERVE_SUB, "mlops_router_on_drift", "router");
    pthread_mutex_lock(&router->ctl);
    router->drift_fn = callback;
    router->drift_payload = payload;
    pthread_mutex_unlock(&router->ctl);
    return MLOPS_OK;
}

int mlops_router_drift_flush(mlops_router *router)
{
    serve_route *route;
    int rc = MLOPS_OK, i;
    if (router == NULL)
        return mlops__error_null(SERVE_SUB, "mlops_router_drift_flush", "router");
    if (router->window_ms == 0)
        return mlops__error(MLOPS_ESTATE, SERVE_SUB, "router \"%s\": the drift monitor is off", router->model);
    pthread_mutex_lock(&router->ctl);
    route = atomic_load(&router->route);
    /* Stop at the first failure: flushing the other arm could clear the error detail; its window stays open. */
    for (i = 0; i < 2 && rc == MLOPS_OK; i++)
        if (route->arm[i] != NULL)
            rc = mlops__serve_monitor_close(router, route->arm[i], mlops__now_us());
    pthread_mutex_unlock(&router->ctl);
    return rc;
}
