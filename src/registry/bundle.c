/*
 * Bundles: one file carrying a version to another database.
 *
 *   "MLOPSBN1"                      8 bytes
 *   artifact blob                   the stored zstd chunk frames, one after another
 *   profile blob (optional)         one zstd frame
 *   manifest                        JSON: model, version, metrics, lineage, blob offsets, lengths, SHA-256s
 *   trailer (160 bytes)             manifest offset and length (u64 LE), manifest SHA-256, flags (u64 LE,
 *                                   1 = signed), Ed25519 public key, signature, "MLOPSEND"
 *
 * The signature covers "MLOPSBN1" followed by the manifest's SHA-256; the
 * manifest carries the SHA-256 of every blob, so it covers everything.
 * Import checks the frame, the manifest hash and the signature before
 * reading any blob, then verifies every chunk and blob inside the one
 * transaction that stores the version: any failure rolls everything back.
 * The manifest's SHA-256 identifies the content: importing it again finds
 * the version made the first time.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>
#include <zstd.h>

#include "registry_int.h"

#define MAGIC "MLOPSBN1"
#define END_MAGIC "MLOPSEND"
#define TRAILER_BYTES 160
#define MANIFEST_MAX ((uint64_t)64 << 20)
#define PROFILE_MAX ((uint64_t)1 << 30)

static void put_u64(uint8_t *p, uint64_t v)
{
    int i;
    for (i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    int i;
    for (i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* The signed message: the magic and the manifest hash. */
static void signed_message(uint8_t out[8 + MLOPS__SHA256_BYTES], const uint8_t digest[MLOPS__SHA256_BYTES])
{
    memcpy(out, MAGIC, 8); // NOLINT(bugprone-not-null-terminated-result): an 8-byte file tag, not a C string
    memcpy(out + 8, digest, MLOPS__SHA256_BYTES);
}

int mlops_bundle_keygen(uint8_t public_key[MLOPS_BUNDLE_PUBLIC_KEY_BYTES],
                        uint8_t secret_key[MLOPS_BUNDLE_SECRET_KEY_BYTES])
{
    if (!public_key)
        return mlops__error_null(MLOPS__REG, "mlops_bundle_keygen", "public_key");
    if (!secret_key)
        return mlops__error_null(MLOPS__REG, "mlops_bundle_keygen", "secret_key");
    if (sodium_init() < 0 || crypto_sign_keypair(public_key, secret_key) != 0)
        return mlops__error(MLOPS_EINTERNAL, MLOPS__REG, "libsodium could not make a key pair");
    return MLOPS_OK;
}

int mlops_bundle_trust_key(mlops_db *db, const uint8_t public_key[MLOPS_BUNDLE_PUBLIC_KEY_BYTES], const char *name)
{
    char hex[2 * MLOPS_BUNDLE_PUBLIC_KEY_BYTES + 1];
    mlops__buf details;
    int rc;
    if (!db)
        return mlops__error_null(MLOPS__REG, "mlops_bundle_trust_key", "db");
    if (!public_key)
        return mlops__error_null(MLOPS__REG, "mlops_bundle_trust_key", "public_key");
    mlops__hex(hex, public_key, MLOPS_BUNDLE_PUBLIC_KEY_BYTES);
    mlops__buf_init(&details);
    mlops__buf_printf(&details, "{\"public_key\":\"%s\",\"name\":", hex);
    mlops__buf_json_string(&details, name ? name : "");
    mlops__buf_putc(&details, '}');
    if ((rc = mlops__buf_status(&details, MLOPS__REG)) || (rc = mlops__tx_begin(db)))
        goto out_free;
    rc = mlops__reg_exec(db, "INSERT OR REPLACE INTO reg_trusted_key(public_key, name, added_us) VALUES (?1, ?2, ?3)",
                         "bti", (const void *)public_key, (size_t)MLOPS_BUNDLE_PUBLIC_KEY_BYTES, name ? name : "",
                         mlops__now_us());
    if (rc == MLOPS_OK)
        rc = mlops__audit_append(db, "bundle.trust_key", "keys", details.data);
    rc = mlops__tx_end(db, rc);
out_free:
    mlops__buf_free(&details);
    return rc;
}

/* ---- export ------------------------------------------------------------------------------------------ */

typedef struct sink_file {
    FILE *file;
    const char *path;
    uint64_t pos;
} sink_file;

static int file_write(sink_file *out, const void *data, size_t len)
{
    if (len && fwrite(data, 1, len, out->file) != len)
        return mlops__error(MLOPS_EIO, MLOPS__REG, "bundle \"%s\": write failed at byte %" PRIu64, out->path, out->pos);
    out->pos += len;
    return MLOPS_OK;
}

static void put_metric_number(mlops__buf *buf, const char *key, double value)
{
    char number[40];
    mlops__format_double(number, sizeof number, value);
    mlops__buf_printf(buf, ",\"%s\":%s", key, number);
}

