/*
 * Sketches of the streaming profiles:
 *  - KLL quantile sketch (Karnin, Lang, Liberty 2016): levels of sorted
 *    items with weight 2^h and capacities shrinking by 2/3 below the top;
 *    a full level is sorted and every other item (random offset) moves up.
 *  - HyperLogLog distinct count (Flajolet et al. 2007) with linear counting
 *    for small cardinalities.
 *  - Misra–Gries frequent items (exact while the categories fit, then the
 *    mergeable summary of Agarwal et al. 2012).
 * Updates allocate nothing except when a KLL level or a new category appears.
 */
#include <math.h>
#include <string.h>

#include "drift_int.h"
#include "sketch_int.h"

#define SUB "drift"

/* ---- shared ------------------------------------------------------------------- */

uint64_t mlops__mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return x;
}

static uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Quicksort (median of three, insertion sort below 16) for the short arrays of the sketches. */
static void quicksort_doubles(double *v, size_t n)
{
    while (n > 16) {
        size_t j = mlops__partition_doubles(v, n);
        /* Recurse into the smaller part, loop on the larger one. */
        if (j + 1 < n - j - 1) {
            quicksort_doubles(v, j + 1);
            v += j + 1;
            n -= j + 1;
        } else {
            quicksort_doubles(v + j + 1, n - j - 1);
            n = j + 1;
        }
    }
    mlops__insertion_sort_doubles(v, n);
}

void mlops__sort_doubles(double *values, uint64_t *scratch, size_t n)
{
    size_t i;
    if (n <= 4096) {
        quicksort_doubles(values, n);
        return;
    }
    for (i = 0; i < n; i++)
        scratch[i] = mlops__key_of(values[i]);
    mlops__sort_keys(scratch, scratch + n, n);
    for (i = 0; i < n; i++)
        values[i] = mlops__value_of(scratch[i]);
}

/* ---- KLL -------------------------------------------------------------------- */

static void kll_caps(mlops__kll *s)
{
    uint32_t h;
    double c = 1.0;
    for (h = s->levels; h-- > 0;) {
        uint32_t cap = (uint32_t)ceil((double)s->k * c);
        s->cap[h] = cap < MLOPS__KLL_MIN_CAP ? MLOPS__KLL_MIN_CAP : cap;
        c *= 2.0 / 3.0;
    }
}

/* Items a level's buffer holds: twice the largest capacity, so a level can take a whole compaction from below
 * even when its own compaction could not run (out of memory). */
static size_t kll_buf(const mlops__kll *s)
{
    return 2 * (size_t)s->k + 2;
}

static int kll_add_level(mlops__kll *s)
{
    if (s->levels >= MLOPS__KLL_MAX_LEVELS)
        return mlops__error(MLOPS_ELIMIT, SUB, "quantile sketch: more than %d levels", MLOPS__KLL_MAX_LEVELS);
    s->items[s->levels] = mlops__malloc(sizeof(double) * kll_buf(s));
    if (!s->items[s->levels])
        return mlops__error(MLOPS_ENOMEM, SUB, "quantile sketch: out of memory for level %u", s->levels);
    s->size[s->levels++] = 0;
    kll_caps(s);
    return MLOPS_OK;
}

int mlops__kll_init(mlops__kll *s, uint32_t k, uint64_t seed)
{
    int rc;
    memset(s, 0, sizeof *s);
    s->k = k;
    s->rng = seed;
    s->scratch = mlops__malloc(sizeof(uint64_t) * (2 * kll_buf(s) + MLOPS__SORT_EXTRA));
    if (!s->scratch)
        return mlops__error(MLOPS_ENOMEM, SUB, "quantile sketch: out of memory");
    if ((rc = kll_add_level(s)))
        mlops__kll_free(s);
    return rc;
}

void mlops__kll_free(mlops__kll *s)
{
    uint32_t h;
    for (h = 0; h < MLOPS__KLL_MAX_LEVELS; h++) {
        mlops__free(s->items[h]);
        s->items[h] = NULL;
    }
    mlops__free(s->scratch);
    s->scratch = NULL;
    s->levels = 0;
}

