/*
 * Strict reading of JSON documents over cJSON: every refusal names the path
 * of the offending member ("$.features[2].type") or the line and column of a
 * syntax error.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core_int.h"

/* Line and column (1-based) of `end` within `text`. */
static void line_column(size_t *line, size_t *column, const char *text, const char *end)
{
    const char *p;
    *line = 1;
    *column = 1;
    for (p = text; p < end && *p; p++) {
        if (*p == '\n') {
            (*line)++;
            *column = 1;
        } else {
            (*column)++;
        }
    }
}

/*
 * The first place where arrays and objects nest deeper than the limit, or
 * NULL. Brackets inside strings do not count; the scan stops at the first
 * unterminated string and leaves the syntax to cJSON.
 */
static const char *too_deep(const char *text)
{
    const char *p;
    int depth = 0;
    for (p = text; *p; p++) {
        if (*p == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1])
                    p++;
            }
            if (!*p)
                return NULL;
        } else if (*p == '[' || *p == '{') {
            if (++depth > MLOPS__JSON_MAX_DEPTH)
                return p;
        } else if (*p == ']' || *p == '}') {
            depth--;
        }
    }
    return NULL;
}

/*
 * Find a number too large for a double (cJSON reads 1e999 as infinity, which
 * JSON cannot write back) and write its path into `path`; 0 when none.
 */
static int infinite_number(const cJSON *node, char *path, size_t cap)
{
    size_t len = strlen(path), index = 0;
    const cJSON *child;
    if (cJSON_IsNumber(node))
        return !isfinite(node->valuedouble);
    for (child = node->child; child; child = child->next, index++) {
        if (cJSON_IsObject(node))
            snprintf(path + len, cap - len, ".%s", child->string);
        else
            snprintf(path + len, cap - len, "[%zu]", index);
        if (infinite_number(child, path, cap))
            return 1;
    }
    path[len] = '\0';
    return 0;
}

int mlops__json_parse(mlops__json **out, const char *text, const char *subsystem, const char *what)
{
    char path[256] = "$";
    const char *end = NULL;
    size_t line, column;
    cJSON *doc;

    *out = NULL;
    if (!text)
        return mlops__error(MLOPS_EINVAL, subsystem, "%s: JSON text must not be NULL", what);
    if ((end = too_deep(text)) != NULL) {
        line_column(&line, &column, text, end);
        return mlops__error(MLOPS_ELIMIT, subsystem, "%s: JSON nests deeper than %d levels at line %zu column %zu",
                            what, MLOPS__JSON_MAX_DEPTH, line, column);
    }
    doc = cJSON_ParseWithOpts(text, &end, 1);
    if (!doc) {
        line_column(&line, &column, text, end ? end : text);
        return mlops__error(MLOPS_EFORMAT, subsystem, "%s: invalid JSON at line %zu column %zu", what, line,
                            column);
    }
    if (infinite_number(doc, path, sizeof path)) {
        cJSON_Delete(doc);
        return mlops__error(MLOPS_EFORMAT, subsystem, "%s: %s: number out of the range of a double", what, path);
    }
    *out = doc;
    return MLOPS_OK;
}

void mlops__json_free(mlops__json *json)
{
    cJSON_Delete(json);
}

int mlops__json_is_object(const mlops__json *node)
{
    return cJSON_IsObject(node) ? 1 : 0;
}

int mlops__json_is_array(const mlops__json *node)
{
    return cJSON_IsArray(node) ? 1 : 0;
}

int mlops__json_is_string(const mlops__json *node)
{
    return cJSON_IsString(node) ? 1 : 0;
}

int mlops__json_is_number(const mlops__json *node)
{
    return cJSON_IsNumber(node) ? 1 : 0;
}

int mlops__json_is_bool(const mlops__json *node)
{
    return cJSON_IsBool(node) ? 1 : 0;
}

const char *mlops__json_string(const mlops__json *node)
{
    return cJSON_IsString(node) ? node->valuestring : NULL;
}

double mlops__json_number(const mlops__json *node)
{
    return cJSON_IsNumber(node) ? node->valuedouble : NAN;
}

int mlops__json_bool(const mlops__json *node)
{
    return cJSON_IsTrue(node) ? 1 : 0;
}