/* The manifest's "model" and "version" members (everything except the blobs). */
static int manifest_version(mlops__buf *m, mlops_db *db, int64_t version_id, int64_t *artifact_id, int *has_profile)
{
    mlops__stmt *stmt = NULL;
    const char *sep = "";
    int rc = mlops__reg_prepare(&stmt, db,
                                "SELECT m.name, m.description, m.tags, v.version, v.metadata, v.tags, v.signature,"
                                " v.created_us, v.creator, v.as_of_us, v.artifact_id, v.profile IS NOT NULL"
                                " FROM reg_version v JOIN reg_model m ON m.id = v.model_id WHERE v.id = ?1",
                                "i", version_id);
    if (rc)
        return rc;
    if ((rc = mlops__stmt_step(stmt)) != MLOPS__ROW) {
        mlops__stmt_release(stmt);
        return rc == MLOPS_DONE ? mlops__error(MLOPS_EINTERNAL, MLOPS__REG, "version row vanished") : rc;
    }
    mlops__buf_puts(m, "{\"format\":\"mlops-bundle\",\"format_version\":1,\"model\":{\"name\":");
    mlops__buf_json_string(m, mlops__stmt_text(stmt, 0));
    mlops__buf_puts(m, ",\"description\":");
    mlops__buf_json_string(m, mlops__stmt_text(stmt, 1));
    mlops__buf_printf(m, ",\"tags\":%s},\"version\":{\"number\":%lld,\"metadata\":%s,\"tags\":%s",
                      mlops__stmt_text(stmt, 2), (long long)mlops__stmt_int64(stmt, 3), mlops__stmt_text(stmt, 4),
                      mlops__stmt_text(stmt, 5));
    if (!mlops__stmt_is_null(stmt, 6))
        mlops__buf_printf(m, ",\"signature\":%s", mlops__stmt_text(stmt, 6));
    mlops__buf_printf(m, ",\"created_us\":%lld,\"creator\":", (long long)mlops__stmt_int64(stmt, 7));
    mlops__buf_json_string(m, mlops__stmt_text(stmt, 8));
    if (!mlops__stmt_is_null(stmt, 9))
        mlops__buf_printf(m, ",\"as_of_us\":%lld", (long long)mlops__stmt_int64(stmt, 9));
    *artifact_id = mlops__stmt_int64(stmt, 10);
    *has_profile = (int)mlops__stmt_int64(stmt, 11);
    mlops__stmt_release(stmt);

    mlops__buf_puts(m, ",\"feature_views\":[");
    rc = mlops__reg_prepare(&stmt, db, "SELECT view, view_version FROM reg_lineage WHERE version_id = ?1 ORDER BY view",
                            "i", version_id);
    while (rc == MLOPS_OK && (rc = mlops__stmt_step(stmt)) == MLOPS__ROW) {
        mlops__buf_printf(m, "%s{\"name\":", sep);
        mlops__buf_json_string(m, mlops__stmt_text(stmt, 0));
        mlops__buf_printf(m, ",\"version\":%lld}", (long long)mlops__stmt_int64(stmt, 1));
        sep = ",";
        rc = MLOPS_OK;
    }
    mlops__stmt_release(stmt);
    if (rc != MLOPS_DONE)
        return rc;
    mlops__buf_puts(m, "],\"metrics\":[");
    sep = "";
    rc = mlops__reg_prepare(&stmt, db, "SELECT name, value, ci_low, ci_high, dataset, time_us FROM reg_metric"
                                       " WHERE version_id = ?1 ORDER BY id", "i", version_id);
    while (rc == MLOPS_OK && (rc = mlops__stmt_step(stmt)) == MLOPS__ROW) {
        mlops__buf_printf(m, "%s{\"name\":", sep);
        mlops__buf_json_string(m, mlops__stmt_text(stmt, 0));
        put_metric_number(m, "value", mlops__stmt_double(stmt, 1));
        if (!mlops__stmt_is_null(stmt, 2) && !mlops__stmt_is_null(stmt, 3)) {
            put_metric_number(m, "ci_low", mlops__stmt_double(stmt, 2));
            put_metric_number(m, "ci_high", mlops__stmt_double(stmt, 3));
        }
        mlops__buf_puts(m, ",\"dataset\":");
        mlops__buf_json_string(m, mlops__stmt_text(stmt, 4));
        mlops__buf_printf(m, ",\"time_us\":%lld}", (long long)mlops__stmt_int64(stmt, 5));
        sep = ",";
        rc = MLOPS_OK;
    }
    mlops__stmt_release(stmt);
    if (rc != MLOPS_DONE)
        return rc;
    mlops__buf_puts(m, "]}");
    return MLOPS_OK;
}

/* Copy the artifact's chunks into the file, verifying each, and describe them in the manifest. */
static int export_artifact(mlops__buf *m, sink_file *out, mlops_db *db, int64_t artifact_id, const char *model,
                           int64_t version)
{
    uint8_t stored[MLOPS__SHA256_BYTES] = {0}, blob_digest[MLOPS__SHA256_BYTES], content[MLOPS__SHA256_BYTES];
    char hex[2 * MLOPS__SHA256_BYTES + 1];
    mlops__sha256 blob_sha, raw_sha;
    mlops__stmt *stmt = NULL;
    uint8_t *raw = mlops__malloc(MLOPS__CHUNK_BYTES);
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    uint64_t start = out->pos, size = 0;
    int64_t expected_chunks = 0, index = 0;
    const char *sep = "";
    int rc;

    if (!raw || !dctx) {
        rc = mlops__error(MLOPS_ENOMEM, MLOPS__REG, "out of memory exporting an artifact");
        goto out_free;
    }
    mlops__sha256_init(&blob_sha);
    mlops__sha256_init(&raw_sha);
    if ((rc = mlops__reg_query_int(&expected_chunks, db, "SELECT chunks FROM reg_artifact WHERE id = ?1", "i",
                                   artifact_id)) ||
        (rc = mlops__reg_prepare(&stmt, db, "SELECT sha256 FROM reg_artifact WHERE id = ?1", "i", artifact_id)))
        goto out_free;
    if ((rc = mlops__stmt_step(stmt)) == MLOPS__ROW && mlops__stmt_bytes(stmt, 0) == sizeof stored)
        memcpy(stored, mlops__stmt_blob(stmt, 0), sizeof stored);
    mlops__stmt_release(stmt);
    stmt = NULL;
    if (rc != MLOPS__ROW && rc != MLOPS_DONE)
        goto out_free;
    mlops__buf_puts(m, ",\"artifact\":{\"chunks\":[");
    rc = mlops__reg_prepare(&stmt, db, "SELECT idx, raw_len, data FROM reg_artifact_chunk"
                                       " WHERE artifact_id = ?1 ORDER BY idx", "i", artifact_id);
    while (rc == MLOPS_OK && (rc = mlops__stmt_step(stmt)) == MLOPS__ROW) {
        const void *zdata = mlops__stmt_blob(stmt, 2);
        size_t zlen = mlops__stmt_bytes(stmt, 2);
        size_t got = (size_t)mlops__stmt_int64(stmt, 1);
        if (mlops__stmt_int64(stmt, 0) != index || !mlops__chunk_decode(dctx, raw, zdata, zlen, got)) {
            rc = mlops__error(MLOPS_ECORRUPT, MLOPS__REG, "model \"%s\" version %lld: artifact chunk %lld is damaged",
                              model, (long long)version, (long long)index);
            break;
        }
        mlops__sha256_update(&raw_sha, raw, got);
        mlops__sha256_update(&blob_sha, zdata, zlen);
        if ((rc = file_write(out, zdata, zlen)))
            break;
        mlops__buf_printf(m, "%s{\"zlen\":%zu,\"size\":%zu}", sep, zlen, got);
        sep = ",";
        size += got;
        index++;
    }
    mlops__stmt_release(stmt);
    if (rc != MLOPS_DONE)
        goto out_free;
    if (index != expected_chunks) {
        rc = mlops__error(MLOPS_ECORRUPT, MLOPS__REG, "model \"%s\" version %lld: artifact has %lld of %lld chunks",
                          model, (long long)version, (long long)index, (long long)expected_chunks);
        goto out_free;
    }
    mlops__sha256_final(&blob_sha, blob_digest);
    mlops__sha256_final(&raw_sha, content);
    if (memcmp(content, stored, sizeof content) != 0) {
        rc = mlops__error(MLOPS_ECORRUPT, MLOPS__REG, "model \"%s\" version %lld: artifact does not match its SHA-256",
                          model, (long long)version);
        goto out_free;
    }
    mlops__hex(hex, blob_digest, sizeof blob_digest);
    mlops__buf_printf(m, "],\"offset\":%" PRIu64 ",\"length\":%" PRIu64 ",\"sha256_blob\":\"%s\"", start,
                      out->pos - start, hex);
    mlops__hex(hex, content, sizeof content);
    mlops__buf_printf(m, ",\"sha256\":\"%s\",\"size\":%" PRIu64 "}", hex, size);
    rc = MLOPS_OK;
out_free:
    ZSTD_freeDCtx(dctx);
    mlops__free(raw);
    return rc;
}

