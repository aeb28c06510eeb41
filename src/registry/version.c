/*
 * Models and versions: creation, streaming registration with gap-free
 * numbering (the number is taken under the write lock in the transaction
 * that stores the version), listing with tag and metric filters, deletion,
 * signatures, reference profiles, evaluation metrics and approvals.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>
#include <zstd_errors.h>

#include "registry_int.h"

/* ---- models ------------------------------------------------------------------------------------------ */

int mlops_model_create(mlops_db *db, const char *name, const char *description, const char *tags_json)
{
    char *tags = NULL;
    int rc;
    if (!db)
        return mlops__error_null(MLOPS__REG, "mlops_model_create", "db");
    if (!name)
        return mlops__error_null(MLOPS__REG, "mlops_model_create", "name");
    if ((rc = mlops__reg_check_model_name(name)))
        return rc;
    if ((rc = mlops__reg_json_object(&tags, tags_json, "model tags", 1)))
        return rc;
    if ((rc = mlops__tx_begin(db)))
        goto out_free_tags;
    rc = mlops__reg_exec(db, "INSERT INTO reg_model(name, description, tags, created_us, creator)"
                             " VALUES (?1, ?2, ?3, ?4, ?5)",
                         "tttit", name, description ? description : "", tags, mlops__now_us(), mlops__db_actor(db));
    if (rc == MLOPS_EEXISTS)
        rc = mlops__error(MLOPS_EEXISTS, MLOPS__REG, "model \"%s\" already exists", name);
    if (rc == MLOPS_OK)
        rc = mlops__reg_record(db, "model.create", name, 0, NULL, tags);
    rc = mlops__tx_end(db, rc);
out_free_tags:
    mlops__free(tags);
    return rc;
}

static int model_json(mlops__buf *buf, mlops_db *db, int64_t model_id, int with_gates)
{
    mlops__stmt *stmt = NULL;
    const char *sep = "";
    int rc = mlops__reg_prepare(&stmt, db,
                                "SELECT name, description, tags, created_us, creator,"
                                " (SELECT max(version) FROM reg_version WHERE model_id = ?1),"
                                " (SELECT count(*) FROM reg_version WHERE model_id = ?1)"
                                " FROM reg_model WHERE id = ?1", "i", model_id);
    if (rc)
        return rc;
    if ((rc = mlops__stmt_step(stmt)) == MLOPS__ROW) {
        mlops__buf_puts(buf, "{\"name\":");
        mlops__buf_json_string(buf, mlops__stmt_text(stmt, 0));
        mlops__buf_puts(buf, ",\"description\":");
        mlops__buf_json_string(buf, mlops__stmt_text(stmt, 1));
        mlops__buf_printf(buf, ",\"tags\":%s,\"created_us\":%lld,\"creator\":", mlops__stmt_text(stmt, 2),
                          (long long)mlops__stmt_int64(stmt, 3));
        mlops__buf_json_string(buf, mlops__stmt_text(stmt, 4));
        mlops__buf_printf(buf, ",\"latest_version\":%lld,\"versions\":%lld,\"aliases\":{",
                          (long long)mlops__stmt_int64(stmt, 5), (long long)mlops__stmt_int64(stmt, 6));
        rc = MLOPS_OK;
    } else if (rc == MLOPS_DONE) {
        rc = mlops__error(MLOPS_EINTERNAL, MLOPS__REG, "model row %lld vanished", (long long)model_id);
    }
    mlops__stmt_release(stmt);
    if (rc)
        return rc;
    rc = mlops__reg_prepare(&stmt, db, "SELECT a.name, v.version FROM reg_alias a JOIN reg_version v"
                                       " ON v.id = a.version_id WHERE a.model_id = ?1 ORDER BY a.name", "i", model_id);
    while (rc == MLOPS_OK && (rc = mlops__stmt_step(stmt)) == MLOPS__ROW) {
        mlops__buf_puts(buf, sep);
        mlops__buf_json_string(buf, mlops__stmt_text(stmt, 0));
        mlops__buf_printf(buf, ":%lld", (long long)mlops__stmt_int64(stmt, 1));
        sep = ",";
        rc = MLOPS_OK;
    }
    mlops__stmt_release(stmt);
    if (rc != MLOPS_DONE)
        return rc;
    mlops__buf_putc(buf, '}');
    if (with_gates) {
        sep = "";
        mlops__buf_puts(buf, ",\"gates\":{");
        rc = mlops__reg_prepare(&stmt, db, "SELECT alias, policy FROM reg_gate WHERE model_id = ?1 ORDER BY alias",
                                "i", model_id);
        while (rc == MLOPS_OK && (rc = mlops__stmt_step(stmt)) == MLOPS__ROW) {
            mlops__buf_puts(buf, sep);
            mlops__buf_json_string(buf, mlops__stmt_text(stmt, 0));
            mlops__buf_printf(buf, ":%s", mlops__stmt_text(stmt, 1));
            sep = ",";
            rc = MLOPS_OK;
        }
        mlops__stmt_release(stmt);
        if (rc != MLOPS_DONE)
            return rc;
        mlops__buf_putc(buf, '}');
    }
    mlops__buf_putc(buf, '}');
    return mlops__buf_status(buf, MLOPS__REG);
}

