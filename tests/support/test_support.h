/*
 * Shared helpers of the cmocka suites: a counting allocator routed through
 * the library's allocation hook that can fail the Nth allocation, scratch
 * directories, and assertions on the thread's error detail.
 */
#ifndef MLOPS_TEST_SUPPORT_H
#define MLOPS_TEST_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mlops.h"

/* Route the library's allocations through the counting allocator. */
void ts_alloc_install(void);
/* Fail the Nth allocation from now on (1 = the next one); 0 = never fail. */
void ts_alloc_fail_at(long n);
/* Allocations made by the library and not yet freed. */
long ts_alloc_live(void);
/* 1 when the armed failure was triggered since the last ts_alloc_fail_at(). */
int ts_alloc_failure_hit(void);

/*
 * Run `call` with the 1st, 2nd, ... allocation failing until it succeeds;
 * every failing run must return an error status and, after `cleanup`, leave
 * no allocation behind. Returns the number of failure points exercised.
 */
long ts_each_allocation_failure(int (*call)(void *ctx), void (*cleanup)(void *ctx), void *ctx);

/* A fresh scratch directory for this test program (removed at exit). */
const char *ts_tmpdir(void);
/* `name` inside the scratch directory, in a static rotating buffer. */
const char *ts_path(const char *name);
/* Absolute path of a fixture under tests/data. */
const char *ts_data(const char *name);
/* Write `len` bytes to `path`, replacing it. */
void ts_write_file(const char *path, const void *data, size_t len);
/* Read a whole file into a malloc'd buffer. */
char *ts_read_file(const char *path, size_t *len_out);

/* Assert the call failed with `code` and that the message contains `needle`. */
#define ts_assert_error(expr, code, needle) ts_assert_error_at((expr), (code), (needle), __FILE__, __LINE__)
void ts_assert_error_at(int status, int code, const char *needle, const char *file, int line);
/* Assert that opening `path` with `options` fails with `code` (message containing `needle`) and leaves its bytes as they were. */
void ts_assert_open_refused_untouched(const char *path, const char *options, int code, const char *needle);

#endif /* MLOPS_TEST_SUPPORT_H */
