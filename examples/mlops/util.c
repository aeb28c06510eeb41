/*
 * Shared helpers of the mlops tool: errors, files, argument parsing, text
 * buffers, reading the library's JSON documents, tables, progress bars and
 * frames.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

int cli_fail(const char *what)
{
    const mlops_error *err = mlops_error_last();
    fprintf(stderr, "mlops: %s: %s\n", what, err->message);
    return CLI_FAILURE;
}

int cli_usage_error(const cli_command *command, const char *fmt, ...)
{
    va_list args;
    fprintf(stderr, "mlops %s: ", command->name);
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fprintf(stderr, "\n(see 'mlops %s --help')\n", command->name);
    return CLI_USAGE;
}

int cli_wants_help(const cli_context *ctx)
{
    int i;
    for (i = 1; i < ctx->argc; i++) {
        if (strcmp(ctx->argv[i], "--help") == 0 || strcmp(ctx->argv[i], "-h") == 0)
            return 1;
    }
    return 0;
}

int cli_open_db(mlops_db **out, const cli_context *ctx, const char *options_json)
{
    if (mlops_db_open(out, ctx->db_path, options_json) != MLOPS_OK)
        return cli_fail(ctx->db_path);
    return CLI_OK;
}

char *cli_read_file(const char *path, size_t *len_out)
{
    FILE *file = fopen(path, "rb");
    char *data = NULL;
    long size;
    size_t got = 0;
    cli_progress progress;
    if (!file) {
        fprintf(stderr, "mlops: cannot open \"%s\": %s\n", path, strerror(errno));
        return NULL;
    }
    if (fseek(file, 0, SEEK_END) == 0 && (size = ftell(file)) >= 0 && fseek(file, 0, SEEK_SET) == 0 &&
        (data = malloc((size_t)size + 1)) != NULL) {
        cli_progress_start(&progress, "reading", "bytes", size);
        while (got < (size_t)size) {
            size_t n = fread(data + got, 1, (size_t)size - got < CLI_CHUNK ? (size_t)size - got : CLI_CHUNK, file);
            if (n == 0)
                break;
            got += n;
            cli_progress_update(&progress, (int64_t)got);
        }
        cli_progress_end(&progress);
    }
    if (data && got == (size_t)size) {
        data[got] = '\0';
        if (len_out)
            *len_out = got;
    } else {
        free(data);
        data = NULL;
        fprintf(stderr, "mlops: cannot read \"%s\"\n", path);
    }
    fclose(file);
    return data;
}

void cli_json_string(FILE *out, const char *text)
{
    cli_buf buf = CLI_BUF_INIT;
    cli_buf_json_string(&buf, text);
    fputs(buf.data ? buf.data : "\"\"", out);
    cli_buf_free(&buf);
}

struct cli_table {
    size_t columns;
    size_t count;
    size_t capacity;
    char **cells;
};

cli_table *cli_table_new(size_t columns)
{
    cli_table *table = calloc(1, sizeof *table);
    if (table)
        table->columns = columns;
    return table;
}

void cli_table_add(cli_table *table, const char *cell)
{
    if (!table)
        return;
    if (table->count == table->capacity) {
        size_t capacity = table->capacity ? table->capacity * 2 : 64;
        char **grown = realloc(table->cells, capacity * sizeof *grown);
        if (!grown)
            return;
        table->cells = grown;
        table->capacity = capacity;
    }
    table->cells[table->count++] = strdup(cell ? cell : "");
}

/* Width of the terminal on stdout, or 0 when it is not a terminal. */
static size_t terminal_width(FILE *out)
{
    struct winsize size;
    if (isatty(fileno(out)) && ioctl(fileno(out), TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
        return size.ws_col;
    return 0;
}

void cli_table_print(cli_table *table, FILE *out)
{
    size_t *widths;
    size_t i, col, total = 0, limit = terminal_width(out);
    if (!table || table->columns == 0 || !(widths = calloc(table->columns, sizeof *widths)))
        return;
    for (i = 0; i < table->count; i++) {
        size_t len = table->cells[i] ? strlen(table->cells[i]) : 0;
        col = i % table->columns;
        if (len > widths[col])
            widths[col] = len;
    }
    for (col = 0; col < table->columns; col++)
        total += widths[col] + 2;
    /* Shrink the widest columns until the table fits the terminal. */
    while (limit && total > limit) {
        size_t widest = 0;
        for (col = 1; col < table->columns; col++)
            widest = widths[col] > widths[widest] ? col : widest;
        if (widths[widest] <= 6)
            break;
        widths[widest]--;
        total--;
    }
    for (i = 0; i < table->count; i++) {
        const char *cell = table->cells[i] ? table->cells[i] : "";
        size_t len = strlen(cell);
        col = i % table->columns;
        if (len > widths[col])
            fprintf(out, "%.*s~", (int)(widths[col] - 1), cell);
        else if (col + 1 == table->columns)
            fputs(cell, out);
        else
            fprintf(out, "%-*s", (int)widths[col], cell);
        fputs(col + 1 == table->columns ? "\n" : "  ", out);
    }
    free(widths);
}

void cli_table_free(cli_table *table)
{
    size_t i;
    if (!table)
        return;
    for (i = 0; i < table->count; i++)
        free(table->cells[i]);
    free(table->cells);
    free(table);
}

/* ---- argument parsing ------------------------------------------------------------------------------ */

int cli_parse_args(cli_context *ctx, const cli_command *command, const cli_flag *flags,
                   const char **positional, size_t min_positional, size_t max_positional, size_t *count_out)
{
    size_t count = 0;
    int i;
    for (i = 1; i < ctx->argc; i++) {
        const char *arg = ctx->argv[i];
        const cli_flag *flag = NULL;
        if (strcmp(arg, "--json") == 0) {
            ctx->json = 1;
            continue;
        }
        /* "-" alone and negative numbers ("-0.5") are positional. */
        if (arg[0] == '-' && arg[1] != '\0' && !(arg[1] == '.' || (arg[1] >= '0' && arg[1] <= '9'))) {
            for (flag = flags; flag && flag->name; flag++)
                if (strcmp(flag->name, arg) == 0)
                    break;
            if (!flag || !flag->name)
                return cli_usage_error(command, "unknown option \"%s\"", arg);
            if (flag->kind == CLI_FLAG_SWITCH) {
                *(int *)flag->target = 1;
                continue;
            }
            if (i + 1 >= ctx->argc)
                return cli_usage_error(command, "%s takes a value", arg);
            if (flag->kind == CLI_FLAG_VALUE) {
                *(const char **)flag->target = ctx->argv[++i];
            } else {
                cli_list *list = flag->target;
                if (list->count == CLI_LIST_MAX)
                    return cli_usage_error(command, "%s given more than %d times", arg, CLI_LIST_MAX);
                list->items[list->count++] = ctx->argv[++i];
            }
            continue;
        }
        if (count == max_positional)
            return cli_usage_error(command, "unexpected argument \"%s\"", arg);
        positional[count++] = arg;
    }
    if (count < min_positional)
        return cli_usage_error(command, "missing arguments");
    if (count_out)
        *count_out = count;
    return CLI_OK;
}

int cli_parse_int64(int64_t *out, const cli_command *command, const char *what, const char *text)
{
    char *end = NULL;
    long long value;
    errno = 0;
    value = strtoll(text, &end, 10);
    if (errno || end == text || *end)
        return cli_usage_error(command, "%s must be an integer, not \"%s\"", what, text);
    *out = (int64_t)value;
    return CLI_OK;
}

int cli_parse_double(double *out, const cli_command *command, const char *what, const char *text)
{
    char *end = NULL;
    errno = 0;
    *out = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(*out))
        return cli_usage_error(command, "%s must be a finite number, not \"%s\"", what, text);
    return CLI_OK;
}

int cli_parse_time(int64_t *out, const cli_command *command, const char *what, const char *text)
{
    cli_buf csv = CLI_BUF_INIT;
    mlops_frame *frame = NULL;
    int rc = CLI_OK;
    /* The library's own timestamp parser: ISO 8601 (UTC) or integer microseconds. */
    cli_buf_puts(&csv, "t\n\"");
    cli_buf_puts(&csv, text);
    cli_buf_puts(&csv, "\"\n");
    if (strchr(text, '"') || strchr(text, '\n') ||
        mlops_frame_parse_csv(&frame, csv.data, csv.len, "{\"schema\": {\"t\": \"timestamp\"}}") != MLOPS_OK ||
        mlops_frame_rows(frame) != 1 || mlops_frame_get_int64(out, frame, 0, 0) != MLOPS_OK)
        rc = cli_usage_error(command, "%s must be an ISO 8601 time or microseconds since the epoch, not \"%s\"",
                             what, text);
    mlops_frame_free(frame);
    cli_buf_free(&csv);
    return rc;
}

/* ---- model references -------------------------------------------------------------------------- */

int cli_resolve(char *model, size_t cap, int64_t *version_out, mlops_db *db, const cli_command *command,
                const char *reference)
{
    const char *at = strchr(reference, '@');
    if (!at || at == reference || !at[1] || (size_t)(at - reference) >= cap)
        return cli_usage_error(command, "\"%s\" is not a model reference NAME@ALIAS or NAME@VERSION", reference);
    memcpy(model, reference, (size_t)(at - reference));
    model[at - reference] = '\0';
    if (version_out && mlops_model_resolve(version_out, db, reference) != MLOPS_OK)
        return cli_fail(reference);
    return CLI_OK;
}

/* ---- growable text ----------------------------------------------------------------------------- */

void cli_buf_put(cli_buf *buf, const char *text, size_t len)
{
    if (buf->failed)
        return;
    if (buf->len + len + 1 > buf->cap) {
        size_t cap = buf->cap ? buf->cap : 256;
        char *grown;
        while (cap < buf->len + len + 1)
            cap *= 2;
        grown = realloc(buf->data, cap);
        if (!grown) {
            buf->failed = 1;
            return;
        }
        buf->data = grown;
        buf->cap = cap;
    }
    memcpy(buf->data + buf->len, text, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
}

void cli_buf_puts(cli_buf *buf, const char *text)
{
    cli_buf_put(buf, text, strlen(text));
}

void cli_buf_printf(cli_buf *buf, const char *fmt, ...)
{
    char small[512];
    va_list args;
    int n;
    va_start(args, fmt);
    n = vsnprintf(small, sizeof small, fmt, args);
    va_end(args);
    if (n >= 0)
        cli_buf_put(buf, small, (size_t)n < sizeof small ? (size_t)n : sizeof small - 1);
}

void cli_buf_json_string(cli_buf *buf, const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    cli_buf_put(buf, "\"", 1);
    for (; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char pair[2] = {'\\', (char)*p};
            cli_buf_put(buf, pair, 2);
        } else if (*p < 0x20) {
            cli_buf_printf(buf, "\\u%04x", *p);
        } else {
            cli_buf_put(buf, (const char *)p, 1);
        }
    }
    cli_buf_put(buf, "\"", 1);
}

void cli_buf_free(cli_buf *buf)
{
    free(buf->data);
    memset(buf, 0, sizeof *buf);
}

/* ---- reading the library's JSON documents --------------------------------------------------- */

struct cli_json {
    int type;           /* CLI_JSON_* */
    char *text;         /* string value, or the number's literal */
    char *key;          /* member name inside an object */
    size_t count;       /* children of an array or object */
    cli_json **items;
};

static void json_skip_space(const char **p)
{
    while (**p == ' ' || **p == '\n' || **p == '\t' || **p == '\r')
        (*p)++;
}

/* Append the UTF-8 encoding of code point `c`. */
static void json_put_utf8(cli_buf *buf, unsigned c)
{
    char out[4];
    if (c < 0x80) {
        out[0] = (char)c;
        cli_buf_put(buf, out, 1);
    } else if (c < 0x800) {
        out[0] = (char)(0xC0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3F));
        cli_buf_put(buf, out, 2);
    } else if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        cli_buf_put(buf, out, 3);
    } else {
        out[0] = (char)(0xF0 | (c >> 18));
        out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[3] = (char)(0x80 | (c & 0x3F));
        cli_buf_put(buf, out, 4);
    }
}