int mlops_model_list(char **json_out, mlops_db *db)
{
    mlops__stmt *stmt = NULL;
    mlops__buf buf;
    const char *sep = "";
    int rc;
    if (!json_out)
        return mlops__error_null(MLOPS__REG, "mlops_model_list", "json_out");
    *json_out = NULL;
    if (!db)
        return mlops__error_null(MLOPS__REG, "mlops_model_list", "db");
    mlops__buf_init(&buf);
    mlops__buf_putc(&buf, '[');
    rc = mlops__reg_prepare(&stmt, db, "SELECT id FROM reg_model ORDER BY name", "");
    while (rc == MLOPS_OK && (rc = mlops__stmt_step(stmt)) == MLOPS__ROW) {
        mlops__buf_puts(&buf, sep);
        rc = model_json(&buf, db, mlops__stmt_int64(stmt, 0), 0);
        sep = ",";
    }
    mlops__stmt_release(stmt);
    return mlops__reg_json_list_end(json_out, &buf, rc);
}

int mlops_model_show(char **json_out, mlops_db *db, const char *name)
{
    int64_t model_id = 0;
    mlops__buf buf;
    int rc;
    if (!json_out)
        return mlops__error_null(MLOPS__REG, "mlops_model_show", "json_out");
    *json_out = NULL;
    if (!db)
        return mlops__error_null(MLOPS__REG, "mlops_model_show", "db");
    if (!name)
        return mlops__error_null(MLOPS__REG, "mlops_model_show", "name");
    mlops__buf_init(&buf);
    rc = mlops__reg_model_find(&model_id, db, name);
    if (rc == MLOPS_OK)
        rc = model_json(&buf, db, model_id, 1);
    return mlops__reg_json_detach(json_out, &buf, rc);
}

/* ---- registration ------------------------------------------------------------------------------------ */

struct mlops_version_writer {
    mlops_db *db;
    char *model;
    int64_t model_id;
    mlops__json *options;
    const mlops__json *views;   /* borrowed from options */
    char *metadata;
    char *tags;
    char *signature;            /* NULL when not given */
    int64_t run_id;             /* 0: none */
    int64_t parent_version;     /* 0: none */
    int64_t as_of_us;
    int has_as_of;
    int64_t level;
    int in_tx;
    int tx_depth;               /* the handle's transaction depth while this writer's transaction is innermost */
    int status;                 /* sticky failure */
    int committed;
    mlops__chunk_sink sink;
    uint8_t *chunk;
    size_t chunk_len;
    void *zbuf;
    size_t zcap;
    ZSTD_CCtx *cctx;
};

int mlops__reg_lineage_check(const mlops__json *views, const char *path)
{
    static const char *const keys[] = {"name", "version", NULL};
    char at[96];
    size_t i;
    int rc;
    if (!mlops__json_is_array(views))
        return mlops__error(MLOPS_EFORMAT, MLOPS__REG, "%s: expected an array", path);
    for (i = 0; i < mlops__json_array_size(views); i++) {
        const mlops__json *view = mlops__json_at(views, i);
        const char *name = NULL;
        int64_t version = -1;
        snprintf(at, sizeof at, "%s[%zu]", path, i);
        if ((rc = mlops__json_check_keys(view, at, MLOPS__REG, keys)) ||
            (rc = mlops__json_opt_string(&name, view, "name", at, MLOPS__REG)) ||
            (rc = mlops__json_opt_int(&version, view, "version", at, MLOPS__REG, 0, INT64_MAX)))
            return rc;
        if (!name || !*name || version < 0)
            return mlops__error(MLOPS_EFORMAT, MLOPS__REG, "%s: needs \"name\" (non-empty) and \"version\"", at);
    }
    return MLOPS_OK;
}

int mlops__reg_lineage_insert(mlops_db *db, int64_t version_id, const mlops__json *views)
{
    size_t i;
    int rc = MLOPS_OK;
    for (i = 0; views && rc == MLOPS_OK && i < mlops__json_array_size(views); i++) {
        const mlops__json *view = mlops__json_at(views, i);
        rc = mlops__reg_exec(db, "INSERT INTO reg_lineage(version_id, view, view_version) VALUES (?1, ?2, ?3)",
                             "iti", version_id, mlops__json_string(mlops__json_get(view, "name")),
                             (int64_t)mlops__json_number(mlops__json_get(view, "version")));
        if (rc == MLOPS_EEXISTS)
            rc = mlops__error(MLOPS_EFORMAT, MLOPS__REG, "lineage names feature view \"%s\" twice",
                              mlops__json_string(mlops__json_get(view, "name")));
    }
    return rc;
}

