/*
 * test_lsim_oom — a Lua memory error inside a binding leaves the
 * simulation as it was, so a script that catches it with pcall can make
 * the same call again. The state's allocator is wrapped (keeping its
 * userdata, which the runtime reads back): once a scenario calls arm(),
 * every Lua allocation from the k-th on is refused (the first refusal is
 * retried by Lua after an emergency collection, so one refusal alone
 * would go unseen) until disarm(). The scenario arms inside a pcall just
 * before one call, catches the error and makes the call again; the test
 * runs it for k = 1, 2, ... until a run in which nothing was refused, so
 * every allocation the call makes fails once. The call made again must
 * succeed, the simulation must then behave as if nothing had failed, and
 * what the call holds for the script must be held once, not once per try.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lsim.h"
#include "lsim_test_file.h"

static lua_Alloc real_alloc;
static bool armed;
static unsigned long allocs, fail_from, refused;

static void *wrap_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    if (armed && nsize > (ptr ? osize : 0) && ++allocs >= fail_from) {
        refused++;
        return NULL;
    }
    return real_alloc(ud, ptr, osize, nsize);
}

static int l_arm(lua_State *L)
{
    (void)L;
    allocs = 0;
    armed = true;
    return 0;
}

static int l_disarm(lua_State *L)
{
    (void)L;
    armed = false;
    return 0;
}

typedef struct outcome {
    unsigned long refused;
    uint32_t pins, fns; /* numbers handed out by the first simulation's stores */
} outcome;

/* Runs src with allocations from the k-th after arm() refused. */
static outcome run_failing_from(const char *src, unsigned long k)
{
    char path[] = "/tmp/tcpsim-lsim-oom-XXXXXX";
    lua_State *L = lsim_test_state(src, path, false);
    void *ud;
    real_alloc = lua_getallocf(L, &ud);
    lua_setallocf(L, wrap_alloc, ud);
    lua_register(L, "arm", l_arm);
    lua_register(L, "disarm", l_disarm);
    fail_from = k;
    refused = 0;
    armed = false;
    const char *err = NULL;
    int rc = lsim_runtime_run(L, &err);
    armed = false;
    if (rc != 0)
        fail_msg("refused from allocation %lu: rc %d: %s", k, rc, err ? err : "");
    long checked = 0, failed = 0;
    lsim_expect_counts(L, &checked, &failed);
    assert_int_equal(failed, 0);
    assert_true(checked > 0);
    lsim *s = lsim_runtime_sim(L, 0);
    assert_non_null(s);
    outcome o = {refused, s->handles.top, s->fns.top};
    lsim_runtime_free(L);
    unlink(path);
    return o;
}

/* Runs src failing from each allocation in turn, until one run refuses
 * nothing; each run must hold what the run without failure holds. */
static void each_allocation_may_fail(const char *src)
{
    outcome whole = run_failing_from(src, ULONG_MAX);
    assert_int_equal(whole.refused, 0);
    unsigned long k = 1;
    for (;; k++) {
        outcome o = run_failing_from(src, k);
        if (o.refused == 0)
            break;
        if (o.pins != whole.pins || o.fns != whole.fns)
            fail_msg("refused from allocation %lu: %u pins and %u functions held, "
                     "%u and %u without failure",
                     k, o.pins, o.fns, whole.pins, whole.fns);
    }
    assert_true(k > 1); /* the call allocated, and each allocation failed once */
}

#define PRELUDE                                                                                    \
    "local sim = tcpsim.new { seed = 1 }\n"                                                        \
    "local a, b = sim:host 'A', sim:host 'B'\n"                                                    \
    "local opts = { delay = '10ms' }\n"

/* sim:link refused mid-way: no link is left behind without its handle
 * (the same link made again would be "already linked"). */
static void link_failing_mid_way_can_be_made_again(void **state)
{
    (void)state;
    each_allocation_may_fail(PRELUDE
                             "local function try() arm() return sim:link(a, b, opts) end\n"
                             "local ok, link = pcall(try)\n"
                             "disarm()\n"
                             "if not ok then\n"
                             "  assert(tostring(link):find('not enough memory'), tostring(link))\n"
                             "  link = sim:link(a, b, opts)\n"
                             "end\n"
                             "local server = b:listen(80)\n"
                             "local c = a:connect(b, 80)\n"
                             "sim:run_for '1s'\n"
                             "expect(c.state):equals('ESTABLISHED')\n"
                             "expect(#link:segments()):equals(3)\n");
}

/* socket:on_state refused mid-way: the callback is set once when made
 * again, and its handle and function are held once. */
static void on_state_failing_mid_way_can_be_set_again(void **state)
{
    (void)state;
    each_allocation_may_fail(PRELUDE "local link = sim:link(a, b, opts)\n"
                                     "local server = b:listen(80)\n"
                                     "local c = a:connect(b, 80)\n"
                                     "local seen = {}\n"
                                     "local function f(s, from, to) seen[#seen + 1] = to end\n"
                                     "local function try() arm() return c:on_state(f) end\n"
                                     "local ok, err = pcall(try)\n"
                                     "disarm()\n"
                                     "if not ok then\n"
                                     "  assert(tostring(err):find('not enough memory'), "
                                     "tostring(err))\n"
                                     "  c:on_state(f)\n"
                                     "end\n"
                                     "sim:run_for '1s'\n"
                                     "expect(table.concat(seen, ' ')):equals('ESTABLISHED')\n"
                                     "expect(link ~= nil):equals(true)\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(link_failing_mid_way_can_be_made_again),
        cmocka_unit_test(on_state_failing_mid_way_can_be_set_again),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
