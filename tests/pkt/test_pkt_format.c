/*
 * test_pkt_format — options and segments formatted back in packetdrill's
 * notation: text -> representation -> text is the identity for every form
 * packetdrill prints, tables encode in Linux's option layout, and raw option
 * bytes from the wire are checked before they are trusted.
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

static void opts_round_trip(void **state)
{
    (void)state;
    static const char *const forms[] = {
        "mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7",
        "mss 1460,nop,nop,sackOK,nop,wscale 8",
        "mss 1000",
        "nop,nop,TS val 4294967295 ecr 1",
        "nop,nop,sack 1001:2001",
        "nop,nop,sack 1:2 3:4 5:6 7:8",
        "nop,nop,TS val 1 ecr 2,nop,nop,sack 1:2 3:4",
        "mss 536,eol,eol,eol,eol",
        "...",
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        pkt_opts o;
        char err[PKT_MSG_MAX] = "", out[200];
        if (pkt_opts_parse(forms[i], &o, err, sizeof err))
            fail_msg("\"%s\": %s", forms[i], err);
        assert_string_equal(pkt_opts_format(&o, out, sizeof out), forms[i]);
    }
}

static void opts_parse_errors(void **state)
{
    (void)state;
    pkt_opts o;
    char err[PKT_MSG_MAX];
    assert_int_equal(pkt_opts_parse("mss 1460,wscale 7", &o, err, sizeof err), -1);
    assert_string_equal(err, "TCP options take 7 bytes, not a multiple of 4 (pad with nop)");
    assert_int_equal(pkt_opts_parse("mss", &o, err, sizeof err), -1);
    assert_string_equal(err, "expected mss (a number), got end of file");
    assert_int_equal(pkt_opts_parse("nop,nop,sack 1:2 3:4 5:6 7:8 9:10", &o, err, sizeof err), -1);
    assert_string_equal(err, "more than 4 SACK blocks");
    assert_int_equal(pkt_opts_parse("nop,nop,nop,nop> extra", &o, err, sizeof err), -1);
    assert_string_equal(err, "expected ',' or the end of the options, got '>'");
}

static void table_uses_linux_layout(void **state)
{
    (void)state;
    pkt_opt_table t = {.has_mss = true,
                       .mss = 1460,
                       .sack_perm = true,
                       .has_ts = true,
                       .ts_val = 100,
                       .ts_ecr = 0,
                       .has_wscale = true,
                       .wscale = 7};
    pkt_opts o;
    char out[200];
    assert_int_equal(pkt_opts_from_table(&t, &o), 0);
    assert_string_equal(pkt_opts_format(&o, out, sizeof out),
                        "mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7");
    t.has_ts = false;
    t.wscale = 8;
    assert_int_equal(pkt_opts_from_table(&t, &o), 0);
    assert_string_equal(pkt_opts_format(&o, out, sizeof out),
                        "mss 1460,nop,nop,sackOK,nop,wscale 8");
    pkt_opt_table d = {
        .has_ts = true, .ts_val = 5, .ts_ecr = 6, .nsack = 2, .sack = {{1, 2}, {3, 4}}};
    assert_int_equal(pkt_opts_from_table(&d, &o), 0);
    assert_string_equal(pkt_opts_format(&o, out, sizeof out),
                        "nop,nop,TS val 5 ecr 6,nop,nop,sack 1:2 3:4");
    pkt_opt_table back;
    assert_int_equal(pkt_opts_to_table(&o, &back), 0);
    assert_memory_equal(&back, &d, sizeof d);
    d.nsack = 4; /* 12 + 4 + 32 bytes: does not fit */
    assert_int_equal(pkt_opts_from_table(&d, &o), -1);
    d.nsack = 5;
    assert_int_equal(pkt_opts_from_table(&d, &o), -1);
    pkt_opts any = {.any = true};
    assert_int_equal(pkt_opts_to_table(&any, &back), -1);
}