static int export_profile(mlops__buf *m, sink_file *out, mlops_db *db, int64_t version_id)
{
    uint8_t digest[MLOPS__SHA256_BYTES];
    char hex[2 * MLOPS__SHA256_BYTES + 1];
    mlops__stmt *stmt = NULL;
    void *z = NULL;
    size_t zlen = 0, len;
    uint64_t start = out->pos;
    int rc = mlops__reg_prepare(&stmt, db, "SELECT profile FROM reg_version WHERE id = ?1", "i", version_id);
    if (rc)
        return rc;
    if ((rc = mlops__stmt_step(stmt)) != MLOPS__ROW)
        goto out_release;
    len = mlops__stmt_bytes(stmt, 0);
    if ((rc = mlops__zstd_compress(&z, &zlen, mlops__stmt_blob(stmt, 0), len, 3, MLOPS__REG)))
        goto out_release;
    mlops__sha256_digest(digest, mlops__stmt_blob(stmt, 0), len);
    mlops__hex(hex, digest, sizeof digest);
    mlops__buf_printf(m, ",\"profile\":{\"offset\":%" PRIu64 ",\"length\":%zu,\"sha256\":\"%s\",\"size\":%zu", start,
                      zlen, hex, len);
    mlops__sha256_digest(digest, z, zlen);
    mlops__hex(hex, digest, sizeof digest);
    mlops__buf_printf(m, ",\"sha256_blob\":\"%s\"}", hex);
    rc = file_write(out, z, zlen);
out_release:
    mlops__stmt_release(stmt);
    mlops__free(z);
    return rc;
}

int mlops_bundle_export(mlops_db *db, const char *model, int64_t version, const char *path, const uint8_t *secret_key)
{
    uint8_t trailer[TRAILER_BYTES], digest[MLOPS__SHA256_BYTES], message[8 + MLOPS__SHA256_BYTES];
    int64_t model_id = 0, version_id = 0, artifact_id = 0;
    mlops__buf manifest, tmp_path;
    sink_file out = {NULL, NULL, 0};
    uint64_t manifest_offset;
    int has_profile = 0, rc;

    if (!db)
        return mlops__error_null(MLOPS__REG, "mlops_bundle_export", "db");
    if (!model)
        return mlops__error_null(MLOPS__REG, "mlops_bundle_export", "model");
    if (!path)
        return mlops__error_null(MLOPS__REG, "mlops_bundle_export", "path");
    mlops__buf_init(&manifest);
    mlops__buf_init(&tmp_path);
    mlops__buf_printf(&tmp_path, "%s.partial", path);
    if ((rc = mlops__buf_status(&tmp_path, MLOPS__REG)))
        goto out_free;
    /* Reads only, without the write lock: exporting works on read-only handles and blocks no writer. */
    if ((rc = mlops__reg_locate(&model_id, &version_id, db, model, version)) ||
        (rc = manifest_version(&manifest, db, version_id, &artifact_id, &has_profile)))
        goto out_free;
    out.path = path;
    out.file = fopen(tmp_path.data, "wb");
    if (!out.file) {
        rc = mlops__error_dep(MLOPS_EIO, MLOPS__REG, errno, "bundle \"%s\": cannot create the file: %s", path,
                              strerror(errno));
        goto out_free;
    }
    if ((rc = file_write(&out, MAGIC, 8)) ||
        (rc = export_artifact(&manifest, &out, db, artifact_id, model, version)) ||
        (has_profile && (rc = export_profile(&manifest, &out, db, version_id))))
        goto out_close;
    mlops__buf_putc(&manifest, '}');
    if ((rc = mlops__buf_status(&manifest, MLOPS__REG)))
        goto out_close;
    manifest_offset = out.pos;
    if ((rc = file_write(&out, manifest.data, manifest.len)))
        goto out_close;
    memset(trailer, 0, sizeof trailer);
    put_u64(trailer, manifest_offset);
    put_u64(trailer + 8, manifest.len);
    mlops__sha256_digest(digest, manifest.data, manifest.len);
    memcpy(trailer + 16, digest, sizeof digest);
    if (secret_key) {
        signed_message(message, digest);
        put_u64(trailer + 48, 1);
        crypto_sign_ed25519_sk_to_pk(trailer + 56, secret_key);
        crypto_sign_detached(trailer + 88, NULL, message, sizeof message, secret_key);
    }
    memcpy(trailer + TRAILER_BYTES - 8, END_MAGIC, 8); // NOLINT(bugprone-not-null-terminated-result): a file tag
    if ((rc = file_write(&out, trailer, sizeof trailer)))
        goto out_close;
    rc = fclose(out.file) == 0 ? MLOPS_OK : mlops__error(MLOPS_EIO, MLOPS__REG, "bundle \"%s\": close failed", path);
    out.file = NULL;
    if (rc == MLOPS_OK && rename(tmp_path.data, path) != 0)
        rc = mlops__error(MLOPS_EIO, MLOPS__REG, "bundle \"%s\": cannot move it into place", path);
out_close:
    if (out.file)
        fclose(out.file);
    if (rc)
        remove(tmp_path.data);
out_free:
    mlops__buf_free(&manifest);
    mlops__buf_free(&tmp_path);
    return rc;
}

