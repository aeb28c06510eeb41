/*
 * Entity and feature view definitions. The input is given as an entity
 * definition and as a view definition (once as a compatible change, once
 * allowing incompatible ones) to a database that has an entity "customer"
 * and a view "txn" with every feature type and contract. A definition is
 * refused with a status and a message, or accepted; an accepted one is
 * accepted again as it is and as the library writes it back, without a new
 * version. Each input runs inside a transaction that is rolled back, so
 * every input meets the same database.
 */
#include "core/core_int.h"
#include "store/store_int.h"
#include "fuzz_common.h"

static mlops_db *feature_store(void)
{
    static mlops_db *db;
    static const char customer[] = "{\"name\":\"customer\",\"keys\":[{\"name\":\"customer_id\",\"type\":\"int64\"}]}";
    static const char txn[] =
        "{\"name\":\"txn\",\"entity\":\"customer\",\"ttl_us\":0,\"features\":["
        "{\"name\":\"amount\",\"type\":\"float64\",\"contract\":{\"not_null\":true,\"min\":0,\"max\":1000,"
        "\"finite\":true}},"
        "{\"name\":\"category\",\"type\":\"string\",\"contract\":{\"allowed\":[\"a\",\"b\",\"c\"],\"max_length\":8}},"
        "{\"name\":\"count\",\"type\":\"int64\",\"contract\":{\"min\":0}},"
        "{\"name\":\"flag\",\"type\":\"bool\"},"
        "{\"name\":\"emb\",\"type\":\"f32vec\",\"dim\":3,\"contract\":{\"finite\":true}}]}";
    if (db)
        return db;
    FUZZ_CHECK(mlops_db_open(&db, ":memory:", NULL) == MLOPS_OK);
    FUZZ_CHECK(mlops_entity_define(db, customer) == MLOPS_OK);
    FUZZ_CHECK(mlops_view_define(NULL, db, txn, MLOPS_VIEW_DEFAULT) == MLOPS_OK);
    return db;
}

/* The "name" of a definition the library accepted (it is a JSON object with one). */
static char *name_of(const char *doc)
{
    mlops__json *json = NULL;
    const char *name = NULL;
    char *copy;
    FUZZ_CHECK(mlops__json_parse(&json, doc, "fuzz", "definition") == MLOPS_OK);
    FUZZ_CHECK(mlops__json_opt_string(&name, json, "name", "$", "fuzz") == MLOPS_OK && name);
    copy = fuzz_strndup((const uint8_t *)name, strlen(name));
    mlops__json_free(json);
    return copy;
}

static void define_view(mlops_db *db, const char *doc, uint32_t flags)
{
    int32_t version = 0, again = 0;
    char *name, *stored = NULL, *stats = NULL;
    int rc = mlops_view_define(&version, db, doc, flags);
    if (rc != MLOPS_OK) {
        FUZZ_CHECK_FAILURE(rc);
        return;
    }
    FUZZ_CHECK(version >= 1);
    FUZZ_CHECK(mlops_view_define(&again, db, doc, MLOPS_VIEW_DEFAULT) == MLOPS_OK);
    FUZZ_CHECK(again == version);
    name = name_of(doc);
    FUZZ_CHECK(mlops_view_definition(&stored, db, name, 0) == MLOPS_OK);
    FUZZ_CHECK(mlops_view_define(&again, db, stored, MLOPS_VIEW_DEFAULT) == MLOPS_OK);
    FUZZ_CHECK(again == version);
    FUZZ_CHECK(mlops_features_stats(&stats, db, name) == MLOPS_OK);
    mlops_free(stats);
    mlops_free(stored);
    free(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mlops_db *db = feature_store();
    char *doc = fuzz_strndup(data, size);
    int rc;

    FUZZ_CHECK(mlops__tx_begin(db) == MLOPS_OK);
    rc = mlops_entity_define(db, doc);
    if (rc == MLOPS_OK)
        FUZZ_CHECK(mlops_entity_define(db, doc) == MLOPS_OK);
    else
        FUZZ_CHECK_FAILURE(rc);
    define_view(db, doc, MLOPS_VIEW_DEFAULT);
    define_view(db, doc, MLOPS_VIEW_INCOMPATIBLE);
    FUZZ_CHECK(mlops__tx_end(db, MLOPS_ESTATE) == MLOPS_ESTATE);
    FUZZ_CHECK(mlops__tx_depth(db) == 0);
    free(doc);
    return 0;
}
