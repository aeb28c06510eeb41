/*
 * The fault-injecting VFS and the atomicity runners declared in fault_vfs.h.
 */
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fault_vfs.h"
#include "test_support.h"

const char *const ts_fault_volatile_columns[] = {
    "time_us", "hash", "prev_hash",                    /* audit entries, registry changes, alias moves */
    "created_us", "added_us",                          /* registry and feature view rows */
    "system_time", "mlops_meta.value",                 /* ingest: the write's system time and its high-water mark */
    "updated_us",                                      /* drift windows */
    "latency_ns_sum", "latency",                       /* persisted serving metrics */
    "\"imported_us\"",                                 /* a JSON key: the import time in origins and audit details */
    NULL,
};

/* ---- the VFS --------------------------------------------------------------- */

typedef struct fault_file {
    sqlite3_file base;
    sqlite3_file *real;   /* the wrapped VFS's file, allocated right after this struct */
} fault_file;

static sqlite3_vfs fault_vfs;
static sqlite3_vfs *real_vfs;
static atomic_int armed_mode;
static atomic_long armed_at;
static atomic_long calls;
static atomic_int hit;

/*
 * Count one write-class call; return the mode to inject for it (TS_FAULT_OFF
 * to pass it through). TS_FAULT_FULL keeps failing after the Nth call.
 */
static int next_fault(void)
{
    long n = atomic_fetch_add(&calls, 1) + 1;
    int mode = atomic_load(&armed_mode);
    long at = atomic_load(&armed_at);
    if (mode == TS_FAULT_OFF || n < at || (n > at && mode != TS_FAULT_FULL))
        return TS_FAULT_OFF;
    atomic_store(&hit, 1);
    return mode;
}

static int fault_close(sqlite3_file *file)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods ? f->real->pMethods->xClose(f->real) : SQLITE_OK;
}

static int fault_read(sqlite3_file *file, void *buf, int amt, sqlite3_int64 offset)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xRead(f->real, buf, amt, offset);
}

static int fault_write(sqlite3_file *file, const void *buf, int amt, sqlite3_int64 offset)
{
    fault_file *f = (fault_file *)file;
    switch (next_fault()) {
    case TS_FAULT_IOERR:
        return SQLITE_IOERR_WRITE;
    case TS_FAULT_FULL:
        return SQLITE_FULL;
    case TS_FAULT_SHORT:
        f->real->pMethods->xWrite(f->real, buf, amt / 2, offset);
        return SQLITE_FULL;
    case TS_FAULT_KILL:
        f->real->pMethods->xWrite(f->real, buf, amt / 2, offset);
        raise(SIGKILL);
        return SQLITE_IOERR_WRITE;
    default:
        return f->real->pMethods->xWrite(f->real, buf, amt, offset);
    }
}

static int fault_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    fault_file *f = (fault_file *)file;
    switch (next_fault()) {
    case TS_FAULT_IOERR:
    case TS_FAULT_SHORT:
        return SQLITE_IOERR_TRUNCATE;
    case TS_FAULT_FULL:
        return SQLITE_FULL;
    case TS_FAULT_KILL:
        raise(SIGKILL);
        return SQLITE_IOERR_TRUNCATE;
    default:
        return f->real->pMethods->xTruncate(f->real, size);
    }
}

static int fault_sync(sqlite3_file *file, int flags)
{
    fault_file *f = (fault_file *)file;
    switch (next_fault()) {
    case TS_FAULT_IOERR:
    case TS_FAULT_SHORT:
        return SQLITE_IOERR_FSYNC;
    case TS_FAULT_FULL:
        return SQLITE_FULL;
    case TS_FAULT_KILL:
        raise(SIGKILL);
        return SQLITE_IOERR_FSYNC;
    default:
        return f->real->pMethods->xSync(f->real, flags);
    }
}

static int fault_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xFileSize(f->real, size);
}

static int fault_lock(sqlite3_file *file, int level)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xLock(f->real, level);
}

static int fault_unlock(sqlite3_file *file, int level)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xUnlock(f->real, level);
}

