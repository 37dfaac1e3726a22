/*
 * The scenario API's guard rails, one test per trap a scenario writer fell
 * into: run_until that timed out in silence, accept() that returned nil,
 * bare numbers taken as nanoseconds, typos without a suggestion, reorder
 * without reorder_delay, listen{isn} refused. Each test runs a small
 * scenario through the runtime's C entry points and checks the exit status,
 * the error (with its line) or the expectations the scenario counted.
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

/* A simulation with hosts A and B joined by a 10 ms link, B listening on
 * 80: the first five lines of most scripts below. */
#define PRELUDE                                                                                    \
    "local sim = tcpsim.new { seed = 1 }\n"                                                        \
    "local a, b = sim:host 'A', sim:host 'B'\n"                                                    \
    "local link = sim:link(a, b, { delay = '10ms' })\n"                                            \
    "local server = b:listen(80)\n"                                                                \
    "local unused = { a, b, link, server }\n"

typedef struct result {
    int rc;
    char err[2048];
    long checked, failed;
} result;

/* A state for src, written to path (a mkstemp template); `unsafe` gives
 * it collectgarbage (and the rest --unsafe opens), `no_conns` a run log
 * without connection entries (tcpsim run without outputs). */
static lua_State *state_for(const char *src, char *path, bool unsafe, bool no_conns)
{
    lsim_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.unsafe = unsafe;
    cfg.no_conns = no_conns;
    return lsim_test_state_cfg(src, path, cfg);
}

