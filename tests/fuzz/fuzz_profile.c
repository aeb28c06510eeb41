/*
 * Profile deserialization. An input starting with the magic "MLPF" is given
 * as it is; any other input is taken as the uncompressed payload and wrapped
 * in a header with its true length and hash and a valid zstd frame, so the
 * mutations reach the column parser instead of stopping at the hash check.
 * A profile that loads must describe itself, answer quantile and rank
 * queries, merge with itself and a copy of its specification, and serialize
 * to bytes that load again into the same description.
 */
#include <math.h>

#include "core/core_int.h"
#include "fuzz_common.h"

/* The seed of the payload hash in the profile format (src/drift/profile_io.c). */
#define PROFILE_HASH_SEED UINT64_C(0x6d6c6f70732d7066)

/* Header and zstd frame around `payload` (malloc'd into *out). */
static uint8_t *wrap_payload(size_t *out_len, const uint8_t *payload, size_t len)
{
    void *z = NULL;
    size_t z_len = 0;
    uint8_t *bytes;
    FUZZ_CHECK(mlops__zstd_compress(&z, &z_len, payload, len, 1, "fuzz") == MLOPS_OK);
    bytes = malloc(24 + z_len);
    FUZZ_CHECK(bytes != NULL);
    memcpy(bytes, "MLPF", 4);
    fuzz_put_le(bytes + 4, 1, 4);
    fuzz_put_le(bytes + 8, len, 8);
    fuzz_put_le(bytes + 16, mlops__hash64(payload, len, PROFILE_HASH_SEED), 8);
    memcpy(bytes + 24, z, z_len);
    mlops__free(z);
    *out_len = 24 + z_len;
    return bytes;
}

static void query(const mlops_profile *profile)
{
    static const double qs[] = {0.0, 0.01, 0.5, 0.99, 1.0};
    size_t c, i;
    for (c = 0; c < mlops_profile_columns(profile); c++) {
        mlops_column_stats stats;
        uint64_t counts[8];
        size_t bins = 0;
        double value;
        int rc;
        FUZZ_CHECK(mlops_profile_column_stats(&stats, profile, c) == MLOPS_OK);
        FUZZ_CHECK(stats.count + stats.nulls + stats.nans + stats.infs == stats.rows);
        for (i = 0; stats.kind == MLOPS_COLUMN_NUMERIC && i < sizeof qs / sizeof qs[0]; i++) {
            rc = mlops_profile_quantile(&value, profile, c, qs[i]);
            if (rc == MLOPS_OK)
                FUZZ_CHECK(!isnan(value));
            else
                FUZZ_CHECK_FAILURE(rc);
            rc = mlops_profile_rank(&value, profile, c, stats.mean);
            if (rc == MLOPS_OK)
                FUZZ_CHECK(value >= 0 && value <= 1);
            else
                FUZZ_CHECK_FAILURE(rc);
        }
        rc = mlops_profile_histogram(counts, sizeof counts / sizeof counts[0], &bins, profile, c);
        if (rc != MLOPS_OK)
            FUZZ_CHECK_FAILURE(rc);
        if (stats.kind == MLOPS_COLUMN_CATEGORICAL) {
            uint64_t n = 0;
            FUZZ_CHECK(mlops_profile_category_count(&n, profile, c, "a") == MLOPS_OK);
            FUZZ_CHECK(n <= stats.count);
        }
    }
}

static void exercise(mlops_profile *profile)
{
    mlops_profile *shard = NULL, *again = NULL;
    char *described = NULL, *described_again = NULL;
    void *bytes = NULL;
    size_t len = 0;
    int rc;

    FUZZ_CHECK(mlops_profile_describe(&described, profile) == MLOPS_OK);
    query(profile);
    FUZZ_CHECK(mlops_profile_serialize(&bytes, &len, profile) == MLOPS_OK);
    FUZZ_CHECK(mlops_profile_deserialize(&again, bytes, len) == MLOPS_OK);
    FUZZ_CHECK(mlops_profile_describe(&described_again, again) == MLOPS_OK);
    FUZZ_CHECK(strcmp(described, described_again) == 0);

    rc = mlops_profile_new_like(&shard, profile);
    if (rc == MLOPS_OK) {
        FUZZ_CHECK(mlops_profile_merge(shard, profile) == MLOPS_OK);
        rc = mlops_profile_merge(again, shard);
        if (rc == MLOPS_OK)
            query(again);
        else
            FUZZ_CHECK_FAILURE(rc);
    } else {
        FUZZ_CHECK_FAILURE(rc);
    }
    mlops_profile_free(shard);
    mlops_profile_free(again);
    mlops_free(described_again);
    mlops_free(described);
    mlops_free(bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mlops_profile *profile = NULL;
    uint8_t *wrapped = NULL;
    int rc;

    if (size >= 4 && memcmp(data, "MLPF", 4) == 0) {
        rc = mlops_profile_deserialize(&profile, data, size);
    } else {
        size_t len = 0;
        wrapped = wrap_payload(&len, data, size);
        rc = mlops_profile_deserialize(&profile, wrapped, len);
    }
    if (rc == MLOPS_OK) {
        FUZZ_CHECK(profile != NULL);
        exercise(profile);
        mlops_profile_free(profile);
    } else {
        FUZZ_CHECK_FAILURE(rc);
        FUZZ_CHECK(profile == NULL);
    }
    free(wrapped);
    return 0;
}
