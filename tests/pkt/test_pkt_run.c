/*
 * test_pkt_run — the runner's verdicts: a script that matches passes; each
 * kind of difference (a field, a time, a missing segment, a call's result,
 * a blocking call's return time) is a mismatch naming its line with the
 * expected and actual values; settings and options tcpsim cannot honour
 * are "unsupported", never skipped; the same script gives the same message.
 * The expectations are those of RFC 9293 (an ACK acknowledges RCV.NXT) and
 * of the scripts themselves, not output copied from the stack.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "pkt_run.h"

/* A listener, the peer's SYN (its options as Linux's defaults would send),
 * our SYN-ACK (options not checked), the third ACK, accept, then `tail`. */
#define SERVER                                                                                     \
    "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"                                                \
    "+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0\n"                                     \
    "+0 bind(3, ..., ...) = 0\n"                                                                   \
    "+0 listen(3, 1) = 0\n"                                                                        \
    "+0 < S 0:0(0) win 65535 <mss 1460,sackOK,nop,nop,nop,wscale 7>\n"                             \
    "+0 > S. 0:0(0) ack 1 <...>\n"                                                                 \
    "+.1 < . 1:1(0) ack 1 win 257\n"                                                               \
    "+0 accept(3, ..., ...) = 4\n"

static pkt_run_verdict run_text(const char *profile, const char *text, char *msg, size_t len)
{
    pkt_status st;
    char perr[PKT_MSG_MAX];
    pkt_script *s = pkt_parse("t.pkt", text, strlen(text), &st, perr, sizeof perr);
    if (!s) {
        snprintf(msg, len, "%s", perr);
        return PKT_RUN_NOT_RUN;
    }
    pkt_run_opts o = {.file = "t.pkt", .tolerance_usecs = -1, .seed = 1, .profile = profile};
    pkt_run_info info;
    pkt_run_verdict v = pkt_run(s, &o, &info, msg, len);
    pkt_script_free(s);
    return v;
}

/* expect_verdict under the named profile (NULL: linux). */
static void expect_verdict_as(const char *profile, const char *text, pkt_run_verdict want,
                              const char *needle)
{
    char msg[1024];
    pkt_run_verdict v = run_text(profile, text, msg, sizeof msg);
    if (v != want || (needle && !strstr(msg, needle)))
        fail_msg("verdict %d (wanted %d), message: %s (wanted '%s')", v, want, msg,
                 needle ? needle : "");
}

static void expect_verdict(const char *text, pkt_run_verdict want, const char *needle)
{
    expect_verdict_as(NULL, text, want, needle);
}

static void data_is_acked_at_once(void **state)
{
    (void)state;
    /* line 9: 10 bytes; RFC 9293 §3.10.7.4: the ACK carries RCV.NXT = 11 */
    expect_verdict(SERVER "+0 < P. 1:11(10) ack 1 win 257\n"
                          "+0 > . 1:1(0) ack 11\n"
                          "+0 read(4, ..., 100) = 10\n",
                   PKT_RUN_PASS, NULL);
}

static void wrong_ack_is_a_mismatch_with_both_segments(void **state)
{
    (void)state;
    expect_verdict(SERVER "+0 < P. 1:11(10) ack 1 win 257\n"
                          "+0 > . 1:1(0) ack 12\n",
                   PKT_RUN_MISMATCH,
                   "t.pkt:10: ack mismatch: expected 0.100000 > . 1:1(0) ack 12, "
                   "actual 0.100000 > . 1:1(0) ack 11 win ");
}

static void wrong_flags_are_a_mismatch(void **state)
{
    (void)state;
    expect_verdict(SERVER "+0 < P. 1:11(10) ack 1 win 257\n"
                          "+0 > P. 1:1(0) ack 11\n",
                   PKT_RUN_MISMATCH, "t.pkt:10: flags mismatch: expected 0.100000 > P. 1:1(0)");
}

static void late_expectation_is_a_time_mismatch(void **state)
{
    (void)state;
    /* the ACK leaves at 0.100; the script wants it 10 ms later (tolerance 4 ms) */
    expect_verdict(SERVER "+0 < P. 1:11(10) ack 1 win 257\n"
                          "+.01 > . 1:1(0) ack 11\n",
                   PKT_RUN_MISMATCH,
                   "t.pkt:10: time mismatch: expected 0.110000 > . 1:1(0) ack 11");
}