/*
 * Sort level h and move every other item (random offset) up one level; an
 * odd item out stays. Everything that can fail (a new level, room above)
 * happens before level h changes, so a failure leaves the sketch consistent.
 */
static int kll_compact(mlops__kll *s, uint32_t h)
{
    uint32_t size = s->size[h], pairs = size / 2, i, off;
    double *lv = s->items[h], *up, kept = 0.0;
    int odd = (int)(size % 2), rc;
    if (h + 1 == s->levels && (rc = kll_add_level(s)))
        return rc;
    if (s->size[h + 1] + pairs > kll_buf(s) && (rc = kll_compact(s, h + 1)))
        return rc;
    mlops__sort_doubles(lv, s->scratch, size);
    if (odd)
        kept = lv[size - 1];
    off = (uint32_t)(rng_next(&s->rng) & 1);
    up = s->items[h + 1];
    for (i = 0; i < pairs; i++)
        up[s->size[h + 1]++] = lv[2 * i + off];
    s->size[h] = 0;
    if (odd)
        lv[s->size[h]++] = kept;
    s->compacted_weight += (uint64_t)1 << h;
    return s->size[h + 1] >= s->cap[h + 1] ? kll_compact(s, h + 1) : MLOPS_OK;
}

/*
 * Append one item of weight 2^h, compacting the level first when it is full.
 * When that compaction fails the item is still kept while the buffer has
 * room (*stored says whether it was), and the error goes back.
 */
static int kll_push(mlops__kll *s, uint32_t h, double v, int *stored)
{
    int rc = MLOPS_OK;
    *stored = 0;
    if (s->size[h] >= s->cap[h]) {
        rc = kll_compact(s, h);
        if (rc && s->size[h] >= kll_buf(s))
            return rc;
    }
    s->items[h][s->size[h]++] = v;
    *stored = 1;
    return rc;
}

int mlops__kll_update_slow(mlops__kll *s, double v)
{
    int stored;
    int rc = kll_push(s, 0, v, &stored);
    s->n += (uint64_t)stored;
    return rc;
}

int mlops__kll_merge(mlops__kll *into, const mlops__kll *from)
{
    uint32_t h, i;
    int rc = MLOPS_OK;
    for (h = 0; h < from->levels && rc == MLOPS_OK; h++) {
        while (into->levels <= h && rc == MLOPS_OK)
            rc = kll_add_level(into);
        for (i = 0; i < from->size[h] && rc == MLOPS_OK; i++) {
            int stored;
            rc = kll_push(into, h, from->items[h][i], &stored);
        }
    }
    if (rc == MLOPS_OK) {
        into->n += from->n;
        into->compacted_weight += from->compacted_weight;
    }
    return rc;
}

int mlops__kll_sorted(mlops__kll_view *out, const mlops__kll *s)
{
    size_t total = 0, i;
    uint32_t h;
    memset(out, 0, sizeof *out);
    for (h = 0; h < s->levels; h++)
        total += s->size[h];
    out->values = mlops__malloc(sizeof(double) * (total ? total : 1));
    out->weights = mlops__malloc(sizeof(double) * (total ? total : 1));
    if (!out->values || !out->weights) {
        mlops__kll_view_free(out);
        return mlops__error(MLOPS_ENOMEM, SUB, "quantile sketch: out of memory");
    }
    {
        /* Sort a copy of each level and merge the runs one by one. */
        double *tmpv = mlops__malloc(sizeof(double) * (total ? total : 1));
        double *tmpw = mlops__malloc(sizeof(double) * (total ? total : 1));
        double *lv0 = mlops__malloc(sizeof(double) * kll_buf(s));
        uint64_t *scr = mlops__malloc(sizeof(uint64_t) * (2 * kll_buf(s) + MLOPS__SORT_EXTRA));
        size_t len = 0;
        if (!tmpv || !tmpw || !lv0 || !scr) {
            mlops__free(tmpv);
            mlops__free(tmpw);
            mlops__free(lv0);
            mlops__free(scr);
            mlops__kll_view_free(out);
            return mlops__error(MLOPS_ENOMEM, SUB, "quantile sketch: out of memory");
        }
        for (h = 0; h < s->levels; h++) {
            const double *run = lv0;
            double w = ldexp(1.0, (int)h);
            size_t a = 0, b = 0, k = 0, rn = s->size[h];
            memcpy(lv0, s->items[h], sizeof(double) * rn);
            mlops__sort_doubles(lv0, scr, rn);
            while (a < len || b < rn) {
                if (b >= rn || (a < len && out->values[a] <= run[b])) {
                    tmpv[k] = out->values[a];
                    tmpw[k++] = out->weights[a++];
                } else {
                    tmpv[k] = run[b++];
                    tmpw[k++] = w;
                }
            }
            len = k;
            memcpy(out->values, tmpv, sizeof(double) * len);
            memcpy(out->weights, tmpw, sizeof(double) * len);
        }
        mlops__free(tmpv);
        mlops__free(tmpw);
        mlops__free(lv0);
        mlops__free(scr);
        out->count = len;
    }
    out->total = 0.0;
    for (i = 0; i < out->count; i++)
        out->total += out->weights[i];
    return MLOPS_OK;
}