/* Copy member `key` of the options (an object) into *out as compact JSON; absent gives `fallback`. */
static int option_object(char **out, const mlops__json *options, const char *key, const char *fallback,
                         int strings_only)
{
    const mlops__json *node = mlops__json_get(options, key);
    const mlops__json *member;
    *out = NULL;
    if (!node) {
        if (!fallback)
            return MLOPS_OK;
        *out = mlops__strdup(fallback);
        return *out ? MLOPS_OK : mlops__error(MLOPS_ENOMEM, MLOPS__REG, "out of memory");
    }
    if (!mlops__json_is_object(node))
        return mlops__error(MLOPS_EFORMAT, MLOPS__REG, "version options: $.%s: expected an object", key);
    for (member = mlops__json_first(node); strings_only && member; member = mlops__json_next(member))
        if (!mlops__json_is_string(member))
            return mlops__error(MLOPS_EFORMAT, MLOPS__REG, "version options: $.%s.%s: expected a string", key,
                                mlops__json_key(member));
    *out = mlops__json_print(node);
    return *out ? MLOPS_OK : mlops__error(MLOPS_ENOMEM, MLOPS__REG, "out of memory");
}

static int parse_writer_options(mlops_version_writer *w, const char *options_json)
{
    static const char *const keys[] = {"metadata", "tags", "signature", "run_id", "parent_version", "lineage",
                                       "zstd_level", NULL};
    static const char *const lineage_keys[] = {"feature_views", "as_of_us", NULL};
    const mlops__json *lineage;
    int rc;

    rc = mlops__json_parse(&w->options, options_json && *options_json ? options_json : "{}", MLOPS__REG,
                           "version options");
    if (rc)
        return rc;
    if ((rc = mlops__json_check_keys(w->options, "version options: $", MLOPS__REG, keys)) ||
        (rc = option_object(&w->metadata, w->options, "metadata", "{}", 0)) ||
        (rc = option_object(&w->tags, w->options, "tags", "{}", 1)) ||
        (rc = option_object(&w->signature, w->options, "signature", NULL, 0)) ||
        (rc = mlops__json_opt_int(&w->run_id, w->options, "run_id", "version options: $", MLOPS__REG, 1, INT64_MAX)) ||
        (rc = mlops__json_opt_int(&w->parent_version, w->options, "parent_version", "version options: $", MLOPS__REG,
                                  1, INT64_MAX)) ||
        (rc = mlops__json_opt_int(&w->level, w->options, "zstd_level", "version options: $", MLOPS__REG,
                                  ZSTD_minCLevel(), ZSTD_maxCLevel())))
        return rc;
    lineage = mlops__json_get(w->options, "lineage");
    if (lineage) {
        if ((rc = mlops__json_check_keys(lineage, "version options: $.lineage", MLOPS__REG, lineage_keys)))
            return rc;
        w->has_as_of = mlops__json_get(lineage, "as_of_us") != NULL;
        if ((rc = mlops__json_opt_int(&w->as_of_us, lineage, "as_of_us", "version options: $.lineage", MLOPS__REG,
                                      INT64_MIN / 2, INT64_MAX / 2)))
            return rc;
        w->views = mlops__json_get(lineage, "feature_views");
        if (w->views && (rc = mlops__reg_lineage_check(w->views, "version options: $.lineage.feature_views")))
            return rc;
    }
    return MLOPS_OK;
}

static void writer_destroy(mlops_version_writer *w)
{
    if (w->in_tx)
        mlops__tx_end(w->db, w->status ? w->status : MLOPS_ESTATE);
    ZSTD_freeCCtx(w->cctx);
    mlops__free(w->zbuf);
    mlops__free(w->chunk);
    mlops__free(w->metadata);
    mlops__free(w->tags);
    mlops__free(w->signature);
    mlops__json_free(w->options);
    mlops__free(w->model);
    mlops__free(w);
}

void mlops_version_writer_free(mlops_version_writer *writer)
{
    if (writer)
        writer_destroy(writer);
}

