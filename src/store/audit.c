/*
 * Appending to the audit chain. Each entry's hash covers the previous
 * entry's hash and its own fields, so an altered, removed or inserted entry
 * breaks the chain at that position.
 */
#include <string.h>

#include "store_int.h"

static void hash_field(mlops__sha256 *state, const char *text)
{
    uint8_t len_le[8];
    uint64_t len = strlen(text);
    int i;
    for (i = 0; i < 8; i++)
        len_le[i] = (uint8_t)(len >> (8 * i));
    mlops__sha256_update(state, len_le, sizeof len_le);
    mlops__sha256_update(state, text, (size_t)len);
}

static void hash_int(mlops__sha256 *state, int64_t value)
{
    uint8_t le[8];
    int i;
    for (i = 0; i < 8; i++)
        le[i] = (uint8_t)((uint64_t)value >> (8 * i));
    mlops__sha256_update(state, le, sizeof le);
}

void mlops__audit_hash(uint8_t out[MLOPS__SHA256_BYTES], const uint8_t prev[MLOPS__SHA256_BYTES], int64_t seq,
                       int64_t time_us, const char *actor, const char *action, const char *object,
                       const char *details)
{
    mlops__sha256 state;
    mlops__sha256_init(&state);
    mlops__sha256_update(&state, "mlops-audit-v1", 14);
    mlops__sha256_update(&state, prev, MLOPS__SHA256_BYTES);
    hash_int(&state, seq);
    hash_int(&state, time_us);
    hash_field(&state, actor);
    hash_field(&state, action);
    hash_field(&state, object);
    hash_field(&state, details);
    mlops__sha256_final(&state, out);
}

int mlops__audit_append(mlops_db *db, const char *action, const char *object, const char *details_json)
{
    uint8_t prev[MLOPS__SHA256_BYTES] = {0};
    uint8_t hash[MLOPS__SHA256_BYTES];
    int64_t seq = 1, time_us = mlops__now_us();
    const char *details = details_json ? details_json : "{}";
    mlops__stmt *stmt = NULL;
    int rc;

    if (mlops__tx_depth(db) == 0)
        return mlops__error(MLOPS_EINTERNAL, "store", "audit entry \"%s\" appended outside a transaction", action);
    rc = mlops__db_prepare(&stmt, db, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
    if (rc)
        return rc;
    rc = mlops__stmt_step(stmt);
    if (rc == MLOPS__ROW) {
        if (mlops__stmt_bytes(stmt, 1) != MLOPS__SHA256_BYTES) {
            rc = mlops__error(MLOPS_ECORRUPT, "store", "audit entry %lld has a damaged hash",
                              (long long)mlops__stmt_int64(stmt, 0));
            mlops__stmt_release(stmt);
            return rc;
        }
        seq = mlops__stmt_int64(stmt, 0) + 1;
        memcpy(prev, mlops__stmt_blob(stmt, 1), MLOPS__SHA256_BYTES);
        rc = MLOPS_OK;
    } else if (rc == MLOPS_DONE) {
        rc = MLOPS_OK;
    }
    mlops__stmt_release(stmt);
    if (rc)
        return rc;
    mlops__audit_hash(hash, prev, seq, time_us, mlops__db_actor(db), action, object, details);
    rc = mlops__db_prepare(&stmt, db,
                           "INSERT INTO audit_log(seq, time_us, actor, action, object, details, prev_hash, hash)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (rc)
        return rc;
    if (!(rc = mlops__stmt_bind_int64(stmt, 1, seq)) && !(rc = mlops__stmt_bind_int64(stmt, 2, time_us)) &&
        !(rc = mlops__stmt_bind_text(stmt, 3, mlops__db_actor(db), strlen(mlops__db_actor(db)))) &&
        !(rc = mlops__stmt_bind_text(stmt, 4, action, strlen(action))) &&
        !(rc = mlops__stmt_bind_text(stmt, 5, object, strlen(object))) &&
        !(rc = mlops__stmt_bind_text(stmt, 6, details, strlen(details))) &&
        !(rc = mlops__stmt_bind_blob(stmt, 7, prev, sizeof prev)) &&
        !(rc = mlops__stmt_bind_blob(stmt, 8, hash, sizeof hash))) {
        rc = mlops__stmt_step(stmt);
        if (rc == MLOPS_DONE)
            rc = MLOPS_OK;
    }
    mlops__stmt_release(stmt);
    return rc;
}
