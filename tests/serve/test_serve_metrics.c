/*
 * Metrics exposition: the Prometheus text is checked by a small parser of
 * the text format (metric and label names, label escapes, HELP/TYPE before
 * and once per family, samples of a family together, histogram buckets
 * cumulative in increasing le with +Inf equal to _count and a _sum), its
 * numbers agree with the JSON document, and counters are exact under
 * concurrent calls.
 */
#include <ctype.h>
#include <pthread.h>
#include <setjmp.h>

#include "serve_fixture.h"

#define MODEL "risk \"v\"\\x"

typedef struct family {
    char name[128];
    char type[16];
    int help, typed, closed;
} family;

typedef struct hist_series {
    char family[128];
    char labels[512]; /* without le */
    double last_le, last_count, inf_count, count, sum;
    int has_inf, has_count, has_sum;
} hist_series;

typedef struct parser {
    family families[64];
    size_t n_families;
    int current; /* index of the family whose samples are being read, -1 none */
    hist_series hist[64];
    size_t n_hist;
    size_t samples;
    double requests_total; /* sum of mlops_serve_requests_total */
    char error[1536];      /* the first violation (room for a whole line) */
    jmp_buf fail;
} parser;

/* Record the first violation and leave the parse. */
#define REFUSE(ps, ...)                                                  \
    do {                                                                \
        snprintf((ps)->error, sizeof (ps)->error, __VA_ARGS__);          \
        longjmp((ps)->fail, 1);                                         \
    } while (0)

static int name_start(int c) { return isalpha(c) || c == '_' || c == ':'; }
static int name_char(int c) { return isalnum(c) || c == '_' || c == ':'; }

static const char *parse_name(parser *ps, char *out, size_t cap, const char *p, int metric)
{
    size_t n = 0;
    if (!name_start((unsigned char)*p) || (!metric && *p == ':'))
        REFUSE(ps, "bad name at \"%.30s\"", p);
    while (name_char((unsigned char)*p) && (metric || *p != ':')) {
        assert_true(n + 1 < cap);
        out[n++] = *p++;
    }
    out[n] = '\0';
    return p;
}

static double parse_value(parser *ps, const char *text)
{
    char *end;
    double v;
    if (strcmp(text, "+Inf") == 0)
        return INFINITY;
    if (strcmp(text, "-Inf") == 0)
        return -INFINITY;
    if (strcmp(text, "NaN") == 0)
        return NAN;
    v = strtod(text, &end);
    if (end == text || *end != '\0' || isnan(v) || isinf(v))
        REFUSE(ps, "bad sample value \"%s\"", text);
    return v;
}

static family *find_family(parser *ps, const char *name)
{
    size_t i;
    for (i = 0; i < ps->n_families; i++)
        if (strcmp(ps->families[i].name, name) == 0)
            return &ps->families[i];
    return NULL;
}

static family *declare(parser *ps, const char *name)
{
    family *f = find_family(ps, name);
    if (f == NULL) {
        assert_true(ps->n_families < 64);
        f = &ps->families[ps->n_families++];
        memset(f, 0, sizeof *f);
        snprintf(f->name, sizeof f->name, "%s", name);
    }
    if (f->closed)
        REFUSE(ps, "family %s declared again after its samples", name);
    return f;
}

static void comment_line(parser *ps, const char *line)
{
    char name[128], kind[8];
    const char *p;
    family *f;
    if (strncmp(line, "# HELP ", 7) != 0 && strncmp(line, "# TYPE ", 7) != 0)
        return; /* other comments are allowed */
    memcpy(kind, line + 2, 4);
    kind[4] = '\0';
    p = parse_name(ps, name, sizeof name, line + 7, 1);
    if (*p != ' ')
        REFUSE(ps, "no text after the name in \"%s\"", line);
    f = declare(ps, name);
    if (ps->current >= 0 && &ps->families[ps->current] != f)
        ps->families[ps->current].closed = 1;
    ps->current = (int)(f - ps->families);
    if (strcmp(kind, "HELP") == 0) {
        if (f->help++)
            REFUSE(ps, "second HELP for %s", name);
    } else {
        if (f->typed++)
            REFUSE(ps, "second TYPE for %s", name);
        snprintf(f->type, sizeof f->type, "%s", p + 1);
        if (strcmp(f->type, "counter") && strcmp(f->type, "gauge") && strcmp(f->type, "histogram") &&
            strcmp(f->type, "summary") && strcmp(f->type, "untyped"))
            REFUSE(ps, "unknown type \"%s\"", f->type);
    }
}