void mlops__kll_view_free(mlops__kll_view *v)
{
    mlops__free(v->values);
    mlops__free(v->weights);
    v->values = v->weights = NULL;
    v->count = 0;
}

double mlops__kll_view_quantile(const mlops__kll_view *v, double q)
{
    double target = q * v->total, cum = 0.0;
    size_t i;
    if (v->count == 0)
        return NAN;
    for (i = 0; i < v->count; i++) {
        cum += v->weights[i];
        if (cum >= target)
            return v->values[i];
    }
    return v->values[v->count - 1];
}

double mlops__kll_view_rank(const mlops__kll_view *v, double x)
{
    double cum = 0.0;
    size_t i;
    if (v->count == 0 || v->total == 0)
        return NAN;
    for (i = 0; i < v->count && v->values[i] <= x; i++)
        cum += v->weights[i];
    return cum / v->total;
}

/* ---- HyperLogLog ------------------------------------------------------------ */

void mlops__hll_add_hash(uint8_t *reg, uint32_t bits, uint64_t hash)
{
    uint32_t idx = (uint32_t)(hash >> (64 - bits));
    uint64_t w = (hash << bits) | ((uint64_t)1 << (bits - 1));
    uint8_t rho = (uint8_t)(__builtin_clzll(w) + 1);
    if (rho > reg[idx])
        reg[idx] = rho;
}

double mlops__hll_estimate(const uint8_t *reg, uint32_t bits)
{
    uint32_t m = 1u << bits, i, zeros = 0;
    double sum = 0.0, alpha, e;
    for (i = 0; i < m; i++) {
        sum += ldexp(1.0, -(int)reg[i]);
        zeros += reg[i] == 0;
    }
    alpha = 0.7213 / (1.0 + 1.079 / (double)m);
    e = alpha * (double)m * (double)m / sum;
    if (e <= 2.5 * (double)m && zeros > 0)
        e = (double)m * log((double)m / (double)zeros);
    return e;
}

/* ---- frequent items ----------------------------------------------------------- */

int mlops__freq_init(mlops__freq *f, uint32_t cap)
{
    uint32_t slots = 16;
    memset(f, 0, sizeof *f);
    while (slots < 2 * cap)
        slots *= 2;
    f->cap = cap;
    f->slot_mask = slots - 1;
    f->slots = mlops__calloc(slots, sizeof(uint32_t));
    f->key = mlops__calloc(cap, sizeof(char *));
    f->key_len = mlops__calloc(cap, sizeof(uint32_t));
    f->hash = mlops__calloc(cap, sizeof(uint64_t));
    f->count = mlops__calloc(cap, sizeof(uint64_t));
    if (!f->slots || !f->key || !f->key_len || !f->hash || !f->count) {
        mlops__freq_free(f);
        return mlops__error(MLOPS_ENOMEM, SUB, "category counts: out of memory");
    }
    return MLOPS_OK;
}

