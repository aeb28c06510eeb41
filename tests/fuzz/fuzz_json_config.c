/*
 * Every JSON configuration reachable through the public API, fed the same
 * document: database open options (on a private in-memory database) and CSV
 * read and write options. Each either is accepted or refused with a status
 * and a message.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char csv[] = "id,name,score\n1,a,0.5\n2,\"b,c\",\n";
    char *doc = fuzz_strndup(data, size);
    mlops_frame *frame = NULL;
    mlops_db *db = NULL;
    char *text = NULL;
    int rc;

    rc = mlops_db_open(&db, ":memory:", doc);
    if (rc == MLOPS_OK) {
        int32_t version = 0;
        FUZZ_CHECK(mlops_db_schema_version(&version, db) == MLOPS_OK);
        FUZZ_CHECK(version == mlops_db_schema_version_supported());
        mlops_db_close(db);
    } else {
        FUZZ_CHECK_FAILURE(rc);
        FUZZ_CHECK(db == NULL);
    }

    rc = mlops_frame_parse_csv(&frame, csv, sizeof csv - 1, doc);
    /* Three lines: two rows after a header, or three without one. */
    if (rc == MLOPS_OK)
        FUZZ_CHECK(mlops_frame_rows(frame) <= 3);
    else
        FUZZ_CHECK_FAILURE(rc);
    mlops_frame_free(frame);
    frame = NULL;

    FUZZ_CHECK(mlops_frame_parse_csv(&frame, csv, sizeof csv - 1, NULL) == MLOPS_OK);
    rc = mlops_frame_format_csv(&text, NULL, frame, doc);
    if (rc == MLOPS_OK)
        mlops_free(text);
    else
        FUZZ_CHECK_FAILURE(rc);
    mlops_frame_free(frame);
    free(doc);
    return 0;
}
