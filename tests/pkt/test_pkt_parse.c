/*
 * test_pkt_parse — the contract of pkt.h for whole scripts: every construct
 * of the TCP/IPv4 subset parses into the fields it names, every malformed
 * line fails with FILE:LINE and what was expected, every construct outside
 * the subset is "unsupported: <what> at FILE:LINE".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "pkt.h"
#include "tcp_wire.h"

static char MSG[PKT_MSG_MAX];

/* Parses text as "t.pkt", expecting success. */
static pkt_script *ok(const char *text)
{
    pkt_status st;
    pkt_script *s = pkt_parse("t.pkt", text, strlen(text), &st, MSG, sizeof MSG);
    if (!s)
        fail_msg("rejected: %s", MSG);
    assert_int_equal(st, PKT_OK);
    return s;
}

/* Parses text expecting `want`; returns the message. */
static const char *bad(const char *text, pkt_status want)
{
    pkt_status st = PKT_OK;
    pkt_script *s = pkt_parse("t.pkt", text, strlen(text), &st, MSG, sizeof MSG);
    if (s) {
        pkt_script_free(s);
        fail_msg("accepted: %s", text);
    }
    assert_int_equal(st, want);
    assert_null(strchr(MSG, '\n'));
    return MSG;
}

static const pkt_event *ev(const pkt_script *s, size_t i)
{
    const pkt_event *e = pkt_script_event(s, i);
    assert_non_null(e);
    return e;
}

/* ---- Times ---------------------------------------------------------------- */

static void times_absolute_relative_any_and_ranges(void **state)
{
    (void)state;
    pkt_script *s = ok("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                       "+.1 close(3) = 0\n"
                       "1.25 close(3) = -1 EBADF (Bad file descriptor)\n"
                       "* > R 0:0(0)\n"
                       "2~2.5 > . 1:1(0) ack 1\n"
                       "+0.1~+0.3 > . 1:1(0) ack 1\n"
                       "+0.000000001 close(3) = 0\n");
    assert_int_equal(pkt_script_events(s), 7);
    assert_int_equal(ev(s, 0)->time.kind, PKT_TIME_ABS);
    assert_int_equal(ev(s, 0)->time.start_ns, 0);
    assert_int_equal(ev(s, 1)->time.kind, PKT_TIME_REL);
    assert_int_equal(ev(s, 1)->time.start_ns, 100000000);
    assert_int_equal(ev(s, 2)->time.start_ns, 1250000000);
    assert_int_equal(ev(s, 3)->time.kind, PKT_TIME_ANY);
    assert_int_equal(ev(s, 4)->time.kind, PKT_TIME_ABS_RANGE);
    assert_int_equal(ev(s, 4)->time.start_ns, 2000000000);
    assert_int_equal(ev(s, 4)->time.end_ns, 2500000000);
    assert_int_equal(ev(s, 5)->time.kind, PKT_TIME_REL_RANGE);
    assert_int_equal(ev(s, 5)->time.end_ns, 300000000);
    assert_int_equal(ev(s, 6)->time.start_ns, 1);
    assert_int_equal(ev(s, 6)->line, 7);
    pkt_script_free(s);
}

static void blocking_call_end_times(void **state)
{
    (void)state;
    pkt_script *s = ok("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                       "+.1...0.200 connect(3, ..., ...) = 0\n"
                       "0.3...1.5 accept(3, ..., ...) = 4\n");
    const pkt_call *c = &ev(s, 1)->u.call;
    assert_true(c->blocking);
    assert_int_equal(c->end.kind, PKT_TIME_REL);
    assert_int_equal(c->end.start_ns, 200000000);
    c = &ev(s, 2)->u.call;
    assert_int_equal(c->end.kind, PKT_TIME_ABS);
    assert_int_equal(c->end.start_ns, 1500000000);
    assert_false(ev(s, 0)->u.call.blocking);
    pkt_script_free(s);
}

