/*
 * Read plans: the requested features of a view resolved once against every
 * stored definition version, so that a row of any version decodes with a
 * table lookup. A feature a row's version does not have (added later, or
 * retyped by an incompatible change) reads as null.
 */
#include <math.h>
#include <string.h>

#include "features_int.h"

void mlops__fs_plan_free(fs_plan *plan)
{
    if (!plan)
        return;
    mlops__fs_view_free(plan->view);
    mlops__free(plan->features);
    mlops__free(plan->min_bytes);
    mlops__free(plan->slots);
    mlops__free(plan);
}

/* Fill the slots of one stored version. */
static void plan_version(fs_plan *plan, const fs_view *stored, int32_t version)
{
    size_t i, j;
    fs_slot *slots = plan->slots + (size_t)(version - 1) * plan->count;
    plan->min_bytes[version - 1] = stored->fixed_bytes;
    for (i = 0; i < plan->count; i++) {
        const fs_feature *want = plan->features[i];
        slots[i].bit = -1;
        slots[i].offset = 0;
        for (j = 0; j < stored->feature_count; j++) {
            const fs_feature *have = &stored->features[j];
            if (strcmp(have->name, want->name) == 0 && have->type == want->type && have->dim == want->dim) {
                slots[i].bit = (int32_t)j;
                slots[i].offset = have->offset;
                break;
            }
        }
    }
}

int mlops__fs_plan_new(fs_plan **out, mlops_db *db, const char *view, int32_t version,
                       const char *const *features, size_t count)
{
    fs_plan *plan;
    fs_view *current = NULL, *stored = NULL;
    int32_t v;
    size_t i;
    int rc;

    *out = NULL;
    plan = mlops__calloc(1, sizeof *plan);
    if (!plan)
        return mlops__error(MLOPS_ENOMEM, "features", "out of memory planning a read");
    if ((rc = mlops__fs_view_load(&plan->view, db, view, version)))
        goto out_free;
    if ((rc = mlops__fs_view_load(&current, db, view, 0)))
        goto out_free;
    plan->count = count;
    plan->version_count = current->version;
    plan->features = mlops__calloc(count ? count : 1, sizeof(const fs_feature *));
    plan->min_bytes = mlops__calloc((size_t)plan->version_count, sizeof *plan->min_bytes);
    plan->slots = mlops__calloc((size_t)plan->version_count * (count ? count : 1), sizeof *plan->slots);
    if (!plan->features || !plan->min_bytes || !plan->slots) {
        rc = mlops__error(MLOPS_ENOMEM, "features", "out of memory planning a read");
        goto out_free;
    }
    for (i = 0; i < count; i++) {
        if (!features[i]) {
            rc = mlops__error(MLOPS_EINVAL, "features", "feature view \"%s\": feature name %zu is NULL", view, i);
            goto out_free;
        }
        plan->features[i] = mlops__fs_view_feature(plan->view, features[i]);
        if (!plan->features[i]) {
            rc = mlops__error(MLOPS_ENOTFOUND, "features", "feature view \"%s\" version %d has no feature \"%s\"",
                              view, (int)plan->view->version, features[i]);
            goto out_free;
        }
    }
    for (v = 1; v <= plan->version_count; v++) {
        if (v == plan->view->version) {
            plan_version(plan, plan->view, v);
            continue;
        }
        if ((rc = mlops__fs_view_load(&stored, db, view, v)))
            goto out_free;
        plan_version(plan, stored, v);
        mlops__fs_view_free(stored);
        stored = NULL;
    }
    *out = plan;
    plan = NULL;
out_free:
    mlops__fs_view_free(current);
    mlops__fs_plan_free(plan);
    return rc;
}

