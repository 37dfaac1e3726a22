/*
 * test_lsim_crafted — values a scenario chose to collide in the simulator's
 * unkeyed hashes, reached from Lua. A host's knobs make its profile, and
 * the world keeps each distinct profile once in a table hashed over the
 * profile's bytes (net_keep.c). Knob values can be searched for offline
 * whose profiles' home slots all meet; the search needs the profile's
 * layout, so this test does it in C (where a layout change still finds
 * crafted values) and writes the scenario it would run: 12,000 hosts, each
 * with its own `rto_slop`. Each host made would walk the whole pile (116
 * million slots); the walk stops at NET_KEEP_MAX_WALK and the profile is
 * kept apart, so the scenario runs to its end, and every host keeps the
 * profile its knobs made.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lsim.h"
#include "lsim_test_file.h"
#include "net_int.h" /* the kept profiles' table and its hash */

enum { CRAFTED = 12000, CRAFT_SLOTS = 32768, CRAFT_WINDOW = 64 };

static bool crafted(uint64_t hash)
{
    return ((uint32_t)hash & (CRAFT_SLOTS - 1)) < CRAFT_WINDOW;
}

/* The linux profile with rto_slop_ns = slop, as sim:host makes it. */
static tcp_profile linux_with_slop(uint64_t slop)
{
    tcp_profile p;
    memcpy(&p, tcp_profile_find("linux"), sizeof p);
    p.rto_slop_ns = slop;
    return p;
}

/* The scenario: CRAFTED hosts, the i-th with rto_slop = slops[i] ns. */
static char *crafted_hosts_script(const uint64_t *slops)
{
    size_t cap = (size_t)CRAFTED * 24 + 512, len = 0;
    char *src = malloc(cap);
    assert_non_null(src);
    len += (size_t)snprintf(src + len, cap - len,
                            "local sim = tcpsim.new { seed = 1, profile = 'linux' }\n"
                            "local slops = {");
    for (uint32_t i = 0; i < CRAFTED; i++)
        len += (size_t)snprintf(src + len, cap - len, "%s%llu", i ? "," : "",
                                (unsigned long long)slops[i]);
    snprintf(src + len, cap - len,
             "}\n"
             "for i, ns in ipairs(slops) do\n"
             "  sim:host { name = 'h' .. i, rto_slop = ns .. 'ns' }\n"
             "end\n"
             "expect(#slops):equals(%d)\n",
             CRAFTED);
    return src;
}

static void crafted_host_knobs_are_kept_apart(void **state)
{
    (void)state;
    uint64_t *slops = malloc(CRAFTED * sizeof *slops), slop = 1;
    assert_non_null(slops);
    for (uint32_t i = 0; i < CRAFTED; i++) {
        tcp_profile p;
        do
            p = linux_with_slop(slop++);
        while (!crafted(net_keep_hash(&p, sizeof p)));
        slops[i] = slop - 1;
    }
    char *src = crafted_hosts_script(slops);
    char path[] = "/tmp/tcpsim-lsim-crafted-XXXXXX";
    lua_State *L = lsim_test_state(src, path, false);
    lsim_test_run_to_end(L, 1);
    const net *n = lsim_runtime_sim(L, 0)->net;
    /* Each host has the profile its knob made: the values were crafted
     * for the bytes the scenario makes. */
    assert_int_equal(net_host_count(n), CRAFTED);
    for (uint32_t i = 0; i < CRAFTED; i++) {
        tcp_profile want = linux_with_slop(slops[i]);
        assert_memory_equal(net_host_profile(n, i), &want, sizeof want);
    }
    /* The table's walks stayed bounded (as tests/net/test_net_keep). */
    uint32_t listed = 0;
    for (uint32_t i = 0; i <= n->profiles.mask; i++)
        listed += n->profiles.slots[i] != NULL;
    assert_true(listed > NET_KEEP_MAX_WALK && listed < CRAFTED);
    assert_true(n->profiles.steps <=
                (uint64_t)(NET_KEEP_MAX_WALK + 1) * (CRAFTED + 1 + 2 * (uint64_t)listed));
    lsim_runtime_free(L);
    unlink(path);
    free(src);
    free(slops);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crafted_host_knobs_are_kept_apart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