int mlops_version_writer_begin(mlops_version_writer **out, mlops_db *db, const char *model, const char *options_json)
{
    mlops_version_writer *w;
    int64_t found = 0;
    int rc;

    if (!out)
        return mlops__error_null(MLOPS__REG, "mlops_version_writer_begin", "out");
    *out = NULL;
    if (!db)
        return mlops__error_null(MLOPS__REG, "mlops_version_writer_begin", "db");
    if (!model)
        return mlops__error_null(MLOPS__REG, "mlops_version_writer_begin", "model");
    w = mlops__calloc(1, sizeof *w);
    if (!w)
        return mlops__error(MLOPS_ENOMEM, MLOPS__REG, "out of memory registering a version of \"%s\"", model);
    w->db = db;
    w->level = 3;
    if ((rc = parse_writer_options(w, options_json)))
        goto out_destroy;
    w->model = mlops__strdup(model);
    w->chunk = mlops__malloc(MLOPS__CHUNK_BYTES);
    w->zcap = ZSTD_compressBound(MLOPS__CHUNK_BYTES);
    w->zbuf = mlops__malloc(w->zcap);
    w->cctx = ZSTD_createCCtx();
    if (!w->model || !w->chunk || !w->zbuf || !w->cctx) {
        rc = mlops__error(MLOPS_ENOMEM, MLOPS__REG, "out of memory registering a version of \"%s\"", model);
        goto out_destroy;
    }
    /* Every chunk frame carries zstd's checksum, verified on every read. */
    if (ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, (int)w->level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1))) {
        rc = mlops__error(MLOPS_EINTERNAL, MLOPS__REG, "model \"%s\": zstd refused the compression settings", model);
        goto out_destroy;
    }
    if ((rc = mlops__tx_begin(db)))
        goto out_destroy;
    w->in_tx = 1;
    w->tx_depth = mlops__tx_depth(db);
    if ((rc = mlops__reg_model_find(&w->model_id, db, model)))
        goto out_fail;
    if (w->run_id) {
        rc = mlops__reg_query_int(&found, db, "SELECT id FROM reg_run WHERE id = ?1", "i", w->run_id);
        if (rc == MLOPS_DONE)
            rc = mlops__error(MLOPS_ENOTFOUND, MLOPS__REG, "model \"%s\": run %lld not found", model,
                              (long long)w->run_id);
        if (rc)
            goto out_fail;
    }
    if (w->parent_version && (rc = mlops__reg_version_find(&found, db, w->model_id, model, w->parent_version))) {
        mlops__error_prefix("parent version");
        goto out_fail;
    }
    if ((rc = mlops__chunk_sink_begin(&w->sink, db)))
        goto out_fail;
    *out = w;
    return MLOPS_OK;
out_fail:
    w->status = rc;
out_destroy:
    writer_destroy(w);
    return rc;
}

static int flush_chunk(mlops_version_writer *w)
{
    size_t zlen;
    int rc;
    if (w->chunk_len == 0)
        return MLOPS_OK;
    zlen = ZSTD_compress2(w->cctx, w->zbuf, w->zcap, w->chunk, w->chunk_len);
    if (ZSTD_isError(zlen))
        return mlops__error_dep(MLOPS_EINTERNAL, MLOPS__REG, (int32_t)ZSTD_getErrorCode(zlen),
                                "model \"%s\": compressing an artifact chunk failed: %s", w->model,
                                ZSTD_getErrorName(zlen));
    rc = mlops__chunk_sink_put(&w->sink, w->chunk, w->chunk_len, w->zbuf, zlen);
    w->chunk_len = 0;
    return rc;
}

static int writer_usable(mlops_version_writer *w, const char *function)
{
    if (w->committed)
        return mlops__error(MLOPS_ESTATE, MLOPS__REG, "%s: model \"%s\": the version was committed already",
                            function, w->model);
    if (w->status)
        return mlops__error(w->status, MLOPS__REG, "%s: model \"%s\": the registration failed earlier", function,
                            w->model);
    if (mlops__tx_depth(w->db) != w->tx_depth)
        return mlops__error(MLOPS_ESTATE, MLOPS__REG,
                            "%s: model \"%s\": another writer or transaction is open on this handle", function,
                            w->model);
    return MLOPS_OK;
}

int mlops_version_writer_write(mlops_version_writer *writer, const void *data, size_t len)
{
    const uint8_t *p = data;
    int rc;
    if (!writer)
        return mlops__error_null(MLOPS__REG, "mlops_version_writer_write", "writer");
    if (!data && len)
        return mlops__error_null(MLOPS__REG, "mlops_version_writer_write", "data");
    if ((rc = writer_usable(writer, "mlops_version_writer_write")))
        return rc;
    while (len > 0) {
        size_t take = MLOPS__CHUNK_BYTES - writer->chunk_len;
        if (take > len)
            take = len;
        memcpy(writer->chunk + writer->chunk_len, p, take);
        writer->chunk_len += take;
        p += take;
        len -= take;
        if (writer->chunk_len == MLOPS__CHUNK_BYTES && (rc = flush_chunk(writer))) {
            writer->status = rc;
            return rc;
        }
    }
    return MLOPS_OK;
}