static void tolerance_option_widens_the_window(void **state)
{
    (void)state;
    expect_verdict("--tolerance_usecs=20000\n" SERVER "+0 < P. 1:11(10) ack 1 win 257\n"
                   "+.01 > . 1:1(0) ack 11\n",
                   PKT_RUN_PASS, NULL);
}

static void missing_segment_is_reported(void **state)
{
    (void)state;
    /* nothing to send: the connection is idle */
    expect_verdict(SERVER "+.1 > F. 1:1(0) ack 1\n", PKT_RUN_MISMATCH,
                   "t.pkt:9: expected segment not sent: expected 0.200000 > F. 1:1(0) ack 1, "
                   "actual: none by 0.204000");
}

static void call_result_is_checked(void **state)
{
    (void)state;
    expect_verdict(SERVER "+0 < P. 1:11(10) ack 1 win 257\n"
                          "+0 > . 1:1(0) ack 11\n"
                          "+0 read(4, ..., 100) = 9\n",
                   PKT_RUN_MISMATCH, "t.pkt:11: read() = 10, expected 9");
}

static void errno_is_checked(void **state)
{
    (void)state;
    /* non-blocking accept with an empty queue: EAGAIN, not EINPROGRESS */
    expect_verdict("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                   "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
                   "+0 bind(3, ..., ...) = 0\n"
                   "+0 listen(3, 1) = 0\n"
                   "+0 accept(3, ..., ...) = -1 EINPROGRESS (x)\n",
                   PKT_RUN_MISMATCH, "t.pkt:5: accept() = -1 EAGAIN, expected -1 EINPROGRESS");
}

static void blocking_accept_returns_when_the_handshake_completes(void **state)
{
    (void)state;
    expect_verdict("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                   "+0 bind(3, ..., ...) = 0\n"
                   "+0 listen(3, 1) = 0\n"
                   "+0...0.2 accept(3, ..., ...) = 4\n"
                   "+0 < S 0:0(0) win 65535 <mss 1460>\n"
                   "+0 > S. 0:0(0) ack 1 <...>\n"
                   "+.2 < . 1:1(0) ack 1 win 257\n",
                   PKT_RUN_PASS, NULL);
    expect_verdict("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                   "+0 bind(3, ..., ...) = 0\n"
                   "+0 listen(3, 1) = 0\n"
                   "+0...0.1 accept(3, ..., ...) = 4\n"
                   "+0 < S 0:0(0) win 65535 <mss 1460>\n"
                   "+0 > S. 0:0(0) ack 1 <...>\n"
                   "+.2 < . 1:1(0) ack 1 win 257\n",
                   PKT_RUN_MISMATCH, "t.pkt:4: accept() still blocked at");
}

/* packetdrill's verify_time: the tolerance is --tolerance_usecs, or
 * --tolerance_percent of the time since the previous event when that is
 * more. The retransmission leaves 300 ms after the write; the script says
 * 320 ms: 20 ms off, outside 4 ms, inside 10 % of 320 ms (32 ms), outside
 * 5 % (16 ms). */
#define RTO_LATE                                                                                   \
    "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"                                                \
    "+0 bind(3, ..., ...) = 0\n"                                                                   \
    "+0 listen(3, 1) = 0\n"                                                                        \
    "+0 < S 0:0(0) win 65535 <mss 1460,nop,wscale 7>\n"                                            \
    "+0 > S. 0:0(0) ack 1 <...>\n"                                                                 \
    "+.1 < . 1:1(0) ack 1 win 257\n"                                                               \
    "+0 accept(3, ..., ...) = 4\n"                                                                 \
    "+0 write(4, ..., 1000) = 1000\n"                                                              \
    "+0 > P. 1:1001(1000) ack 1\n"                                                                 \
    "+.32 > P. 1:1001(1000) ack 1\n"

