/*
 * The trainer's random generator: xoshiro256** seeded through splitmix64.
 * Every draw depends only on the seed and the stream, never on threads or
 * the platform, so initialisation, splits, shuffles and bootstrap resamples
 * are reproducible everywhere.
 */
#include "train_int.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void mlops__rng_seed(mlops__rng *rng, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ stream;
    int i;
    for (i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&x);
}

uint64_t mlops__rng_next(mlops__rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t mlops__rng_below(mlops__rng *rng, uint64_t n)
{
    /* Draws below 2^64 mod n would favour small results: reject them. */
    uint64_t threshold = (0 - n) % n;
    uint64_t r;
    do
        r = mlops__rng_next(rng);
    while (r < threshold);
    return r % n;
}

float mlops__rng_unit_float(mlops__rng *rng)
{
    return (float)(mlops__rng_next(rng) >> 40) * (1.0f / 16777216.0f);
}

void mlops__rng_shuffle(mlops__rng *rng, size_t *items, size_t n)
{
    size_t k, j, tmp;
    for (k = n; k > 1; k--) {
        j = (size_t)mlops__rng_below(rng, (uint64_t)k);
        tmp = items[k - 1];
        items[k - 1] = items[j];
        items[j] = tmp;
    }
}