/* Runs src; `unsafe` as state_for. */
static result run_script_as(const char *src, bool unsafe)
{
    char path[] = "/tmp/tcpsim-lsim-api-XXXXXX";
    lua_State *L = state_for(src, path, unsafe, false);
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

static result run_script(const char *src)
{
    return run_script_as(src, false);
}

/* The script stops with exit status 2 and a message containing `needle`. */
static void expect_error_as(const char *src, const char *needle, bool unsafe)
{
    result r = run_script_as(src, unsafe);
    if (r.rc != 2 || !strstr(r.err, needle))
        fail_msg("rc %d, error \"%s\", wanted \"%s\"", r.rc, r.err, needle);
}

static void expect_error(const char *src, const char *needle)
{
    result r = run_script(src);
    if (r.rc != 2 || !strstr(r.err, needle))
        fail_msg("rc %d, error \"%s\", wanted \"%s\"", r.rc, r.err, needle);
}

/* The script runs to its end and every one of its `checked` expectations holds. */
static void expect_holds(const char *src, long checked)
{
    result r = run_script(src);
    if (r.rc != 0)
        fail_msg("rc %d: %s", r.rc, r.err);
    assert_int_equal(r.failed, 0);
    assert_int_equal(r.checked, checked);
}

/* ---- sim:run_until ---- */

static void run_until_timeout_is_an_error_naming_the_line(void **state)
{
    (void)state;
    expect_error(PRELUDE "sim:after('5s', function() end)\n"
                         "sim:run_until(function() return false end, '2s')\n",
                 ":7: sim:run_until: the condition did not hold within the timeout of 2s "
                 "(at 2.000s;");
}

static void run_until_with_nothing_left_to_run_is_an_error(void **state)
{
    (void)state;
    expect_error(PRELUDE "a:connect(b, 80)\n"
                         "sim:run_until(function() return false end)\n",
                 ":7: sim:run_until: the condition did not hold and nothing was left to run");
}

static void run_until_soft_returns_false_at_the_timeout(void **state)
{
    (void)state;
    expect_holds(PRELUDE "sim:after('5s', function() end)\n"
                         "local held = sim:run_until(function() return false end, '2s', "
                         "{ soft = true })\n"
                         "expect(held):equals(false)\n"
                         "expect(sim.now):equals(sim.duration '2s')\n",
                 2);
}

static void run_until_returns_true_when_the_condition_holds(void **state)
{
    (void)state;
    /* the SYN,ACK reaches A one round trip (2 x 10 ms) after the SYN left */
    expect_holds(PRELUDE "local c = a:connect(b, 80)\n"
                         "expect(sim:run_until(function() return c.state == 'ESTABLISHED' end, "
                         "'1s')):equals(true)\n"
                         "expect(sim.now):equals(sim.duration '20ms')\n",
                 2);
}

/* ---- sim:after ---- */

/* The Lua heap (KiB, after a full collection) once a script of `bursts`
 * rounds of 20,000 sim:after timers has run; the sim is still alive. */
static int heap_after_bursts(int bursts)
{
    char src[1024];
    snprintf(src, sizeof src,
             PRELUDE
             "local fired = 0\n"
             "for _ = 1, %d do\n"
             "  for _ = 1, 20000 do sim:after('1ms', function() fired = fired + 1 end) end\n"
             "  sim:run()\n"
             "end\n"
             "expect(fired):equals(%d)\n",
             bursts, bursts * 20000);
    char path[] = "/tmp/tcpsim-lsim-api-XXXXXX";
    lua_State *L = lsim_test_state(src, path, false);
    const char *err;
    assert_int_equal(lsim_runtime_run(L, &err), 0);
    long checked, failed;
    lsim_expect_counts(L, &checked, &failed);
    assert_int_equal(checked, 1);
    assert_int_equal(failed, 0);
    lua_gc(L, LUA_GCCOLLECT);
    int kib = lua_gc(L, LUA_GCCOUNT);
    lsim_runtime_free(L);
    unlink(path);
    return kib;
}

/* A timer that has fired is the world's no more: the sim lets it go. Three
 * bursts of 20,000 timers leave the Lua heap as one burst leaves it
 * (before, every timer stayed anchored to the sim: about 2 MiB a burst). */
static void fired_timers_are_released(void **state)
{
    (void)state;
    int one = heap_after_bursts(1), three = heap_after_bursts(3);
    if (three - one > 256)
        fail_msg("heap after 1 burst %d KiB, after 3 bursts %d KiB", one, three);
}

/* An on_state callback gets the handle that set it, the same one on every
 * call (none is made per call); a later on_state on another handle of the
 * same socket moves the callback, and its handle, there. */
static void on_state_passes_the_handle_that_set_it(void **state)
{
    (void)state;
    expect_holds(PRELUDE
                 "local c = a:connect(b, 80)\n"
                 "sim:run_for '15ms'\n"
                 "local early = server:pending()[1]\n"
                 "local peer = server:accept_wait()\n"
                 "expect(rawequal(early, peer)):equals(false)\n"
                 "local got, later = {}, {}\n"
                 "peer:on_state(function(s) got[#got + 1] = s end)\n"
                 "c:close()\n"
                 "sim:run_for '50ms'\n"
                 "expect(#got):equals(1)\n"
                 "early:on_state(function(s) later[#later + 1] = s end)\n"
                 "peer:close()\n"
                 "sim:run()\n"
                 "expect(#got):equals(1)\n"
                 "expect(#later):equals(2)\n"
                 "expect(rawequal(got[1], peer)):equals(true)\n"
                 "expect(rawequal(later[1], early) and rawequal(later[2], early)):equals(true)\n",
                 6);
}

/* ---- tcpsim.new{keep_received, hosts} ---- */

/* The same transfer into a sim that keeps the bytes read and one that
 * only counts them: the same count (nreceived), the same run (events,
 * the receiver's states); reading the bytes themselves from the second
 * is an error that names the option. */
static void keep_received_false_counts_without_keeping(void **state)
{
    (void)state;
    expect_holds("local function run(keep)\n"
                 "  local sim = tcpsim.new { seed = 3, keep_received = keep }\n"
                 "  local a, b = sim:host 'A', sim:host 'B'\n"
                 "  sim:link(a, b, { delay = '10ms' })\n"
                 "  local server = b:listen(80, { autoread = true })\n"
                 "  local c = a:connect(b, 80)\n"
                 "  sim:run_for '50ms'\n"
                 "  local peer = server:accept()\n"
                 "  c:send(string.rep('x', 3000))\n"
                 "  c:close()\n"
                 "  sim:run()\n"
                 "  return sim, peer\n"
                 "end\n"
                 "local sim1, kept = run(true)\n"
                 "local sim2, counted = run(false)\n"
                 "expect(kept.nreceived):equals(3000)\n"
                 "expect(#kept.received):equals(3000)\n"
                 "expect(counted.nreceived):equals(3000)\n"
                 "expect(sim2.events):equals(sim1.events)\n"
                 "expect(table.concat(counted.trace, ' ')):equals(table.concat(kept.trace, ' '))\n"
                 "local ok, err = pcall(function() return counted.received end)\n"
                 "expect(ok):equals(false)\n"
                 "expect(err:find('keep_received = false', 1, true) ~= nil):equals(true)\n"
                 "ok, err = pcall(function() expect(counted):received(string.rep('x', 3000)) end)\n"
                 "expect(ok):equals(false)\n"
                 "expect(err:find('keep_received = false', 1, true) ~= nil):equals(true)\n"
                 "expect(kept):received(string.rep('x', 3000))\n",
                 10);
}

/* hosts is a hint: announcing none, fewer or more hosts than are added
 * runs the same; a count out of its range is refused by name. */
static void hosts_hint_changes_nothing(void **state)
{
    (void)state;
    expect_holds("local function run(hosts)\n"
                 "  local sim = tcpsim.new { seed = 5, hosts = hosts }\n"
                 "  local a, b = sim:host 'A', sim:host 'B'\n"
                 "  sim:link(a, b, { delay = '10ms', loss = 0.2 })\n"
                 "  local server = b:listen(80, { autoread = true })\n"
                 "  local c = a:connect(b, 80)\n"
                 "  c:send(5000)\n"
                 "  c:close()\n"
                 "  sim:run()\n"
                 "  return sim.events .. ' ' .. table.concat(c.trace, ' ')\n"
                 "end\n"
                 "local base = run(nil)\n"
                 "expect(run(1)):equals(base)\n"
                 "expect(run(2)):equals(base)\n"
                 "expect(run(100000)):equals(base)\n",
                 3);
    expect_error("tcpsim.new { hosts = -1 }", "hosts");
    expect_error("tcpsim.new { hosts = 4194305 }", "hosts");
    expect_error("tcpsim.new { hosts = 'many' }", "hosts");
}

/* draws: "stream" is the default (the same run as saying nothing);
 * "keyed" plays the same transfer to the end with other losses; anything
 * else is refused by name. */
static void draws_option_picks_the_stream_or_keyed_draws(void **state)
{
    (void)state;
    expect_holds(
        "local function run(draws)\n"
        "  local sim = tcpsim.new { seed = 5, draws = draws }\n"
        "  local a, b = sim:host 'A', sim:host 'B'\n"
        "  local link = sim:link(a, b, { delay = '10ms', loss = 0.2, jitter = '1ms' })\n"
        "  local server = b:listen(80, { autoread = true })\n"
        "  local c = a:connect(b, 80)\n"
        "  sim:run_until(function() return c.state == 'ESTABLISHED' end, '60s')\n"
        "  sim:run_for '100ms'\n"
        "  server:accept()\n"
        "  c:send(20000)\n"
        "  c:close()\n"
        "  sim:run()\n"
        "  local st = link.stats[1]\n"
        "  return sim.events .. ' ' .. st.dropped_loss .. ' ' .. table.concat(c.trace, ' ')\n"
        "end\n"
        "local base = run(nil)\n"
        "expect(run('stream')):equals(base)\n"
        "local keyed = run('keyed')\n"
        "expect(keyed ~= base):equals(true)\n"
        "expect(run('keyed')):equals(keyed)\n"
        "expect(keyed:find('FIN_WAIT_2', 1, true) ~= nil):equals(true)\n",
        4);
    expect_error("tcpsim.new { draws = 'random' }", "draws must be \"stream\" or \"keyed\"");
}

/* ---- accept, accept_wait ---- */

static void accept_wait_returns_the_connection_when_the_handshake_ends(void **state)
{
    (void)state;
    /* SYN at 0, SYN,ACK at 10 ms, the ACK reaches B at 30 ms: RFC 9293
     * §3.5, the passive side is ESTABLISHED after one and a half RTTs */
    expect_holds(PRELUDE "local c = a:connect(b, 80)\n"
                         "local peer = server:accept_wait()\n"
                         "expect(sim.now):equals(sim.duration '30ms')\n"
                         "expect(peer.state):equals('ESTABLISHED')\n"
                         "expect(peer.peer_port):equals(c.port)\n",
                 3);
}

static void accept_wait_takes_a_queued_connection_without_running(void **state)
{
    (void)state;
    expect_holds(PRELUDE "a:connect(b, 80)\n"
                         "sim:run_for '1s'\n"
                         "local events = sim.events\n"
                         "local peer = server:accept_wait '1ms'\n"
                         "expect(peer.state):equals('ESTABLISHED')\n"
                         "expect(sim.events):equals(events)\n"
                         "expect(sim.now):equals(sim.duration '1s')\n",
                 3);
}

static void accept_wait_timeout_is_an_error_naming_the_line(void **state)
{
    (void)state;
    expect_error(PRELUDE "link:partition()\n"
                         "a:connect(b, 80)\n"
                         "server:accept_wait '2s'\n",
                 ":8: socket:accept_wait: no connection to accept within 2s (at 2.000s)");
    expect_error(PRELUDE "server:accept_wait()\n",
                 ":6: socket:accept_wait: no connection to accept, and nothing was left to run");
}

static void accept_returns_nil_and_says_why(void **state)
{
    (void)state;
    expect_holds(PRELUDE
                 "local s, why = server:accept()\n"
                 "expect(s):equals(nil)\n"
                 "expect(why):equals('no connection has been accepted (use accept_wait)')\n",
                 2);
}

static void nil_from_accept_used_as_a_socket_names_accept_wait(void **state)
{
    (void)state;
    expect_error(PRELUDE "a:connect(b, 80)\n"
                         "local peer = server:accept()\n"
                         "peer:send 'hello'\n",
                 ":8: attempt to index a nil value (local 'peer'); no connection has been "
                 "accepted (use accept_wait): accept() at ");
    expect_error(PRELUDE "expect(server:accept()):state 'ESTABLISHED'\n",
                 ":6: expect:state: expect(...) got nil, not a socket: was it from accept()? no "
                 "connection has been accepted (use accept_wait)");
    /* a nil that did not come from accept() gets Lua's message alone */
    result r = run_script(PRELUDE "local t\nlocal x = t.field\n");
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "attempt to index a nil value (local 't')"));
    assert_null(strstr(r.err, "accept"));
}

