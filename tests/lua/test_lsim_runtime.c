/*
 * The Lua runtime's contract: the sandbox, deterministic pairs() and
 * math.random, the instruction budget, option checking and error
 * locations. Each test writes a small scenario to a temporary file and runs
 * it through the runtime's C entry points.
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

typedef struct result {
    int rc;
    char err[2048];
    long checked, failed;
} result;

static result run_script(const char *src, bool unsafe, uint64_t max_instructions)
{
    char path[] = "/tmp/tcpsim-lsim-XXXXXX";
    lsim_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.unsafe = unsafe;
    cfg.max_instructions = max_instructions;
    lua_State *L = lsim_test_state_cfg(src, path, cfg);
    result r;
    memset(&r, 0, sizeof r);
    const char *err;
    r.rc = lsim_runtime_run(L, &err);
    if (err)
        snprintf(r.err, sizeof r.err, "%s", err);
    lsim_expect_counts(L, &r.checked, &r.failed);
    lsim_runtime_free(L);
    unlink(path);
    return r;
}

static void pairs_visits_keys_in_a_fixed_order(void **state)
{
    (void)state;
    result r = run_script("local t = {zeta=1, alpha=2, [3]=3, [1]=4, mid=5, [true]=6}\n"
                          "local seen = {}\n"
                          "for k in pairs(t) do seen[#seen+1] = tostring(k) end\n"
                          "expect(table.concat(seen, ',')):equals('1,3,alpha,mid,zeta,true')\n",
                          false, 0);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.checked, 1);
    assert_int_equal(r.failed, 0);
}

static void pairs_refuses_keys_without_an_order(void **state)
{
    (void)state;
    result r = run_script("for k in pairs({[{}] = 1}) do end\n", false, 0);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "no deterministic order"));
}

static void math_random_follows_the_seed(void **state)
{
    (void)state;
    const char *src = "math.randomseed(42)\n"
                      "local a = {}\n"
                      "for i = 1, 5 do a[i] = math.random(1000) end\n"
                      "math.randomseed(42)\n"
                      "for i = 1, 5 do expect(math.random(1000)):equals(a[i]) end\n"
                      "math.randomseed(43)\n"
                      "local same = true\n"
                      "for i = 1, 5 do same = same and math.random(1000) == a[i] end\n"
                      "expect(same):equals(false)\n"
                      "local x = math.random()\n"
                      "expect(x >= 0 and x < 1):holds('float in [0,1)')\n";
    result r = run_script(src, false, 0);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.checked, 7);
    assert_int_equal(r.failed, 0);
}

static void sandbox_hides_io_os_and_binary_chunks(void **state)
{
    (void)state;
    result r = run_script("return io.open('/tmp/x', 'w')\n", false, 0);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "global 'io'"));
    r = run_script("return os.time()\n", false, 0);
    assert_int_equal(r.rc, 2);
    r = run_script("expect(string.dump):equals(nil)\n"
                   "local g, e = load('\\27Lua\\x54\\0\\x19\\x93\\r\\n\\x1a\\n')\n"
                   "expect(g):equals(nil)\n"
                   "expect(e):equals(\"attempt to load a binary chunk (mode is 't')\")\n",
                   false, 0);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.checked, 3);
    assert_int_equal(r.failed, 0);
    r = run_script("expect(type(io)):equals('table')\n", true, 0);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.failed, 0);
}

static void endless_loop_hits_the_instruction_budget(void **state)
{
    (void)state;
    result r = run_script("while true do end\n", false, 1000000);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "instruction limit of 1000000"));
}

static void unknown_option_is_named_with_the_line(void **state)
{
    (void)state;
    result r = run_script("local sim = tcpsim.new {}\n"
                          "local a, b = sim:host 'A', sim:host 'B'\n"
                          "sim:link(a, b, { zdelay = '1ms', dleay = '2ms' })\n",
                          false, 0);
    assert_int_equal(r.rc, 2);
    /* the alphabetically first unknown key, whatever the table order */
    assert_non_null(strstr(r.err, ":3: unknown option 'dleay' in sim:link"));
}

static void impossible_values_are_rejected(void **state)
{
    (void)state;
    result r = run_script("local sim = tcpsim.new {}\n"
                          "local a, b = sim:host 'A', sim:host 'B'\n"
                          "sim:link(a, b, { loss = 1.5 })\n",
                          false, 0);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "loss must be in [0,1], got 1.5"));
    r = run_script("tcpsim.new { seed = -1 }\n", false, 0);
    assert_int_equal(r.rc, 2);
    r = run_script("tcpsim.new { msl = '-5s' }\n", false, 0);
    assert_int_equal(r.rc, 2);
}

