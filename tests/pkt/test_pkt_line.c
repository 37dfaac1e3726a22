/*
 * test_pkt_line — one segment on its own (the raw peer's notation):
 * pkt_seg_parse_line takes an optional time and direction, keeps the
 * script grammar's rules and refuses trailing text; pkt_seg_mismatch names
 * the first field that differs, packetdrill's way; pkt_seg_from_dgram reads
 * a datagram back with its options as sent.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "pkt.h"
#include "tcp_wire.h"

static pkt_seg parse_ok(const char *text, bool outbound, pkt_time *t)
{
    pkt_seg seg;
    char msg[PKT_MSG_MAX];
    if (pkt_seg_parse_line(text, outbound, t, &seg, msg, sizeof msg) != PKT_OK)
        fail_msg("\"%s\": %s", text, msg);
    return seg;
}

static void line_with_and_without_time(void **state)
{
    (void)state;
    pkt_time t;
    pkt_seg s = parse_ok("S. 0:0(0) ack 1 win 32000 <mss 1460,nop,wscale 7>", false, &t);
    assert_int_equal(t.kind, PKT_TIME_NONE);
    assert_int_equal(s.flags, TCP_SYN | TCP_ACK);
    assert_int_equal(s.ack, 1);
    assert_int_equal(s.win, 32000);
    assert_int_equal(s.opts.len, 8);
    s = parse_ok("+0.2 > F. 1001:1001(0) ack 1", true, &t);
    assert_int_equal(t.kind, PKT_TIME_REL);
    assert_int_equal(t.start_ns, 200000000);
    assert_true(s.outbound);
    assert_int_equal(s.seq, 1001);
    assert_false(s.has_win);
    s = parse_ok("0.1~0.3 . 1:1(0) ack 5", true, &t);
    assert_int_equal(t.kind, PKT_TIME_ABS_RANGE);
    assert_int_equal(t.end_ns, 300000000);
    parse_ok("* R 1:1(0)", true, &t);
    assert_int_equal(t.kind, PKT_TIME_ANY);
}

static void line_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool outbound;
        pkt_status st;
        const char *msg;
    } cases[] = {
        {"S 0:0(0)", false, PKT_ERROR, "inbound segment needs 'win N'"},
        {"> S 0:0(0) win 1", false, PKT_ERROR, "expected a segment to send ('<'), got '>'"},
        {"< S. 0:0(0) ack 1", true, PKT_ERROR, "expected a segment the stack sends ('>')"},
        {"* S 0:0(0) win 1", false, PKT_ERROR, "'*' can only be used with outbound"},
        {"S 0:0(0) win 1 extra", false, PKT_ERROR, "expected the end of the segment"},
        {"S 0:3(2) win 1", false, PKT_ERROR, "end must be start + length"},
        {"SE 0:0(0) win 1", false, PKT_UNSUPPORTED, "unsupported: ECN flags"},
        {"", true, PKT_ERROR, "expected"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pkt_time t;
        pkt_seg s;
        char msg[PKT_MSG_MAX] = "";
        pkt_status st =
            pkt_seg_parse_line(cases[i].text, cases[i].outbound, &t, &s, msg, sizeof msg);
        if (st != cases[i].st || !strstr(msg, cases[i].msg))
            fail_msg("\"%s\": status %d, message \"%s\"; expected %d and \"%s\"", cases[i].text,
                     (int)st, msg, (int)cases[i].st, cases[i].msg);
    }
}

static void mismatch_names_the_field(void **state)
{
    (void)state;
    pkt_time t;
    pkt_seg want = parse_ok("F. 1001:1001(0) ack 1", true, &t);
    pkt_seg got = parse_ok("F. 1001:1001(0) ack 1 win 500", true, &t);
    assert_null(pkt_seg_mismatch(&want, &got)); /* win not written: not checked */
    got = parse_ok("F. 1001:1001(0) ack 2", true, &t);
    assert_string_equal(pkt_seg_mismatch(&want, &got), "ack");
    got = parse_ok("FP. 1001:1001(0) ack 1", true, &t);
    assert_string_equal(pkt_seg_mismatch(&want, &got), "flags");
    got = parse_ok("F. 1:1(0) ack 1", true, &t);
    assert_string_equal(pkt_seg_mismatch(&want, &got), "seq");
    want = parse_ok("S. 0:0(0) ack 1 <mss 1460,nop,wscale 7>", true, &t);
    got = parse_ok("S. 0:0(0) ack 1 <mss 1460,nop,wscale 8>", true, &t);
    assert_string_equal(pkt_seg_mismatch(&want, &got), "options");
    want = parse_ok("S. 0:0(0) ack 1 <...>", true, &t);
    assert_null(pkt_seg_mismatch(&want, &got));
    want = parse_ok(". 1:1(0) ack 1 <nop,nop,TS val 1 ecr 2>", true, &t);
    got = parse_ok(". 1:1(0) ack 1 <nop,nop,TS val 7 ecr 9>", true, &t);
    assert_null(pkt_seg_mismatch(&want, &got)); /* timestamps: place only */
}

static void datagram_read_back(void **state)
{
    (void)state;
    tcp_seg s = {.src_addr = 0x0a000001,
                 .dst_addr = 0x0a000002,
                 .src_port = 8080,
                 .dst_port = 40000,
                 .seq = 7,
                 .ack = 9,
                 .flags = TCP_SYN | TCP_ACK,
                 .wnd = 1000,
                 .has_mss = true,
                 .mss = 1460,
                 .has_wscale = true,
                 .wscale = 7};
    uint8_t buf[128];
    size_t n = tcp_wire_encode(&s, buf, sizeof buf);
    assert_true(n > 0);
    tcp_seg back;
    pkt_seg p;
    assert_int_equal(pkt_seg_from_dgram(buf, n, &back, &p), 0);
    char text[PKT_MSG_MAX];
    assert_string_equal(pkt_seg_format(&p, text, sizeof text),
                        "S. 7:7(0) ack 9 win 1000 <mss 1460,nop,wscale 7>");
    buf[n - 1] ^= 0xff; /* the checksum no longer holds */
    assert_int_equal(pkt_seg_from_dgram(buf, n, &back, &p), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(line_with_and_without_time),
        cmocka_unit_test(line_errors),
        cmocka_unit_test(mismatch_names_the_field),
        cmocka_unit_test(datagram_read_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
