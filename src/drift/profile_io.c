/*
 * Binary form of a profile: a 24-byte header ("MLPF", format version,
 * payload length, 64-bit hash of the payload) followed by the payload
 * compressed as one zstd frame. The payload is little-endian: settings, then
 * each column's counters, moments, small-domain table, histogram, KLL levels,
 * HyperLogLog registers and category counters. Reading checks every length
 * against the bytes left and every invariant that ties the parts together
 * (counts add up, sketch weights match, edges ascend), so damaged bytes are
 * refused with MLOPS_ECORRUPT and foreign bytes with MLOPS_EFORMAT.
 */
#include <math.h>
#include <string.h>

#include "profile_int.h"

#define SUB "drift"
#define MAGIC "MLPF"
#define FORMAT_VERSION 1u
#define HEADER_BYTES 24
#define HASH_SEED UINT64_C(0x6d6c6f70732d7066)
#define MAX_PAYLOAD ((size_t)1 << 32)

/* ---- writing ---- */

static void put_u32(mlops__buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    mlops__buf_append(b, x, 4);
}

static void put_u64(mlops__buf *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

static void put_f64(mlops__buf *b, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    put_u64(b, bits);
}

static void write_column(mlops__buf *b, const mlops_profile *p, const mlops__pcol *c)
{
    uint32_t i, h;
    put_u32(b, (uint32_t)strlen(c->name));
    mlops__buf_append(b, c->name, strlen(c->name));
    put_u32(b, (uint32_t)c->kind);
    put_u64(b, c->rows);
    put_u64(b, c->count);
    put_u64(b, c->nulls);
    put_u64(b, c->nans);
    put_u64(b, c->infs);
    put_f64(b, c->min);
    put_f64(b, c->max);
    put_f64(b, c->mean);
    put_f64(b, c->m2);
    put_u32(b, c->small_n);
    for (i = 0; c->small_n != MLOPS__SMALL_OFF && i < c->small_n; i++) {
        put_f64(b, c->small_val[i]);
        put_u64(b, c->small_cnt[i]);
    }
    put_u32(b, c->nedges);
    for (i = 0; i < c->nedges; i++)
        put_f64(b, c->edges[i]);
    for (i = 0; i + 1 < c->nedges; i++)
        put_u64(b, c->hist[i]);
    if (c->has_kll) {
        put_u64(b, c->kll.n);
        put_u64(b, c->kll.compacted_weight);
        put_u64(b, c->kll.rng);
        put_u32(b, c->kll.levels);
        for (h = 0; h < c->kll.levels; h++) {
            put_u32(b, c->kll.size[h]);
            for (i = 0; i < c->kll.size[h]; i++)
                put_f64(b, c->kll.items[h][i]);
        }
    }
    if (c->hll)
        mlops__buf_append(b, c->hll, (size_t)1 << p->hll_bits);
    if (c->has_freq) {
        put_u64(b, c->freq.n);
        put_u64(b, c->freq.kept);
        put_u32(b, c->freq.len);
        for (i = 0; i < c->freq.len; i++) {
            put_u32(b, c->freq.key_len[i]);
            mlops__buf_append(b, c->freq.key[i], c->freq.key_len[i]);
            put_u64(b, c->freq.count[i]);
        }
    }
}

int mlops_profile_serialize(void **out, size_t *len_out, const mlops_profile *profile)
{
    mlops__buf payload, whole;
    void *packed = NULL;
    size_t packed_len = 0, i;
    uint8_t header[HEADER_BYTES];
    int rc;
    if (!out)
        return mlops__error_null(SUB, "mlops_profile_serialize", "out");
    *out = NULL;
    if (!len_out)
        return mlops__error_null(SUB, "mlops_profile_serialize", "len_out");
    if (!profile)
        return mlops__error_null(SUB, "mlops_profile_serialize", "profile");
    mlops__buf_init(&payload);
    mlops__buf_init(&whole);
    put_u32(&payload, profile->quantile_k);
    put_u32(&payload, profile->category_cap);
    put_u32(&payload, profile->hll_bits);
    put_u32(&payload, (uint32_t)profile->quantiles);
    put_u32(&payload, (uint32_t)profile->distinct);
    put_u64(&payload, profile->seed);
    put_u32(&payload, (uint32_t)profile->ncols);
    for (i = 0; i < profile->ncols; i++)
        write_column(&payload, profile, &profile->cols[i]);
    if ((rc = mlops__buf_status(&payload, SUB)))
        goto out_free;
    if ((rc = mlops__zstd_compress(&packed, &packed_len, payload.data, payload.len, 3, SUB)))
        goto out_free;
    {
        mlops__buf hb;
        uint64_t hash = mlops__hash64(payload.data, payload.len, HASH_SEED);
        mlops__buf_init(&hb);
        mlops__buf_append(&hb, MAGIC, 4);
        put_u32(&hb, FORMAT_VERSION);
        put_u64(&hb, (uint64_t)payload.len);
        put_u64(&hb, hash);
        if ((rc = mlops__buf_status(&hb, SUB))) {
            mlops__buf_free(&hb);
            goto out_free;
        }
        memcpy(header, hb.data, HEADER_BYTES);
        mlops__buf_free(&hb);
    }
    mlops__buf_append(&whole, header, HEADER_BYTES);
    mlops__buf_append(&whole, packed, packed_len);
    if ((rc = mlops__buf_status(&whole, SUB)))
        goto out_free;
    *out = mlops__buf_detach(&whole, len_out);
out_free:
    mlops__free(packed);
    mlops__buf_free(&payload);
    mlops__buf_free(&whole);
    return rc;
}

/* ---- reading ---- */

typedef struct reader {
    const uint8_t *p;
    size_t len, off;
    int short_read;
} reader;

static int need(reader *r, size_t n)
{
    if (r->short_read || r->len - r->off < n) {
        r->short_read = 1;
        return 0;
    }
    return 1;
}

static uint32_t get_u32(reader *r)
{
    const uint8_t *x;
    if (!need(r, 4))
        return 0;
    x = r->p + r->off;
    r->off += 4;
    return (uint32_t)x[0] | ((uint32_t)x[1] << 8) | ((uint32_t)x[2] << 16) | ((uint32_t)x[3] << 24);
}

static uint64_t get_u64(reader *r)
{
    uint64_t lo = get_u32(r);
    return lo | ((uint64_t)get_u32(r) << 32);
}

static double get_f64(reader *r)
{
    uint64_t bits = get_u64(r);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static const uint8_t *get_bytes(reader *r, size_t n)
{
    const uint8_t *x;
    if (!need(r, n))
        return NULL;
    x = r->p + r->off;
    r->off += n;
    return x;
}

#define CORRUPT(...) mlops__error(MLOPS_ECORRUPT, SUB, "profile bytes: " __VA_ARGS__)

/* Column header of pass 1: name, kind and edges (edges copied into `edges`). */
typedef struct col_head {
    char *name;
    int32_t kind;
    uint32_t nedges;
    double *edges;
} col_head;

/*
 * Read one column. Pass 1 (`c` NULL) validates and records the header in
 * `head`; pass 2 fills `c` of the profile built from the headers.
 */
static int read_column(reader *r, const mlops_profile *settings, col_head *head, mlops__pcol *c, size_t index)
{
    uint32_t name_len, kind, small_n, nedges, i, h;
    const uint8_t *name;
    uint64_t rows, count, nulls, nans, infs, sum;
    double mn, mx, mean, m2;
    int rc;
    name_len = get_u32(r);
    if (r->short_read || name_len == 0 || name_len > 65535)
        return CORRUPT("column %zu: bad name length", index);
    name = get_bytes(r, name_len);
    if (!name || memchr(name, 0, name_len))
        return CORRUPT("column %zu: bad name", index);
    kind = get_u32(r);
    if (kind != MLOPS_COLUMN_NUMERIC && kind != MLOPS_COLUMN_CATEGORICAL)
        return CORRUPT("column %zu: unknown kind %u", index, kind);
    rows = get_u64(r);
    count = get_u64(r);
    nulls = get_u64(r);
    nans = get_u64(r);
    infs = get_u64(r);
    mn = get_f64(r);
    mx = get_f64(r);
    mean = get_f64(r);
    m2 = get_f64(r);
    if (r->short_read)
        return CORRUPT("column %zu: truncated", index);
    if (count + nulls + nans + infs != rows || count > rows || (kind == MLOPS_COLUMN_CATEGORICAL && (nans || infs)))
        return CORRUPT("column %zu: counts do not add up to the %llu rows", index, (unsigned long long)rows);
    if (kind == MLOPS_COLUMN_NUMERIC &&
        (count ? !(isfinite(mn) && isfinite(mx) && mn <= mx && isfinite(mean) && isfinite(m2) && m2 >= 0)
               : !(mn == INFINITY && mx == -INFINITY)))
        return CORRUPT("column %zu: inconsistent min, max or moments", index);
    small_n = get_u32(r);
    if (small_n != MLOPS__SMALL_OFF && (small_n > MLOPS__SMALL_DOMAIN || kind != MLOPS_COLUMN_NUMERIC))
        return CORRUPT("column %zu: bad small-domain table", index);
    sum = 0;
    for (i = 0; small_n != MLOPS__SMALL_OFF && i < small_n; i++) {
        double v = get_f64(r);
        uint64_t n = get_u64(r);
        sum += n;
        if (c) {
            c->small_val[i] = v;
            c->small_cnt[i] = n;
        }
    }
    if (small_n != MLOPS__SMALL_OFF && sum != count)
        return CORRUPT("column %zu: small-domain counts do not add up", index);
    nedges = get_u32(r);
    if (r->short_read || nedges == 1 || (nedges && kind != MLOPS_COLUMN_NUMERIC) || nedges > 1000001 ||
        (size_t)nedges * 16 > r->len - r->off + 8)
        return CORRUPT("column %zu: bad histogram", index);
    if (!c) {
        head->name = mlops__strndup((const char *)name, name_len);
        head->kind = (int32_t)kind;
        head->nedges = nedges;
        head->edges = mlops__malloc(sizeof(double) * (nedges ? nedges : 1));
        if (!head->name || !head->edges)
            return mlops__error(MLOPS_ENOMEM, SUB, "profile: out of memory");
    }
    for (i = 0; i < nedges; i++) {
        double e = get_f64(r);
        if (!isfinite(e) || (i && e < (c ? c->edges[i - 1] : head->edges[i - 1])))
            return CORRUPT("column %zu: histogram edges not ascending", index);
        if (!c)
            head->edges[i] = e;
    }
    for (i = 0, sum = 0; i + 1 < nedges; i++) {
        uint64_t n = get_u64(r);
        sum += n;
        if (c)
            c->hist[i] = n;
    }
    if (nedges && sum != count)
        return CORRUPT("column %zu: histogram counts do not add up", index);
    if (c) {
        c->rows = rows;
        c->count = count;
        c->nulls = nulls;
        c->nans = nans;
        c->infs = infs;
        c->min = mn;
        c->max = mx;
        c->mean = mean;
        c->m2 = m2;
        c->small_n = small_n;
    }
    if (kind == MLOPS_COLUMN_NUMERIC && settings->quantiles) {
        uint64_t n = get_u64(r), compacted = get_u64(r), rng = get_u64(r), weight = 0;
        uint32_t levels = get_u32(r);
        if (r->short_read || levels == 0 || levels > MLOPS__KLL_MAX_LEVELS || n != count || compacted > n)
            return CORRUPT("column %zu: bad quantile sketch header", index);
        if (c && (rc = mlops__kll_set_levels(&c->kll, levels)))
            return rc;
        for (h = 0; h < levels; h++) {
            uint32_t size = get_u32(r);
            if (r->short_read || size > settings->quantile_k)
                return CORRUPT("column %zu: quantile level %u too large", index, h);
            for (i = 0; i < size; i++) {
                double v = get_f64(r);
                if (!isfinite(v))
                    return CORRUPT("column %zu: quantile item not finite", index);
                if (c)
                    c->kll.items[h][i] = v;
            }
            if (c)
                c->kll.size[h] = size;
            weight += (uint64_t)size << h;
        }
        if (weight != n)
            return CORRUPT("column %zu: quantile weights do not add up to %llu", index, (unsigned long long)n);
        if (c) {
            c->kll.n = n;
            c->kll.compacted_weight = compacted;
            c->kll.rng = rng;
        }
    }
    if (settings->distinct) {
        size_t m = (size_t)1 << settings->hll_bits;
        const uint8_t *reg = get_bytes(r, m);
        if (!reg)
            return CORRUPT("column %zu: truncated distinct-count registers", index);
        for (i = 0; i < m; i++)
            if (reg[i] > 64 - settings->hll_bits + 1)
                return CORRUPT("column %zu: distinct-count register out of range", index);
        if (c)
            memcpy(c->hll, reg, m);
    }
    if (kind == MLOPS_COLUMN_CATEGORICAL) {
        uint64_t n = get_u64(r), kept = get_u64(r);
        uint32_t len = get_u32(r);
        if (r->short_read || n != count || kept > n || len > settings->category_cap)
            return CORRUPT("column %zu: bad category counters", index);
        for (i = 0, sum = 0; i < len; i++) {
            uint32_t klen = get_u32(r);
            const uint8_t *key = get_bytes(r, klen);
            uint64_t cnt = get_u64(r);
            if (!key || r->short_read || memchr(key, 0, klen) || cnt == 0)
                return CORRUPT("column %zu: bad category %u", index, i);
            sum += cnt;
            if (c && mlops__freq_put(&c->freq, (const char *)key, klen, cnt) != MLOPS_OK)
                return mlops__error_prefix("profile bytes: column %zu", index);
        }
        if (sum != kept)
            return CORRUPT("column %zu: category counters do not add up", index);
        if (c) {
            c->freq.n = n;
            c->freq.kept = kept;
        }
    }
    return r->short_read ? CORRUPT("column %zu: truncated", index) : MLOPS_OK;
}

int mlops_profile_deserialize(mlops_profile **out, const void *data, size_t len)
{
    const uint8_t *bytes = data;
    reader hr = {0}, r = {0};
    uint64_t payload_len, hash;
    void *payload = NULL;
    size_t payload_size = 0, ncols = 0, i;
    mlops_profile settings, *p = NULL;
    col_head *heads = NULL;
    mlops__pcol_spec *specs = NULL;
    int rc;
    if (!out)
        return mlops__error_null(SUB, "mlops_profile_deserialize", "out");
    *out = NULL;
    if (!data)
        return mlops__error_null(SUB, "mlops_profile_deserialize", "data");
    if (len < 4 || memcmp(bytes, MAGIC, 4) != 0)
        return mlops__error(MLOPS_EFORMAT, SUB, "profile bytes: not a serialized profile (bad magic)");
    if (len < HEADER_BYTES)
        return CORRUPT("truncated header (%zu bytes)", len);
    hr.p = bytes;
    hr.len = HEADER_BYTES;
    hr.off = 4;
    if (get_u32(&hr) != FORMAT_VERSION)
        return mlops__error(MLOPS_EFORMAT, SUB, "profile bytes: format version %u is not supported (expected %u)",
                            (unsigned)(bytes[4] | bytes[5] << 8), FORMAT_VERSION);
    payload_len = get_u64(&hr);
    hash = get_u64(&hr);
    if (payload_len > MAX_PAYLOAD)
        return CORRUPT("payload length %llu too large", (unsigned long long)payload_len);
    if ((rc = mlops__zstd_decompress(&payload, &payload_size, bytes + HEADER_BYTES, len - HEADER_BYTES,
                                     (size_t)payload_len, SUB))) {
        if (rc == MLOPS_ENOMEM)
            return rc;
        return mlops__error(MLOPS_ECORRUPT, SUB, "profile bytes: compressed payload damaged (%s)",
                            mlops_error_last()->message);
    }
    if (payload_size != payload_len || mlops__hash64(payload, payload_size, HASH_SEED) != hash) {
        rc = CORRUPT("payload does not match its length or hash");
        goto out_free;
    }
    r.p = payload;
    r.len = payload_size;
    memset(&settings, 0, sizeof settings);
    settings.quantile_k = get_u32(&r);
    settings.category_cap = get_u32(&r);
    settings.hll_bits = get_u32(&r);
    settings.quantiles = (int32_t)get_u32(&r);
    settings.distinct = (int32_t)get_u32(&r);
    settings.seed = get_u64(&r);
    ncols = get_u32(&r);
    if (r.short_read || settings.quantile_k < 8 || settings.quantile_k > 65535 || settings.category_cap < 1 ||
        settings.category_cap > 1048576 || settings.hll_bits < 4 || settings.hll_bits > 18 ||
        (uint32_t)settings.quantiles > 1 || (uint32_t)settings.distinct > 1 || ncols == 0 || ncols > r.len) {
        rc = CORRUPT("bad settings");
        goto out_free;
    }
    heads = mlops__calloc(ncols, sizeof *heads);
    specs = mlops__calloc(ncols, sizeof *specs);
    if (!heads || !specs) {
        rc = mlops__error(MLOPS_ENOMEM, SUB, "profile: out of memory");
        goto out_free;
    }
    for (i = 0; i < ncols; i++) {
        if ((rc = read_column(&r, &settings, &heads[i], NULL, i)))
            goto out_free;
        specs[i].name = heads[i].name;
        specs[i].kind = heads[i].kind;
        specs[i].edges = heads[i].edges;
        specs[i].nedges = heads[i].nedges;
    }
    if (r.off != r.len) {
        rc = CORRUPT("%zu unexpected bytes after the last column", r.len - r.off);
        goto out_free;
    }
    if ((rc = mlops__profile_build(&p, settings.quantile_k, settings.category_cap, settings.hll_bits,
                                   settings.quantiles, settings.distinct, settings.seed, specs, ncols))) {
        if (rc == MLOPS_EINVAL)
            rc = mlops__error(MLOPS_ECORRUPT, SUB, "profile bytes: %s", mlops_error_last()->message);
        goto out_free;
    }
    r.off = 0;
    r.short_read = 0;
    r.off = 4 * 5 + 8 + 4;
    for (i = 0; i < ncols; i++)
        if ((rc = read_column(&r, &settings, &heads[i], &p->cols[i], i)))
            goto out_free;
    *out = p;
    p = NULL;
out_free:
    mlops_profile_free(p);
    if (heads)
        for (i = 0; i < ncols; i++) {
            mlops__free(heads[i].name);
            mlops__free(heads[i].edges);
        }
    mlops__free(heads);
    mlops__free(specs);
    mlops__free(payload);
    return rc;
}