static int fault_check_reserved_lock(sqlite3_file *file, int *out)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int fault_file_control(sqlite3_file *file, int op, void *arg)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int fault_sector_size(sqlite3_file *file)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xSectorSize(f->real);
}

static int fault_device_characteristics(sqlite3_file *file)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int fault_shm_map(sqlite3_file *file, int page, int page_size, int extend, void volatile **out)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xShmMap(f->real, page, page_size, extend, out);
}

static int fault_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void fault_shm_barrier(sqlite3_file *file)
{
    fault_file *f = (fault_file *)file;
    f->real->pMethods->xShmBarrier(f->real);
}

static int fault_shm_unmap(sqlite3_file *file, int delete_flag)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xShmUnmap(f->real, delete_flag);
}

static int fault_fetch(sqlite3_file *file, sqlite3_int64 offset, int amt, void **out)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xFetch(f->real, offset, amt, out);
}

static int fault_unfetch(sqlite3_file *file, sqlite3_int64 offset, void *page)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xUnfetch(f->real, offset, page);
}

/* Methods of version 1 (no shared memory), 2 (WAL) and 3 (memory-mapped reads), as the real file has. */
static sqlite3_io_methods fault_methods[3];

static void init_methods(void)
{
    int v;
    for (v = 0; v < 3; v++) {
        sqlite3_io_methods *m = &fault_methods[v];
        m->iVersion = v + 1;
        m->xClose = fault_close;
        m->xRead = fault_read;
        m->xWrite = fault_write;
        m->xTruncate = fault_truncate;
        m->xSync = fault_sync;
        m->xFileSize = fault_file_size;
        m->xLock = fault_lock;
        m->xUnlock = fault_unlock;
        m->xCheckReservedLock = fault_check_reserved_lock;
        m->xFileControl = fault_file_control;
        m->xSectorSize = fault_sector_size;
        m->xDeviceCharacteristics = fault_device_characteristics;
        if (v >= 1) {
            m->xShmMap = fault_shm_map;
            m->xShmLock = fault_shm_lock;
            m->xShmBarrier = fault_shm_barrier;
            m->xShmUnmap = fault_shm_unmap;
        }
        if (v >= 2) {
            m->xFetch = fault_fetch;
            m->xUnfetch = fault_unfetch;
        }
    }
}

static int fault_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out_flags)
{
    fault_file *f = (fault_file *)file;
    int rc, version;
    (void)vfs;
    f->real = (sqlite3_file *)(f + 1);
    f->base.pMethods = NULL;
    rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
    if (f->real->pMethods) {
        version = f->real->pMethods->iVersion;
        f->base.pMethods = &fault_methods[(version < 1 ? 1 : version > 3 ? 3 : version) - 1];
    }
    return rc;
}

static int fault_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    return real_vfs->xDelete(real_vfs, name, sync_dir);
}

static int fault_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs;
    return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int fault_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    (void)vfs;
    return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static void *fault_dl_open(sqlite3_vfs *vfs, const char *name)
{
    (void)vfs;
    return real_vfs->xDlOpen(real_vfs, name);
}

static void fault_dl_error(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    real_vfs->xDlError(real_vfs, n, out);
}

static void (*fault_dl_sym(sqlite3_vfs *vfs, void *handle, const char *symbol))(void)
{
    (void)vfs;
    return real_vfs->xDlSym(real_vfs, handle, symbol);
}

static void fault_dl_close(sqlite3_vfs *vfs, void *handle)
{
    (void)vfs;
    real_vfs->xDlClose(real_vfs, handle);
}

static int fault_randomness(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return real_vfs->xRandomness(real_vfs, n, out);
}

static int fault_sleep(sqlite3_vfs *vfs, int us)
{
    (void)vfs;
    return real_vfs->xSleep(real_vfs, us);
}

static int fault_current_time(sqlite3_vfs *vfs, double *out)
{
    (void)vfs;
    return real_vfs->xCurrentTime(real_vfs, out);
}

static int fault_get_last_error(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return real_vfs->xGetLastError ? real_vfs->xGetLastError(real_vfs, n, out) : 0;
}

