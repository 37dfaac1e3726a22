/*
 * test_wheel — the timer wheel of kernel/time/timer.c as tcp_wheel applies
 * it (profile knob timer_hz), and the linux profile's timers on it.
 *
 * Expected instants come from the kernel's rules: a timer armed in jiffy J
 * for d jiffies has expires = J + d; calc_wheel_index picks the level n
 * whose range holds d (level n+1 from LVL_START(n+1) = 63 << 3n jiffies;
 * LVL_DEPTH 9 above HZ 100, 8 at or below); calc_index fires it at
 * ((expires >> 3n) + 1) << 3n. At HZ 250 a jiffy is 4 ms.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include "harness.h"
#include "tcp_wheel.h"

#define J250 4000000ull /* one jiffy at HZ 250, in ns */

/* timer_hz 0: the deadline is now + timeout, saturating. */
static void exact_without_a_wheel(void **state)
{
    (void)state;
    assert_int_equal(tcp_wheel_expiry_ns(0, 0, 0), 0);
    assert_int_equal(tcp_wheel_expiry_ns(0, 12345, 1000000000), 1000012345);
    assert_int_equal(tcp_wheel_expiry_ns(0, 7, UINT64_MAX - 3), UINT64_MAX - 1);
    assert_int_equal(tcp_wheel_expiry_ns(250, 7, UINT64_MAX - 3), UINT64_MAX - 1);
}

/* Level 0 (d < 63 jiffies): the jiffy after expires. "jiffies + 0" fires
 * on the next tick; a timeout that is not whole jiffies is rounded up
 * first (msecs_to_jiffies). */
static void level_0_fires_the_jiffy_after(void **state)
{
    (void)state;
    assert_int_equal(tcp_wheel_expiry_ns(250, 0, 0), 1 * J250);
    assert_int_equal(tcp_wheel_expiry_ns(250, J250 - 1, 0), 1 * J250);
    assert_int_equal(tcp_wheel_expiry_ns(250, J250, 0), 2 * J250);
    assert_int_equal(tcp_wheel_expiry_ns(250, 0, 1), 2 * J250);          /* 1 ns: 1 jiffy */
    assert_int_equal(tcp_wheel_expiry_ns(250, 0, 62 * J250), 63 * J250); /* d = 62 */
    /* TCP_DELACK_MIN (40 ms = 10 jiffies) armed at 50 ms (jiffy 12). */
    assert_int_equal(tcp_wheel_expiry_ns(250, 50000000, 40000000), 23 * J250);
}

/* Each level boundary: the last delta of level n and LVL_START(n+1). */
static void level_boundaries_at_hz_250(void **state)
{
    (void)state;
    /* d = 63 = LVL_START(1): level 1, buckets of 8: (63 >> 3) + 1 = 8. */
    assert_int_equal(tcp_wheel_expiry_ns(250, 0, 63 * J250), 64 * J250);
    /* d = 503: still level 1: (503 >> 3) + 1 = 63 -> 504. */
    assert_int_equal(tcp_wheel_expiry_ns(250, 0, 503 * J250), 504 * J250);
    /* d = 504 = LVL_START(2): level 2, buckets of 64: 8 * 64 = 512. */
    assert_int_equal(tcp_wheel_expiry_ns(250, 0, 504 * J250), 512 * J250);
    /* d = 4031, level 2: (4031 >> 6) + 1 = 63 -> 4032. */
    assert_int_equal(tcp_wheel_expiry_ns(250, 0, 4031 * J250), 4032 * J250);
    /* d = 4032 = LVL_START(3): level 3, buckets of 512: 8 * 512 = 4096. */
    assert_int_equal(tcp_wheel_expiry_ns(250, 0, 4032 * J250), 4096 * J250);
    /* LVL_START(8) = 63 << 21: level 8 at HZ 250 (LVL_DEPTH 9), buckets of
     * 2^24; at HZ 100 (LVL_DEPTH 8) it stays in level 7, buckets of 2^21. */
    uint64_t d8 = 63ull << 21;
    assert_int_equal(tcp_wheel_expiry_ns(250, 0, d8 * J250), (((d8 >> 24) + 1) << 24) * J250);
    assert_int_equal(tcp_wheel_expiry_ns(100, 0, d8 * 10000000ull),
                     (((d8 >> 21) + 1) << 21) * 10000000ull);
}

/* The rounding is of the absolute expiry, from the current jiffy: a 1 s
 * timeout (250 jiffies, level 1) armed at 0 fires at jiffy 256 (1.024 s);
 * armed at 50 ms (jiffy 12) at jiffy 264 (1.056 s). */
static void one_second_from_two_instants(void **state)
{
    (void)state;
    assert_int_equal(tcp_wheel_expiry_ns(250, 0, 1000000000), 256 * J250);
    assert_int_equal(tcp_wheel_expiry_ns(250, 50000000, 1000000000), 264 * J250);
    /* 60 s (15000 jiffies, level 3) armed at 40 ms (jiffy 10): 15360. */
    assert_int_equal(tcp_wheel_expiry_ns(250, 40000000, 60000000000ull), 15360 * J250);
}

/* Never before now + timeout, always on a tick, at most one granularity
 * and one jiffy after it. */
