/*
 * test_lsim_peer — sim:raw_peer through the runtime's C entry points: the
 * parts the library's scenarios do not reach (recv without asserting,
 * absolute numbers, advance and relative times, table defaults, the stack
 * opening the connection to the peer) and the counts a passing expect
 * leaves. The expected numbers come from RFC 9293: a SYN takes one
 * sequence number (§3.4), a SYN,ACK acknowledges it (§3.10.7.2), data
 * is acknowledged up to its end.
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

/* Host A listening on 8080 and a raw peer 10 ms away, as the first lines
 * of every script below. */
#define PRELUDE                                                                                    \
    "local sim = tcpsim.new { seed = 1 }\n"                                                        \
    "local a = sim:host 'A'\n"                                                                     \
    "local peer = sim:raw_peer(a, { delay = '10ms' })\n"                                           \
    "local listener = a:listen(8080, { autoread = true })\n"

typedef struct result {
    int rc;
    char err[2048];
    long checked, failed;
} result;

static result run_script(const char *src)
{
    char path[] = "/tmp/tcpsim-lsim-peer-XXXXXX";
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

static void assert_passes(const char *src, long checked)
{
    result r = run_script(src);
    if (r.rc != 0)
        fail_msg("%s", r.err);
    assert_int_equal(r.failed, 0);
    assert_int_equal(r.checked, checked);
}

static void recv_reads_without_asserting(void **state)
{
    (void)state;
    assert_passes(PRELUDE "assert(peer:recv() == nil and peer.queued == 0)\n"
                          "peer:send 'S 0:0(0) win 65535 <mss 1460>'\n"
                          "assert(peer:recv() == nil)  -- nothing ran yet\n"
                          "local s = peer:recv { wait = '1s' }\n"
                          "assert(s.flags == 'S.' and s.seq == 0 and s.ack == 1, s.line)\n"
                          "assert(s.time == 20000000 and s.sport == 8080 and s.dport == 40000)\n"
                          "assert(s.line:match('^S%. 0:0%(0%) ack 1 win %d+ <'), s.line)\n"
                          "assert(s.options[1].kind == 'mss' and s.data == '')\n"
                          "assert(peer.stack_isn ~= nil and sim.now == 20000000)\n"
                          "assert(peer:recv { wait = '100ms' } == nil and sim.now == 120000000)\n",
                  0);
}

static void absolute_numbers(void **state)
{
    (void)state;
    assert_passes("local sim = tcpsim.new { seed = 1 }\n"
                  "local a = sim:host 'A'\n"
                  "local peer = sim:raw_peer(a, { isn = 5000, absolute = true })\n"
                  "a:listen(8080)\n"
                  "peer:send 'S 5000:5000(0) win 1000'\n"
                  "local s = peer:recv { wait = '1s' }\n"
                  "assert(s.seq == peer.stack_isn and s.ack == 5001, s.line)\n"
                  "local r = peer:recv { wait = '100ms', absolute = false }\n"
                  "assert(r == nil)\n"
                  "peer:send(('. 5001:5001(0) ack %d win 1000'):format(peer.stack_isn + 1))\n"
                  "peer:expect_none '1s'\n"
                  "peer:send('P. 1:4(3) ack 1 win 1000', { absolute = false })\n"
                  "peer:expect('. 1:1(0) ack 4', { absolute = false })\n",
                  2);
}

static void advance_and_relative_times(void **state)
{
    (void)state;
    assert_passes(PRELUDE "peer:advance '1s'\n"
                          "peer:send '+0.5 S 0:0(0) win 65535'\n"
                          "assert(sim.now == 1500000000)\n"
                          "peer:expect '+0.02 S. 0:0(0) ack 1 <...>'\n"
                          "peer:send '2.0 . 1:1(0) ack 1 win 65535'\n"
                          "local segs = peer.link:segments { from = peer.host }\n"
                          "assert(#segs == 1 and segs[1].from == 'A' and segs[1].to == 'peer')\n"
                          "local ok, err = pcall(peer.send, peer, '1.0 . 1:1(0) ack 1 win 1')\n"
                          "assert(not ok and err:find('is in the past'), err)\n",
                  1);
}

static void table_defaults_follow_the_connection(void **state)
{
    (void)state;
    assert_passes(PRELUDE "peer:send { time = '0', flags = 'S', opts = { mss = 1000 } }\n"
                          "peer:expect { flags = 'S.', opts = '<...>' }\n"
                          "peer:send { flags = '.' }\n"
                          "local server = listener:accept_wait '1s'\n"
                          "peer:send { flags = 'P.', data = 'abc' }\n"
                          "peer:expect { flags = '.', ack = 4 }\n"
                          "peer:send { flags = 'S', seq = 900 }  -- a crafted SYN\n"
                          "peer:expect { flags = '.' }            -- its challenge ACK\n"
                          "peer:send { flags = 'P.', data = 'de' } -- goes on at 4\n"
                          "local s = peer:expect { flags = '.', ack = 6 }\n"
                          "assert(s.seq == 1)\n"
                          "expect(server):received 'abcde'\n",
                  5);
}

static void the_stack_opens_to_the_peer(void **state)
{
    (void)state;
    assert_passes("local sim = tcpsim.new { seed = 2 }\n"
                  "local a = sim:host 'A'\n"
                  "local peer = sim:raw_peer(a, { delay = '5ms' })\n"
                  "local c = a:connect(peer.addr, 9999)\n"
                  "peer:expect 'S 0:0(0) <...>'\n"
                  "assert(peer.sport == 9999 and peer.dport == c.port)\n"
                  "peer:send 'S. 0:0(0) ack 1 win 1000'\n"
                  "peer:expect '+0.01 . 1:1(0) ack 1'\n"
                  "expect(c):state 'ESTABLISHED'\n",
                  3);
}

static void errors_name_the_line(void **state)
{
    (void)state;
    result r = run_script(PRELUDE "peer:send 'S 0:0(0) win 65535'\n"
                                  "peer:expect '* R. 0:0(0) ack 1'\n");
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, ":6: peer:expect: flags mismatch: expected * > R. 0:0(0) ack 1, "
                                  "actual 0.020000 > S. 0:0(0) ack 1"));
    r = run_script(PRELUDE "peer:send { flags = 'S', len = 3, data = 'ab' }\n");
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "len 3 differs from the 2 bytes of data"));
    r = run_script(PRELUDE "peer:send { seq = 1 }\n");
    assert_non_null(strstr(r.err, "a segment table needs flags"));
    r = run_script("local sim = tcpsim.new {}\nlocal a = sim:host 'A'\n"
                   "sim:raw_peer('10.9.9.9')\n");
    assert_non_null(strstr(r.err, "no host has the address 10.9.9.9"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(recv_reads_without_asserting),
        cmocka_unit_test(absolute_numbers),
        cmocka_unit_test(advance_and_relative_times),
        cmocka_unit_test(table_defaults_follow_the_connection),
        cmocka_unit_test(the_stack_opens_to_the_peer),
        cmocka_unit_test(errors_name_the_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
