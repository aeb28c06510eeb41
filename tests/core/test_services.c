/*
 * Core services: strict JSON reading, ISO 8601 time, UTF-8 validation,
 * hashing (against published SHA-256 vectors), zstd with damaged input and
 * size limits, growable buffers, round-trip double formatting.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"
#include "core/core_int.h"

static void test_json_strict_reading(void **state)
{
    static const char *const keys[] = {"n", "f", "b", "s", "o", NULL};
    mlops__json *doc = NULL;
    int64_t n = -1;
    double f = 0;
    int b = -1;
    const char *s = NULL;
    char *printed;
    (void)state;
    assert_int_equal(mlops__json_parse(&doc, "{\"n\": 3, \"f\": 0.25, \"b\": true, \"s\": \"x\", \"o\": {\"k\": [1,2]}}",
                                       "core", "test document"),
                     MLOPS_OK);
    assert_int_equal(mlops__json_check_keys(doc, "$", "core", keys), MLOPS_OK);
    assert_int_equal(mlops__json_opt_int(&n, doc, "n", "$", "core", 0, 10), MLOPS_OK);
    assert_int_equal(n, 3);
    assert_int_equal(mlops__json_opt_double(&f, doc, "f", "$", "core", 0, 1), MLOPS_OK);
    assert_true(f == 0.25);
    assert_int_equal(mlops__json_opt_bool(&b, doc, "b", "$", "core"), MLOPS_OK);
    assert_int_equal(b, 1);
    assert_int_equal(mlops__json_opt_string(&s, doc, "s", "$", "core"), MLOPS_OK);
    assert_string_equal(s, "x");
    /* Absent members leave the defaults alone. */
    n = 77;
    assert_int_equal(mlops__json_opt_int(&n, doc, "absent", "$", "core", 0, 10), MLOPS_OK);
    assert_int_equal(n, 77);
    assert_int_equal(mlops__json_array_size(mlops__json_get(mlops__json_get(doc, "o"), "k")), 2);
    assert_true(mlops__json_number(mlops__json_at(mlops__json_get(mlops__json_get(doc, "o"), "k"), 1)) == 2.0);
    ts_assert_error(mlops__json_opt_int(&n, doc, "n", "$", "core", 5, 10), MLOPS_EFORMAT, "$.n: 3 is outside [5, 10]");
    ts_assert_error(mlops__json_opt_int(&n, doc, "f", "$", "core", 0, 10), MLOPS_EFORMAT, "$.f: expected an integer");
    ts_assert_error(mlops__json_opt_bool(&b, doc, "s", "$.x", "core"), MLOPS_EFORMAT, "$.x.s: expected true or false");
    ts_assert_error(mlops__json_opt_string(&s, doc, "n", "$", "core"), MLOPS_EFORMAT, "$.n: expected a string");
    ts_assert_error(mlops__json_opt_double(&f, doc, "b", "$", "core", 0, 1), MLOPS_EFORMAT, "expected a number");
    ts_assert_error(mlops__json_check_keys(mlops__json_get(doc, "o"), "$.o", "core", keys), MLOPS_EFORMAT,
                    "$.o.k: unknown key");
    printed = mlops__json_print(mlops__json_get(doc, "o"));
    assert_string_equal(printed, "{\"k\":[1,2]}");
    mlops__free(printed);
    mlops__json_free(doc);
    ts_assert_error(mlops__json_parse(&doc, "{\n\n  \"a\": ,\n}", "core", "view definition"), MLOPS_EFORMAT,
                    "view definition: invalid JSON at line 3 column 8");
    assert_null(doc);
    ts_assert_error(mlops__json_parse(&doc, "{} trailing", "core", "options"), MLOPS_EFORMAT, "invalid JSON");
    ts_assert_error(mlops__json_parse(&doc, NULL, "core", "options"), MLOPS_EINVAL, "must not be NULL");
}

