/*
 * Fault injection beneath SQLite, for tests: a VFS wrapping the default one
 * that fails, truncates or kills the process at the Nth write-class call
 * (xWrite, xSync, xTruncate on any file: database, WAL, journal), and the
 * runners that check a write path's atomicity with it.
 *
 * A write path plugs in as one callback, `ts_write_op`: open the database at
 * `path`, make the change through the public or private API, close, and
 * return the status. The runners call it again and again on a fresh copy of
 * the state found at `path` when they start:
 *
 *  - ts_fault_each_write() fails the 1st, 2nd, ... write-class call in turn
 *    (as an I/O error, a full disk, and a torn short write) until the call
 *    succeeds untouched. After each injected failure the call must have
 *    returned MLOPS_EIO with a message naming SQLite's I/O error, the
 *    database must open and pass mlops_db_check(), and its canonical dump
 *    must equal the state before the call; a call that absorbed the failure
 *    and succeeded must have left exactly the state of a clean run.
 *  - ts_kill_each_write() and ts_kill_randomly() run the call in a child
 *    process that dies by SIGKILL at each write-class call in turn (after
 *    writing half of it) or at a random moment; afterwards the database must
 *    open, pass its check, and hold either the state before or after.
 *
 * Test code may register the VFS process-wide (ts_fault_vfs_install); the
 * library never changes SQLite's process-wide settings itself.
 */
#ifndef MLOPS_FAULT_VFS_H
#define MLOPS_FAULT_VFS_H

#include <stddef.h>

#define TS_FAULT_OFF 0    /* pass everything through */
#define TS_FAULT_IOERR 1  /* the Nth call fails with SQLITE_IOERR_WRITE / _FSYNC / _TRUNCATE, once */
#define TS_FAULT_FULL 2   /* the Nth and every later call fail with SQLITE_FULL (a full disk) */
#define TS_FAULT_SHORT 3  /* the Nth write stores only its first half and fails with SQLITE_FULL, once */
#define TS_FAULT_KILL 4   /* the Nth write stores its first half, then the process dies by SIGKILL */

/* Register the fault VFS as SQLite's default (idempotent). */
void ts_fault_vfs_install(void);
/* Arm `mode` at the Nth write-class call from now (1 = the next); resets the counters. */
void ts_fault_arm(int mode, long n);
/* Write-class calls seen since the last ts_fault_arm(). */
long ts_fault_calls(void);
/* 1 when the armed fault has been injected since the last ts_fault_arm(). */
int ts_fault_hit(void);

/* A write path under test: open `path`, change it, close; return the status. */
typedef int (*ts_write_op)(const char *path, void *ctx);

/* What a runner covered, to print and to assert on. */
typedef struct ts_fault_report {
    long points;     /* write-class calls of a clean run (injection points per mode) */
    long failures;   /* injected faults after which the call failed and the state was unchanged */
    long absorbed;   /* injected faults the call survived, leaving the state of a clean run */
    long committed;  /* injected faults after the commit: the call failed, saying so, in the state after */
    long before;     /* kills that left the state before the call */
    long after;      /* kills that left the state after the call */
} ts_fault_report;

/* Fail every write-class call of `op` in turn, in every fault mode; prints a summary line. */
ts_fault_report ts_fault_each_write(const char *name, const char *path, ts_write_op op, void *ctx);
/* Kill a child running `op` at each write-class call in turn; prints a summary line. */
ts_fault_report ts_kill_each_write(const char *name, const char *path, ts_write_op op, void *ctx);
/* Kill a child running `op` at `iterations` random moments; prints a summary line. */
ts_fault_report ts_kill_randomly(const char *name, const char *path, ts_write_op op, void *ctx, int iterations);

/*
 * Random kills of ts_fault_check_path() unless MLOPS_TEST_KILL_ITERATIONS
 * says otherwise; fewer under AddressSanitizer, where a killed child checks
 * nothing the normal build does not and each costs several times as much.
 */
#if defined(__SANITIZE_ADDRESS__)
#define TS_FAULT_RANDOM_KILLS 10
#else
#define TS_FAULT_RANDOM_KILLS 30
#endif
/*
 * All three runners on one write path, checking that faults made the call
 * fail and that kills left both states; prints a line with the injection
 * points covered. Returns the faults' report with the kills' counts added.
 * A call with work after its commit (forget truncating the log) names the
 * text of its error message for a failure there in `after_commit`: such a
 * failure must leave the state after the call; NULL for every other call.
 */
ts_fault_report ts_fault_check_path(const char *name, const char *path, ts_write_op op, void *ctx,
                                    const char *after_commit);

/*
 * Canonical text of the database at `path`, read with SQLite directly (not
 * through the library): application id, schema version, every schema object,
 * then every row of every table in the order of all its columns, values
 * quoted. With `mask`, columns named in ts_fault_volatile_columns (clock
 * readings and the hashes that cover them; "column" in every table or
 * "table.column"), and the number after each JSON key listed there with its
 * quotes ("\"imported_us\"") in any text value, read as "?" so that two
 * clean runs of the same call compare equal. An absent or empty file dumps
 * as "". malloc'd.
 */
char *ts_db_dump(const char *path, int mask);
/* NULL-terminated names of the columns whose values differ between two clean runs. */
extern const char *const ts_fault_volatile_columns[];

#endif /* MLOPS_FAULT_VFS_H */
