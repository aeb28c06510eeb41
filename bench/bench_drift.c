/*
 * Drift benchmark: profile update throughput on 10^7 float64 values
 * (counters + histogram; then with the KLL quantile sketch; then with
 * HyperLogLog), and KS, Wasserstein and PSI on 10^6 against 10^6 values.
 * Prints one line per measurement: "<name> <median CPU seconds> <detail>";
 * CPU time of this single-threaded process, so a shared machine does not
 * count other programs' time against us.
 * Usage: bench_drift [repetitions]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mlops.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static uint64_t state = 12345;

static double next_normal(void)
{
    double u[2];
    int i;
    for (i = 0; i < 2; i++) {
        uint64_t z = (state += UINT64_C(0x9E3779B97F4A7C15));
        z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
        u[i] = (double)((z ^ (z >> 31)) >> 11) * (1.0 / 9007199254740992.0);
    }
    return sqrt(-2.0 * log(u[0] + 1e-300)) * cos(2 * M_PI * u[1]);
}

static void check(int rc, const char *what)
{
    if (rc != MLOPS_OK) {
        fprintf(stderr, "%s failed: %s\n", what, mlops_error_last()->message);
        exit(1);
    }
}

static void bench_update(const char *name, const char *spec, const double *v, size_t n, int reps)
{
    double t[32];
    int r;
    for (r = 0; r < reps; r++) {
        mlops_profile *p = NULL;
        double t0;
        check(mlops_profile_new(&p, spec), "mlops_profile_new");
        /* Warm-up outside the timing: the sketch reaches its steady levels. */
        check(mlops_profile_update_float64(p, 0, v, NULL, 100000), "warm-up");
        t0 = now_s();
        check(mlops_profile_update_float64(p, 0, v, NULL, n), "update");
        t[r] = now_s() - t0;
        mlops_profile_free(p);
    }
    {
        double m = median(t, reps);
        printf("%s %.6f values_per_s=%.4g\n", name, m, (double)n / m);
    }
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 5, r;
    size_t n = 10000000, m = 1000000, i;
    double *v = malloc(sizeof(double) * n), *a = malloc(sizeof(double) * m), *b = malloc(sizeof(double) * m);
    double t[32];
    const char *edges = "\"edges\":[-3,-2,-1.5,-1,-0.5,0,0.5,1,1.5,2,3]";
    char spec[512];
    if (reps < 1 || reps > 31)
        reps = 5;
    for (i = 0; i < n; i++)
        v[i] = next_normal();
    for (i = 0; i < m; i++) {
        a[i] = next_normal();
        b[i] = next_normal() + 0.01;
    }
    snprintf(spec, sizeof spec,
             "{\"columns\":[{\"name\":\"x\",\"kind\":\"numeric\",%s}],\"quantiles\":false,\"distinct\":false}", edges);
    bench_update("update_counters_histogram_1e7", spec, v, n, reps);
    snprintf(spec, sizeof spec,
             "{\"columns\":[{\"name\":\"x\",\"kind\":\"numeric\",%s}],\"quantiles\":true,\"distinct\":false}", edges);
    bench_update("update_with_quantiles_1e7", spec, v, n, reps);
    snprintf(spec, sizeof spec,
             "{\"columns\":[{\"name\":\"x\",\"kind\":\"numeric\",%s}],\"quantiles\":false,\"distinct\":true}", edges);
    bench_update("update_with_distinct_1e7", spec, v, n, reps);
    for (r = 0; r < reps; r++) {
        mlops_test_result res;
        double t0 = now_s();
        check(mlops_stat_ks_2samp(&res, a, m, b, m, MLOPS_METHOD_AUTO), "ks");
        t[r] = now_s() - t0;
    }
    printf("ks_2samp_1e6 %.6f\n", median(t, reps));
    for (r = 0; r < reps; r++) {
        mlops_test_result res;
        double t0 = now_s();
        check(mlops_stat_wasserstein(&res, a, m, b, m), "wasserstein");
        t[r] = now_s() - t0;
    }
    printf("wasserstein_1e6 %.6f\n", median(t, reps));
    for (r = 0; r < reps; r++) {
        mlops_test_result res;
        double t0 = now_s();
        check(mlops_stat_psi(&res, NULL, 0, a, m, b, m, 10, MLOPS_BINS_QUANTILE, 1e-4), "psi");
        t[r] = now_s() - t0;
    }
    printf("psi_1e6 %.6f\n", median(t, reps));
    free(v);
    free(a);
    free(b);
    return 0;
}