static void test_iso8601_parse_and_format(void **state)
{
    static const struct { const char *text; int64_t seconds; int64_t micros; } good[] = {
        /* Expected values from `date -u -d TEXT +%s`. */
        {"1970-01-01", 0, 0},
        {"2000-02-29T23:59:59Z", 951868799, 0},
        {"2024-03-01T12:00:00.123456Z", 1709294400, 123456},
        {"2024-03-01 12:00:00+02:00", 1709287200, 0},
        {"2024-03-01T12:00-0130", 1709299800, 0},
        {"1969-12-31T23:59:59.5Z", -1, 500000},
        {"1900-01-01T00:00:00Z", -2208988800LL, 0},
    };
    static const char *const bad[] = {
        "", "2024", "2024-13-01", "2024-02-30", "2023-02-29", "2024-01-01T24:00:00Z", "2024-01-01T12:60",
        "2024-01-01T12:00:00.Z", "2024-01-01T12:00:00Zjunk", "2024-1-01", "yesterday", "2024-01-01T12:00:00+25:00",
    };
    char text[MLOPS__TIME_TEXT_MAX];
    size_t i;
    int64_t us;
    (void)state;
    for (i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(mlops__time_parse_iso8601(&us, good[i].text, strlen(good[i].text)), 0);
        if (us != good[i].seconds * 1000000 + good[i].micros)
            fail_msg("%s parsed as %lld", good[i].text, (long long)us);
    }
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (mlops__time_parse_iso8601(&us, bad[i], strlen(bad[i])) == 0)
            fail_msg("\"%s\" was accepted", bad[i]);
    }
    mlops__time_format_iso8601(text, 1709294400LL * 1000000 + 123456);
    assert_string_equal(text, "2024-03-01T12:00:00.123456Z");
    mlops__time_format_iso8601(text, -500000);
    assert_string_equal(text, "1969-12-31T23:59:59.500000Z");
    /* Format and parse are inverse over a wide range of instants. */
    for (us = -4000000000000000LL; us < 4000000000000000LL; us += 123456789012345LL) {
        int64_t back;
        mlops__time_format_iso8601(text, us);
        assert_int_equal(mlops__time_parse_iso8601(&back, text, strlen(text)), 0);
        assert_true(back == us);
    }
    assert_true(mlops__now_us() > 1700000000LL * 1000000);
    assert_true(mlops__monotonic_ns() > 0);
}

static void test_utf8_validation(void **state)
{
    size_t bad = 0;
    (void)state;
    assert_true(mlops__utf8_valid("plain ascii", 11, NULL));
    assert_true(mlops__utf8_valid("zo\xC3\xAB \xE2\x82\xAC \xF0\x9F\x98\x80", 13, NULL));
    assert_false(mlops__utf8_valid("ab\xC0\xAF", 4, &bad)); /* overlong '/' */
    assert_int_equal(bad, 2);
    assert_false(mlops__utf8_valid("\xED\xA0\x80", 3, &bad)); /* surrogate */
    assert_false(mlops__utf8_valid("\xF4\x90\x80\x80", 4, &bad)); /* above U+10FFFF */
    assert_false(mlops__utf8_valid("abc\xE2\x82", 5, &bad)); /* truncated */
    assert_int_equal(bad, 3);
    assert_false(mlops__utf8_valid("\x80", 1, &bad));
}

