/*
 * Streaming profiles: exact parts against brute force, sketch bounds on
 * randomized data (KLL rank error, HyperLogLog on 10^6 distinct values,
 * Misra–Gries undercount), merges in any order and across threads equal to
 * one profile fed everything, the binary format (round trip, truncation and
 * corruption refused), specification errors and allocation failures.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"
#include "drift/profile_int.h"

/* Documented KLL bound (docs/drift.md): normalised rank error below 5 / k, 2.5% with the default k = 200. */
#define KLL_BOUND_K200 0.025

static uint64_t rng_state = 1;

static uint64_t next_u64(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static double next_unit(void)
{
    return (double)(next_u64() >> 11) * (1.0 / 9007199254740992.0);
}

static double next_normal(void)
{
    double u1 = next_unit() + 1e-300, u2 = next_unit();
    return sqrt(-2.0 * log(u1)) * cos(2 * M_PI * u2);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static mlops_profile *numeric_profile(const char *extra)
{
    char spec[512];
    mlops_profile *p = NULL;
    snprintf(spec, sizeof spec,
             "{\"columns\":[{\"name\":\"x\",\"kind\":\"numeric\",\"edges\":[-2,-1,0,0.5,1,2]}]%s}", extra);
    assert_int_equal(mlops_profile_new(&p, spec), MLOPS_OK);
    return p;
}

static void test_exact_parts_match_brute_force(void **state)
{
    size_t n = 20000, i, b;
    double *v = malloc(sizeof(double) * n), sum = 0, mean, ss = 0, mn = INFINITY, mx = -INFINITY;
    uint8_t *nulls = calloc(n, 1);
    uint64_t hist[5] = {0}, got[5], cnt = 0, nn = 0, nan = 0, inf = 0;
    size_t bins;
    mlops_profile *p = numeric_profile("");
    mlops_column_stats st;
    const double edges[6] = {-2, -1, 0, 0.5, 1, 2};
    (void)state;
    rng_state = 7;
    for (i = 0; i < n; i++) {
        v[i] = 3 + 2 * next_normal();
        if (i % 97 == 0)
            v[i] = NAN;
        if (i % 131 == 0)
            v[i] = i % 2 ? INFINITY : -INFINITY;
        if (i % 53 == 0)
            nulls[i] = 1;
    }
    for (i = 0; i < n; i++) {
        if (nulls[i]) {
            nn++;
            continue;
        }
        if (isnan(v[i])) {
            nan++;
            continue;
        }
        if (isinf(v[i])) {
            inf++;
            continue;
        }
        cnt++;
        sum += v[i];
        mn = fmin(mn, v[i]);
        mx = fmax(mx, v[i]);
        for (b = 5; b > 0 && !(edges[b - 1] <= v[i]); b--)
            ;
        hist[b == 0 ? 0 : (b - 1 > 4 ? 4 : b - 1)]++;
    }
    mean = sum / (double)cnt;
    for (i = 0; i < n; i++)
        if (!nulls[i] && isfinite(v[i]))
            ss += (v[i] - mean) * (v[i] - mean);
    /* Feed in uneven pieces so blocks and merges of moments are exercised. */
    assert_int_equal(mlops_profile_update_float64(p, 0, v, nulls, 1000), MLOPS_OK);
    assert_int_equal(mlops_profile_update_float64(p, 0, v + 1000, nulls + 1000, 3), MLOPS_OK);
    assert_int_equal(mlops_profile_update_float64(p, 0, v + 1003, nulls + 1003, n - 1003), MLOPS_OK);
    assert_int_equal(mlops_profile_column_stats(&st, p, 0), MLOPS_OK);
    assert_int_equal(st.rows, n);
    assert_int_equal(st.count, cnt);
    assert_int_equal(st.nulls, nn);
    assert_int_equal(st.nans, nan);
    assert_int_equal(st.infs, inf);
    assert_true(st.min == mn && st.max == mx);
    assert_true(fabs(st.mean - mean) <= 1e-12 * fabs(mean));
    assert_true(fabs(st.variance - ss / (double)cnt) <= 1e-10 * ss / (double)cnt);
    assert_int_equal(mlops_profile_histogram(got, 5, &bins, p, 0), MLOPS_OK);
    assert_int_equal(bins, 5);
    for (b = 0; b < 5; b++)
        assert_int_equal(got[b], hist[b]);
    ts_assert_error(mlops_profile_histogram(got, 4, &bins, p, 0), MLOPS_EBUFSIZE, "capacity 4");
    mlops_profile_free(p);
    free(v);
    free(nulls);
}

/* Max over query points of the distance between q and the true rank interval of the returned value. */
static double max_rank_error(const mlops_profile *p, const double *sorted, size_t n)
{
    double worst = 0.0;
    int i;
    for (i = 0; i <= 200; i++) {
        double q = i / 200.0, v, lo, hi, err;
        size_t a = 0, b = n;
        assert_int_equal(mlops_profile_quantile(&v, p, 0, q), MLOPS_OK);
        /* lo = fraction < v, hi = fraction <= v */
        while (a < b) {
            size_t m = (a + b) / 2;
            if (sorted[m] < v)
                a = m + 1;
            else
                b = m;
        }
        lo = (double)a / (double)n;
        b = n;
        while (a < b) {
            size_t m = (a + b) / 2;
            if (sorted[m] <= v)
                a = m + 1;
            else
                b = m;
        }
        hi = (double)a / (double)n;
        err = q < lo ? lo - q : (q > hi ? q - hi : 0.0);
        worst = fmax(worst, err);
    }
    return worst;
}

static void test_quantile_rank_error_within_bound(void **state)
{
    size_t n = 200000, i;
    int trial;
    double *v = malloc(sizeof(double) * n);
    (void)state;
    for (trial = 0; trial < 8; trial++) {
        char extra[64];
        mlops_profile *p;
        mlops_column_stats st;
        double worst;
        snprintf(extra, sizeof extra, ",\"seed\":%d,\"distinct\":false", trial);
        p = numeric_profile(extra);
        rng_state = 1000 + trial;
        for (i = 0; i < n; i++) {
            /* Shapes: normal, sorted ascending (adversarial order), heavy ties, lognormal. */
            switch (trial % 4) {
            case 0: v[i] = next_normal(); break;
            case 1: v[i] = (double)i; break;
            case 2: v[i] = floor(next_unit() * 50); break;
            default: v[i] = exp(2 * next_normal()); break;
            }
        }
        assert_int_equal(mlops_profile_update_float64(p, 0, v, NULL, n), MLOPS_OK);
        qsort(v, n, sizeof(double), cmp_double);
        worst = max_rank_error(p, v, n);
        assert_int_equal(mlops_profile_column_stats(&st, p, 0), MLOPS_OK);
        print_message("trial %d: max rank error %.5f (reported bound %.5f)\n", trial, worst, st.rank_error);
        assert_true(worst <= KLL_BOUND_K200);
        assert_true(worst <= st.rank_error + 1.0 / (double)n);
        mlops_profile_free(p);
    }
    free(v);
}

static void test_hyperloglog_on_a_million_distinct(void **state)
{
    size_t n = 1000000, i;
    double *v = malloc(sizeof(double) * n);
    mlops_profile *p = NULL;
    mlops_column_stats st;
    double rel;
    (void)state;
    assert_int_equal(mlops_profile_new(&p, "{\"columns\":[{\"name\":\"id\",\"kind\":\"numeric\"}],\"quantiles\":false}"),
                     MLOPS_OK);
    for (i = 0; i < n; i++)
        v[i] = (double)i * 0.5 + 17.0;
    assert_int_equal(mlops_profile_update_float64(p, 0, v, NULL, n), MLOPS_OK);
    /* Repeats do not change the estimate. */
    assert_int_equal(mlops_profile_update_float64(p, 0, v, NULL, n / 2), MLOPS_OK);
    assert_int_equal(mlops_profile_column_stats(&st, p, 0), MLOPS_OK);
    rel = fabs(st.distinct - (double)n) / (double)n;
    print_message("HLL: estimate %.0f for %zu distinct (relative error %.4f, stated RSE %.4f)\n", st.distinct, n, rel,
                  st.distinct_rse);
    assert_true(rel <= 3 * st.distinct_rse);
    mlops_profile_free(p);
    free(v);
}

static void test_categories_exact_then_bounded(void **state)
{
    mlops_profile *p = NULL;
    size_t i, n = 60000, ncat = 3000;
    uint64_t *truth = calloc(ncat, sizeof(uint64_t));
    mlops_column_stats st;
    char name[32];
    (void)state;
    assert_int_equal(mlops_profile_new(&p, "{\"columns\":[{\"name\":\"c\",\"kind\":\"categorical\"}],\"category_cap\":50}"),
                     MLOPS_OK);
    /* First a few categories only: exact. */
    for (i = 0; i < 40; i++) {
        const char *s = i % 3 == 0 ? "red" : (i % 3 == 1 ? "green" : NULL);
        assert_int_equal(mlops_profile_update_strings(p, 0, &s, 1), MLOPS_OK);
    }
    assert_int_equal(mlops_profile_column_stats(&st, p, 0), MLOPS_OK);
    assert_true(st.frequency_error == 0.0);
    assert_int_equal(st.nulls, 13);
    {
        uint64_t c;
        assert_int_equal(mlops_profile_category_count(&c, p, 0, "red"), MLOPS_OK);
        assert_int_equal(c, 14);
    }
    mlops_profile_free(p);
    assert_int_equal(mlops_profile_new(&p, "{\"columns\":[{\"name\":\"c\",\"kind\":\"categorical\"}],\"category_cap\":50}"),
                     MLOPS_OK);
    rng_state = 99;
    for (i = 0; i < n; i++) {
        /* Skewed: category j with probability ~ 1/(j+1). */
        size_t j = (size_t)floor(exp(next_unit() * log((double)ncat))) - 1;
        const char *s = name;
        snprintf(name, sizeof name, "cat-%zu", j);
        truth[j]++;
        assert_int_equal(mlops_profile_update_strings(p, 0, &s, 1), MLOPS_OK);
    }
    assert_int_equal(mlops_profile_column_stats(&st, p, 0), MLOPS_OK);
    assert_true(st.frequency_error > 0 && st.frequency_error <= (double)n / 51.0);
    for (i = 0; i < ncat; i++) {
        uint64_t c;
        snprintf(name, sizeof name, "cat-%zu", i);
        assert_int_equal(mlops_profile_category_count(&c, p, 0, name), MLOPS_OK);
        assert_true(c <= truth[i]);
        assert_true((double)truth[i] <= (double)c + st.frequency_error);
    }
    mlops_profile_free(p);
    free(truth);
}

static const char *mixed_spec = "{\"columns\":[{\"name\":\"x\",\"kind\":\"numeric\",\"edges\":[-1,0,1,2]},"
                                "{\"name\":\"c\",\"kind\":\"categorical\"}],\"category_cap\":64}";

static void feed_mixed(mlops_profile *p, size_t from, size_t to)
{
    size_t i;
    for (i = from; i < to; i++) {
        uint64_t s = (uint64_t)i * UINT64_C(0x9E3779B97F4A7C15);
        double x = (double)((s >> 20) % 100000) / 25000.0 - 1.5;
        uint8_t null = (s >> 7) % 17 == 0;
        char cat[16];
        const char *cp = cat;
        snprintf(cat, sizeof cat, "k%u", (unsigned)((s >> 40) % 20));
        assert_int_equal(mlops_profile_update_float64(p, 0, &x, &null, 1), MLOPS_OK);
        assert_int_equal(mlops_profile_update_strings(p, 1, &cp, 1), MLOPS_OK);
    }
}

/* Exact parts equal; moments to rounding; sketches within their bounds. */
static void assert_profiles_agree(const mlops_profile *a, const mlops_profile *b)
{
    mlops_column_stats sa, sb;
    uint64_t ha[3], hb[3];
    size_t bins, j;
    double qa, qb;
    assert_int_equal(mlops_profile_column_stats(&sa, a, 0), MLOPS_OK);
    assert_int_equal(mlops_profile_column_stats(&sb, b, 0), MLOPS_OK);
    assert_int_equal(sa.rows, sb.rows);
    assert_int_equal(sa.count, sb.count);
    assert_int_equal(sa.nulls, sb.nulls);
    assert_true(sa.min == sb.min && sa.max == sb.max);
    assert_true(fabs(sa.mean - sb.mean) <= 1e-12 * (fabs(sb.mean) + 1));
    assert_true(fabs(sa.variance - sb.variance) <= 1e-12 * sb.variance);
    assert_true(sa.distinct == sb.distinct); /* register-wise max: exactly the same registers */
    assert_int_equal(mlops_profile_histogram(ha, 3, &bins, a, 0), MLOPS_OK);
    assert_int_equal(mlops_profile_histogram(hb, 3, &bins, b, 0), MLOPS_OK);
    for (j = 0; j < 3; j++)
        assert_int_equal(ha[j], hb[j]);
    for (j = 1; j < 10; j++) {
        assert_int_equal(mlops_profile_quantile(&qa, a, 0, j / 10.0), MLOPS_OK);
        assert_int_equal(mlops_profile_quantile(&qb, b, 0, j / 10.0), MLOPS_OK);
        /* Both within 1.65% of rank of the truth: values 4e-5 apart per rank unit -> within 2 * 0.0165 * 4 */
        assert_true(fabs(qa - qb) <= 2 * KLL_BOUND_K200 * 4.0);
    }
    assert_int_equal(mlops_profile_column_stats(&sa, a, 1), MLOPS_OK);
    assert_int_equal(mlops_profile_column_stats(&sb, b, 1), MLOPS_OK);
    assert_int_equal(sa.count, sb.count);
    assert_int_equal(sa.categories, sb.categories);
    assert_true(sa.frequency_error == 0 && sb.frequency_error == 0);
    for (j = 0; j < 20; j++) {
        char cat[16];
        uint64_t ca, cb;
        snprintf(cat, sizeof cat, "k%zu", j);
        assert_int_equal(mlops_profile_category_count(&ca, a, 1, cat), MLOPS_OK);
        assert_int_equal(mlops_profile_category_count(&cb, b, 1, cat), MLOPS_OK);
        assert_int_equal(ca, cb);
    }
}

static void test_merge_is_associative_and_commutative(void **state)
{
    mlops_profile *all, *s[4], *left, *right;
    size_t n = 40000, i;
    (void)state;
    assert_int_equal(mlops_profile_new(&all, mixed_spec), MLOPS_OK);
    feed_mixed(all, 0, n);
    for (i = 0; i < 4; i++) {
        assert_int_equal(mlops_profile_new(&s[i], mixed_spec), MLOPS_OK);
        feed_mixed(s[i], i * n / 4, (i + 1) * n / 4);
    }
    /* (s0 + s1) + (s2 + s3) */
    assert_int_equal(mlops_profile_new_like(&left, all), MLOPS_OK);
    assert_int_equal(mlops_profile_merge(left, s[0]), MLOPS_OK);
    assert_int_equal(mlops_profile_merge(left, s[1]), MLOPS_OK);
    assert_int_equal(mlops_profile_new_like(&right, all), MLOPS_OK);
    assert_int_equal(mlops_profile_merge(right, s[2]), MLOPS_OK);
    assert_int_equal(mlops_profile_merge(right, s[3]), MLOPS_OK);
    assert_int_equal(mlops_profile_merge(left, right), MLOPS_OK);
    assert_profiles_agree(left, all);
    mlops_profile_free(right);
    /* ((s3 + s2) + s1) + s0 */
    assert_int_equal(mlops_profile_new_like(&right, all), MLOPS_OK);
    for (i = 4; i-- > 0;)
        assert_int_equal(mlops_profile_merge(right, s[i]), MLOPS_OK);
    assert_profiles_agree(right, all);
    assert_profiles_agree(right, left);
    ts_assert_error(mlops_profile_merge(left, left), MLOPS_EINVAL, "itself");
    mlops_profile_free(left);
    mlops_profile_free(right);
    for (i = 0; i < 4; i++)
        mlops_profile_free(s[i]);
    mlops_profile_free(all);
}

static void test_merged_category_sketches_keep_their_bound(void **state)
{
    mlops_profile *a, *b, *all;
    const char *spec = "{\"columns\":[{\"name\":\"c\",\"kind\":\"categorical\"}],\"category_cap\":20}";
    uint64_t truth[500] = {0};
    size_t i;
    mlops_column_stats st;
    (void)state;
    assert_int_equal(mlops_profile_new(&a, spec), MLOPS_OK);
    assert_int_equal(mlops_profile_new(&b, spec), MLOPS_OK);
    assert_int_equal(mlops_profile_new(&all, spec), MLOPS_OK);
    rng_state = 5;
    for (i = 0; i < 30000; i++) {
        size_t j = (size_t)floor(exp(next_unit() * log(500.0))) - 1;
        char cat[16];
        const char *cp = cat;
        snprintf(cat, sizeof cat, "v%zu", j);
        truth[j]++;
        assert_int_equal(mlops_profile_update_strings(i % 3 ? a : b, 0, &cp, 1), MLOPS_OK);
    }
    assert_int_equal(mlops_profile_merge(a, b), MLOPS_OK);
    assert_int_equal(mlops_profile_column_stats(&st, a, 0), MLOPS_OK);
    assert_true(st.categories <= 20);
    for (i = 0; i < 500; i++) {
        char cat[16];
        uint64_t c;
        snprintf(cat, sizeof cat, "v%zu", i);
        assert_int_equal(mlops_profile_category_count(&c, a, 0, cat), MLOPS_OK);
        assert_true(c <= truth[i] && (double)truth[i] <= (double)c + st.frequency_error);
    }
    mlops_profile_free(a);
    mlops_profile_free(b);
    mlops_profile_free(all);
}

typedef struct shard_job {
    mlops_profile *profile;
    size_t from, to;
} shard_job;

static void *shard_thread(void *arg)
{
    shard_job *job = arg;
    feed_mixed(job->profile, job->from, job->to);
    return NULL;
}

static void test_per_thread_profiles_merged_on_read(void **state)
{
    mlops_profile *all, *merged;
    shard_job jobs[4];
    pthread_t threads[4];
    size_t n = 40000, i;
    (void)state;
    assert_int_equal(mlops_profile_new(&all, mixed_spec), MLOPS_OK);
    feed_mixed(all, 0, n);
    for (i = 0; i < 4; i++) {
        assert_int_equal(mlops_profile_new_like(&jobs[i].profile, all), MLOPS_OK);
        jobs[i].from = i * n / 4;
        jobs[i].to = (i + 1) * n / 4;
        assert_int_equal(pthread_create(&threads[i], NULL, shard_thread, &jobs[i]), 0);
    }
    assert_int_equal(mlops_profile_new_like(&merged, all), MLOPS_OK);
    for (i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(mlops_profile_merge(merged, jobs[i].profile), MLOPS_OK);
        mlops_profile_free(jobs[i].profile);
    }
    assert_profiles_agree(merged, all);
    mlops_profile_free(merged);
    mlops_profile_free(all);
}

static void test_serialize_round_trip_and_damage(void **state)
{
    mlops_profile *p, *q = NULL;
    void *bytes = NULL, *again = NULL;
    size_t len = 0, len2 = 0, cut;
    char *d1 = NULL, *d2 = NULL;
    unsigned char *copy;
    (void)state;
    assert_int_equal(mlops_profile_new(&p, mixed_spec), MLOPS_OK);
    feed_mixed(p, 0, 30000);
    assert_int_equal(mlops_profile_serialize(&bytes, &len, p), MLOPS_OK);
    assert_int_equal(mlops_profile_deserialize(&q, bytes, len), MLOPS_OK);
    assert_int_equal(mlops_profile_serialize(&again, &len2, q), MLOPS_OK);
    assert_int_equal(len, len2);
    assert_memory_equal(bytes, again, len);
    assert_int_equal(mlops_profile_describe(&d1, p), MLOPS_OK);
    assert_int_equal(mlops_profile_describe(&d2, q), MLOPS_OK);
    assert_string_equal(d1, d2);
    {
        /* The description is a valid JSON document with the exact counters. */
        mlops__json *doc = NULL, *col;
        assert_int_equal(mlops__json_parse(&doc, d1, "test", "describe"), MLOPS_OK);
        col = mlops__json_at(mlops__json_get(doc, "columns"), 0);
        assert_string_equal(mlops__json_string(mlops__json_get(col, "name")), "x");
        assert_true(mlops__json_number(mlops__json_get(col, "rows")) == 30000);
        assert_true(mlops__json_is_object(mlops__json_get(col, "quantiles")));
        assert_int_equal(mlops__json_array_size(mlops__json_get(mlops__json_get(col, "histogram"), "counts")), 3);
        col = mlops__json_at(mlops__json_get(doc, "columns"), 1);
        assert_true(mlops__json_is_object(mlops__json_get(col, "categories")));
        mlops__json_free(doc);
    }
    assert_profiles_agree(q, p);
    mlops_profile_free(q);
    /* Every truncation is refused. */
    for (cut = 0; cut < len; cut += (cut < 64 ? 1 : 7)) {
        int rc = mlops_profile_deserialize(&q, bytes, cut);
        assert_true(rc == MLOPS_ECORRUPT || rc == MLOPS_EFORMAT);
        assert_null(q);
    }
    /* Every flipped byte is refused. */
    copy = malloc(len);
    for (cut = 0; cut < len; cut += (cut < 64 ? 1 : 5)) {
        int rc;
        memcpy(copy, bytes, len);
        copy[cut] ^= 0x5a;
        rc = mlops_profile_deserialize(&q, copy, len);
        assert_true(rc == MLOPS_ECORRUPT || rc == MLOPS_EFORMAT);
        assert_null(q);
    }
    memcpy(copy, bytes, len);
    copy[4] = 9;
    ts_assert_error(mlops_profile_deserialize(&q, copy, len), MLOPS_EFORMAT, "format version 9");
    ts_assert_error(mlops_profile_deserialize(&q, "nope", 4), MLOPS_EFORMAT, "bad magic");
    ts_assert_error(mlops_profile_deserialize(&q, bytes, 20), MLOPS_ECORRUPT, "truncated header");
    ts_assert_error(mlops_profile_deserialize(NULL, bytes, len), MLOPS_EINVAL, "out");
    free(copy);
    mlops_free(bytes);
    mlops_free(again);
    mlops_free(d1);
    mlops_free(d2);
    mlops_profile_free(p);
}

static void test_frames_and_matrices(void **state)
{
    mlops_frame *f = NULL;
    mlops_profile *p = NULL, *m = NULL;
    double amounts[5] = {1.5, 2.5, NAN, 4.0, 8.0};
    int64_t ages[5] = {30, 40, 50, 60, 70};
    uint8_t age_nulls[5] = {0, 1, 0, 0, 0};
    const char *countries[5] = {"fr", "de", NULL, "fr", "fr"};
    uint8_t flags[5] = {1, 0, 1, 1, 0};
    float matrix[6] = {1, 10, 2, 20, NAN, 30};
    mlops_column_stats st;
    size_t idx;
    uint64_t c;
    (void)state;
    assert_int_equal(mlops_frame_new(&f), MLOPS_OK);
    assert_int_equal(mlops_frame_add_float64(f, "amount", amounts, NULL, 5), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(f, "age", ages, age_nulls, 5), MLOPS_OK);
    assert_int_equal(mlops_frame_add_string(f, "country", countries, 5), MLOPS_OK);
    assert_int_equal(mlops_frame_add_bool(f, "flag", flags, NULL, 5), MLOPS_OK);
    assert_int_equal(mlops_profile_new_for_frame(&p, f, "{\"quantile_k\":16}"), MLOPS_OK);
    assert_int_equal(mlops_profile_columns(p), 4);
    assert_int_equal(mlops_profile_update_frame(p, f), MLOPS_OK);
    assert_int_equal(mlops_profile_column_index(&idx, p, "amount"), MLOPS_OK);
    assert_int_equal(mlops_profile_column_stats(&st, p, idx), MLOPS_OK);
    assert_int_equal(st.count, 4);
    assert_int_equal(st.nans, 1);
    assert_true(st.mean == 4.0);
    assert_int_equal(mlops_profile_column_index(&idx, p, "age"), MLOPS_OK);
    assert_int_equal(mlops_profile_column_stats(&st, p, idx), MLOPS_OK);
    assert_int_equal(st.count, 4);
    assert_int_equal(st.nulls, 1);
    assert_true(st.min == 30 && st.max == 70);
    assert_int_equal(mlops_profile_column_index(&idx, p, "country"), MLOPS_OK);
    assert_int_equal(mlops_profile_category_count(&c, p, idx, "fr"), MLOPS_OK);
    assert_int_equal(c, 3);
    assert_int_equal(mlops_profile_column_index(&idx, p, "flag"), MLOPS_OK);
    assert_int_equal(mlops_profile_category_count(&c, p, idx, "true"), MLOPS_OK);
    assert_int_equal(c, 3);
    ts_assert_error(mlops_profile_column_index(&idx, p, "nope"), MLOPS_ENOTFOUND, "\"nope\"");
    assert_int_equal(mlops_profile_new(&m, "{\"columns\":[{\"name\":\"a\",\"kind\":\"numeric\"},"
                                           "{\"name\":\"b\",\"kind\":\"numeric\"}]}"),
                     MLOPS_OK);
    assert_int_equal(mlops_profile_update_matrix(m, matrix, 3, 2), MLOPS_OK);
    assert_int_equal(mlops_profile_column_stats(&st, m, 0), MLOPS_OK);
    assert_int_equal(st.count, 2);
    assert_int_equal(st.nans, 1);
    assert_int_equal(mlops_profile_column_stats(&st, m, 1), MLOPS_OK);
    assert_true(st.mean == 20.0);
    ts_assert_error(mlops_profile_update_matrix(m, matrix, 3, 3), MLOPS_EINVAL, "width 3");
    ts_assert_error(mlops_profile_update_frame(m, f), MLOPS_ENOTFOUND, "\"a\": not in the frame");
    {
        /* A column of the wrong type is refused before any column is fed. */
        mlops_profile *w = NULL;
        assert_int_equal(mlops_profile_new(&w, "{\"columns\":[{\"name\":\"amount\",\"kind\":\"numeric\"},"
                                               "{\"name\":\"country\",\"kind\":\"numeric\"}]}"),
                         MLOPS_OK);
        ts_assert_error(mlops_profile_update_frame(w, f), MLOPS_EINVAL, "\"country\": frame column type 4");
        assert_int_equal(mlops_profile_column_stats(&st, w, 0), MLOPS_OK);
        assert_int_equal(st.rows, 0);
        mlops_profile_free(w);
    }
    ts_assert_error(mlops_profile_merge(m, p), MLOPS_EINVAL, "different specifications");
    mlops_profile_free(m);
    mlops_profile_free(p);
    mlops_frame_free(f);
}

static void test_specification_and_argument_errors(void **state)
{
    mlops_profile *p = NULL;
    double x = 1, q;
    const char *s = "a";
    (void)state;
    ts_assert_error(mlops_profile_new(NULL, "{}"), MLOPS_EINVAL, "out");
    ts_assert_error(mlops_profile_new(&p, NULL), MLOPS_EINVAL, "spec_json");
    ts_assert_error(mlops_profile_new(&p, "{\"columns\":[]}"), MLOPS_EFORMAT, "$.columns");
    ts_assert_error(mlops_profile_new(&p, "{\"columns\":[{\"name\":\"a\",\"kind\":\"numeric\"}],\"bogus\":1}"),
                    MLOPS_EFORMAT, "$.bogus: unknown key");
    ts_assert_error(mlops_profile_new(&p, "{\"columns\":[{\"name\":\"a\",\"kind\":\"text\"}]}"), MLOPS_EFORMAT,
                    "$.columns[0].kind");
    ts_assert_error(mlops_profile_new(&p, "{\"columns\":[{\"name\":\"a\",\"kind\":\"numeric\",\"edges\":[2,1]}]}"),
                    MLOPS_EFORMAT, "$.columns[0].edges[1]");
    ts_assert_error(mlops_profile_new(&p, "{\"columns\":[{\"name\":\"a\",\"kind\":\"numeric\"},"
                                          "{\"name\":\"a\",\"kind\":\"numeric\"}]}"),
                    MLOPS_EINVAL, "duplicate name");
    ts_assert_error(mlops_profile_new(&p, "{\"columns\":[{\"name\":\"a\",\"kind\":\"numeric\"}],\"quantile_k\":2}"),
                    MLOPS_EFORMAT, "$.quantile_k");
    ts_assert_error(mlops_profile_new(&p, "{\"columns\":[{\"name\":\"a\",\"kind\":\"numeric\"}],\"hll_bits\":30}"),
                    MLOPS_EFORMAT, "$.hll_bits");
    ts_assert_error(mlops_profile_new(&p, "{\"columns\":"), MLOPS_EFORMAT, "");
    assert_int_equal(mlops_profile_new(&p, "{\"columns\":[{\"name\":\"a\",\"kind\":\"numeric\"},"
                                           "{\"name\":\"b\",\"kind\":\"categorical\"}]}"),
                     MLOPS_OK);
    ts_assert_error(mlops_profile_quantile(&q, p, 0, 0.5), MLOPS_ESTATE, "no value yet");
    ts_assert_error(mlops_profile_update_float64(p, 1, &x, NULL, 1), MLOPS_EINVAL, "not numeric");
    ts_assert_error(mlops_profile_update_strings(p, 0, &s, 1), MLOPS_EINVAL, "not categorical");
    ts_assert_error(mlops_profile_update_float64(p, 2, &x, NULL, 1), MLOPS_EINVAL, "column 2 out of range");
    ts_assert_error(mlops_profile_update_float64(NULL, 0, &x, NULL, 1), MLOPS_EINVAL, "profile");
    ts_assert_error(mlops_profile_quantile(&q, p, 0, 1.5), MLOPS_EINVAL, "q 1.5");
    assert_null(mlops_profile_column_name(p, 2));
    assert_string_equal(mlops_profile_column_name(p, 1), "b");
    assert_int_equal(mlops_profile_columns(NULL), 0);
    mlops_profile_free(p);
    mlops_profile_free(NULL);
}

typedef struct alloc_ctx {
    mlops_profile *p, *q;
    void *bytes;
    char *json;
} alloc_ctx;

static int alloc_call(void *arg)
{
    alloc_ctx *c = arg;
    size_t len, i;
    double v[600];
    const char *cats[3] = {"a", "b", "c"};
    int rc;
    for (i = 0; i < 600; i++)
        v[i] = (double)((i * 7919) % 600);
    if ((rc = mlops_profile_new(&c->p, "{\"columns\":[{\"name\":\"x\",\"kind\":\"numeric\",\"edges\":[0,100,600]},"
                                       "{\"name\":\"c\",\"kind\":\"categorical\"}],\"quantile_k\":16,\"category_cap\":2}")))
        return rc;
    if ((rc = mlops_profile_update_float64(c->p, 0, v, NULL, 600)) ||
        (rc = mlops_profile_update_strings(c->p, 1, cats, 3)))
        return rc;
    if ((rc = mlops_profile_serialize(&c->bytes, &len, c->p)))
        return rc;
    if ((rc = mlops_profile_deserialize(&c->q, c->bytes, len)))
        return rc;
    if ((rc = mlops_profile_merge(c->q, c->p)))
        return rc;
    return mlops_profile_describe(&c->json, c->q);
}

static void alloc_cleanup(void *arg)
{
    alloc_ctx *c = arg;
    mlops_profile_free(c->p);
    mlops_profile_free(c->q);
    mlops_free(c->bytes);
    mlops_free(c->json);
    memset(c, 0, sizeof *c);
}

static void test_allocation_failures_are_clean(void **state)
{
    alloc_ctx c;
    (void)state;
    memset(&c, 0, sizeof c);
    assert_true(ts_each_allocation_failure(alloc_call, alloc_cleanup, &c) > 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_parts_match_brute_force),
        cmocka_unit_test(test_quantile_rank_error_within_bound),
        cmocka_unit_test(test_hyperloglog_on_a_million_distinct),
        cmocka_unit_test(test_categories_exact_then_bounded),
        cmocka_unit_test(test_merge_is_associative_and_commutative),
        cmocka_unit_test(test_merged_category_sketches_keep_their_bound),
        cmocka_unit_test(test_per_thread_profiles_merged_on_read),
        cmocka_unit_test(test_serialize_round_trip_and_damage),
        cmocka_unit_test(test_frames_and_matrices),
        cmocka_unit_test(test_specification_and_argument_errors),
        cmocka_unit_test(test_allocation_failures_are_clean),
    };
    ts_alloc_install();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
