/*
 * Forgetting keys (erasure requests) and per-view statistics.
 *
 * A forget deletes the key's rows from the history, the online table and
 * the quarantine of every view of the entity in one transaction, with
 * SQLite's secure_delete on so freed cells and pages are overwritten (every
 * feature store write that replaces rows runs that way too, so no older
 * copy lingers in freed space), then truncates the write-ahead log so no
 * older page image with the key stays in it. The audit entry carries a keyed BLAKE2b hash of each key, under a
 * secret kept in the database: the same key hashes the same way (so a later
 * request can be matched) but the hash does not reveal the key.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "features_int.h"

#define FORGET_SECRET_META "features.forget_secret"
#define SECRET_BYTES 32

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int forget_secret(uint8_t secret[SECRET_BYTES], mlops_db *db)
{
    mlops__stmt *stmt = NULL;
    char hex[2 * SECRET_BYTES + 1];
    int rc, i;

    if ((rc = mlops__db_prepare(&stmt, db, "SELECT value FROM mlops_meta WHERE key = '" FORGET_SECRET_META "'")))
        return rc;
    rc = mlops__stmt_step(stmt);
    if (rc == MLOPS__ROW) {
        const char *text = mlops__stmt_text(stmt, 0);
        rc = strlen(text) == (size_t)2 * SECRET_BYTES ? MLOPS_OK : MLOPS_ECORRUPT;
        for (i = 0; rc == MLOPS_OK && i < SECRET_BYTES; i++) {
            int high = hex_digit(text[2 * (size_t)i]), low = hex_digit(text[2 * (size_t)i + 1]);
            if (high < 0 || low < 0)
                rc = MLOPS_ECORRUPT;
            else
                secret[i] = (uint8_t)(high << 4 | low);
        }
        if (rc)
            rc = mlops__error(MLOPS_ECORRUPT, "features", "the forget secret in mlops_meta is damaged");
        mlops__stmt_release(stmt);
        return rc;
    }
    mlops__stmt_release(stmt);
    if (rc != MLOPS_DONE)
        return rc;
    if (sodium_init() < 0)
        return mlops__error(MLOPS_EINTERNAL, "features", "libsodium could not be initialised");
    randombytes_buf(secret, SECRET_BYTES);
    mlops__hex(hex, secret, SECRET_BYTES);
    if ((rc = mlops__db_prepare(&stmt, db, "INSERT INTO mlops_meta(key, value) VALUES ('" FORGET_SECRET_META "', ?1)")))
        return rc;
    if (!(rc = mlops__stmt_bind_text(stmt, 1, hex, strlen(hex))))
        rc = mlops__stmt_step(stmt);
    mlops__stmt_release(stmt);
    return rc == MLOPS_DONE ? MLOPS_OK : rc;
}

static const char *const forget_sql[] = {
    "DELETE FROM fs_history WHERE view_id IN (SELECT id FROM fs_view WHERE entity = ?1) AND key = ?2",
    "DELETE FROM fs_online WHERE view_id IN (SELECT id FROM fs_view WHERE entity = ?1) AND key = ?2",
    "DELETE FROM fs_quarantine WHERE view_id IN (SELECT id FROM fs_view WHERE entity = ?1) AND key = ?2",
};

static int delete_key(int64_t *removed, mlops_db *db, const char *entity, const mlops__buf *key)
{
    size_t i;
    int rc = MLOPS_OK;
    for (i = 0; i < sizeof forget_sql / sizeof forget_sql[0] && rc == MLOPS_OK; i++) {
        mlops__stmt *stmt = NULL;
        if ((rc = mlops__db_prepare(&stmt, db, forget_sql[i])))
            break;
        if (!(rc = mlops__stmt_bind_text(stmt, 1, entity, strlen(entity))) &&
            !(rc = mlops__stmt_bind_blob(stmt, 2, key->data, key->len)))
            rc = mlops__stmt_step(stmt);
        mlops__stmt_release(stmt);
        if (rc == MLOPS_DONE) {
            *removed += mlops__db_changes(db);
            rc = MLOPS_OK;
        }
    }
    return rc;
}

/* Copy the pages of the log into the file and empty the log. */
static int truncate_log(mlops_db *db)
{
    mlops__stmt *stmt = NULL;
    int rc;
    if (mlops__db_is_memory(db))
        return MLOPS_OK;
    if ((rc = mlops__db_prepare(&stmt, db, "PRAGMA wal_checkpoint(TRUNCATE)")))
        return rc;
    rc = mlops__stmt_step(stmt);
    if (rc == MLOPS__ROW)
        rc = mlops__stmt_int64(stmt, 0) == 0
                 ? MLOPS_OK
                 : mlops__error(MLOPS_EBUSY, "features", "forget: the rows are deleted, but another connection keeps "
                                                         "the write-ahead log from being truncated; retry the forget");
    mlops__stmt_release(stmt);
    return rc == MLOPS_DONE ? MLOPS_OK : rc;
}