static void tolerance_percent_widens_by_the_gap(void **state)
{
    (void)state;
    expect_verdict(RTO_LATE, PKT_RUN_MISMATCH, "t.pkt:");
    expect_verdict("--tolerance_percent=10\n" RTO_LATE, PKT_RUN_PASS, NULL);
    expect_verdict("--tolerance_percent=5\n" RTO_LATE, PKT_RUN_MISMATCH, "t.pkt:");
    expect_verdict("--tolerance_percent=12.5\n" RTO_LATE, PKT_RUN_PASS, NULL);
    expect_verdict("--tolerance_percent=1.2345\n" RTO_LATE, PKT_RUN_NOT_RUN,
                   "--tolerance_percent: expected 0 to 1000");
}

/* The runner's send buffer model (docs/pkt.md): SO_SNDBUF 1000 is stored
 * doubled, 2000 bytes. A non-blocking write of 3000 takes 2000; a blocking
 * one waits until the peer's ACK of those 2000 frees room for the rest, and
 * is still blocked if that ACK never comes. */
#define SNDBUF_SERVER                                                                              \
    "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"                                                \
    "+0 setsockopt(3, SOL_SOCKET, SO_SNDBUF, [1000], 4) = 0\n"                                     \
    "+0 bind(3, ..., ...) = 0\n"                                                                   \
    "+0 listen(3, 1) = 0\n"                                                                        \
    "+0 < S 0:0(0) win 65535 <mss 1460,nop,wscale 7>\n"                                            \
    "+0 > S. 0:0(0) ack 1 <...>\n"                                                                 \
    "+.1 < . 1:1(0) ack 1 win 257\n"                                                               \
    "+0 accept(3, ..., ...) = 4\n"

static void writes_block_or_take_what_fits(void **state)
{
    (void)state;
    expect_verdict(SNDBUF_SERVER
                   "+0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
                   "+0 write(4, ..., 3000) = 2000\n"
                   "+0 write(4, ..., 10) = -1 EAGAIN (Resource temporarily unavailable)\n",
                   PKT_RUN_PASS, NULL);
    expect_verdict(SNDBUF_SERVER "+0...0.050 write(4, ..., 3000) = 3000\n"
                                 "+.05 < . 1:1(0) ack 2001 win 257\n",
                   PKT_RUN_PASS, NULL);
    expect_verdict(SNDBUF_SERVER "+0...0.050 write(4, ..., 3000) = 3000\n"
                                 "+.2 < . 1:1(0) ack 2001 win 257\n",
                   PKT_RUN_MISMATCH, "write() still blocked at");
}

/* A blocking write that a reset ends. Linux tcp_sendmsg_locked: the wait
 * (sk_stream_wait_memory) sees sk_err and goes to do_error, which returns
 * the bytes copied if any ("if (copied + copied_syn) goto out"), the error
 * staying for the next call; with none copied, sk_stream_error reports
 * sock_error(), which clears sk_err, so SO_ERROR then reads 0 and the next
 * write, the socket shut by tcp_done, fails with EPIPE. */
static void blocked_write_ended_by_reset(void **state)
{
    (void)state;
    expect_verdict(SNDBUF_SERVER "+0...0.050 write(4, ..., 3000) = 2000\n"
                                 "+.05 < R. 1:1(0) win 257\n"
                                 "+0 getsockopt(4, SOL_SOCKET, SO_ERROR, [ECONNRESET], [4]) = 0\n"
                                 "+0 write(4, ..., 10) = -1 EPIPE (Broken pipe)\n",
                   PKT_RUN_PASS, NULL);
    expect_verdict(SNDBUF_SERVER "+0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
                                 "+0 write(4, ..., 3000) = 2000\n"
                                 "+0 fcntl(4, F_SETFL, O_RDWR) = 0\n"
                                 "+0...0.050 write(4, ..., 10) = -1 ECONNRESET (Connection reset "
                                 "by peer)\n"
                                 "+.05 < R. 1:1(0) win 257\n"
                                 "+0 getsockopt(4, SOL_SOCKET, SO_ERROR, [0], [4]) = 0\n"
                                 "+0 write(4, ..., 10) = -1 EPIPE (Broken pipe)\n"
                                 "+0 read(4, ..., 100) = 0\n",
                   PKT_RUN_PASS, NULL);
}

/* The order of a write's answers after a reset is the profile's, the
 * stack's send deciding it: under bsd sosend_generic tests
 * SBS_CANTSENDMORE (set by tcp_close → soisdisconnected) before so_error,
 * so a write fails with EPIPE and a read then reports ECONNRESET
 * (soreceive_generic clears so_error), once. */
