/*
 * tcp_seq — sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4).
 * Every comparison of sequence numbers in the stack goes through these.
 * The mask form ((int32_t)(a - b) < 0) is wraparound-safe for values less
 * than 2^31 apart, which the window rules guarantee. Converting a uint32_t
 * of 2^31 or more to int32_t is implementation-defined in C11 (§6.3.1.3),
 * not undefined; gcc and clang, the supported compilers, wrap modulo 2^32.
 */
#ifndef TCP_SEQ_H
#define TCP_SEQ_H

#include <stdbool.h>
#include <stdint.h>

static inline bool tcp_seq_lt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}
static inline bool tcp_seq_le(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) <= 0;
}
static inline bool tcp_seq_gt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) > 0;
}
static inline bool tcp_seq_ge(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) >= 0;
}
/* lo <= x < hi, modulo 2^32. */
static inline bool tcp_seq_in(uint32_t x, uint32_t lo, uint32_t hi)
{
    return tcp_seq_le(lo, x) && tcp_seq_lt(x, hi);
}
static inline uint32_t tcp_seq_max(uint32_t a, uint32_t b)
{
    return tcp_seq_gt(a, b) ? a : b;
}

#endif