/* Strip a histogram suffix when `name` belongs to histogram family `fam`. */
static const char *suffix_of(const char *name, const family *fam)
{
    size_t n = strlen(fam->name);
    if (strncmp(name, fam->name, n) != 0)
        return NULL;
    return name + n;
}

static hist_series *hist_get(parser *ps, const char *fam, const char *labels)
{
    size_t i;
    for (i = 0; i < ps->n_hist; i++)
        if (strcmp(ps->hist[i].family, fam) == 0 && strcmp(ps->hist[i].labels, labels) == 0)
            return &ps->hist[i];
    assert_true(ps->n_hist < 64);
    memset(&ps->hist[ps->n_hist], 0, sizeof ps->hist[0]);
    strcpy(ps->hist[ps->n_hist].family, fam); /* fam is a family name, shorter than the field */
    snprintf(ps->hist[ps->n_hist].labels, sizeof ps->hist[0].labels, "%s", labels);
    ps->hist[ps->n_hist].last_le = -INFINITY;
    return &ps->hist[ps->n_hist++];
}

static void sample_line(parser *ps, const char *line)
{
    char name[128], label[128], labels[512] = "", le[256] = "", value[64];
    const char *p = parse_name(ps, name, sizeof name, line, 1), *suffix;
    family *f;
    double v;
    size_t used = 0;
    if (*p == '{') {
        p++;
        while (*p != '}') {
            char text[256];
            size_t n = 0;
            p = parse_name(ps, label, sizeof label, p, 0);
            if (p[0] != '=' || p[1] != '"')
                REFUSE(ps, "label %s without =\" in \"%s\"", label, line);
            p += 2;
            while (*p != '"') {
                if (*p == '\0' || *p == '\n')
                    REFUSE(ps, "unterminated label value in \"%s\"", line);
                if (*p == '\\') {
                    if (p[1] != '\\' && p[1] != '"' && p[1] != 'n')
                        REFUSE(ps, "bad escape in \"%s\"", line);
                    text[n++] = p[1] == 'n' ? '\n' : p[1];
                    p += 2;
                } else {
                    text[n++] = *p++;
                }
                assert_true(n < sizeof text);
            }
            text[n] = '\0';
            p++;
            if (strcmp(label, "le") == 0)
                snprintf(le, sizeof le, "%s", text);
            else
                used += (size_t)snprintf(labels + used, sizeof labels - used, "%s=%s;", label, text);
            if (*p == ',')
                p++;
            else if (*p != '}')
                REFUSE(ps, "expected , or } in \"%s\"", line);
        }
        p++;
    }
    if (*p != ' ')
        REFUSE(ps, "no value in \"%s\"", line);
    snprintf(value, sizeof value, "%s", p + 1);
    v = parse_value(ps, value);
    ps->samples++;
    if (ps->current < 0)
        REFUSE(ps, "sample %s before any TYPE", name);
    f = &ps->families[ps->current];
    suffix = suffix_of(name, f);
    if (strcmp(f->type, "histogram") == 0) {
        hist_series *h;
        if (suffix == NULL || (strcmp(suffix, "_bucket") && strcmp(suffix, "_sum") && strcmp(suffix, "_count")))
            REFUSE(ps, "sample %s inside histogram %s", name, f->name);
        h = hist_get(ps, f->name, labels);
        if (strcmp(suffix, "_bucket") == 0) {
            double bound;
            if (le[0] == '\0')
                REFUSE(ps, "bucket without le: %s", line);
            bound = parse_value(ps, le);
            if (!(bound > h->last_le) || v < h->last_count)
                REFUSE(ps, "buckets not increasing / cumulative at %s", line);
            h->last_le = bound;
            h->last_count = v;
            if (isinf(bound)) {
                h->has_inf = 1;
                h->inf_count = v;
            }
        } else if (strcmp(suffix, "_sum") == 0) {
            h->has_sum = 1;
            h->sum = v;
        } else {
            h->has_count = 1;
            h->count = v;
        }
    } else {
        if (suffix == NULL || *suffix != '\0')
            REFUSE(ps, "sample %s outside its family %s", name, f->name);
        if (le[0] != '\0')
            REFUSE(ps, "le label outside a histogram: %s", line);
        if (strcmp(f->type, "counter") == 0 && !(v >= 0))
            REFUSE(ps, "negative counter: %s", line);
        if (strcmp(name, "mlops_serve_requests_total") == 0)
            ps->requests_total += v;
    }
}