static void write_after_reset_follows_the_profile(void **state)
{
    (void)state;
    expect_verdict_as("bsd",
                      SERVER "+.1 < R. 1:1(0) ack 1 win 257\n"
                             "+0 write(4, ..., 10) = -1 EPIPE (Broken pipe)\n"
                             "+0 read(4, ..., 100) = -1 ECONNRESET (Connection reset by peer)\n"
                             "+0 read(4, ..., 100) = 0\n"
                             "+0 getsockopt(4, SOL_SOCKET, SO_ERROR, [0], [4]) = 0\n",
                      PKT_RUN_PASS, NULL);
}

/* What the calls answer after a reset is the stack's, per profile: the
 * runner keeps no flag of its own. Under rfc9293 (RFC 9293 §3.10.7.4) the
 * bytes received are flushed, the first call is answered "reset", later
 * ones "connection does not exist" (ENOTCONN, §3.10.2, §3.10.3), and
 * getsockopt(SO_ERROR) finds nothing left. Under linux
 * getsockopt(SO_ERROR) takes the error (sock_error), after which reads
 * return 0 and writes EPIPE. shutdown() after a reset is ENOTCONN in each
 * direction (Linux inet_shutdown: "case TCP_CLOSE: err = -ENOTCONN";
 * RFC 9293 §3.10.4 CLOSE in CLOSED) and leaves the error in place.
 * close() releases the descriptor either way: rfc9293 answers ENOTCONN
 * (§3.10.4 CLOSED, profile closed_deletes_tcb), Linux 0 (inet_release). */
static void calls_after_reset_are_the_stacks(void **state)
{
    (void)state;
    expect_verdict_as("rfc9293",
                      SERVER "+0 < P. 1:6(5) ack 1 win 257\n"
                             "+.05 < R. 6:6(0) ack 1 win 257\n"
                             "+0 ioctl(4, SIOCINQ, [0]) = 0\n"
                             "+0 shutdown(4, SHUT_WR) = -1 ENOTCONN (Transport endpoint is not "
                             "connected)\n"
                             "+0 read(4, ..., 100) = -1 ECONNRESET (Connection reset by peer)\n"
                             "+0 read(4, ..., 100) = -1 ENOTCONN (Transport endpoint is not "
                             "connected)\n"
                             "+0 write(4, ..., 10) = -1 ENOTCONN (Transport endpoint is not "
                             "connected)\n"
                             "+0 getsockopt(4, SOL_SOCKET, SO_ERROR, [0], [4]) = 0\n"
                             "+0 close(4) = -1 ENOTCONN (Transport endpoint is not connected)\n"
                             "+0 read(4, ..., 100) = -1 EBADF (Bad file descriptor)\n",
                      PKT_RUN_PASS, NULL);
    expect_verdict(SERVER "+.1 < R. 1:1(0) ack 1 win 257\n"
                          "+0 shutdown(4, SHUT_WR) = -1 ENOTCONN (Transport endpoint is not "
                          "connected)\n"
                          "+0 shutdown(4, SHUT_RD) = -1 ENOTCONN (Transport endpoint is not "
                          "connected)\n"
                          "+0 getsockopt(4, SOL_SOCKET, SO_ERROR, [ECONNRESET], [4]) = 0\n"
                          "+0 getsockopt(4, SOL_SOCKET, SO_ERROR, [0], [4]) = 0\n"
                          "+0 read(4, ..., 100) = 0\n"
                          "+0 write(4, ..., 10) = -1 EPIPE (Broken pipe)\n"
                          "+0 close(4) = 0\n",
                   PKT_RUN_PASS, NULL);
}

static void settings_without_a_knob_are_unsupported(void **state)
{
    (void)state;
    expect_verdict("`sysctl -q net.ipv4.tcp_frto=0`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n",
                   PKT_RUN_NOT_RUN,
                   "unsupported: sysctl net.ipv4.tcp_frto=0 (no profile knob) at t.pkt:1");
    expect_verdict("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                   "+0 setsockopt(3, SOL_TCP, TCP_QUICKACK, [1], 4) = 0\n",
                   PKT_RUN_NOT_RUN, "unsupported: setsockopt TCP_QUICKACK at t.pkt:2");
    expect_verdict("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                   "+0 setsockopt(3, SOL_TCP, TCP_DEFER_ACCEPT, [1], 4) = 0\n",
                   PKT_RUN_NOT_RUN, "unsupported: setsockopt TCP_DEFER_ACCEPT at t.pkt:2");
}