int mlops_version_writer_commit(int64_t *version_out, mlops_version_writer *writer)
{
    uint8_t sha[MLOPS__SHA256_BYTES];
    char hex[2 * MLOPS__SHA256_BYTES + 1];
    char details[160];
    int64_t artifact_id = 0, number = 0, version_id = 0;
    mlops_version_writer *w = writer;
    int rc;

    if (!version_out)
        return mlops__error_null(MLOPS__REG, "mlops_version_writer_commit", "version_out");
    *version_out = 0;
    if (!w)
        return mlops__error_null(MLOPS__REG, "mlops_version_writer_commit", "writer");
    if ((rc = writer_usable(w, "mlops_version_writer_commit")))
        return rc;
    if ((rc = flush_chunk(w)) || (rc = mlops__chunk_sink_finish(&artifact_id, sha, &w->sink)))
        goto out_fail;
    /* Under the write lock taken at begin: no other process can take the same number. */
    if ((rc = mlops__reg_query_int(&number, w->db, "SELECT next_version FROM reg_model WHERE id = ?1", "i",
                                   w->model_id)) ||
        (rc = mlops__reg_exec(w->db, "UPDATE reg_model SET next_version = next_version + 1 WHERE id = ?1", "i",
                              w->model_id)))
        goto out_fail;
    rc = mlops__reg_exec(w->db,
                         "INSERT INTO reg_version(model_id, version, artifact_id, metadata, tags, signature,"
                         " created_us, creator, run_id, parent_version, as_of_us)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, nullif(?9, 0), nullif(?10, 0),"
                         " CASE WHEN ?11 THEN ?12 END)",
                         "iiitttitiiii", w->model_id, number, artifact_id, w->metadata, w->tags, w->signature,
                         mlops__now_us(), mlops__db_actor(w->db), w->run_id, w->parent_version,
                         (int64_t)w->has_as_of, w->as_of_us);
    version_id = mlops__db_last_insert_rowid(w->db);
    if (rc || (rc = mlops__reg_lineage_insert(w->db, version_id, w->views)))
        goto out_fail;
    mlops__hex(hex, sha, sizeof sha);
    snprintf(details, sizeof details, "{\"sha256\":\"%s\",\"size\":%lld}", hex, (long long)w->sink.size);
    if ((rc = mlops__reg_record(w->db, "version.create", w->model, number, NULL, details)))
        goto out_fail;
    w->in_tx = 0;
    if ((rc = mlops__tx_end(w->db, MLOPS_OK))) {
        w->status = rc;
        return rc;
    }
    w->committed = 1;
    *version_out = number;
    return MLOPS_OK;
out_fail:
    w->status = rc;
    w->in_tx = 0;
    return mlops__tx_end(w->db, rc);
}

int mlops_version_register(int64_t *version_out, mlops_db *db, const char *model, const void *data, size_t len,
                           const char *options_json)
{
    mlops_version_writer *writer = NULL;
    int rc;
    if (!version_out)
        return mlops__error_null(MLOPS__REG, "mlops_version_register", "version_out");
    *version_out = 0;
    if (!data && len)
        return mlops__error_null(MLOPS__REG, "mlops_version_register", "data");
    rc = mlops_version_writer_begin(&writer, db, model, options_json);
    if (rc == MLOPS_OK)
        rc = mlops_version_writer_write(writer, data, len);
    if (rc == MLOPS_OK)
        rc = mlops_version_writer_commit(version_out, writer);
    mlops_version_writer_free(writer);
    return rc;
}

/* ---- reading versions ---------------------------------------------------------------------------------- */

int mlops_version_show(char **json_out, mlops_db *db, const char *model, int64_t version)
{
    int64_t model_id = 0, version_id = 0;
    mlops__buf buf;
    int rc;
    if (!json_out)
        return mlops__error_null(MLOPS__REG, "mlops_version_show", "json_out");
    *json_out = NULL;
    if (!db)
        return mlops__error_null(MLOPS__REG, "mlops_version_show", "db");
    if (!model)
        return mlops__error_null(MLOPS__REG, "mlops_version_show", "model");
    mlops__buf_init(&buf);
    rc = mlops__reg_locate(&model_id, &version_id, db, model, version);
    if (rc == MLOPS_OK)
        rc = mlops__reg_version_json(&buf, db, version_id);
    return mlops__reg_json_detach(json_out, &buf, rc);
}

typedef struct metric_filter {
    char name[129];
    char op[3];
    double value;
} metric_filter;

static int parse_metric_filter(metric_filter *f, const char *text)
{
    const char *p = text, *start;
    char *end = NULL;
    size_t n;
    while (*p == ' ')
        p++;
    start = p;
    while (*p && *p != ' ' && *p != '<' && *p != '>' && *p != '=' && *p != '!')
        p++;
    n = (size_t)(p - start);
    if (n == 0 || n >= sizeof f->name)
        goto out_bad;
    memcpy(f->name, start, n);
    f->name[n] = '\0';
    while (*p == ' ')
        p++;
    if ((p[0] == '>' || p[0] == '<' || p[0] == '=' || p[0] == '!') && p[1] == '=') {
        f->op[0] = p[0];
        f->op[1] = '=';
        f->op[2] = '\0';
        p += 2;
    } else if (p[0] == '>' || p[0] == '<') {
        f->op[0] = p[0];
        f->op[1] = '\0';
        p += 1;
    } else {
        goto out_bad;
    }
    f->value = strtod(p, &end);
    if (end == p || !isfinite(f->value))
        goto out_bad;
    while (*end == ' ')
        end++;
    if (*end)
        goto out_bad;
    return MLOPS_OK;
out_bad:
    return mlops__error(MLOPS_EFORMAT, MLOPS__REG,
                        "version filter: $.metric: \"%s\" is not \"<name> <op> <number>\" with op one of >= > <= < == !=",
                        text);
}

static int metric_matches(const metric_filter *f, double v)
{
    if (strcmp(f->op, ">=") == 0)
        return v >= f->value;
    if (strcmp(f->op, ">") == 0)
        return v > f->value;
    if (strcmp(f->op, "<=") == 0)
        return v <= f->value;
    if (strcmp(f->op, "<") == 0)
        return v < f->value;
    if (strcmp(f->op, "==") == 0)
        return v == f->value;
    return v != f->value;
}