static char *json_parse_string(const char **p)
{
    cli_buf buf = CLI_BUF_INIT;
    (*p)++;
    cli_buf_put(&buf, "", 0);
    while (**p && **p != '"') {
        if (**p == '\\') {
            char c = *++*p;
            unsigned code = 0;
            switch (c) {
            case 'n': cli_buf_put(&buf, "\n", 1); break;
            case 't': cli_buf_put(&buf, "\t", 1); break;
            case 'r': cli_buf_put(&buf, "\r", 1); break;
            case 'b': cli_buf_put(&buf, "\b", 1); break;
            case 'f': cli_buf_put(&buf, "\f", 1); break;
            case 'u':
                if (sscanf(*p + 1, "%4x", &code) != 1)
                    goto fail;
                *p += 4;
                if (code >= 0xD800 && code < 0xDC00 && (*p)[1] == '\\' && (*p)[2] == 'u') {
                    unsigned low = 0;
                    if (sscanf(*p + 3, "%4x", &low) == 1 && low >= 0xDC00 && low < 0xE000) {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                        *p += 6;
                    }
                }
                json_put_utf8(&buf, code);
                break;
            case '\0': goto fail;
            default: cli_buf_put(&buf, &c, 1); break;
            }
            (*p)++;
        } else {
            cli_buf_put(&buf, *p, 1);
            (*p)++;
        }
    }
    if (**p != '"' || buf.failed)
        goto fail;
    (*p)++;
    return buf.data;
fail:
    cli_buf_free(&buf);
    return NULL;
}