void mlops__freq_free(mlops__freq *f)
{
    uint32_t i;
    if (f->key)
        for (i = 0; i < f->len; i++)
            mlops__free(f->key[i]);
    mlops__free(f->slots);
    mlops__free(f->key);
    mlops__free(f->key_len);
    mlops__free(f->hash);
    mlops__free(f->count);
    memset(f, 0, sizeof *f);
}

uint64_t mlops__freq_hash(const char *key, size_t len)
{
    return mlops__hash64(key, len, UINT64_C(0x6d6c6f70732d6672));
}

/* Entry index + 1 of `key`, or 0; *slot_out receives the slot where it is or would go. */
static uint32_t freq_find(const mlops__freq *f, const char *key, uint32_t len, uint64_t hash, uint32_t *slot_out)
{
    uint32_t slot = (uint32_t)hash & f->slot_mask;
    for (;; slot = (slot + 1) & f->slot_mask) {
        uint32_t e = f->slots[slot];
        if (e == 0)
            break;
        if (f->hash[e - 1] == hash && f->key_len[e - 1] == len && memcmp(f->key[e - 1], key, len) == 0) {
            *slot_out = slot;
            return e;
        }
    }
    *slot_out = slot;
    return 0;
}

static void freq_reindex(mlops__freq *f)
{
    uint32_t i, slot;
    memset(f->slots, 0, sizeof(uint32_t) * ((size_t)f->slot_mask + 1));
    for (i = 0; i < f->len; i++) {
        for (slot = (uint32_t)f->hash[i] & f->slot_mask; f->slots[slot]; slot = (slot + 1) & f->slot_mask)
            ;
        f->slots[slot] = i + 1;
    }
}

/* Subtract `amount` from every counter and drop those reaching zero. */
static void freq_subtract(mlops__freq *f, uint64_t amount)
{
    uint32_t i, j = 0;
    for (i = 0; i < f->len; i++) {
        if (f->count[i] <= amount) {
            f->kept -= f->count[i];
            mlops__free(f->key[i]);
            continue;
        }
        f->count[i] -= amount;
        f->kept -= amount;
        f->key[j] = f->key[i];
        f->key_len[j] = f->key_len[i];
        f->hash[j] = f->hash[i];
        f->count[j++] = f->count[i];
    }
    f->len = j;
    freq_reindex(f);
}

/* Insert a new entry (the table has room); takes a copy of the key. */
static int freq_insert(mlops__freq *f, const char *key, uint32_t len, uint64_t hash, uint64_t count, uint32_t slot)
{
    char *copy = mlops__malloc((size_t)len + 1);
    if (!copy)
        return mlops__error(MLOPS_ENOMEM, SUB, "category counts: out of memory");
    memcpy(copy, key, len);
    copy[len] = '\0';
    f->key[f->len] = copy;
    f->key_len[f->len] = len;
    f->hash[f->len] = hash;
    f->count[f->len] = count;
    f->slots[slot] = ++f->len;
    f->kept += count;
    return MLOPS_OK;
}

int mlops__freq_add(mlops__freq *f, const char *key, size_t len, uint64_t hash)
{
    uint32_t slot, e;
    f->n++;
    e = freq_find(f, key, (uint32_t)len, hash, &slot);
    if (e) {
        f->count[e - 1]++;
        f->kept++;
        return MLOPS_OK;
    }
    if (f->len < f->cap)
        return freq_insert(f, key, (uint32_t)len, hash, 1, slot);
    /* Misra–Gries: the new item and every counter lose one. */
    freq_subtract(f, 1);
    return MLOPS_OK;
}

