/*
 * The mlops command-line tool: shared declarations of its commands and the
 * output helpers they use. Uses only the public API.
 */
#ifndef MLOPS_CLI_H
#define MLOPS_CLI_H

#include <stdint.h>
#include <stdio.h>

#include <mlops.h>

#define CLI_COUNT(array) (sizeof array / sizeof array[0])
#define CLI_NAME_CAP 256 /* room for a model name (at most 128 characters) */

#define CLI_OK 0
#define CLI_FAILURE 1
#define CLI_USAGE 2

typedef struct cli_context {
    const char *db_path;  /* --db, $MLOPS_DB, or ./mlops.db */
    int json;             /* --json: machine-readable output */
    int argc;             /* the command's own arguments (argv[0] is the command name) */
    char **argv;
} cli_context;

typedef struct cli_command {
    const char *name;
    const char *summary;  /* one line for the command list */
    const char *usage;    /* full help: synopsis, options, an example */
    int (*run)(cli_context *ctx);
} cli_command;

/* Print the library's last error as "mlops: what: message" and return CLI_FAILURE. */
int cli_fail(const char *what);
/* Print a usage error for `command` and return CLI_USAGE. */
int cli_usage_error(const cli_command *command, const char *fmt, ...);
/* Open the context's database (options may be NULL); prints and returns non-zero on failure. */
int cli_open_db(mlops_db **out, const cli_context *ctx, const char *options_json);
/* Read a whole file into a NUL-terminated buffer (free with free()), with a progress bar; NULL after printing an error. */
char *cli_read_file(const char *path, size_t *len_out);
/* Read a CSV file with `options_json`, or when it is NULL typing the columns `layout` names as `layout` does. */
int cli_read_csv(mlops_frame **out, const char *path, const char *options_json, const mlops_frame *layout);
/* Print a JSON string literal. */
void cli_json_string(FILE *out, const char *text);
/* 1 when `ctx` asks for help (--help or -h among the arguments). */
int cli_wants_help(const cli_context *ctx);

/* Tables sized to the terminal: add cells row by row, then print. */
typedef struct cli_table cli_table;
cli_table *cli_table_new(size_t columns);
void cli_table_add(cli_table *table, const char *cell);
void cli_table_print(cli_table *table, FILE *out);
void cli_table_free(cli_table *table);

/* Growable text; a failed allocation sets `failed` and stops appending. */
typedef struct cli_buf {
    char *data;
    size_t len;
    size_t cap;
    int failed;
} cli_buf;
#define CLI_BUF_INIT {NULL, 0, 0, 0}
void cli_buf_put(cli_buf *buf, const char *text, size_t len);
void cli_buf_puts(cli_buf *buf, const char *text);
void cli_buf_printf(cli_buf *buf, const char *fmt, ...);
void cli_buf_json_string(cli_buf *buf, const char *text);
void cli_buf_free(cli_buf *buf);

/* Options of a command: "--name VALUE" (VALUE), "--name" (SWITCH) or a repeatable "--name VALUE" (LIST). */
#define CLI_FLAG_VALUE 0
#define CLI_FLAG_SWITCH 1
#define CLI_FLAG_LIST 2
#define CLI_LIST_MAX 32
typedef struct cli_list {
    const char *items[CLI_LIST_MAX];
    size_t count;
} cli_list;
typedef struct cli_flag {
    const char *name;  /* "--schema"; a {NULL} entry ends the array */
    int kind;          /* CLI_FLAG_* */
    void *target;      /* const char ** (VALUE), int * (SWITCH), cli_list * (LIST) */
} cli_flag;
/*
 * Parse the command's arguments: flags (NULL-terminated array, may be NULL),
 * --json anywhere, and between `min_positional` and `max_positional`
 * positional arguments into `positional`. Returns CLI_OK or a usage error.
 */
int cli_parse_args(cli_context *ctx, const cli_command *command, const cli_flag *flags,
                   const char **positional, size_t min_positional, size_t max_positional, size_t *count_out);
/* Parse numbers and times (ISO 8601 UTC or microseconds) given on the command line; usage error when malformed. */
int cli_parse_int64(int64_t *out, const cli_command *command, const char *what, const char *text);
int cli_parse_double(double *out, const cli_command *command, const char *what, const char *text);
int cli_parse_time(int64_t *out, const cli_command *command, const char *what, const char *text);
/* Split "NAME@REF" into the model name (room for `cap`) and resolve the version (when `version_out`). */
int cli_resolve(char *model, size_t cap, int64_t *version_out, mlops_db *db, const cli_command *command,
                const char *reference);

