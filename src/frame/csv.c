/*
 * CSV (RFC 4180) to frames and back.
 *
 * Reading is two passes over the text when some column types must be
 * inferred (the first pass only narrows each column's candidate types) and
 * one pass otherwise; either way nothing is kept but the current record.
 * An unquoted empty field is null; a quoted empty field ("") is an empty
 * string. Blank lines are skipped unless the table has a single column,
 * where a blank line is a null.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "frame_int.h"

#define SUB "frame"
#define CSV_MAX_COLUMNS 65536
#define CSV_DEFAULT_MAX_FIELD (1u << 20)
/* Memory of the frame's fixed-size cells: an empty field costs one byte of text but a whole cell. */
#define CSV_DEFAULT_MAX_FRAME ((int64_t)1 << 30)

/* Parse types beyond the frame's: a timestamp is read into INT64. */
#define PARSE_TIMESTAMP 100

/* Candidate bits of type inference. */
#define CAND_BOOL 1u
#define CAND_INT64 2u
#define CAND_FLOAT64 4u
#define CAND_TIMESTAMP 8u

typedef struct csv_field {
    size_t offset;  /* into the record's scratch text, NUL-terminated there */
    size_t len;
    int quoted;
} csv_field;

typedef struct csv_reader {
    const char *data;
    size_t len;
    size_t pos;
    size_t line;         /* line of the next record, 1-based */
    char delimiter;
    size_t max_field;
    /* the current record */
    size_t record_line;
    csv_field *fields;
    size_t field_count;
    size_t field_capacity;
    mlops__buf text;
} csv_reader;

typedef struct csv_options {
    int header;
    char delimiter;
    size_t max_field;
    int64_t max_frame;           /* bytes of cells and null flags the frame may take */
    const mlops__json *schema;   /* borrowed from the options document */
} csv_options;

typedef struct csv_column {
    char *name;
    int32_t parse_type;   /* MLOPS_TYPE_* or PARSE_TIMESTAMP; 0 while inferring */
    uint32_t dim;
    unsigned candidates;
    int seen_value;
} csv_column;

static void reader_init(csv_reader *r, const char *data, size_t len, const csv_options *opts)
{
    memset(r, 0, sizeof *r);
    r->data = data;
    r->len = len;
    r->line = 1;
    r->delimiter = opts->delimiter;
    r->max_field = opts->max_field;
    mlops__buf_init(&r->text);
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        r->pos = 3;
}

static void reader_free(csv_reader *r)
{
    mlops__free(r->fields);
    mlops__buf_free(&r->text);
}

static int push_field(csv_reader *r, size_t offset, int quoted)
{
    void *fields = r->fields;
    size_t len = r->text.len - offset;
    size_t bad;
    if (len > r->max_field)
        return mlops__error(MLOPS_ELIMIT, SUB, "CSV line %zu column %zu: field of %zu bytes exceeds the limit of %zu",
                            r->record_line, r->field_count + 1, len, r->max_field);
    if (len > 0 && !mlops__utf8_valid(r->text.data + offset, len, &bad))
        return mlops__error(MLOPS_EFORMAT, SUB, "CSV line %zu column %zu: invalid UTF-8 at byte %zu of the field",
                            r->record_line, r->field_count + 1, bad);
    if (len > 0 && memchr(r->text.data + offset, '\0', len))
        return mlops__error(MLOPS_EFORMAT, SUB, "CSV line %zu column %zu: NUL byte in a field", r->record_line,
                            r->field_count + 1);
    if (r->field_count >= CSV_MAX_COLUMNS)
        return mlops__error(MLOPS_ELIMIT, SUB, "CSV line %zu: more than %d fields", r->record_line,
                            CSV_MAX_COLUMNS);
    if (mlops__grow(&fields, &r->field_capacity, r->field_count + 1, sizeof(csv_field)))
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory reading CSV line %zu", r->record_line);
    r->fields = fields;
    r->fields[r->field_count].offset = offset;
    r->fields[r->field_count].len = len;
    r->fields[r->field_count].quoted = quoted;
    r->field_count++;
    mlops__buf_putc(&r->text, '\0');
    return mlops__buf_status(&r->text, SUB);
}

