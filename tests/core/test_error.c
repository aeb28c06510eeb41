/*
 * Status codes, thread-local error detail, version, allocator hook.
 */
#include <pthread.h>
#include <string.h>

#include "test_support.h"
#include "core/core_int.h"

static void test_strerror_names_every_code(void **state)
{
    int code;
    (void)state;
    for (code = MLOPS_EINTERNAL; code <= MLOPS_NULL; code++) {
        const char *text = mlops_strerror(code);
        assert_non_null(text);
        assert_true(strncmp(text, "MLOPS_", 6) == 0);
    }
    assert_string_equal(mlops_strerror(MLOPS_ENOTFOUND), "MLOPS_ENOTFOUND: not found");
    assert_string_equal(mlops_strerror(-999), "unknown status code");
}

static void test_error_detail_is_recorded_and_cleared(void **state)
{
    const mlops_error *err;
    (void)state;
    assert_int_equal(mlops__error_dep(MLOPS_EIO, "store", 778, "disk \"%s\" full", "x"), MLOPS_EIO);
    err = mlops_error_last();
    assert_int_equal(err->code, MLOPS_EIO);
    assert_int_equal(err->dependency_code, 778);
    assert_string_equal(err->subsystem, "store");
    assert_string_equal(err->message, "disk \"x\" full");
    mlops__error_prefix("view \"%s\"", "txn");
    assert_string_equal(mlops_error_last()->message, "view \"txn\": disk \"x\" full");
    assert_int_equal(mlops_error_last()->code, MLOPS_EIO);
    mlops_error_clear();
    assert_int_equal(mlops_error_last()->code, MLOPS_OK);
    assert_string_equal(mlops_error_last()->message, "no error");
}

static void *fail_in_thread(void *arg)
{
    (void)arg;
    mlops__error(MLOPS_ECORRUPT, "frame", "other thread");
    return NULL;
}

static void test_error_detail_is_per_thread(void **state)
{
    pthread_t thread;
    (void)state;
    mlops__error(MLOPS_ENOTFOUND, "registry", "model \"fraud\" not found");
    assert_int_equal(pthread_create(&thread, NULL, fail_in_thread, NULL), 0);
    pthread_join(thread, NULL);
    assert_int_equal(mlops_error_last()->code, MLOPS_ENOTFOUND);
    assert_string_equal(mlops_error_last()->message, "model \"fraud\" not found");
}

static void test_long_messages_are_truncated_safely(void **state)
{
    char big[4000];
    (void)state;
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    mlops__error(MLOPS_EINVAL, "core", "%s", big);
    mlops__error_prefix("%s", big);
    assert_true(strlen(mlops_error_last()->message) < 1024);
}

static void test_version(void **state)
{
    (void)state;
    assert_string_equal(mlops_version(), MLOPS_VERSION_STRING);
    assert_int_equal(mlops_version_number(), MLOPS_VERSION_NUMBER);
    assert_int_equal(MLOPS_VERSION_NUMBER, 100);
}

static void test_allocator_validation(void **state)
{
    mlops_allocator bad = {MLOPS_ALLOCATOR_VERSION + 1, NULL, NULL, NULL, NULL};
    (void)state;
    ts_assert_error(mlops_allocator_set(&bad), MLOPS_EINVAL, "version");
    bad.version = MLOPS_ALLOCATOR_VERSION;
    ts_assert_error(mlops_allocator_set(&bad), MLOPS_EINVAL, "all three");
    assert_int_equal(mlops_allocator_set(NULL), MLOPS_OK);
}

static void test_allocator_hook_sees_library_allocations(void **state)
{
    char *copy;
    (void)state;
    ts_alloc_install();
    copy = mlops__strdup("hello");
    assert_non_null(copy);
    assert_int_equal(ts_alloc_live(), 1);
    mlops_free(copy);
    assert_int_equal(ts_alloc_live(), 0);
    ts_alloc_fail_at(1);
    assert_null(mlops__strdup("x"));
    assert_true(ts_alloc_failure_hit());
    ts_alloc_fail_at(0);
    mlops_free(NULL);
    assert_int_equal(mlops_allocator_set(NULL), MLOPS_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror_names_every_code),
        cmocka_unit_test(test_error_detail_is_recorded_and_cleared),
        cmocka_unit_test(test_error_detail_is_per_thread),
        cmocka_unit_test(test_long_messages_are_truncated_safely),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_allocator_validation),
        cmocka_unit_test(test_allocator_hook_sees_library_allocations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