static cli_json *json_parse_value(const char **p, int depth);

static int json_add_child(cli_json *parent, cli_json *child)
{
    cli_json **grown = realloc(parent->items, (parent->count + 1) * sizeof *grown);
    if (!grown)
        return -1;
    parent->items = grown;
    parent->items[parent->count++] = child;
    return 0;
}

static cli_json *json_parse_container(const char **p, int depth, int type)
{
    cli_json *node = calloc(1, sizeof *node);
    char close = type == CLI_JSON_ARRAY ? ']' : '}';
    if (!node)
        return NULL;
    node->type = type;
    (*p)++;
    json_skip_space(p);
    if (**p == close) {
        (*p)++;
        return node;
    }
    for (;;) {
        char *key = NULL;
        cli_json *child;
        json_skip_space(p);
        if (type == CLI_JSON_OBJECT) {
            if (**p != '"' || !(key = json_parse_string(p)))
                goto fail;
            json_skip_space(p);
            if (**p != ':') {
                free(key);
                goto fail;
            }
            (*p)++;
        }
        child = json_parse_value(p, depth + 1);
        if (!child || json_add_child(node, child)) {
            free(key);
            cli_json_free(child);
            goto fail;
        }
        child->key = key;
        json_skip_space(p);
        if (**p == ',') {
            (*p)++;
            continue;
        }
        if (**p != close)
            goto fail;
        (*p)++;
        return node;
    }
fail:
    cli_json_free(node);
    return NULL;
}

