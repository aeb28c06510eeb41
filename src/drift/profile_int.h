/*
 * The profile structure shared by profile.c (building, updating, merging,
 * queries), profile_io.c (binary format) and report.c (drift from profiles).
 */
#ifndef MLOPS_PROFILE_INT_H
#define MLOPS_PROFILE_INT_H

#include "drift_int.h"
#include "sketch_int.h"

#define MLOPS__SMALL_DOMAIN 8            /* numeric columns remember up to this many distinct values exactly */
#define MLOPS__SMALL_OFF UINT32_MAX      /* ... and stop once they see more */

typedef struct mlops__pcol {
    char *name;
    int32_t kind;                         /* MLOPS_COLUMN_* */
    uint64_t rows, count, nulls, nans, infs;
    double min, max, mean, m2;            /* finite values; m2 = sum of squared deviations */
    uint32_t small_n;                     /* distinct values in small_val, or MLOPS__SMALL_OFF */
    double small_val[MLOPS__SMALL_DOMAIN];
    uint64_t small_cnt[MLOPS__SMALL_DOMAIN];
    uint32_t nedges;                      /* 0 = no histogram, else >= 2 */
    double *edges;
    uint64_t *hist;                       /* nedges - 1 bins */
    int has_kll;
    mlops__kll kll;
    uint8_t *hll;                         /* 2^hll_bits registers, NULL when disabled */
    int has_freq;
    mlops__freq freq;                     /* categorical columns */
} mlops__pcol;

struct mlops_profile {
    uint32_t quantile_k;
    uint32_t category_cap;
    uint32_t hll_bits;
    int32_t quantiles;                    /* 0/1 */
    int32_t distinct;                     /* 0/1 */
    uint64_t seed;
    size_t ncols;
    mlops__pcol *cols;
};

/* Column description used to build a profile. */
typedef struct mlops__pcol_spec {
    const char *name;
    int32_t kind;
    const double *edges;
    uint32_t nedges;
} mlops__pcol_spec;

/* Allocate an empty profile with the given settings and columns. */
int mlops__profile_build(mlops_profile **out, uint32_t quantile_k, uint32_t category_cap, uint32_t hll_bits,
                         int32_t quantiles, int32_t distinct, uint64_t seed, const mlops__pcol_spec *cols,
                         size_t ncols);
/* Record one category occurrence in a categorical column. */
int mlops__pcol_add_category(const mlops_profile *p, mlops__pcol *c, const char *text, size_t len);

#endif /* MLOPS_PROFILE_INT_H */