/* 1 when every tag of `want` (an object of strings) is in the stored tags with the same value. */
static int tags_match(int *match, const mlops__json *want, const char *stored)
{
    mlops__json *have = NULL;
    const mlops__json *member;
    int rc = mlops__json_parse(&have, stored, MLOPS__REG, "stored tags");
    if (rc)
        return rc;
    *match = 1;
    for (member = mlops__json_first(want); member && *match; member = mlops__json_next(member)) {
        const mlops__json *got = mlops__json_get(have, mlops__json_key(member));
        *match = got && mlops__json_is_string(got) &&
                 strcmp(mlops__json_string(got), mlops__json_string(member)) == 0;
    }
    mlops__json_free(have);
    return MLOPS_OK;
}

int mlops_version_list(char **json_out, mlops_db *db, const char *model, const char *filter_json)
{
    static const char *const keys[] = {"tags", "metric", "limit", NULL};
    mlops__json *filter = NULL;
    const mlops__json *want_tags = NULL, *member;
    const char *metric_text = NULL;
    metric_filter metric;
    int64_t model_id = 0, limit = INT64_MAX, listed = 0;
    mlops__stmt *stmt = NULL;
    mlops__buf buf;
    const char *sep = "";
    int rc;

    if (!json_out)
        return mlops__error_null(MLOPS__REG, "mlops_version_list", "json_out");
    *json_out = NULL;
    if (!db)
        return mlops__error_null(MLOPS__REG, "mlops_version_list", "db");
    if (!model)
        return mlops__error_null(MLOPS__REG, "mlops_version_list", "model");
    mlops__buf_init(&buf);
    rc = mlops__json_parse(&filter, filter_json && *filter_json ? filter_json : "{}", MLOPS__REG, "version filter");
    if (rc)
        goto out;
    if ((rc = mlops__json_check_keys(filter, "version filter: $", MLOPS__REG, keys)) ||
        (rc = mlops__json_opt_string(&metric_text, filter, "metric", "version filter: $", MLOPS__REG)) ||
        (rc = mlops__json_opt_int(&limit, filter, "limit", "version filter: $", MLOPS__REG, 1, INT64_MAX)))
        goto out;
    want_tags = mlops__json_get(filter, "tags");
    if (want_tags && !mlops__json_is_object(want_tags)) {
        rc = mlops__error(MLOPS_EFORMAT, MLOPS__REG, "version filter: $.tags: expected an object");
        goto out;
    }
    for (member = want_tags ? mlops__json_first(want_tags) : NULL; member; member = mlops__json_next(member)) {
        if (!mlops__json_is_string(member)) {
            rc = mlops__error(MLOPS_EFORMAT, MLOPS__REG, "version filter: $.tags.%s: expected a string",
                              mlops__json_key(member));
            goto out;
        }
    }
    if (metric_text && (rc = parse_metric_filter(&metric, metric_text)))
        goto out;
    if ((rc = mlops__reg_model_find(&model_id, db, model)))
        goto out;
    mlops__buf_putc(&buf, '[');
    rc = mlops__reg_prepare(&stmt, db, "SELECT id, tags FROM reg_version WHERE model_id = ?1 ORDER BY version DESC",
                            "i", model_id);
    while (rc == MLOPS_OK && listed < limit && (rc = mlops__stmt_step(stmt)) == MLOPS__ROW) {
        int64_t version_id = mlops__stmt_int64(stmt, 0);
        int match = 1;
        rc = MLOPS_OK;
        if (want_tags)
            rc = tags_match(&match, want_tags, mlops__stmt_text(stmt, 1));
        if (rc == MLOPS_OK && match && metric_text) {
            double value = 0, ci_low = 0;
            int has_ci = 0;
            rc = mlops__reg_metric_latest(&value, &ci_low, &has_ci, db, version_id, metric.name, NULL);
            match = rc == MLOPS_OK && metric_matches(&metric, value);
            if (rc == MLOPS_DONE)
                rc = MLOPS_OK;
        }
        if (rc == MLOPS_OK && match) {
            mlops__buf_puts(&buf, sep);
            rc = mlops__reg_version_json(&buf, db, version_id);
            sep = ",";
            listed++;
        }
    }
    mlops__stmt_release(stmt);
    if (rc == MLOPS_DONE || rc == MLOPS_OK) {
        mlops__buf_putc(&buf, ']');
        rc = MLOPS_OK;
    }
out:
    mlops__json_free(filter);
    return mlops__reg_json_detach(json_out, &buf, rc);
}

/* ---- changing versions --------------------------------------------------------------------------------- */