static void time_errors(void **state)
{
    (void)state;
    assert_string_equal(bad("-1 close(3) = 0\n", PKT_ERROR), "t.pkt:1: negative time -1");
    assert_string_equal(bad("0 close(3) = 0\n2~1 > R 0:0(0)\n", PKT_ERROR),
                        "t.pkt:2: time range is backwards");
    assert_string_equal(bad("1~+2 > R 0:0(0)\n", PKT_ERROR),
                        "t.pkt:1: time range mixes relative and absolute times");
    assert_string_equal(bad("\n* < R 0:0(0) win 0\n", PKT_ERROR),
                        "t.pkt:2: event time '*' can only be used with outbound segments");
    assert_string_equal(bad("0~1 close(3) = 0\n", PKT_ERROR),
                        "t.pkt:1: a time range can only be used with outbound segments");
    assert_string_equal(bad("0.1234567891 close(3) = 0\n", PKT_ERROR),
                        "t.pkt:1: time 0.1234567891 finer than 1 ns");
    assert_string_equal(bad("close(3) = 0\n", PKT_ERROR),
                        "t.pkt:1: expected a time (0.1, +0.1, * or a~b) starting an event, got "
                        "'close'");
    assert_string_equal(bad("+ close(3) = 0\n", PKT_ERROR),
                        "t.pkt:1: expected a time in seconds, got 'close'");
    assert_string_equal(bad("1...0.5 accept(3, ..., ...) = 4\n", PKT_ERROR),
                        "t.pkt:1: blocking call ends before it starts");
    assert_string_equal(bad("1... accept(3, ..., ...) = 4\n", PKT_ERROR),
                        "t.pkt:1: expected the end time of a blocking call after '...', got "
                        "'accept'");
}

/* ---- Segments -------------------------------------------------------------- */

static void segment_fields(void **state)
{
    (void)state;
    pkt_script *s = ok("0 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>\n"
                       "+0 > S. 0:0(0) ack 1 <...>\n"
                       "+0 < P. 1:1001(1000) ack 1 win 257\n"
                       "+0 > F. 1:1(0) ack 1001 win 65535\n"
                       "+0 < R 1001:1001(0) win 0\n"
                       "+0 < FP. 1001:1011(10) ack 2 win 100 urg 3\n"
                       "+0 < 8080 > 80 - 5:5(0) win 1\n"
                       "+0 < R. 4294967295:4294967295(0) ack 4294967295 win 65535\n"
                       "+0 < . 1:65496(65495) ack 1 win 257\n");
    const pkt_seg *g = &ev(s, 0)->u.seg;
    assert_false(g->outbound);
    assert_int_equal(g->flags, TCP_SYN);
    assert_true(g->has_win);
    assert_int_equal(g->win, 32792);
    assert_true(g->has_opts);
    assert_int_equal(g->opts.len, 12);
    g = &ev(s, 1)->u.seg;
    assert_true(g->outbound);
    assert_int_equal(g->flags, TCP_SYN | TCP_ACK);
    assert_int_equal(g->ack, 1);
    assert_false(g->has_win);
    assert_true(g->opts.any);
    g = &ev(s, 2)->u.seg;
    assert_int_equal(g->flags, TCP_PSH | TCP_ACK);
    assert_int_equal(g->seq, 1);
    assert_int_equal(g->len, 1000);
    assert_false(g->has_opts);
    assert_int_equal(ev(s, 3)->u.seg.flags, TCP_FIN | TCP_ACK);
    assert_int_equal(ev(s, 4)->u.seg.flags, TCP_RST);
    g = &ev(s, 5)->u.seg;
    assert_int_equal(g->flags, TCP_FIN | TCP_PSH | TCP_ACK);
    assert_int_equal(g->urg, 3);
    g = &ev(s, 6)->u.seg;
    assert_int_equal(g->flags, 0);
    assert_int_equal(g->src_port, 8080);
    assert_int_equal(g->dst_port, 80);
    assert_int_equal(ev(s, 7)->u.seg.ack, 4294967295u);
    assert_int_equal(ev(s, 8)->u.seg.len, 65495);
    pkt_script_free(s);
}

