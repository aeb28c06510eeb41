/*
 * Artifacts: content addressed by SHA-256, stored once, as a sequence of
 * zstd frames of 1 MiB raw chunks, each frame carrying zstd's content
 * checksum. Readers verify every chunk (its checksum, on decompression)
 * before handing its bytes out and the SHA-256 of the whole content at the
 * end; the content is hashed once per write and once per read. Garbage
 * collection drops what no version references.
 */
#include <stdio.h>
#include <string.h>

#include <zstd.h>

#include "registry_int.h"

int mlops__chunk_sink_begin(mlops__chunk_sink *sink, mlops_db *db)
{
    int rc;
    memset(sink, 0, sizeof *sink);
    sink->db = db;
    mlops__sha256_init(&sink->sha);
    rc = mlops__reg_exec(db, "INSERT INTO reg_artifact(sha256, size, chunks, created_us) VALUES (NULL, 0, 0, ?1)",
                         "i", mlops__now_us());
    if (rc == MLOPS_OK)
        sink->artifact_id = mlops__db_last_insert_rowid(db);
    return rc;
}

int mlops__chunk_decode(void *dctx, uint8_t *raw, const void *zdata, size_t zlen, size_t expected)
{
    size_t got;
    /* Byte 4, the frame header descriptor, has Content_Checksum_flag in bit 2 (RFC 8878, 3.1.1.1.1). */
    if (zlen < 5 || expected > MLOPS__CHUNK_BYTES || ZSTD_getFrameContentSize(zdata, zlen) != expected ||
        !(((const uint8_t *)zdata)[4] & 0x04))
        return 0;
    got = ZSTD_decompressDCtx(dctx, raw, MLOPS__CHUNK_BYTES, zdata, zlen);
    return !ZSTD_isError(got) && got == expected;
}

int mlops__chunk_sink_put(mlops__chunk_sink *sink, const void *raw, size_t raw_len, const void *zdata,
                          size_t zlen)
{
    int rc;
    mlops__sha256_update(&sink->sha, raw, raw_len);
    rc = mlops__reg_exec(sink->db,
                         "INSERT INTO reg_artifact_chunk(artifact_id, idx, raw_len, data) VALUES (?1, ?2, ?3, ?4)",
                         "iiib", sink->artifact_id, sink->chunks, (int64_t)raw_len, zdata, zlen);
    if (rc == MLOPS_OK) {
        sink->chunks++;
        sink->size += (int64_t)raw_len;
    }
    return rc;
}

int mlops__chunk_sink_finish(int64_t *artifact_id, uint8_t sha_out[MLOPS__SHA256_BYTES], mlops__chunk_sink *sink)
{
    int64_t existing = 0;
    int rc;
    mlops__sha256_final(&sink->sha, sha_out);
    rc = mlops__reg_query_int(&existing, sink->db, "SELECT id FROM reg_artifact WHERE sha256 = ?1", "b",
                              (const void *)sha_out, (size_t)MLOPS__SHA256_BYTES);
    if (rc == MLOPS_OK) {
        /* Same content stored already: keep that one, drop the staged copy. */
        *artifact_id = existing;
        return mlops__reg_exec(sink->db, "DELETE FROM reg_artifact WHERE id = ?1", "i", sink->artifact_id);
    }
    if (rc != MLOPS_DONE)
        return rc;
    *artifact_id = sink->artifact_id;
    return mlops__reg_exec(sink->db, "UPDATE reg_artifact SET sha256 = ?1, size = ?2, chunks = ?3 WHERE id = ?4",
                           "biii", (const void *)sha_out, (size_t)MLOPS__SHA256_BYTES, sink->size, sink->chunks,
                           sink->artifact_id);
}

struct mlops_artifact_reader {
    mlops_db *db;
    char *model;
    int64_t version;
    mlops__stmt *stmt;       /* steps over the chunks: one snapshot for the whole read */
    int64_t size;
    int64_t chunks;
    int64_t next_chunk;
    int64_t delivered;
    uint8_t expected[MLOPS__SHA256_BYTES];
    mlops__sha256 sha;
    uint8_t *chunk;          /* the current chunk's verified bytes */
    size_t chunk_len;
    size_t chunk_pos;
    ZSTD_DCtx *dctx;
    int row_ready;           /* the statement's current row is not consumed yet */
    int at_end;              /* the statement returned its last row */
    int status;              /* sticky: a failure or MLOPS_DONE */
};

static int reader_corrupt(mlops_artifact_reader *reader, const char *fmt, int64_t chunk)
{
    char what[160];
    snprintf(what, sizeof what, fmt, (long long)chunk);
    reader->status = mlops__error(MLOPS_ECORRUPT, MLOPS__REG, "model \"%s\" version %lld: artifact %s",
                                  reader->model, (long long)reader->version, what);
    return reader->status;
}

void mlops_artifact_reader_free(mlops_artifact_reader *reader)
{
    if (!reader)
        return;
    mlops__stmt_release(reader->stmt);
    ZSTD_freeDCtx(reader->dctx);
    mlops__free(reader->chunk);
    mlops__free(reader->model);
    mlops__free(reader);
}

