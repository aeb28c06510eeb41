/*
 * Thread-local error detail and the names of status codes.
 */
#include <stdio.h>
#include <string.h>

#include "core_int.h"

#define MLOPS__ERROR_MESSAGE_MAX 1024

typedef struct error_slot {
    mlops_error public_view;
    char subsystem[32];
    char message[MLOPS__ERROR_MESSAGE_MAX];
} error_slot;

static _Thread_local error_slot tls_error = {
    {MLOPS_OK, 0, "", "no error"}, "", "no error"
};

static void error_set(int code, const char *subsystem, int32_t dependency_code, const char *fmt,
                      va_list args)
{
    tls_error.public_view.code = code;
    tls_error.public_view.dependency_code = dependency_code;
    snprintf(tls_error.subsystem, sizeof tls_error.subsystem, "%s", subsystem ? subsystem : "");
    vsnprintf(tls_error.message, sizeof tls_error.message, fmt, args);
    tls_error.public_view.subsystem = tls_error.subsystem;
    tls_error.public_view.message = tls_error.message;
}

int (mlops__error)(int code, const char *subsystem, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    error_set(code, subsystem, 0, fmt, args);
    va_end(args);
    return code;
}

int (mlops__error_dep)(int code, const char *subsystem, int32_t dependency_code, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    error_set(code, subsystem, dependency_code, fmt, args);
    va_end(args);
    return code;
}

int mlops__error_prefix(const char *fmt, ...)
{
    char prefix[MLOPS__ERROR_MESSAGE_MAX];
    char old[MLOPS__ERROR_MESSAGE_MAX];
    va_list args;

    va_start(args, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, args);
    va_end(args);
    memcpy(old, tls_error.message, sizeof old);
    {
        size_t used = strlen(prefix);
        if (used > sizeof tls_error.message - 3)
            used = sizeof tls_error.message - 3;
        memcpy(tls_error.message, prefix, used);
        memcpy(tls_error.message + used, ": ", 2);
        used += 2;
        snprintf(tls_error.message + used, sizeof tls_error.message - used, "%.*s",
                 (int)(sizeof tls_error.message - used - 1), old);
    }
    tls_error.public_view.message = tls_error.message;
    return tls_error.public_view.code;
}

int (mlops__error_null)(const char *subsystem, const char *function, const char *argument)
{
    return mlops__error(MLOPS_EINVAL, subsystem, "%s: %s must not be NULL", function, argument);
}

const mlops_error *mlops_error_last(void)
{
    tls_error.public_view.subsystem = tls_error.subsystem;
    tls_error.public_view.message = tls_error.message;
    return &tls_error.public_view;
}

void mlops_error_clear(void)
{
    tls_error.public_view.code = MLOPS_OK;
    tls_error.public_view.dependency_code = 0;
    tls_error.subsystem[0] = '\0';
    snprintf(tls_error.message, sizeof tls_error.message, "no error");
}

const char *mlops_strerror(int code)
{
    switch (code) {
    case MLOPS_OK: return "MLOPS_OK: success";
    case MLOPS_DONE: return "MLOPS_DONE: no more items";
    case MLOPS_NULL: return "MLOPS_NULL: the value is null";
    case MLOPS_EINVAL: return "MLOPS_EINVAL: invalid argument";
    case MLOPS_ENOTFOUND: return "MLOPS_ENOTFOUND: not found";
    case MLOPS_EEXISTS: return "MLOPS_EEXISTS: already exists";
    case MLOPS_ECONFLICT: return "MLOPS_ECONFLICT: conflicts with the stored state";
    case MLOPS_ECORRUPT: return "MLOPS_ECORRUPT: damaged data";
    case MLOPS_EIO: return "MLOPS_EIO: input/output error";
    case MLOPS_ENOMEM: return "MLOPS_ENOMEM: out of memory";
    case MLOPS_EUNSUPPORTED: return "MLOPS_EUNSUPPORTED: not supported";
    case MLOPS_EPOLICY: return "MLOPS_EPOLICY: refused by policy";
    case MLOPS_EBUSY: return "MLOPS_EBUSY: database busy";
    case MLOPS_ESCHEMA: return "MLOPS_ESCHEMA: not a database of a known schema";
    case MLOPS_EBUFSIZE: return "MLOPS_EBUFSIZE: buffer too small";
    case MLOPS_EFORMAT: return "MLOPS_EFORMAT: malformed input";
    case MLOPS_ELIMIT: return "MLOPS_ELIMIT: resource limit exceeded";
    case MLOPS_ESTATE: return "MLOPS_ESTATE: invalid state for this call";
    case MLOPS_EINTERNAL: return "MLOPS_EINTERNAL: internal error";
    default: return "unknown status code";
    }
}