/* ---- import ---------------------------------------------------------------------------------------- */

typedef struct blob_ref {
    uint64_t offset;
    uint64_t length;
    uint64_t size;
    uint8_t sha256_blob[MLOPS__SHA256_BYTES];
    uint8_t sha256[MLOPS__SHA256_BYTES];
} blob_ref;

typedef struct bundle_in {
    const char *path;
    FILE *file;
    uint64_t file_size;
    uint64_t manifest_offset;
    char *manifest_text;
    uint8_t digest[MLOPS__SHA256_BYTES];
    int is_signed;
    uint8_t public_key[MLOPS_BUNDLE_PUBLIC_KEY_BYTES];
    mlops__json *manifest;
    /* parsed, borrowed from the manifest document */
    const char *model;
    const char *model_description;
    const mlops__json *model_tags;
    const mlops__json *version;
    const mlops__json *chunks;
    blob_ref artifact;
    int has_profile;
    blob_ref profile;
} bundle_in;

static int bad_bundle(const bundle_in *b, int code, const char *what)
{
    return mlops__error(code, MLOPS__REG, "bundle \"%s\": %s", b->path, what);
}

static int read_at(bundle_in *b, void *data, size_t len, uint64_t offset)
{
    if (fseeko(b->file, (off_t)offset, SEEK_SET) != 0 || fread(data, 1, len, b->file) != len)
        return bad_bundle(b, MLOPS_EIO, "read failed");
    return MLOPS_OK;
}

/* Check the frame (magic, trailer, manifest hash, signature) without trusting anything in it yet. */
static int read_frame(bundle_in *b)
{
    uint8_t head[8], trailer[TRAILER_BYTES], digest[MLOPS__SHA256_BYTES], message[8 + MLOPS__SHA256_BYTES];
    uint64_t manifest_len;
    int rc;

    if (fseeko(b->file, 0, SEEK_END) != 0)
        return bad_bundle(b, MLOPS_EIO, "cannot seek");
    b->file_size = (uint64_t)ftello(b->file);
    if (b->file_size < 8 || read_at(b, head, 8, 0) != MLOPS_OK || memcmp(head, MAGIC, 8) != 0)
        return bad_bundle(b, MLOPS_EFORMAT, "not an mlops bundle (no MLOPSBN1 header)");
    if (b->file_size < 8 + TRAILER_BYTES || read_at(b, trailer, sizeof trailer, b->file_size - TRAILER_BYTES) != MLOPS_OK ||
        memcmp(trailer + TRAILER_BYTES - 8, END_MAGIC, 8) != 0)
        return bad_bundle(b, MLOPS_ECORRUPT, "truncated or damaged: the trailer is missing");
    b->manifest_offset = get_u64(trailer);
    manifest_len = get_u64(trailer + 8);
    if (b->manifest_offset < 8 || manifest_len == 0 || manifest_len > MANIFEST_MAX ||
        b->manifest_offset + manifest_len + TRAILER_BYTES != b->file_size)
        return bad_bundle(b, MLOPS_ECORRUPT, "truncated or damaged: the trailer does not match the file size");
    b->manifest_text = mlops__malloc((size_t)manifest_len + 1);
    if (!b->manifest_text)
        return bad_bundle(b, MLOPS_ENOMEM, "out of memory reading the manifest");
    if ((rc = read_at(b, b->manifest_text, (size_t)manifest_len, b->manifest_offset)))
        return rc;
    b->manifest_text[manifest_len] = '\0';
    mlops__sha256_digest(digest, b->manifest_text, (size_t)manifest_len);
    if (memcmp(digest, trailer + 16, sizeof digest) != 0)
        return bad_bundle(b, MLOPS_ECORRUPT, "the manifest does not match its SHA-256 (damaged or tampered)");
    memcpy(b->digest, digest, sizeof digest);
    b->is_signed = get_u64(trailer + 48) == 1;
    if (get_u64(trailer + 48) > 1)
        return bad_bundle(b, MLOPS_ECORRUPT, "unknown trailer flags");
    if (b->is_signed) {
        memcpy(b->public_key, trailer + 56, sizeof b->public_key);
        signed_message(message, digest);
        if (sodium_init() < 0 ||
            crypto_sign_verify_detached(trailer + 88, message, sizeof message, b->public_key) != 0)
            return bad_bundle(b, MLOPS_EPOLICY, "the signature does not verify (tampered or wrongly signed)");
    }
    return MLOPS_OK;
}