/*
 * Read the next record into r->fields. MLOPS_DONE at the end of the input.
 * Blank lines come back as a record of one unquoted empty field.
 */
static int next_record(csv_reader *r)
{
    const char *d = r->data;
    size_t field_start;
    int rc;

    r->field_count = 0;
    r->text.len = 0;
    if (r->pos >= r->len)
        return MLOPS_DONE;
    r->record_line = r->line;
    for (;;) {
        int quoted = 0;
        field_start = r->text.len;
        if (r->pos < r->len && d[r->pos] == '"') {
            size_t open_line = r->line;
            quoted = 1;
            r->pos++;
            for (;;) {
                size_t run = r->pos;
                while (run < r->len && d[run] != '"') {
                    if (d[run] == '\n')
                        r->line++;
                    run++;
                }
                mlops__buf_append(&r->text, d + r->pos, run - r->pos);
                if (run >= r->len)
                    return mlops__error(MLOPS_EFORMAT, SUB,
                                        "CSV line %zu column %zu: unterminated quoted field (the file ends inside it)",
                                        open_line, r->field_count + 1);
                if (run + 1 < r->len && d[run + 1] == '"') {
                    mlops__buf_putc(&r->text, '"');
                    r->pos = run + 2;
                    continue;
                }
                r->pos = run + 1;
                break;
            }
            if (r->pos < r->len && d[r->pos] != r->delimiter && d[r->pos] != '\n' && d[r->pos] != '\r')
                return mlops__error(MLOPS_EFORMAT, SUB,
                                    "CSV line %zu column %zu: unexpected character '%c' after a closing quote",
                                    r->line, r->field_count + 1, d[r->pos]);
        } else {
            size_t run = r->pos;
            while (run < r->len && d[run] != r->delimiter && d[run] != '\n' && d[run] != '\r') {
                if (d[run] == '"')
                    return mlops__error(MLOPS_EFORMAT, SUB,
                                        "CSV line %zu column %zu: quote character inside an unquoted field",
                                        r->line, r->field_count + 1);
                run++;
            }
            mlops__buf_append(&r->text, d + r->pos, run - r->pos);
            r->pos = run;
        }
        if ((rc = push_field(r, field_start, quoted)))
            return rc;
        if (r->pos >= r->len)
            return MLOPS_OK;
        if (d[r->pos] == r->delimiter) {
            r->pos++;
            continue;
        }
        if (d[r->pos] == '\r') {
            r->pos++;
            if (r->pos < r->len && d[r->pos] == '\n')
                r->pos++;
        } else {
            r->pos++;
        }
        r->line++;
        return MLOPS_OK;
    }
}

static const char *field_text(const csv_reader *r, size_t index)
{
    return r->text.data + r->fields[index].offset;
}

static int is_blank_record(const csv_reader *r)
{
    return r->field_count == 1 && r->fields[0].len == 0 && !r->fields[0].quoted;
}

static int parse_int64(int64_t *out, const char *text)
{
    char *end;
    long long v;
    if (!*text || *text == ' ' || *text == '+' || (*text == '-' && !text[1]))
        return -1;
    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno || *end)
        return -1;
    *out = (int64_t)v;
    return 0;
}

static int parse_float64(double *out, const char *text)
{
    char *end;
    double v;
    if (!*text || *text == ' ' || *text == '\t' || strpbrk(text, "xX"))
        return -1;
    errno = 0;
    v = strtod(text, &end);
    if (*end || (errno == ERANGE && isinf(v)))
        return -1;
    *out = v;
    return 0;
}

static int parse_bool(int *out, const char *text)
{
    if (strcasecmp(text, "true") == 0) {
        *out = 1;
        return 0;
    }
    if (strcasecmp(text, "false") == 0) {
        *out = 0;
        return 0;
    }
    return -1;
}

