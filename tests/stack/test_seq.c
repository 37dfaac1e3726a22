/*
 * test_seq — sequence-number comparisons modulo 2^32 (RFC 9293 §3.4):
 * ordinary values, every helper across the 2^32 wrap, window membership
 * straddling zero, and the one ambiguous distance, exactly 2^31.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include "tcp_seq.h"

#define TOP 0xffffffffu /* 2^32 - 1 */

static void compare_ordinary_values(void **state)
{
    (void)state;
    assert_true(tcp_seq_lt(1, 2));
    assert_false(tcp_seq_lt(2, 1));
    assert_false(tcp_seq_lt(5, 5));
    assert_true(tcp_seq_le(5, 5));
    assert_true(tcp_seq_le(4, 5));
    assert_false(tcp_seq_le(6, 5));
    assert_true(tcp_seq_gt(2, 1));
    assert_false(tcp_seq_gt(5, 5));
    assert_true(tcp_seq_ge(5, 5));
    assert_false(tcp_seq_ge(4, 5));
}

/* TOP is followed by 0: numbers just below the wrap are "less" than small
 * numbers just above it. */
static void compare_across_the_wrap(void **state)
{
    (void)state;
    assert_true(tcp_seq_lt(TOP, 0));
    assert_true(tcp_seq_lt(0xfffffff0u, 0x10));
    assert_false(tcp_seq_lt(0x10, 0xfffffff0u));
    assert_true(tcp_seq_gt(0, TOP));
    assert_true(tcp_seq_gt(0x10, 0xfffffff0u));
    assert_true(tcp_seq_le(TOP, 0));
    assert_true(tcp_seq_le(TOP, TOP));
    assert_true(tcp_seq_ge(0, TOP));
    assert_false(tcp_seq_ge(TOP, 0));
    assert_true(tcp_seq_lt(TOP, TOP + 1u)); /* TOP + 1 is 0 */
}

/* Adding n (0 < n < 2^31) always moves forward, wherever we start. */
static void adding_moves_forward_from_every_start(void **state)
{
    static const uint32_t starts[] = {0,           1,           0x7ffffffeu, 0x7fffffffu,
                                      0x80000000u, 0xfffffffeu, TOP};
    static const uint32_t steps[] = {1, 2, 1000, 0x10000u, 0x7fffffffu};
    size_t i, j;

    (void)state;
    for (i = 0; i < sizeof starts / sizeof starts[0]; i++) {
        for (j = 0; j < sizeof steps / sizeof steps[0]; j++) {
            uint32_t a = starts[i], b = a + steps[j];

            assert_true(tcp_seq_lt(a, b));
            assert_true(tcp_seq_le(a, b));
            assert_true(tcp_seq_gt(b, a));
            assert_true(tcp_seq_ge(b, a));
            assert_false(tcp_seq_lt(b, a));
            assert_int_equal(tcp_seq_max(a, b), b);
            assert_int_equal(tcp_seq_max(b, a), b);
        }
    }
}

/* Exactly 2^31 apart the sign of the difference cannot say which is first:
 * both read as "less than". The window rules keep values closer than this;
 * the test pins the behaviour so a change to it is noticed. */
static void distance_of_two_to_the_31_is_ambiguous(void **state)
{
    (void)state;
    assert_true(tcp_seq_lt(0, 0x80000000u));
    assert_true(tcp_seq_lt(0x80000000u, 0));
    assert_false(tcp_seq_gt(0, 0x80000000u));
    assert_false(tcp_seq_gt(0x80000000u, 0));
    /* One less than 2^31 is still unambiguous. */
    assert_true(tcp_seq_lt(0, 0x7fffffffu));
    assert_false(tcp_seq_lt(0x7fffffffu, 0));
}

/* tcp_seq_in is lo <= x < hi: RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND. */
static void window_membership_straddling_zero(void **state)
{
    uint32_t lo = 0xfffffff0u, hi = 0x10; /* a 32-byte window over the wrap */

    (void)state;
    assert_true(tcp_seq_in(lo, lo, hi));
    assert_true(tcp_seq_in(TOP, lo, hi));
    assert_true(tcp_seq_in(0, lo, hi));
    assert_true(tcp_seq_in(0x0f, lo, hi));
    assert_false(tcp_seq_in(hi, lo, hi)); /* hi is outside */
    assert_false(tcp_seq_in(lo - 1u, lo, hi));
    assert_false(tcp_seq_in(0x80000000u, lo, hi));
}

static void window_of_zero_holds_nothing(void **state)
{
    (void)state;
    assert_false(tcp_seq_in(100, 100, 100));
    assert_false(tcp_seq_in(TOP, TOP, TOP));
    assert_false(tcp_seq_in(0, 0, 0));
}

static void window_of_one_holds_its_start(void **state)
{
    (void)state;
    assert_true(tcp_seq_in(TOP, TOP, 0));
    assert_false(tcp_seq_in(0, TOP, 0));
    assert_false(tcp_seq_in(TOP - 1u, TOP, 0));
}

static void max_across_the_wrap(void **state)
{
    (void)state;
    assert_int_equal(tcp_seq_max(TOP, 0), 0);
    assert_int_equal(tcp_seq_max(0, TOP), 0);
    assert_int_equal(tcp_seq_max(0xfffffff0u, 5), 5);
    assert_int_equal(tcp_seq_max(7, 7), 7);
}

/* An acceptable ACK (RFC 9293 §3.10.7.4): SND.UNA < SEG.ACK =< SND.NXT,
 * written with the helpers, for a flight that crosses zero. */
static void acceptable_ack_across_the_wrap(void **state)
{
    uint32_t una = 0xfffffffau, nxt = 0x00000006u; /* 12 bytes in flight */
    uint32_t ack;
    unsigned accepted = 0;

    (void)state;
    for (ack = una - 4u; ack != nxt + 4u; ack++)
        if (tcp_seq_lt(una, ack) && tcp_seq_le(ack, nxt))
            accepted++;
    assert_int_equal(accepted, 12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(compare_ordinary_values),
        cmocka_unit_test(compare_across_the_wrap),
        cmocka_unit_test(adding_moves_forward_from_every_start),
        cmocka_unit_test(distance_of_two_to_the_31_is_ambiguous),
        cmocka_unit_test(window_membership_straddling_zero),
        cmocka_unit_test(window_of_zero_holds_nothing),
        cmocka_unit_test(window_of_one_holds_its_start),
        cmocka_unit_test(max_across_the_wrap),
        cmocka_unit_test(acceptable_ack_across_the_wrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