static int fault_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    (void)vfs;
    return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

void ts_fault_vfs_install(void)
{
    if (real_vfs)
        return;
    assert_int_equal(sqlite3_initialize(), SQLITE_OK);
    real_vfs = sqlite3_vfs_find(NULL);
    assert_non_null(real_vfs);
    assert_true(real_vfs->iVersion >= 2);
    init_methods();
    fault_vfs.iVersion = 2;
    fault_vfs.szOsFile = (int)sizeof(fault_file) + real_vfs->szOsFile;
    fault_vfs.mxPathname = real_vfs->mxPathname;
    fault_vfs.zName = "mlops-test-fault";
    fault_vfs.xOpen = fault_open;
    fault_vfs.xDelete = fault_delete;
    fault_vfs.xAccess = fault_access;
    fault_vfs.xFullPathname = fault_full_pathname;
    fault_vfs.xDlOpen = fault_dl_open;
    fault_vfs.xDlError = fault_dl_error;
    fault_vfs.xDlSym = fault_dl_sym;
    fault_vfs.xDlClose = fault_dl_close;
    fault_vfs.xRandomness = fault_randomness;
    fault_vfs.xSleep = fault_sleep;
    fault_vfs.xCurrentTime = fault_current_time;
    fault_vfs.xGetLastError = fault_get_last_error;
    fault_vfs.xCurrentTimeInt64 = fault_current_time_int64;
    assert_int_equal(sqlite3_vfs_register(&fault_vfs, 1), SQLITE_OK);
}

void ts_fault_arm(int mode, long n)
{
    atomic_store(&armed_mode, TS_FAULT_OFF);
    atomic_store(&calls, 0);
    atomic_store(&hit, 0);
    atomic_store(&armed_at, n);
    atomic_store(&armed_mode, mode);
}

long ts_fault_calls(void)
{
    return atomic_load(&calls);
}

int ts_fault_hit(void)
{
    return atomic_load(&hit);
}

/* ---- canonical dump --------------------------------------------------------- */

static void dump_append(char **text, size_t *len, size_t *cap, const char *piece)
{
    size_t n = strlen(piece);
    if (*len + n + 1 > *cap) {
        *cap = (*len + n + 1) * 2;
        *text = realloc(*text, *cap);
        assert_non_null(*text);
    }
    memcpy(*text + *len, piece, n + 1);
    *len += n;
}

/* A column named in ts_fault_volatile_columns alone, or as "table.column". */
static int is_volatile(const char *table, const char *column)
{
    size_t i, n = strlen(table);
    for (i = 0; ts_fault_volatile_columns[i]; i++) {
        const char *name = ts_fault_volatile_columns[i];
        if (strcmp(name, column) == 0 || (strncmp(name, table, n) == 0 && name[n] == '.' &&
                                          strcmp(name + n + 1, column) == 0))
            return 1;
    }
    return 0;
}

/* Append `value` with the number after each volatile JSON key in it (a quoted name in the list) read as "?". */
static void dump_masked_value(char **text, size_t *len, size_t *cap, const char *value)
{
    size_t i, size = strlen(value) + 1;
    char *copy = malloc(size);
    assert_non_null(copy);
    memcpy(copy, value, size);
    for (i = 0; ts_fault_volatile_columns[i]; i++) {
        const char *key = ts_fault_volatile_columns[i];
        char *at = copy;
        while (key[0] == '"' && (at = strstr(at, key)) != NULL) {
            char *number = at + strlen(key) + strspn(at + strlen(key), ": ");
            size_t digits = strspn(number, "-0123456789");
            at = number;
            if (digits) {
                *number = '?';
                memmove(number + 1, number + digits, strlen(number + digits) + 1);
            }
        }
    }
    dump_append(text, len, cap, copy);
    free(copy);
}