/* ---- durations ---- */

static void bare_numbers_are_refused_where_a_duration_is_expected(void **state)
{
    (void)state;
    static const char *const calls[] = {
        "sim:run_for(10)",
        "sim:link(a, b, { delay = 10 })",
        "tcpsim.new { msl = 10 }",
        "sim:after(10, function() end)",
        "link:partition { at = 10 }",
        "link:delay_next { by = 10 }",
        "sim:run_until(function() return true end, 10)",
        "server:accept_wait(10)",
        "expect(server):spent('LISTEN', 10)",
    };
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        char src[1024];
        snprintf(src, sizeof src, PRELUDE "%s\n", calls[i]);
        expect_error(src, ":6: ");
        expect_error(src, "10 is ambiguous: write \"10ms\", \"10s\" or tcpsim.ns(10)");
    }
    expect_error(PRELUDE "sim:run_for(1.5)\n", "1.5 is ambiguous: write \"1.5ms\" or \"1.5s\"");
    expect_error(PRELUDE "sim:run_for(-3)\n", "duration must not be negative, got -3");
}

static void zero_and_tcpsim_ns_are_durations(void **state)
{
    (void)state;
    expect_holds(PRELUDE "sim:run_for(0)\n"
                         "sim:run_for(tcpsim.ns(1500))\n"
                         "expect(sim.now):equals(1500)\n"
                         "expect(tcpsim.ns(42)):equals('42ns')\n"
                         "expect(tcpsim.duration(tcpsim.ns(sim.now + 1))):equals(1501)\n"
                         "local ok, err = pcall(tcpsim.ns, 1.5)\n"
                         "expect(tostring(err):find('expected integer nanoseconds', 1, true) "
                         "~= nil):holds(tostring(err))\n",
                 4);
}

static void a_hook_asking_for_a_bare_number_delay_is_refused(void **state)
{
    (void)state;
    expect_error(PRELUDE "link:hook(function() return { delay = 5 } end)\n"
                         "a:connect(b, 80)\n"
                         "sim:run_for '1s'\n",
                 "link:hook returned {delay = 5}, which is not a verdict");
}

/* ---- reorder_delay's default ---- */

static void reorder_without_reorder_delay_holds_back_by_the_delay(void **state)
{
    (void)state;
    /* reorder = 1: every packet is held back, by the direction's delay
     * (10 ms here, 1 ms on a link without delay) */
    expect_holds(PRELUDE "link:set { reorder = 1 }\n"
                         "a:connect(b, 80)\n"
                         "sim:run_for '1s'\n"
                         "local syn = link:segments({ from = a, flags = 'SYN' })[1]\n"
                         "expect(syn.arrived - syn.sent):equals(sim.duration '20ms')\n"
                         "local s2 = tcpsim.new {}\n"
                         "local x, y = s2:host 'X', s2:host 'Y'\n"
                         "local l2 = s2:link(x, y, { reorder = 1 })\n"
                         "y:listen(80)\n"
                         "x:connect(y, 80)\n"
                         "s2:run_for '1s'\n"
                         "local syn2 = l2:segments({ from = x, flags = 'SYN' })[1]\n"
                         "expect(syn2.arrived - syn2.sent):equals(s2.duration '1ms')\n",
                 2);
    /* given explicitly as 0, the core's rule stands */
    expect_error(PRELUDE "sim:link(a, b, { reorder = 0.1, reorder_delay = 0 })\n",
                 "reorder_delay must be above 0 when reorder is above 0");
}

/* ---- did you mean ---- */

static void typos_get_the_nearest_name(void **state)
{
    (void)state;
    expect_holds(
        PRELUDE
        "local c = a:connect(b, 80)\n"
        "local cases = {\n"
        "  { function() tcpsim.new { sed = 1 } end, \"unknown option 'sed' in tcpsim.new; did "
        "you mean 'seed'?\" },\n"
        "  { function() tcpsim.new { time_wiat = '1s' } end, \"did you mean 'time_wait'?\" },\n"
        "  { function() sim:host { name = 'C', adr = '10.0.0.9' } end, \"did you mean "
        "'addr'?\" },\n"
        "  { function() sim:link(a, b, { dleay = '1ms' }) end, \"unknown option 'dleay' in "
        "sim:link; did you mean 'delay'? (expected one of: \" },\n"
        "  { function() sim:link(a, b, { ab = { jiter = '1ms' } }) end, \"in sim:link (ab); did "
        "you mean 'jitter'?\" },\n"
        "  { function() link:set { reoder = 0.1 } end, \"did you mean 'reorder'?\" },\n"
        "  { function() link:partition { haal = '1s' } end, \"did you mean 'heal'?\" },\n"
        "  { function() link:drop_next { cout = 2 } end, \"did you mean 'count'?\" },\n"
        "  { function() link:segments { form = a } end, \"did you mean 'from'?\" },\n"
        "  { function() link:inject { from = a, flgas = 'RST' } end, \"did you mean 'flags'?\" "
        "},\n"
        "  { function() b:listen(81, { backlg = 4 }) end, \"did you mean 'backlog'?\" },\n"
        "  { function() a:connect(b, 80, { prot = 5000 }) end, \"did you mean 'port'?\" },\n"
        "  { function() c:setopt { keepalve = true } end, \"did you mean 'keepalive'?\" },\n"
        "  { function() sim:run_until(function() return true end, '1s', { sfot = true }) end, "
        "\"did you mean 'soft'?\" },\n"
        "  { function() tcpsim.new { profile = 'linx' } end, \"unknown profile 'linx'; did you "
        "mean 'linux'? (expected one of: \" },\n"
        "  { function() sim:host { name = 'D', profile = 'bds' } end, \"did you mean 'bsd'?\" "
        "},\n"
        "  { function() tcpsim.new { backlog_model = 'lnux' } end, \"did you mean 'linux'?\" "
        "},\n"
        "  { function() expect(c):state 'ESTABLISED' end, \"unknown state 'ESTABLISED'; did you "
        "mean 'ESTABLISHED'?\" },\n"
        "  { function() expect(c):contains { 'CLOSED', 'syn-sent' } end, \"did you mean "
        "'SYN_SENT'?\" },\n"
        "  { function() expect(c):never 'TIME_WIAT' end, \"did you mean 'TIME_WAIT'?\" },\n"
        "  { function() expect(c):entered('CLOSE_WAT', '1s') end, \"did you mean "
        "'CLOSE_WAIT'?\" },\n"
        "}\n"
        "for i, case in ipairs(cases) do\n"
        "  local ok, err = pcall(case[1])\n"
        "  expect(not ok and tostring(err):find(case[2], 1, true) ~= nil, 'case ' .. i)"
        ":holds(tostring(err))\n"
        "end\n"
        "local ok, err = pcall(function() sim:link(a, b, { zzzzzz = 1 }) end)\n"
        "expect(not ok and not tostring(err):find('did you mean', 1, true), 'far word')"
        ":holds(tostring(err))\n",
        22);
}

