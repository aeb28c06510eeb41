/**
 * @file
 * libmlops: drift statistics. Two-sample tests computed exactly on raw
 * float64 samples (the way SciPy computes them), mergeable streaming
 * profiles with bounded memory, drift reports comparing a reference with
 * current data, and live profiles stored per time window.
 *
 * Raw-sample tests drop NaN values and count them in the result; they
 * allocate scratch memory for sorting and are `any` (pure functions).
 * docs/drift.md gives every formula and its SciPy/Evidently counterpart.
 */
#ifndef MLOPS_DRIFT_H
#define MLOPS_DRIFT_H

#include "common.h"
#include "db.h"
#include "frame.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Methods of the two-sample KS and Cramér–von Mises tests. Pinned. */
#define MLOPS_METHOD_AUTO  0  /**< as SciPy decides: exact for small samples, asymptotic otherwise */
#define MLOPS_METHOD_EXACT 1  /**< exact null distribution (KS falls back to asymptotic when it cannot) */
#define MLOPS_METHOD_ASYMP 2  /**< asymptotic distribution */

/* Binnings of the Population Stability Index. Pinned. */
#define MLOPS_BINS_QUANTILE 0  /**< edges at reference quantiles i/bins (linear interpolation) */
#define MLOPS_BINS_WIDTH    1  /**< equal-width edges from the reference minimum to its maximum */

/** Result of one statistical test. */
typedef struct mlops_test_result {
    double statistic;   /**< the test statistic or distance */
    double pvalue;      /**< p-value (significance for Anderson–Darling), NaN when the measure has none */
    int32_t method;     /**< MLOPS_METHOD_EXACT or _ASYMP actually used; 0 when not applicable */
    int32_t dof;        /**< degrees of freedom of chi-square tests, else 0 */
    uint64_t n_ref;     /**< values of the reference (first) sample used */
    uint64_t n_cur;     /**< values of the current (second) sample used */
    uint64_t nan_ref;   /**< NaN values dropped from the reference sample */
    uint64_t nan_cur;   /**< NaN values dropped from the current sample */
} mlops_test_result;

/** Two-sample Kolmogorov–Smirnov test, two-sided, SciPy ks_2samp semantics (`method` MLOPS_METHOD_*). @thread any */
MLOPS_API int mlops_stat_ks_2samp(mlops_test_result *out, const double *ref, size_t n_ref, const double *cur,
                                  size_t n_cur, int32_t method);
/** Wasserstein-1 distance between the empirical distributions (SciPy wasserstein_distance). @thread any */
MLOPS_API int mlops_stat_wasserstein(mlops_test_result *out, const double *ref, size_t n_ref, const double *cur,
                                     size_t n_cur);
/** Wasserstein-1 divided by max(population std of `ref`, 0.001) (Evidently's normed Wasserstein). @thread any */
MLOPS_API int mlops_stat_wasserstein_norm(mlops_test_result *out, const double *ref, size_t n_ref,
                                          const double *cur, size_t n_cur);
/** Energy distance (SciPy energy_distance). @thread any */
MLOPS_API int mlops_stat_energy(mlops_test_result *out, const double *ref, size_t n_ref, const double *cur,
                                size_t n_cur);
/** Two-sample Cramér–von Mises test (SciPy cramervonmises_2samp; `method` MLOPS_METHOD_*). @thread any */
MLOPS_API int mlops_stat_cvm_2samp(mlops_test_result *out, const double *ref, size_t n_ref, const double *cur,
                                   size_t n_cur, int32_t method);
/**
 * Anderson–Darling k-sample test with midranks (SciPy anderson_ksamp): the
 * normalised statistic and SciPy's interpolated significance level, capped to
 * [0.001, 0.25]. n_ref/nan_ref describe samples[0], n_cur/nan_cur the rest. @thread any
 */
MLOPS_API int mlops_stat_anderson_ksamp(mlops_test_result *out, const double *const *samples, const size_t *sizes,
                                        size_t k);
