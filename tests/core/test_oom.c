/*
 * test_oom — every allocation sim_host_add and sim_link_add make may fail,
 * and each failure leaves the world whole: the add returns -1 with an
 * "out of memory" message naming what was being added, the counts and
 * lookups are as before (the key is not found, every earlier one is), the
 * same add made again succeeds, and nothing leaks (the sanitizers' build
 * checks the last). A world is built once to count its allocations: 1,100
 * hosts (past a host chunk of 1,024, names past several name chunks, both
 * host indexes through their growths) and 300 links in a chain (past a
 * link chunk of 256), each direction with parameters of its own (a kept
 * value each, the table growing). Then it is built once per allocation
 * with that one failing, and once with it and every later one failing
 * (memory that stays exhausted: every add from there fails, cleanly).
 *
 * malloc, calloc and realloc are wrapped at link time (-Wl,--wrap, see
 * CMakeLists.txt and ../oom_wrap.h): __wrap_* count the calls while `armed` and fail the
 * one numbered `fail_at` (with `fail_rest`, it and every later one).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_host.h"
#include "sim_link.h"
#include "sim_world.h"

#include "../oom_wrap.h"

enum { HOSTS = 1100, LINKS = 300 };

static void host_name(uint32_t i, char *name, size_t len)
{
    snprintf(name, len, "host-with-a-long-name-%u", i); /* fills a name chunk in ~170 */
}

static uint32_t host_addr(uint32_t i)
{
    return 0x0a000000u + 1 + i;
}

/* A refused add left the world as it was: the counts, no trace of the key,
 * and a message saying why. */
static void assert_refused(sim_world *w, uint32_t hosts, uint32_t links, const char *what)
{
    assert_non_null(strstr(sim_world_error(w), "out of memory"));
    assert_non_null(strstr(sim_world_error(w), what));
    assert_int_equal(sim_host_count(w), hosts);
    assert_int_equal(sim_link_count(w), links);
}

/* Adds host i; a failure is checked, and the add made again until it
 * succeeds (never, when memory stays exhausted: then false). */
static bool add_host(sim_world *w, uint32_t i)
{
    char name[40];
    host_name(i, name, sizeof name);
    while (sim_host_add(w, name, host_addr(i), NULL) != 0) {
        assert_refused(w, i, 0, name);
        assert_null(sim_host_by_name(w, name));
        assert_null(sim_host_by_addr(w, host_addr(i)));
        if (fail_rest)
            return false;
    }
    return true;
}

/* Link i joins hosts i and i + 1, each direction with its own delay. */
static bool add_link(sim_world *w, uint32_t i)
{
    sim_host *a = sim_host_by_id(w, i), *b = sim_host_by_id(w, i + 1);
    sim_link_params ab, ba;
    sim_link_params_default(&ab);
    sim_link_params_default(&ba);
    ab.delay_ns = 1000u * (2 * i + 1);
    ba.delay_ns = 1000u * (2 * i + 2);
    while (sim_link_add(w, a, b, &ab, &ba, NULL) != 0) {
        assert_refused(w, HOSTS, i, sim_host_name(a));
        assert_null(sim_link_between(w, a, b));
        if (fail_rest)
            return false;
    }
    return true;
}

/* Every host and link added is found as itself. */
static void assert_whole(const sim_world *w, uint32_t hosts, uint32_t links)
{
    for (uint32_t i = 0; i < hosts; i++) {
        char name[40];
        host_name(i, name, sizeof name);
        const sim_host *h = sim_host_by_name(w, name);
        assert_non_null(h);
        assert_int_equal(sim_host_id(h), i);
        assert_ptr_equal(sim_host_by_addr(w, host_addr(i)), h);
    }
    for (uint32_t i = 0; i < links; i++) {
        const sim_link *l = sim_link_between(w, sim_host_by_id(w, i), sim_host_by_id(w, i + 1));
        assert_non_null(l);
        assert_int_equal(sim_link_params_get(l, 0)->delay_ns, 1000u * (2 * i + 1));
        assert_int_equal(sim_link_params_get(l, 1)->delay_ns, 1000u * (2 * i + 2));
    }
}

/* Builds the world with allocation `at` failing (0: none); returns the
 * allocations counted. */
static unsigned long build(unsigned long at, bool rest)
{
    sim_world *w = sim_world_new(1);
    assert_non_null(w);
    allocs = failed = 0;
    fail_at = at;
    fail_rest = rest;
    armed = true;
    uint32_t hosts = 0, links = 0;
    while (hosts < HOSTS && add_host(w, hosts))
        hosts++;
    while (hosts == HOSTS && links < LINKS && add_link(w, links))
        links++;
    armed = false;
    unsigned long counted = allocs;
    if (at)
        assert_true(failed > 0); /* the allocation chosen was made, and refused */
    if (!rest) {
        assert_int_equal(hosts, HOSTS);
        assert_int_equal(links, LINKS);
    }
    assert_whole(w, hosts, links);
    sim_world_free(w);
    return counted;
}

static void each_allocation_may_fail(void **state)
{
    (void)state;
    unsigned long total = build(0, false);
    assert_true(total > 20);
    for (unsigned long at = 1; at <= total; at++)
        build(at, false);
}

static void memory_may_stay_exhausted(void **state)
{
    (void)state;
    unsigned long total = build(0, false);
    for (unsigned long at = 1; at <= total; at++)
        build(at, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_allocation_may_fail),
        cmocka_unit_test(memory_may_stay_exhausted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
