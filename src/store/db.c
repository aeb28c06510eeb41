/*
 * Opening and closing the database: refusing files that are not ours or are
 * damaged before anything is written, then WAL mode, busy timeout, foreign
 * keys and the schema migrations.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sqlite_int.h"

#define MLOPS_APPLICATION_ID 0x4D4C4F50 /* "MLOP" */

typedef struct open_options {
    int64_t busy_timeout_ms;
    int create;
    int read_only;
    int synchronous_full;
    const char *actor;
} open_options;

static int parse_options(open_options *opts, mlops__json **doc_out, const char *options_json)
{
    static const char *const keys[] = {"busy_timeout_ms", "create", "read_only", "synchronous", "actor", NULL};
    const char *synchronous = NULL;
    mlops__json *doc = NULL;
    int rc;

    *doc_out = NULL;
    opts->busy_timeout_ms = 5000;
    opts->create = 1;
    opts->read_only = 0;
    opts->synchronous_full = 0;
    opts->actor = NULL;
    if (!options_json || !*options_json)
        return MLOPS_OK;
    rc = mlops__json_parse(&doc, options_json, "store", "database options");
    if (rc)
        return rc;
    if ((rc = mlops__json_check_keys(doc, "$", "store", keys)) ||
        (rc = mlops__json_opt_int(&opts->busy_timeout_ms, doc, "busy_timeout_ms", "$", "store", 0, 3600000)) ||
        (rc = mlops__json_opt_bool(&opts->create, doc, "create", "$", "store")) ||
        (rc = mlops__json_opt_bool(&opts->read_only, doc, "read_only", "$", "store")) ||
        (rc = mlops__json_opt_string(&synchronous, doc, "synchronous", "$", "store")) ||
        (rc = mlops__json_opt_string(&opts->actor, doc, "actor", "$", "store")))
        goto out_free_doc;
    if (synchronous) {
        if (strcmp(synchronous, "full") == 0) {
            opts->synchronous_full = 1;
        } else if (strcmp(synchronous, "normal") != 0) {
            rc = mlops__error(MLOPS_EFORMAT, "store", "$.synchronous: expected \"normal\" or \"full\", got \"%s\"",
                              synchronous);
            goto out_free_doc;
        }
    }
    if (opts->actor && (!*opts->actor || strlen(opts->actor) > 256)) {
        rc = mlops__error(MLOPS_EFORMAT, "store", "$.actor: must be 1 to 256 characters");
        goto out_free_doc;
    }
    *doc_out = doc;
    return MLOPS_OK;
out_free_doc:
    mlops__json_free(doc);
    return rc;
}

static uint32_t read_be32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/*
 * 1 when `path` has a non-empty WAL or rollback journal beside it. A process
 * that died (or hit an I/O error) while copying a WAL into the database file
 * leaves a main file shorter than its header says; the WAL still holds every
 * committed page and SQLite restores them when the file is opened.
 */
static int has_pending_log(const char *path)
{
    static const char *const suffixes[] = {"-wal", "-journal"};
    size_t len = strlen(path), i;
    char *name = mlops__malloc(len + 16);
    struct stat st;
    int found = 0;
    if (!name)
        return 1;  /* cannot tell: let SQLite and the integrity check judge the file */
    for (i = 0; i < sizeof suffixes / sizeof suffixes[0] && !found; i++) {
        memcpy(name, path, len);
        memcpy(name + len, suffixes[i], strlen(suffixes[i]) + 1);
        found = stat(name, &st) == 0 && st.st_size > 0;
    }
    mlops__free(name);
    return found;
}

/*
 * Look at the file's first bytes before SQLite does: an empty or absent file
 * is new; anything else must carry SQLite's header and, unless a WAL or
 * journal beside it holds pages yet to be copied in, be as long as the header
 * says.
 */
static int inspect_file(const char *path, int create)
{
    unsigned char header[100];
    struct stat st;
    FILE *file;
    size_t got;
    uint32_t page_size, pages;

    if (stat(path, &st) != 0) {
        if (errno == ENOENT) {
            if (!create)
                return mlops__error(MLOPS_ENOTFOUND, "store", "database \"%s\" does not exist", path);
            return MLOPS_OK;
        }
        return mlops__error_dep(MLOPS_EIO, "store", errno, "database \"%s\": %s", path, strerror(errno));
    }
    if (!S_ISREG(st.st_mode))
        return mlops__error(MLOPS_EIO, "store", "database \"%s\" is not a regular file", path);
    if (st.st_size == 0)
        return MLOPS_OK;
    file = fopen(path, "rb");
    if (!file)
        return mlops__error_dep(MLOPS_EIO, "store", errno, "database \"%s\": %s", path, strerror(errno));
    got = fread(header, 1, sizeof header, file);
    fclose(file);
    if (got < 16 || memcmp(header, "SQLite format 3", 16) != 0)
        return mlops__error(MLOPS_ESCHEMA, "store", "\"%s\" is not an mlops database (not an SQLite file)", path);
    if (got < sizeof header)
        return mlops__error(MLOPS_ECORRUPT, "store", "database \"%s\" is truncated: %zu bytes, header needs 100",
                            path, got);
    page_size = ((uint32_t)header[16] << 8) | header[17];
    if (page_size == 1)
        page_size = 65536;
    pages = read_be32(header + 28);
    if (read_be32(header + 24) == read_be32(header + 92) && pages > 0 &&
        (uint64_t)st.st_size < (uint64_t)pages * page_size && !has_pending_log(path))
        return mlops__error(MLOPS_ECORRUPT, "store",
                            "database \"%s\" is truncated: %lld bytes, its header says %llu", path,
                            (long long)st.st_size, (unsigned long long)pages * page_size);
    return MLOPS_OK;
}

