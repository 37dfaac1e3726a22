/*
 * test_mem — the contract of sim_mem.h: a reservation is a hint about the
 * process's heap, so asking again for no more than was reserved already
 * (a second simulation announcing the same hosts, a schedule explored run
 * after run in one process) grows the heap no further; only what a larger
 * request adds is reserved. Where the mechanism is missing (a sanitizer's
 * allocator never moves the break) every call does nothing and the checks
 * hold trivially. A reservation under 256 MiB is advised for huge pages in
 * its first half only, so the heap's top at its peak, past that half, is
 * not rounded up to a 2 MiB page; a larger one is advised whole.
 */
#define _DEFAULT_SOURCE
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sim_mem.h"

#define MIB ((size_t)1 << 20)

static bool mechanism; /* the first reservation moved the break */

static size_t break_moved(size_t bytes)
{
    char *lo = sbrk(0);
    sim_mem_reserve(bytes);
    return (size_t)((char *)sbrk(0) - lo);
}

/* 64 MiB reserved, then the same again four times: the heap stays where
 * the first left it (each repeat used to grow it by the whole size, and
 * the 2 MiB pages its probes touched in the range marked for huge pages
 * stayed: 40 sims announcing 200,000 hosts held 941 MB). A larger request
 * then grows it by the difference, not by the whole. */
static void test_repeated_reservation_grows_nothing(void **state)
{
    (void)state;
    size_t first = break_moved(64 * MIB);
    for (int i = 0; i < 4; i++)
        assert_int_equal(break_moved(64 * MIB), 0);
    assert_int_equal(break_moved(32 * MIB), 0);
    size_t more = break_moved(128 * MIB);
    mechanism = first > 0;
    if (mechanism)
        assert_true(more >= 64 * MIB && more < 128 * MIB);
    else
        assert_int_equal(more, 0);
}

/* Bytes of the mappings within [lo, hi) that the kernel marks as advised
 * for huge pages ("hg" in smaps' VmFlags), and the highest address any of
 * them reaches (lo when none). */
static size_t advised_within(uintptr_t lo, uintptr_t hi, uintptr_t *top)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    size_t total = 0;
    *top = lo;
    if (!f)
        return 0;
    char line[512];
    unsigned long start = 0, end = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long a, b;
        if (sscanf(line, "%lx-%lx ", &a, &b) == 2) { /* a mapping's first line */
            start = a;
            end = b;
        } else if (strncmp(line, "VmFlags:", 8) == 0 && strstr(line, " hg")) {
            uintptr_t s = start > lo ? start : lo, e = end < hi ? end : hi;
            if (e > s) {
                total += e - s;
                *top = e > *top ? e : *top;
            }
        }
    }
    fclose(f);
    return total;
}

/* Reserves `more` past the largest earlier request (`*total`), checks the
 * break moved where the mechanism exists, and returns the bytes advised
 * within the range it moved by and (in *end) where the advice ends, as
 * an offset from the range's start. */
static size_t reserve_more(size_t *total, size_t more, size_t *end)
{
    char *lo = sbrk(0);
    *total += more;
    sim_mem_reserve(*total);
    char *hi = sbrk(0);
    if (mechanism)
        assert_true((size_t)(hi - lo) >= more);
    uintptr_t top;
    size_t advised = advised_within((uintptr_t)lo, (uintptr_t)hi, &top);
    *end = top - (uintptr_t)lo;
    return advised;
}

/* 240 MiB past what was reserved (under 256 MiB): nothing past its first
 * half is advised, so the heap's top at a peak past that half is in small
 * pages; where huge pages exist (the call advised anything), that first
 * half is, less the 2 MiB pages its ends cut. Then 1 GiB more: advised
 * whole, the page a top rounds up under 1 % of it. Virtual memory only:
 * nothing is touched but the probes' headers. */
static void test_small_reservations_advise_their_first_half(void **state)
{
    (void)state;
    size_t total = 128 * MIB, end; /* the first test's largest */
    size_t advised = reserve_more(&total, 240 * MIB, &end);
    assert_true(end <= 120 * MIB);
    if (advised > 0)
        assert_true(advised >= 120 * MIB - 4 * MIB);
    advised = reserve_more(&total, 1024 * MIB, &end);
    assert_true(end <= 1024 * MIB);
    if (advised > 0)
        assert_true(advised >= 1024 * MIB - 4 * MIB);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repeated_reservation_grows_nothing),
        cmocka_unit_test(test_small_reservations_advise_their_first_half),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