/**
 * Population Stability Index with `bins` bins derived from the reference
 * (`binning` MLOPS_BINS_*); values outside the edges count in the outer bins;
 * proportions below `epsilon` (0 selects 1e-4) are raised to it. The bins + 1
 * edges are written to `edges` (may be NULL; else capacity `edges_cap` >= bins + 1). @thread any
 */
MLOPS_API int mlops_stat_psi(mlops_test_result *out, double *edges, size_t edges_cap, const double *ref,
                             size_t n_ref, const double *cur, size_t n_cur, uint32_t bins, int32_t binning,
                             double epsilon);
/** PSI of two histograms over the same bins (counts or proportions), floored at `epsilon` as above. @thread any */
MLOPS_API int mlops_stat_psi_hist(mlops_test_result *out, const double *ref, const double *cur, size_t k,
                                  double epsilon);
/** Jensen–Shannon distance of two histograms (normalised first; `base` 0 means e; SciPy jensenshannon). @thread any */
MLOPS_API int mlops_stat_jensenshannon(mlops_test_result *out, const double *p, const double *q, size_t k,
                                       double base);
/** Kullback–Leibler divergence D(p || q) of two histograms (normalised first; `base` 0 means e; SciPy entropy). @thread any */
MLOPS_API int mlops_stat_kl(mlops_test_result *out, const double *p, const double *q, size_t k, double base);
/** Chi-square goodness of fit of `observed` against `expected` counts (SciPy chisquare, k - 1 dof). @thread any */
MLOPS_API int mlops_stat_chisquare(mlops_test_result *out, const double *observed, const double *expected,
                                   size_t k);
/**
 * Chi-square test of independence of the 2 x k table whose rows are `ref`
 * and `cur` counts (SciPy chi2_contingency; Yates' correction when
 * `correction` is non-zero and dof is 1). Categories empty in both rows are skipped. @thread any
 */
MLOPS_API int mlops_stat_chi2_contingency(mlops_test_result *out, const double *ref, const double *cur, size_t k,
                                          int32_t correction);

/* ---- streaming profiles ---------------------------------------------------- */

/**
 * A profile summarises columns with bounded memory: counts, nulls, NaN/Inf,
 * min, max, mean and variance (Welford within blocks, Chan across blocks and
 * merges), a KLL quantile sketch, a histogram on fixed edges and a
 * HyperLogLog distinct count for numeric columns; category counts (exact up
 * to a cap, then Misra–Gries) and HyperLogLog for categorical ones. Profiles
 * with the same specification merge (associative and commutative) across
 * threads, processes and hosts. Threading: a profile is `handle`; update one
 * profile per thread and merge them on read (mlops_profile_new_like()).
 * Updates and merges that fail with MLOPS_ENOMEM or MLOPS_ELIMIT leave the
 * profile memory-safe but incomplete: free it. Argument errors change nothing.
 */
typedef struct mlops_profile mlops_profile;

/* Column kinds. Pinned. */
#define MLOPS_COLUMN_NUMERIC     1 /**< a numeric column */
#define MLOPS_COLUMN_CATEGORICAL 2 /**< a categorical column */

/**
 * New empty profile from a JSON specification: {"columns": [{"name": "amount",
 * "kind": "numeric"|"categorical", "edges": [e0, e1, ...]}], "quantile_k": 200
 * (8..65535), "category_cap": 1024 (1..1048576), "hll_bits": 12 (4..18),
 * "quantiles": true, "distinct": true, "seed": 0}. @thread any
 */
MLOPS_API int mlops_profile_new(mlops_profile **out, const char *spec_json);
/** New empty profile with a column per FLOAT64/INT64 (numeric) and STRING/BOOL (categorical) column of `frame`; `options_json` takes the keys of mlops_profile_new() except "columns". @thread any */
MLOPS_API int mlops_profile_new_for_frame(mlops_profile **out, const mlops_frame *frame, const char *options_json);
/** New empty profile with the same specification as `profile` (a shard for another thread). @thread handle */
MLOPS_API int mlops_profile_new_like(mlops_profile **out, const mlops_profile *profile);
/** Free `profile`; NULL is a no-op. @thread handle */
MLOPS_API void mlops_profile_free(mlops_profile *profile);
/** Number of columns (0 for NULL). @thread handle */
MLOPS_API size_t mlops_profile_columns(const mlops_profile *profile);
/** Name of column `column`, borrowed until the profile is freed; NULL when out of range. @thread handle */
MLOPS_API const char *mlops_profile_column_name(const mlops_profile *profile, size_t column);
/** Index of the column called `name`; MLOPS_ENOTFOUND when absent. @thread handle */
MLOPS_API int mlops_profile_column_index(size_t *out, const mlops_profile *profile, const char *name);