static int query_int(int64_t *out, mlops_db *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db->sqlite, sql, -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(stmt, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_OK)
        return mlops__sqlite_error(db, rc, sql);
    return MLOPS_OK;
}

/* Refuse files that belong to another application or a newer library. */
static int check_identity(mlops_db *db)
{
    sqlite3_stmt *stmt = NULL;
    int64_t app_id = 0, version = 0, objects = 0;
    int rc;

    /* One statement reads all three from one snapshot, even while another process migrates. */
    rc = sqlite3_prepare_v2(db->sqlite,
                            "SELECT (SELECT application_id FROM pragma_application_id),"
                            " (SELECT user_version FROM pragma_user_version),"
                            " (SELECT count(*) FROM sqlite_schema)",
                            -1, &stmt, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        app_id = sqlite3_column_int64(stmt, 0);
        version = sqlite3_column_int64(stmt, 1);
        objects = sqlite3_column_int64(stmt, 2);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_OK) {
        rc = mlops__sqlite_error(db, rc, "reading the database header");
        mlops__error_prefix("database \"%s\" cannot be read", db->path);
        return rc;
    }
    if (app_id == 0 && version == 0 && objects == 0)
        return MLOPS_OK;
    if (app_id != MLOPS_APPLICATION_ID)
        return mlops__error(MLOPS_ESCHEMA, "store",
                            "\"%s\" is not an mlops database (application_id 0x%08llx, %lld schema objects)",
                            db->path, (unsigned long long)app_id, (long long)objects);
    if (version < 0)
        return mlops__error(MLOPS_ECORRUPT, "store", "database \"%s\" has an invalid schema version %lld",
                            db->path, (long long)version);
    if (version > mlops__schema_latest())
        return mlops__error(MLOPS_ESCHEMA, "store",
                            "database \"%s\" has schema version %lld, newer than this library supports (%d)",
                            db->path, (long long)version, mlops__schema_latest());
    if (db->read_only && version < mlops__schema_latest())
        return mlops__error(MLOPS_ESCHEMA, "store",
                            "database \"%s\" has schema version %lld and needs migrating to %d; open it read-write "
                            "once", db->path, (long long)version, mlops__schema_latest());
    return MLOPS_OK;
}