int mlops_version_delete(mlops_db *db, const char *model, int64_t version)
{
    int64_t model_id = 0, version_id = 0;
    mlops__stmt *stmt = NULL;
    int rc;
    if (!db)
        return mlops__error_null(MLOPS__REG, "mlops_version_delete", "db");
    if (!model)
        return mlops__error_null(MLOPS__REG, "mlops_version_delete", "model");
    if ((rc = mlops__tx_begin(db)))
        return rc;
    if ((rc = mlops__reg_locate(&model_id, &version_id, db, model, version)))
        goto out_end;
    if ((rc = mlops__reg_prepare(&stmt, db, "SELECT name FROM reg_alias WHERE version_id = ?1 ORDER BY name LIMIT 1",
                                 "i", version_id)))
        goto out_end;
    rc = mlops__stmt_step(stmt);
    if (rc == MLOPS__ROW)
        rc = mlops__error(MLOPS_ESTATE, MLOPS__REG,
                          "model \"%s\" version %lld cannot be deleted: alias \"%s\" points at it", model,
                          (long long)version, mlops__stmt_text(stmt, 0));
    else if (rc == MLOPS_DONE)
        rc = MLOPS_OK;
    mlops__stmt_release(stmt);
    if (rc == MLOPS_OK)
        rc = mlops__reg_exec(db, "DELETE FROM reg_version WHERE id = ?1", "i", version_id);
    if (rc == MLOPS_OK)
        rc = mlops__reg_record(db, "version.delete", model, version, NULL, "{}");
out_end:
    return mlops__tx_end(db, rc);
}

int mlops_version_signature_fill(mlops_db *db, const char *model, int64_t version, const char *signature_json)
{
    int64_t model_id = 0, version_id = 0;
    char *signature = NULL;
    int rc;
    if (!db)
        return mlops__error_null(MLOPS__REG, "mlops_version_signature_fill", "db");
    if (!model)
        return mlops__error_null(MLOPS__REG, "mlops_version_signature_fill", "model");
    if (!signature_json)
        return mlops__error_null(MLOPS__REG, "mlops_version_signature_fill", "signature_json");
    if ((rc = mlops__reg_json_object(&signature, signature_json, "version signature", 0)))
        return rc;
    if ((rc = mlops__tx_begin(db)))
        goto out_free;
    rc = mlops__reg_locate(&model_id, &version_id, db, model, version);
    if (rc == MLOPS_OK)
        rc = mlops__reg_exec(db, "UPDATE reg_version SET signature = ?1 WHERE id = ?2 AND signature IS NULL", "ti",
                             signature, version_id);
    if (rc == MLOPS_OK && mlops__db_changes(db) == 0)
        rc = mlops__error(MLOPS_ESTATE, MLOPS__REG, "model \"%s\" version %lld already has a signature", model,
                          (long long)version);
    if (rc == MLOPS_OK)
        rc = mlops__reg_record(db, "version.signature", model, version, NULL, signature);
    rc = mlops__tx_end(db, rc);
out_free:
    mlops__free(signature);
    return rc;
}

int mlops_version_profile_set(mlops_db *db, const char *model, int64_t version, const void *data, size_t len)
{
    int64_t model_id = 0, version_id = 0;
    char details[64];
    int rc;
    if (!db)
        return mlops__error_null(MLOPS__REG, "mlops_version_profile_set", "db");
    if (!model)
        return mlops__error_null(MLOPS__REG, "mlops_version_profile_set", "model");
    if (!data)
        return mlops__error_null(MLOPS__REG, "mlops_version_profile_set", "data");
    if ((rc = mlops__tx_begin(db)))
        return rc;
    rc = mlops__reg_locate(&model_id, &version_id, db, model, version);
    if (rc == MLOPS_OK)
        rc = mlops__reg_exec(db, "UPDATE reg_version SET profile = ?1 WHERE id = ?2", "bi", data, len, version_id);
    snprintf(details, sizeof details, "{\"bytes\":%zu}", len);
    if (rc == MLOPS_OK)
        rc = mlops__reg_record(db, "version.profile", model, version, NULL, details);
    return mlops__tx_end(db, rc);
}

int mlops_version_profile_get(void **data_out, size_t *len_out, mlops_db *db, const char *model, int64_t version)
{
    int64_t model_id = 0, version_id = 0;
    mlops__stmt *stmt = NULL;
    int rc;
    if (!data_out)
        return mlops__error_null(MLOPS__REG, "mlops_version_profile_get", "data_out");
    *data_out = NULL;
    if (!len_out)
        return mlops__error_null(MLOPS__REG, "mlops_version_profile_get", "len_out");
    *len_out = 0;
    if (!db)
        return mlops__error_null(MLOPS__REG, "mlops_version_profile_get", "db");
    if (!model)
        return mlops__error_null(MLOPS__REG, "mlops_version_profile_get", "model");
    if ((rc = mlops__reg_locate(&model_id, &version_id, db, model, version)) ||
        (rc = mlops__reg_prepare(&stmt, db, "SELECT profile FROM reg_version WHERE id = ?1", "i", version_id)))
        return rc;
    rc = mlops__stmt_step(stmt);
    if (rc == MLOPS__ROW && mlops__stmt_is_null(stmt, 0)) {
        rc = mlops__error(MLOPS_ENOTFOUND, MLOPS__REG, "model \"%s\" version %lld has no reference profile", model,
                          (long long)version);
    } else if (rc == MLOPS__ROW) {
        size_t len = mlops__stmt_bytes(stmt, 0);
        void *copy = mlops__malloc(len ? len : 1);
        if (!copy) {
            rc = mlops__error(MLOPS_ENOMEM, MLOPS__REG, "out of memory reading a profile of %zu bytes", len);
        } else {
            if (len)
                memcpy(copy, mlops__stmt_blob(stmt, 0), len);
            *data_out = copy;
            *len_out = len;
            rc = MLOPS_OK;
        }
    }
    mlops__stmt_release(stmt);
    return rc;
}