static void segment_errors(void **state)
{
    (void)state;
    assert_string_equal(bad("0 < S 0:0(0)\n", PKT_ERROR),
                        "t.pkt:1: inbound segment needs 'win N' (the window it advertises)");
    assert_string_equal(bad("0 < S 0:1(0) win 1\n", PKT_ERROR),
                        "t.pkt:1: inconsistent sequence range 0:1(0): end must be start + length");
    assert_string_equal(bad("0 < . 1:65497(65496) win 1\n", PKT_ERROR),
                        "t.pkt:1: payload length 65496 out of range (0..65495)");
    assert_string_equal(bad("0 < . 1:65492(65491) win 1 <mss 1460,nop,nop,nop,nop>\n", PKT_ERROR),
                        "t.pkt:1: segment of 65539 bytes with headers does not fit in an IPv4 "
                        "datagram (65535)");
    assert_string_equal(bad("0 < SX 0:0(0) win 1\n", PKT_ERROR),
                        "t.pkt:1: expected TCP flags (F S R P U and '.'), got 'X' in 'SX'");
    assert_string_equal(bad("0 < 0:0(0) win 1\n", PKT_ERROR),
                        "t.pkt:1: expected TCP flags (S, S., ., F., P., R, R. ...), got '0'");
    assert_string_equal(bad("0 > S 0:0 win 1\n", PKT_ERROR),
                        "t.pkt:1: expected '(' and the length in start:end(length), got 'win'");
    assert_string_equal(bad("0 > S 0:0(0 win 1\n", PKT_ERROR),
                        "t.pkt:1: expected ')' after the length, got 'win'");
    assert_string_equal(bad("0 > S 0 win 1\n", PKT_ERROR),
                        "t.pkt:1: expected ':' in start:end(length), got 'win'");
    assert_string_equal(bad("0 > S win 1\n", PKT_ERROR),
                        "t.pkt:1: expected a sequence range start:end(length), got 'win'");
    assert_string_equal(bad("0 < S 0:0(0) win 65536\n", PKT_ERROR),
                        "t.pkt:1: window 65536 out of range (0..65535)");
    assert_string_equal(bad("0 < S 4294967296:4294967296(0) win 1\n", PKT_ERROR),
                        "t.pkt:1: start sequence number 4294967296 out of range (0..4294967295)");
    assert_string_equal(bad("0 > . 1:1(0) ack x\n", PKT_ERROR),
                        "t.pkt:1: expected ack number (a number), got 'x'");
    assert_string_equal(bad("0 < S 0:0(0) win 1 <...>\n", PKT_ERROR),
                        "t.pkt:1: <...> for TCP options can only be used with outbound segments");
    assert_string_equal(bad("0 > S 0:0(0) <mss 1460,wscale 7>\n", PKT_ERROR),
                        "t.pkt:1: TCP options take 7 bytes, not a multiple of 4 (pad with nop)");
    assert_string_equal(bad("\n0 > S 0:0(0)\n <mss 1460 wscale 7>\n", PKT_ERROR),
                        "t.pkt:3: expected ',' or '>' in the TCP options, got 'wscale'");
    assert_string_equal(bad("0 > S 0:0(0) <mss 65536>\n", PKT_ERROR),
                        "t.pkt:1: mss 65536 out of range (0..65535)");
    assert_string_equal(bad("0 > S 0:0(0) <foo>\n", PKT_ERROR),
                        "t.pkt:1: expected a TCP option (nop, eol, mss N, wscale N, sackOK, sack "
                        "L:R, TS val N ecr N), got 'foo'");
    assert_string_equal(bad("0 > . 1:1(0) <TS val 1 ecr 2,TS val 1 ecr 2,TS val 1 ecr 2,TS val "
                            "1 ecr 2,nop,nop>\n",
                            PKT_ERROR),
                        "t.pkt:1: TCP options longer than 40 bytes");
    assert_string_equal(bad("0 > . 1:1(0) <TS val 1 ecr>\n", PKT_ERROR),
                        "t.pkt:1: expected TS ecr (a number), got '>'");
    assert_string_equal(bad("0 > . 1:1(0) <nop,nop,sack 1:2 3>\n", PKT_ERROR),
                        "t.pkt:1: expected ':' in a SACK block (left:right), got '>'");
}

/* ---- System calls ------------------------------------------------------------ */

static const pkt_expr *ex(const pkt_script *s, uint32_t i)
{
    const pkt_expr *e = pkt_script_expr(s, i);
    assert_non_null(e);
    return e;
}