/* ---- expect's label ---- */

/* A knob a scenario sets has the name the stack gives its field
 * (tcp_profile_diff names it so in a refusal). */
static void every_lua_knob_is_a_profile_field(void **state)
{
    (void)state;
    size_t n;
    const tcp_profile_field *f = tcp_profile_fields(&n);
    const char *const *k = lsim_profile_knobs();
    size_t found = 0;
    for (; k[found]; found++) {
        size_t i = 0;
        while (i < n && strcmp(f[i].knob, k[found]) != 0)
            i++;
        if (i == n)
            fail_msg("knob '%s' is not a field of tcp_profile_fields", k[found]);
    }
    assert_true(found > 60);
}

/* The fields of tcp_profile_fields no scenario sets: every other field
 * must have a kind in lsim_opts' KNOBS, so a field added to the stack is
 * either given one or named here, on purpose. */
static const char *const NOT_KNOBS[] = {"tw_paws_restart",
                                        "tw_syn",
                                        "backlog_full",
                                        "send_timestamps",
                                        "send_wscale",
                                        "send_sack_perm",
                                        "rst_on_data_after_close",
                                        "init_cwnd_segs",
                                        "zwp_ack_rearm",
                                        "oow_ack_data_exempt",
                                        "listen_drop_syn_fin",
                                        "recv_zero_waits",
                                        NULL};

static void every_profile_field_is_a_knob_or_named_unsettable(void **state)
{
    (void)state;
    size_t n;
    const tcp_profile_field *f = tcp_profile_fields(&n);
    const char *const *k = lsim_profile_knobs();
    for (size_t i = 0; i < n; i++) {
        bool knob = false, unsettable = false;
        for (size_t j = 0; k[j]; j++)
            knob |= strcmp(k[j], f[i].knob) == 0;
        for (size_t j = 0; NOT_KNOBS[j]; j++)
            unsettable |= strcmp(NOT_KNOBS[j], f[i].knob) == 0;
        if (knob == unsettable)
            fail_msg("profile field '%s' is %s", f[i].knob,
                     knob ? "a knob and named unsettable" : "neither a knob nor named unsettable");
    }
    /* Each kind reads a field of its size (lsim_opts asserts it): every
     * knob of every profile formats. */
    for (const char *const *name = tcp_profile_names(); *name; name++)
        for (size_t j = 0; k[j]; j++) {
            char v[32];
            lsim_profile_knob_format(tcp_profile_find(*name), j, v, sizeof v);
            assert_true(v[0] != '\0');
        }
}

static void only_a_string_is_a_label(void **state)
{
    (void)state;
    /* find returns two numbers: the second is not taken for a label */
    expect_holds("expect(('abc'):find('b')):equals(2)\n"
                 "expect(true, 'named'):holds()\n",
                 2);
}

/* ---- listen{isn} ---- */

static void listen_isn_numbers_the_next_connection(void **state)
{
    (void)state;
    /* TCP_OPT_ISN on the listener: its next SYN,ACK carries ISS = isn
     * (RFC 9293 §3.4.1: SEQ of the SYN is the ISS); later ones get their
     * own ISN again */
    expect_holds("local sim = tcpsim.new { seed = 1 }\n"
                 "local a, b = sim:host 'A', sim:host 'B'\n"
                 "local link = sim:link(a, b, { delay = '10ms' })\n"
                 "local server = b:listen(80, { isn = 5000 })\n"
                 "a:connect(b, 80)\n"
                 "local p1 = server:accept_wait()\n"
                 "a:connect(b, 80)\n"
                 "local p2 = server:accept_wait()\n"
                 "local synacks = link:segments { from = b, flags = 'SYN,ACK' }\n"
                 "expect(#synacks):equals(2)\n"
                 "expect(synacks[1].seq):equals(5000)\n"
                 "expect(synacks[2].seq ~= 5000):holds 'a second connection gets its own ISN'\n"
                 "expect(p1.state == 'ESTABLISHED' and p2.state == 'ESTABLISHED'):holds()\n",
                 4);
}

/* ---- listener:on_accept ---- */

/* A connection is ready to accept once the listener's end is ESTABLISHED,
 * which is when the handshake's third segment arrives (RFC 9293 §3.5,
 * Figure 6): three 10 ms crossings after the client's SYN. The second
 * client starts 5 ms later. */
static void on_accept_hands_out_each_connection_as_it_establishes(void **state)
{
    (void)state;
    expect_holds(PRELUDE "local got = {}\n"
                         "server:on_accept(function(conn)\n"
                         "  got[#got + 1] = { conn = conn, state = conn.state, t = sim.now }\n"
                         "end)\n"
                         "local c1 = a:connect(b, 80)\n"
                         "sim:at('5ms', function() a:connect(b, 80) end)\n"
                         "sim:run_to '1s'\n"
                         "expect(#got):equals(2)\n"
                         "expect(got[1].state):equals 'ESTABLISHED'\n"
                         "expect(got[1].t):equals(30000000)\n"
                         "expect(got[1].conn.peer_port):equals(c1.port)\n"
                         "expect(got[2].t):equals(35000000)\n"
                         "expect(server:accept()):equals(nil)\n",
                 6);
}

/* Connections already waiting when the callback is set are handed out
 * at once, before on_accept returns. */
static void on_accept_takes_the_connections_already_waiting(void **state)
{
    (void)state;
    expect_holds(PRELUDE "local c = a:connect(b, 80)\n"
                         "sim:run_to '100ms'\n"
                         "local n = 0\n"
                         "server:on_accept(function(conn) n = n + 1; conn:close() end)\n"
                         "expect(n):equals(1)\n"
                         "sim:run_to '1s'\n"
                         "expect(c.state):equals 'CLOSE_WAIT'\n"
                         "expect(n):equals(1)\n",
                 3);
}

static void on_accept_refuses_what_is_not_a_listener(void **state)
{
    (void)state;
    expect_error(PRELUDE "local c = a:connect(b, 80)\n"
                         "c:on_accept(function() end)\n",
                 "socket:on_accept: the socket is not listening (it is SYN_SENT)");
    expect_error(PRELUDE "server:on_accept(42)\n", "function expected, got number");
}

/* An error in the callback stops the run with the callback's line, as one
 * in on_state does. */
static void an_error_in_on_accept_stops_the_run(void **state)
{
    (void)state;
    expect_error(PRELUDE
                 "server:on_accept(function(conn) error('no room for ' .. conn.state) end)\n"
                 "a:connect(b, 80)\n"
                 "sim:run_to '1s'\n",
                 ":6: no room for ESTABLISHED");
}

/* ---- callbacks and handles ---- */