static void never_early_at_most_one_granularity_late(void **state)
{
    (void)state;
    static const uint32_t hzs[] = {100, 250, 1000};
    for (size_t k = 0; k < 3; k++) {
        uint64_t tick = 1000000000ull / hzs[k];
        for (uint64_t now = 0; now < 40 * tick; now += tick / 3 + 1) {
            for (uint64_t d = 0; d < 5000 * tick; d = d * 3 / 2 + tick / 7 + 1) {
                uint64_t at = tcp_wheel_expiry_ns(hzs[k], now, d);
                uint64_t dj = (d + tick - 1) / tick, gran = 1;
                while (gran < 8ull * 8 * 8 * 8 && dj >= 63 * gran)
                    gran *= 8;
                assert_true(at > now + d || (d == 0 && at > now));
                assert_int_equal(at % tick, 0);
                assert_true(at <= now + d + (gran + 1) * tick);
            }
        }
    }
}

static void hz_values(void **state)
{
    (void)state;
    assert_true(tcp_wheel_hz_valid(0));
    assert_true(tcp_wheel_hz_valid(100));
    assert_true(tcp_wheel_hz_valid(250));
    assert_true(tcp_wheel_hz_valid(1000));
    assert_false(tcp_wheel_hz_valid(300)); /* a jiffy of 3333333.3 ns */
    assert_false(tcp_wheel_hz_valid(7));
    assert_false(tcp_wheel_hz_valid(2000000));
}

/* handshake/lost_synack's exchange started: 50 ms each way, B listening,
 * B's first SYN,ACK to be lost, A connecting at time 0. */
static harness *lost_synack(const tcp_profile *p)
{
    harness *h = h_new(2, p);
    h_set_delay(h, 50000000);
    h_listen(h, H_B, 80, 8);
    h_drop_sent(h, H_B, TCP_SYN | TCP_ACK, 1);
    h_connect(h, H_A, H_B, 80, 1000);
    return h;
}

/* handshake/lost_synack under the shipped linux profile (HZ 250), 50 ms
 * each way, B's first SYN,ACK lost: A's SYN timer (armed at 0) fires at
 * 1.024 s; B's SYN,ACK timer (armed at 50 ms) at 1.056 s, before A's
 * retransmitted SYN arrives (1.074 s), which B answers again. */
static void linux_synack_timer_on_the_wheel(void **state)
{
    (void)state;
    harness *h = lost_synack(tcp_profile_find("linux"));
    h_run(h, 1100000000);
    assert_int_equal(h_sent_count(h, H_A), 2);
    assert_int_equal(h_sent(h, H_A, 1)->sent_ns, 256 * J250);
    assert_int_equal(h_sent_count(h, H_B), 3);
    assert_int_equal(h_sent(h, H_B, 0)->sent_ns, 50000000);
    assert_int_equal(h_sent(h, H_B, 1)->sent_ns, 264 * J250);
    assert_int_equal(h_sent(h, H_B, 2)->sent_ns, 1074000000);
    h_free(h);
}

/* The same exchange with timer_hz 0: both timers exact, A's SYN at 1 s,
 * B's SYN,ACK timer at 1.05 s, the instant A's SYN arrives. */
static void linux_exact_timers_with_knob_0(void **state)
{
    (void)state;
    harness *h = lost_synack(h_linux_exact());
    h_run(h, 1040000000);
    assert_int_equal(h_sent_count(h, H_A), 2);
    assert_int_equal(h_sent(h, H_A, 1)->sent_ns, 1000000000);
    h_run(h, 1060000000);
    assert_true(h_sent_count(h, H_B) >= 2);
    assert_int_equal(h_sent(h, H_B, 1)->sent_ns, 1050000000);
    h_free(h);
}

/* The ACK of a bare FIN (ATO 0, tcp_send_delayed_ack's "jiffies + 0")
 * leaves on the next tick: at 0.5 jiffy past a tick, half a jiffy later. */
static void linux_ato_0_ack_on_the_next_tick(void **state)
{
    (void)state;
    harness *h = h_new(2, tcp_profile_find("linux"));
    h_pair p = h_establish(h, H_A, H_B, 80);
    uint64_t next_tick = (h_now(h) / J250 + 1) * J250;
    h_advance(h, next_tick + J250 / 2 - h_now(h));
    assert_int_equal(tcp_close(h_stack(h, H_A), p.client), TCP_OK);
    h_sent_skip(h, H_B);
    h_deliver(h); /* A's FIN reaches B */
    h_expect_none_sent(h, H_B);
    h_advance(h, J250 / 2 - 1);
    h_expect_none_sent(h, H_B);
    h_advance(h, 1);
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exact_without_a_wheel),
        cmocka_unit_test(level_0_fires_the_jiffy_after),
        cmocka_unit_test(level_boundaries_at_hz_250),
        cmocka_unit_test(one_second_from_two_instants),
        cmocka_unit_test(never_early_at_most_one_granularity_late),
        cmocka_unit_test(hz_values),
        cmocka_unit_test(linux_synack_timer_on_the_wheel),
        cmocka_unit_test(linux_exact_timers_with_knob_0),
        cmocka_unit_test(linux_ato_0_ack_on_the_next_tick),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
