/*
 * The key and payload encodings described in features_int.h, and the small
 * helpers every read shares.
 */
#include <stdio.h>
#include <string.h>

#include "features_int.h"

int mlops__fs_key_columns(size_t *cols, const fs_entity *entity, const mlops_frame *frame, const char *what)
{
    size_t i;
    for (i = 0; i < entity->key_count; i++) {
        const fs_key_column *key = &entity->keys[i];
        if (mlops_frame_column_index(&cols[i], frame, key->name) != MLOPS_OK)
            return mlops__error(MLOPS_EINVAL, "features", "%s: missing key column \"%s\" of entity \"%s\"", what,
                                key->name, entity->name);
        if (mlops_frame_column_type(frame, cols[i]) != key->type)
            return mlops__error(MLOPS_EINVAL, "features", "%s: key column \"%s\" is %s, entity \"%s\" needs %s",
                                what, key->name, mlops_frame_type_name(mlops_frame_column_type(frame, cols[i])),
                                entity->name, mlops_frame_type_name(key->type));
    }
    return MLOPS_OK;
}

int mlops__fs_key_encode(mlops__buf *buf, const fs_entity *entity, const size_t *cols, const mlops_frame *frame,
                         size_t row)
{
    size_t i;
    buf->len = 0;
    for (i = 0; i < entity->key_count; i++) {
        if (entity->keys[i].type == MLOPS_TYPE_INT64) {
            uint8_t bytes[9];
            int64_t v = 0;
            uint64_t u;
            int b;
            if (mlops_frame_get_int64(&v, frame, cols[i], row) == MLOPS_NULL)
                return MLOPS_NULL;
            u = (uint64_t)v ^ UINT64_C(0x8000000000000000);
            bytes[0] = FS_KEY_TAG_INT64;
            for (b = 0; b < 8; b++)
                bytes[1 + b] = (uint8_t)(u >> (56 - 8 * b));
            mlops__buf_append(buf, bytes, sizeof bytes);
        } else {
            const char *text = NULL;
            size_t len = 0;
            if (mlops_frame_get_string(&text, &len, frame, cols[i], row) == MLOPS_NULL)
                return MLOPS_NULL;
            mlops__buf_putc(buf, FS_KEY_TAG_STRING);
            mlops__buf_append(buf, text, len);
            mlops__buf_putc(buf, 0);
        }
    }
    return mlops__buf_status(buf, "features");
}

int mlops__fs_key_decode(mlops_frame *frame, size_t first_col, size_t row, const fs_entity *entity,
                         const uint8_t *key, size_t len)
{
    size_t i, pos = 0;
    int rc = MLOPS_OK;
    for (i = 0; i < entity->key_count && rc == MLOPS_OK; i++) {
        if (entity->keys[i].type == MLOPS_TYPE_INT64) {
            uint64_t u = 0;
            int b;
            if (pos + 9 > len || key[pos] != FS_KEY_TAG_INT64)
                return mlops__error(MLOPS_ECORRUPT, "features", "stored key of entity \"%s\" is damaged", entity->name);
            for (b = 0; b < 8; b++)
                u = (u << 8) | key[pos + 1 + b];
            rc = mlops_frame_set_int64(frame, first_col + i, row, (int64_t)(u ^ UINT64_C(0x8000000000000000)));
            pos += 9;
        } else {
            const uint8_t *end;
            if (pos >= len || key[pos] != FS_KEY_TAG_STRING ||
                !(end = memchr(key + pos + 1, 0, len - pos - 1)))
                return mlops__error(MLOPS_ECORRUPT, "features", "stored key of entity \"%s\" is damaged", entity->name);
            rc = mlops_frame_set_string(frame, first_col + i, row, (const char *)key + pos + 1,
                                        (size_t)(end - (key + pos + 1)));
            pos = (size_t)(end - key) + 1;
        }
    }
    return rc;
}

static void put_le64(uint8_t *p, uint64_t v)
{
    int b;
    for (b = 0; b < 8; b++)
        p[b] = (uint8_t)(v >> (8 * b));
}

static void put_le32(uint8_t *p, uint32_t v)
{
    int b;
    for (b = 0; b < 4; b++)
        p[b] = (uint8_t)(v >> (8 * b));
}