/* One function set on several sockets is held once (lsim_sock.c), and each
 * call still gets the handle that set it. After the handshake (RFC 9293
 * §3.5) the client closes: FIN_WAIT_1 at the call, the server's
 * CLOSE_WAIT when the FIN arrives, FIN_WAIT_2 when its ACK comes back
 * (§3.6); a replaced callback leaves the other sockets' alone. */
static void one_function_serves_many_sockets(void **state)
{
    (void)state;
    expect_holds(PRELUDE "local seen, c, s = {}\n"
                         "local function note(self, _, to)\n"
                         "  seen[#seen + 1] = (rawequal(self, c) and 'c:' or\n"
                         "                     rawequal(self, s) and 's:' or '?:') .. to\n"
                         "end\n"
                         "server:on_accept(function(conn) s = conn; conn:on_state(note) end)\n"
                         "c = a:connect(b, 80)\n"
                         "c:on_state(note)\n"
                         "sim:run_to '1s'\n"
                         "expect(table.concat(seen, ',')):equals 'c:ESTABLISHED'\n"
                         "s:on_state(function(_, _, to) seen[#seen + 1] = 's2:' .. to end)\n"
                         "c:close()\n"
                         "sim:run_to '2s'\n"
                         "expect(table.concat(seen, ',')):equals\n"
                         "  'c:ESTABLISHED,c:FIN_WAIT_1,s2:CLOSE_WAIT,c:FIN_WAIT_2'\n",
                 2);
}

/* A simulation's and a host's fields and methods, read through one lookup
 * each, answer as the field list and the methods table did, and a key
 * that is neither raises the same errors: unknown names named, a key that
 * is no string refused as an argument, a number taken as its text, a key
 * with a NUL in it read up to the NUL (as the names were compared). */
static void sim_and_host_fields_and_methods_read_alike(void **state)
{
    (void)state;
    expect_holds(PRELUDE
                 "local function err(f)\n"
                 "  local ok, e = pcall(f)\n"
                 "  return ok and 'no error' or (tostring(e):gsub('^[^:]*:%d+: ', ''))\n"
                 "end\n"
                 "expect(sim.now):equals(0)\n"
                 "expect(sim.seed):equals(1)\n"
                 "expect(sim.profile):equals('rfc9293')\n"
                 "expect(sim.events):equals(0)\n"
                 "expect(a.name .. ' ' .. a.addr .. ' ' .. a.profile)\n"
                 "  :equals('A 10.0.0.1 rfc9293')\n"
                 "expect(a.up):equals(true)\n"
                 "expect(a.connections):equals(0)\n"
                 "expect(rawequal(sim.host, getmetatable(sim).methods.host)):equals(true)\n"
                 "expect(rawequal(a.listen, getmetatable(a).methods.listen)):equals(true)\n"
                 "expect(err(function() return sim.nwo end))\n"
                 "  :equals(\"simulation has no field or method 'nwo'\")\n"
                 "expect(err(function() return sim[1] end))\n"
                 "  :equals(\"simulation has no field or method '1'\")\n"
                 "expect(err(function() return a.nmae end))\n"
                 "  :equals(\"host has no field or method 'nmae'\")\n"
                 "expect(err(function() return a[true] end))\n"
                 "  :equals(\"bad argument #2 to 'index' (string expected, got boolean)\")\n"
                 "expect(err(function() return sim[{}] end))\n"
                 "  :equals(\"bad argument #2 to 'index' (string expected, got table)\")\n"
                 "expect(sim['now\\0x']):equals(0)\n"
                 "expect(sim['seed\\0']):equals(1)\n"
                 "expect(a['name\\0']):equals('A')\n"
                 "expect(a['connections\\0x']):equals(0)\n"
                 "expect(rawequal(sim['host\\0x'], sim.host)):equals(true)\n"
                 "expect(rawequal(a['listen\\0'], a.listen)):equals(true)\n"
                 "expect(err(function() return sim['nwo\\0now'] end))\n"
                 "  :equals(\"simulation has no field or method 'nwo'\")\n",
                 21);
}

/* Replacing a socket's callback lets the old function go and its slot is
 * reused; a function shared by other sockets stays with them. */
static void replaced_callbacks_are_let_go(void **state)
{
    (void)state;
    expect_holds(PRELUDE
                 "local seen = {}\n"
                 "local function shared(self, _, to) seen[#seen + 1] = 'shared:' .. to end\n"
                 "local c1, c2 = a:connect(b, 80), a:connect(b, 80)\n"
                 "c2:on_state(shared)\n"
                 "for i = 1, 100 do\n"
                 "  c1:on_state(function(_, _, to) seen[#seen + 1] = i .. ':' .. to end)\n"
                 "  server:on_accept(function() end)\n"
                 "end\n"
                 "c1:on_state(shared)\n"
                 "c1:on_state(function(_, _, to) seen[#seen + 1] = 'last:' .. to end)\n"
                 "sim:run_to '1s'\n"
                 "table.sort(seen)\n"
                 "expect(table.concat(seen, ',')):equals 'last:ESTABLISHED,shared:ESTABLISHED'\n",
                 1);
}

/* A host or socket handle is 8 bytes of userdata with no user value: 40
 * bytes of Lua's heap (60 with the simulation as a user value), the host's
 * name not kept. collectgarbage needs --unsafe. */
static void handles_are_small(void **state)
{
    (void)state;
    result r = run_script_as("local sim = tcpsim.new { seed = 1 }\n"
                             "local hosts = {}\n"
                             "for i = 1, 1024 do hosts[i] = false end\n"
                             "collectgarbage 'collect'\n"
                             "local before = collectgarbage 'count'\n"
                             "for i = 1, 1024 do hosts[i] = sim:host('h' .. i) end\n"
                             "collectgarbage 'collect'\n"
                             "local bytes = (collectgarbage 'count' - before) * 1024\n"
                             "expect(bytes / 1024 < 48):equals(true)\n"
                             "expect(hosts[5] == hosts[5]):equals(true)\n",
                             true);
    if (r.rc != 0)
        fail_msg("rc %d: %s", r.rc, r.err);
    assert_int_equal(r.failed, 0);
    assert_int_equal(r.checked, 2);
}

/* A simulation of a thousand hosts or more collects the setup's garbage
 * when its first run starts (lsim_world.c, lsim_check_runnable): a table
 * only a weak table holds is gone once run_to returns, whatever the
 * incremental collector had done by then. */
static void a_large_setup_is_collected_at_the_first_run(void **state)
{
    (void)state;
    expect_holds("local sim = tcpsim.new { seed = 1 }\n"
                 "for i = 1, 1000 do sim:host('h' .. i) end\n"
                 "local weak = setmetatable({}, { __mode = 'v' })\n"
                 "weak[1] = {}\n"
                 "sim:run_to '1ms'\n"
                 "expect(weak[1]):equals(nil)\n",
                 1);
}

/* A later run control collects too once the script has made a handle for
 * a quarter of the simulation's hosts since the last collection
 * (lsim_world.c, collect_setup): after the first run a script listens on
 * 250 of its 1,000 hosts (a socket handle each) and lets go of a table a
 * weak table still names: it is gone once the next run_to returns. A run
 * control after one handle fewer does not collect: the table dropped then
 * is still there (the incremental collector, paced by Lua's allocations,
 * has not come round to it). */