int mlops_features_forget(int64_t *removed_out, mlops_db *db, const char *entity, const mlops_frame *keys)
{
    fs_entity def;
    uint8_t secret[SECRET_BYTES], digest[32];
    char hex[65], object[96];
    size_t cols[8], rows, row;
    mlops__buf key, details;
    int64_t removed = 0, secure_delete = 1;
    int rc;

    if (removed_out)
        *removed_out = 0;
    if (!db)
        return mlops__error_null("features", "mlops_features_forget", "db");
    if (!entity)
        return mlops__error_null("features", "mlops_features_forget", "entity");
    if (!keys)
        return mlops__error_null("features", "mlops_features_forget", "keys");
    if ((rc = mlops__fs_entity_load(&def, db, entity)))
        return rc;
    mlops__buf_init(&key);
    mlops__buf_init(&details);
    if ((rc = mlops__fs_key_columns(cols, &def, keys, "forget: keys")))
        goto out_free;
    rows = mlops_frame_rows(keys);
    if ((rc = mlops__fs_secure_delete_on(&secure_delete, db)))
        goto out_free;
    if ((rc = mlops__tx_begin(db)))
        goto out_secure;
    if ((rc = forget_secret(secret, db)))
        goto out_end;
    mlops__buf_puts(&details, "{\"key_hashes\":[");
    for (row = 0; row < rows && rc == MLOPS_OK; row++) {
        rc = mlops__fs_key_encode(&key, &def, cols, keys, row);
        if (rc == MLOPS_NULL) {
            rc = mlops__error(MLOPS_EINVAL, "features", "forget: keys row %zu has a null key", row);
            break;
        }
        if (rc || (rc = delete_key(&removed, db, entity, &key)))
            break;
        crypto_generichash(digest, sizeof digest, (const unsigned char *)key.data, key.len, secret, SECRET_BYTES);
        mlops__hex(hex, digest, sizeof digest);
        mlops__buf_printf(&details, "%s\"%s\"", row ? "," : "", hex);
    }
    mlops__buf_printf(&details, "],\"rows\":%lld}", (long long)removed);
    snprintf(object, sizeof object, "entity:%s", entity);
    if (rc == MLOPS_OK && (rc = mlops__buf_status(&details, "features")) == MLOPS_OK)
        rc = mlops__audit_append(db, "features.forget", object, details.data);
out_end:
    rc = mlops__tx_end(db, rc);
out_secure:
    mlops__fs_secure_delete_restore(db, secure_delete);
    /* Past the commit a failure cannot undo the deletion: say so, so the caller retries the forget. */
    if (rc == MLOPS_OK && (rc = truncate_log(db)) != MLOPS_OK && rc != MLOPS_EBUSY)
        mlops__error_prefix("forget: the rows are deleted, but the write-ahead log was not truncated; retry the "
                            "forget");
out_free:
    sodium_memzero(secret, sizeof secret);
    mlops__buf_free(&key);
    mlops__buf_free(&details);
    mlops__fs_entity_clear(&def);
    if (rc == MLOPS_OK && removed_out)
        *removed_out = removed;
    return rc;
}

/* ---- statistics ---- */

static int count_query(int64_t *out, int *null_out, mlops_db *db, const char *sql, int64_t view_id)
{
    mlops__stmt *stmt = NULL;
    int rc;
    if ((rc = mlops__db_prepare(&stmt, db, sql)))
        return rc;
    if (!(rc = mlops__stmt_bind_int64(stmt, 1, view_id)))
        rc = mlops__stmt_step(stmt);
    if (rc == MLOPS__ROW) {
        if (null_out)
            *null_out = mlops__stmt_is_null(stmt, 0);
        *out = mlops__stmt_int64(stmt, 0);
        rc = MLOPS_OK;
    }
    mlops__stmt_release(stmt);
    return rc;
}