int mlops__fs_plan_check(const fs_plan *plan, int32_t version, const uint8_t *payload, size_t len)
{
    if (version < 1 || version > plan->version_count)
        return mlops__error(MLOPS_ESTATE, "features",
                            "feature view \"%s\": a row has definition version %d, newer than this read knows",
                            plan->view->name, (int)version);
    if (len < plan->min_bytes[version - 1] || !payload)
        return mlops__error(MLOPS_ECORRUPT, "features", "feature view \"%s\": stored row of %zu bytes is damaged",
                            plan->view->name, len);
    return MLOPS_OK;
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    int b;
    for (b = 7; b >= 0; b--)
        v = (v << 8) | p[b];
    return v;
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static const fs_slot *present(const fs_plan *plan, size_t i, int32_t version, const uint8_t *payload)
{
    const fs_slot *slot = &plan->slots[(size_t)(version - 1) * plan->count + i];
    if (slot->bit < 0 || (payload[slot->bit / 8] >> (slot->bit % 8)) & 1)
        return NULL;
    return slot;
}

int mlops__fs_plan_is_null(const fs_plan *plan, size_t i, int32_t version, const uint8_t *payload)
{
    return present(plan, i, version, payload) == NULL;
}

int mlops__fs_plan_add_columns(const fs_plan *plan, mlops_frame *frame)
{
    size_t i;
    int rc;
    for (i = 0; i < plan->count; i++) {
        const fs_feature *f = plan->features[i];
        if ((rc = mlops_frame_add_column(frame, f->name, f->type,
                                         f->type == MLOPS_TYPE_F32VEC ? f->dim : 0)))
            return rc;
    }
    return MLOPS_OK;
}

int mlops__fs_plan_decode_cell(const fs_plan *plan, size_t i, int32_t version, const uint8_t *payload,
                               size_t len, mlops_frame *frame, size_t col, size_t row)
{
    const fs_feature *f = plan->features[i];
    const fs_slot *slot = present(plan, i, version, payload);
    const uint8_t *p;
    if (!slot)
        return MLOPS_OK;
    p = payload + slot->offset;
    switch (f->type) {
    case MLOPS_TYPE_INT64: return mlops_frame_set_int64(frame, col, row, (int64_t)get_le64(p));
    case MLOPS_TYPE_FLOAT64: {
        uint64_t bits = get_le64(p);
        double v;
        memcpy(&v, &bits, sizeof v);
        return mlops_frame_set_float64(frame, col, row, v);
    }
    case MLOPS_TYPE_BOOL: return mlops_frame_set_bool(frame, col, row, *p);
    case MLOPS_TYPE_F32VEC: {
        float stack[64] = {0};
        float *v = f->dim <= 64 ? stack : mlops__malloc(sizeof(float) * f->dim);
        uint32_t d;
        int rc;
        if (!v)
            return mlops__error(MLOPS_ENOMEM, "features", "out of memory reading a vector");
        for (d = 0; d < f->dim; d++) {
            uint32_t bits = get_le32(p + (size_t)4 * d);
            memcpy(&v[d], &bits, sizeof bits);
        }
        rc = mlops_frame_set_f32vec(frame, col, row, v, f->dim);
        if (v != stack)
            mlops__free(v);
        return rc;
    }
    default: {
        /* The caller checked the fixed part; the string slice is checked here. */
        size_t var = plan->min_bytes[version - 1], off = get_le32(p), n = get_le32(p + 4);
        if (off > len - var || n > len - var - off)
            return mlops__error(MLOPS_ECORRUPT, "features", "feature view \"%s\": stored string of \"%s\" is damaged",
                                plan->view->name, f->name);
        return mlops_frame_set_string(frame, col, row, (const char *)payload + var + off, n);
    }
    }
}

size_t mlops__fs_plan_width(const fs_plan *plan)
{
    size_t i, width = 0;
    for (i = 0; i < plan->count; i++) {
        if (plan->features[i]->type == MLOPS_TYPE_STRING)
            return 0;
        width += plan->features[i]->dim;
    }
    return width;
}

void mlops__fs_plan_decode_floats(const fs_plan *plan, int32_t version, const uint8_t *payload, float *out)
{
    size_t i;
    for (i = 0; i < plan->count; i++) {
        const fs_feature *f = plan->features[i];
        const fs_slot *slot = present(plan, i, version, payload);
        const uint8_t *p = slot ? payload + slot->offset : NULL;
        uint32_t d;
        if (!slot) {
            for (d = 0; d < f->dim; d++)
                *out++ = NAN;
            continue;
        }
        switch (f->type) {
        case MLOPS_TYPE_INT64: *out++ = (float)(int64_t)get_le64(p); break;
        case MLOPS_TYPE_FLOAT64: {
            uint64_t bits = get_le64(p);
            double v;
            memcpy(&v, &bits, sizeof v);
            *out++ = (float)v;
            break;
        }
        case MLOPS_TYPE_BOOL: *out++ = (float)*p; break;
        default:
            for (d = 0; d < f->dim; d++) {
                uint32_t bits = get_le32(p + (size_t)4 * d);
                memcpy(out++, &bits, sizeof bits);
            }
            break;
        }
    }
}

int mlops__fs_read_frame(mlops_frame **out, const fs_plan *plan, size_t rows)
{
    const fs_entity *entity = &plan->view->entity;
    mlops_frame *frame = NULL;
    size_t i;
    int rc;

    *out = NULL;
    if ((rc = mlops_frame_new(&frame)))
        return rc;
    for (i = 0; i < entity->key_count && rc == MLOPS_OK; i++)
        rc = mlops_frame_add_column(frame, entity->keys[i].name, entity->keys[i].type, 0);
    if (rc || (rc = mlops_frame_add_column(frame, "event_time", MLOPS_TYPE_INT64, 0)) ||
        (rc = mlops_frame_add_column(frame, "age_us", MLOPS_TYPE_INT64, 0)) ||
        (rc = mlops__fs_plan_add_columns(plan, frame)) || (rc = mlops_frame_append_rows(frame, rows))) {
        mlops_frame_free(frame);
        return rc;
    }
    *out = frame;
    return MLOPS_OK;
}