int mlops_artifact_reader_open(mlops_artifact_reader **out, mlops_db *db, const char *model, int64_t version)
{
    mlops_artifact_reader *reader;
    int64_t model_id = 0, version_id = 0, artifact_id = 0;
    int rc;

    if (!out)
        return mlops__error_null(MLOPS__REG, "mlops_artifact_reader_open", "out");
    *out = NULL;
    if (!db)
        return mlops__error_null(MLOPS__REG, "mlops_artifact_reader_open", "db");
    if (!model)
        return mlops__error_null(MLOPS__REG, "mlops_artifact_reader_open", "model");
    reader = mlops__calloc(1, sizeof *reader);
    if (!reader)
        return mlops__error(MLOPS_ENOMEM, MLOPS__REG, "out of memory opening an artifact reader");
    reader->db = db;
    reader->version = version;
    reader->model = mlops__strdup(model);
    reader->chunk = mlops__malloc(MLOPS__CHUNK_BYTES);
    reader->dctx = ZSTD_createDCtx();
    if (!reader->model || !reader->chunk || !reader->dctx) {
        rc = mlops__error(MLOPS_ENOMEM, MLOPS__REG, "out of memory opening an artifact reader");
        goto out_free_reader;
    }
    mlops__sha256_init(&reader->sha);
    /* The chunk query opens the read snapshot first, so the artifact row read next belongs to it. */
    if ((rc = mlops__reg_locate(&model_id, &version_id, db, model, version)) ||
        (rc = mlops__reg_query_int(&artifact_id, db, "SELECT artifact_id FROM reg_version WHERE id = ?1", "i",
                                   version_id)))
        goto out_free_reader;
    rc = mlops__reg_prepare(&reader->stmt, db,
                            "SELECT a.size, a.chunks, a.sha256, c.idx, c.raw_len, c.data"
                            " FROM reg_artifact a LEFT JOIN reg_artifact_chunk c ON c.artifact_id = a.id"
                            " WHERE a.id = ?1 ORDER BY c.idx", "i", artifact_id);
    if (rc)
        goto out_free_reader;
    rc = mlops__stmt_step(reader->stmt);
    if (rc != MLOPS__ROW) {
        if (rc == MLOPS_DONE)
            rc = mlops__error(MLOPS_ENOTFOUND, MLOPS__REG, "model \"%s\" version %lld: artifact is missing", model,
                              (long long)version);
        goto out_free_reader;
    }
    reader->size = mlops__stmt_int64(reader->stmt, 0);
    reader->chunks = mlops__stmt_int64(reader->stmt, 1);
    if (mlops__stmt_bytes(reader->stmt, 2) != MLOPS__SHA256_BYTES) {
        rc = reader_corrupt(reader, "hash is damaged (chunk %lld)", 0);
        goto out_free_reader;
    }
    memcpy(reader->expected, mlops__stmt_blob(reader->stmt, 2), MLOPS__SHA256_BYTES);
    reader->row_ready = 1;
    *out = reader;
    return MLOPS_OK;
out_free_reader:
    mlops_artifact_reader_free(reader);
    return rc;
}

int64_t mlops_artifact_reader_size(const mlops_artifact_reader *reader)
{
    return reader ? reader->size : 0;
}

/* Decompress and verify the chunk on the current row of the statement. */
static int load_chunk(mlops_artifact_reader *reader)
{
    mlops__stmt *stmt = reader->stmt;
    int64_t raw_len;

    if (mlops__stmt_is_null(stmt, 3) || mlops__stmt_int64(stmt, 3) != reader->next_chunk)
        return reader_corrupt(reader, "chunk %lld is missing", reader->next_chunk);
    raw_len = mlops__stmt_int64(stmt, 4);
    if (raw_len <= 0 || (uint64_t)raw_len > MLOPS__CHUNK_BYTES ||
        !mlops__chunk_decode(reader->dctx, reader->chunk, mlops__stmt_blob(stmt, 5), mlops__stmt_bytes(stmt, 5),
                             (size_t)raw_len))
        return reader_corrupt(reader, "chunk %lld is damaged (checksum or decompression failed)", reader->next_chunk);
    mlops__sha256_update(&reader->sha, reader->chunk, (size_t)raw_len);
    reader->chunk_len = (size_t)raw_len;
    reader->chunk_pos = 0;
    reader->next_chunk++;
    return MLOPS_OK;
}

static int finish_read(mlops_artifact_reader *reader)
{
    uint8_t digest[MLOPS__SHA256_BYTES];
    if (reader->next_chunk != reader->chunks || reader->delivered != reader->size)
        return reader_corrupt(reader, "ends after chunk %lld: chunks are missing", reader->next_chunk);
    mlops__sha256_final(&reader->sha, digest);
    if (memcmp(digest, reader->expected, sizeof digest) != 0)
        return reader_corrupt(reader, "content does not match its SHA-256 (after %lld chunks)", reader->chunks);
    reader->status = MLOPS_DONE;
    return MLOPS_DONE;
}