/* A database that trusts keys takes only bundles signed by one of them. */
static int check_trust(bundle_in *b, mlops_db *db)
{
    char hex[2 * MLOPS_BUNDLE_PUBLIC_KEY_BYTES + 1];
    int64_t trusted = 0, found = 0;
    int rc = mlops__reg_query_int(&trusted, db, "SELECT count(*) FROM reg_trusted_key", "");
    if (rc)
        return rc;
    if (trusted == 0)
        return MLOPS_OK;
    if (!b->is_signed)
        return bad_bundle(b, MLOPS_EPOLICY, "unsigned, and this database only takes bundles signed by a trusted key");
    rc = mlops__reg_query_int(&found, db, "SELECT 1 FROM reg_trusted_key WHERE public_key = ?1", "b",
                              (const void *)b->public_key, sizeof b->public_key);
    if (rc == MLOPS_DONE) {
        mlops__hex(hex, b->public_key, sizeof b->public_key);
        return mlops__error(MLOPS_EPOLICY, MLOPS__REG, "bundle \"%s\": signed by key %s, which this database does not"
                                                       " trust", b->path, hex);
    }
    return rc;
}

static int hex_field(uint8_t out[MLOPS__SHA256_BYTES], const mlops__json *obj, const char *key, const char *path)
{
    const char *text = NULL;
    size_t got = 0;
    int rc = mlops__json_opt_string(&text, obj, key, path, MLOPS__REG);
    if (rc)
        return rc;
    if (!text || strlen(text) != (size_t)2 * MLOPS__SHA256_BYTES ||
        sodium_hex2bin(out, MLOPS__SHA256_BYTES, text, strlen(text), NULL, &got, NULL) != 0 ||
        got != MLOPS__SHA256_BYTES)
        return mlops__error(MLOPS_EFORMAT, MLOPS__REG, "%s.%s: expected 64 hex digits", path, key);
    return MLOPS_OK;
}

static int required_u64(uint64_t *out, const mlops__json *obj, const char *key, const char *path)
{
    int64_t value = -1;
    int rc = mlops__json_opt_int(&value, obj, key, path, MLOPS__REG, 0, INT64_MAX);
    if (rc == MLOPS_OK && value < 0)
        rc = mlops__error(MLOPS_EFORMAT, MLOPS__REG, "%s.%s: missing", path, key);
    if (rc == MLOPS_OK)
        *out = (uint64_t)value;
    return rc;
}

static int parse_blob(blob_ref *blob, const mlops__json *node, const char *path, const char *const *keys)
{
    int rc;
    if ((rc = mlops__json_check_keys(node, path, MLOPS__REG, keys)) ||
        (rc = required_u64(&blob->offset, node, "offset", path)) ||
        (rc = required_u64(&blob->length, node, "length", path)) ||
        (rc = required_u64(&blob->size, node, "size", path)) ||
        (rc = hex_field(blob->sha256_blob, node, "sha256_blob", path)) ||
        (rc = hex_field(blob->sha256, node, "sha256", path)))
        return rc;
    return MLOPS_OK;
}

static int parse_metrics(const mlops__json *metrics)
{
    static const char *const keys[] = {"name", "value", "ci_low", "ci_high", "dataset", "time_us", NULL};
    char path[64];
    size_t i;
    int rc;
    if (!mlops__json_is_array(metrics))
        return mlops__error(MLOPS_EFORMAT, MLOPS__REG, "$.version.metrics: expected an array");
    for (i = 0; i < mlops__json_array_size(metrics); i++) {
        const mlops__json *metric = mlops__json_at(metrics, i);
        const char *name = NULL, *dataset = NULL;
        double value = NAN, low = NAN, high = NAN;
        int64_t time_us = -1;
        snprintf(path, sizeof path, "$.version.metrics[%zu]", i);
        if ((rc = mlops__json_check_keys(metric, path, MLOPS__REG, keys)) ||
            (rc = mlops__json_opt_string(&name, metric, "name", path, MLOPS__REG)) ||
            (rc = mlops__json_opt_string(&dataset, metric, "dataset", path, MLOPS__REG)) ||
            (rc = mlops__json_opt_double(&value, metric, "value", path, MLOPS__REG, -HUGE_VAL, HUGE_VAL)) ||
            (rc = mlops__json_opt_double(&low, metric, "ci_low", path, MLOPS__REG, -HUGE_VAL, HUGE_VAL)) ||
            (rc = mlops__json_opt_double(&high, metric, "ci_high", path, MLOPS__REG, -HUGE_VAL, HUGE_VAL)) ||
            (rc = mlops__json_opt_int(&time_us, metric, "time_us", path, MLOPS__REG, 0, INT64_MAX)))
            return rc;
        if (!name || !*name || !dataset || isnan(value) || time_us < 0 || isnan(low) != isnan(high))
            return mlops__error(MLOPS_EFORMAT, MLOPS__REG, "%s: needs name, value, dataset, time_us (and both or"
                                                           " neither of ci_low, ci_high)", path);
    }
    return MLOPS_OK;
}

