/*
 * sim_rng — xoshiro256** (Blackman and Vigna), seeded through splitmix64
 * from the scenario seed and the FNV-1a hash of a stream name, plus the
 * probability parser.
 *
 * Promises: the same (seed, name) yields the same sequence on every platform;
 * every bounded draw and every chance is computed in integers.
 */
#include "sim_rng.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "sim_internal.h"

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* splitmix64: advances *state by the golden-ratio increment and returns the
 * mixed value. Used to spread a 64-bit seed over xoshiro's 256-bit state. */
static uint64_t splitmix64(uint64_t *state)
{
    *state += 0x9e3779b97f4a7c15u;
    return sim_hash_u64(*state);
}

uint64_t sim_hash_u64(uint64_t x)
{
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

uint64_t sim_hash_name_on(uint64_t h, const char *name)
{
    for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
        h ^= *c;
        h *= SIM_FNV1A_PRIME;
    }
    return h;
}

uint64_t sim_hash_name(const char *name)
{
    return sim_hash_name_on(SIM_FNV1A_BASIS, name);
}

void sim_rng_seed(sim_rng *rng, uint64_t seed, const char *stream_name)
{
    assert(rng != NULL && stream_name != NULL);
    /* Mix the seed first so that seeds differing in one bit and names
     * differing in one bit do not cancel out when combined. */
    uint64_t state = seed;
    state = splitmix64(&state) ^ sim_hash_name(stream_name);
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&state);
    /* An all-zero state would only ever produce zeros. splitmix64 is a
     * bijection of distinct counters, so four zeros cannot happen. */
    assert((rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3]) != 0);
}

void sim_rng_seed_key(sim_rng *rng, uint64_t seed, uint64_t key)
{
    assert(rng != NULL);
    /* As sim_rng_seed, with the key in the name hash's place. */
    uint64_t state = seed;
    state = splitmix64(&state) ^ key;
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&state);
    assert((rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3]) != 0);
}

uint64_t sim_rng_next(sim_rng *rng)
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

/* The 128-bit product a * b as (high, low), in portable C. */
static void mul_64x64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
    uint64_t a_lo = (uint32_t)a, a_hi = a >> 32;
    uint64_t b_lo = (uint32_t)b, b_hi = b >> 32;
    uint64_t ll = a_lo * b_lo, lh = a_lo * b_hi, hl = a_hi * b_lo, hh = a_hi * b_hi;
    uint64_t mid = (ll >> 32) + (uint32_t)lh + (uint32_t)hl;
    *lo = (mid << 32) | (uint32_t)ll;
    *hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

/* Lemire's multiply-and-reject method: the high half of x * bound is uniform
 * once the few low halves below 2^64 mod bound are rejected. */
uint64_t sim_rng_below(sim_rng *rng, uint64_t bound)
{
    assert(bound > 0);
    uint64_t hi, lo;
    mul_64x64(sim_rng_next(rng), bound, &hi, &lo);
    if (lo < bound) {
        uint64_t threshold = (0 - bound) % bound; /* 2^64 mod bound */
        while (lo < threshold)
            mul_64x64(sim_rng_next(rng), bound, &hi, &lo);
    }
    return hi;
}

/* One draw mapped onto [0, 1e9) by its high product; the bias is below
 * 1e9 / 2^64 and no draw is ever rejected, so the stream advances by exactly
 * one whatever ppb is. */
bool sim_rng_chance(sim_rng *rng, uint32_t ppb)
{
    uint64_t hi, lo;
    mul_64x64(sim_rng_next(rng), SIM_PPB_ONE, &hi, &lo);
    return hi < ppb;
}

/* Reads "D[.DDD...]" into parts per billion. Returns 0, 1 when the value is
 * above 1, -1 when the text is not such a decimal, -2 when it has a non-zero
 * digit beyond the ninth decimal. */
static int read_ppb(const char *s, uint32_t *out)
{
    if (*s < '0' || *s > '9')
        return -1;
    uint64_t whole = 0;
    for (; *s >= '0' && *s <= '9'; s++)
        if (whole <= 1)
            whole = whole * 10 + (uint64_t)(*s - '0');
    uint64_t frac = 0, place = SIM_PPB_ONE;
    bool finer = false;
    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9')
            return -1;
        for (; *s >= '0' && *s <= '9'; s++) {
            place /= 10;
            if (place > 0)
                frac += place * (uint64_t)(*s - '0');
            else if (*s != '0')
                finer = true;
        }
    }
    if (*s != '\0')
        return -1;
    if (whole > 1 || (whole == 1 && (frac > 0 || finer)))
        return 1;
    if (finer)
        return -2;
    *out = (uint32_t)(whole * SIM_PPB_ONE + frac);
    return 0;
}

int sim_prob_parse(const char *text, const char *what, uint32_t *out_ppb, char *err, size_t err_len)
{
    assert(text != NULL && out_ppb != NULL);
    if (!what)
        what = "probability";
    const char *digits = text[0] == '-' ? text + 1 : text;
    uint32_t ppb = 0;
    int rc = read_ppb(digits, &ppb);
    if (rc == -1)
        return sim_errf(err, err_len,
                        "%s must be a decimal in [0,1] such as \"0.01\", got \"%.40s\"", what,
                        text);
    if (rc == 1 || (digits != text && rc != -1))
        return sim_errf(err, err_len, "%s must be in [0,1], got %.40s", what, text);
    if (rc == -2)
        return sim_errf(err, err_len,
                        "%s %.40s is finer than 1e-9 (the resolution is one in a billion)", what,
                        text);
    *out_ppb = ppb;
    return 0;
}