/** Feed `n` values to numeric column `column`; `nulls` (1 = null) may be NULL. Allocation-free except when a quantile level appears. @thread handle */
MLOPS_API int mlops_profile_update_float64(mlops_profile *profile, size_t column, const double *values,
                                           const uint8_t *nulls, size_t n);
/** Feed `n` strings (NULL entries are nulls) to categorical column `column`; allocates only for a newly tracked category. @thread handle */
MLOPS_API int mlops_profile_update_strings(mlops_profile *profile, size_t column, const char *const *values,
                                           size_t n);
/** Feed a row-major float matrix whose `width` columns are the profile's columns in order (all numeric). @thread handle */
MLOPS_API int mlops_profile_update_matrix(mlops_profile *profile, const float *matrix, size_t rows, size_t width);
/** Feed every profile column from the frame column of the same name (numeric: FLOAT64/INT64/BOOL; categorical: STRING/BOOL/INT64). @thread handle */
MLOPS_API int mlops_profile_update_frame(mlops_profile *profile, const mlops_frame *frame);
/**
 * Merge `from` into `into` (same specification, else MLOPS_EINVAL). Exact
 * parts merge exactly; sketches within their bounds. After a failure
 * (MLOPS_ENOMEM) `into` is unusable and must be freed. @thread handle
 */
MLOPS_API int mlops_profile_merge(mlops_profile *into, const mlops_profile *from);

/** Summary of one profile column. */
typedef struct mlops_column_stats {
    int32_t kind;                 /**< MLOPS_COLUMN_* */
    int32_t reserved;             /**< 0 */
    uint64_t rows;                /**< cells fed */
    uint64_t count;               /**< numeric: finite values; categorical: non-null values */
    uint64_t nulls;               /**< null cells */
    uint64_t nans;                /**< NaN values (numeric) */
    uint64_t infs;                /**< +/-Inf values (numeric) */
    double min;                   /**< minimum of the finite values (NaN when none) */
    double max;                   /**< maximum of the finite values (NaN when none) */
    double mean;                  /**< of the finite values */
    double variance;              /**< population variance of the finite values */
    double distinct;              /**< HyperLogLog estimate (NaN when disabled) */
    double distinct_rse;          /**< its relative standard error, 1.04 / sqrt(2^hll_bits) */
    double rank_error;            /**< bound on the normalised rank error of quantile queries: 0 while exact, else min(5 / k, worst case) (NaN when disabled) */
    uint64_t categories;          /**< categories tracked (categorical) */
    double frequency_error;       /**< any category count may be low by at most this (0 = exact) */
} mlops_column_stats;

/** Read the summary of column `column`. @thread handle */
MLOPS_API int mlops_profile_column_stats(mlops_column_stats *out, const mlops_profile *profile, size_t column);
/** Estimated `q`-quantile (0..1) of numeric column `column`; MLOPS_ESTATE when quantiles are disabled or no value was seen. @thread handle */
MLOPS_API int mlops_profile_quantile(double *out, const mlops_profile *profile, size_t column, double q);
/** Estimated fraction of values <= `x` in numeric column `column`. @thread handle */
MLOPS_API int mlops_profile_rank(double *out, const mlops_profile *profile, size_t column, double x);
/** Copy the histogram counts of column `column` (bins = edges - 1; values outside the edges are in the outer bins); MLOPS_EBUFSIZE after setting *bins_out when `capacity` is short. @thread handle */
MLOPS_API int mlops_profile_histogram(uint64_t *counts, size_t capacity, size_t *bins_out,
                                      const mlops_profile *profile, size_t column);
