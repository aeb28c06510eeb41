/*
 * Shared by the benchmarks: the monotonic clock in seconds, and the
 * comparator that sorts timings to take their median.
 */
#ifndef MLOPS_BENCH_CLOCK_H
#define MLOPS_BENCH_CLOCK_H

#include <time.h>

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#endif /* MLOPS_BENCH_CLOCK_H */
