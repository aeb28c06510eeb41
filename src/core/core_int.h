/*
 * Private core services shared by every subsystem: error detail, allocation,
 * growable buffers, strict JSON reading, hashing, compression, time.
 * Never installed; never exported.
 */
#ifndef MLOPS_CORE_INT_H
#define MLOPS_CORE_INT_H

#include <stdarg.h>
#include <stdint.h>
#include <stddef.h>

#include "mlops/common.h"

#if defined(__GNUC__)
#  define MLOPS__PRINTF(fmt_idx, arg_idx) __attribute__((format(printf, fmt_idx, arg_idx)))
#else
#  define MLOPS__PRINTF(fmt_idx, arg_idx)
#endif

/* ---- errors --------------------------------------------------------------
 * Set this thread's error detail and return `code`, so a failing path reads
 * `return mlops__error(MLOPS_EINVAL, "frame", "column %zu out of range", c);`.
 */
int mlops__error(int code, const char *subsystem, const char *fmt, ...) MLOPS__PRINTF(3, 4);
/* As mlops__error(), also recording the dependency's own code. */
int mlops__error_dep(int code, const char *subsystem, int32_t dependency_code, const char *fmt, ...)
    MLOPS__PRINTF(4, 5);
/* Prefix the current error message with "prefix: ", keeping code and subsystem; returns the code. */
int mlops__error_prefix(const char *fmt, ...) MLOPS__PRINTF(1, 2);
/* Shorthand for the argument check every public function starts with. */
int mlops__error_null(const char *subsystem, const char *function, const char *argument);
#ifdef __clang_analyzer__
/*
 * The static analyser reads one file at a time and cannot see that these
 * return their (non-zero) code, so it explores "failed but returned 0" paths
 * that do not exist. Spelling the result out removes them from its view only;
 * compiled code is unchanged. Definitions in error.c parenthesize the names.
 */
#define mlops__error(code, ...) (mlops__error((code), __VA_ARGS__), (code))
#define mlops__error_dep(code, ...) (mlops__error_dep((code), __VA_ARGS__), (code))
#define mlops__error_null(...) (mlops__error_null(__VA_ARGS__), MLOPS_EINVAL)
#endif

/* ---- allocation (routed through mlops_allocator_set) ----------------------- */
void *mlops__malloc(size_t size);
void *mlops__calloc(size_t count, size_t size);
void *mlops__realloc(void *ptr, size_t size);
void mlops__free(void *ptr);
char *mlops__strdup(const char *text);
char *mlops__strndup(const char *text, size_t len);
/* Grow `*array` (of `*capacity` items of `item_size`) to hold at least `needed`; 0 or MLOPS_ENOMEM. */
int mlops__grow(void **array, size_t *capacity, size_t needed, size_t item_size);

/* ---- growable byte buffer --------------------------------------------------- */
typedef struct mlops__buf {
    char *data;      /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
    int failed;      /* sticky: an append ran out of memory */
} mlops__buf;

void mlops__buf_init(mlops__buf *buf);
void mlops__buf_free(mlops__buf *buf);
void mlops__buf_append(mlops__buf *buf, const void *data, size_t len);
void mlops__buf_puts(mlops__buf *buf, const char *text);
void mlops__buf_putc(mlops__buf *buf, char c);
void mlops__buf_printf(mlops__buf *buf, const char *fmt, ...) MLOPS__PRINTF(2, 3);
/* Append `text` as a JSON string literal with quotes and escapes. */
void mlops__buf_json_string(mlops__buf *buf, const char *text);
/* Append `value` as a JSON number that reads back to the same bits (null when not finite). */
void mlops__buf_json_double(mlops__buf *buf, double value);
/* MLOPS_ENOMEM (with a message) if any append failed, else MLOPS_OK. */
int mlops__buf_status(const mlops__buf *buf, const char *subsystem);
/* Hand the bytes to the caller (free with mlops_free) and reset the buffer. */
char *mlops__buf_detach(mlops__buf *buf, size_t *len_out);

/* ---- strict JSON documents ------------------------------------------------
 * A thin layer over cJSON that names the path of every problem ("$.a[2].b").
 * The cJSON type stays private to core: callers see mlops__json only.
 */
typedef struct cJSON mlops__json;

/* Deepest nesting of arrays and objects a document may have (cJSON itself stops at 1000). */
#define MLOPS__JSON_MAX_DEPTH 64
/*
 * Parse `text` (what = "options", "view definition", ...); MLOPS_EFORMAT with
 * line:column, MLOPS_ELIMIT when it nests deeper than MLOPS__JSON_MAX_DEPTH.
 */
int mlops__json_parse(mlops__json **out, const char *text, const char *subsystem, const char *what);
void mlops__json_free(mlops__json *json);
/* Refuse any key of object `obj` (at `path`) not listed in the NULL-terminated `allowed`. */
int mlops__json_check_keys(const mlops__json *obj, const char *path, const char *subsystem,
                           const char *const *allowed);