static cli_json *json_parse_value(const char **p, int depth)
{
    cli_json *node;
    const char *start;
    json_skip_space(p);
    if (depth > 64)
        return NULL;
    if (**p == '[')
        return json_parse_container(p, depth, CLI_JSON_ARRAY);
    if (**p == '{')
        return json_parse_container(p, depth, CLI_JSON_OBJECT);
    if (!(node = calloc(1, sizeof *node)))
        return NULL;
    start = *p;
    if (**p == '"') {
        node->type = CLI_JSON_STRING;
        node->text = json_parse_string(p);
    } else if (strncmp(*p, "null", 4) == 0) {
        node->type = CLI_JSON_NULL;
        *p += 4;
    } else if (strncmp(*p, "true", 4) == 0 || strncmp(*p, "false", 5) == 0) {
        node->type = CLI_JSON_BOOL;
        *p += **p == 't' ? 4 : 5;
        node->text = strndup(start, (size_t)(*p - start));
    } else if (**p == '-' || (**p >= '0' && **p <= '9')) {
        node->type = CLI_JSON_NUMBER;
        while (**p && strchr("+-0123456789.eE", **p))
            (*p)++;
        node->text = strndup(start, (size_t)(*p - start));
    }
    if (node->type == 0 || (node->type != CLI_JSON_NULL && !node->text)) {
        cli_json_free(node);
        return NULL;
    }
    return node;
}

cli_json *cli_json_parse(const char *text)
{
    const char *p = text;
    cli_json *root = json_parse_value(&p, 0);
    json_skip_space(&p);
    if (root && *p) {
        cli_json_free(root);
        root = NULL;
    }
    if (!root)
        fprintf(stderr, "mlops: cannot read a JSON document of the library\n");
    return root;
}

void cli_json_free(cli_json *node)
{
    size_t i;
    if (!node)
        return;
    for (i = 0; i < node->count; i++)
        cli_json_free(node->items[i]);
    free(node->items);
    free(node->text);
    free(node->key);
    free(node);
}

int cli_json_type(const cli_json *node)
{
    return node ? node->type : CLI_JSON_NULL;
}

size_t cli_json_count(const cli_json *node)
{
    return node && (node->type == CLI_JSON_ARRAY || node->type == CLI_JSON_OBJECT) ? node->count : 0;
}

const cli_json *cli_json_item(const cli_json *node, size_t index)
{
    return index < cli_json_count(node) ? node->items[index] : NULL;
}

const char *cli_json_key(const cli_json *node)
{
    return node ? node->key : NULL;
}

const cli_json *cli_json_get(const cli_json *node, const char *path)
{
    while (node && path && *path) {
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path);
        const cli_json *found = NULL;
        size_t i;
        if (node->type != CLI_JSON_OBJECT)
            return NULL;
        for (i = 0; i < node->count; i++) {
            if (strlen(node->items[i]->key) == len && strncmp(node->items[i]->key, path, len) == 0) {
                found = node->items[i];
                break;
            }
        }
        node = found;
        path = dot ? dot + 1 : NULL;
    }
    return node;
}

const char *cli_json_text(const cli_json *node)
{
    return node && node->text ? node->text : NULL;
}

double cli_json_number(const cli_json *node)
{
    return node && node->type == CLI_JSON_NUMBER ? strtod(node->text, NULL) : NAN;
}

void cli_json_print(FILE *out, const cli_json *node)
{
    size_t i;
    switch (cli_json_type(node)) {
    case CLI_JSON_NULL: fputs("null", out); break;
    case CLI_JSON_STRING: cli_json_string(out, node->text); break;
    case CLI_JSON_ARRAY:
    case CLI_JSON_OBJECT:
        fputc(node->type == CLI_JSON_ARRAY ? '[' : '{', out);
        for (i = 0; i < node->count; i++) {
            if (i)
                fputc(',', out);
            if (node->type == CLI_JSON_OBJECT) {
                cli_json_string(out, node->items[i]->key);
                fputc(':', out);
            }
            cli_json_print(out, node->items[i]);
        }
        fputc(node->type == CLI_JSON_ARRAY ? ']' : '}', out);
        break;
    default: fputs(node->text, out); break;
    }
}

void cli_format_time(char *out, size_t cap, int64_t time_us)
{
    time_t seconds = (time_t)(time_us >= 0 ? time_us / 1000000 : (time_us - 999999) / 1000000);
    struct tm tm;
    if (gmtime_r(&seconds, &tm))
        strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
    else
        snprintf(out, cap, "%lld", (long long)time_us);
}

