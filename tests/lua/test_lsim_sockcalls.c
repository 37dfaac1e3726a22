/*
 * Socket calls from Lua that packetdrill-style tests need: the cork
 * option, listener:pending() (handles on connections before accept,
 * including one an RST ended), listener:connect() (RFC 9293 §3.10.1 OPEN
 * in LISTEN, refused by the linux and bsd profiles) and shutdown on a
 * listener per profile. Each test runs a small scenario through the
 * runtime's C entry points and checks the expectations it counted.
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

static result run_script(const char *src)
{
    char path[] = "/tmp/tcpsim-lsim-sockcalls-XXXXXX";
    lua_State *L = lsim_test_state(src, path, false);
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

/* The script runs to its end and every one of its `checked` expectations holds. */
static void expect_holds(const char *src, long checked)
{
    result r = run_script(src);
    if (r.rc != 0)
        fail_msg("rc %d: %s", r.rc, r.err);
    assert_int_equal(r.failed, 0);
    assert_int_equal(r.checked, checked);
}

#define WORLD(profile)                                                                             \
    "local sim = tcpsim.new { seed = 1, profile = '" profile "' }\n"                               \
    "local a, b = sim:host 'A', sim:host 'B'\n"                                                    \
    "local link = sim:link(a, b, { delay = '10ms' })\n"                                            \
    "local server = b:listen(80)\n"

/* cork: a 100-byte write waits; RTO after a 20 ms handshake RTT is
 * 20 + max(2 * 20, 200) = 220 ms (Linux tcp_rtt_estimator puts rto_min on
 * the variance term, profile rto_min_var), and the probe timer sends it
 * then (Linux tcp_check_probe_timer, tcp_write_wakeup). */
static void cork_holds_a_runt_until_the_probe_timer(void **state)
{
    (void)state;
    expect_holds(WORLD("linux") "local c = a:connect(b, 80, { cork = true })\n"
                                "server:accept_wait()\n"
                                "sim:run_for '100ms'\n"
                                "local t0 = sim.now\n"
                                "c:send(100)\n"
                                "sim:run_for '219ms'\n"
                                "expect(#link:segments { from = a, len = 100 }):equals(0)\n"
                                "sim:run_for '9ms'\n"
                                "local s = link:segments { from = a, len = 100 }\n"
                                "expect(#s):equals(1)\n"
                                /* 220 ms = 55 jiffies at HZ 250, wheel level 0:
                                 * fired on the jiffy after, up to 8 ms late */
                                "expect(s[1].sent - t0):at_least(sim.duration '220ms')\n"
                                "expect(s[1].sent - t0):at_most(sim.duration '228ms')\n",
                 4);
}

/* pending(): the handle exists before accept, starts at SYN_RECEIVED, and
 * an RST (the client aborts while its handshake ACK was lost) returns the
 * passive connection to LISTEN (RFC 9293 §3.10.7.4; the rfc9293 profile:
 * linux and bsd end it CLOSED, embryo_reset_closed); accept() takes
 * connections out of the list. */
static void pending_lists_connections_before_accept(void **state)
{
    (void)state;
    expect_holds(
        WORLD("rfc9293") "link:drop_next { from = a, flags = 'ACK' }\n"
                         "local c = a:connect(b, 80)\n"
                         "sim:run_for '15ms'\n"
                         "local p = server:pending()\n"
                         "expect(#p):equals(1)\n"
                         "expect(p[1].state):equals('SYN_RECEIVED')\n"
                         "sim:run_for '20ms'\n"
                         "c:abort()\n"
                         "sim:run_for '50ms'\n"
                         "expect(table.concat(p[1].trace, ' ')):equals('SYN_RECEIVED LISTEN')\n"
                         "a:connect(b, 80)\n"
                         "local q = server:accept_wait()\n"
                         "expect(q.state):equals('ESTABLISHED')\n"
                         "local left = server:pending()\n"
                         "expect(#left):equals(1)\n"
                         "expect(left[1].id):equals(p[1].id)\n",
        6);
}