static void a_later_phase_is_collected_at_its_run(void **state)
{
    (void)state;
    expect_holds("local sim = tcpsim.new { seed = 1 }\n"
                 "local hosts = {}\n"
                 "for i = 1, 1000 do hosts[i] = sim:host('h' .. i) end\n"
                 "sim:run_to '1ms'\n"
                 "local weak = setmetatable({}, { __mode = 'v' })\n"
                 "weak[1] = {}\n"
                 "for i = 1, 250 do hosts[i]:listen(80) end\n"
                 "sim:run_to '2ms'\n"
                 "expect(weak[1]):equals(nil)\n"
                 "weak[2] = {}\n"
                 "for i = 251, 499 do hosts[i]:listen(80) end\n"
                 "sim:run_to '3ms'\n"
                 "expect(weak[2] ~= nil):equals(true)\n",
                 2);
}

/* The handles on_state calls pass are pinned in chunks (lsim_pins.c):
 * 300 sockets, past the first chunk of 256, each called with its own
 * handle; every other socket's callback set again, which lets its pin go
 * and takes one from those let go, still calls with the right handle.
 * (The listener's backlog holds 128: the SYNs past it are dropped and
 * sent again at each retransmission timeout, 1 s then doubling, RFC 6298
 * §2.1 and §5.5; the server accepts each connection, so 128 more get in
 * each time and all 300 are ESTABLISHED by 10 s.) */
static void on_state_handles_are_pinned_each_to_its_socket(void **state)
{
    (void)state;
    expect_holds(PRELUDE "local socks, by_port, wrong, calls = {}, {}, 0, 0\n"
                         "local function check(self)\n"
                         "  calls = calls + 1\n"
                         "  if not rawequal(socks[by_port[self.port]], self) then\n"
                         "    wrong = wrong + 1\n"
                         "  end\n"
                         "end\n"
                         "server:on_accept(function() end)\n"
                         "for i = 1, 300 do\n"
                         "  socks[i] = a:connect(b, 80)\n"
                         "  by_port[socks[i].port] = i\n"
                         "end\n"
                         "for i = 1, 300 do socks[i]:on_state(check) end\n"
                         "for i = 2, 300, 2 do socks[i]:on_state(check) end\n"
                         "sim:run_to '10s'\n"
                         "expect(wrong):equals(0)\n"
                         "expect(calls):equals(300)\n",
                 2);
}

/* 2,100 pins take 9 chunks of 256 slots (16 bytes each, and a table
 * header): under 20 bytes of Lua's heap a socket. As registry references
 * they took the registry's array to 4,096 slots, 31 bytes a socket.
 * collectgarbage needs --unsafe. */
static void on_state_pins_take_a_slot_each(void **state)
{
    (void)state;
    result r = run_script_as(PRELUDE "local socks = {}\n"
                                     "for i = 1, 2100 do socks[i] = a:connect(b, 80) end\n"
                                     "local function f() end\n"
                                     "socks[1]:on_state(f)\n"
                                     "collectgarbage 'collect'\n"
                                     "local before = collectgarbage 'count'\n"
                                     "for i = 2, 2100 do socks[i]:on_state(f) end\n"
                                     "collectgarbage 'collect'\n"
                                     "local bytes = (collectgarbage 'count' - before) * 1024\n"
                                     "expect(bytes / 2099 < 20):equals(true)\n",
                             true);
    if (r.rc != 0)
        fail_msg("rc %d: %s", r.rc, r.err);
    assert_int_equal(r.failed, 0);
    assert_int_equal(r.checked, 1);
}

/* Two simulations in one state: a handle names its simulation by number,
 * so hosts of the same index in each are not equal, and each simulation's
 * callbacks are its own. A callback may replace its own function and set
 * one on the other simulation's socket while it runs. Each client's
 * handshake ends in ESTABLISHED and its close gives FIN_WAIT_1 at the call
 * and FIN_WAIT_2 at the ACK of its FIN (RFC 9293 §3.5, §3.6). */
static void two_simulations_keep_their_handles_and_callbacks_apart(void **state)
{
    (void)state;
    expect_holds(
        "local s1, s2 = tcpsim.new { seed = 1 }, tcpsim.new { seed = 2 }\n"
        "local a1, b1 = s1:host 'A', s1:host 'B'\n"
        "local a2, b2 = s2:host 'A', s2:host 'B'\n"
        "expect(a1 == a2):equals(false)\n"
        "s1:link(a1, b1, { delay = '1ms' })\n"
        "s2:link(a2, b2, { delay = '1ms' })\n"
        "b1:listen(80); b2:listen(80)\n"
        "local seen = {}\n"
        "local function note(tag) return function(_, _, to)\n"
        "  seen[#seen + 1] = tag .. to end end\n"
        "local c1, c2 = a1:connect(b1, 80), a2:connect(b2, 80)\n"
        "expect(c2.host == a2 and c1.host ~= c2.host):equals(true)\n"
        "c1:on_state(note '1:')\n"
        "c2:on_state(function(self, _, to)\n"
        "  self:on_state(note '2b:')\n"
        "  c1:on_state(note '1b:')\n"
        "  seen[#seen + 1] = '2:' .. to\n"
        "end)\n"
        "s1:run_to '1s'\n"
        "s2:run_to '1s'\n"
        "c1:close(); c2:close()\n"
        "s1:run_to '2s'\n"
        "s2:run_to '2s'\n"
        "expect(table.concat(seen, ',')):equals\n"
        "  '1:ESTABLISHED,2:ESTABLISHED,1b:FIN_WAIT_1,2b:FIN_WAIT_1,1b:FIN_WAIT_2,2b:FIN_WAIT_2'\n",
        3);
}

/* A callback that replaced its own function with one that fails: the
 * error names the new function's line, as any callback's does. */
static void a_callback_set_from_a_callback_errors_at_its_line(void **state)
{
    (void)state;
    expect_error(PRELUDE "local c = a:connect(b, 80)\n"
                         "c:on_state(function(self)\n"
                         "  self:on_state(function(_, _, to)\n"
                         "    error('no ' .. to) end)\n"
                         "end)\n"
                         "sim:run_to '1s'\n"
                         "c:close()\n"
                         "sim:run_to '2s'\n",
                 ":9: no FIN_WAIT_1");
}

/* Option tables are read by the names they hold, and still: a table with a
 * metatable is asked through its __index (a 50 ms link: no handshake by
 * 60 ms, done by 150 ms), an unknown or misspelled name is refused naming
 * it, and a key that is not a name is refused. */