static void call_arguments_results_and_errno(void **state)
{
    (void)state;
    pkt_script *s = ok("0 connect(3, {sa_family=AF_INET, sin_port=htons(8080), "
                       "sin_addr=inet_addr(\"192.0.2.1\")}, 16) = -1 EINPROGRESS (Operation now "
                       "in progress)\n"
                       "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
                       "+0 setsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, linger=5}, 8) = 0\n"
                       "+0 write(3, ..., 1000) = 1000 (all of it)\n"
                       "+0 getsockopt(3, SOL_SOCKET, SO_SNDBUF, [32768], [4]) = 0\n"
                       "+0 ioctl(3, SIOCINQ, [0]) = 0\n"
                       "+0 shutdown(3, SHUT_WR) = 0\n"
                       "+0 read(3, ..., 10) = -1 EAGAIN (Resource temporarily unavailable)\n");
    const pkt_call *c = &ev(s, 0)->u.call;
    assert_string_equal(c->name, "connect");
    assert_string_equal(c->errno_name, "EINPROGRESS");
    assert_int_equal(c->errno_value, 115);
    assert_int_equal(ex(s, c->result)->num, -1);
    const pkt_expr *a = ex(s, c->args);
    assert_int_equal(a->kind, PKT_EXPR_INT);
    assert_int_equal(a->num, 3);
    const pkt_expr *st = ex(s, a->next);
    assert_int_equal(st->kind, PKT_EXPR_STRUCT);
    const pkt_expr *f = ex(s, st->child);
    assert_int_equal(f->kind, PKT_EXPR_FIELD);
    assert_string_equal(f->text, "sa_family");
    assert_int_equal(ex(s, f->child)->num, 2);
    f = ex(s, f->next);
    assert_string_equal(f->text, "sin_port");
    assert_int_equal(ex(s, f->child)->kind, PKT_EXPR_CALL);
    assert_string_equal(ex(s, f->child)->text, "htons");
    assert_int_equal(ex(s, ex(s, f->child)->child)->num, 8080);
    f = ex(s, f->next);
    assert_string_equal(ex(s, ex(s, f->child)->child)->text, "192.0.2.1");
    assert_int_equal(ex(s, st->next)->num, 16);
    assert_int_equal(ex(s, st->next)->next, PKT_NONE);

    c = &ev(s, 1)->u.call;
    const pkt_expr *o = ex(s, ex(s, ex(s, c->args)->next)->next);
    assert_int_equal(o->kind, PKT_EXPR_OR);
    assert_int_equal(ex(s, o->child)->num, 2);
    assert_int_equal(ex(s, ex(s, o->child)->next)->num, 04000);
    assert_null(c->errno_name);
    assert_int_equal(ex(s, ev(s, 3)->u.call.result)->num, 1000);
    assert_int_equal(ex(s, ex(s, ev(s, 3)->u.call.args)->next)->kind, PKT_EXPR_ELLIPSIS);
    a = ex(s, ex(s, ex(s, ex(s, ev(s, 4)->u.call.args)->next)->next)->next);
    assert_int_equal(a->kind, PKT_EXPR_LIST);
    assert_int_equal(ex(s, a->child)->num, 32768);
    assert_int_equal(ex(s, ex(s, ev(s, 5)->u.call.args)->next)->num, 0x541B);
    assert_int_equal(ex(s, ex(s, ev(s, 6)->u.call.args)->next)->num, 1);
    assert_string_equal(ev(s, 7)->u.call.errno_name, "EAGAIN");
    assert_int_equal(ev(s, 7)->u.call.errno_value, 11);
    pkt_script_free(s);
}

static void call_errors(void **state)
{
    (void)state;
    assert_string_equal(bad("0 close(3) = -1 ENOTANERRNO (x)\n", PKT_ERROR),
                        "t.pkt:1: expected an errno name (EAGAIN, EINPROGRESS, ECONNRESET, ...), "
                        "got 'ENOTANERRNO'");
    assert_string_equal(bad("0 close(3) = -1 EBADF\n", PKT_ERROR),
                        "t.pkt:1: expected '(' and the error's text after the errno name, got "
                        "end of file");
    assert_string_equal(bad("0 close(3)\n", PKT_ERROR),
                        "t.pkt:1: expected '=' and the expected result, got end of file");
    assert_string_equal(bad("0 close 3 = 0\n", PKT_ERROR),
                        "t.pkt:1: expected '(' and the arguments of the call, got '3'");
    assert_string_equal(bad("0 close(3 4) = 0\n", PKT_ERROR),
                        "t.pkt:1: expected ',' or ')', got '4'");
    assert_string_equal(bad("0 write(3, ..., 10 = 0\n", PKT_ERROR),
                        "t.pkt:1: expected ',' or ')', got '='");
    assert_string_equal(bad("0 close(3) = 0 (never closed\n", PKT_ERROR),
                        "t.pkt:1: expected ')' closing the note, got end of file");
    assert_string_equal(bad("0 close(3) = )\n", PKT_ERROR),
                        "t.pkt:1: expected an argument (number, symbol, \"string\", [...], {...} "
                        "or ...), got ')'");
}

