/*
 * sim_rng — the simulator's only source of randomness: xoshiro256**, seeded
 * through splitmix64.
 *
 * Every consumer owns a stream derived from the scenario seed plus a stable
 * name ("link:A>B", "host:A"), never from creation order, so adding a link
 * does not change the numbers another link sees.
 */
#ifndef SIM_RNG_H
#define SIM_RNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sim_rng {
    uint64_t s[4];
} sim_rng;

/* Probabilities are integers in parts per billion: 0 .. SIM_PPB_ONE. */
#define SIM_PPB_ONE 1000000000u

/* Seeds a stream from (seed, name). Same pair, same sequence, everywhere. */
void sim_rng_seed(sim_rng *rng, uint64_t seed, const char *stream_name);

/* The splitmix64 finaliser: a bijection of 64-bit values that spreads
 * every input bit over the output, the same on every platform (for keys
 * and hash tables). */
uint64_t sim_hash_u64(uint64_t x);

/* Seeds a stream from (seed, key): a stream of its own for one keyed
 * decision (sim_link.h, keyed draws). Same pair, same sequence. With the
 * FNV-1a hash of a name as the key (sim_hash_name) it is that name's
 * stream: sim_rng_seed(r, seed, name) seeds exactly as
 * sim_rng_seed_key(r, seed, hash of name), so a caller may hash a name
 * in parts instead of building it. */
void sim_rng_seed_key(sim_rng *rng, uint64_t seed, uint64_t key);

uint64_t sim_rng_next(sim_rng *rng);

/* Uniform in [0, bound), without modulo bias. bound must be > 0. */
uint64_t sim_rng_below(sim_rng *rng, uint64_t bound);

/* True with probability ppb / 1e9; consumes exactly one draw even at 0 or 1,
 * so changing a probability does not shift the rest of the stream. */
bool sim_rng_chance(sim_rng *rng, uint32_t ppb);

/*
 * Parses a probability written as a decimal in [0, 1] ("0.015", "1", "0")
 * digit by digit into parts per billion. Returns 0, or -1 with a message
 * ("loss must be in [0,1], got 1.5" style, naming `what`).
 */
int sim_prob_parse(const char *text, const char *what, uint32_t *out_ppb, char *err,
                   size_t err_len);

#endif