/* "[1, 2.5, -3]" into exactly `dim` floats. */
static int parse_vector(float *out, uint32_t dim, const char *text)
{
    const char *p = text;
    uint32_t k;
    while (*p == ' ')
        p++;
    if (*p++ != '[')
        return -1;
    for (k = 0; k < dim; k++) {
        char *end;
        double v;
        while (*p == ' ')
            p++;
        errno = 0;
        v = strtod(p, &end);
        if (end == p || errno == ERANGE)
            return -1;
        out[k] = (float)v;
        p = end;
        while (*p == ' ')
            p++;
        if (k + 1 < dim && *p++ != ',')
            return -1;
    }
    if (*p++ != ']')
        return -1;
    while (*p == ' ')
        p++;
    return *p ? -1 : 0;
}

static const char *parse_type_name(int32_t parse_type)
{
    return parse_type == PARSE_TIMESTAMP ? "timestamp" : mlops_frame_type_name(parse_type);
}

static void narrow_candidates(csv_column *col, const char *text)
{
    int64_t i;
    double f;
    int b;
    col->seen_value = 1;
    if ((col->candidates & CAND_BOOL) && parse_bool(&b, text))
        col->candidates &= ~CAND_BOOL;
    if ((col->candidates & CAND_INT64) && parse_int64(&i, text))
        col->candidates &= ~CAND_INT64;
    if ((col->candidates & CAND_FLOAT64) && parse_float64(&f, text))
        col->candidates &= ~CAND_FLOAT64;
    if ((col->candidates & CAND_TIMESTAMP) && mlops__time_parse_iso8601(&i, text, strlen(text)))
        col->candidates &= ~CAND_TIMESTAMP;
}

static int32_t inferred_type(const csv_column *col)
{
    if (!col->seen_value)
        return MLOPS_TYPE_FLOAT64;
    if (col->candidates & CAND_BOOL)
        return MLOPS_TYPE_BOOL;
    if (col->candidates & CAND_INT64)
        return MLOPS_TYPE_INT64;
    if (col->candidates & CAND_FLOAT64)
        return MLOPS_TYPE_FLOAT64;
    if (col->candidates & CAND_TIMESTAMP)
        return PARSE_TIMESTAMP;
    return MLOPS_TYPE_STRING;
}

static int parse_options(csv_options *opts, mlops__json **doc_out, const char *options_json, int writing)
{
    static const char *const read_keys[] = {"header", "delimiter", "schema", "max_field_bytes", "max_frame_bytes",
                                            NULL};
    static const char *const write_keys[] = {"header", "delimiter", NULL};
    mlops__json *doc = NULL;
    const char *delimiter = NULL;
    int64_t max_field = CSV_DEFAULT_MAX_FIELD;
    int rc;

    *doc_out = NULL;
    opts->header = 1;
    opts->delimiter = ',';
    opts->max_field = CSV_DEFAULT_MAX_FIELD;
    opts->max_frame = CSV_DEFAULT_MAX_FRAME;
    opts->schema = NULL;
    if (!options_json || !*options_json)
        return MLOPS_OK;
    if ((rc = mlops__json_parse(&doc, options_json, SUB, "CSV options")))
        return rc;
    if ((rc = mlops__json_check_keys(doc, "$", SUB, writing ? write_keys : read_keys)) ||
        (rc = mlops__json_opt_bool(&opts->header, doc, "header", "$", SUB)) ||
        (rc = mlops__json_opt_string(&delimiter, doc, "delimiter", "$", SUB)) ||
        (rc = mlops__json_opt_int(&max_field, doc, "max_field_bytes", "$", SUB, 1, INT32_MAX)) ||
        (rc = mlops__json_opt_int(&opts->max_frame, doc, "max_frame_bytes", "$", SUB, 1, INT64_MAX)))
        goto out_free_doc;
    if (delimiter) {
        if (strlen(delimiter) != 1 || *delimiter == '"' || *delimiter == '\n' || *delimiter == '\r') {
            rc = mlops__error(MLOPS_EFORMAT, SUB, "$.delimiter: must be one character other than a quote or newline");
            goto out_free_doc;
        }
        opts->delimiter = *delimiter;
    }
    opts->max_field = (size_t)max_field;
    opts->schema = mlops__json_get(doc, "schema");
    if (opts->schema && !mlops__json_is_object(opts->schema)) {
        rc = mlops__error(MLOPS_EFORMAT, SUB, "$.schema: expected an object mapping column names to types");
        goto out_free_doc;
    }
    *doc_out = doc;
    return MLOPS_OK;
out_free_doc:
    mlops__json_free(doc);
    return rc;
}