/* Append a compact rendering of `node` for a table cell. */
static void json_render(cli_buf *buf, const cli_json *node, int format)
{
    size_t i;
    char text[64];
    switch (cli_json_type(node)) {
    case CLI_JSON_NULL:
        cli_buf_puts(buf, "-");
        break;
    case CLI_JSON_NUMBER:
        if (format == CLI_CELL_TIME) {
            cli_format_time(text, sizeof text, (int64_t)strtoll(node->text, NULL, 10));
            cli_buf_puts(buf, text);
        } else if (format == CLI_CELL_BYTES) {
            cli_format_bytes(text, sizeof text, strtod(node->text, NULL));
            cli_buf_puts(buf, text);
        } else if (format == CLI_CELL_NUMBER) {
            snprintf(text, sizeof text, "%.4g", strtod(node->text, NULL));
            cli_buf_puts(buf, text);
        } else {
            cli_buf_puts(buf, node->text);
        }
        break;
    case CLI_JSON_ARRAY:
    case CLI_JSON_OBJECT:
        if (node->count == 0)
            cli_buf_puts(buf, "-");
        for (i = 0; i < node->count; i++) {
            if (i)
                cli_buf_puts(buf, ",");
            if (node->type == CLI_JSON_OBJECT) {
                cli_buf_puts(buf, node->items[i]->key);
                cli_buf_puts(buf, "=");
            }
            if (node->items[i]->type == CLI_JSON_ARRAY || node->items[i]->type == CLI_JSON_OBJECT) {
                cli_buf_puts(buf, node->items[i]->type == CLI_JSON_ARRAY ? "[" : "{");
                json_render(buf, node->items[i], CLI_CELL_TEXT);
                cli_buf_puts(buf, node->items[i]->type == CLI_JSON_ARRAY ? "]" : "}");
            } else {
                json_render(buf, node->items[i], CLI_CELL_TEXT);
            }
        }
        break;
    default:
        cli_buf_puts(buf, node->text);
        break;
    }
}

char *cli_json_cell(const cli_json *node, int format)
{
    cli_buf buf = CLI_BUF_INIT;
    cli_buf_puts(&buf, "");
    json_render(&buf, node, format);
    return buf.data;
}

void cli_json_table(const cli_json *array, const cli_column *columns, size_t count, FILE *out)
{
    cli_table *table = cli_table_new(count);
    size_t row, col;
    for (col = 0; col < count; col++)
        cli_table_add(table, columns[col].header);
    for (row = 0; row < cli_json_count(array); row++) {
        for (col = 0; col < count; col++) {
            char *cell = cli_json_cell(cli_json_get(cli_json_item(array, row), columns[col].path), columns[col].format);
            cli_table_add(table, cell);
            free(cell);
        }
    }
    cli_table_print(table, out);
    cli_table_free(table);
}

void cli_json_fields(const cli_json *object, const cli_column *fields, size_t count, FILE *out)
{
    cli_table *table = cli_table_new(2);
    size_t i;
    for (i = 0; i < count; i++) {
        char *cell = cli_json_cell(cli_json_get(object, fields[i].path), fields[i].format);
        cli_table_add(table, fields[i].header);
        cli_table_add(table, cell);
        free(cell);
    }
    cli_table_print(table, out);
    cli_table_free(table);
}

int cli_take_document(cli_json **doc_out, const cli_context *ctx, char *json)
{
    *doc_out = NULL;
    if (ctx->json)
        printf("%s\n", json);
    else
        *doc_out = cli_json_parse(json);
    mlops_free(json);
    return ctx->json || *doc_out ? CLI_OK : CLI_FAILURE;
}

int cli_print_document(const cli_context *ctx, char *json, const cli_column *columns, size_t count)
{
    cli_json *doc;
    int rc;
    if ((rc = cli_take_document(&doc, ctx, json)) || !doc)
        return rc;
    if (cli_json_type(doc) == CLI_JSON_ARRAY) {
        if (cli_json_count(doc) == 0)
            printf("(none)\n");
        else
            cli_json_table(doc, columns, count, stdout);
    } else {
        cli_json_fields(doc, columns, count, stdout);
    }
    cli_json_free(doc);
    return CLI_OK;
}

int cli_print_fields_and_table(const cli_context *ctx, char *json, const cli_column *fields, size_t field_count,
                               const char *member, const cli_column *columns, size_t column_count)
{
    cli_json *doc;
    int rc;
    if ((rc = cli_take_document(&doc, ctx, json)) || !doc)
        return rc;
    cli_json_fields(doc, fields, field_count, stdout);
    printf("\n");
    cli_json_table(cli_json_get(doc, member), columns, column_count, stdout);
    cli_json_free(doc);
    return CLI_OK;
}