/* Append the rows of `sql`; with `table`, its volatile columns and JSON keys read as "?". */
static void dump_query(sqlite3 *raw, const char *sql, const char *table, char **text, size_t *len, size_t *cap)
{
    sqlite3_stmt *stmt = NULL;
    int rc, i, n;
    if (sqlite3_prepare_v2(raw, sql, -1, &stmt, NULL) != SQLITE_OK)
        fail_msg("dump: %s: %s", sql, sqlite3_errmsg(raw));
    n = sqlite3_column_count(stmt);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        for (i = 0; i < n; i++) {
            const char *name = sqlite3_column_name(stmt, i);
            const unsigned char *value = sqlite3_column_text(stmt, i);
            dump_append(text, len, cap, i ? "|" : "  ");
            if (table && is_volatile(table, name))
                dump_append(text, len, cap, "?");
            else if (table && value)
                dump_masked_value(text, len, cap, (const char *)value);
            else
                dump_append(text, len, cap, value ? (const char *)value : "NULL");
        }
        dump_append(text, len, cap, "\n");
    }
    if (rc != SQLITE_DONE)
        fail_msg("dump: %s: %s", sql, sqlite3_errmsg(raw));
    sqlite3_finalize(stmt);
}

char *ts_db_dump(const char *path, int mask)
{
    sqlite3 *raw = NULL;
    sqlite3_stmt *tables = NULL;
    char *text = NULL;
    size_t len = 0, cap = 0;
    FILE *file = fopen(path, "rb");
    long size = 0;

    if (file) {
        fseek(file, 0, SEEK_END);
        size = ftell(file);
        fclose(file);
    }
    dump_append(&text, &len, &cap, "");
    if (size <= 0)
        return text;
    if (sqlite3_open_v2(path, &raw, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        fail_msg("dump: cannot open %s: %s", path, sqlite3_errmsg(raw));
    dump_query(raw, "SELECT 'application_id', application_id FROM pragma_application_id", NULL, &text, &len, &cap);
    dump_query(raw, "SELECT 'user_version', user_version FROM pragma_user_version", NULL, &text, &len, &cap);
    dump_query(raw, "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name", NULL, &text, &len, &cap);
    assert_int_equal(sqlite3_prepare_v2(raw, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name", -1,
                                        &tables, NULL), SQLITE_OK);
    while (sqlite3_step(tables) == SQLITE_ROW) {
        const char *table = (const char *)sqlite3_column_text(tables, 0);
        sqlite3_stmt *info = NULL;
        char sql[8192], order[4096];
        size_t used, order_used = 0;
        /* Every column quoted (so blobs compare exactly), rows ordered by all columns. */
        snprintf(sql, sizeof sql, "SELECT name FROM pragma_table_info('%s') ORDER BY cid", table);
        assert_int_equal(sqlite3_prepare_v2(raw, sql, -1, &info, NULL), SQLITE_OK);
        used = (size_t)snprintf(sql, sizeof sql, "SELECT ");
        order[0] = '\0';
        while (sqlite3_step(info) == SQLITE_ROW) {
            const char *column = (const char *)sqlite3_column_text(info, 0);
            used += (size_t)snprintf(sql + used, sizeof sql - used, "%squote(\"%s\") AS \"%s\"",
                                     order_used ? ", " : "", column, column);
            order_used += (size_t)snprintf(order + order_used, sizeof order - order_used, "%s\"%s\"",
                                           order_used ? ", " : "", column);
            assert_true(used < sizeof sql && order_used < sizeof order);
        }
        sqlite3_finalize(info);
        snprintf(sql + used, sizeof sql - used, " FROM \"%s\" ORDER BY %s", table, order);
        dump_append(&text, &len, &cap, "table ");
        dump_append(&text, &len, &cap, table);
        dump_append(&text, &len, &cap, "\n");
        dump_query(raw, sql, mask ? table : NULL, &text, &len, &cap);
    }
    sqlite3_finalize(tables);
    sqlite3_close(raw);
    return text;
}

/* ---- runners ------------------------------------------------------------------ */

/* The files of one database state: the main file (absent = no database) and its WAL if any. */
typedef struct db_snapshot {
    char *main;
    size_t main_len;
    int has_main;
    char *wal;
    size_t wal_len;
    int has_wal;
} db_snapshot;

static int read_if_present(char **out, size_t *len, const char *path)
{
    if (access(path, F_OK) != 0)
        return 0;
    *out = ts_read_file(path, len);
    return 1;
}

static void snapshot_take(db_snapshot *snap, const char *path)
{
    char wal[8192];
    snprintf(wal, sizeof wal, "%s-wal", path);
    memset(snap, 0, sizeof *snap);
    snap->has_main = read_if_present(&snap->main, &snap->main_len, path);
    snap->has_wal = read_if_present(&snap->wal, &snap->wal_len, wal);
}

static void snapshot_restore(const db_snapshot *snap, const char *path)
{
    static const char *const suffixes[] = {"-wal", "-shm", "-journal"};
    char name[8192];
    size_t i;
    for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(name, sizeof name, "%s%s", path, suffixes[i]);
        unlink(name);
    }
    unlink(path);
    if (snap->has_main)
        ts_write_file(path, snap->main, snap->main_len);
    if (snap->has_wal) {
        snprintf(name, sizeof name, "%s-wal", path);
        ts_write_file(name, snap->wal, snap->wal_len);
    }
}

static void snapshot_free(db_snapshot *snap)
{
    free(snap->main);
    free(snap->wal);
}

/*
 * The state as the library sees it: open (recovering whatever a failure or a
 * kill left behind), pass the integrity check, close, and dump.
 */
static char *settled_dump(const char *name, const char *path, int mask, const char *when)
{
    mlops_db *db = NULL;
    int rc;
    ts_fault_arm(TS_FAULT_OFF, 0);
    rc = mlops_db_open(&db, path, NULL);
    if (rc != MLOPS_OK)
        fail_msg("%s: the database does not open %s: %s", name, when, mlops_error_last()->message);
    rc = mlops_db_check(db);
    if (rc != MLOPS_OK)
        fail_msg("%s: integrity check fails %s: %s", name, when, mlops_error_last()->message);
    mlops_db_close(db);
    return ts_db_dump(path, mask);
}

/* The states before and after a clean run of `op`, and the write-class calls it makes. */
typedef struct op_states {
    db_snapshot start;
    char *before;          /* exact */
    char *before_masked;
    char *after_masked;
    long points;
    double seconds;
} op_states;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void states_take(op_states *st, const char *name, const char *path, ts_write_op op, void *ctx)
{
    double start;
    int rc;
    ts_fault_vfs_install();
    ts_fault_arm(TS_FAULT_OFF, 0);
    snapshot_take(&st->start, path);
    /* "Before" is what a reader finds after the library opened the start state once. */
    st->before = settled_dump(name, path, 0, "before the call");
    st->before_masked = ts_db_dump(path, 1);
    snapshot_restore(&st->start, path);
    ts_fault_arm(TS_FAULT_OFF, 0);
    start = now_seconds();
    rc = op(path, ctx);
    st->seconds = now_seconds() - start;
    st->points = ts_fault_calls();
    if (rc != MLOPS_OK)
        fail_msg("%s: the clean run fails: %s", name, mlops_error_last()->message);
    st->after_masked = settled_dump(name, path, 1, "after a clean run");
    /* Creating a database is the one call whose effect settles into the same state as its absence. */
    if (st->start.has_main && strcmp(st->before_masked, st->after_masked) == 0)
        fail_msg("%s: a clean run changes nothing, so nothing would be tested", name);
    assert_true(st->points > 0);
}

static void states_free(op_states *st)
{
    snapshot_free(&st->start);
    free(st->before);
    free(st->before_masked);
    free(st->after_masked);
}

static const char *mode_name(int mode)
{
    return mode == TS_FAULT_IOERR ? "I/O error" : mode == TS_FAULT_FULL ? "disk full" : "short write";
}

static void assert_io_failure(const char *name, int rc, int mode, long n)
{
    const mlops_error *err = mlops_error_last();
    int primary = err->dependency_code & 0xff;
    if (rc != MLOPS_EIO || err->code != MLOPS_EIO || !err->message[0] ||
        (primary != SQLITE_IOERR && primary != SQLITE_FULL))
        fail_msg("%s: %s at write-class call %ld: expected MLOPS_EIO from SQLite's I/O error, got %s "
                 "(dependency code %d): %s", name, mode_name(mode), n, mlops_strerror(rc),
                 (int)err->dependency_code, err->message);
}

/* Length of the line starting at `text`. */
static int line_length(const char *text)
{
    return (int)strcspn(text, "\n");
}

/*
 * Fail unless `state` equals `expected`: both dumps go whole to stdout, the
 * first line that differs into the failure message.
 */
static void expect_state(const char *name, const char *what, const char *state, const char *expected)
{
    size_t i, line = 0;
    if (strcmp(state, expected) == 0)
        return;
    for (i = 0; state[i] == expected[i]; i++) {
        if (state[i] == '\n')
            line = i + 1;
    }
    printf("%s: %s\nfound:\n%s\nexpected:\n%s\n", name, what, state, expected);
    fail_msg("%s: %s; first difference: found \"%.*s\", expected \"%.*s\"", name, what, line_length(state + line),
             state + line, line_length(expected + line), expected + line);
}

/* ts_fault_each_write(); with `after_commit`, a failure whose message holds it must have left the state after. */
static ts_fault_report fault_each_write(const char *name, const char *path, ts_write_op op, void *ctx,
                                        const char *after_commit)
{
    static const int modes[] = {TS_FAULT_IOERR, TS_FAULT_FULL, TS_FAULT_SHORT};
    ts_fault_report report = {0};
    op_states st;
    size_t m;

    states_take(&st, name, path, op, ctx);
    report.points = st.points;
    for (m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        long n;
        for (n = 1;; n++) {
            char when[96], what[192], *state;
            int rc, injected;
            if (n > 100 * st.points + 1000)
                fail_msg("%s: %s: the call never completes without a fault", name, mode_name(modes[m]));
            snapshot_restore(&st.start, path);
            ts_fault_arm(modes[m], n);
            rc = op(path, ctx);
            injected = ts_fault_hit();
            ts_fault_arm(TS_FAULT_OFF, 0);
            if (!injected) {
                if (rc != MLOPS_OK)
                    fail_msg("%s: fails without a fault: %s", name, mlops_error_last()->message);
                break;
            }
            snprintf(when, sizeof when, "after %s at write-class call %ld", mode_name(modes[m]), n);
            if (rc == MLOPS_OK) {
                snprintf(what, sizeof what, "succeeded %s but left a state other than a clean run's", when);
                state = settled_dump(name, path, 1, when);
                expect_state(name, what, state, st.after_masked);
                report.absorbed++;
            } else if (after_commit && strstr(mlops_error_last()->message, after_commit)) {
                assert_io_failure(name, rc, modes[m], n);
                snprintf(what, sizeof what, "failed %s after its commit but left a state other than a clean run's",
                         when);
                state = settled_dump(name, path, 1, when);
                expect_state(name, what, state, st.after_masked);
                report.committed++;
            } else {
                assert_io_failure(name, rc, modes[m], n);
                snprintf(what, sizeof what, "failed %s but changed the database", when);
                state = settled_dump(name, path, 0, when);
                expect_state(name, what, state, st.before);
                report.failures++;
            }
            free(state);
        }
    }
    printf("fault injection: %s: %ld write-class calls per clean run; %ld injected failures left the database "
           "unchanged, %ld were absorbed, %ld failed after the commit (I/O error, disk full, short write at each "
           "call)\n", name, report.points, report.failures, report.absorbed, report.committed);
    snapshot_restore(&st.start, path);
    states_free(&st);
    return report;
}

ts_fault_report ts_fault_each_write(const char *name, const char *path, ts_write_op op, void *ctx)
{
    return fault_each_write(name, path, op, ctx, NULL);
}

/* Run `op` in a child; arm it to die at the Nth write-class call (n > 0) or kill it after `delay` seconds. */
static int run_child(const char *path, ts_write_op op, void *ctx, long n, double delay)
{
    int status = 0;
    pid_t pid;
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int rc;
        if (n > 0)
            ts_fault_arm(TS_FAULT_KILL, n);
        rc = op(path, ctx);
        _exit(rc == MLOPS_OK ? 0 : 3);
    }
    if (n <= 0) {
        struct timespec ts;
        ts.tv_sec = (time_t)delay;
        ts.tv_nsec = (long)((delay - (double)ts.tv_sec) * 1e9);
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        return 1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("the child running the call failed without being killed (status 0x%x)", status);
    return 0;
}

/* After a kill: the database opens, passes its check, and holds the state before or after. */
static void classify_after_kill(ts_fault_report *report, const char *name, const char *path, const op_states *st,
                                const char *when)
{
    char *state = settled_dump(name, path, 1, when);
    if (strcmp(state, st->before_masked) == 0)
        report->before++;
    else if (strcmp(state, st->after_masked) == 0)
        report->after++;
    else {
        char what[192];
        snprintf(what, sizeof what, "%s the database holds neither the state before nor after the call (compared "
                 "with after)", when);
        expect_state(name, what, state, st->after_masked);
    }
    free(state);
}

ts_fault_report ts_kill_each_write(const char *name, const char *path, ts_write_op op, void *ctx)
{
    ts_fault_report report = {0};
    op_states st;
    long n;

    states_take(&st, name, path, op, ctx);
    report.points = st.points;
    for (n = 1;; n++) {
        char when[96];
        snapshot_restore(&st.start, path);
        if (!run_child(path, op, ctx, n, 0)) {
            classify_after_kill(&report, name, path, &st, "after the call completed");
            break;
        }
        snprintf(when, sizeof when, "after a kill at write-class call %ld", n);
        classify_after_kill(&report, name, path, &st, when);
    }
    printf("kill at each write: %s: %ld write-class calls; %ld kills left the state before, %ld after\n", name,
           report.points, report.before, report.after);
    snapshot_restore(&st.start, path);
    states_free(&st);
    return report;
}

ts_fault_report ts_kill_randomly(const char *name, const char *path, ts_write_op op, void *ctx, int iterations)
{
    ts_fault_report report = {0};
    unsigned first_seed = (unsigned)time(NULL) ^ (unsigned)getpid(), seed = first_seed;
    op_states st;
    int i;

    states_take(&st, name, path, op, ctx);
    report.points = st.points;
    for (i = 0; i < iterations; i++) {
        /* A moment within the duration of a clean run, stretched a little for the child's start-up. */
        double delay = st.seconds * 1.5 * (double)(rand_r(&seed) % 1000) / 1000.0;
        char when[96];
        snapshot_restore(&st.start, path);
        run_child(path, op, ctx, 0, delay);
        snprintf(when, sizeof when, "after kill %d, %.0f us into the call (seed %u)", i + 1, delay * 1e6,
                 first_seed);
        classify_after_kill(&report, name, path, &st, when);
    }
    printf("random kills: %s: %d kills over a %.1f ms call; %ld left the state before, %ld after\n", name,
           iterations, st.seconds * 1e3, report.before, report.after);
    snapshot_restore(&st.start, path);
    states_free(&st);
    return report;
}

ts_fault_report ts_fault_check_path(const char *name, const char *path, ts_write_op op, void *ctx,
                                    const char *after_commit)
{
    const char *text = getenv("MLOPS_TEST_KILL_ITERATIONS");
    int iterations = text && *text ? atoi(text) : TS_FAULT_RANDOM_KILLS;
    ts_fault_report total, r;

    total = fault_each_write(name, path, op, ctx, after_commit);
    if (total.failures == 0)
        fail_msg("%s: no injected fault made the call fail, so nothing was tested", name);
    r = ts_kill_each_write(name, path, op, ctx);
    if (r.before == 0 || r.after == 0)
        fail_msg("%s: kills at each write left the state before %ld times and after %ld times; expected both",
                 name, r.before, r.after);
    total.before = r.before;
    total.after = r.after;
    r = ts_kill_randomly(name, path, op, ctx, iterations);
    total.before += r.before;
    total.after += r.after;
    printf("write path: %s: %ld injection points, each failed in 3 modes and killed; %d random kills\n", name,
           total.points, iterations);
    return total;
}