static int parse_manifest(bundle_in *b)
{
    static const char *const top_keys[] = {"format", "format_version", "model", "version", "artifact", "profile", NULL};
    static const char *const model_keys[] = {"name", "description", "tags", NULL};
    static const char *const version_keys[] = {"number", "metadata", "tags", "signature", "created_us", "creator",
                                               "as_of_us", "feature_views", "metrics", NULL};
    static const char *const artifact_keys[] = {"chunks", "offset", "length", "sha256_blob", "sha256", "size", NULL};
    static const char *const profile_keys[] = {"offset", "length", "sha256_blob", "sha256", "size", NULL};
    static const char *const chunk_keys[] = {"zlen", "size", NULL};
    const mlops__json *model, *node;
    const char *format = NULL, *creator = NULL;
    int64_t format_version = 0, number = 0, created = -1, as_of = 0;
    uint64_t zsum = 0, sum = 0;
    char path[48];
    size_t i;
    int rc;

    if ((rc = mlops__json_parse(&b->manifest, b->manifest_text, MLOPS__REG, "bundle manifest")) ||
        (rc = mlops__json_check_keys(b->manifest, "$", MLOPS__REG, top_keys)) ||
        (rc = mlops__json_opt_string(&format, b->manifest, "format", "$", MLOPS__REG)) ||
        (rc = mlops__json_opt_int(&format_version, b->manifest, "format_version", "$", MLOPS__REG, 1, 1)))
        return rc;
    if (!format || strcmp(format, "mlops-bundle") != 0 || format_version != 1)
        return mlops__error(MLOPS_EFORMAT, MLOPS__REG, "$.format: not an mlops-bundle of format_version 1");
    model = mlops__json_get(b->manifest, "model");
    if (!model || (rc = mlops__json_check_keys(model, "$.model", MLOPS__REG, model_keys)) ||
        (rc = mlops__json_opt_string(&b->model, model, "name", "$.model", MLOPS__REG)) ||
        (rc = mlops__json_opt_string(&b->model_description, model, "description", "$.model", MLOPS__REG)))
        return rc ? rc : mlops__error(MLOPS_EFORMAT, MLOPS__REG, "$.model: missing");
    if (!b->model || (rc = mlops__reg_check_model_name(b->model)))
        return rc ? rc : mlops__error(MLOPS_EFORMAT, MLOPS__REG, "$.model.name: missing");
    b->model_tags = mlops__json_get(model, "tags");
    if (!b->model_tags || !mlops__json_is_object(b->model_tags))
        return mlops__error(MLOPS_EFORMAT, MLOPS__REG, "$.model.tags: expected an object");
    b->version = mlops__json_get(b->manifest, "version");
    if (!b->version || (rc = mlops__json_check_keys(b->version, "$.version", MLOPS__REG, version_keys)) ||
        (rc = mlops__json_opt_int(&number, b->version, "number", "$.version", MLOPS__REG, 1, INT64_MAX)) ||
        (rc = mlops__json_opt_int(&created, b->version, "created_us", "$.version", MLOPS__REG, 0, INT64_MAX)) ||
        (rc = mlops__json_opt_int(&as_of, b->version, "as_of_us", "$.version", MLOPS__REG, INT64_MIN / 2,
                                  INT64_MAX / 2)) ||
        (rc = mlops__json_opt_string(&creator, b->version, "creator", "$.version", MLOPS__REG)))
        return rc ? rc : mlops__error(MLOPS_EFORMAT, MLOPS__REG, "$.version: missing");
    if (number == 0 || created < 0 || !creator)
        return mlops__error(MLOPS_EFORMAT, MLOPS__REG, "$.version: needs number, created_us and creator");
    node = mlops__json_get(b->version, "metadata");
    if (!node || !mlops__json_is_object(node))
        return mlops__error(MLOPS_EFORMAT, MLOPS__REG, "$.version.metadata: expected an object");
    node = mlops__json_get(b->version, "tags");
    if (!node || !mlops__json_is_object(node))
        return mlops__error(MLOPS_EFORMAT, MLOPS__REG, "$.version.tags: expected an object");
    node = mlops__json_get(b->version, "signature");
    if (node && !mlops__json_is_object(node))
        return mlops__error(MLOPS_EFORMAT, MLOPS__REG, "$.version.signature: expected an object");
    node = mlops__json_get(b->version, "feature_views");
    if (!node || (rc = mlops__reg_lineage_check(node, "$.version.feature_views")))
        return rc ? rc : mlops__error(MLOPS_EFORMAT, MLOPS__REG, "$.version.feature_views: missing");
    node = mlops__json_get(b->version, "metrics");
    if (!node || (rc = parse_metrics(node)))
        return rc ? rc : mlops__error(MLOPS_EFORMAT, MLOPS__REG, "$.version.metrics: missing");
    node = mlops__json_get(b->manifest, "artifact");
    if (!node || (rc = parse_blob(&b->artifact, node, "$.artifact", artifact_keys)))
        return rc ? rc : mlops__error(MLOPS_EFORMAT, MLOPS__REG, "$.artifact: missing");
    b->chunks = mlops__json_get(node, "chunks");
    if (!b->chunks || !mlops__json_is_array(b->chunks))
        return mlops__error(MLOPS_EFORMAT, MLOPS__REG, "$.artifact.chunks: expected an array");
    for (i = 0; i < mlops__json_array_size(b->chunks); i++) {
        const mlops__json *chunk = mlops__json_at(b->chunks, i);
        uint64_t zlen = 0, size = 0;
        snprintf(path, sizeof path, "$.artifact.chunks[%zu]", i);
        if ((rc = mlops__json_check_keys(chunk, path, MLOPS__REG, chunk_keys)) ||
            (rc = required_u64(&zlen, chunk, "zlen", path)) || (rc = required_u64(&size, chunk, "size", path)))
            return rc;
        if (size == 0 || size > MLOPS__CHUNK_BYTES || zlen == 0 || zlen > ZSTD_compressBound(MLOPS__CHUNK_BYTES))
            return mlops__error(MLOPS_EFORMAT, MLOPS__REG, "%s: sizes out of range", path);
        zsum += zlen;
        sum += size;
    }
    if (b->artifact.offset != 8 || zsum != b->artifact.length || sum != b->artifact.size ||
        b->artifact.offset + b->artifact.length > b->manifest_offset)
        return mlops__error(MLOPS_EFORMAT, MLOPS__REG, "$.artifact: offsets and lengths do not add up");
    node = mlops__json_get(b->manifest, "profile");
    b->has_profile = node != NULL;
    if (node && (rc = parse_blob(&b->profile, node, "$.profile", profile_keys)))
        return rc;
    if ((b->has_profile ? b->profile.offset + b->profile.length : b->artifact.offset + b->artifact.length) !=
            b->manifest_offset ||
        (b->has_profile && (b->profile.offset != b->artifact.offset + b->artifact.length ||
                            b->profile.size > PROFILE_MAX)))
        return mlops__error(MLOPS_EFORMAT, MLOPS__REG, "$.profile: offsets and lengths do not add up");
    return MLOPS_OK;
}

