/*
 * The library's own allocations, routed through an optional host allocator,
 * and the growable buffer built on them.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_int.h"

static void *default_malloc(size_t size, void *payload)
{
    (void)payload;
    return malloc(size);
}

static void *default_realloc(void *ptr, size_t size, void *payload)
{
    (void)payload;
    return realloc(ptr, size);
}

static void default_free(void *ptr, void *payload)
{
    (void)payload;
    free(ptr);
}

static mlops_allocator active = {
    MLOPS_ALLOCATOR_VERSION, default_malloc, default_realloc, default_free, NULL
};

int mlops_allocator_set(const mlops_allocator *allocator)
{
    if (!allocator) {
        active.malloc_fn = default_malloc;
        active.realloc_fn = default_realloc;
        active.free_fn = default_free;
        active.payload = NULL;
        return MLOPS_OK;
    }
    if (allocator->version != MLOPS_ALLOCATOR_VERSION)
        return mlops__error(MLOPS_EINVAL, "core", "mlops_allocator_set: version %u, expected %u",
                            (unsigned)allocator->version, (unsigned)MLOPS_ALLOCATOR_VERSION);
    if (!allocator->malloc_fn || !allocator->realloc_fn || !allocator->free_fn)
        return mlops__error(MLOPS_EINVAL, "core", "mlops_allocator_set: all three functions are required");
    active = *allocator;
    return MLOPS_OK;
}

void *mlops__malloc(size_t size)
{
    return active.malloc_fn(size ? size : 1, active.payload);
}

void *mlops__calloc(size_t count, size_t size)
{
    void *ptr;
    if (size && count > SIZE_MAX / size)
        return NULL;
    ptr = mlops__malloc(count * size);
    if (ptr)
        memset(ptr, 0, count * size > 0 ? count * size : 1);
    return ptr;
}

void *mlops__realloc(void *ptr, size_t size)
{
    if (!ptr)
        return mlops__malloc(size);
    return active.realloc_fn(ptr, size ? size : 1, active.payload);
}

void mlops__free(void *ptr)
{
    if (ptr)
        active.free_fn(ptr, active.payload);
}

void mlops_free(void *ptr)
{
    mlops__free(ptr);
}

char *mlops__strndup(const char *text, size_t len)
{
    char *copy = mlops__malloc(len + 1);
    if (!copy)
        return NULL;
    memcpy(copy, text, len);
    copy[len] = '\0';
    return copy;
}

char *mlops__strdup(const char *text)
{
    return mlops__strndup(text, strlen(text));
}

int mlops__grow(void **array, size_t *capacity, size_t needed, size_t item_size)
{
    size_t cap = *capacity;
    void *grown;

    if (needed <= cap)
        return MLOPS_OK;
    if (cap < 8)
        cap = 8;
    while (cap < needed) {
        if (cap > SIZE_MAX / 2)
            return MLOPS_ENOMEM;
        cap *= 2;
    }
    if (cap > SIZE_MAX / item_size)
        return MLOPS_ENOMEM;
    grown = mlops__realloc(*array, cap * item_size);
    if (!grown)
        return MLOPS_ENOMEM;
    *array = grown;
    *capacity = cap;
    return MLOPS_OK;
}

void mlops__buf_init(mlops__buf *buf)
{
    memset(buf, 0, sizeof *buf);
}

void mlops__buf_free(mlops__buf *buf)
{
    mlops__free(buf->data);
    mlops__buf_init(buf);
}

void mlops__buf_append(mlops__buf *buf, const void *data, size_t len)
{
    void *array = buf->data;
    if (buf->failed)
        return;
    if (len > SIZE_MAX - buf->len - 1 ||
        mlops__grow(&array, &buf->cap, buf->len + len + 1, 1) != MLOPS_OK) {
        buf->failed = 1;
        return;
    }
    buf->data = array;
    if (len)
        memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
}

void mlops__buf_puts(mlops__buf *buf, const char *text)
{
    mlops__buf_append(buf, text, strlen(text));
}

void mlops__buf_putc(mlops__buf *buf, char c)
{
    mlops__buf_append(buf, &c, 1);
}

void mlops__buf_printf(mlops__buf *buf, const char *fmt, ...)
{
    char small[256];
    va_list args;
    int n;

    va_start(args, fmt);
    n = vsnprintf(small, sizeof small, fmt, args);
    va_end(args);
    if (n < 0) {
        buf->failed = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        mlops__buf_append(buf, small, (size_t)n);
        return;
    }
    {
        char *large = mlops__malloc((size_t)n + 1);
        if (!large) {
            buf->failed = 1;
            return;
        }
        va_start(args, fmt);
        vsnprintf(large, (size_t)n + 1, fmt, args);
        va_end(args);
        mlops__buf_append(buf, large, (size_t)n);
        mlops__free(large);
    }
}

void mlops__buf_json_double(mlops__buf *buf, double value)
{
    char text[40];
    if (!isfinite(value)) {
        mlops__buf_puts(buf, "null");
        return;
    }
    mlops__format_double(text, sizeof text, value);
    mlops__buf_puts(buf, text);
}

void mlops__buf_json_string(mlops__buf *buf, const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    mlops__buf_putc(buf, '"');
    for (; *p; p++) {
        switch (*p) {
        case '"': mlops__buf_puts(buf, "\\\""); break;
        case '\\': mlops__buf_puts(buf, "\\\\"); break;
        case '\n': mlops__buf_puts(buf, "\\n"); break;
        case '\r': mlops__buf_puts(buf, "\\r"); break;
        case '\t': mlops__buf_puts(buf, "\\t"); break;
        default:
            if (*p < 0x20)
                mlops__buf_printf(buf, "\\u%04x", *p);
            else
                mlops__buf_putc(buf, (char)*p);
        }
    }
    mlops__buf_putc(buf, '"');
}

int mlops__buf_status(const mlops__buf *buf, const char *subsystem)
{
    if (buf->failed)
        return mlops__error(MLOPS_ENOMEM, subsystem, "out of memory growing a buffer of %zu bytes", buf->len);
    return MLOPS_OK;
}

char *mlops__buf_detach(mlops__buf *buf, size_t *len_out)
{
    char *data = buf->data;
    if (!data)
        data = mlops__strdup("");
    if (len_out)
        *len_out = data ? buf->len : 0;
    mlops__buf_init(buf);
    return data;
}
