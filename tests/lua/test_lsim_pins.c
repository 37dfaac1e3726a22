/*
 * test_lsim_pins — what socket:on_state holds for a connection (its
 * function and the handle passed to each call) is let go once the
 * connection is gone: CLOSED after the user closed or aborted it. A script
 * opening connection after connection, each with a closure of its own,
 * held every closure (and what it captured) and every handle until the
 * state closed: 30 MiB more for 20,000 closures capturing 1 KB each. Now
 * the numbers are handed out again, and the closures are collected.
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

/* Runs src, written to path (a mkstemp template), to its end with every
 * one of its `checked` expectations holding; `unsafe` as --unsafe (debug,
 * collectgarbage). The state is left open for the caller to look at. */
static lua_State *run_to_end(const char *src, char *path, bool unsafe, long checked)
{
    lua_State *L = lsim_test_state(src, path, unsafe);
    lsim_test_run_to_end(L, checked);
    return L;
}

static void finish(lua_State *L, const char *path)
{
    lsim_runtime_free(L);
    unlink(path);
}

/* 1,000 connections one after the other, each with a closure of its own
 * as its on_state, aborted once established. Each closure notes the steps
 * it saw; a weak table notes the closures, so the script can count those
 * not collected. */
static const char SCRIPT[] = "local sim = tcpsim.new { seed = 1 }\n"
                             "local a, b = sim:host 'A', sim:host 'B'\n"
                             "local link = sim:link(a, b, { delay = '1ms' })\n"
                             "local server = b:listen(80)\n"
                             "local alive = setmetatable({}, { __mode = 'v' })\n"
                             "local seen = {}\n"
                             "for i = 1, 1000 do\n"
                             "  local c = a:connect(b, 80)\n"
                             "  local steps = {}\n"
                             "  local function f(s, from, to) steps[#steps + 1] = to; seen[i] = "
                             "table.concat(steps, ' ') end\n"
                             "  alive[i] = f\n"
                             "  c:on_state(f)\n"
                             "  sim:run_for '10ms'\n"
                             "  c:abort()\n"
                             "  sim:run_for '10ms'\n"
                             "end\n"
                             "for i = 1, 1000 do expect(seen[i]):equals('ESTABLISHED CLOSED') end\n"
                             "collectgarbage()\n"
                             "local held = 0\n"
                             "for i = 1, 1000 do held = held + (alive[i] and 1 or 0) end\n"
                             "expect(held):equals(0)\n"
                             "expect(link ~= nil and server ~= nil):equals(true)\n";

static void gone_connections_let_go_of_their_callbacks(void **state)
{
    (void)state;
    char path[] = "/tmp/tcpsim-lsim-pins-XXXXXX";
    lua_State *L = run_to_end(SCRIPT, path, true, 1002);
    /* One connection at a time: one number of each store, handed out
     * again and again (before: 1,000 of each). */
    const lsim *s = lsim_runtime_sim(L, 0);
    assert_non_null(s);
    assert_int_equal(s->handles.top, 1);
    assert_int_equal(s->fns.top, 1);
    finish(L, path);
}

/* A connection the peer reset is still the user's (it may read what is
 * left, and close it): its callback stays set, and is called no more;
 * once the script closes it, the callback lets go (closed_let_go), also
 * when close raises rfc9293's ENOTCONN (the TCB was deleted, RFC 9293
 * §3.10.4 CLOSED). */
static const char RESET[] = "local sim = tcpsim.new { seed = 1 }\n"
                            "local a, b = sim:host 'A', sim:host 'B'\n"
                            "local link = sim:link(a, b, { delay = '1ms' })\n"
                            "local server = b:listen(80)\n"
                            "server:on_accept(function(c) c:abort() end)\n"
                            "local c = a:connect(b, 80)\n"
                            "local steps = {}\n"
                            "c:on_state(function(s, from, to) steps[#steps + 1] = to end)\n"
                            "sim:run_for '1s'\n"
                            "expect(table.concat(steps, ' ')):equals('ESTABLISHED CLOSED')\n"
                            "if close then\n"
                            "  local ok, e = pcall(c.close, c)\n"
                            "  expect(tostring(e):match('ENOTCONN')):equals('ENOTCONN')\n"
                            "end\n"
                            "sim:run_for '1s'\n"
                            "expect(#steps):equals(2)\n"
                            "expect(link ~= nil):equals(true)\n";

/* Records with an on_state callback and its handle set. */
static uint32_t callbacks_set(const lsim *s)
{
    uint32_t set = 0;
    for (uint32_t i = 0; i < s->capsockcbs; i++)
        set += s->sock_cbs[i].on_state != 0 && s->sock_cbs[i].handle != 0;
    return set;
}