mlops__json *mlops__json_get(const mlops__json *obj, const char *key)
{
    return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

size_t mlops__json_array_size(const mlops__json *arr)
{
    int n = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : 0;
    return n > 0 ? (size_t)n : 0;
}

mlops__json *mlops__json_at(const mlops__json *arr, size_t index)
{
    return cJSON_IsArray(arr) && index < (size_t)INT32_MAX ? cJSON_GetArrayItem(arr, (int)index) : NULL;
}

const char *mlops__json_key(const mlops__json *member)
{
    return member ? member->string : NULL;
}

mlops__json *mlops__json_first(const mlops__json *obj)
{
    return obj ? obj->child : NULL;
}

mlops__json *mlops__json_next(const mlops__json *member)
{
    return member ? member->next : NULL;
}

int mlops__json_check_keys(const mlops__json *obj, const char *path, const char *subsystem,
                           const char *const *allowed)
{
    const cJSON *member;
    if (!cJSON_IsObject(obj))
        return mlops__error(MLOPS_EFORMAT, subsystem, "%s: expected an object", path);
    for (member = obj->child; member; member = member->next) {
        const char *const *key = allowed;
        const cJSON *other;
        while (*key && strcmp(*key, member->string) != 0)
            key++;
        if (!*key)
            return mlops__error(MLOPS_EFORMAT, subsystem, "%s.%s: unknown key", path, member->string);
        for (other = obj->child; other != member; other = other->next) {
            if (strcmp(other->string, member->string) == 0)
                return mlops__error(MLOPS_EFORMAT, subsystem, "%s.%s: duplicate key", path, member->string);
        }
    }
    return MLOPS_OK;
}

int mlops__json_opt_int(int64_t *out, const mlops__json *obj, const char *key, const char *path,
                        const char *subsystem, int64_t min, int64_t max)
{
    const cJSON *item = mlops__json_get(obj, key);
    double v;
    if (!item)
        return MLOPS_OK;
    if (!cJSON_IsNumber(item))
        return mlops__error(MLOPS_EFORMAT, subsystem, "%s.%s: expected an integer", path, key);
    v = item->valuedouble;
    if (v != floor(v) || v < -9007199254740992.0 || v > 9007199254740992.0)
        return mlops__error(MLOPS_EFORMAT, subsystem, "%s.%s: expected an integer, got %g", path, key, v);
    if (v < (double)min || v > (double)max)
        return mlops__error(MLOPS_EFORMAT, subsystem, "%s.%s: %.0f is outside [%lld, %lld]", path, key, v,
                            (long long)min, (long long)max);
    *out = (int64_t)v;
    return MLOPS_OK;
}

int mlops__json_opt_double(double *out, const mlops__json *obj, const char *key, const char *path,
                           const char *subsystem, double min, double max)
{
    const cJSON *item = mlops__json_get(obj, key);
    if (!item)
        return MLOPS_OK;
    if (!cJSON_IsNumber(item))
        return mlops__error(MLOPS_EFORMAT, subsystem, "%s.%s: expected a number", path, key);
    if (!(item->valuedouble >= min && item->valuedouble <= max))
        return mlops__error(MLOPS_EFORMAT, subsystem, "%s.%s: %g is outside [%g, %g]", path, key,
                            item->valuedouble, min, max);
    *out = item->valuedouble;
    return MLOPS_OK;
}

int mlops__json_opt_bool(int *out, const mlops__json *obj, const char *key, const char *path,
                         const char *subsystem)
{
    const cJSON *item = mlops__json_get(obj, key);
    if (!item)
        return MLOPS_OK;
    if (!cJSON_IsBool(item))
        return mlops__error(MLOPS_EFORMAT, subsystem, "%s.%s: expected true or false", path, key);
    *out = cJSON_IsTrue(item) ? 1 : 0;
    return MLOPS_OK;
}

int mlops__json_opt_string(const char **out, const mlops__json *obj, const char *key, const char *path,
                           const char *subsystem)
{
    const cJSON *item = mlops__json_get(obj, key);
    if (!item)
        return MLOPS_OK;
    if (!cJSON_IsString(item))
        return mlops__error(MLOPS_EFORMAT, subsystem, "%s.%s: expected a string", path, key);
    *out = item->valuestring;
    return MLOPS_OK;
}

char *mlops__json_print(const mlops__json *node)
{
    char *text = cJSON_PrintUnformatted(node);
    char *copy;
    if (!text)
        return NULL;
    copy = mlops__strdup(text);
    cJSON_free(text);
    return copy;
}