/* Stream the artifact's chunks from the file into the database, verifying each and the whole. */
static int import_artifact(int64_t *artifact_id, bundle_in *b, mlops_db *db)
{
    uint8_t digest[MLOPS__SHA256_BYTES], content[MLOPS__SHA256_BYTES];
    size_t zcap = ZSTD_compressBound(MLOPS__CHUNK_BYTES), i;
    uint8_t *raw = mlops__malloc(MLOPS__CHUNK_BYTES), *z = mlops__malloc(zcap);
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    mlops__chunk_sink sink;
    mlops__sha256 blob_sha;
    char what[96];
    int rc;

    if (!raw || !z || !dctx) {
        rc = bad_bundle(b, MLOPS_ENOMEM, "out of memory importing the artifact");
        goto out_free;
    }
    mlops__sha256_init(&blob_sha);
    if ((rc = mlops__chunk_sink_begin(&sink, db)))
        goto out_free;
    if (fseeko(b->file, (off_t)b->artifact.offset, SEEK_SET) != 0) {
        rc = bad_bundle(b, MLOPS_EIO, "cannot seek to the artifact");
        goto out_free;
    }
    for (i = 0; i < mlops__json_array_size(b->chunks); i++) {
        const mlops__json *chunk = mlops__json_at(b->chunks, i);
        size_t zlen = (size_t)mlops__json_number(mlops__json_get(chunk, "zlen"));
        size_t size = (size_t)mlops__json_number(mlops__json_get(chunk, "size"));
        if (fread(z, 1, zlen, b->file) != zlen) {
            rc = bad_bundle(b, MLOPS_ECORRUPT, "truncated inside the artifact");
            goto out_free;
        }
        mlops__sha256_update(&blob_sha, z, zlen);
        if (!mlops__chunk_decode(dctx, raw, z, zlen, size)) {
            snprintf(what, sizeof what, "artifact chunk %zu is damaged (does not decompress)", i);
            rc = bad_bundle(b, MLOPS_ECORRUPT, what);
            goto out_free;
        }
        if ((rc = mlops__chunk_sink_put(&sink, raw, size, z, zlen)))
            goto out_free;
    }
    mlops__sha256_final(&blob_sha, digest);
    if (memcmp(digest, b->artifact.sha256_blob, sizeof digest) != 0) {
        rc = bad_bundle(b, MLOPS_ECORRUPT, "the artifact blob does not match its SHA-256");
        goto out_free;
    }
    if ((rc = mlops__chunk_sink_finish(artifact_id, content, &sink)))
        goto out_free;
    if (memcmp(content, b->artifact.sha256, sizeof content) != 0)
        rc = bad_bundle(b, MLOPS_ECORRUPT, "the artifact content does not match its SHA-256");
out_free:
    ZSTD_freeDCtx(dctx);
    mlops__free(z);
    mlops__free(raw);
    return rc;
}

static int import_profile(void **data, size_t *len, bundle_in *b)
{
    uint8_t digest[MLOPS__SHA256_BYTES];
    void *z = mlops__malloc(b->profile.length ? (size_t)b->profile.length : 1);
    int rc;
    if (!z)
        return bad_bundle(b, MLOPS_ENOMEM, "out of memory reading the profile");
    if ((rc = read_at(b, z, (size_t)b->profile.length, b->profile.offset)))
        goto out_free;
    mlops__sha256_digest(digest, z, (size_t)b->profile.length);
    if (memcmp(digest, b->profile.sha256_blob, sizeof digest) != 0) {
        rc = bad_bundle(b, MLOPS_ECORRUPT, "the profile blob does not match its SHA-256");
        goto out_free;
    }
    if ((rc = mlops__zstd_decompress(data, len, z, (size_t)b->profile.length, (size_t)b->profile.size, MLOPS__REG))) {
        mlops__error_prefix("bundle \"%s\": profile", b->path);
        goto out_free;
    }
    mlops__sha256_digest(digest, *data, *len);
    if (*len != b->profile.size || memcmp(digest, b->profile.sha256, sizeof digest) != 0) {
        mlops__free(*data);
        *data = NULL;
        rc = bad_bundle(b, MLOPS_ECORRUPT, "the profile does not match its SHA-256");
    }
out_free:
    mlops__free(z);
    return rc;
}

static int ensure_model(int64_t *model_id, bundle_in *b, mlops_db *db)
{
    char *tags = NULL;
    int rc = mlops__reg_query_int(model_id, db, "SELECT id FROM reg_model WHERE name = ?1", "t", b->model);
    if (rc != MLOPS_DONE)
        return rc;
    tags = mlops__json_print(b->model_tags);
    if (!tags)
        return bad_bundle(b, MLOPS_ENOMEM, "out of memory");
    rc = mlops__reg_exec(db, "INSERT INTO reg_model(name, description, tags, created_us, creator)"
                             " VALUES (?1, ?2, ?3, ?4, ?5)", "tttit", b->model,
                         b->model_description ? b->model_description : "", tags, mlops__now_us(), mlops__db_actor(db));
    if (rc == MLOPS_OK) {
        *model_id = mlops__db_last_insert_rowid(db);
        rc = mlops__reg_record(db, "model.create", b->model, 0, NULL, tags);
    }
    mlops__free(tags);
    return rc;
}

static int insert_metrics(mlops_db *db, int64_t version_id, const mlops__json *metrics)
{
    size_t i;
    int rc = MLOPS_OK;
    for (i = 0; rc == MLOPS_OK && i < mlops__json_array_size(metrics); i++) {
        const mlops__json *metric = mlops__json_at(metrics, i);
        const mlops__json *low = mlops__json_get(metric, "ci_low");
        const char *name = mlops__json_string(mlops__json_get(metric, "name"));
        const char *dataset = mlops__json_string(mlops__json_get(metric, "dataset"));
        double value = mlops__json_number(mlops__json_get(metric, "value"));
        int64_t time_us = (int64_t)mlops__json_number(mlops__json_get(metric, "time_us"));
        if (low)
            rc = mlops__reg_exec(db, "INSERT INTO reg_metric(version_id, name, value, ci_low, ci_high, dataset, time_us)"
                                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", "itdddti", version_id, name, value,
                                 mlops__json_number(low), mlops__json_number(mlops__json_get(metric, "ci_high")),
                                 dataset, time_us);
        else
            rc = mlops__reg_exec(db, "INSERT INTO reg_metric(version_id, name, value, dataset, time_us)"
                                     " VALUES (?1, ?2, ?3, ?4, ?5)", "itdti", version_id, name, value, dataset, time_us);
    }
    return rc;
}

