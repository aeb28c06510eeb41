/*
 * Entities and feature views: strict parsing of their JSON definitions,
 * storage, versioning with the compatibility rules, and loading.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "features_int.h"

#define FS_NAME_MAX 63

static const char *const reserved_names[] = {"event_time", "age_us", "quarantine_id", "rule", "column",
                                             "message", "system_time", NULL};


static int32_t type_from_name(const char *name)
{
    static const int32_t types[] = {MLOPS_TYPE_INT64, MLOPS_TYPE_FLOAT64, MLOPS_TYPE_BOOL, MLOPS_TYPE_STRING,
                                    MLOPS_TYPE_F32VEC};
    size_t i;
    for (i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(name, mlops_frame_type_name(types[i])) == 0)
            return types[i];
    return 0;
}

/* A required identifier member: [A-Za-z_][A-Za-z0-9_]*, at most FS_NAME_MAX bytes. */
static int get_name(const char **out, const mlops__json *obj, const char *key, const char *path)
{
    const char *name = NULL;
    size_t i, len;
    int rc = mlops__json_opt_string(&name, obj, key, path, "features");
    if (rc)
        return rc;
    if (!name)
        return mlops__error(MLOPS_EFORMAT, "features", "%s.%s: required", path, key);
    len = strlen(name);
    for (i = 0; i < len; i++) {
        char c = name[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            break;
    }
    if (len == 0 || len > FS_NAME_MAX || i < len)
        return mlops__error(MLOPS_EFORMAT, "features",
                            "%s.%s: \"%s\" is not a name (letters, digits, _; at most %d bytes)", path, key, name,
                            FS_NAME_MAX);
    *out = name;
    return MLOPS_OK;
}

static int dup_string(char **out, const char *text)
{
    *out = mlops__strdup(text ? text : "");
    return *out ? MLOPS_OK : mlops__error(MLOPS_ENOMEM, "features", "out of memory reading a definition");
}

void mlops__fs_entity_clear(fs_entity *entity)
{
    size_t i;
    if (!entity)
        return;
    for (i = 0; i < entity->key_count; i++)
        mlops__free(entity->keys[i].name);
    mlops__free(entity->keys);
    mlops__free(entity->name);
    mlops__free(entity->description);
    memset(entity, 0, sizeof *entity);
}

static int entity_parse(fs_entity *out, const char *json)
{
    static const char *const top_keys[] = {"name", "keys", "description", NULL};
    static const char *const key_keys[] = {"name", "type", NULL};
    mlops__json *doc = NULL;
    const mlops__json *keys;
    const char *name = NULL, *description = NULL;
    char path[64];
    size_t i, j, count;
    int rc;

    memset(out, 0, sizeof *out);
    if ((rc = mlops__json_parse(&doc, json, "features", "entity definition")))
        return rc;
    if (!mlops__json_is_object(doc)) {
        rc = mlops__error(MLOPS_EFORMAT, "features", "$: an entity definition is an object");
        goto out_free_doc;
    }
    if ((rc = mlops__json_check_keys(doc, "$", "features", top_keys)) || (rc = get_name(&name, doc, "name", "$")) ||
        (rc = mlops__json_opt_string(&description, doc, "description", "$", "features")))
        goto out_free_doc;
    keys = mlops__json_get(doc, "keys");
    if (!keys || !mlops__json_is_array(keys) || (count = mlops__json_array_size(keys)) == 0 || count > 8) {
        rc = mlops__error(MLOPS_EFORMAT, "features", "$.keys: expected an array of 1 to 8 key columns");
        goto out_free_doc;
    }
    if ((rc = dup_string(&out->name, name)) || (rc = dup_string(&out->description, description)))
        goto out_clear;
    out->keys = mlops__calloc(count, sizeof *out->keys);
    if (!out->keys) {
        rc = mlops__error(MLOPS_ENOMEM, "features", "out of memory reading an entity");
        goto out_clear;
    }
    for (i = 0; i < count; i++) {
        const mlops__json *key = mlops__json_at(keys, i);
        const char *key_name = NULL, *type = NULL;
        snprintf(path, sizeof path, "$.keys[%zu]", i);
        if (!mlops__json_is_object(key)) {
            rc = mlops__error(MLOPS_EFORMAT, "features", "%s: expected an object", path);
            goto out_clear;
        }
        if ((rc = mlops__json_check_keys(key, path, "features", key_keys)) ||
            (rc = get_name(&key_name, key, "name", path)) ||
            (rc = mlops__json_opt_string(&type, key, "type", path, "features")))
            goto out_clear;
        if (!type || (strcmp(type, "int64") != 0 && strcmp(type, "string") != 0)) {
            rc = mlops__error(MLOPS_EFORMAT, "features", "%s.type: expected \"int64\" or \"string\"", path);
            goto out_clear;
        }
        for (j = 0; j < i; j++)
            if (strcmp(out->keys[j].name, key_name) == 0) {
                rc = mlops__error(MLOPS_EFORMAT, "features", "%s.name: duplicate key column \"%s\"", path, key_name);
                goto out_clear;
            }
        for (j = 0; reserved_names[j]; j++)
            if (strcmp(reserved_names[j], key_name) == 0) {
                rc = mlops__error(MLOPS_EFORMAT, "features", "%s.name: \"%s\" is reserved", path, key_name);
                goto out_clear;
            }
        out->keys[i].type = strcmp(type, "int64") == 0 ? MLOPS_TYPE_INT64 : MLOPS_TYPE_STRING;
        if ((rc = dup_string(&out->keys[i].name, key_name)))
            goto out_clear;
        out->key_count = i + 1;
    }
    goto out_free_doc;

out_clear:
    mlops__fs_entity_clear(out);
out_free_doc:
    mlops__json_free(doc);
    return rc;
}

static int entity_equal(const fs_entity *a, const fs_entity *b)
{
    size_t i;
    if (strcmp(a->name, b->name) != 0 || strcmp(a->description, b->description) != 0 || a->key_count != b->key_count)
        return 0;
    for (i = 0; i < a->key_count; i++)
        if (strcmp(a->keys[i].name, b->keys[i].name) != 0 || a->keys[i].type != b->keys[i].type)
            return 0;
    return 1;
}

int mlops__fs_entity_load(fs_entity *out, mlops_db *db, const char *name)
{
    mlops__stmt *stmt = NULL;
    int rc;

    memset(out, 0, sizeof *out);
    if ((rc = mlops__db_prepare(&stmt, db, "SELECT definition FROM fs_entity WHERE name = ?1")))
        return rc;
    if ((rc = mlops__stmt_bind_text(stmt, 1, name, strlen(name))))
        goto out_release;
    rc = mlops__stmt_step(stmt);
    if (rc == MLOPS__ROW)
        rc = entity_parse(out, mlops__stmt_text(stmt, 0));
    else if (rc >= 0)
        rc = mlops__error(MLOPS_ENOTFOUND, "features", "entity \"%s\" not found", name);
out_release:
    mlops__stmt_release(stmt);
    return rc;
}

int mlops_entity_define(mlops_db *db, const char *definition_json)
{
    fs_entity entity, stored;
    mlops__stmt *stmt = NULL;
    int rc;

    if (!db)
        return mlops__error_null("features", "mlops_entity_define", "db");
    if (!definition_json)
        return mlops__error_null("features", "mlops_entity_define", "definition_json");
    if ((rc = entity_parse(&entity, definition_json)))
        return rc;
    if ((rc = mlops__tx_begin(db)))
        goto out_clear;
    rc = mlops__fs_entity_load(&stored, db, entity.name);
    if (rc == MLOPS_OK) {
        if (!entity_equal(&entity, &stored))
            rc = mlops__error(MLOPS_ECONFLICT, "features",
                              "entity \"%s\" already exists with a different definition", entity.name);
        mlops__fs_entity_clear(&stored);
        goto out_end;
    }
    if (rc != MLOPS_ENOTFOUND)
        goto out_end;
    if ((rc = mlops__db_prepare(&stmt, db, "INSERT INTO fs_entity(name, definition) VALUES (?1, ?2)")))
        goto out_end;
    if (!(rc = mlops__stmt_bind_text(stmt, 1, entity.name, strlen(entity.name))) &&
        !(rc = mlops__stmt_bind_text(stmt, 2, definition_json, strlen(definition_json))))
        rc = mlops__stmt_step(stmt);
    mlops__stmt_release(stmt);
    if (rc == MLOPS_DONE)
        rc = MLOPS_OK;
    if (rc == MLOPS_OK)
        rc = mlops__audit_append(db, "features.entity.define", entity.name, "{}");
out_end:
    rc = mlops__tx_end(db, rc);
out_clear:
    mlops__fs_entity_clear(&entity);
    return rc;
}

/* ---- views ---- */

static void feature_clear(fs_feature *f)
{
    size_t i;
    mlops__free(f->name);
    mlops__free(f->description);
    mlops__free(f->allowed_num);
    if (f->allowed_str)
        for (i = 0; i < f->allowed_count; i++)
            mlops__free(f->allowed_str[i]);
    mlops__free(f->allowed_str);
}

void mlops__fs_view_free(fs_view *view)
{
    size_t i;
    if (!view)
        return;
    for (i = 0; i < view->feature_count; i++)
        feature_clear(&view->features[i]);
    mlops__free(view->features);
    mlops__free(view->name);
    mlops__free(view->entity_name);
    mlops__free(view->description);
    mlops__fs_entity_clear(&view->entity);
    mlops__free(view);
}

static int parse_allowed(fs_feature *f, const mlops__json *list, const char *path)
{
    size_t i, n;
    if (!mlops__json_is_array(list) || (n = mlops__json_array_size(list)) == 0)
        return mlops__error(MLOPS_EFORMAT, "features", "%s.allowed: expected a non-empty array", path);
    if (f->type == MLOPS_TYPE_STRING)
        f->allowed_str = mlops__calloc(n, sizeof *f->allowed_str);
    else
        f->allowed_num = mlops__calloc(n, sizeof *f->allowed_num);
    if (f->type == MLOPS_TYPE_STRING ? !f->allowed_str : !f->allowed_num)
        return mlops__error(MLOPS_ENOMEM, "features", "out of memory reading a definition");
    for (i = 0; i < n; i++) {
        const mlops__json *item = mlops__json_at(list, i);
        if (f->type == MLOPS_TYPE_STRING) {
            if (!mlops__json_is_string(item))
                return mlops__error(MLOPS_EFORMAT, "features", "%s.allowed[%zu]: expected a string", path, i);
            f->allowed_count = i + 1;
            if (dup_string(&f->allowed_str[i], mlops__json_string(item)))
                return MLOPS_ENOMEM;
        } else {
            double v;
            if (!mlops__json_is_number(item))
                return mlops__error(MLOPS_EFORMAT, "features", "%s.allowed[%zu]: expected a number", path, i);
            v = mlops__json_number(item);
            if (f->type == MLOPS_TYPE_INT64 && v != floor(v))
                return mlops__error(MLOPS_EFORMAT, "features", "%s.allowed[%zu]: expected an integer", path, i);
            f->allowed_num[i] = v;
            f->allowed_count = i + 1;
        }
    }
    return MLOPS_OK;
}

static int parse_contract(fs_feature *f, const mlops__json *contract, const char *fpath)
{
    static const char *const contract_keys[] = {"not_null", "min", "max", "allowed", "max_length", "finite", NULL};
    char path[80];
    const mlops__json *allowed;
    int numeric = f->type == MLOPS_TYPE_INT64 || f->type == MLOPS_TYPE_FLOAT64 || f->type == MLOPS_TYPE_F32VEC;
    int rc;

    snprintf(path, sizeof path, "%s.contract", fpath);
    if (!mlops__json_is_object(contract))
        return mlops__error(MLOPS_EFORMAT, "features", "%s: expected an object", path);
    if ((rc = mlops__json_check_keys(contract, path, "features", contract_keys)) ||
        (rc = mlops__json_opt_bool(&f->not_null, contract, "not_null", path, "features")) ||
        (rc = mlops__json_opt_bool(&f->finite, contract, "finite", path, "features")))
        return rc;
    if ((mlops__json_get(contract, "min") || mlops__json_get(contract, "max")) && !numeric)
        return mlops__error(MLOPS_EFORMAT, "features", "%s: min and max apply to numeric features, not %s", path,
                            mlops_frame_type_name(f->type));
    if (mlops__json_get(contract, "finite") && f->type != MLOPS_TYPE_FLOAT64 && f->type != MLOPS_TYPE_F32VEC)
        return mlops__error(MLOPS_EFORMAT, "features", "%s.finite: applies to float64 and f32vec features", path);
    if (mlops__json_get(contract, "max_length") && f->type != MLOPS_TYPE_STRING)
        return mlops__error(MLOPS_EFORMAT, "features", "%s.max_length: applies to string features", path);
    if (mlops__json_get(contract, "min")) {
        f->has_min = 1;
        if ((rc = mlops__json_opt_double(&f->min, contract, "min", path, "features", -HUGE_VAL, HUGE_VAL)))
            return rc;
    }
    if (mlops__json_get(contract, "max")) {
        f->has_max = 1;
        if ((rc = mlops__json_opt_double(&f->max, contract, "max", path, "features", -HUGE_VAL, HUGE_VAL)))
            return rc;
    }
    if (f->has_min && f->has_max && f->min > f->max)
        return mlops__error(MLOPS_EFORMAT, "features", "%s: min %g is above max %g", path, f->min, f->max);
    if ((rc = mlops__json_opt_int(&f->max_length, contract, "max_length", path, "features", 0, INT32_MAX)))
        return rc;
    allowed = mlops__json_get(contract, "allowed");
    if (allowed) {
        if (f->type != MLOPS_TYPE_INT64 && f->type != MLOPS_TYPE_FLOAT64 && f->type != MLOPS_TYPE_STRING)
            return mlops__error(MLOPS_EFORMAT, "features", "%s.allowed: applies to int64, float64 and string", path);
        if ((rc = parse_allowed(f, allowed, path)))
            return rc;
    }
    return MLOPS_OK;
}

static int parse_feature(fs_feature *f, const mlops__json *node, const char *path)
{
    static const char *const feature_keys[] = {"name", "type", "dim", "description", "contract", NULL};
    const char *name = NULL, *type = NULL, *description = NULL;
    const mlops__json *contract;
    int64_t dim = 0;
    size_t i;
    int rc;

    f->max_length = -1;
    f->dim = 1;
    if (!mlops__json_is_object(node))
        return mlops__error(MLOPS_EFORMAT, "features", "%s: expected an object", path);
    if ((rc = mlops__json_check_keys(node, path, "features", feature_keys)) ||
        (rc = get_name(&name, node, "name", path)) ||
        (rc = mlops__json_opt_string(&type, node, "type", path, "features")) ||
        (rc = mlops__json_opt_string(&description, node, "description", path, "features")) ||
        (rc = mlops__json_opt_int(&dim, node, "dim", path, "features", 1, 65536)))
        return rc;
    for (i = 0; reserved_names[i]; i++)
        if (strcmp(reserved_names[i], name) == 0)
            return mlops__error(MLOPS_EFORMAT, "features", "%s.name: \"%s\" is reserved", path, name);
    if (!type)
        return mlops__error(MLOPS_EFORMAT, "features", "%s.type: required", path);
    f->type = type_from_name(type);
    if (!f->type)
        return mlops__error(MLOPS_EFORMAT, "features",
                            "%s.type: unknown type \"%s\" (int64, float64, bool, string, f32vec)", path, type);
    if (f->type == MLOPS_TYPE_F32VEC) {
        if (dim == 0)
            return mlops__error(MLOPS_EFORMAT, "features", "%s.dim: required for an f32vec feature", path);
        f->dim = (uint32_t)dim;
    } else if (dim != 0) {
        return mlops__error(MLOPS_EFORMAT, "features", "%s.dim: only f32vec features have a dimension", path);
    }
    if ((rc = dup_string(&f->name, name)) || (rc = dup_string(&f->description, description)))
        return rc;
    contract = mlops__json_get(node, "contract");
    return contract ? parse_contract(f, contract, path) : MLOPS_OK;
}

static uint32_t fixed_size(const fs_feature *f)
{
    switch (f->type) {
    case MLOPS_TYPE_BOOL: return 1;
    case MLOPS_TYPE_F32VEC: return 4 * f->dim;
    default: return 8;
    }
}

/* Parse a view definition (without loading its entity). */
static int view_parse(fs_view **out, const char *json)
{
    static const char *const top_keys[] = {"name", "entity", "ttl_us", "description", "features", NULL};
    mlops__json *doc = NULL;
    const mlops__json *features;
    const char *name = NULL, *entity = NULL, *description = NULL;
    fs_view *view;
    char path[48];
    size_t i, j, count;
    uint32_t offset;
    int rc;

    *out = NULL;
    view = mlops__calloc(1, sizeof *view);
    if (!view)
        return mlops__error(MLOPS_ENOMEM, "features", "out of memory reading a view definition");
    if ((rc = mlops__json_parse(&doc, json, "features", "view definition")))
        goto out_free_view;
    if (!mlops__json_is_object(doc)) {
        rc = mlops__error(MLOPS_EFORMAT, "features", "$: a view definition is an object");
        goto out_free_doc;
    }
    if ((rc = mlops__json_check_keys(doc, "$", "features", top_keys)) || (rc = get_name(&name, doc, "name", "$")) ||
        (rc = get_name(&entity, doc, "entity", "$")) ||
        (rc = mlops__json_opt_string(&description, doc, "description", "$", "features")) ||
        (rc = mlops__json_opt_int(&view->ttl_us, doc, "ttl_us", "$", "features", 0, INT64_C(9007199254740992))))
        goto out_free_doc;
    features = mlops__json_get(doc, "features");
    if (!features || !mlops__json_is_array(features) || (count = mlops__json_array_size(features)) == 0 ||
        count > 4096) {
        rc = mlops__error(MLOPS_EFORMAT, "features", "$.features: expected an array of 1 to 4096 features");
        goto out_free_doc;
    }
    if ((rc = dup_string(&view->name, name)) || (rc = dup_string(&view->entity_name, entity)) ||
        (rc = dup_string(&view->description, description)))
        goto out_free_doc;
    view->features = mlops__calloc(count, sizeof *view->features);
    if (!view->features) {
        rc = mlops__error(MLOPS_ENOMEM, "features", "out of memory reading a view definition");
        goto out_free_doc;
    }
    for (i = 0; i < count; i++) {
        snprintf(path, sizeof path, "$.features[%zu]", i);
        view->feature_count = i + 1;
        if ((rc = parse_feature(&view->features[i], mlops__json_at(features, i), path)))
            goto out_free_doc;
        for (j = 0; j < i; j++)
            if (strcmp(view->features[j].name, view->features[i].name) == 0) {
                rc = mlops__error(MLOPS_EFORMAT, "features", "%s.name: duplicate feature \"%s\"", path,
                                  view->features[i].name);
                goto out_free_doc;
            }
    }
    view->bitmap_bytes = (uint32_t)((count + 7) / 8);
    offset = view->bitmap_bytes;
    for (i = 0; i < count; i++) {
        view->features[i].offset = offset;
        offset += fixed_size(&view->features[i]);
    }
    view->fixed_bytes = offset;
    *out = view;
    view = NULL;
out_free_doc:
    mlops__json_free(doc);
out_free_view:
    mlops__fs_view_free(view);
    return rc;
}

const fs_feature *mlops__fs_view_feature(const fs_view *view, const char *name)
{
    size_t i;
    for (i = 0; i < view->feature_count; i++)
        if (strcmp(view->features[i].name, name) == 0)
            return &view->features[i];
    return NULL;
}

/* Reads the view's id and current version; MLOPS_ENOTFOUND when absent. */
static int view_header(int64_t *id, int32_t *current, mlops_db *db, const char *name)
{
    mlops__stmt *stmt = NULL;
    int rc;
    if ((rc = mlops__db_prepare(&stmt, db, "SELECT id, current_version FROM fs_view WHERE name = ?1")))
        return rc;
    if ((rc = mlops__stmt_bind_text(stmt, 1, name, strlen(name))))
        goto out_release;
    rc = mlops__stmt_step(stmt);
    if (rc == MLOPS__ROW) {
        *id = mlops__stmt_int64(stmt, 0);
        *current = (int32_t)mlops__stmt_int64(stmt, 1);
        rc = MLOPS_OK;
    } else if (rc >= 0) {
        rc = mlops__error(MLOPS_ENOTFOUND, "features", "feature view \"%s\" not found", name);
    }
out_release:
    mlops__stmt_release(stmt);
    return rc;
}

static int read_definition(char **out, mlops_db *db, int64_t id, int32_t version, const char *name)
{
    mlops__stmt *stmt = NULL;
    int rc;
    *out = NULL;
    if ((rc = mlops__db_prepare(&stmt, db, "SELECT definition FROM fs_view_version WHERE view_id = ?1 AND version = ?2")))
        return rc;
    if ((rc = mlops__stmt_bind_int64(stmt, 1, id)) || (rc = mlops__stmt_bind_int64(stmt, 2, version)))
        goto out_release;
    rc = mlops__stmt_step(stmt);
    if (rc == MLOPS__ROW)
        rc = dup_string(out, mlops__stmt_text(stmt, 0));
    else if (rc >= 0)
        rc = mlops__error(MLOPS_ENOTFOUND, "features", "feature view \"%s\" has no version %d", name, (int)version);
out_release:
    mlops__stmt_release(stmt);
    return rc;
}

int mlops__fs_view_load(fs_view **out, mlops_db *db, const char *name, int32_t version)
{
    int64_t id = 0;
    int32_t current = 0;
    char *json = NULL;
    int rc;

    *out = NULL;
    if ((rc = view_header(&id, &current, db, name)))
        return rc;
    if (version < 0 || version > current)
        return mlops__error(MLOPS_ENOTFOUND, "features", "feature view \"%s\" has no version %d (current %d)", name,
                            (int)version, (int)current);
    if (version == 0)
        version = current;
    if ((rc = read_definition(&json, db, id, version, name)))
        return rc;
    rc = view_parse(out, json);
    mlops__free(json);
    if (rc)
        return rc;
    (*out)->id = id;
    (*out)->version = version;
    rc = mlops__fs_entity_load(&(*out)->entity, db, (*out)->entity_name);
    if (rc) {
        mlops__fs_view_free(*out);
        *out = NULL;
    }
    return rc;
}

static int allowed_contains(const fs_feature *f, const fs_feature *old, size_t i)
{
    size_t j;
    for (j = 0; j < f->allowed_count; j++) {
        if (f->type == MLOPS_TYPE_STRING ? strcmp(f->allowed_str[j], old->allowed_str[i]) == 0
                                         : f->allowed_num[j] == old->allowed_num[i])
            return 1;
    }
    return 0;
}

/* NULL when `new_f` accepts every value `old_f` accepted; else what got stricter. */
static const char *tightening(const fs_feature *new_f, const fs_feature *old_f)
{
    size_t i;
    if (new_f->not_null && !old_f->not_null)
        return "not_null added";
    if (new_f->finite && !old_f->finite)
        return "finite added";
    if (new_f->has_min && (!old_f->has_min || new_f->min > old_f->min))
        return "min raised";
    if (new_f->has_max && (!old_f->has_max || new_f->max < old_f->max))
        return "max lowered";
    if (new_f->max_length >= 0 && (old_f->max_length < 0 || new_f->max_length < old_f->max_length))
        return "max_length lowered";
    if (new_f->allowed_count) {
        if (!old_f->allowed_count)
            return "allowed values added";
        for (i = 0; i < old_f->allowed_count; i++)
            if (!allowed_contains(new_f, old_f, i))
                return "allowed values removed";
    }
    return NULL;
}

/* MLOPS_OK when `next` is a compatible change of `prev`; MLOPS_ECONFLICT naming the first incompatibility. */
static int check_compatible(const fs_view *next, const fs_view *prev)
{
    size_t i;
    if (strcmp(next->entity_name, prev->entity_name) != 0)
        return mlops__error(MLOPS_ECONFLICT, "features", "feature view \"%s\": entity changes from \"%s\" to \"%s\"",
                            next->name, prev->entity_name, next->entity_name);
    for (i = 0; i < prev->feature_count; i++) {
        const fs_feature *old_f = &prev->features[i];
        const fs_feature *new_f = mlops__fs_view_feature(next, old_f->name);
        const char *why;
        if (!new_f)
            return mlops__error(MLOPS_ECONFLICT, "features", "feature view \"%s\": feature \"%s\" is removed",
                                next->name, old_f->name);
        if (new_f->type != old_f->type || new_f->dim != old_f->dim)
            return mlops__error(MLOPS_ECONFLICT, "features", "feature view \"%s\": feature \"%s\" changes type",
                                next->name, old_f->name);
        if ((why = tightening(new_f, old_f)))
            return mlops__error(MLOPS_ECONFLICT, "features", "feature view \"%s\": feature \"%s\": %s", next->name,
                                old_f->name, why);
    }
    return MLOPS_OK;
}

static int insert_version(mlops_db *db, int64_t id, int32_t version, const char *json)
{
    mlops__stmt *stmt = NULL;
    int rc;
    if ((rc = mlops__db_prepare(&stmt, db,
                                "INSERT INTO fs_view_version(view_id, version, definition, created_us) "
                                "VALUES (?1, ?2, ?3, ?4)")))
        return rc;
    if (!(rc = mlops__stmt_bind_int64(stmt, 1, id)) && !(rc = mlops__stmt_bind_int64(stmt, 2, version)) &&
        !(rc = mlops__stmt_bind_text(stmt, 3, json, strlen(json))) &&
        !(rc = mlops__stmt_bind_int64(stmt, 4, mlops__now_us())))
        rc = mlops__stmt_step(stmt);
    mlops__stmt_release(stmt);
    return rc == MLOPS_DONE ? MLOPS_OK : rc;
}

static int set_current(mlops_db *db, int64_t *id, const fs_view *view, int32_t version)
{
    mlops__stmt *stmt = NULL;
    int rc;
    if (version == 1)
        rc = mlops__db_prepare(&stmt, db, "INSERT INTO fs_view(name, entity, current_version) VALUES (?1, ?2, 1)");
    else
        rc = mlops__db_prepare(&stmt, db, "UPDATE fs_view SET current_version = ?3 WHERE id = ?4");
    if (rc)
        return rc;
    if (version == 1)
        rc = mlops__stmt_bind_text(stmt, 1, view->name, strlen(view->name));
    if (!rc && version == 1)
        rc = mlops__stmt_bind_text(stmt, 2, view->entity_name, strlen(view->entity_name));
    if (!rc && version > 1 && !(rc = mlops__stmt_bind_int64(stmt, 3, version)))
        rc = mlops__stmt_bind_int64(stmt, 4, *id);
    if (!rc)
        rc = mlops__stmt_step(stmt);
    mlops__stmt_release(stmt);
    if (rc == MLOPS_DONE && version == 1)
        *id = mlops__db_last_insert_rowid(db);
    return rc == MLOPS_DONE ? MLOPS_OK : rc;
}

int mlops_view_define(int32_t *version_out, mlops_db *db, const char *definition_json, uint32_t flags)
{
    fs_view *view = NULL, *prev = NULL;
    fs_entity entity;
    mlops__json *doc = NULL;
    char *canonical = NULL, *stored = NULL;
    char object[160];
    int64_t id = 0;
    int32_t current = 0, version = 1;
    int rc;

    if (!db)
        return mlops__error_null("features", "mlops_view_define", "db");
    if (!definition_json)
        return mlops__error_null("features", "mlops_view_define", "definition_json");
    if (flags & ~MLOPS_VIEW_INCOMPATIBLE)
        return mlops__error(MLOPS_EINVAL, "features", "mlops_view_define: unknown flags 0x%x", (unsigned)flags);
    if ((rc = view_parse(&view, definition_json)))
        return rc;
    if ((rc = mlops__json_parse(&doc, definition_json, "features", "view definition")))
        goto out_free_view;
    canonical = mlops__json_print(doc);
    if (!canonical) {
        rc = mlops__error(MLOPS_ENOMEM, "features", "out of memory storing a view definition");
        goto out_free_doc;
    }
    if ((rc = mlops__tx_begin(db)))
        goto out_free_doc;
    if ((rc = mlops__fs_entity_load(&entity, db, view->entity_name))) {
        mlops__error_prefix("feature view \"%s\"", view->name);
        goto out_end;
    }
    {
        size_t i, j;
        for (i = 0; i < view->feature_count && rc == MLOPS_OK; i++)
            for (j = 0; j < entity.key_count; j++)
                if (strcmp(view->features[i].name, entity.keys[j].name) == 0)
                    rc = mlops__error(MLOPS_EFORMAT, "features",
                                      "$.features[%zu].name: \"%s\" is a key column of entity \"%s\"", i,
                                      entity.keys[j].name, entity.name);
    }
    mlops__fs_entity_clear(&entity);
    if (rc)
        goto out_end;
    rc = view_header(&id, &current, db, view->name);
    if (rc == MLOPS_OK) {
        if ((rc = read_definition(&stored, db, id, current, view->name)))
            goto out_end;
        if (strcmp(stored, canonical) == 0) {
            version = current;
            goto out_end;
        }
        if ((rc = view_parse(&prev, stored)))
            goto out_end;
        rc = check_compatible(view, prev);
        if (rc == MLOPS_ECONFLICT && (flags & MLOPS_VIEW_INCOMPATIBLE))
            rc = MLOPS_OK;
        if (rc) {
            mlops__error_prefix("an incompatible change needs MLOPS_VIEW_INCOMPATIBLE");
            goto out_end;
        }
        version = current + 1;
    } else if (rc != MLOPS_ENOTFOUND) {
        goto out_end;
    }
    if ((rc = set_current(db, &id, view, version)) || (rc = insert_version(db, id, version, canonical)))
        goto out_end;
    snprintf(object, sizeof object, "view:%s/%d", view->name, (int)version);
    rc = mlops__audit_append(db, "features.view.define", object, "{}");
out_end:
    rc = mlops__tx_end(db, rc);
    if (rc == MLOPS_OK && version_out)
        *version_out = version;
out_free_doc:
    mlops__free(stored);
    mlops__free(canonical);
    mlops__json_free(doc);
out_free_view:
    mlops__fs_view_free(prev);
    mlops__fs_view_free(view);
    return rc;
}

int mlops_view_definition(char **out, mlops_db *db, const char *view, int32_t version)
{
    int64_t id = 0;
    int32_t current = 0;
    int rc;
    if (!out)
        return mlops__error_null("features", "mlops_view_definition", "out");
    *out = NULL;
    if (!db)
        return mlops__error_null("features", "mlops_view_definition", "db");
    if (!view)
        return mlops__error_null("features", "mlops_view_definition", "view");
    if ((rc = view_header(&id, &current, db, view)))
        return rc;
    if (version < 0 || version > current)
        return mlops__error(MLOPS_ENOTFOUND, "features", "feature view \"%s\" has no version %d (current %d)", view,
                            (int)version, (int)current);
    return read_definition(out, db, id, version ? version : current, view);
}