/* ---- models and their input rows (cmd_infer.c) ---- */
/* Session options for --precision (NULL: the library's default, fp32); usage error when unknown. */
int cli_precision_options(cli_buf *options, const cli_command *command, const char *precision);
/*
 * Open a session on MODEL: an ONNX file, or when no such file exists and
 * MODEL names a version (NAME@REF), that version opened from the registry
 * (mlops_session_open_registry).
 */
int cli_open_model(mlops_session **out, const cli_context *ctx, const cli_command *command, const char *model,
                   const char *options, const mlops_frame *calibration);
/*
 * Split the rows' columns: numeric ones not named in `exclude` (comma list)
 * form the model input in order; the others are carried along (`carried` may be NULL).
 */
int cli_split_columns(mlops_frame **input, mlops_frame **carried, const mlops_frame *rows, const char *exclude);
/* The input as a dense float matrix (malloc'd) after checking its width against the session's; NULL after printing. */
float *cli_input_matrix(const mlops_session *session, const mlops_frame *input, const char *path);

/* The library's JSON documents, read for human output. */
#define CLI_JSON_NULL 1
#define CLI_JSON_BOOL 2
#define CLI_JSON_NUMBER 3
#define CLI_JSON_STRING 4
#define CLI_JSON_ARRAY 5
#define CLI_JSON_OBJECT 6
typedef struct cli_json cli_json;
/* Parse a document (free with cli_json_free()); NULL after printing an error. */
cli_json *cli_json_parse(const char *text);
void cli_json_free(cli_json *node);
int cli_json_type(const cli_json *node);
size_t cli_json_count(const cli_json *node);
const cli_json *cli_json_item(const cli_json *node, size_t index);
const char *cli_json_key(const cli_json *node);
/* Member at a dotted path ("artifact.size"); NULL when absent. */
const cli_json *cli_json_get(const cli_json *node, const char *path);
/* Text of a string, number or bool; NULL otherwise. */
const char *cli_json_text(const cli_json *node);
double cli_json_number(const cli_json *node);
/* Write `node` back as compact JSON (NULL as null). */
void cli_json_print(FILE *out, const cli_json *node);

/* Cell formats of a column of a JSON table. */
#define CLI_CELL_TEXT 0
#define CLI_CELL_TIME 1    /* microseconds since the epoch, shown as ISO 8601 */
#define CLI_CELL_BYTES 2
#define CLI_CELL_NUMBER 3  /* four significant digits */
typedef struct cli_column {
    const char *header;
    const char *path;  /* dotted path inside each element */
    int format;        /* CLI_CELL_* */
} cli_column;
/* A table cell for `node` (arrays and objects compacted); free with free(). */
char *cli_json_cell(const cli_json *node, int format);
/* Print a JSON array as a table of `columns`. */
void cli_json_table(const cli_json *array, const cli_column *columns, size_t count, FILE *out);
/* Print chosen fields of a JSON object as "label  value" lines. */
void cli_json_fields(const cli_json *object, const cli_column *fields, size_t count, FILE *out);
/*
 * Take a library document (freed here): with --json print it as it is and
 * leave *doc_out NULL, else parse it into *doc_out (free with cli_json_free()).
 */
int cli_take_document(cli_json **doc_out, const cli_context *ctx, char *json);
/* Print a library document (freed here): as it is with --json, else as a table (array) or fields (object). */
int cli_print_document(const cli_context *ctx, char *json, const cli_column *columns, size_t count);
/* Print a library object (freed here): as it is with --json, else its `fields`, then its array `member` as a table. */
int cli_print_fields_and_table(const cli_context *ctx, char *json, const cli_column *fields, size_t field_count,
                               const char *member, const cli_column *columns, size_t column_count);
void cli_format_time(char *out, size_t cap, int64_t time_us);
void cli_format_bytes(char *out, size_t cap, double bytes);