static void test_sha256_published_vectors(void **state)
{
    uint8_t digest[MLOPS__SHA256_BYTES];
    char hex[2 * MLOPS__SHA256_BYTES + 1];
    mlops__sha256 st;
    (void)state;
    /* FIPS 180-2 examples. */
    mlops__sha256_digest(digest, "abc", 3);
    mlops__hex(hex, digest, sizeof digest);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    mlops__sha256_init(&st);
    mlops__sha256_update(&st, "abcdbcdecdefdefgefghfghighij", 28);
    mlops__sha256_update(&st, "hijkijkljklmklmnlmnomnopnopq", 28);
    mlops__sha256_final(&st, digest);
    mlops__hex(hex, digest, sizeof digest);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_hash64_is_stable_and_spreads(void **state)
{
    uint64_t seen[4096];
    size_t i, j, buckets[16] = {0};
    (void)state;
    assert_true(mlops__hash64("key", 3, 0) == mlops__hash64("key", 3, 0));
    assert_true(mlops__hash64("key", 3, 0) != mlops__hash64("key", 3, 1));
    assert_true(mlops__hash64("", 0, 0) != mlops__hash64("\0", 1, 0));
    for (i = 0; i < 4096; i++) {
        char key[32];
        int len = snprintf(key, sizeof key, "customer-%zu", i);
        seen[i] = mlops__hash64(key, (size_t)len, 42);
        buckets[seen[i] >> 60]++;
        for (j = 0; j < i; j++)
            assert_true(seen[i] != seen[j]);
    }
    /* 4096 keys over 16 buckets: 256 expected each; 6 sigma is about 94. */
    for (i = 0; i < 16; i++)
        assert_true(buckets[i] > 160 && buckets[i] < 352);
}

static void test_zstd_round_trip_damage_and_limits(void **state)
{
    char *input = malloc(100000);
    void *packed = NULL, *unpacked = NULL;
    size_t packed_len = 0, unpacked_len = 0, i;
    (void)state;
    for (i = 0; i < 100000; i++)
        input[i] = (char)("abcdefgh"[i % 8] + (i % 1000 == 0));
    assert_int_equal(mlops__zstd_compress(&packed, &packed_len, input, 100000, 3, "core"), MLOPS_OK);
    assert_true(packed_len < 10000);
    assert_int_equal(mlops__zstd_decompress(&unpacked, &unpacked_len, packed, packed_len, 100000, "core"), MLOPS_OK);
    assert_int_equal(unpacked_len, 100000);
    assert_memory_equal(unpacked, input, 100000);
    mlops__free(unpacked);
    ts_assert_error(mlops__zstd_decompress(&unpacked, &unpacked_len, packed, packed_len, 99999, "core"), MLOPS_ELIMIT,
                    "limit is 99999");
    ts_assert_error(mlops__zstd_decompress(&unpacked, &unpacked_len, packed, packed_len / 2, 100000, "core"),
                    MLOPS_ECORRUPT, "damaged");
    ts_assert_error(mlops__zstd_decompress(&unpacked, &unpacked_len, "not zstd", 8, 100, "core"), MLOPS_ECORRUPT,
                    "not a zstd frame");
    ((unsigned char *)packed)[packed_len / 2] ^= 0x5a;
    assert_true(mlops__zstd_decompress(&unpacked, &unpacked_len, packed, packed_len, 100000, "core") != MLOPS_OK ||
                memcmp(unpacked, input, 100000) != 0);
    mlops__free(unpacked);
    ts_assert_error(mlops__zstd_compress(&unpacked, &unpacked_len, input, 10, 99, "core"), MLOPS_EINVAL, "level 99");
    mlops__free(packed);
    free(input);
}

/* A frame whose size field claims more than its blocks hold is refused before anything is allocated. */
static void test_zstd_size_field_beyond_the_blocks(void **state)
{
    /* magic, single segment with an 8-byte size of 2^30, one last RLE block of 100 bytes of 'x' */
    static const unsigned char frame[] = {0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0x23, 0x03, 0, 'x'};
    unsigned char honest[sizeof frame];
    void *unpacked = NULL;
    size_t unpacked_len = 0;
    (void)state;
    ts_alloc_install();
    ts_alloc_fail_at(1);
    ts_assert_error(mlops__zstd_decompress(&unpacked, &unpacked_len, frame, sizeof frame, (size_t)1 << 31, "core"),
                    MLOPS_ECORRUPT, "declares 1073741824 bytes, its blocks hold at most 100");
    assert_false(ts_alloc_failure_hit());
    ts_alloc_fail_at(0);
    mlops_allocator_set(NULL);
    assert_null(unpacked);
    memcpy(honest, frame, sizeof frame);
    honest[8] = 0;
    honest[5] = 100;
    assert_int_equal(mlops__zstd_decompress(&unpacked, &unpacked_len, honest, sizeof honest, 100, "core"), MLOPS_OK);
    assert_int_equal(unpacked_len, 100);
    assert_int_equal(((unsigned char *)unpacked)[99], 'x');
    mlops__free(unpacked);
}

static void test_buffers_and_double_format(void **state)
{
    mlops__buf buf;
    char *text;
    char number[64];
    size_t len;
    int i;
    (void)state;
    mlops__buf_init(&buf);
    for (i = 0; i < 1000; i++)
        mlops__buf_printf(&buf, "%d,", i);
    mlops__buf_json_string(&buf, "q\"\\\n\x01");
    assert_int_equal(mlops__buf_status(&buf, "core"), MLOPS_OK);
    text = mlops__buf_detach(&buf, &len);
    assert_int_equal(strlen(text), len);
    assert_true(strncmp(text, "0,1,2,", 6) == 0);
    assert_string_equal(text + len - 15, "\"q\\\"\\\\\\n\\u0001\"");
    mlops_free(text);
    assert_null(buf.data);
    /* An append that cannot grow marks the buffer failed; the status says so. */
    ts_alloc_install();
    ts_alloc_fail_at(1);
    mlops__buf_puts(&buf, "x");
    ts_alloc_fail_at(0);
    ts_assert_error(mlops__buf_status(&buf, "core"), MLOPS_ENOMEM, "out of memory");
    mlops__buf_free(&buf);
    mlops_allocator_set(NULL);
    mlops__format_double(number, sizeof number, 0.1);
    assert_string_equal(number, "0.1");
    mlops__format_double(number, sizeof number, 0.1 + 0.2);
    assert_string_equal(number, "0.30000000000000004");
    mlops__format_double(number, sizeof number, 0.5);
    assert_string_equal(number, "0.5");
    for (i = 1; i < 2000; i++) {
        double v = 1.0 / i * pow(10, i % 40 - 20);
        mlops__format_double(number, sizeof number, v);
        assert_true(strtod(number, NULL) == v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_strict_reading),
        cmocka_unit_test(test_iso8601_parse_and_format),
        cmocka_unit_test(test_utf8_validation),
        cmocka_unit_test(test_sha256_published_vectors),
        cmocka_unit_test(test_hash64_is_stable_and_spreads),
        cmocka_unit_test(test_zstd_round_trip_damage_and_limits),
        cmocka_unit_test(test_zstd_size_field_beyond_the_blocks),
        cmocka_unit_test(test_buffers_and_double_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
