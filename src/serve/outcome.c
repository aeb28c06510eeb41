/*
 * Outcome feedback: the first-row predictions of recent requests kept in a
 * direct-mapped table keyed by the request key's hash (a newer request
 * whose key maps to the same slot replaces the older one), joined with the
 * true label when the host reports it.
 */
#include <math.h>
#include <string.h>

#include "serve_int.h"

int mlops__serve_outcomes_init(mlops_router *router)
{
    if (router->outcome_cap == 0)
        return MLOPS_OK;
    router->slots = mlops__calloc(router->outcome_cap, sizeof *router->slots);
    if (router->slots == NULL)
        return mlops__error(MLOPS_ENOMEM, SERVE_SUB, "router \"%s\": out of memory for %zu outcome slots",
                            router->model, router->outcome_cap);
    return MLOPS_OK;
}

static serve_slot *slot_lock(mlops_router *router, uint64_t key_hash, int wait)
{
    serve_slot *slot = &router->slots[key_hash % router->outcome_cap];
    int expected = 0;
    while (!atomic_compare_exchange_weak(&slot->busy, &expected, 1)) {
        if (!wait)
            return NULL;
        expected = 0;
    }
    return slot;
}

void mlops__serve_outcome_keep(mlops_router *router, uint64_t key_hash, serve_series *const series[2],
                               const int32_t top1[2], const float values[2])
{
    /* the hot path does not wait: a slot being joined right now simply keeps its older entry */
    serve_slot *slot = slot_lock(router, key_hash, 0);
    int i;
    if (slot == NULL)
        return;
    slot->key_hash = key_hash;
    for (i = 0; i < 2; i++) {
        slot->series[i] = series[i];
        slot->top1[i] = top1[i];
        slot->value[i] = values[i];
    }
    atomic_store(&slot->busy, 0);
}

static int is_class(const mlops_router *router, const serve_series *series)
{
    return router->task == SERVE_TASK_CLASSIFICATION || (router->task == SERVE_TASK_AUTO && series->out_width > 1);
}

int mlops_router_outcome(mlops_router *router, const char *request_key, double label)
{
    serve_series *series[2];
    int32_t top1[2];
    float values[2];
    serve_slot *slot;
    uint64_t key_hash;
    int i, found;

    if (router == NULL)
        return mlops__error_null(SERVE_SUB, "mlops_router_outcome", "router");
    if (request_key == NULL)
        return mlops__error_null(SERVE_SUB, "mlops_router_outcome", "request_key");
    if (router->slots == NULL)
        return mlops__error(MLOPS_ESTATE, SERVE_SUB, "router \"%s\": outcomes are off ($.outcomes.capacity 0)",
                            router->model);
    if (!isfinite(label))
        return mlops__error(MLOPS_EINVAL, SERVE_SUB, "router \"%s\": request \"%s\": the label is not finite",
                            router->model, request_key);
    key_hash = mlops__hash64(request_key, strlen(request_key), router->salt_seed);
    slot = slot_lock(router, key_hash, 1);
    found = slot->key_hash == key_hash && (slot->series[0] != NULL || slot->series[1] != NULL);
    for (i = 0; i < 2; i++) {
        series[i] = found ? slot->series[i] : NULL;
        top1[i] = slot->top1[i];
        values[i] = slot->value[i];
        if (series[i] != NULL && is_class(router, series[i]) &&
            (label < 0 || label != floor(label) || label >= (double)series[i]->out_width)) {
            atomic_store(&slot->busy, 0);
            return mlops__error(MLOPS_EINVAL, SERVE_SUB,
                                "router \"%s\": request \"%s\": label %g is not a class index below %zu",
                                router->model, request_key, label, series[i]->out_width);
        }
    }
    if (found)
        slot->series[0] = slot->series[1] = NULL;
    atomic_store(&slot->busy, 0);
    if (!found)
        return mlops__error(MLOPS_ENOTFOUND, SERVE_SUB,
                            "router \"%s\": request \"%s\": no kept prediction (never seen, replaced or joined)",
                            router->model, request_key);
    for (i = 0; i < 2; i++) {
        serve_quality *q;
        if (series[i] == NULL)
            continue;
        q = &series[i]->quality;
        if (is_class(router, series[i])) {
            if ((double)top1[i] == label)
                atomic_fetch_add(&q->correct, 1);
        } else {
            double e = (double)values[i] - label;
            mlops__serve_add_double(&q->sq_sum, e * e);
            mlops__serve_add_double(&q->sq_sq_sum, e * e * e * e);
        }
        atomic_fetch_add(&q->n, 1);
    }
    return MLOPS_OK;
}