/* The RTO sysctls' own ranges (proc_dointvec_minmax): tcp_rto_min_us
 * 1..INT_MAX, tcp_rto_max_ms 1000..120000 (TCP_RTO_MAX_SEC); Linux refuses
 * a value outside, so the script is not run (nor the microseconds
 * multiplied past 64 bits). */
static void rto_sysctls_outside_their_range_are_refused(void **state)
{
    (void)state;
    static const struct {
        const char *setting;
        pkt_run_verdict verdict;
    } cases[] = {
        {"tcp_rto_min_us=0", PKT_RUN_NOT_RUN},
        {"tcp_rto_min_us=1", PKT_RUN_PASS},
        {"tcp_rto_min_us=2147483647", PKT_RUN_PASS},
        {"tcp_rto_min_us=2147483648", PKT_RUN_NOT_RUN},
        {"tcp_rto_min_us=18446744073709551615", PKT_RUN_NOT_RUN},
        {"tcp_rto_max_ms=999", PKT_RUN_NOT_RUN},
        {"tcp_rto_max_ms=1000", PKT_RUN_PASS},
        {"tcp_rto_max_ms=120000", PKT_RUN_PASS},
        {"tcp_rto_max_ms=120001", PKT_RUN_NOT_RUN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char script[160], want[96];
        snprintf(script, sizeof script,
                 "`sysctl -q net.ipv4.%s`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n",
                 cases[i].setting);
        const char *eq = strchr(cases[i].setting, '=');
        snprintf(want, sizeof want, "unsupported: value '%s' of %.*s at t.pkt:1", eq + 1,
                 (int)(eq - cases[i].setting), cases[i].setting);
        expect_verdict(script, cases[i].verdict, cases[i].verdict == PKT_RUN_PASS ? NULL : want);
    }
}

/* tcp_comp_sack_nr is a u8 sysctl: Linux refuses 256 (proc_dou8vec_minmax),
 * so the script is not run, rather than run with a limit never reached. */
static void comp_sack_nr_above_255_is_refused(void **state)
{
    (void)state;
    expect_verdict(
        "`sysctl -q net.ipv4.tcp_comp_sack_nr=256`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n",
        PKT_RUN_NOT_RUN, "unsupported: value '256' of tcp_comp_sack_nr at t.pkt:1");
    expect_verdict(
        "`sysctl -q net.ipv4.tcp_comp_sack_nr=255`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n",
        PKT_RUN_PASS, NULL);
}

static void knob_settings_change_the_run(void **state)
{
    (void)state;
    /* tcp_syn_retries=1: one retransmission at 1 s, then ETIMEDOUT after
     * the next timeout (2 s later, the first four are linear on Linux 6.5+) */
    expect_verdict("`sysctl -q net.ipv4.tcp_syn_retries=1 net.ipv4.tcp_syn_linear_timeouts=0`\n"
                   "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                   "+0...3 connect(3, ..., ...) = -1 ETIMEDOUT (x)\n"
                   "+0 > S 0:0(0) <...>\n"
                   "+1 > S 0:0(0) <...>\n",
                   PKT_RUN_PASS, NULL);
}

static void same_script_same_message(void **state)
{
    (void)state;
    const char *text = SERVER "+0 < P. 1:11(10) ack 1 win 257\n+0 > . 1:1(0) ack 12\n";
    char a[1024], b[1024];
    assert_int_equal(run_text(NULL, text, a, sizeof a), PKT_RUN_MISMATCH);
    assert_int_equal(run_text(NULL, text, b, sizeof b), PKT_RUN_MISMATCH);
    assert_string_equal(a, b);
}

/* A listener and a connection with timestamps (the exchanges of Linux's
 * selftest tcp_ts_recent_reset_tsval.pkt): our SYN-ACK's TS val is the
 * script's 100, the base of the mapping; lines 2 to 10 after one option
 * line, then the ACK of 10 bytes 100 ms after the SYN-ACK, whose TS val
 * is 100 ticks of the stack's 1 ms clock (RFC 7323 §5.4) past 100. */
#define TS_SERVER(ack_ts_val)                                                                      \
    "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"                                                \
    "+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0\n"                                     \
    "+0 bind(3, ..., ...) = 0\n"                                                                   \
    "+0 listen(3, 1) = 0\n"                                                                        \
    "+0 < S 0:0(0) win 20000 <mss 1000,sackOK,TS val 100 ecr 0>\n"                                 \
    "+0 > S. 0:0(0) ack 1 <mss 1460,sackOK,TS val 100 ecr 100>\n"                                  \
    "+.1 < . 1:1(0) ack 1 win 20000 <nop,nop,TS val 200 ecr 100>\n"                                \
    "+0 accept(3, ..., ...) = 4\n"                                                                 \
    "+0 < P. 1:11(10) ack 1 win 20000 <nop,nop,TS val 201 ecr 100>\n"                              \
    "+0 > . 1:1(0) ack 11 <nop,nop,TS val " ack_ts_val " ecr 201>\n"

static void ts_val_beyond_the_tolerance_is_a_mismatch(void **state)
{
    (void)state;
    /* 205 where 200 is sent: 5 ticks of 1000 us, over the default 4000 us */
    expect_verdict("--tcp_ts_tick_usecs=1000\n" TS_SERVER("205"), PKT_RUN_MISMATCH,
                   "t.pkt:11: TS val mismatch: expected 0.100000 > . 1:1(0) ack 11 "
                   "<nop,nop,TS val 205 ecr 201>, actual 0.100000 > . 1:1(0) ack 11 win ");
    expect_verdict("--tcp_ts_tick_usecs=1000\n" TS_SERVER("205"), PKT_RUN_MISMATCH,
                   " <nop,nop,TS val 200 ecr 201> (off by 5 ticks of 1000 us, tolerance 4000 us)");
    /* below as above: the difference is signed */
    expect_verdict("--tcp_ts_tick_usecs=1000\n" TS_SERVER("195"), PKT_RUN_MISMATCH,
                   "(off by 5 ticks of 1000 us, tolerance 4000 us)");
    /* a coarser tick makes fewer ticks too many: 2 ticks of 2500 us */
    expect_verdict("--tcp_ts_tick_usecs=2500\n" TS_SERVER("202"), PKT_RUN_MISMATCH,
                   "(off by 2 ticks of 2500 us, tolerance 4000 us)");
}

static void ts_val_within_the_tolerance_passes(void **state)
{
    (void)state;
    expect_verdict("--tcp_ts_tick_usecs=1000\n" TS_SERVER("200"), PKT_RUN_PASS, NULL);
    expect_verdict("--tcp_ts_tick_usecs=1000\n" TS_SERVER("204"), PKT_RUN_PASS, NULL);
    expect_verdict("--tcp_ts_tick_usecs=1000\n" TS_SERVER("196"), PKT_RUN_PASS, NULL);
    /* --tolerance_usecs widens it: 9 ticks of 1000 us within 10000 us */
    expect_verdict("--tcp_ts_tick_usecs=1000\n--tolerance_usecs=10000\n" TS_SERVER("209"),
                   PKT_RUN_PASS, NULL);
}

static void ts_val_is_not_compared_without_the_tick(void **state)
{
    (void)state;
    /* packetdrill's default (tcp_ts_tick_usecs 0): mapped, never compared */
    expect_verdict("--tolerance_usecs=4000\n" TS_SERVER("900"), PKT_RUN_PASS, NULL);
    expect_verdict("--tcp_ts_tick_usecs=0\n" TS_SERVER("900"), PKT_RUN_PASS, NULL);
}

static void ts_tick_without_timestamps_is_harmless(void **state)
{
    (void)state;
    /* no TS option on either side: nothing to compare */
    expect_verdict("--tcp_ts_tick_usecs=1000\n" SERVER "+0 < P. 1:11(10) ack 1 win 257\n"
                   "+0 > . 1:1(0) ack 11\n",
                   PKT_RUN_PASS, NULL);
    expect_verdict("--tcp_ts_tick_usecs=4294967296\n" SERVER, PKT_RUN_NOT_RUN,
                   "t.pkt:1: --tcp_ts_tick_usecs: expected 0 to 1000000, got '4294967296'");
}

static void mss_out_of_range_is_refused(void **state)
{
    (void)state;
    expect_verdict("--mss=0\n" SERVER, PKT_RUN_NOT_RUN,
                   "t.pkt:1: --mss: expected 1 to 65535, got '0'");
    expect_verdict("--mss=65536\n" SERVER, PKT_RUN_NOT_RUN,
                   "t.pkt:1: --mss: expected 1 to 65535, got '65536'");
    expect_verdict("--mss=ten\n" SERVER, PKT_RUN_NOT_RUN,
                   "t.pkt:1: expected a number after --mss=");
}

static void mss_makes_longer_segments_gso_packets(void **state)
{
    (void)state;
    /* up to --mss bytes: a plain segment (virtio_net_hdr_to_skb) */
    expect_verdict("--mss=10\n" SERVER "+0 < P. 1:11(10) ack 1 win 257\n"
                   "+0 > . 1:1(0) ack 11\n",
                   PKT_RUN_PASS, NULL);
    /* more: a GSO packet a kernel counts as segments of --mss bytes */
    expect_verdict("--mss=10\n" SERVER "+0 < P. 1:12(11) ack 1 win 257\n"
                   "+0 > . 1:1(0) ack 12\n",
                   PKT_RUN_NOT_RUN,
                   "unsupported: an inbound segment of 11 bytes under --mss=10 (a GSO packet of 2 "
                   "segments) at t.pkt:10");
}

/* packetdrill reads an option's number in decimal (config.c: atoi,
 * atol): a leading zero is not octal. --mss=010 is a gso_size of 10, under
 * which 10 bytes are a plain segment; --tcp_ts_tick_usecs=01000 is a tick
 * of 1000 us, under which 5 ticks pass the default 4000 us;
 * --tolerance_usecs=09000 is 9000 us. */
static void option_numbers_are_decimal(void **state)
{
    (void)state;
    expect_verdict("--mss=010\n" SERVER "+0 < P. 1:11(10) ack 1 win 257\n"
                   "+0 > . 1:1(0) ack 11\n",
                   PKT_RUN_PASS, NULL);
    expect_verdict("--tcp_ts_tick_usecs=01000\n" TS_SERVER("205"), PKT_RUN_MISMATCH,
                   "(off by 5 ticks of 1000 us, tolerance 4000 us)");
    expect_verdict("--tcp_ts_tick_usecs=1000\n--tolerance_usecs=09000\n" TS_SERVER("209"),
                   PKT_RUN_PASS, NULL);
}

/* packetdrill refuses a tick above one second (config.c: "bad
 * --tcp_ts_tick_usecs" past 1000000). A tolerance whose nanoseconds do
 * not fit 64 bits is refused rather than wrapped: 18446744073709552 us
 * would be 384 ns, under which a TS val one tick off would fail. */
static void ts_tick_and_tolerance_out_of_range_are_refused(void **state)
{
    (void)state;
    expect_verdict("--tcp_ts_tick_usecs=1000001\n" SERVER, PKT_RUN_NOT_RUN,
                   "t.pkt:1: --tcp_ts_tick_usecs: expected 0 to 1000000, got '1000001'");
    expect_verdict("--tcp_ts_tick_usecs=1000000\n" SERVER, PKT_RUN_PASS, NULL);
    expect_verdict(
        "--tcp_ts_tick_usecs=1000\n--tolerance_usecs=18446744073709552\n" TS_SERVER("201"),
        PKT_RUN_NOT_RUN,
        "t.pkt:2: --tolerance_usecs: expected 0 to 18446744073709551, got "
        "'18446744073709552'");
    expect_verdict("--tolerance_usecs=99999999999999999999999\n" SERVER, PKT_RUN_NOT_RUN,
                   "t.pkt:1: --tolerance_usecs: expected 0 to 18446744073709551");
}

/* An inbound TS ecr is mapped to the live TS val of the outbound segment
 * the script wrote that val on (packetdrill's set_outbound_ts_val_mapping:
 * a hash map, one entry per script val, set again by each segment). The
 * runner keeps the 64 script vals set last: after 70 segments with vals
 * 1000 to 1069, each acknowledged, an ACK echoing 1063 still maps. Then
 * 70 segments all written with val 2000 take one entry, not 64: an ACK
 * echoing 1069 (set before them) still maps. Nagle off: each write is one
 * segment. */
static void ts_ecr_maps_the_last_vals_the_script_wrote(void **state)
{
    (void)state;
    static char text[32768];
    size_t n = (size_t)snprintf(text, sizeof text, "%s",
                                "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                                "+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0\n"
                                "+0 bind(3, ..., ...) = 0\n"
                                "+0 listen(3, 1) = 0\n"
                                "+0 < S 0:0(0) win 20000 <mss 1000,sackOK,TS val 100 ecr 0>\n"
                                "+0 > S. 0:0(0) ack 1 <mss 1460,sackOK,TS val 100 ecr 100>\n"
                                "+.1 < . 1:1(0) ack 1 win 20000 <nop,nop,TS val 200 ecr 100>\n"
                                "+0 accept(3, ..., ...) = 4\n"
                                "+0 setsockopt(4, SOL_TCP, TCP_NODELAY, [1], 4) = 0\n");
    for (unsigned i = 0; i < 140; i++) {
        unsigned val = i < 70 ? 1000 + i : 2000;
        n += (size_t)snprintf(text + n, sizeof text - n,
                              "+0 write(4, ..., 10) = 10\n"
                              "+0 > P. %u:%u(10) ack 1 <nop,nop,TS val %u ecr 200>\n"
                              "+0 < . 1:1(0) ack %u win 20000 <nop,nop,TS val 201 ecr %u>\n",
                              1 + 10 * i, 11 + 10 * i, val, 11 + 10 * i, val);
        if (i == 69)
            n +=
                (size_t)snprintf(text + n, sizeof text - n, "%s",
                                 "+0 < . 1:1(0) ack 701 win 20000 <nop,nop,TS val 201 ecr 1063>\n");
    }
    n += (size_t)snprintf(text + n, sizeof text - n, "%s",
                          "+0 < . 1:1(0) ack 1401 win 20000 <nop,nop,TS val 201 ecr 1069>\n");
    assert_true(n < sizeof text);
    expect_verdict(text, PKT_RUN_PASS, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(data_is_acked_at_once),
        cmocka_unit_test(wrong_ack_is_a_mismatch_with_both_segments),
        cmocka_unit_test(wrong_flags_are_a_mismatch),
        cmocka_unit_test(late_expectation_is_a_time_mismatch),
        cmocka_unit_test(tolerance_option_widens_the_window),
        cmocka_unit_test(missing_segment_is_reported),
        cmocka_unit_test(call_result_is_checked),
        cmocka_unit_test(errno_is_checked),
        cmocka_unit_test(blocking_accept_returns_when_the_handshake_completes),
        cmocka_unit_test(settings_without_a_knob_are_unsupported),
        cmocka_unit_test(rto_sysctls_outside_their_range_are_refused),
        cmocka_unit_test(comp_sack_nr_above_255_is_refused),
        cmocka_unit_test(tolerance_percent_widens_by_the_gap),
        cmocka_unit_test(writes_block_or_take_what_fits),
        cmocka_unit_test(blocked_write_ended_by_reset),
        cmocka_unit_test(write_after_reset_follows_the_profile),
        cmocka_unit_test(calls_after_reset_are_the_stacks),
        cmocka_unit_test(knob_settings_change_the_run),
        cmocka_unit_test(same_script_same_message),
        cmocka_unit_test(ts_val_beyond_the_tolerance_is_a_mismatch),
        cmocka_unit_test(ts_val_within_the_tolerance_passes),
        cmocka_unit_test(ts_val_is_not_compared_without_the_tick),
        cmocka_unit_test(ts_tick_without_timestamps_is_harmless),
        cmocka_unit_test(mss_out_of_range_is_refused),
        cmocka_unit_test(mss_makes_longer_segments_gso_packets),
        cmocka_unit_test(option_numbers_are_decimal),
        cmocka_unit_test(ts_tick_and_tolerance_out_of_range_are_refused),
        cmocka_unit_test(ts_ecr_maps_the_last_vals_the_script_wrote),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