int mlops__fs_payload_encode(mlops__buf *buf, const fs_view *view, const size_t *cols, const mlops_frame *frame,
                             size_t row)
{
    uint8_t *p;
    size_t i, var = 0;

    /* The fixed part first (zeroed), then string bytes appended behind it. */
    static const uint8_t zeros[256];
    buf->len = 0;
    for (i = 0; i < view->fixed_bytes; i += sizeof zeros)
        mlops__buf_append(buf, zeros, view->fixed_bytes - i < sizeof zeros ? view->fixed_bytes - i : sizeof zeros);
    if (buf->failed)
        return mlops__buf_status(buf, "features");
    for (i = 0; i < view->feature_count; i++) {
        const fs_feature *f = &view->features[i];
        size_t col = cols[i];
        if (col == SIZE_MAX || mlops_frame_is_null(frame, col, row) == 1) {
            buf->data[i / 8] = (char)(buf->data[i / 8] | (1 << (i % 8)));
            continue;
        }
        p = (uint8_t *)buf->data + f->offset;
        switch (f->type) {
        case MLOPS_TYPE_INT64: {
            int64_t v = 0;
            mlops_frame_get_int64(&v, frame, col, row);
            put_le64(p, (uint64_t)v);
            break;
        }
        case MLOPS_TYPE_FLOAT64: {
            double v = 0;
            uint64_t bits;
            mlops_frame_get_float64(&v, frame, col, row);
            memcpy(&bits, &v, sizeof bits);
            put_le64(p, bits);
            break;
        }
        case MLOPS_TYPE_BOOL: {
            int32_t v = 0;
            mlops_frame_get_bool(&v, frame, col, row);
            *p = (uint8_t)(v != 0);
            break;
        }
        case MLOPS_TYPE_F32VEC: {
            const float *v = NULL;
            uint32_t d;
            mlops_frame_get_f32vec(&v, frame, col, row);
            for (d = 0; d < f->dim; d++) {
                uint32_t bits;
                memcpy(&bits, &v[d], sizeof bits);
                put_le32(p + (size_t)4 * d, bits);
            }
            break;
        }
        default: {
            const char *text = NULL;
            size_t len = 0;
            mlops_frame_get_string(&text, &len, frame, col, row);
            if (len > UINT32_MAX || var + len > UINT32_MAX)
                return mlops__error(MLOPS_ELIMIT, "features", "view \"%s\": column \"%s\" row %zu: string too long",
                                    view->name, f->name, row);
            put_le32(p, (uint32_t)var);
            put_le32(p + 4, (uint32_t)len);
            mlops__buf_append(buf, text, len);
            var += len;
            break;
        }
        }
    }
    return mlops__buf_status(buf, "features");
}

int mlops__fs_key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

int mlops__fs_fresh(const fs_view *view, int64_t event_time, int64_t at)
{
    if (view->ttl_us == 0)
        return 1;
    /* at - event_time <= ttl, without overflow for times far apart. */
    if (at < event_time)
        return 1;
    return (uint64_t)at - (uint64_t)event_time <= (uint64_t)view->ttl_us;
}

int mlops__fs_read_options(mlops_read_options *out, const mlops_read_options *in)
{
    mlops_read_options defaults = MLOPS_READ_OPTIONS_INIT;
    if (!in) {
        *out = defaults;
        return MLOPS_OK;
    }
    if (in->version != MLOPS_READ_OPTIONS_VERSION)
        return mlops__error(MLOPS_EINVAL, "features", "read options version %u is not %d", (unsigned)in->version,
                            MLOPS_READ_OPTIONS_VERSION);
    if (in->definition_version < 0)
        return mlops__error(MLOPS_EINVAL, "features", "read options: definition_version %d is negative",
                            (int)in->definition_version);
    *out = *in;
    return MLOPS_OK;
}

int mlops__fs_secure_delete_on(int64_t *previous, mlops_db *db)
{
    mlops__stmt *stmt = NULL;
    int rc;
    *previous = 1;
    if ((rc = mlops__db_prepare(&stmt, db, "PRAGMA secure_delete")))
        return rc;
    rc = mlops__stmt_step(stmt);
    if (rc == MLOPS__ROW) {
        *previous = mlops__stmt_int64(stmt, 0);
        rc = MLOPS_OK;
    }
    mlops__stmt_release(stmt);
    if (rc)
        return rc;
    return *previous == 1 ? MLOPS_OK : mlops__db_exec(db, "PRAGMA secure_delete = 1");
}

void mlops__fs_secure_delete_restore(mlops_db *db, int64_t previous)
{
    char sql[48];
    if (previous == 1)
        return;
    snprintf(sql, sizeof sql, "PRAGMA secure_delete = %d", (int)previous);
    mlops__db_exec(db, sql);
}

void mlops_ingest_options_init(mlops_ingest_options *options)
{
    mlops_ingest_options defaults = MLOPS_INGEST_OPTIONS_INIT;
    if (options)
        *options = defaults;
}

void mlops_read_options_init(mlops_read_options *options)
{
    mlops_read_options defaults = MLOPS_READ_OPTIONS_INIT;
    if (options)
        *options = defaults;
}