/* ---- Shell lines and options -------------------------------------------------------- */

static void defaults_line_expands_to_named_defaults(void **state)
{
    (void)state;
    size_t n;
    const pkt_default *d = pkt_defaults(&n);
    pkt_script *s = ok("`../common/defaults.sh`\n0 close(3) = 0\n");
    const pkt_cmd *c = &ev(s, 0)->u.cmd;
    assert_int_equal(ev(s, 0)->time.kind, PKT_TIME_NONE);
    assert_string_equal(c->text, "../common/defaults.sh");
    assert_int_equal(c->count, n);
    for (uint32_t i = 0; i < c->count; i++) {
        const pkt_setting *set = pkt_script_setting(s, c->first + i);
        assert_true(set->from_defaults);
        assert_string_equal(set->name, d[i].name);
        assert_string_equal(set->value, d[i].value);
    }
    pkt_script_free(s);
    /* The values of packetdrill's gtests/net/common/defaults.sh. */
    assert_string_equal(d[1].name, "tcp_rmem");
    assert_string_equal(d[1].value, "4096 540000 15728640");
    assert_string_equal(d[2].value, "4096 262144 4194304");
    assert_string_equal(d[4].name, "tcp_syn_retries");
    assert_string_equal(d[4].value, "5");
    assert_string_equal(d[4].knob, "syn_retries");
    assert_null(d[11].knob); /* tcp_congestion_control */
    s = ok("0 `./defaults.sh`\n");
    assert_int_equal(ev(s, 0)->time.kind, PKT_TIME_ABS);
    assert_int_equal(ev(s, 0)->u.cmd.count, n);
    pkt_script_free(s);
}

static void sysctl_lines_become_settings(void **state)
{
    (void)state;
    pkt_script *s =
        ok("`../common/defaults.sh\n"
           "sysctl -q net.ipv4.tcp_syn_retries=2 net.ipv4.tcp_rmem=\"4096 87380 6291456\"; "
           "sysctl -q net.ipv4.tcp_keepalive_time=10 > /dev/null 2>&1`\n"
           "0 `sysctl -q net.ipv4.tcp_fin_timeout=5`\n");
    size_t n;
    pkt_defaults(&n);
    const pkt_cmd *c = &ev(s, 0)->u.cmd;
    assert_int_equal(c->count, n + 3);
    const pkt_setting *set = pkt_script_setting(s, c->first + (uint32_t)n);
    assert_false(set->from_defaults);
    assert_string_equal(set->name, "tcp_syn_retries");
    assert_string_equal(set->value, "2");
    set = pkt_script_setting(s, c->first + (uint32_t)n + 1);
    assert_string_equal(set->name, "tcp_rmem");
    assert_string_equal(set->value, "4096 87380 6291456");
    set = pkt_script_setting(s, c->first + (uint32_t)n + 2);
    assert_string_equal(set->name, "tcp_keepalive_time");
    assert_string_equal(set->value, "10");
    set = pkt_script_setting(s, ev(s, 1)->u.cmd.first);
    assert_string_equal(set->name, "tcp_fin_timeout");
    assert_string_equal(pkt_sysctl_knob("tcp_fin_timeout"), "fin_wait_2_timeout_ns");
    assert_string_equal(pkt_sysctl_knob("tcp_retries2"), "data_retries");
    assert_null(pkt_sysctl_knob("tcp_frto"));
    pkt_script_free(s);
}

static void shell_errors(void **state)
{
    (void)state;
    assert_string_equal(
        bad("0 close(3) = 0\n`sysctl -q net.ipv4.tcp_sack=0`\n0 close(3) = 0\n", PKT_ERROR),
        "t.pkt:2: a shell command without a time may only open or close the "
        "script");
    assert_string_equal(bad("`sysctl -q`\n", PKT_ERROR), "t.pkt:1: expected name=value after "
                                                         "sysctl");
    assert_string_equal(bad("`sysctl -q net.ipv4.tcp_sack`\n", PKT_ERROR),
                        "t.pkt:1: expected name=value after sysctl, got 'net.ipv4.tcp_sack'");
    assert_string_equal(bad("`\nsysctl -q net.ipv4.tcp_rmem=\"1 2 3`\n", PKT_ERROR),
                        "t.pkt:2: unterminated quote in shell command");
    assert_string_equal(bad("0 `sysctl -q x=1\n", PKT_ERROR),
                        "t.pkt:1: unterminated shell command: expected '`'");
}