/* Progress bars on stderr, drawn only when it is a terminal and the work lasts. */
typedef struct cli_progress {
    const char *label;
    const char *unit;   /* "rows", "bytes" (shown in KiB/MiB/GiB), ... */
    int64_t total;
    int64_t done;
    int64_t drawn_done; /* `done` when last drawn */
    double start;
    double last_draw;
    int enabled;
    int drawn;
} cli_progress;
#define CLI_CHUNK ((size_t)1 << 20)
void cli_progress_start(cli_progress *progress, const char *label, const char *unit, int64_t total);
void cli_progress_update(cli_progress *progress, int64_t done);
void cli_progress_end(cli_progress *progress);

/* Frames. */
void cli_format_cell(char *out, size_t cap, const mlops_frame *frame, size_t col, size_t row);
/* Print a frame as a table, or with --json as an array of row objects. */
void cli_frame_print(const cli_context *ctx, const mlops_frame *frame);
/* Copy rows [start, start + count) of `frame` into a new frame. */
int cli_frame_slice(mlops_frame **out, const mlops_frame *frame, size_t start, size_t count);
/* Write `frame` as CSV to `path`, or to standard output when `path` is NULL. */
int cli_write_csv(const mlops_frame *frame, const char *path);
/* CSV reading options {"schema": SCHEMA} from a --schema value (NULL: every type inferred). */
void cli_csv_schema(cli_buf *options, const char *schema_json);
/* A frame of keys from arguments "col=value[,col=value]" (one row each), typed like `layout` (may be NULL). */
int cli_keys_frame(mlops_frame **out, const cli_command *command, const char *const *keys, size_t count,
                   const mlops_frame *layout);

extern const cli_command cli_cmd_info;
extern const cli_command cli_cmd_check;
extern const cli_command cli_cmd_csv;
/* The registry (cmd_registry.c). */
extern const cli_command cli_cmd_model_create;
extern const cli_command cli_cmd_model_list;
extern const cli_command cli_cmd_model_show;
extern const cli_command cli_cmd_version_register;
extern const cli_command cli_cmd_version_list;
extern const cli_command cli_cmd_version_show;
extern const cli_command cli_cmd_version_approve;
extern const cli_command cli_cmd_metrics_log;
extern const cli_command cli_cmd_metrics_list;
extern const cli_command cli_cmd_alias_set;
extern const cli_command cli_cmd_alias_rollback;
extern const cli_command cli_cmd_alias_history;
extern const cli_command cli_cmd_alias_at;
extern const cli_command cli_cmd_gate_set;
extern const cli_command cli_cmd_gate_get;
extern const cli_command cli_cmd_run_list;
extern const cli_command cli_cmd_run_show;
extern const cli_command cli_cmd_lineage_of;
extern const cli_command cli_cmd_lineage_users;
extern const cli_command cli_cmd_audit_list;
extern const cli_command cli_cmd_audit_verify;
extern const cli_command cli_cmd_bundle_export;
extern const cli_command cli_cmd_bundle_import;
extern const cli_command cli_cmd_bundle_keygen;
extern const cli_command cli_cmd_bundle_trust;
/* The feature store (cmd_features.c). */
extern const cli_command cli_cmd_entity_define;
extern const cli_command cli_cmd_view_define;
extern const cli_command cli_cmd_view_show;
extern const cli_command cli_cmd_features_ingest;
extern const cli_command cli_cmd_features_get;
extern const cli_command cli_cmd_features_asof;
extern const cli_command cli_cmd_features_join;
extern const cli_command cli_cmd_features_forget;
extern const cli_command cli_cmd_features_stats;
extern const cli_command cli_cmd_features_quarantine;
extern const cli_command cli_cmd_features_retry;
/* Drift (cmd_drift.c) and inference (cmd_infer.c). */
extern const cli_command cli_cmd_drift;
extern const cli_command cli_cmd_drift_profile;
extern const cli_command cli_cmd_drift_record;
extern const cli_command cli_cmd_drift_windows;
extern const cli_command cli_cmd_drift_trend;
extern const cli_command cli_cmd_predict;
extern const cli_command cli_cmd_accuracy;
extern const cli_command cli_cmd_plan;
extern const cli_command cli_cmd_explain;
/* Training (cmd_train.c). */
extern const cli_command cli_cmd_train;
extern const cli_command cli_cmd_report;
extern const cli_command cli_cmd_serve_stats;

#endif /* MLOPS_CLI_H */