void cli_format_bytes(char *out, size_t cap, double bytes)
{
    if (bytes >= 1024.0 * 1024.0 * 1024.0)
        snprintf(out, cap, "%.1f GiB", bytes / (1024.0 * 1024.0 * 1024.0));
    else if (bytes >= 1024.0 * 1024.0)
        snprintf(out, cap, "%.1f MiB", bytes / (1024.0 * 1024.0));
    else if (bytes >= 1024.0)
        snprintf(out, cap, "%.1f KiB", bytes / 1024.0);
    else
        snprintf(out, cap, "%.0f B", bytes);
}

/* ---- progress bars ------------------------------------------------------------------------------ */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void cli_progress_start(cli_progress *progress, const char *label, const char *unit, int64_t total)
{
    memset(progress, 0, sizeof *progress);
    progress->label = label;
    progress->unit = unit;
    progress->total = total;
    progress->enabled = isatty(fileno(stderr));
    progress->start = now_seconds();
}

/* Format a count in the progress bar's unit ("bytes" counts are shown in KiB/MiB/GiB). */
static void progress_amount(char *out, size_t cap, const cli_progress *progress, double amount)
{
    if (strcmp(progress->unit, "bytes") == 0)
        cli_format_bytes(out, cap, amount);
    else
        snprintf(out, cap, "%.0f %s", amount, progress->unit);
}

/* Draw the bar; quick operations draw nothing, then at most ten redraws a second unless `force`. */
static void progress_draw(cli_progress *progress, int force)
{
    char amount[48], total[48], rate_text[48], left[32];
    double now = now_seconds(), elapsed, rate, fraction;
    int64_t done = progress->done;
    int filled, width = 24;
    if (!progress->enabled || (!progress->drawn && now - progress->start < 0.3) ||
        (!force && now - progress->last_draw < 0.1))
        return;
    progress->last_draw = now;
    progress->drawn = 1;
    progress->drawn_done = done;
    elapsed = now - progress->start;
    rate = elapsed > 0 ? (double)done / elapsed : 0;
    fraction = progress->total > 0 ? (double)done / (double)progress->total : 1.0;
    if (fraction > 1)
        fraction = 1;
    filled = (int)(fraction * width);
    progress_amount(amount, sizeof amount, progress, (double)done);
    progress_amount(total, sizeof total, progress, (double)progress->total);
    progress_amount(rate_text, sizeof rate_text, progress, rate);
    if (rate > 0 && done < progress->total)
        snprintf(left, sizeof left, "%.0fs left", (double)(progress->total - done) / rate);
    else
        snprintf(left, sizeof left, "%.1fs", elapsed);
    fprintf(stderr, "\r%s [%.*s%*s] %s / %s %3.0f%% %s/s %s\033[K", progress->label, filled,
            "########################", width - filled, "", amount, total, fraction * 100.0, rate_text, left);
    fflush(stderr);
}

void cli_progress_update(cli_progress *progress, int64_t done)
{
    progress->done = done;
    progress_draw(progress, 0);
}

void cli_progress_end(cli_progress *progress)
{
    if (progress->drawn) {
        if (progress->drawn_done != progress->done)
            progress_draw(progress, 1);
        fputc('\n', stderr);
    }
}

/* ---- frames ---------------------------------------------------------------------------------- */

void cli_format_cell(char *out, size_t cap, const mlops_frame *frame, size_t col, size_t row)
{
    int64_t i;
    double d;
    int32_t b;
    const char *s;
    const float *v;
    if (mlops_frame_is_null(frame, col, row) == 1) {
        snprintf(out, cap, "null");
        return;
    }
    switch (mlops_frame_column_type(frame, col)) {
    case MLOPS_TYPE_INT64: mlops_frame_get_int64(&i, frame, col, row); snprintf(out, cap, "%lld", (long long)i); break;
    case MLOPS_TYPE_FLOAT64: mlops_frame_get_float64(&d, frame, col, row); snprintf(out, cap, "%.6g", d); break;
    case MLOPS_TYPE_BOOL: mlops_frame_get_bool(&b, frame, col, row); snprintf(out, cap, b ? "true" : "false"); break;
    case MLOPS_TYPE_STRING: mlops_frame_get_string(&s, NULL, frame, col, row); snprintf(out, cap, "%s", s); break;
    default:
        mlops_frame_get_f32vec(&v, frame, col, row);
        snprintf(out, cap, "[%.4g, ...] (%u)", (double)v[0], (unsigned)mlops_frame_column_dim(frame, col));
        break;
    }
}


/* 1 for an INT64 column of times: "timestamp" or a name ending in "_time" (event_time, system_time). */
static int is_time_column(const mlops_frame *frame, size_t col)
{
    const char *name = mlops_frame_column_name(frame, col);
    size_t len = name ? strlen(name) : 0;
    return mlops_frame_column_type(frame, col) == MLOPS_TYPE_INT64 &&
           (strcmp(name, "timestamp") == 0 || (len >= 5 && strcmp(name + len - 5, "_time") == 0));
}