static void a_reset_connection_keeps_its_callback(void **state)
{
    (void)state;
    char path[] = "/tmp/tcpsim-lsim-pins-XXXXXX";
    lua_State *L = run_to_end(RESET, path, false, 3);
    const lsim *s = lsim_runtime_sim(L, 0);
    assert_int_equal(callbacks_set(s), 1);
    assert_int_equal(s->handles.top, 1);
    finish(L, path);
}

static void a_reset_connection_closed_lets_go_of_its_callback(void **state)
{
    (void)state;
    char src[sizeof RESET + 32];
    snprintf(src, sizeof src, "close = true\n%s", RESET);
    char path[] = "/tmp/tcpsim-lsim-pins-XXXXXX";
    lua_State *L = run_to_end(src, path, false, 4);
    const lsim *s = lsim_runtime_sim(L, 0);
    assert_int_equal(callbacks_set(s), 0);
    assert_int_equal(s->handles.top, 1);
    assert_int_equal(s->handles.free, 1); /* its number, let go */
    finish(L, path);
}

/* A host that crashed takes its connections with it (net.h rule 5): the
 * callbacks of its ten established connections are called for CLOSED,
 * then let go, though the script never closed them. */
static void a_crashed_host_lets_go_of_its_callbacks(void **state)
{
    (void)state;
    static const char src[] = "local sim = tcpsim.new { seed = 1 }\n"
                              "local a, b = sim:host 'A', sim:host 'B'\n"
                              "local link = sim:link(a, b, { delay = '1ms' })\n"
                              "local server = b:listen(80)\n"
                              "local alive = setmetatable({}, { __mode = 'v' })\n"
                              "local closed = 0\n"
                              "for i = 1, 10 do\n"
                              "  local c = a:connect(b, 80)\n"
                              "  alive[i] = function(s, from, to)\n"
                              "    if to == 'CLOSED' then closed = closed + i end\n"
                              "  end\n"
                              "  c:on_state(alive[i])\n"
                              "end\n"
                              "sim:run_for '1s'\n"
                              "a:crash()\n"
                              "sim:run_for '1s'\n"
                              "expect(closed):equals(55)\n"
                              "collectgarbage()\n"
                              "local held = 0\n"
                              "for i = 1, 10 do held = held + (alive[i] and 1 or 0) end\n"
                              "expect(held):equals(0)\n"
                              "expect(link ~= nil and server ~= nil):equals(true)\n";
    char path[] = "/tmp/tcpsim-lsim-pins-XXXXXX";
    lua_State *L = run_to_end(src, path, true, 3);
    const lsim *s = lsim_runtime_sim(L, 0);
    assert_int_equal(callbacks_set(s), 0);
    finish(L, path);
}

/* A simulation finished by its __gc called by hand (--unsafe) lets go of
 * its callbacks' functions and handles at once, not when the state closes. */
static void a_finished_simulation_lets_go_of_its_callbacks(void **state)
{
    (void)state;
    static const char src[] = "local sim = tcpsim.new { seed = 1 }\n"
                              "local a, b = sim:host 'A', sim:host 'B'\n"
                              "local link = sim:link(a, b, { delay = '1ms' })\n"
                              "local server = b:listen(80)\n"
                              "local alive = setmetatable({}, { __mode = 'v' })\n"
                              "for i = 1, 10 do\n"
                              "  local c = a:connect(b, 80)\n"
                              "  alive[i] = function() return i end\n"
                              "  c:on_state(alive[i])\n"
                              "end\n"
                              "sim:run_for '1s'\n"
                              "debug.getmetatable(sim).__gc(sim)\n"
                              "collectgarbage()\n"
                              "local held = 0\n"
                              "for i = 1, 10 do held = held + (alive[i] and 1 or 0) end\n"
                              "expect(held):equals(0)\n"
                              "expect(link ~= nil and server ~= nil):equals(true)\n";
    char path[] = "/tmp/tcpsim-lsim-pins-XXXXXX";
    lua_State *L = run_to_end(src, path, true, 2);
    finish(L, path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gone_connections_let_go_of_their_callbacks),
        cmocka_unit_test(a_reset_connection_keeps_its_callback),
        cmocka_unit_test(a_reset_connection_closed_lets_go_of_its_callback),
        cmocka_unit_test(a_crashed_host_lets_go_of_its_callbacks),
        cmocka_unit_test(a_finished_simulation_lets_go_of_its_callbacks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
