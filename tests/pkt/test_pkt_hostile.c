/*
 * test_pkt_hostile — scripts are hostile input: truncated, mutated and
 * random texts never crash or hang the parser, and every rejection is one
 * line that names the file. Deterministic: a fixed-seed generator of its own.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "pkt.h"

static const char SAMPLE[] = "--tolerance_usecs=10000\n"
                             "`../common/defaults.sh\nsysctl -q net.ipv4.tcp_fin_timeout=5`\n"
                             "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                             "+0 setsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0\n"
                             "+0 < S 0:0(0) win 65535 <mss 1460,sackOK,nop,nop,nop,wscale 7>\n"
                             "+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 8>\n"
                             "+.1 < . 1:1(0) ack 1 win 257 <nop,nop,TS val 1 ecr 2>\n"
                             "+0...0.3 accept(3, ..., ...) = 4\n"
                             "* > . 1:1(0) ack 1\n"
                             "0.5~0.7 > F. 1:1(0) ack 1 <nop,nop,sack 1:2 3:4>\n"
                             "+0 read(4, ..., 10) = -1 EAGAIN (Resource temporarily unavailable)\n"
                             "/* c */ +0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0 // done\n";

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t next_u32(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

/* Parses len bytes; a rejection must be one non-empty line naming the file. */
static void check(const char *text, size_t len)
{
    char msg[PKT_MSG_MAX];
    pkt_status st = PKT_OK;
    pkt_script *s = pkt_parse("h.pkt", text, len, &st, msg, sizeof msg);
    if (s) {
        assert_int_equal(st, PKT_OK);
        for (size_t i = 0; i < pkt_script_events(s); i++)
            assert_non_null(pkt_script_event(s, i));
        pkt_script_free(s);
        return;
    }
    assert_true(st == PKT_ERROR || st == PKT_UNSUPPORTED);
    assert_true(strlen(msg) > 0);
    assert_null(strchr(msg, '\n'));
    if (st == PKT_ERROR && strcmp(msg, "out of memory"))
        assert_memory_equal(msg, "h.pkt:", 6);
    if (st == PKT_UNSUPPORTED)
        assert_memory_equal(msg, "unsupported: ", 13);
}

static void sample_parses(void **state)
{
    (void)state;
    char msg[PKT_MSG_MAX];
    pkt_status st;
    pkt_script *s = pkt_parse("h.pkt", SAMPLE, strlen(SAMPLE), &st, msg, sizeof msg);
    if (!s)
        fail_msg("%s", msg);
    assert_int_equal(pkt_script_events(s), 11);
    pkt_script_free(s);
}

static void every_truncation(void **state)
{
    (void)state;
    for (size_t n = 0; n <= sizeof SAMPLE - 1; n++)
        check(SAMPLE, n);
}

static void mutations(void **state)
{
    (void)state;
    static const char alphabet[] = "<>.:()[]{},=+*~-`\"%/ \n0123456789SFRPEWxq";
    char buf[sizeof SAMPLE + 64];
    for (int round = 0; round < 20000; round++) {
        size_t len = sizeof SAMPLE - 1;
        memcpy(buf, SAMPLE, len);
        int edits = 1 + (int)(next_u32() % 4);
        for (int e = 0; e < edits; e++) {
            size_t at = next_u32() % len;
            char c = alphabet[next_u32() % (sizeof alphabet - 1)];
            if (next_u32() % 3 == 0 && len + 1 < sizeof buf) {
                memmove(buf + at + 1, buf + at, len - at);
                len++;
            }
            buf[at] = (next_u32() % 8 == 0) ? (char)(next_u32() & 0xff) : c;
        }
        check(buf, len);
    }
}

static void random_bytes(void **state)
{
    (void)state;
    char buf[256];
    for (int round = 0; round < 5000; round++) {
        size_t len = next_u32() % sizeof buf;
        for (size_t i = 0; i < len; i++)
            buf[i] = (char)(next_u32() & 0xff);
        check(buf, len);
    }
}

/* Embedded NULs are bytes like any other: no C-string function may stop there. */
static void nul_bytes(void **state)
{
    (void)state;
    static const char text[] = "0 close(3) = 0\0\n+0 close(3) = 0\n";
    check(text, sizeof text - 1);
    static const char in_cmd[] = "`sysctl -q net.ipv4.tcp_sack=1\0x`\n";
    check(in_cmd, sizeof in_cmd - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sample_parses), cmocka_unit_test(every_truncation),
        cmocka_unit_test(mutations),     cmocka_unit_test(random_bytes),
        cmocka_unit_test(nul_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