/* Print cell (row, col) as a JSON value. */
static void json_cell(FILE *out, const mlops_frame *frame, size_t col, size_t row)
{
    char text[64];
    const float *v = NULL;
    uint32_t i, dim = mlops_frame_column_dim(frame, col);
    if (mlops_frame_is_null(frame, col, row) == 1) {
        fputs("null", out);
        return;
    }
    switch (mlops_frame_column_type(frame, col)) {
    case MLOPS_TYPE_STRING: {
        const char *s = NULL;
        mlops_frame_get_string(&s, NULL, frame, col, row);
        cli_json_string(out, s);
        break;
    }
    case MLOPS_TYPE_FLOAT64: {
        double d = 0;
        mlops_frame_get_float64(&d, frame, col, row);
        if (isfinite(d))
            fprintf(out, "%.17g", d);
        else
            fputs("null", out);
        break;
    }
    case MLOPS_TYPE_F32VEC:
        mlops_frame_get_f32vec(&v, frame, col, row);
        fputc('[', out);
        for (i = 0; i < dim; i++)
            fprintf(out, "%s%.9g", i ? ", " : "", (double)v[i]);
        fputc(']', out);
        break;
    default:
        cli_format_cell(text, sizeof text, frame, col, row);
        fputs(text, out);
        break;
    }
}

void cli_frame_print(const cli_context *ctx, const mlops_frame *frame)
{
    size_t rows = mlops_frame_rows(frame), cols = mlops_frame_columns(frame), row, col;
    char cell[256];
    if (ctx->json) {
        printf("[");
        for (row = 0; row < rows; row++) {
            printf("%s{", row ? ",\n " : "");
            for (col = 0; col < cols; col++) {
                printf("%s", col ? ", " : "");
                cli_json_string(stdout, mlops_frame_column_name(frame, col));
                printf(": ");
                json_cell(stdout, frame, col, row);
            }
            printf("}");
        }
        printf("]\n");
    } else {
        cli_table *table = cli_table_new(cols);
        for (col = 0; col < cols; col++)
            cli_table_add(table, mlops_frame_column_name(frame, col));
        for (row = 0; row < rows; row++) {
            for (col = 0; col < cols; col++) {
                int64_t value = 0;
                /* Times read better as ISO 8601. */
                if (is_time_column(frame, col) && mlops_frame_get_int64(&value, frame, col, row) == MLOPS_OK)
                    cli_format_time(cell, sizeof cell, value);
                else
                    cli_format_cell(cell, sizeof cell, frame, col, row);
                cli_table_add(table, cell);
            }
        }
        cli_table_print(table, stdout);
        cli_table_free(table);
    }
}

int cli_frame_slice(mlops_frame **out, const mlops_frame *frame, size_t start, size_t count)
{
    mlops_frame *slice = NULL;
    size_t col, row;
    int rc = mlops_frame_new(&slice);
    for (col = 0; rc == MLOPS_OK && col < mlops_frame_columns(frame); col++) {
        const char *name = mlops_frame_column_name(frame, col);
        const uint8_t *nulls = NULL;
        const int64_t *i64 = NULL;
        const double *f64 = NULL;
        const uint8_t *b = NULL;
        const float *vec = NULL;
        uint32_t dim = mlops_frame_column_dim(frame, col);
        mlops_frame_column_nulls(&nulls, frame, col);
        switch (mlops_frame_column_type(frame, col)) {
        case MLOPS_TYPE_INT64:
            if ((rc = mlops_frame_column_int64(&i64, frame, col)) == MLOPS_OK)
                rc = mlops_frame_add_int64(slice, name, i64 + start, nulls + start, count);
            break;
        case MLOPS_TYPE_FLOAT64:
            if ((rc = mlops_frame_column_float64(&f64, frame, col)) == MLOPS_OK)
                rc = mlops_frame_add_float64(slice, name, f64 + start, nulls + start, count);
            break;
        case MLOPS_TYPE_BOOL:
            if ((rc = mlops_frame_column_bool(&b, frame, col)) == MLOPS_OK)
                rc = mlops_frame_add_bool(slice, name, b + start, nulls + start, count);
            break;
        case MLOPS_TYPE_F32VEC:
            if ((rc = mlops_frame_column_f32vec(&vec, frame, col)) == MLOPS_OK)
                rc = mlops_frame_add_f32vec(slice, name, dim, vec + start * dim, nulls + start, count);
            break;
        default: {
            const char **strings = calloc(count ? count : 1, sizeof *strings);
            if (!strings) {
                rc = MLOPS_ENOMEM;
                break;
            }
            for (row = 0; row < count; row++)
                if (mlops_frame_get_string(&strings[row], NULL, frame, col, start + row) != MLOPS_OK)
                    strings[row] = NULL;
            rc = mlops_frame_add_string(slice, name, strings, count);
            free(strings);
            break;
        }
        }
    }
    if (rc != MLOPS_OK) {
        mlops_frame_free(slice);
        return cli_fail("copying rows");
    }
    *out = slice;
    return CLI_OK;
}