/* Read one schema entry: a type name or {"type": "f32vec", "dim": N}. */
static int schema_type(csv_column *col, const mlops__json *entry)
{
    static const char *const keys[] = {"type", "dim", NULL};
    static const struct { const char *name; int32_t type; } names[] = {
        {"int64", MLOPS_TYPE_INT64}, {"float64", MLOPS_TYPE_FLOAT64}, {"bool", MLOPS_TYPE_BOOL},
        {"string", MLOPS_TYPE_STRING}, {"timestamp", PARSE_TIMESTAMP}, {"f32vec", MLOPS_TYPE_F32VEC},
    };
    char path[300];
    const char *name = mlops__json_string(entry);
    int64_t dim = 0;
    size_t i;
    int rc;

    snprintf(path, sizeof path, "$.schema.%s", col->name);
    if (mlops__json_is_object(entry)) {
        if ((rc = mlops__json_check_keys(entry, path, SUB, keys)) ||
            (rc = mlops__json_opt_string(&name, entry, "type", path, SUB)) ||
            (rc = mlops__json_opt_int(&dim, entry, "dim", path, SUB, 1, 1048576)))
            return rc;
    }
    if (!name)
        return mlops__error(MLOPS_EFORMAT, SUB, "%s: expected a type name or {\"type\": ..., \"dim\": ...}", path);
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(names[i].name, name) == 0)
            break;
    }
    if (i == sizeof names / sizeof names[0])
        return mlops__error(MLOPS_EFORMAT, SUB,
                            "%s: unknown type \"%s\" (int64, float64, bool, string, timestamp, f32vec)", path, name);
    if ((names[i].type == MLOPS_TYPE_F32VEC) != (dim > 0))
        return mlops__error(MLOPS_EFORMAT, SUB, "%s: \"dim\" goes with type f32vec, and f32vec needs it", path);
    col->parse_type = names[i].type;
    col->dim = names[i].type == MLOPS_TYPE_F32VEC ? (uint32_t)dim : 1;
    return MLOPS_OK;
}

static void columns_free(csv_column *cols, size_t count)
{
    size_t i;
    for (i = 0; cols && i < count; i++)
        mlops__free(cols[i].name);
    mlops__free(cols);
}

/* Order of column pointers by name, then by position, for finding duplicates and schema entries. */
static int by_name_then_position(const void *a, const void *b)
{
    const csv_column *x = *(const csv_column *const *)a, *y = *(const csv_column *const *)b;
    int order = strcmp(x->name, y->name);
    return order ? order : (x < y ? -1 : x > y);
}

