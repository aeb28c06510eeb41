/*
 * Sketches behind the streaming profiles (sketch.c): KLL quantiles,
 * HyperLogLog distinct counts, Misra–Gries frequent categories.
 */
#ifndef MLOPS_SKETCH_INT_H
#define MLOPS_SKETCH_INT_H

#include <stddef.h>
#include <stdint.h>

#define MLOPS__KLL_MAX_LEVELS 56
#define MLOPS__KLL_MIN_CAP 8

/* 64-bit finaliser used to hash numbers for HyperLogLog. */
uint64_t mlops__mix64(uint64_t x);
/* Sort `n` doubles (no NaN) ascending; `scratch` holds 2n keys. */
void mlops__sort_doubles(double *values, uint64_t *scratch, size_t n);

/* ---- KLL ---- */
typedef struct mlops__kll {
    uint32_t k;                               /* capacity of the top level */
    uint32_t levels;                          /* levels in use */
    uint64_t n;                               /* items fed (= sum of size[h] * 2^h) */
    uint64_t rng;                             /* state of the compaction coin */
    uint64_t compacted_weight;                /* sum of 2^h over compactions: worst-case rank error */
    uint32_t size[MLOPS__KLL_MAX_LEVELS];
    uint32_t cap[MLOPS__KLL_MAX_LEVELS];
    double *items[MLOPS__KLL_MAX_LEVELS];     /* level h: items of weight 2^h, buffer of 2k + 2 */
    uint64_t *scratch;                        /* sorting scratch for one level */
} mlops__kll;

int mlops__kll_init(mlops__kll *s, uint32_t k, uint64_t seed);
void mlops__kll_free(mlops__kll *s);
/* Add one value when level 0 is full: compact first (allocating a level when the stream outgrows them). */
int mlops__kll_update_slow(mlops__kll *s, double v);
/* Add one value; allocates only when a new level appears. */
static inline int mlops__kll_update(mlops__kll *s, double v)
{
    if (s->size[0] >= s->cap[0])
        return mlops__kll_update_slow(s, v);
    s->items[0][s->size[0]++] = v;
    s->n++;
    return 0;
}
/* Add every item of `from` at its level into `into` (same k). */
int mlops__kll_merge(mlops__kll *into, const mlops__kll *from);

/* Grow to `levels` levels (allocating them) and recompute the capacities; for deserialisation. */
int mlops__kll_set_levels(mlops__kll *s, uint32_t levels);

/* All retained items sorted by value with their weights. */
typedef struct mlops__kll_view {
    double *values;
    double *weights;
    size_t count;
    double total;
} mlops__kll_view;
int mlops__kll_sorted(mlops__kll_view *out, const mlops__kll *s);
void mlops__kll_view_free(mlops__kll_view *v);
/* Smallest retained value whose cumulative weight reaches q * total. */
double mlops__kll_view_quantile(const mlops__kll_view *v, double q);
/* Estimated fraction of values <= x. */
double mlops__kll_view_rank(const mlops__kll_view *v, double x);

/* ---- HyperLogLog (2^bits one-byte registers) ---- */
void mlops__hll_add_hash(uint8_t *reg, uint32_t bits, uint64_t hash);
double mlops__hll_estimate(const uint8_t *reg, uint32_t bits);

/* ---- Misra–Gries frequent items ---- */
typedef struct mlops__freq {
    uint32_t cap;        /* counters */
    uint32_t len;        /* counters in use */
    uint32_t slot_mask;  /* open-addressing index size - 1 */
    uint64_t n;          /* items fed */
    uint64_t kept;       /* sum of the counters */
    uint32_t *slots;     /* entry index + 1, 0 = empty */
    char **key;          /* NUL-terminated copies */
    uint32_t *key_len;
    uint64_t *hash;
    uint64_t *count;
} mlops__freq;

int mlops__freq_init(mlops__freq *f, uint32_t cap);
void mlops__freq_free(mlops__freq *f);
uint64_t mlops__freq_hash(const char *key, size_t len);
/* Count one occurrence of `key` (hash from mlops__freq_hash). */
int mlops__freq_add(mlops__freq *f, const char *key, size_t len, uint64_t hash);
int mlops__freq_merge(mlops__freq *into, const mlops__freq *from);
/* Counter of `key` (0 when not tracked): true - error <= counter <= true. */
uint64_t mlops__freq_get(const mlops__freq *f, const char *key, size_t len);
/* Insert a new counter (deserialisation); MLOPS_ECORRUPT for a duplicate or a full table. */
int mlops__freq_put(mlops__freq *f, const char *key, uint32_t len, uint64_t count);
/* The bound on any undercount: (n - kept) / (cap + 1). */
double mlops__freq_error(const mlops__freq *f);

#endif /* MLOPS_SKETCH_INT_H */