static void options_at_the_top(void **state)
{
    (void)state;
    pkt_script *s = ok("--tolerance_usecs=10000\n--ip_version=ipv4\n--local_ip=192.168.0.1\n"
                       "0 close(3) = 0\n");
    assert_int_equal(pkt_script_options(s), 3);
    assert_string_equal(pkt_script_option(s, 0)->name, "tolerance_usecs");
    assert_string_equal(pkt_script_option(s, 0)->value, "10000");
    assert_int_equal(pkt_script_option(s, 2)->line, 3);
    pkt_script_free(s);
    assert_string_equal(bad("--tolerance_usecs=ten\n", PKT_ERROR),
                        "t.pkt:1: expected a number after --tolerance_usecs=");
    assert_string_equal(bad("--remote_ip=300.1.1.1\n", PKT_ERROR),
                        "t.pkt:1: expected an IPv4 address after --remote_ip=");
    s = ok("--tcp_ts_tick_usecs=1000\n--mss=1000\n0 close(3) = 0\n");
    assert_int_equal(pkt_script_options(s), 2);
    assert_string_equal(pkt_script_option(s, 1)->name, "mss");
    assert_string_equal(pkt_script_option(s, 1)->value, "1000");
    pkt_script_free(s);
    assert_string_equal(bad("--mss=1k\n", PKT_ERROR), "t.pkt:1: expected a number after --mss=");
    assert_string_equal(bad("0 close(3) = 0\n--mtu=1500\n", PKT_ERROR),
                        "t.pkt:2: option --mtu must come before the first event");
}

static void lexical_errors(void **state)
{
    (void)state;
    assert_string_equal(bad("/* never closed\n0 close(3) = 0\n", PKT_ERROR),
                        "t.pkt:1: unterminated comment: expected '*/'");
    assert_string_equal(bad("0 connect(3, \"oops) = 0\n", PKT_ERROR),
                        "t.pkt:1: unterminated string: expected '\"'");
    assert_string_equal(bad("0 close(3) = 99999999999999999999\n", PKT_ERROR),
                        "t.pkt:1: number 99999999999999999999 out of range");
    assert_string_equal(bad("0 ; close(3) = 0\n", PKT_ERROR),
                        "t.pkt:1: expected a segment ('<' or '>'), a system call or a `shell "
                        "command`, got ';'");
}

/* ---- Unsupported --------------------------------------------------------------------- */