void cli_csv_schema(cli_buf *options, const char *schema_json)
{
    cli_buf_puts(options, "{\"schema\": ");
    cli_buf_puts(options, schema_json ? schema_json : "{}");
    cli_buf_puts(options, "}");
}

/* CSV reading options typing the columns of the CSV text's header that `layout` has as `layout` does. */
static void csv_options(cli_buf *options, const char *csv, size_t len, const mlops_frame *layout)
{
    const char *newline = memchr(csv, '\n', len);
    mlops_frame *header = NULL;
    size_t col, at;
    int first = 1;
    cli_buf_puts(options, "{\"schema\": {");
    /* Type the columns the CSV header names with the layout's types (the header alone parses to no rows). */
    if (layout && mlops_frame_parse_csv(&header, csv, newline ? (size_t)(newline - csv + 1) : len, NULL) == MLOPS_OK) {
        for (col = 0; col < mlops_frame_columns(layout); col++) {
            const char *name = mlops_frame_column_name(layout, col);
            int type = mlops_frame_column_type(layout, col);
            if (mlops_frame_column_index(&at, header, name) != MLOPS_OK)
                continue;
            cli_buf_puts(options, first ? "" : ", ");
            first = 0;
            cli_buf_json_string(options, name);
            if (type == MLOPS_TYPE_F32VEC)
                cli_buf_printf(options, ": {\"type\": \"f32vec\", \"dim\": %u}",
                               (unsigned)mlops_frame_column_dim(layout, col));
            else if (is_time_column(layout, col))
                cli_buf_puts(options, ": \"timestamp\"");
            else
                cli_buf_printf(options, ": \"%s\"", mlops_frame_type_name(type));
        }
    }
    mlops_frame_free(header);
    cli_buf_puts(options, "}}");
}

int cli_read_csv(mlops_frame **out, const char *path, const char *options_json, const mlops_frame *layout)
{
    size_t len = 0;
    char *data = cli_read_file(path, &len);
    cli_buf options = CLI_BUF_INIT;
    char what[512];
    int rc = CLI_OK;
    if (!data)
        return CLI_FAILURE;
    if (!options_json)
        csv_options(&options, data, len, layout);
    if (mlops_frame_parse_csv(out, data, len, options_json ? options_json : options.data) != MLOPS_OK) {
        snprintf(what, sizeof what, "reading \"%s\"", path);
        rc = cli_fail(what);
    }
    cli_buf_free(&options);
    free(data);
    return rc;
}

int cli_keys_frame(mlops_frame **out, const cli_command *command, const char *const *keys, size_t count,
                   const mlops_frame *layout)
{
    cli_buf csv = CLI_BUF_INIT, options = CLI_BUF_INIT;
    size_t i, columns = 0;
    int rc = CLI_OK;
    /* Each argument is one key row "col=value[,col=value...]"; written as CSV, read with the layout's types. */
    for (i = 0; i < count && rc == CLI_OK; i++) {
        char *row = strdup(keys[i]), *save = NULL, *pair;
        cli_buf header = CLI_BUF_INIT, values = CLI_BUF_INIT;
        size_t n = 0;
        for (pair = strtok_r(row, ",", &save); pair; pair = strtok_r(NULL, ",", &save), n++) {
            char *eq = strchr(pair, '=');
            if (!eq || eq == pair || strchr(pair, '"')) {
                rc = cli_usage_error(command, "a key is COLUMN=VALUE[,COLUMN=VALUE...], not \"%s\"", keys[i]);
                break;
            }
            *eq = '\0';
            cli_buf_printf(&header, "%s\"%s\"", n ? "," : "", pair);
            cli_buf_printf(&values, "%s\"%s\"", n ? "," : "", eq + 1);
        }
        if (rc == CLI_OK && i == 0) {
            columns = n;
            cli_buf_puts(&csv, header.data);
            cli_buf_puts(&csv, "\n");
        } else if (rc == CLI_OK && (n != columns || strncmp(csv.data, header.data, header.len) != 0)) {
            rc = cli_usage_error(command, "every key must name the same columns in the same order");
        }
        if (rc == CLI_OK) {
            cli_buf_puts(&csv, values.data);
            cli_buf_puts(&csv, "\n");
        }
        cli_buf_free(&header);
        cli_buf_free(&values);
        free(row);
    }
    if (rc == CLI_OK) {
        csv_options(&options, csv.data, csv.len, layout);
        if (mlops_frame_parse_csv(out, csv.data, csv.len, options.data) != MLOPS_OK)
            rc = cli_fail("reading the keys");
    }
    cli_buf_free(&csv);
    cli_buf_free(&options);
    return rc;
}

int cli_write_csv(const mlops_frame *frame, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    if (path) {
        if (mlops_frame_write_csv(frame, path, NULL) != MLOPS_OK)
            return cli_fail(path);
        return CLI_OK;
    }
    if (mlops_frame_format_csv(&text, &len, frame, NULL) != MLOPS_OK)
        return cli_fail("writing CSV");
    fwrite(text, 1, len, stdout);
    mlops_free(text);
    return CLI_OK;
}