/* The column called `name` in `sorted` (by name), or NULL. */
static csv_column *find_column(csv_column *const *sorted, size_t count, const char *name)
{
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int order = strcmp(sorted[mid]->name, name);
        if (order == 0)
            return sorted[mid];
        if (order < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/*
 * Refuse duplicate names, reporting the leftmost column whose name appeared
 * before it, in O(n log n): a header may have 65536 columns.
 */
static int check_duplicates(csv_column *const *sorted, size_t count, const csv_column *cols, const csv_reader *r)
{
    const csv_column *first_dup = NULL;
    size_t run_start = 0, i;
    for (i = 1; i < count; i++) {
        if (strcmp(sorted[run_start]->name, sorted[i]->name) != 0)
            run_start = i;
        else if (i == run_start + 1 && (!first_dup || sorted[i] < first_dup))
            first_dup = sorted[i];  /* the second of a run of equal names is that name's first repeat */
    }
    if (!first_dup)
        return MLOPS_OK;
    return mlops__error(MLOPS_EFORMAT, SUB, "CSV line %zu column %zu: duplicate column name \"%s\"", r->record_line,
                        (size_t)(first_dup - cols) + 1, first_dup->name);
}

/* Names from the header (or generated), and types from the schema. */
static int columns_from_header(csv_column **out, size_t *count_out, csv_reader *r, const csv_options *opts)
{
    csv_column *cols;
    csv_column **sorted;
    const mlops__json *member;
    size_t i, count = r->field_count;
    int rc = MLOPS_OK;

    *out = NULL;
    *count_out = 0;
    cols = mlops__calloc(count, sizeof *cols);
    sorted = mlops__calloc(count, sizeof(csv_column *));
    if (!cols || !sorted) {
        rc = mlops__error(MLOPS_ENOMEM, SUB, "out of memory reading the CSV header");
        goto out_free;
    }
    for (i = 0; i < count && rc == MLOPS_OK; i++) {
        char generated[32];
        snprintf(generated, sizeof generated, "column_%zu", i + 1);
        cols[i].name = mlops__strdup(opts->header ? field_text(r, i) : generated);
        cols[i].candidates = CAND_BOOL | CAND_INT64 | CAND_FLOAT64 | CAND_TIMESTAMP;
        sorted[i] = &cols[i];
        if (!cols[i].name)
            rc = mlops__error(MLOPS_ENOMEM, SUB, "out of memory reading the CSV header");
        else if (!*cols[i].name)
            rc = mlops__error(MLOPS_EFORMAT, SUB, "CSV line %zu column %zu: empty column name", r->record_line, i + 1);
    }
    if (rc == MLOPS_OK) {
        qsort(sorted, count, sizeof(csv_column *), by_name_then_position);
        rc = check_duplicates(sorted, count, cols, r);
    }
    for (member = mlops__json_first(opts->schema); member && rc == MLOPS_OK; member = mlops__json_next(member)) {
        csv_column *col = find_column(sorted, count, mlops__json_key(member));
        if (!col)
            rc = mlops__error(MLOPS_EFORMAT, SUB, "$.schema.%s: the CSV has no such column", mlops__json_key(member));
        else
            rc = schema_type(col, member);
    }
out_free:
    mlops__free(sorted);
    if (rc) {
        columns_free(cols, count);
        return rc;
    }
    *out = cols;
    *count_out = count;
    return MLOPS_OK;
}

/*
 * Refuse a frame whose cells would take more than the limit: a null vector of
 * dimension N costs 4N bytes for one byte of text, so the input's size alone
 * does not bound the memory.
 */
static int check_frame_size(const mlops_frame *frame, size_t rows, const csv_options *opts)
{
    uint64_t row_bytes = 0;
    size_t i;
    for (i = 0; i < frame->column_count; i++)
        row_bytes += mlops__frame_cell_size(frame->columns[i].type, frame->columns[i].dim) + 1;
    if (row_bytes > 0 && (uint64_t)rows > (uint64_t)opts->max_frame / row_bytes)
        return mlops__error(MLOPS_ELIMIT, SUB,
                            "CSV of %zu rows x %llu bytes per row exceeds the frame limit of %lld bytes "
                            "(\"max_frame_bytes\")", rows, (unsigned long long)row_bytes, (long long)opts->max_frame);
    return MLOPS_OK;
}

static int ragged(const csv_reader *r, size_t expected)
{
    return mlops__error(MLOPS_EFORMAT, SUB, "CSV line %zu: %zu fields, expected %zu", r->record_line, r->field_count,
                        expected);
}

/* Convert field `i` of the current record into cell (row, i) of the frame. */
static int store_cell(mlops_frame *frame, const csv_column *cols, csv_reader *r, size_t i, size_t row)
{
    frame_column *col = &frame->columns[i];
    const char *text = field_text(r, i);
    const csv_field *field = &r->fields[i];
    int64_t iv;
    double dv;
    int bv;

    if (field->len == 0 && !(field->quoted && col->type == MLOPS_TYPE_STRING)) {
        col->nulls[row] = 1;
        switch (col->type) {
        case MLOPS_TYPE_INT64: ((int64_t *)col->values)[row] = 0; break;
        case MLOPS_TYPE_FLOAT64: ((double *)col->values)[row] = NAN; break;
        case MLOPS_TYPE_BOOL: ((uint8_t *)col->values)[row] = 0; break;
        case MLOPS_TYPE_STRING: ((char **)col->values)[row] = NULL; break;
        default: {
            uint32_t k;
            for (k = 0; k < col->dim; k++)
                ((float *)col->values)[row * col->dim + k] = NAN;
        }
        }
        return MLOPS_OK;
    }
    col->nulls[row] = 0;
    switch (cols[i].parse_type) {
    case MLOPS_TYPE_INT64:
        if (parse_int64(&iv, text))
            goto bad_value;
        ((int64_t *)col->values)[row] = iv;
        return MLOPS_OK;
    case PARSE_TIMESTAMP:
        if (parse_int64(&iv, text) && mlops__time_parse_iso8601(&iv, text, field->len))
            goto bad_value;
        ((int64_t *)col->values)[row] = iv;
        return MLOPS_OK;
    case MLOPS_TYPE_FLOAT64:
        if (parse_float64(&dv, text))
            goto bad_value;
        ((double *)col->values)[row] = dv;
        return MLOPS_OK;
    case MLOPS_TYPE_BOOL:
        if (parse_bool(&bv, text))
            goto bad_value;
        ((uint8_t *)col->values)[row] = (uint8_t)bv;
        return MLOPS_OK;
    case MLOPS_TYPE_F32VEC:
        if (parse_vector((float *)col->values + row * col->dim, col->dim, text))
            goto bad_value;
        return MLOPS_OK;
    default:
        ((char **)col->values)[row] = mlops__strndup(text, field->len);
        if (!((char **)col->values)[row]) {
            col->nulls[row] = 1;
            return mlops__error(MLOPS_ENOMEM, SUB, "out of memory reading CSV line %zu", r->record_line);
        }
        return MLOPS_OK;
    }
bad_value:
    col->nulls[row] = 1;
    if (col->type == MLOPS_TYPE_STRING)
        ((char **)col->values)[row] = NULL;
    return mlops__error(MLOPS_EFORMAT, SUB, "CSV line %zu column %zu (\"%s\"): \"%.60s\" is not a valid %s%s",
                        r->record_line, i + 1, cols[i].name, text, parse_type_name(cols[i].parse_type),
                        cols[i].parse_type == MLOPS_TYPE_F32VEC ? " of the declared dimension" : "");
}

int mlops_frame_parse_csv(mlops_frame **out, const char *data, size_t len, const char *options_json)
{
    csv_options opts;
    csv_reader reader;
    csv_column *cols = NULL;
    mlops__json *doc = NULL;
    mlops_frame *frame = NULL;
    size_t count = 0, i, data_start, rows = 0;
    int need_inference = 0;
    int rc;

    if (!out)
        return mlops__error_null(SUB, "mlops_frame_parse_csv", "out");
    *out = NULL;
    if (!data && len)
        return mlops__error_null(SUB, "mlops_frame_parse_csv", "data");
    if ((rc = parse_options(&opts, &doc, options_json, 0)))
        return rc;
    reader_init(&reader, data ? data : "", len, &opts);
    rc = next_record(&reader);
    if (rc == MLOPS_DONE) {
        rc = mlops__error(MLOPS_EFORMAT, SUB, "CSV input is empty: no header line");
        goto out_free;
    }
    if (rc)
        goto out_free;
    if ((rc = columns_from_header(&cols, &count, &reader, &opts)))
        goto out_free;
    if (opts.header)
        data_start = reader.pos;
    else
        data_start = reader.len >= 3 && memcmp(reader.data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    for (i = 0; i < count; i++)
        need_inference |= cols[i].parse_type == 0;

    /* Pass 1: structure, and type inference where needed. */
    reader.pos = data_start;
    reader.line = opts.header ? 2 : 1;
    while ((rc = next_record(&reader)) == MLOPS_OK) {
        if (is_blank_record(&reader) && count > 1)
            continue;
        if (reader.field_count != count) {
            rc = ragged(&reader, count);
            goto out_free;
        }
        rows++;
        for (i = 0; need_inference && i < count; i++) {
            if (cols[i].parse_type == 0 && reader.fields[i].len > 0)
                narrow_candidates(&cols[i], field_text(&reader, i));
        }
    }
    if (rc != MLOPS_DONE)
        goto out_free;

    if ((rc = mlops_frame_new(&frame)))
        goto out_free;
    for (i = 0; i < count && rc == MLOPS_OK; i++) {
        int32_t type;
        if (cols[i].parse_type == 0)
            cols[i].parse_type = inferred_type(&cols[i]);
        type = cols[i].parse_type == PARSE_TIMESTAMP ? MLOPS_TYPE_INT64 : cols[i].parse_type;
        /* Names are unique: checked against each other with the header. */
        rc = mlops__frame_add_new_column(frame, cols[i].name, type, type == MLOPS_TYPE_F32VEC ? cols[i].dim : 0);
    }
    if (rc || (rc = check_frame_size(frame, rows, &opts)) || (rc = mlops__frame_reserve(frame, rows)))
        goto out_free;

    /* Pass 2: values. */
    reader.pos = data_start;
    reader.line = opts.header ? 2 : 1;
    while ((rc = next_record(&reader)) == MLOPS_OK) {
        size_t row = frame->rows;
        if (is_blank_record(&reader) && count > 1)
            continue;
        for (i = 0; i < count; i++) {
            if ((rc = store_cell(frame, cols, &reader, i, row))) {
                size_t j;
                for (j = i + 1; j < count; j++) {
                    frame->columns[j].nulls[row] = 1;
                    if (frame->columns[j].type == MLOPS_TYPE_STRING)
                        ((char **)frame->columns[j].values)[row] = NULL;
                }
                frame->rows++;
                goto out_free;
            }
        }
        frame->rows++;
    }
    if (rc == MLOPS_DONE)
        rc = MLOPS_OK;
out_free:
    if (rc == MLOPS_OK) {
        *out = frame;
        frame = NULL;
    }
    mlops_frame_free(frame);
    columns_free(cols, count);
    reader_free(&reader);
    mlops__json_free(doc);
    return rc;
}

int mlops_frame_read_csv(mlops_frame **out, const char *path, const char *options_json)
{
    char *data = NULL;
    size_t len = 0;
    int rc;

    if (!out)
        return mlops__error_null(SUB, "mlops_frame_read_csv", "out");
    *out = NULL;
    if (!path)
        return mlops__error_null(SUB, "mlops_frame_read_csv", "path");
    if ((rc = mlops__read_file(&data, &len, path, SIZE_MAX - 1, SUB, "CSV file")))
        return rc;
    rc = mlops_frame_parse_csv(out, data, len, options_json);
    if (rc)
        mlops__error_prefix("\"%s\"", path);
    mlops__free(data);
    return rc;
}

/*
 * A field is quoted when it is empty (an unquoted empty field reads as null),
 * holds a delimiter, quote or line break, or begins with U+FEFF (unquoted at
 * the start of the text it would read back as a byte order mark).
 */
static void put_field(mlops__buf *buf, const char *text, char delimiter, int force_quotes)
{
    const char *p;
    int quote = force_quotes || !*text || strncmp(text, "\xEF\xBB\xBF", 3) == 0;
    for (p = text; *p && !quote; p++)
        quote = *p == delimiter || *p == '"' || *p == '\n' || *p == '\r';
    if (!quote) {
        mlops__buf_puts(buf, text);
        return;
    }
    mlops__buf_putc(buf, '"');
    for (p = text; *p; p++) {
        if (*p == '"')
            mlops__buf_putc(buf, '"');
        mlops__buf_putc(buf, *p);
    }
    mlops__buf_putc(buf, '"');
}

int mlops_frame_format_csv(char **out, size_t *len_out, const mlops_frame *frame, const char *options_json)
{
    csv_options opts;
    mlops__json *doc = NULL;
    mlops__buf buf;
    size_t row, i;
    uint32_t k;
    int rc;

    if (!out)
        return mlops__error_null(SUB, "mlops_frame_format_csv", "out");
    *out = NULL;
    if (len_out)
        *len_out = 0;
    if (!frame)
        return mlops__error_null(SUB, "mlops_frame_format_csv", "frame");
    if ((rc = parse_options(&opts, &doc, options_json, 1)))
        return rc;
    mlops__json_free(doc);
    mlops__buf_init(&buf);
    if (opts.header) {
        for (i = 0; i < frame->column_count; i++) {
            if (i)
                mlops__buf_putc(&buf, opts.delimiter);
            put_field(&buf, frame->columns[i].name, opts.delimiter, 0);
        }
        mlops__buf_puts(&buf, "\r\n");
    }
    for (row = 0; row < frame->rows && !buf.failed; row++) {
        for (i = 0; i < frame->column_count; i++) {
            const frame_column *col = &frame->columns[i];
            char number[64];
            if (i)
                mlops__buf_putc(&buf, opts.delimiter);
            if (col->nulls[row])
                continue;
            switch (col->type) {
            case MLOPS_TYPE_INT64:
                mlops__buf_printf(&buf, "%lld", (long long)((const int64_t *)col->values)[row]);
                break;
            case MLOPS_TYPE_FLOAT64:
                mlops__format_double(number, sizeof number, ((const double *)col->values)[row]);
                mlops__buf_puts(&buf, number);
                break;
            case MLOPS_TYPE_BOOL:
                mlops__buf_puts(&buf, ((const uint8_t *)col->values)[row] ? "true" : "false");
                break;
            case MLOPS_TYPE_STRING:
                put_field(&buf, ((char *const *)col->values)[row], opts.delimiter, 0);
                break;
            default:
                mlops__buf_puts(&buf, "\"[");
                for (k = 0; k < col->dim; k++) {
                    snprintf(number, sizeof number, "%s%.9g", k ? "," : "",
                             (double)((const float *)col->values)[row * col->dim + k]);
                    mlops__buf_puts(&buf, number);
                }
                mlops__buf_puts(&buf, "]\"");
                break;
            }
        }
        mlops__buf_puts(&buf, "\r\n");
    }
    if ((rc = mlops__buf_status(&buf, SUB))) {
        mlops__buf_free(&buf);
        return rc;
    }
    *out = mlops__buf_detach(&buf, len_out);
    if (!*out)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory formatting CSV");
    return MLOPS_OK;
}

int mlops_frame_write_csv(const mlops_frame *frame, const char *path, const char *options_json)
{
    char *text = NULL;
    char *tmp_path = NULL;
    size_t len = 0;
    FILE *file;
    int rc;

    if (!path)
        return mlops__error_null(SUB, "mlops_frame_write_csv", "path");
    if ((rc = mlops_frame_format_csv(&text, &len, frame, options_json)))
        return rc;
    tmp_path = mlops__malloc(strlen(path) + 32);
    if (!tmp_path) {
        rc = mlops__error(MLOPS_ENOMEM, SUB, "out of memory writing \"%s\"", path);
        goto out_free_text;
    }
    sprintf(tmp_path, "%s.tmp.%ld", path, (long)getpid());
    file = fopen(tmp_path, "wb");
    if (!file) {
        rc = mlops__error_dep(MLOPS_EIO, SUB, errno, "cannot create \"%s\": %s", tmp_path, strerror(errno));
        goto out_free_tmp;
    }
    if (fwrite(text, 1, len, file) != len || fflush(file) != 0 || fsync(fileno(file)) != 0) {
        rc = mlops__error_dep(MLOPS_EIO, SUB, errno, "writing \"%s\" failed: %s", tmp_path, strerror(errno));
        fclose(file);
        remove(tmp_path);
        goto out_free_tmp;
    }
    if (fclose(file) != 0 || rename(tmp_path, path) != 0) {
        rc = mlops__error_dep(MLOPS_EIO, SUB, errno, "replacing \"%s\" failed: %s", path, strerror(errno));
        remove(tmp_path);
    }
out_free_tmp:
    mlops__free(tmp_path);
out_free_text:
    mlops__free(text);
    return rc;
}