int mlops__freq_merge(mlops__freq *into, const mlops__freq *from)
{
    uint32_t i, slot;
    int rc = MLOPS_OK;
    uint64_t *sorted = NULL;
    /* Counters of `from` that find no room wait in a temporary overflow handled below. */
    uint32_t pending = 0;
    for (i = 0; i < from->len; i++) {
        uint32_t e = freq_find(into, from->key[i], from->key_len[i], from->hash[i], &slot);
        if (e) {
            into->count[e - 1] += from->count[i];
            into->kept += from->count[i];
        } else {
            pending++;
        }
    }
    into->n += from->n;
    if (pending == 0)
        return MLOPS_OK;
    /* Grow to hold both summaries, then cut back to `cap` counters by subtracting the (cap+1)-th largest. */
    {
        uint32_t total = into->len + pending, slots = into->slot_mask + 1;
        mlops__freq big;
        memset(&big, 0, sizeof big);
        while (slots < 2 * total)
            slots *= 2;
        big.cap = total;
        big.slot_mask = slots - 1;
        big.n = into->n;
        big.slots = mlops__calloc(slots, sizeof(uint32_t));
        big.key = mlops__calloc(total, sizeof(char *));
        big.key_len = mlops__calloc(total, sizeof(uint32_t));
        big.hash = mlops__calloc(total, sizeof(uint64_t));
        big.count = mlops__calloc(total, sizeof(uint64_t));
        sorted = mlops__malloc(sizeof(uint64_t) * (2 * ((size_t)total + 1) + MLOPS__SORT_EXTRA));
        if (!big.slots || !big.key || !big.key_len || !big.hash || !big.count || !sorted) {
            rc = mlops__error(MLOPS_ENOMEM, SUB, "category counts: out of memory while merging");
            goto out_free_big;
        }
        for (i = 0; i < into->len && rc == MLOPS_OK; i++) {
            freq_find(&big, into->key[i], into->key_len[i], into->hash[i], &slot);
            rc = freq_insert(&big, into->key[i], into->key_len[i], into->hash[i], into->count[i], slot);
        }
        for (i = 0; i < from->len && rc == MLOPS_OK; i++) {
            if (!freq_find(&big, from->key[i], from->key_len[i], from->hash[i], &slot))
                rc = freq_insert(&big, from->key[i], from->key_len[i], from->hash[i], from->count[i], slot);
        }
        if (rc)
            goto out_free_big;
        if (big.len > into->cap) {
            for (i = 0; i < big.len; i++)
                sorted[i] = big.count[i];
            mlops__sort_keys(sorted, sorted + big.len, big.len);
            freq_subtract(&big, sorted[big.len - 1 - into->cap]);
        }
        /* Move the result into `into`'s arrays (capacity cap). */
        for (i = 0; i < into->len; i++)
            mlops__free(into->key[i]);
        into->len = big.len;
        into->kept = big.kept;
        for (i = 0; i < big.len; i++) {
            into->key[i] = big.key[i];
            into->key_len[i] = big.key_len[i];
            into->hash[i] = big.hash[i];
            into->count[i] = big.count[i];
        }
        big.len = 0;
        freq_reindex(into);
    out_free_big:
        mlops__freq_free(&big);
        mlops__free(sorted);
    }
    return rc;
}

uint64_t mlops__freq_get(const mlops__freq *f, const char *key, size_t len)
{
    uint32_t slot, e = freq_find(f, key, (uint32_t)len, mlops__freq_hash(key, len), &slot);
    return e ? f->count[e - 1] : 0;
}

double mlops__freq_error(const mlops__freq *f)
{
    return (double)(f->n - f->kept) / ((double)f->cap + 1.0);
}

int mlops__kll_set_levels(mlops__kll *s, uint32_t levels)
{
    int rc = MLOPS_OK;
    while (s->levels < levels && rc == MLOPS_OK)
        rc = kll_add_level(s);
    return rc;
}

int mlops__freq_put(mlops__freq *f, const char *key, uint32_t len, uint64_t count)
{
    uint64_t hash = mlops__freq_hash(key, len);
    uint32_t slot;
    if (f->len >= f->cap)
        return mlops__error(MLOPS_ECORRUPT, SUB, "category counts: more entries than the cap %u", f->cap);
    if (freq_find(f, key, len, hash, &slot))
        return mlops__error(MLOPS_ECORRUPT, SUB, "category counts: category listed twice");
    return freq_insert(f, key, len, hash, count, slot);
}