static void unsupported_constructs_are_named(void **state)
{
    (void)state;
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"0 %{ print(1) }%\n", "unsupported: python block (%{ }%) at t.pkt:1"},
        {"\n%{ x = 1 }%\n", "unsupported: python block (%{ }%) at t.pkt:2"},
        {"0 `tc qdisc add dev tun0 root fq`\n", "unsupported: shell command 'tc' at t.pkt:1"},
        {"`\n\nip link set tun0 mtu 1000`\n", "unsupported: shell command 'ip' at t.pkt:3"},
        {"`sysctl -q net.core.rmem_max=1`\n",
         "unsupported: sysctl net.core.rmem_max (only net.ipv4.tcp_* are read) at t.pkt:1"},
        {"`sysctl -q net.ipv4.tcp_ecn=1`\n", "unsupported: ECN (net.ipv4.tcp_ecn=1) at t.pkt:1"},
        {"`sysctl -q net.ipv4.tcp_rmem=\"4096 $((1<<20)) 1\"`\n",
         "unsupported: shell expansion ($ or `) in 'sysctl' at t.pkt:1"},
        {"`../common/defaults.sh extra`\n", "unsupported: arguments to defaults.sh at t.pkt:1"},
        {"--ip_version=ipv6\n", "unsupported: IPv6 (--ip_version=ipv6) at t.pkt:1"},
        {"--local_ip=fd3d::1\n", "unsupported: IPv6 addresses at t.pkt:1"},
        {"--speed=100\n", "unsupported: option --speed at t.pkt:1"},
        {"0 socket(..., SOCK_DGRAM, IPPROTO_UDP) = 3\n",
         "unsupported: UDP (SOCK_DGRAM) at t.pkt:1"},
        {"0 socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP) = 3\n",
         "unsupported: IPv6 (AF_INET6) at t.pkt:1"},
        {"0 setsockopt(3, SOL_TCP, TCP_FASTOPEN, [1], 4) = 0\n",
         "unsupported: Fast Open (TCP_FASTOPEN) at t.pkt:1"},
        {"0 sendto(3, ..., 1000, MSG_FASTOPEN, ..., ...) = 1000\n",
         "unsupported: Fast Open (MSG_FASTOPEN) at t.pkt:1"},
        {"0 setsockopt(3, SOL_TCP, TCP_MD5SIG, [1], 4) = 0\n",
         "unsupported: MD5 signatures (TCP_MD5SIG) at t.pkt:1"},
        {"0 setsockopt(3, SOL_SOCKET, SO_FROBNICATE, [1], 4) = 0\n",
         "unsupported: symbol SO_FROBNICATE at t.pkt:1"},
        {"0 epoll_create(1) = 4\n", "unsupported: system call epoll_create at t.pkt:1"},
        {"0 connect(3, inet6_addr(\"::1\"), 28) = 0\n",
         "unsupported: IPv6 (inet6_addr) at t.pkt:1"},
        {"0 write(3, \"abc\"..., 3) = 3\n",
         "unsupported: string prefix match (\"text\"...) at t.pkt:1"},
        {"0 < udp (100)\n", "unsupported: UDP at t.pkt:1"},
        {"0 > icmp unreachable port_unreachable\n", "unsupported: ICMP at t.pkt:1"},
        {"0 < ipv6 ::1 > ::2: S 0:0(0) win 1\n", "unsupported: IPv6 at t.pkt:1"},
        {"0 < ipv4 1.2.3.4 > 5.6.7.8: S 0:0(0) win 1\n",
         "unsupported: explicit IPv4 headers (ipv4 A > B:) at t.pkt:1"},
        {"0 < [ect0] S 0:0(0) win 1\n", "unsupported: ECN marks on segments at t.pkt:1"},
        {"0 < (tos 0x1) S 0:0(0) win 1\n",
         "unsupported: IP header fields (tos, ttl, flowlabel) at t.pkt:1"},
        {"0 < SEW 0:0(0) win 1\n", "unsupported: ECN flags (E, W, A) at t.pkt:1"},
        {"0 > .5 1:1(0) ack 1\n", "unsupported: AccECN ACE field at t.pkt:1"},
        {"0 < S 0:0(0) win 1 <mss 1460,FO abcd,nop,nop>\n",
         "unsupported: TCP Fast Open option (FO) at t.pkt:1"},
        {"0 < S 0:0(0) win 1 <md5 000102030405060708090a0b0c0d0e0f>\n",
         "unsupported: TCP MD5 signature option (md5) at t.pkt:1"},
        {"0 < S 0:0(0) win 1 <mp_capable 1>\n", "unsupported: MPTCP option at t.pkt:1"},
        {"0 < S 0:0(0) win 1 {mut tcp mss}\n",
         "unsupported: fuzzing ({...}) of segments at t.pkt:1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *m = bad(cases[i].text, PKT_UNSUPPORTED);
        if (strcmp(m, cases[i].msg))
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, m, cases[i].msg);
    }
}

static void file_reading(void **state)
{
    (void)state;
    pkt_status st;
    assert_null(pkt_parse_file("no/such/file.pkt", &st, MSG, sizeof MSG));
    assert_int_equal(st, PKT_ERROR);
    assert_string_equal(MSG, "no/such/file.pkt: cannot read");
    pkt_script *s = ok("");
    assert_int_equal(pkt_script_events(s), 0);
    assert_null(pkt_script_event(s, 0));
    assert_null(pkt_script_expr(s, 0));
    pkt_script_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(times_absolute_relative_any_and_ranges),
        cmocka_unit_test(blocking_call_end_times),
        cmocka_unit_test(time_errors),
        cmocka_unit_test(segment_fields),
        cmocka_unit_test(segment_errors),
        cmocka_unit_test(call_arguments_results_and_errno),
        cmocka_unit_test(call_errors),
        cmocka_unit_test(defaults_line_expands_to_named_defaults),
        cmocka_unit_test(sysctl_lines_become_settings),
        cmocka_unit_test(shell_errors),
        cmocka_unit_test(options_at_the_top),
        cmocka_unit_test(lexical_errors),
        cmocka_unit_test(unsupported_constructs_are_named),
        cmocka_unit_test(file_reading),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