/** Counter of `category` in categorical column `column` (0 when not tracked; low by at most frequency_error). @thread handle */
MLOPS_API int mlops_profile_category_count(uint64_t *out, const mlops_profile *profile, size_t column,
                                           const char *category);
/** The profile as a JSON document (specification and every column summary); free with mlops_free(). @thread handle */
MLOPS_API int mlops_profile_describe(char **json_out, const mlops_profile *profile);
/** Serialise to a versioned compact binary (zstd); free with mlops_free(). @thread handle */
MLOPS_API int mlops_profile_serialize(void **out, size_t *len_out, const mlops_profile *profile);
/** Rebuild a profile from mlops_profile_serialize() bytes, fully validated: damaged bytes give MLOPS_ECORRUPT, foreign ones MLOPS_EFORMAT. @thread any */
MLOPS_API int mlops_profile_deserialize(mlops_profile **out, const void *data, size_t len);

/* ---- drift reports ---------------------------------------------------------
 * Configuration (JSON, every key optional): {"columns": {"amount": {"test":
 * "auto"|"ks"|"chisquare"|"z"|"wasserstein"|"jensenshannon"|"psi"|"kl"|
 * "energy"|"cvm"|"anderson", "threshold": x, "min_effect": x, "kind":
 * "numeric"|"categorical"}}, "include": [names], "prediction": [names],
 * "correction": "none"|"bonferroni"|"benjamini_hochberg", "alpha": 0.05,
 * "distance_threshold": 0.1, "drift_share": 0.5, "min_effect": 0,
 * "js_base": 2, "bins": 10, "psi_epsilon": 1e-4}. With "auto" the test is
 * chosen as Evidently does: reference of at most 1000 values: KS for numeric
 * columns with more than 5 distinct values, else chi-square (z-test for 2
 * categories); above 1000: normed Wasserstein, or Jensen–Shannon for
 * categorical and small-domain columns. The report lists every statistic,
 * p-value, threshold and decision, the dataset drift (share of drifted
 * feature columns >= drift_share) and prediction drift. docs/drift.md has the
 * document's format.
 */
/** Drift report comparing two frames column by column with exact tests on the raw values; free with mlops_free(). @thread any */
MLOPS_API int mlops_drift_report_frames(char **json_out, const mlops_frame *reference, const mlops_frame *current,
                                        const char *config_json);
/** Drift report comparing two profiles (tests on sketches; see docs/drift.md); free with mlops_free(). @thread any */
MLOPS_API int mlops_drift_report_profiles(char **json_out, const mlops_profile *reference,
                                          const mlops_profile *current, const char *config_json);

/* ---- windows ----------------------------------------------------------------
 * Live profiles kept in the database per stream (a name such as a model or a
 * feature view) and time window [start_us, end_us), microseconds UTC.
 */
/** Merge `profile` into the stored window (created when absent) in one transaction; a different end for the same start is MLOPS_ECONFLICT. @thread handle */
MLOPS_API int mlops_drift_window_put(mlops_db *db, const char *stream, int64_t start_us, int64_t end_us,
                                     const mlops_profile *profile);
/** Load the profile of the window of `stream` starting at `start_us`; MLOPS_ENOTFOUND when absent. @thread handle */
MLOPS_API int mlops_drift_window_get(mlops_profile **out, mlops_db *db, const char *stream, int64_t start_us);
/** JSON list of the windows of `stream` starting in [from_us, to_us), oldest first; free with mlops_free(). @thread handle */
MLOPS_API int mlops_drift_window_list(char **json_out, mlops_db *db, const char *stream, int64_t from_us,
                                      int64_t to_us);
/** Drift trend: a mlops_drift_report_profiles() report of each window of `stream` in [from_us, to_us) against `reference`; free with mlops_free(). @thread handle */
MLOPS_API int mlops_drift_trend(char **json_out, mlops_db *db, const char *stream, const mlops_profile *reference,
                                int64_t from_us, int64_t to_us, const char *config_json);

#ifdef __cplusplus
}
#endif
#endif /* MLOPS_DRIFT_H */
