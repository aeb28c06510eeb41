/*
 * The public side of the audit chain: listing entries and verifying the
 * chain. Entries are appended by every registry change (src/store/audit.c);
 * triggers refuse UPDATE and DELETE, and verification finds what was
 * changed behind the library's back through the hashes.
 */
#include <string.h>

#include "registry_int.h"

int mlops_audit_list(char **json_out, mlops_db *db, int64_t after_seq, int64_t limit)
{
    char hex[2 * MLOPS__SHA256_BYTES + 1];
    mlops__stmt *stmt = NULL;
    const char *sep = "";
    mlops__buf buf;
    int rc;
    if (!json_out)
        return mlops__error_null(MLOPS__REG, "mlops_audit_list", "json_out");
    *json_out = NULL;
    if (!db)
        return mlops__error_null(MLOPS__REG, "mlops_audit_list", "db");
    if (limit < 0)
        return mlops__error(MLOPS_EINVAL, MLOPS__REG, "mlops_audit_list: limit %lld is negative", (long long)limit);
    mlops__buf_init(&buf);
    mlops__buf_putc(&buf, '[');
    rc = mlops__reg_prepare(&stmt, db, "SELECT seq, time_us, actor, action, object, details, hash FROM audit_log"
                                       " WHERE seq > ?1 ORDER BY seq LIMIT ?2", "ii", after_seq,
                            limit ? limit : INT64_MAX);
    while (rc == MLOPS_OK && (rc = mlops__stmt_step(stmt)) == MLOPS__ROW) {
        size_t hash_len = mlops__stmt_bytes(stmt, 6);
        mlops__hex(hex, mlops__stmt_blob(stmt, 6), hash_len == MLOPS__SHA256_BYTES ? hash_len : 0);
        mlops__buf_printf(&buf, "%s{\"seq\":%lld,\"time_us\":%lld,\"actor\":", sep,
                          (long long)mlops__stmt_int64(stmt, 0), (long long)mlops__stmt_int64(stmt, 1));
        mlops__buf_json_string(&buf, mlops__stmt_text(stmt, 2));
        mlops__buf_puts(&buf, ",\"action\":");
        mlops__buf_json_string(&buf, mlops__stmt_text(stmt, 3));
        mlops__buf_puts(&buf, ",\"object\":");
        mlops__buf_json_string(&buf, mlops__stmt_text(stmt, 4));
        /* Details are stored as text; they are handed back as a string so a damaged row cannot break the listing. */
        mlops__buf_puts(&buf, ",\"details\":");
        mlops__buf_json_string(&buf, mlops__stmt_text(stmt, 5));
        mlops__buf_printf(&buf, ",\"hash\":\"%s\"}", hex);
        sep = ",";
        rc = MLOPS_OK;
    }
    mlops__stmt_release(stmt);
    return mlops__reg_json_list_end(json_out, &buf, rc);
}

int mlops_audit_verify(int64_t *first_bad_out, mlops_db *db)
{
    uint8_t prev[MLOPS__SHA256_BYTES] = {0}, hash[MLOPS__SHA256_BYTES];
    int64_t expected = 1, bad = 0;
    mlops__stmt *stmt = NULL;
    int rc;
    if (!first_bad_out)
        return mlops__error_null(MLOPS__REG, "mlops_audit_verify", "first_bad_out");
    *first_bad_out = 0;
    if (!db)
        return mlops__error_null(MLOPS__REG, "mlops_audit_verify", "db");
    rc = mlops__reg_prepare(&stmt, db, "SELECT seq, time_us, actor, action, object, details, prev_hash, hash"
                                       " FROM audit_log ORDER BY seq", "");
    while (rc == MLOPS_OK && (rc = mlops__stmt_step(stmt)) == MLOPS__ROW) {
        int64_t seq = mlops__stmt_int64(stmt, 0);
        const char *fields[4];
        int i;
        rc = MLOPS_OK;
        if (seq > expected) {
            bad = expected;
            rc = mlops__error(MLOPS_ECORRUPT, MLOPS__REG,
                              "audit chain broken at entry %lld: it was removed (the next entry is %lld)",
                              (long long)expected, (long long)seq);
            break;
        }
        if (seq < expected) {
            bad = seq;
            rc = mlops__error(MLOPS_ECORRUPT, MLOPS__REG,
                              "audit chain broken at entry %lld: it was inserted before entry %lld",
                              (long long)seq, (long long)expected);
            break;
        }
        for (i = 0; i < 4; i++)
            fields[i] = mlops__stmt_text(stmt, 2 + i);
        if (mlops__stmt_bytes(stmt, 6) != MLOPS__SHA256_BYTES || mlops__stmt_bytes(stmt, 7) != MLOPS__SHA256_BYTES ||
            memcmp(mlops__stmt_blob(stmt, 6), prev, MLOPS__SHA256_BYTES) != 0) {
            bad = seq;
            rc = mlops__error(MLOPS_ECORRUPT, MLOPS__REG,
                              "audit chain broken at entry %lld: it does not follow entry %lld (inserted, or an"
                              " earlier entry was rewritten)", (long long)seq, (long long)seq - 1);
            break;
        }
        mlops__audit_hash(hash, prev, seq, mlops__stmt_int64(stmt, 1), fields[0] ? fields[0] : "",
                          fields[1] ? fields[1] : "", fields[2] ? fields[2] : "", fields[3] ? fields[3] : "");
        if (memcmp(hash, mlops__stmt_blob(stmt, 7), MLOPS__SHA256_BYTES) != 0) {
            bad = seq;
            rc = mlops__error(MLOPS_ECORRUPT, MLOPS__REG,
                              "audit chain broken at entry %lld: its content does not match its hash (altered or"
                              " inserted)", (long long)seq);
            break;
        }
        memcpy(prev, hash, sizeof prev);
        expected++;
    }
    mlops__stmt_release(stmt);
    if (rc == MLOPS_DONE)
        rc = MLOPS_OK;
    *first_bad_out = bad;
    return rc;
}
