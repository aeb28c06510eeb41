/*
 * SHA-256 through libsodium, hex formatting, and a small 64-bit hash for
 * bucketing (routing, sketches) that must stay the same across platforms.
 */
#include <sodium.h>
#include <string.h>

#include "core_int.h"

_Static_assert(sizeof(mlops__sha256) >= sizeof(crypto_hash_sha256_state),
               "mlops__sha256 must hold libsodium's SHA-256 state");

void mlops__sha256_init(mlops__sha256 *state)
{
    crypto_hash_sha256_init((crypto_hash_sha256_state *)(void *)state);
}

void mlops__sha256_update(mlops__sha256 *state, const void *data, size_t len)
{
    crypto_hash_sha256_update((crypto_hash_sha256_state *)(void *)state, data, len);
}

void mlops__sha256_final(mlops__sha256 *state, uint8_t digest[MLOPS__SHA256_BYTES])
{
    crypto_hash_sha256_final((crypto_hash_sha256_state *)(void *)state, digest);
}

void mlops__sha256_digest(uint8_t digest[MLOPS__SHA256_BYTES], const void *data, size_t len)
{
    crypto_hash_sha256(digest, data, len);
}

void mlops__hex(char *out, const uint8_t *bytes, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * len] = '\0';
}

static uint64_t read_le64(const uint8_t *p)
{
    uint64_t v = 0;
    int i;
    for (i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

uint64_t mlops__hash64(const void *data, size_t len, uint64_t seed)
{
    const uint8_t *p = data;
    uint64_t h = seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(len + 1));
    uint8_t tail[8];

    while (len >= 8) {
        h = mix64(h ^ read_le64(p)) + 0x9e3779b97f4a7c15ULL;
        p += 8;
        len -= 8;
    }
    memset(tail, 0, sizeof tail);
    if (len)
        memcpy(tail, p, len);
    tail[7] = (uint8_t)(0x80 | len);
    h = mix64(h ^ read_le64(tail));
    return h;
}