/* The same RST under linux and bsd (embryo_reset_closed: Linux
 * tcp_check_req -> inet_csk_reqsk_queue_drop, FreeBSD syncache_chkrst ->
 * syncache_drop) ends the child CLOSED; it stays in the list until
 * accept() would have taken it, and the listener keeps listening. */
static void pending_child_reset_ends_closed_linux_bsd(void **state)
{
    (void)state;
    static const char *const SCRIPT =
        "link:drop_next { from = a, flags = 'ACK' }\n"
        "local c = a:connect(b, 80)\n"
        "sim:run_for '15ms'\n"
        "local p = server:pending()\n"
        "sim:run_for '20ms'\n"
        "c:abort()\n"
        "sim:run_for '50ms'\n"
        "expect(table.concat(p[1].trace, ' ')):equals('SYN_RECEIVED CLOSED')\n"
        "expect(#server:pending()):equals(1)\n"
        "expect(server.state):equals('LISTEN')\n";
    char buf[1024];
    snprintf(buf, sizeof buf, "%s%s", WORLD("linux"), SCRIPT);
    expect_holds(buf, 3);
    snprintf(buf, sizeof buf, "%s%s", WORLD("bsd"), SCRIPT);
    expect_holds(buf, 3);
}

/* listener:connect(): LISTEN -> SYN_SENT under rfc9293; linux EISCONN. */
static void connect_on_a_listener_per_profile(void **state)
{
    (void)state;
    expect_holds(WORLD("rfc9293") "local l = a:listen(90)\n"
                                  "l:connect(b, 80)\n"
                                  "expect(l.state):equals('SYN_SENT')\n"
                                  "server:accept_wait()\n"
                                  "expect(table.concat(l.trace, ' ')):equals("
                                  "'CLOSED LISTEN SYN_SENT ESTABLISHED')\n",
                 2);
    expect_holds(WORLD("linux") "local l = a:listen(90)\n"
                                "local ok, err = pcall(l.connect, l, b, 80)\n"
                                "expect(ok):equals(false)\n"
                                "expect(tostring(err):find('EISCONN', 1, true) ~= nil):holds()\n"
                                "expect(l.state):equals('LISTEN')\n",
                 3);
}

/* shutdown("wr") on a listener: linux keeps listening, rfc9293 closes it. */
static void shutdown_wr_on_a_listener_per_profile(void **state)
{
    (void)state;
    expect_holds(WORLD("linux") "server:shutdown 'wr'\n"
                                "expect(server.state):equals('LISTEN')\n"
                                "a:connect(b, 80)\n"
                                "expect(server:accept_wait().state):equals('ESTABLISHED')\n",
                 2);
    expect_holds(WORLD("rfc9293") "server:shutdown 'wr'\n"
                                  "expect(server.state):equals('CLOSED')\n",
                 1);
}

/* What a scenario sees on a connection its peer reset (the peer's abort())
 * with five bytes received and unread: the stack's answers per profile,
 * each error raised at the call's line. rfc9293 (RFC 9293 §3.10.7.4):
 * the bytes are flushed, the first call raises ECONNRESET, later SEND and
 * RECEIVE "connection does not exist" (ENOTCONN, §3.10.2, §3.10.3).
 * linux: the bytes stay readable, then ECONNRESET once (sock_error), then
 * end of stream (nil) and EPIPE (tcp_done shut both ways). shutdown raises
 * ENOTCONN in both (§3.10.4 CLOSE in CLOSED; inet_shutdown "case
 * TCP_CLOSE"); close releases the socket in both, rfc9293 raising ENOTCONN
 * (§3.10.4 CLOSE in CLOSED: "connection does not exist"), linux not
 * (inet_release → tcp_close). */