int mlops_artifact_reader_read(size_t *got_out, mlops_artifact_reader *reader, void *buffer, size_t capacity)
{
    size_t got = 0;
    int rc = MLOPS_OK;

    if (!got_out)
        return mlops__error_null(MLOPS__REG, "mlops_artifact_reader_read", "got_out");
    *got_out = 0;
    if (!reader)
        return mlops__error_null(MLOPS__REG, "mlops_artifact_reader_read", "reader");
    if (!buffer)
        return mlops__error_null(MLOPS__REG, "mlops_artifact_reader_read", "buffer");
    if (reader->status == MLOPS_DONE)
        return MLOPS_DONE;
    if (reader->status)
        return mlops__error(reader->status, MLOPS__REG, "model \"%s\" version %lld: the reader failed earlier",
                            reader->model, (long long)reader->version);
    while (got < capacity && !reader->at_end) {
        size_t take;
        if (reader->chunk_pos == reader->chunk_len) {
            if (!reader->row_ready) {
                rc = mlops__stmt_step(reader->stmt);
                if (rc == MLOPS_DONE) {
                    reader->at_end = 1;
                    break;
                }
                if (rc != MLOPS__ROW) {
                    reader->status = rc;
                    return rc;
                }
            }
            reader->row_ready = 0;
            if (mlops__stmt_is_null(reader->stmt, 3)) { /* an artifact without chunks: the empty content */
                reader->at_end = 1;
                break;
            }
            if ((rc = load_chunk(reader)))
                return rc;
        }
        take = reader->chunk_len - reader->chunk_pos;
        if (take > capacity - got)
            take = capacity - got;
        memcpy((uint8_t *)buffer + got, reader->chunk + reader->chunk_pos, take);
        reader->chunk_pos += take;
        reader->delivered += (int64_t)take;
        got += take;
    }
    *got_out = got;
    if (got > 0 || capacity == 0)
        return MLOPS_OK;
    return finish_read(reader);
}

int mlops_artifact_read(void **data_out, size_t *len_out, mlops_db *db, const char *model, int64_t version)
{
    mlops_artifact_reader *reader = NULL;
    uint8_t *data = NULL;
    size_t len = 0, got = 0;
    int rc;

    if (!data_out)
        return mlops__error_null(MLOPS__REG, "mlops_artifact_read", "data_out");
    *data_out = NULL;
    if (!len_out)
        return mlops__error_null(MLOPS__REG, "mlops_artifact_read", "len_out");
    *len_out = 0;
    rc = mlops_artifact_reader_open(&reader, db, model, version);
    if (rc)
        return rc;
    /* One byte more than the recorded size, so that the read ending at the size reports MLOPS_DONE. */
    // NOLINTNEXTLINE(clang-analyzer-core.NullDereference): mlops_artifact_reader_open sets the reader whenever it returns MLOPS_OK (mlops__stmt_step never returns MLOPS_OK)
    data = mlops__malloc((size_t)reader->size + 1);
    if (!data) {
        rc = mlops__error(MLOPS_ENOMEM, MLOPS__REG, "model \"%s\" version %lld: out of memory reading %lld bytes",
                          model, (long long)version, (long long)reader->size);
        goto out_free_reader;
    }
    while (len <= (size_t)reader->size &&
           (rc = mlops_artifact_reader_read(&got, reader, data + len, (size_t)reader->size + 1 - len)) == MLOPS_OK)
        len += got;
    if (rc == MLOPS_OK)
        rc = reader_corrupt(reader, "is longer than its recorded size (chunk %lld)", reader->next_chunk);
    if (rc != MLOPS_DONE)
        goto out_free_data;
    *data_out = data;
    *len_out = len;
    mlops_artifact_reader_free(reader);
    return MLOPS_OK;
out_free_data:
    mlops__free(data);
out_free_reader:
    mlops_artifact_reader_free(reader);
    return rc;
}

int mlops_artifact_gc(int64_t *removed_out, mlops_db *db)
{
    char details[64];
    int64_t removed = 0;
    int rc;
    if (!removed_out)
        return mlops__error_null(MLOPS__REG, "mlops_artifact_gc", "removed_out");
    *removed_out = 0;
    if (!db)
        return mlops__error_null(MLOPS__REG, "mlops_artifact_gc", "db");
    if ((rc = mlops__tx_begin(db)))
        return rc;
    /* A row without a hash is being written by an open writer on this handle: not garbage. */
    rc = mlops__reg_exec(db, "DELETE FROM reg_artifact WHERE sha256 IS NOT NULL AND"
                             " id NOT IN (SELECT artifact_id FROM reg_version)", "");
    if (rc == MLOPS_OK) {
        removed = mlops__db_changes(db);
        snprintf(details, sizeof details, "{\"removed\":%lld}", (long long)removed);
        if (removed > 0)
            rc = mlops__audit_append(db, "artifact.gc", "artifacts", details);
    }
    rc = mlops__tx_end(db, rc);
    if (rc == MLOPS_OK)
        *removed_out = removed;
    return rc;
}