/* Store the version described by the manifest; *number gets its number here. */
static int import_version(int64_t *number, bundle_in *b, mlops_db *db)
{
    char digest_hex[2 * MLOPS__SHA256_BYTES + 1], key_hex[2 * MLOPS_BUNDLE_PUBLIC_KEY_BYTES + 1];
    const mlops__json *signature = mlops__json_get(b->version, "signature");
    const mlops__json *as_of = mlops__json_get(b->version, "as_of_us");
    char *metadata = NULL, *tags = NULL, *signature_text = NULL;
    int64_t model_id = 0, artifact_id = 0, version_id;
    void *profile = NULL;
    size_t profile_len = 0;
    mlops__buf origin;
    int rc;

    mlops__buf_init(&origin);
    if ((rc = ensure_model(&model_id, b, db)) || (rc = import_artifact(&artifact_id, b, db)) ||
        (b->has_profile && (rc = import_profile(&profile, &profile_len, b))))
        goto out_free;
    metadata = mlops__json_print(mlops__json_get(b->version, "metadata"));
    tags = mlops__json_print(mlops__json_get(b->version, "tags"));
    signature_text = signature ? mlops__json_print(signature) : NULL;
    mlops__hex(digest_hex, b->digest, sizeof b->digest);
    mlops__hex(key_hex, b->public_key, sizeof b->public_key);
    mlops__buf_printf(&origin, "{\"bundle_sha256\":\"%s\",\"source_model\":", digest_hex);
    mlops__buf_json_string(&origin, b->model);
    mlops__buf_printf(&origin, ",\"source_version\":%lld,\"signed_by\":%s%s%s,\"imported_us\":%lld}",
                      (long long)mlops__json_number(mlops__json_get(b->version, "number")), b->is_signed ? "\"" : "",
                      b->is_signed ? key_hex : "null", b->is_signed ? "\"" : "", (long long)mlops__now_us());
    if (!metadata || !tags || (signature && !signature_text) || mlops__buf_status(&origin, MLOPS__REG) != MLOPS_OK) {
        rc = bad_bundle(b, MLOPS_ENOMEM, "out of memory");
        goto out_free;
    }
    if ((rc = mlops__reg_query_int(number, db, "SELECT next_version FROM reg_model WHERE id = ?1", "i", model_id)) ||
        (rc = mlops__reg_exec(db, "UPDATE reg_model SET next_version = next_version + 1 WHERE id = ?1", "i", model_id)))
        goto out_free;
    rc = mlops__reg_exec(db,
                         "INSERT INTO reg_version(model_id, version, artifact_id, metadata, tags, signature, created_us,"
                         " creator, origin, origin_digest, as_of_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
                         " CASE WHEN ?11 THEN ?12 END)",
                         "iiitttittbii", model_id, *number, artifact_id, metadata, tags, signature_text,
                         (int64_t)mlops__json_number(mlops__json_get(b->version, "created_us")),
                         mlops__json_string(mlops__json_get(b->version, "creator")), origin.data,
                         (const void *)b->digest, sizeof b->digest, (int64_t)(as_of != NULL),
                         as_of ? (int64_t)mlops__json_number(as_of) : 0);
    if (rc)
        goto out_free;
    version_id = mlops__db_last_insert_rowid(db);
    if ((profile && (rc = mlops__reg_exec(db, "UPDATE reg_version SET profile = ?1 WHERE id = ?2", "bi",
                                          (const void *)profile, profile_len, version_id))) ||
        (rc = mlops__reg_lineage_insert(db, version_id, mlops__json_get(b->version, "feature_views"))) ||
        (rc = insert_metrics(db, version_id, mlops__json_get(b->version, "metrics"))))
        goto out_free;
    rc = mlops__reg_record(db, "version.create", b->model, *number, NULL, origin.data);
out_free:
    mlops__buf_free(&origin);
    mlops__free(profile);
    mlops__free(metadata);
    mlops__free(tags);
    mlops__free(signature_text);
    return rc;
}

int mlops_bundle_import(int64_t *version_out, char **model_out, mlops_db *db, const char *path)
{
    bundle_in b;
    int64_t number = 0;
    int rc;

    if (!version_out)
        return mlops__error_null(MLOPS__REG, "mlops_bundle_import", "version_out");
    *version_out = 0;
    if (model_out)
        *model_out = NULL;
    if (!db)
        return mlops__error_null(MLOPS__REG, "mlops_bundle_import", "db");
    if (!path)
        return mlops__error_null(MLOPS__REG, "mlops_bundle_import", "path");
    memset(&b, 0, sizeof b);
    b.path = path;
    b.file = fopen(path, "rb");
    if (!b.file)
        return mlops__error_dep(errno == ENOENT ? MLOPS_ENOTFOUND : MLOPS_EIO, MLOPS__REG, errno,
                                "bundle \"%s\" cannot be opened: %s", path, strerror(errno));
    if ((rc = read_frame(&b)))
        goto out_close;
    if ((rc = parse_manifest(&b))) {
        mlops__error_prefix("bundle \"%s\": manifest", path);
        goto out_close;
    }
    if ((rc = mlops__tx_begin(db)))
        goto out_close;
    if ((rc = check_trust(&b, db)))
        goto out_end;
    /* The same content imported before: give back that version. */
    rc = mlops__reg_query_int(&number, db, "SELECT v.version FROM reg_version v JOIN reg_model m ON m.id = v.model_id"
                                           " WHERE v.origin_digest = ?1 AND m.name = ?2", "bt",
                              (const void *)b.digest, sizeof b.digest, b.model);
    if (rc == MLOPS_DONE)
        rc = import_version(&number, &b, db);
out_end:
    rc = mlops__tx_end(db, rc);
    if (rc == MLOPS_OK && model_out && !(*model_out = mlops__strdup(b.model)))
        rc = mlops__error(MLOPS_ENOMEM, MLOPS__REG, "out of memory");
    if (rc == MLOPS_OK)
        *version_out = number;
out_close:
    fclose(b.file);
    mlops__json_free(b.manifest);
    mlops__free(b.manifest_text);
    return rc;
}