static void wire_bytes_are_checked(void **state)
{
    (void)state;
    pkt_opts o;
    char out[200];
    const uint8_t good[] = {2, 4, 5, 0xb4, 1, 3, 3, 7};
    assert_int_equal(pkt_opts_from_wire(good, sizeof good, &o), 0);
    assert_string_equal(pkt_opts_format(&o, out, sizeof out), "mss 1460,nop,wscale 7");
    const uint8_t unknown[] = {30, 4, 0, 0};
    assert_int_equal(pkt_opts_from_wire(unknown, sizeof unknown, &o), 0);
    assert_string_equal(pkt_opts_format(&o, out, sizeof out), "kind 30 len 4");
    const uint8_t bad_mss[] = {2, 3, 5, 1};
    assert_int_equal(pkt_opts_from_wire(bad_mss, sizeof bad_mss, &o), -1);
    const uint8_t past_end[] = {8, 10, 0, 0};
    assert_int_equal(pkt_opts_from_wire(past_end, sizeof past_end, &o), -1);
    const uint8_t zero_len[] = {30, 0, 1, 1};
    assert_int_equal(pkt_opts_from_wire(zero_len, sizeof zero_len, &o), -1);
    const uint8_t bad_sack[] = {5, 6, 0, 0, 0, 0, 1, 1};
    assert_int_equal(pkt_opts_from_wire(bad_sack, sizeof bad_sack, &o), -1);
    const uint8_t lone_kind[] = {1, 1, 1, 2};
    assert_int_equal(pkt_opts_from_wire(lone_kind, sizeof lone_kind, &o), -1);
    uint8_t big[41] = {0};
    assert_int_equal(pkt_opts_from_wire(big, sizeof big, &o), -1);
}

/* Each line is an event; formatting its segment gives the text after the
 * direction back exactly. */
static void segments_round_trip(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>",
        "S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 8>",
        ". 1:1(0) ack 1 win 257",
        "P. 1:1001(1000) ack 1 win 257",
        "F. 1001:1001(0) ack 1",
        "FP. 1:11(10) ack 1 win 5",
        "R 2:2(0)",
        "R. 1:1(0) ack 1 win 0",
        "- 5:5(0) win 1",
        "S. 0:0(0) ack 1 <...>",
        ". 1:1(0) ack 1 <nop,nop,TS val 100 ecr 700>",
        ". 1:65496(65495) ack 1 win 65535",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        char text[256], out[256];
        snprintf(text, sizeof text, "0 > %s\n", lines[i]);
        pkt_status st;
        char msg[PKT_MSG_MAX];
        pkt_script *s = pkt_parse("r.pkt", text, strlen(text), &st, msg, sizeof msg);
        if (!s)
            fail_msg("\"%s\": %s", lines[i], msg);
        assert_string_equal(pkt_seg_format(&pkt_script_event(s, 0)->u.seg, out, sizeof out),
                            lines[i]);
        pkt_script_free(s);
    }
}

static void flags_in_packetdrill_order(void **state)
{
    (void)state;
    char b[12];
    assert_string_equal(pkt_flags_format(TCP_ACK | TCP_SYN, b, sizeof b), "S.");
    assert_string_equal(pkt_flags_format(TCP_ACK | TCP_PSH | TCP_FIN, b, sizeof b), "FP.");
    assert_string_equal(pkt_flags_format(TCP_RST | TCP_ACK, b, sizeof b), "R.");
    assert_string_equal(pkt_flags_format(0, b, sizeof b), "-");
    assert_string_equal(pkt_flags_format(0xff, b, sizeof b), "FSRP.UEW");
    /* Small buffers truncate, never overflow. */
    char small[4];
    pkt_seg seg = {.flags = TCP_SYN, .seq = 1, .len = 0};
    assert_string_equal(pkt_seg_format(&seg, small, sizeof small), "S 1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(opts_round_trip),         cmocka_unit_test(opts_parse_errors),
        cmocka_unit_test(table_uses_linux_layout), cmocka_unit_test(wire_bytes_are_checked),
        cmocka_unit_test(segments_round_trip),     cmocka_unit_test(flags_in_packetdrill_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