static void parse_lines(parser *ps, const char *text)
{
    char line[1024];
    const char *p = text;
    size_t i;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n;
        if (nl == NULL)
            REFUSE(ps, "the text does not end with a newline");
        n = (size_t)(nl - p);
        assert_true(n < sizeof line);
        memcpy(line, p, n);
        line[n] = '\0';
        if (line[0] == '#')
            comment_line(ps, line);
        else if (line[0] != '\0')
            sample_line(ps, line);
        p = nl + 1;
    }
    for (i = 0; i < ps->n_families; i++)
        if (!ps->families[i].typed || !ps->families[i].help)
            REFUSE(ps, "family %s lacks TYPE or HELP", ps->families[i].name);
    for (i = 0; i < ps->n_hist; i++) {
        hist_series *h = &ps->hist[i];
        if (!h->has_inf || !h->has_count || !h->has_sum)
            REFUSE(ps, "histogram %s {%s} lacks +Inf, _count or _sum", h->family, h->labels);
        if (h->inf_count != h->count)
            REFUSE(ps, "histogram %s: +Inf %g != _count %g", h->family, h->inf_count, h->count);
    }
}

/* Parse the whole exposition: 0, or -1 with the first violation in ps->error. */
static int parse_exposition(parser *ps, const char *text)
{
    memset(ps, 0, sizeof *ps);
    ps->current = -1;
    if (setjmp(ps->fail))
        return -1;
    parse_lines(ps, text);
    return 0;
}

static void assert_valid(parser *ps, const char *text)
{
    if (parse_exposition(ps, text) != 0)
        fail_msg("invalid exposition: %s", ps->error);
}

typedef struct load {
    mlops_router *router;
    int id;
} load;

static void *hammer(void *arg)
{
    load *l = arg;
    float x[SF_IN], y[SF_OUT];
    char key[32];
    int i;
    for (i = 0; i < 5000; i++) {
        sf_normals(x, SF_IN, (uint64_t)(l->id * 100000 + i), 0.0);
        snprintf(key, sizeof key, "%d/%d", l->id, i);
        assert_int_equal(mlops_router_run(NULL, l->router, key, x, 1, y, SF_OUT), MLOPS_OK);
    }
    return NULL;
}

