/*
 * tcp_wheel — when a Linux timer_list timer armed now for a timeout fires:
 * the jiffies clock and the timer wheel of kernel/time/timer.c, applied to
 * a nanosecond deadline (profile knob timer_hz).
 *
 * The kernel's TCP timers (retransmission and SYN,ACK, persist, delayed
 * ACK, keepalive, TIME_WAIT, FIN_WAIT_2) are timer_list timers armed at
 * "jiffies + timeout" (sk_reset_timer, mod_timer). The wheel never fires a
 * timer before its jiffy and, by design, fires most of them later: it
 * rounds the expiry up to the next bucket of the level the timeout falls
 * in (calc_wheel_index, calc_index). This module computes that instant.
 *
 * Jiffies origin: jiffy 0 begins at simulated time 0, and jiffy j at
 * j * (1e9 / hz) ns, the same for every host. A real kernel's jiffies
 * start at boot (INITIAL_JIFFIES), so its phase against a scenario is
 * arbitrary; this one is fixed so runs stay deterministic.
 *
 * Callers may rely on: with hz 0 the result is now + timeout (saturating
 * at UINT64_MAX - 1); with a valid hz it is never earlier than that, lies
 * on a jiffy boundary, and is at most one granularity of the timeout's
 * level (8^level jiffies) plus one jiffy later than now + timeout.
 */
#ifndef TCP_WHEEL_H
#define TCP_WHEEL_H

#include <stdbool.h>
#include <stdint.h>

#define TCP_WHEEL_HZ_MAX 1000000u

/* hz is a usable timer_hz: 0 (exact timers) or a divisor of 1e9 of at
 * most TCP_WHEEL_HZ_MAX, so that every jiffy is a whole number of ns
 * (HZ 100, 250 and 1000 are; 300 is not). */
bool tcp_wheel_hz_valid(uint32_t hz);

/* The instant, in ns, a timer armed at now_ns for timeout_ns fires on a
 * wheel ticking hz times a second (0: now_ns + timeout_ns). hz must be
 * valid (tcp_wheel_hz_valid). */
uint64_t tcp_wheel_expiry_ns(uint32_t hz, uint64_t now_ns, uint64_t timeout_ns);

#endif