static void durations_convert_exactly(void **state)
{
    (void)state;
    result r = run_script("expect(tcpsim.duration '1.5s'):equals(1500000000)\n"
                          "expect(tcpsim.duration '2min'):equals(120000000000)\n"
                          "expect(tcpsim.duration(tcpsim.ns(7))):equals(7)\n",
                          false, 0);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.checked, 3);
    assert_int_equal(r.failed, 0);
}

static void failed_expectations_are_counted_not_fatal(void **state)
{
    (void)state;
    result r =
        run_script("expect(1):equals(2)\nexpect(3):equals(3)\nexpect(4):at_most(3)\n", false, 0);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.checked, 3);
    assert_int_equal(r.failed, 2);
}

/* A Lua error raised by a binding and caught by the script must leave the
 * simulation usable: the argument is checked before the stack is entered,
 * so the run goes on, the host timer is re-armed and state callbacks run. */
static void caught_binding_error_leaves_the_simulation_usable(void **state)
{
    (void)state;
    result r = run_script("local sim = tcpsim.new {}\n"
                          "local a, b = sim:host 'A', sim:host 'B'\n"
                          "sim:link(a, b, { delay = '10ms' })\n"
                          "local l = b:listen(80, { autoread = true })\n"
                          "local c = a:connect(b, 80)\n"
                          "local seen = {}\n"
                          "c:on_state(function(s, from, to) seen[#seen + 1] = to end)\n"
                          "local ok, err = pcall(function() c:setopt { keepidle = 'bogus' } end)\n"
                          "expect(ok):equals(false)\n"
                          "expect(tostring(err):find('keepidle', 1, true) ~= nil):equals(true)\n"
                          "sim:run_for '1s'\n"
                          "expect(c.state):equals('ESTABLISHED')\n"
                          "expect(table.concat(seen, ',')):equals('ESTABLISHED')\n",
                          false, 0);
    assert_string_equal(r.err, "");
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.checked, 4);
    assert_int_equal(r.failed, 0);
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RUNTIME_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define RUNTIME_TEST_ASAN 1
#endif

/* Lua's blocks are counted as the heap counts them: what
 * lsim_heap_resize_quiet adds to its count is what lsim_heap_block says the
 * new block holds less the old one's, from a new block to a freed one
 * (0 where the heap is not counted, as lsim_heap_block is then), through
 * a block the C library maps (1 MiB) and back, and the heap's own count
 * moves by as much; a request the C library refuses leaves the block and
 * both counts as they were (not under AddressSanitizer, which reports
 * such a request instead of refusing it). */
static void resized_blocks_are_counted_as_the_heap_counts_them(void **state)
{
    (void)state;
    size_t held = 0, heap = lsim_heap_in_use();
    void *p = lsim_heap_resize_quiet(NULL, 40, &held);
    assert_non_null(p);
    assert_int_equal(held, lsim_heap_block(p));
    p = lsim_heap_resize_quiet(p, 5000, &held);
    assert_non_null(p);
    assert_int_equal(held, lsim_heap_block(p));
    if (lsim_heap_exact()) {
        assert_true(held >= 5000);
        assert_int_equal(lsim_heap_in_use() - heap, held);
    }
    p = lsim_heap_resize_quiet(p, (size_t)1 << 20, &held);
    assert_non_null(p);
    assert_int_equal(held, lsim_heap_block(p));
    if (lsim_heap_exact()) {
        assert_true(held >= (size_t)1 << 20);
        assert_int_equal(lsim_heap_in_use() - heap, held);
    }
#if !defined(RUNTIME_TEST_ASAN)
    size_t was = held, in_use = lsim_heap_in_use();
    assert_null(lsim_heap_resize_quiet(p, SIZE_MAX / 2, &held));
    assert_int_equal(held, was);
    assert_int_equal(held, lsim_heap_block(p)); /* p is still the block */
    assert_int_equal(lsim_heap_in_use(), in_use);
#endif
    p = lsim_heap_resize_quiet(p, 24, &held);
    assert_non_null(p);
    assert_int_equal(held, lsim_heap_block(p));
    assert_null(lsim_heap_resize_quiet(p, 0, &held));
    assert_int_equal(held, 0);
    if (lsim_heap_exact())
        assert_int_equal(lsim_heap_in_use(), heap);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pairs_visits_keys_in_a_fixed_order),
        cmocka_unit_test(pairs_refuses_keys_without_an_order),
        cmocka_unit_test(math_random_follows_the_seed),
        cmocka_unit_test(sandbox_hides_io_os_and_binary_chunks),
        cmocka_unit_test(endless_loop_hits_the_instruction_budget),
        cmocka_unit_test(unknown_option_is_named_with_the_line),
        cmocka_unit_test(impossible_values_are_rejected),
        cmocka_unit_test(durations_convert_exactly),
        cmocka_unit_test(failed_expectations_are_counted_not_fatal),
        cmocka_unit_test(caught_binding_error_leaves_the_simulation_usable),
        cmocka_unit_test(resized_blocks_are_counted_as_the_heap_counts_them),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