static void option_tables_read_by_their_names_keep_their_rules(void **state)
{
    (void)state;
    expect_holds("local sim = tcpsim.new { seed = 1 }\n"
                 "local a, b = sim:host 'A', sim:host 'B'\n"
                 "sim:link(a, b, setmetatable({}, { __index = { delay = '50ms' } }))\n"
                 "b:listen(80, setmetatable({}, { __index = { backlog = 1 } }))\n"
                 "local c = a:connect(b, 80)\n"
                 "sim:run_to '60ms'\n"
                 "expect(c.state):equals 'SYN_SENT'\n"
                 "sim:run_to '150ms'\n"
                 "expect(c.state):equals 'ESTABLISHED'\n",
                 2);
    expect_error(PRELUDE "sim:link(a, b, { delay = '1ms', dleay = '2ms' })\n",
                 ":6: unknown option 'dleay' in sim:link; did you mean 'delay'?");
    /* a direction's table, checked and read in one pass, or asked by name */
    expect_holds("local sim = tcpsim.new { seed = 1 }\n"
                 "local a, b = sim:host 'A', sim:host 'B'\n"
                 "sim:link(a, b, { delay = '1ms',\n"
                 "  ab = setmetatable({}, { __index = { delay = '50ms' } }) })\n"
                 "b:listen(80)\n"
                 "local c = a:connect(b, 80)\n"
                 "sim:run_to '45ms'\n"
                 "expect(c.state):equals 'SYN_SENT'\n"
                 "sim:run_to '60ms'\n"
                 "expect(c.state):equals 'ESTABLISHED'\n",
                 2);
    expect_error(PRELUDE "sim:link(a, b, { delay = '1ms', ba = { loss = 0, dleay = '2ms' } })\n",
                 ":6: unknown option 'dleay' in sim:link (ba); did you mean 'delay'?");
    expect_error(PRELUDE "a:connect(b, 80, { nodelay = true, [1] = 'x' })\n",
                 ":6: option tables take names as keys (in host:connect)");
    expect_error(PRELUDE "b:listen(81, { backlog = 1, autorread = true })\n",
                 ":6: unknown option 'autorread' in host:listen");
}

/* ---- a log read only by link queries ---- */

/* What the run log of a script's only simulation holds on one link: its
 * entries, the SENDs among them, and their (time, packet id) folded into
 * one sum, so two logs can be compared. */
typedef struct link_log {
    size_t entries, sends;
    uint64_t fold;
} link_log;

static void log_of_link(const char *src, bool no_conns, uint32_t link, link_log *out)
{
    char path[] = "/tmp/tcpsim-lsim-api-XXXXXX";
    lua_State *L = state_for(src, path, true, no_conns); /* collectgarbage */
    const char *err = NULL;
    int rc = lsim_runtime_run(L, &err);
    unlink(path);
    if (rc != 0)
        fail_msg("rc %d: %s", rc, err ? err : "");
    long checked, failed;
    lsim_expect_counts(L, &checked, &failed);
    assert_int_equal(failed, 0);
    lsim *s;
    assert_int_equal(lsim_runtime_sims(L, &s, 1), 1);
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < rlog_count(s->log); i++) {
        const rlog_entry *e = rlog_at(s->log, i);
        if (e->link != link)
            continue;
        out->entries++;
        if (e->kind == RLOG_SEND) {
            out->sends++;
            out->fold = out->fold * 1000003u + e->time_ns * 31u + e->packet_id;
        }
    }
    lsim_runtime_free(L);
}

/* Two links, each carrying a connection: the first one's handle is
 * dropped and collected before any packet, the second one's kept and
 * queried at the end (the expectations hold in both logs). A log without
 * connection entries is read only by link queries: it leaves out every
 * packet of the first link, and keeps the second's SENDs as the full log
 * has them. */
static void a_lean_log_leaves_out_a_link_no_handle_reaches(void **state)
{
    (void)state;
    const char *src =
        "local sim = tcpsim.new { seed = 1 }\n"
        "local a, b, c = sim:host 'A', sim:host 'B', sim:host 'C'\n"
        "sim:link(a, b, { delay = '10ms' })\n"
        "local kept = sim:link(a, c, { delay = '10ms' })\n"
        "collectgarbage()\n"
        "local sb, sc = b:listen(80), c:listen(80)\n"
        "local x, y = a:connect(b, 80), a:connect(c, 80)\n"
        "sim:run_to '1s'\n"
        "local segs = kept:segments()\n"
        "expect(#segs):equals(3)\n"
        "expect(segs[3].arrived):equals(segs[3].sent + 10000000)\n"
        "expect(table.concat(kept.exchange, ' ')):equals 'A>C SYN C>A SYN,ACK A>C ACK'\n"
        "local unused = { sb, sc, x, y }\n";
    link_log full0, lean0, full1, lean1;
    log_of_link(src, false, 0, &full0);
    log_of_link(src, true, 0, &lean0);
    log_of_link(src, false, 1, &full1);
    log_of_link(src, true, 1, &lean1);
    assert_int_equal(full0.sends, 3); /* the first link carried its handshake */
    assert_int_equal(lean0.entries, 0);
    assert_int_equal(full1.sends, 3);
    assert_int_equal(lean1.sends, 3);
    assert_int_equal(lean1.fold, full1.fold);
}

/* A small simulation collects inside its run once its hosts have sent
 * 4,096 packets (lsim_world.c, count_send): the handle of a link the
 * script never names again goes then, and a lean log records that link's
 * packets no more, however many bytes move (flat in the bytes moved).
 * Here 12 MB cross one link whose handle was dropped, uncollected (a
 * weak table sees it alive at 1 s, as no collection has run): the lean log
 * keeps the sends up to the end of the step in which the 4,096th fell
 * (a step sends a few), the full log every one; a table dropped before
 * the run is gone after it. */
static void a_small_run_collects_after_4096_sends(void **state)
{
    (void)state;
    const char *src = "local sim = tcpsim.new { seed = 1 }\n"
                      "local a, b = sim:host 'A', sim:host 'B'\n"
                      "local weak = setmetatable({}, { __mode = 'v' })\n"
                      "weak[1] = sim:link(a, b, { delay = '1ms' })\n"
                      "local server = b:listen(80, { autoread = true })\n"
                      "server:on_accept(function() end)\n"
                      "local c = a:connect(b, 80)\n"
                      "sim:run_to '1s'\n"
                      "expect(weak[1] ~= nil):equals(true)\n"
                      "c:send(12000000)\n"
                      "sim:run_to '60s'\n"
                      "expect(c.state):equals 'ESTABLISHED'\n"
                      "expect(weak[1]):equals(nil)\n"
                      "local unused = server\n";
    link_log full, lean;
    log_of_link(src, false, 0, &full);
    log_of_link(src, true, 0, &lean);
    assert_true(full.sends > 2 * 4096);
    assert_in_range(lean.sends, 4096, 4096 + 16);
}

/* A raw peer hands out its link at any time (peer.link): its packets are
 * kept though no handle to the link was ever made before they were sent. */
static void a_lean_log_keeps_a_raw_peers_link(void **state)
{
    (void)state;
    const char *src =
        "local sim = tcpsim.new { seed = 1 }\n"
        "local a = sim:host 'A'\n"
        "local peer = sim:raw_peer(a, { delay = '5ms' })\n"
        "local listener = a:listen(8080)\n"
        "peer:send 'S 0:0(0) win 1000'\n"
        "peer:expect '+0.01 S. 0:0(0) ack 1 <...>'\n"
        "collectgarbage()\n"
        "expect(table.concat(peer.link.exchange, ' ')):equals 'peer>A SYN A>peer SYN,ACK'\n"
        "local unused = listener\n";
    link_log full, lean;
    log_of_link(src, false, 0, &full);
    log_of_link(src, true, 0, &lean);
    assert_int_equal(full.sends, 2);
    assert_int_equal(lean.sends, 2);
    assert_int_equal(lean.fold, full.fold);
}