static int configure(mlops_db *db, const open_options *opts)
{
    char sql[64];
    int rc;

    sqlite3_busy_timeout(db->sqlite, (int)opts->busy_timeout_ms);
    if (!db->memory && !db->read_only) {
        sqlite3_stmt *stmt = NULL;
        const char *mode = "";
        rc = sqlite3_prepare_v2(db->sqlite, "PRAGMA journal_mode=WAL", -1, &stmt, NULL);
        if (rc == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
            mode = (const char *)sqlite3_column_text(stmt, 0);
        if (rc == SQLITE_OK && (!mode || strcmp(mode, "wal") != 0))
            rc = sqlite3_errcode(db->sqlite) != SQLITE_OK ? sqlite3_errcode(db->sqlite) : SQLITE_ERROR;
        sqlite3_finalize(stmt);
        if (rc != SQLITE_OK)
            return mlops__sqlite_error(db, rc, "switching to WAL mode");
    }
    snprintf(sql, sizeof sql, "PRAGMA foreign_keys=ON; PRAGMA synchronous=%s",
             opts->synchronous_full ? "FULL" : "NORMAL");
    rc = mlops__db_exec(db, sql);
    return rc;
}

/*
 * While another process creates the same file, switching journal modes and
 * reading its header can fail transiently (locked, or an I/O error on the
 * journal the other process just removed). Such failures are retried until
 * the busy timeout has passed.
 */
static int transient(int rc)
{
    int primary = mlops_error_last()->dependency_code & 0xff;
    return (rc == MLOPS_EBUSY || rc == MLOPS_EIO) && (primary == SQLITE_BUSY || primary == SQLITE_LOCKED ||
                                                       primary == SQLITE_IOERR);
}

static int prepare_connection(mlops_db *db, const open_options *opts)
{
    int64_t deadline = mlops__monotonic_ns() + opts->busy_timeout_ms * 1000000;
    int rc;
    for (;;) {
        rc = check_identity(db);
        if (rc == MLOPS_OK)
            rc = configure(db, opts);
        if (rc == MLOPS_OK && !db->read_only)
            rc = mlops__schema_migrate(db);
        if (rc == MLOPS_OK || !transient(rc) || mlops__monotonic_ns() >= deadline)
            return rc;
        sqlite3_sleep(2);
    }
}

static void db_destroy(mlops_db *db)
{
    if (!db)
        return;
    mlops__stmt_cache_clear(db);
    if (db->sqlite)
        sqlite3_close_v2(db->sqlite);
    mlops__free(db->path);
    mlops__free(db->actor);
    mlops__free(db);
}

int mlops_db_open(mlops_db **out, const char *path, const char *options_json)
{
    open_options opts;
    mlops__json *doc = NULL;
    mlops_db *db = NULL;
    const char *actor;
    int flags;
    int rc;

    if (!out)
        return mlops__error_null("store", "mlops_db_open", "out");
    *out = NULL;
    if (!path)
        return mlops__error_null("store", "mlops_db_open", "path");
    if (!*path)
        return mlops__error(MLOPS_EINVAL, "store", "mlops_db_open: path must not be empty");
    rc = parse_options(&opts, &doc, options_json);
    if (rc)
        return rc;
    db = mlops__calloc(1, sizeof *db);
    if (!db) {
        rc = mlops__error(MLOPS_ENOMEM, "store", "out of memory opening \"%s\"", path);
        goto out_free_doc;
    }
    db->memory = strcmp(path, ":memory:") == 0;
    db->read_only = opts.read_only && !db->memory;
    actor = opts.actor ? opts.actor : getenv("USER");
    db->path = mlops__strdup(path);
    db->actor = mlops__strdup(actor && *actor ? actor : "unknown");
    if (!db->path || !db->actor) {
        rc = mlops__error(MLOPS_ENOMEM, "store", "out of memory opening \"%s\"", path);
        goto out_destroy;
    }
    if (!db->memory && (rc = inspect_file(path, opts.create && !db->read_only)))
        goto out_destroy;
    flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE |
            (db->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | (opts.create ? SQLITE_OPEN_CREATE : 0));
    rc = sqlite3_open_v2(path, &db->sqlite, flags, NULL);
    if (rc != SQLITE_OK) {
        rc = mlops__sqlite_error(db, rc, "opening the database");
        mlops__error_prefix("\"%s\"", path);
        goto out_destroy;
    }
    sqlite3_extended_result_codes(db->sqlite, 1);
    sqlite3_busy_timeout(db->sqlite, (int)opts.busy_timeout_ms);
    if ((rc = prepare_connection(db, &opts)))
        goto out_destroy;
    mlops__json_free(doc);
    *out = db;
    return MLOPS_OK;
out_destroy:
    db_destroy(db);
out_free_doc:
    mlops__json_free(doc);
    return rc;
}

void mlops_db_close(mlops_db *db)
{
    db_destroy(db);
}

const char *mlops_db_path(const mlops_db *db)
{
    return db ? db->path : NULL;
}

int mlops_db_schema_version(int32_t *out, mlops_db *db)
{
    int64_t version = 0;
    int rc;
    if (!out)
        return mlops__error_null("store", "mlops_db_schema_version", "out");
    if (!db)
        return mlops__error_null("store", "mlops_db_schema_version", "db");
    rc = query_int(&version, db, "PRAGMA user_version");
    if (rc == MLOPS_OK)
        *out = (int32_t)version;
    return rc;
}

int32_t mlops_db_schema_version_supported(void)
{
    return mlops__schema_latest();
}

int mlops_db_check(mlops_db *db)
{
    sqlite3_stmt *stmt = NULL;
    const char *first;
    int rc;
    if (!db)
        return mlops__error_null("store", "mlops_db_check", "db");
    rc = sqlite3_prepare_v2(db->sqlite, "PRAGMA integrity_check(1)", -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(stmt);
        return mlops__sqlite_error(db, rc, "integrity check");
    }
    first = (const char *)sqlite3_column_text(stmt, 0);
    if (!first || strcmp(first, "ok") != 0) {
        rc = mlops__error(MLOPS_ECORRUPT, "store", "database \"%s\" failed its integrity check: %s", db->path,
                          first ? first : "(no answer)");
        sqlite3_finalize(stmt);
        return rc;
    }
    sqlite3_finalize(stmt);
    stmt = NULL;
    rc = sqlite3_prepare_v2(db->sqlite, "PRAGMA foreign_key_check", -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        rc = mlops__error(MLOPS_ECORRUPT, "store", "database \"%s\": foreign key violation in table %s, row %lld",
                          db->path, sqlite3_column_text(stmt, 0), (long long)sqlite3_column_int64(stmt, 1));
    else if (rc == SQLITE_DONE)
        rc = MLOPS_OK;
    else
        rc = mlops__sqlite_error(db, rc, "foreign key check");
    sqlite3_finalize(stmt);
    return rc;
}

const char *mlops__db_actor(const mlops_db *db)
{
    return db->actor;
}

int mlops__db_is_memory(const mlops_db *db)
{
    return db->memory;
}

int mlops__db_is_read_only(const mlops_db *db)
{
    return db->read_only;
}

int mlops__db_data_version(int64_t *out, mlops_db *db)
{
    return query_int(out, db, "PRAGMA data_version");
}