#define RESET(profile)                                                                             \
    WORLD(profile)                                                                                 \
    "local c = a:connect(b, 80)\n"                                                                 \
    "local s = server:accept_wait()\n"                                                             \
    "c:send 'hello'\n"                                                                             \
    "sim:run_for '100ms'\n"                                                                        \
    "c:abort()\n"                                                                                  \
    "sim:run_for '100ms'\n"                                                                        \
    "expect(s.state):equals('CLOSED')\n"                                                           \
    "expect(s.error):equals('ECONNRESET')\n"                                                       \
    "local function err(f, ...)\n"                                                                 \
    "  local ok, e = pcall(f, s, ...)\n"                                                           \
    "  return ok and 'ok' or tostring(e):match('E%u+')\n"                                          \
    "end\n"
static void calls_after_a_reset_per_profile(void **state)
{
    (void)state;
    expect_holds(
        RESET("rfc9293") "expect(s:info().inq):equals(0)\n"
                         "expect(err(s.shutdown)):equals('ENOTCONN')\n"
                         "expect(err(s.recv)):equals('ECONNRESET')\n"
                         "expect(err(s.recv)):equals('ENOTCONN')\n"
                         "expect(err(s.send, 'x')):equals('ENOTCONN')\n"
                         "expect(err(s.close)):equals('ENOTCONN')\n"
                         "local ok, e = pcall(s.close, s)\n"
                         "expect(tostring(e):find('closed socket', 1, true) ~= nil):holds()\n",
        9);
    expect_holds(RESET("linux") "expect(s:recv()):equals('hello')\n"
                                "expect(err(s.shutdown)):equals('ENOTCONN')\n"
                                "expect(err(s.recv)):equals('ECONNRESET')\n"
                                "expect(s:recv()):equals(nil)\n"
                                "expect(err(s.send, 'x')):equals('EPIPE')\n"
                                "expect(err(s.close)):equals('ok')\n",
                 8);
}

/* Bytes a send queued beyond what the send buffer took are fed to the
 * stack as room comes, as a writer blocked in write() would copy them.
 * When the peer resets the connection with bytes still queued, such a
 * writer returns the count it copied and leaves the error for the next
 * call (Linux tcp_sendmsg_locked, do_error: "if (copied + copied_syn)
 * goto out"): the scenario's next call reports it, once under every
 * built-in profile (err_once), before "closed both ways" (linux: end of
 * stream, EPIPE) or "connection does not exist" (rfc9293, RFC 9293
 * §3.10.3). */
#define QUEUED_RESET(profile)                                                                      \
    WORLD(profile)                                                                                 \
    "local c = a:connect(b, 80)\n"                                                                 \
    "local s = server:accept_wait()\n"                                                             \
    "c:send(2000000)\n"                                                                            \
    "sim:run_for '50ms'\n"                                                                         \
    "s:abort()\n"                                                                                  \
    "sim:run_for '100ms'\n"                                                                        \
    "expect(c.state):equals('CLOSED')\n"                                                           \
    "expect(c.error):equals('ECONNRESET')\n"                                                       \
    "local function err(f, ...)\n"                                                                 \
    "  local ok, e = pcall(f, c, ...)\n"                                                           \
    "  return ok and 'ok' or tostring(e):match('E%u+')\n"                                          \
    "end\n"
static void queued_bytes_leave_the_reset_for_the_next_call(void **state)
{
    (void)state;
    expect_holds(QUEUED_RESET("linux") "expect(err(c.recv)):equals('ECONNRESET')\n"
                                       "expect(c:recv()):equals(nil)\n"
                                       "expect(err(c.send, 'x')):equals('EPIPE')\n",
                 5);
    expect_holds(QUEUED_RESET("rfc9293") "expect(err(c.send, 'x')):equals('ECONNRESET')\n"
                                         "expect(err(c.recv)):equals('ENOTCONN')\n"
                                         "expect(err(c.send, 'x')):equals('ENOTCONN')\n",
                 5);
    expect_holds(QUEUED_RESET("bsd") "expect(err(c.recv)):equals('ECONNRESET')\n"
                                     "expect(c:recv()):equals(nil)\n"
                                     "expect(err(c.close)):equals('ok')\n",
                 5);
}

