/*
 * tcp_wheel — Linux's timer wheel (kernel/time/timer.c) as a deadline
 * computation; the contract is in tcp_wheel.h.
 *
 * The wheel has LVL_DEPTH levels of LVL_SIZE = 2^LVL_BITS = 64 buckets;
 * level n's bucket spans LVL_GRAN(n) = 8^n jiffies (LVL_CLK_SHIFT = 3). A
 * timer goes to the first level whose range holds its delta (expires -
 * base->clk): level n+1 from LVL_START(n+1) = 63 << 3n jiffies on
 * (calc_wheel_index). calc_index then rounds the expiry up to the next
 * bucket boundary of that level, strictly after it: (expires >> 3n) + 1,
 * shifted back, so a timer at level 0 fires on the jiffy after its expiry
 * and one at level n up to 8^n jiffies late ("a timer does not fire early
 * ... round up with level granularity"). The softirq runs a bucket once
 * jiffies reaches its expiry (__run_timers, collect_expired_timers).
 *
 * Modelled: base->clk equal to the current jiffy (forward_timer_base
 * brings an idle base up to jiffies before a timer is added); timeouts
 * converted to jiffies rounding up, as msecs_to_jiffies / usecs_to_jiffies
 * do. Not modelled: a timer armed from a timer callback sees base->clk one
 * ahead of jiffies (its level can differ only when its delta sits on a
 * level boundary); timeouts beyond the wheel's capacity (WHEEL_TIMEOUT_CUTOFF,
 * about 49 days at HZ 250), which the kernel forces to expire at
 * WHEEL_TIMEOUT_MAX, keep their deadline rounded at the last level here:
 * no TCP timer reaches the cutoff (TCP_RTO_MAX 120 s, MAX_TCP_KEEPIDLE
 * 32767 s, TCP_TIMEWAIT_LEN 60 s), and an early expiry would run a
 * handler the stack does not re-check.
 */
#include "tcp_wheel.h"

#define NS_PER_S      1000000000ull
#define LVL_CLK_SHIFT 3
#define LVL_BITS      6
#define LVL_SIZE      (1ull << LVL_BITS)
#define NEVER_BEFORE  (UINT64_MAX - 1) /* tcp_after's saturated deadline */

/* The first delta (jiffies) that goes to level n >= 1. */
static uint64_t lvl_start(unsigned n)
{
    return (LVL_SIZE - 1) << ((n - 1) * LVL_CLK_SHIFT);
}

/* LVL_DEPTH: 9 levels above HZ 100, 8 at or below. */
static unsigned lvl_depth(uint32_t hz)
{
    return hz > 100 ? 9 : 8;
}

/* calc_wheel_index's choice of level for a timer delta_j jiffies away. */
static unsigned wheel_level(uint32_t hz, uint64_t delta_j)
{
    unsigned lvl = 0, depth = lvl_depth(hz);
    while (lvl < depth - 1 && delta_j >= lvl_start(lvl + 1))
        lvl++;
    return lvl;
}

bool tcp_wheel_hz_valid(uint32_t hz)
{
    return hz == 0 || (hz <= TCP_WHEEL_HZ_MAX && NS_PER_S % hz == 0);
}

uint64_t tcp_wheel_expiry_ns(uint32_t hz, uint64_t now_ns, uint64_t timeout_ns)
{
    if (timeout_ns >= NEVER_BEFORE - now_ns)
        return NEVER_BEFORE;
    if (hz == 0)
        return now_ns + timeout_ns;
    uint64_t tick_ns = NS_PER_S / hz;
    uint64_t jiffies = now_ns / tick_ns;
    uint64_t delta_j = timeout_ns / tick_ns + (timeout_ns % tick_ns != 0);
    unsigned shift = wheel_level(hz, delta_j) * LVL_CLK_SHIFT;
    /* calc_index: the next bucket boundary of the level, strictly after. */
    uint64_t bucket_j = (((jiffies + delta_j) >> shift) + 1) << shift;
    if (bucket_j > NEVER_BEFORE / tick_ns)
        return NEVER_BEFORE;
    return bucket_j * tick_ns;
}