int mlops_version_metric_log(mlops_db *db, const char *model, int64_t version, const char *name, double value,
                             double ci_low, double ci_high, const char *dataset, int64_t time_us)
{
    int64_t model_id = 0, version_id = 0;
    int has_ci = !isnan(ci_low) || !isnan(ci_high);
    mlops__buf details;
    char number[40];
    int rc;
    if (!db)
        return mlops__error_null(MLOPS__REG, "mlops_version_metric_log", "db");
    if (!model)
        return mlops__error_null(MLOPS__REG, "mlops_version_metric_log", "model");
    if (!name)
        return mlops__error_null(MLOPS__REG, "mlops_version_metric_log", "name");
    if (!*name || strlen(name) > 128)
        return mlops__error(MLOPS_EINVAL, MLOPS__REG, "model \"%s\" version %lld: metric name must be 1 to 128 characters",
                            model, (long long)version);
    if (!isfinite(value))
        return mlops__error(MLOPS_EINVAL, MLOPS__REG, "model \"%s\" version %lld: metric \"%s\" value is not finite",
                            model, (long long)version, name);
    if (has_ci && !(isfinite(ci_low) && isfinite(ci_high) && ci_low <= ci_high))
        return mlops__error(MLOPS_EINVAL, MLOPS__REG,
                            "model \"%s\" version %lld: metric \"%s\": confidence interval [%g, %g] must be finite"
                            " with low <= high (or both NaN)", model, (long long)version, name, ci_low, ci_high);
    mlops__buf_init(&details);
    mlops__buf_puts(&details, "{\"name\":");
    mlops__buf_json_string(&details, name);
    mlops__format_double(number, sizeof number, value);
    mlops__buf_printf(&details, ",\"value\":%s,\"dataset\":", number);
    mlops__buf_json_string(&details, dataset ? dataset : "");
    mlops__buf_putc(&details, '}');
    if ((rc = mlops__buf_status(&details, MLOPS__REG)) || (rc = mlops__tx_begin(db)))
        goto out_free;
    rc = mlops__reg_locate(&model_id, &version_id, db, model, version);
    if (rc == MLOPS_OK && has_ci)
        rc = mlops__reg_exec(db, "INSERT INTO reg_metric(version_id, name, value, ci_low, ci_high, dataset, time_us)"
                                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", "itdddti", version_id, name, value, ci_low,
                             ci_high, dataset ? dataset : "", time_us ? time_us : mlops__now_us());
    else if (rc == MLOPS_OK)
        rc = mlops__reg_exec(db, "INSERT INTO reg_metric(version_id, name, value, dataset, time_us)"
                                 " VALUES (?1, ?2, ?3, ?4, ?5)", "itdti", version_id, name, value,
                             dataset ? dataset : "", time_us ? time_us : mlops__now_us());
    if (rc == MLOPS_OK)
        rc = mlops__reg_record(db, "version.metric", model, version, NULL, details.data);
    rc = mlops__tx_end(db, rc);
out_free:
    mlops__buf_free(&details);
    return rc;
}

int mlops_version_approve(mlops_db *db, const char *model, int64_t version, const char *note)
{
    int64_t model_id = 0, version_id = 0;
    mlops__buf details;
    int rc;
    if (!db)
        return mlops__error_null(MLOPS__REG, "mlops_version_approve", "db");
    if (!model)
        return mlops__error_null(MLOPS__REG, "mlops_version_approve", "model");
    mlops__buf_init(&details);
    mlops__buf_puts(&details, "{\"note\":");
    mlops__buf_json_string(&details, note ? note : "");
    mlops__buf_putc(&details, '}');
    if ((rc = mlops__buf_status(&details, MLOPS__REG)) || (rc = mlops__tx_begin(db)))
        goto out_free;
    rc = mlops__reg_locate(&model_id, &version_id, db, model, version);
    if (rc == MLOPS_OK)
        rc = mlops__reg_exec(db, "INSERT INTO reg_approval(version_id, actor, note, time_us) VALUES (?1, ?2, ?3, ?4)",
                             "itti", version_id, mlops__db_actor(db), note ? note : "", mlops__now_us());
    if (rc == MLOPS_EEXISTS)
        rc = mlops__error(MLOPS_EEXISTS, MLOPS__REG, "model \"%s\" version %lld is already approved by \"%s\"", model,
                          (long long)version, mlops__db_actor(db));
    if (rc == MLOPS_OK)
        rc = mlops__reg_record(db, "version.approve", model, version, NULL, details.data);
    rc = mlops__tx_end(db, rc);
out_free:
    mlops__buf_free(&details);
    return rc;
}