/* sock:take_error() is getsockopt(SO_ERROR): the pending error's name,
 * cleared, or nil (Linux sock_getsockopt SO_ERROR → sock_error; FreeBSD
 * sogetopt SO_ERROR: so_error = 0). After it the calls find no error left:
 * linux the bytes, then end of stream; rfc9293 "connection does not
 * exist" (RFC 9293 §3.10.3 CLOSED). */
static void take_error_reads_and_clears_the_error(void **state)
{
    (void)state;
    expect_holds(WORLD("linux") "local c = a:connect(b, 80)\n"
                                "sim:run_for '100ms'\n"
                                "expect(c:take_error()):equals(nil)\n",
                 1);
    expect_holds(
        RESET("linux") "expect(s:take_error()):equals('ECONNRESET')\n"
                       "expect(s:take_error()):equals(nil)\n"
                       "expect(s.error):equals('ECONNRESET')\n"
                       "expect(s:recv()):equals('hello')\n"
                       "expect(s:recv()):equals(nil)\n"
                       "s:close()\n"
                       "local ok, e = pcall(s.take_error, s)\n"
                       "expect(tostring(e):find('closed socket', 1, true) ~= nil):holds()\n",
        8);
    expect_holds(RESET("rfc9293") "expect(s:take_error()):equals('ECONNRESET')\n"
                                  "expect(s:take_error()):equals(nil)\n"
                                  "expect(err(s.recv)):equals('ENOTCONN')\n",
                 5);
}

/* A connection that ended normally while the scenario holds it: after
 * shutdown, TIME_WAIT expires (RFC 9293 §3.10.8: "delete the TCB").
 * rfc9293 answers recv, send and close "connection does not exist"
 * (§3.10.2, §3.10.3, §3.10.4 CLOSED); linux end of stream, EPIPE and a
 * close that succeeds (tcp_done: sk_shutdown = SHUTDOWN_MASK). */
#define TIME_WAIT_ENDED(profile)                                                                   \
    WORLD(profile)                                                                                 \
    "local c = a:connect(b, 80)\n"                                                                 \
    "local s = server:accept_wait()\n"                                                             \
    "c:shutdown()\n"                                                                               \
    "sim:run_for '100ms'\n"                                                                        \
    "s:close()\n"                                                                                  \
    "sim:run_for '100ms'\n"                                                                        \
    "expect(c.state):equals('TIME_WAIT')\n"                                                        \
    "sim:run_for '10min'\n"                                                                        \
    "expect(c.state):equals('CLOSED')\n"                                                           \
    "local function err(f, ...)\n"                                                                 \
    "  local ok, e = pcall(f, c, ...)\n"                                                           \
    "  return ok and 'ok' or tostring(e):match('E%u+')\n"                                          \
    "end\n"
static void calls_after_time_wait_per_profile(void **state)
{
    (void)state;
    expect_holds(TIME_WAIT_ENDED("rfc9293") "expect(err(c.recv)):equals('ENOTCONN')\n"
                                            "expect(err(c.send, 'x')):equals('ENOTCONN')\n"
                                            "expect(err(c.close)):equals('ENOTCONN')\n",
                 5);
    expect_holds(TIME_WAIT_ENDED("linux") "expect(c:recv()):equals(nil)\n"
                                          "expect(err(c.send, 'x')):equals('EPIPE')\n"
                                          "expect(err(c.close)):equals('ok')\n",
                 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cork_holds_a_runt_until_the_probe_timer),
        cmocka_unit_test(pending_lists_connections_before_accept),
        cmocka_unit_test(pending_child_reset_ends_closed_linux_bsd),
        cmocka_unit_test(connect_on_a_listener_per_profile),
        cmocka_unit_test(shutdown_wr_on_a_listener_per_profile),
        cmocka_unit_test(calls_after_a_reset_per_profile),
        cmocka_unit_test(queued_bytes_leave_the_reset_for_the_next_call),
        cmocka_unit_test(take_error_reads_and_clears_the_error),
        cmocka_unit_test(calls_after_time_wait_per_profile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