/* accept(2) under bsd fails once with ECONNABORTED after shutdown("rd") on
 * the listener (FreeBSD soshutdown sets so_error, solisten_dequeue returns
 * and clears it); the connection behind it stays queued. on_accept takes
 * that error as a server's accept loop does and goes on to the connection:
 * one in its handshake at the shutdown is handed out at its ESTABLISHED
 * (three 10 ms crossings after the SYN), not left waiting for another. */
static void on_accept_goes_on_past_bsds_econnaborted(void **state)
{
    (void)state;
    expect_holds("local sim = tcpsim.new { seed = 1, profile = 'bsd' }\n"
                 "local a, b = sim:host 'A', sim:host 'B'\n"
                 "local link = sim:link(a, b, { delay = '10ms' })\n"
                 "local server = b:listen(80)\n"
                 "local got = {}\n"
                 "server:on_accept(function(conn) got[#got + 1] = sim.now end)\n"
                 "a:connect(b, 80)\n"
                 "sim:run_to '15ms'\n"
                 "expect(#server:pending()):equals(1)\n"
                 "local ok, err = pcall(server.shutdown, server, 'rd')\n"
                 "expect(not ok and tostring(err):find('ENOTCONN', 1, true) ~= nil):holds()\n"
                 "sim:run_to '1s'\n"
                 "expect(#got):equals(1)\n"
                 "expect(got[1]):equals(30000000)\n"
                 "local unused = link\n",
                 4);
}

/* A link handle comes back after its finalizer ran when a script's own
 * finalizer keeps it (resurrection). A log read only by link queries
 * records no packet of a link without a live handle, so such a handle is
 * refused, in every mode alike, rather than answering from a log that may
 * miss its packets (before, the query found no segment under `tcpsim run`
 * and the handshake's three under `--check`). */
static void a_link_handle_back_from_collection_is_refused(void **state)
{
    (void)state;
    expect_error_as("local sim = tcpsim.new { seed = 1 }\n"
                    "local a, b = sim:host 'A', sim:host 'B'\n"
                    "do\n"
                    "  local l = sim:link(a, b, { delay = '10ms' })\n"
                    "  setmetatable({}, { __gc = function() saved = l end })\n"
                    "end\n"
                    "collectgarbage()\n"
                    "b:listen(80)\n"
                    "a:connect(b, 80)\n"
                    "sim:run_for '1s'\n"
                    "local n = #saved:segments()\n",
                    ":11: link: this handle was collected", true);
}

/* ---- socket:take_error ---- */

/* SO_ERROR of a connection refused: "ECONNREFUSED" once, then nil; on a
 * socket this side closed it is an error naming the call's line, as any
 * call there. */
static void take_error_reads_once_and_refuses_a_closed_socket(void **state)
{
    (void)state;
    expect_holds(PRELUDE "local c = a:connect(b, 81)\n"
                         "sim:run_for '1s'\n"
                         "expect(c.state):equals('CLOSED')\n"
                         "expect(c:take_error()):equals('ECONNREFUSED')\n"
                         "expect(c:take_error()):equals(nil)\n"
                         "expect(c.error):equals('ECONNREFUSED')\n",
                 4);
    expect_error(PRELUDE "local c = a:connect(b, 80)\n"
                         "sim:run_for '1s'\n"
                         "c:close()\n"
                         "c:take_error()\n",
                 ":9: socket:take_error: the socket was closed by this side");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(run_until_timeout_is_an_error_naming_the_line),
        cmocka_unit_test(run_until_with_nothing_left_to_run_is_an_error),
        cmocka_unit_test(run_until_soft_returns_false_at_the_timeout),
        cmocka_unit_test(run_until_returns_true_when_the_condition_holds),
        cmocka_unit_test(fired_timers_are_released),
        cmocka_unit_test(on_state_passes_the_handle_that_set_it),
        cmocka_unit_test(keep_received_false_counts_without_keeping),
        cmocka_unit_test(hosts_hint_changes_nothing),
        cmocka_unit_test(draws_option_picks_the_stream_or_keyed_draws),
        cmocka_unit_test(accept_wait_returns_the_connection_when_the_handshake_ends),
        cmocka_unit_test(accept_wait_takes_a_queued_connection_without_running),
        cmocka_unit_test(accept_wait_timeout_is_an_error_naming_the_line),
        cmocka_unit_test(accept_returns_nil_and_says_why),
        cmocka_unit_test(nil_from_accept_used_as_a_socket_names_accept_wait),
        cmocka_unit_test(bare_numbers_are_refused_where_a_duration_is_expected),
        cmocka_unit_test(zero_and_tcpsim_ns_are_durations),
        cmocka_unit_test(a_hook_asking_for_a_bare_number_delay_is_refused),
        cmocka_unit_test(reorder_without_reorder_delay_holds_back_by_the_delay),
        cmocka_unit_test(typos_get_the_nearest_name),
        cmocka_unit_test(every_lua_knob_is_a_profile_field),
        cmocka_unit_test(every_profile_field_is_a_knob_or_named_unsettable),
        cmocka_unit_test(only_a_string_is_a_label),
        cmocka_unit_test(listen_isn_numbers_the_next_connection),
        cmocka_unit_test(a_lean_log_leaves_out_a_link_no_handle_reaches),
        cmocka_unit_test(a_small_run_collects_after_4096_sends),
        cmocka_unit_test(on_accept_hands_out_each_connection_as_it_establishes),
        cmocka_unit_test(on_accept_takes_the_connections_already_waiting),
        cmocka_unit_test(on_accept_refuses_what_is_not_a_listener),
        cmocka_unit_test(an_error_in_on_accept_stops_the_run),
        cmocka_unit_test(a_lean_log_keeps_a_raw_peers_link),
        cmocka_unit_test(on_accept_goes_on_past_bsds_econnaborted),
        cmocka_unit_test(a_link_handle_back_from_collection_is_refused),
        cmocka_unit_test(one_function_serves_many_sockets),
        cmocka_unit_test(sim_and_host_fields_and_methods_read_alike),
        cmocka_unit_test(replaced_callbacks_are_let_go),
        cmocka_unit_test(handles_are_small),
        cmocka_unit_test(a_large_setup_is_collected_at_the_first_run),
        cmocka_unit_test(a_later_phase_is_collected_at_its_run),
        cmocka_unit_test(on_state_handles_are_pinned_each_to_its_socket),
        cmocka_unit_test(on_state_pins_take_a_slot_each),
        cmocka_unit_test(two_simulations_keep_their_handles_and_callbacks_apart),
        cmocka_unit_test(a_callback_set_from_a_callback_errors_at_its_line),
        cmocka_unit_test(option_tables_read_by_their_names_keep_their_rules),
        cmocka_unit_test(take_error_reads_once_and_refuses_a_closed_socket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