static void test_prometheus_text_is_valid_and_counts_are_exact(void **state)
{
    mlops_db *db = sf_open("metrics.db");
    mlops_router *router = NULL;
    pthread_t threads[3];
    load loads[3];
    int64_t v1, v2;
    size_t len;
    uint8_t *bytes;
    char *text = NULL, *empty = NULL;
    parser *ps = calloc(1, sizeof *ps);
    cJSON *m, *s;
    int i;
    (void)state;
    assert_non_null(ps);
    assert_int_equal(mlops_model_create(db, MODEL, NULL, NULL), MLOPS_OK);
    bytes = sf_random_model(&len, 1);
    v1 = sf_register(db, MODEL, bytes, len);
    bytes = sf_random_model(&len, 2);
    v2 = sf_register(db, MODEL, bytes, len);
    assert_int_equal(mlops_alias_set(db, MODEL, "production", v1), MLOPS_OK);
    assert_int_equal(mlops_alias_set(db, MODEL, "staging", v2), MLOPS_OK);
    assert_int_equal(mlops_router_open(&router, db, MODEL,
                                       "{\"challenger\": \"staging\", \"share\": 0.3, \"reload_interval_ms\": 0, "
                                       "\"drift\": {\"window_ms\": 0}}"),
                     MLOPS_OK);
    assert_int_equal(mlops_router_metrics_prometheus(&empty, router), MLOPS_OK);
    assert_valid(ps, empty);
    assert_true(ps->requests_total == 0);
    mlops_free(empty);
    for (i = 0; i < 3; i++) {
        loads[i].router = router;
        loads[i].id = i;
        assert_int_equal(pthread_create(&threads[i], NULL, hammer, &loads[i]), 0);
    }
    for (i = 0; i < 3; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    assert_int_equal(mlops_router_metrics_prometheus(&text, router), MLOPS_OK);
    assert_valid(ps, text);
    assert_true(ps->requests_total == 15000);
    assert_true(ps->n_hist == 2);
    assert_true(ps->hist[0].count + ps->hist[1].count == 15000);
    assert_non_null(strstr(text, "model=\"risk \\\"v\\\"\\\\x\""));
    assert_non_null(strstr(text, "# TYPE mlops_serve_latency_seconds histogram"));
    m = sf_metrics(router);
    s = sf_series(m, "champion", v1);
    {
        double champion = sf_number(s, "requests", NULL), challenger;
        char needle[160];
        s = sf_series(m, "challenger", v2);
        challenger = sf_number(s, "requests", NULL);
        assert_true(champion + challenger == 15000);
        snprintf(needle, sizeof needle, "mlops_serve_requests_total{model=\"risk \\\"v\\\"\\\\x\",arm=\"challenger\","
                                        "version=\"%lld\"} %.0f\n", (long long)v2, challenger);
        assert_non_null(strstr(text, needle));
        assert_true(sf_number(s, "latency_us", "p50") <= sf_number(s, "latency_us", "p99"));
        assert_true(sf_number(s, "latency_us", "p50") > 0);
    }
    cJSON_Delete(m);
    mlops_free(text);
    free(ps);
    mlops_router_close(router);
    mlops_db_close(db);
}

static void test_exposition_parser_accepts_good_and_refuses_broken_text(void **state)
{
    static const struct { const char *text, *needle; } broken[] = {
        {"a_total 1\n", "before any TYPE"},
        {"# HELP a x\n# TYPE a gauge\na 1\n# HELP b y\n# TYPE b gauge\nb 2\n# TYPE a gauge\n", "declared again"},
        {"# HELP a x\n# TYPE a gauge\n# TYPE a gauge\na 1\n", "second TYPE"},
        {"# HELP a x\n# TYPE a meter\na 1\n", "unknown type"},
        {"# HELP a x\n# TYPE a gauge\nb 1\n", "outside its family"},
        {"# HELP a x\n# TYPE a gauge\na{k=\"v} 1\n", "unterminated"},
        {"# HELP a x\n# TYPE a gauge\na{k=\"\\t\"} 1\n", "bad escape"},
        {"# HELP a x\n# TYPE a gauge\na{1k=\"v\"} 1\n", "bad name"},
        {"# HELP a x\n# TYPE a gauge\na one\n", "bad sample value"},
        {"# HELP a x\n# TYPE a counter\na -1\n", "negative counter"},
        {"# HELP a x\n# TYPE a gauge\na 1", "newline"},
        {"# TYPE a gauge\na 1\n", "lacks TYPE or HELP"},
        {"# HELP h y\n# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\n", "not increasing"},
        {"# HELP h y\n# TYPE h histogram\nh_bucket{le=\"1\"} 3\nh_bucket{le=\"2\"} 2\n", "cumulative"},
        {"# HELP h y\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", "lacks +Inf"},
        {"# HELP h y\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n", "!= _count"},
        {"# HELP h y\n# TYPE h histogram\nh_total 1\n", "inside histogram"},
        {"# HELP h y\n# TYPE h histogram\nh_bucket 1\n", "without le"},
    };
    parser *ps = calloc(1, sizeof *ps);
    size_t i;
    (void)state;
    assert_non_null(ps);
    assert_valid(ps, "# HELP a_total x\n# TYPE a_total counter\na_total{k=\"v\\\"\"} 3\n"
                     "# HELP h y\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
                     "h_sum 3.5\nh_count 2\n");
    assert_int_equal(ps->samples, 5);
    assert_int_equal(ps->n_hist, 1);
    assert_true(ps->hist[0].count == 2);
    for (i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        if (parse_exposition(ps, broken[i].text) == 0)
            fail_msg("broken text %zu accepted", i);
        if (strstr(ps->error, broken[i].needle) == NULL)
            fail_msg("broken text %zu: \"%s\" does not say \"%s\"", i, ps->error, broken[i].needle);
    }
    free(ps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exposition_parser_accepts_good_and_refuses_broken_text),
        cmocka_unit_test(test_prometheus_text_is_valid_and_counts_are_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