/* Is `node` an object / array? */
int mlops__json_is_object(const mlops__json *node);
int mlops__json_is_array(const mlops__json *node);
/* Child of object by key (NULL when absent), array length and element. */
mlops__json *mlops__json_get(const mlops__json *obj, const char *key);
size_t mlops__json_array_size(const mlops__json *arr);
mlops__json *mlops__json_at(const mlops__json *arr, size_t index);
/* Key of an object member (during iteration) and the first/next member. */
const char *mlops__json_key(const mlops__json *member);
mlops__json *mlops__json_first(const mlops__json *obj);
mlops__json *mlops__json_next(const mlops__json *member);
/* Typed optional members: absent leaves *out unchanged and returns MLOPS_OK. */
int mlops__json_opt_int(int64_t *out, const mlops__json *obj, const char *key, const char *path,
                        const char *subsystem, int64_t min, int64_t max);
int mlops__json_opt_double(double *out, const mlops__json *obj, const char *key, const char *path,
                           const char *subsystem, double min, double max);
int mlops__json_opt_bool(int *out, const mlops__json *obj, const char *key, const char *path,
                         const char *subsystem);
/* *out borrows the document's string. */
int mlops__json_opt_string(const char **out, const mlops__json *obj, const char *key, const char *path,
                           const char *subsystem);
/* Value tests and readers for a node itself. */
int mlops__json_is_string(const mlops__json *node);
int mlops__json_is_number(const mlops__json *node);
int mlops__json_is_bool(const mlops__json *node);
const char *mlops__json_string(const mlops__json *node);
double mlops__json_number(const mlops__json *node);
int mlops__json_bool(const mlops__json *node);
/* Serialize compactly into a new string (free with mlops__free). */
char *mlops__json_print(const mlops__json *node);

/* ---- hashing ---------------------------------------------------------------- */
#define MLOPS__SHA256_BYTES 32
typedef struct mlops__sha256 { uint64_t opaque[16]; } mlops__sha256; /* holds crypto_hash_sha256_state */
void mlops__sha256_init(mlops__sha256 *state);
void mlops__sha256_update(mlops__sha256 *state, const void *data, size_t len);
void mlops__sha256_final(mlops__sha256 *state, uint8_t digest[MLOPS__SHA256_BYTES]);
void mlops__sha256_digest(uint8_t digest[MLOPS__SHA256_BYTES], const void *data, size_t len);
/* Lowercase hex of `len` bytes into `out` (2 * len + 1 bytes). */
void mlops__hex(char *out, const uint8_t *bytes, size_t len);
/* 64-bit non-cryptographic hash (stable across platforms and releases). */
uint64_t mlops__hash64(const void *data, size_t len, uint64_t seed);

/* ---- compression ------------------------------------------------------------ */
/* Compress into a new buffer (mlops__free). */
int mlops__zstd_compress(void **out, size_t *out_len, const void *src, size_t len, int level,
                         const char *subsystem);
/* Decompress a frame whose content size must be recorded and at most `max_len`. */
int mlops__zstd_decompress(void **out, size_t *out_len, const void *src, size_t len, size_t max_len,
                           const char *subsystem);

/* ---- time ------------------------------------------------------------------- */
/* Wall clock, microseconds since the Unix epoch, UTC. */
int64_t mlops__now_us(void);
/* Monotonic clock in nanoseconds, for durations. */
int64_t mlops__monotonic_ns(void);
/* Parse ISO 8601 ("2024-03-01", "2024-03-01T12:00:00.25Z", "+01:00" offsets) to µs; 0 or -1. */
int mlops__time_parse_iso8601(int64_t *out, const char *text, size_t len);
/* Format µs as "YYYY-MM-DDTHH:MM:SS.ffffffZ" into `out` of MLOPS__TIME_TEXT_MAX bytes. */
#define MLOPS__TIME_TEXT_MAX 48
void mlops__time_format_iso8601(char *out, int64_t us);

/* ---- files ------------------------------------------------------------------------ */
/*
 * Read the whole file at `path` (`what` names it in messages: "CSV file",
 * "model file") into a new NUL-terminated buffer (mlops__free). A missing file
 * is MLOPS_ENOTFOUND, a larger one than `max_len` MLOPS_ELIMIT.
 */
int mlops__read_file(char **out, size_t *len_out, const char *path, size_t max_len, const char *subsystem,
                     const char *what);

/* ---- text ---------------------------------------------------------------------- */
/* 1 if `len` bytes are valid UTF-8 (no overlongs, no surrogates); else 0 and the offset of the bad byte. */
int mlops__utf8_valid(const char *text, size_t len, size_t *bad_offset);
/* Format a double so that strtod gives back the same bits (shortest of %.15g/%.16g/%.17g). */
void mlops__format_double(char *out, size_t cap, double value);

#endif /* MLOPS_CORE_INT_H */