int mlops_features_stats(char **out, mlops_db *db, const char *view)
{
    fs_view *current = NULL;
    fs_plan *plan = NULL;
    const char **names = NULL;
    int64_t *nulls = NULL, rows = 0, keys = 0, newest = 0, quarantined = 0;
    mlops__stmt *stmt = NULL;
    mlops__buf json;
    int newest_null = 1, rc;
    size_t i;

    if (!out)
        return mlops__error_null("features", "mlops_features_stats", "out");
    *out = NULL;
    if (!db)
        return mlops__error_null("features", "mlops_features_stats", "db");
    if (!view)
        return mlops__error_null("features", "mlops_features_stats", "view");
    mlops__buf_init(&json);
    /* Counts and null rates from one snapshot. */
    if ((rc = mlops__tx_begin_read(db)))
        return rc;
    if ((rc = mlops__fs_view_load(&current, db, view, 0)))
        goto out_end;
    names = mlops__calloc(current->feature_count, sizeof *names);
    nulls = mlops__calloc(current->feature_count, sizeof *nulls);
    if (!names || !nulls) {
        rc = mlops__error(MLOPS_ENOMEM, "features", "out of memory computing statistics");
        goto out_free;
    }
    for (i = 0; i < current->feature_count; i++)
        names[i] = current->features[i].name;
    if ((rc = mlops__fs_plan_new(&plan, db, view, 0, names, current->feature_count)) ||
        (rc = count_query(&rows, NULL, db, "SELECT count(*) FROM fs_history WHERE view_id = ?1", current->id)) ||
        (rc = count_query(&keys, NULL, db, "SELECT count(*) FROM fs_online WHERE view_id = ?1", current->id)) ||
        (rc = count_query(&newest, &newest_null, db, "SELECT max(event_time) FROM fs_online WHERE view_id = ?1",
                          current->id)) ||
        (rc = count_query(&quarantined, NULL, db, "SELECT count(*) FROM fs_quarantine WHERE view_id = ?1",
                          current->id)))
        goto out_free;
    if ((rc = mlops__db_prepare(&stmt, db, "SELECT version, payload FROM fs_online WHERE view_id = ?1")) ||
        (rc = mlops__stmt_bind_int64(stmt, 1, current->id)))
        goto out_release;
    while ((rc = mlops__stmt_step(stmt)) == MLOPS__ROW) {
        int32_t version = (int32_t)mlops__stmt_int64(stmt, 0);
        const uint8_t *payload = mlops__stmt_blob(stmt, 1);
        if ((rc = mlops__fs_plan_check(plan, version, payload, mlops__stmt_bytes(stmt, 1))))
            break;
        for (i = 0; i < plan->count; i++)
            nulls[i] += mlops__fs_plan_is_null(plan, i, version, payload);
    }
    if (rc != MLOPS_DONE)
        goto out_release;
    mlops__buf_puts(&json, "{\"view\":");
    mlops__buf_json_string(&json, current->name);
    mlops__buf_printf(&json, ",\"version\":%d,\"rows\":%lld,\"keys\":%lld,\"newest_event_time\":", (int)current->version,
                      (long long)rows, (long long)keys);
    if (newest_null)
        mlops__buf_puts(&json, "null");
    else
        mlops__buf_printf(&json, "%lld", (long long)newest);
    mlops__buf_printf(&json, ",\"quarantined\":%lld,\"features\":[", (long long)quarantined);
    for (i = 0; i < current->feature_count; i++) {
        char rate[40];
        mlops__format_double(rate, sizeof rate, keys ? (double)nulls[i] / (double)keys : 0.0);
        mlops__buf_puts(&json, i ? ",{\"name\":" : "{\"name\":");
        mlops__buf_json_string(&json, current->features[i].name);
        mlops__buf_printf(&json, ",\"null_rate\":%s}", rate);
    }
    mlops__buf_puts(&json, "]}");
    rc = mlops__buf_status(&json, "features");
out_release:
    mlops__stmt_release(stmt);
out_free:
    mlops__free(names);
    mlops__free(nulls);
    mlops__fs_plan_free(plan);
    mlops__fs_view_free(current);
out_end:
    rc = mlops__tx_end(db, rc);
    if (rc == MLOPS_OK)
        *out = mlops__buf_detach(&json, NULL);
    mlops__buf_free(&json);
    return rc;
}
