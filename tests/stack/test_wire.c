/*
 * test_wire — the tcp_wire contract: the Internet checksum against published
 * and hand-computed values, encode/parse round trips for every option
 * combination, one test per rejection reason, and a single flipped bit
 * anywhere in a datagram never parsing as OK.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_wire.h"

#define ADDR_A 0x0a000001u /* 10.0.0.1 */
#define ADDR_B 0x0a000002u /* 10.0.0.2 */

/*
 * A SYN from 10.0.0.1:40000 to 10.0.0.2:80, seq 1000, window 65535,
 * MSS 1460, IP id 1, DF, TTL 64. Checksums computed by hand:
 *
 * IPv4 header words (checksum field zero):
 *   4500 + 002c + 0001 + 4000 + 4006 + 0a00 + 0001 + 0a00 + 0002 = d936
 *   checksum = ~d936 = 26c9
 * TCP words (checksum field zero):
 *   9c40 + 0050 + 0000 + 03e8 + 0000 + 0000 + 6002 + ffff + 0000
 *   + 0204 + 05b4                                                  = 20831
 * pseudo-header: 0a00 + 0001 + 0a00 + 0002 + 0006 + 0018 (24)      = 1421
 *   20831 + 1421 = 21c52, folded 1c52 + 2 = 1c54, checksum = ~1c54 = e3ab
 */
static const uint8_t syn_mss[44] = {
    0x45, 0x00, 0x00, 0x2c, 0x00, 0x01, 0x40, 0x00, 0x40, 0x06, 0x26, 0xc9, 0x0a, 0x00, 0x00,
    0x01, 0x0a, 0x00, 0x00, 0x02, 0x9c, 0x40, 0x00, 0x50, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00,
    0x00, 0x00, 0x60, 0x02, 0xff, 0xff, 0xe3, 0xab, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4,
};

static tcp_seg syn_mss_seg(void)
{
    tcp_seg s;

    memset(&s, 0, sizeof s);
    s.src_addr = ADDR_A;
    s.dst_addr = ADDR_B;
    s.src_port = 40000;
    s.dst_port = 80;
    s.seq = 1000;
    s.flags = TCP_SYN;
    s.wnd = 65535;
    s.ip_id = 1;
    s.has_mss = true;
    s.mss = 1460;
    return s;
}

/* A data segment with every option and an odd-length payload. */
static const uint8_t payload[] = "hello, wire"; /* 11 bytes used: odd on purpose */

static tcp_seg full_seg(void)
{
    tcp_seg s;

    memset(&s, 0, sizeof s);
    s.src_addr = ADDR_B;
    s.dst_addr = ADDR_A;
    s.src_port = 80;
    s.dst_port = 40000;
    s.seq = 0xfffffff0u;
    s.ack = 0x12345678u;
    s.flags = TCP_PSH | TCP_ACK;
    s.wnd = 4096;
    s.urg = 0;
    s.ttl = 17;
    s.ip_id = 0xbeef;
    s.has_mss = s.has_wscale = s.has_sack_perm = s.has_ts = true;
    s.mss = 536;
    s.wscale = 7;
    s.ts_val = 0xdeadbeefu;
    s.ts_ecr = 42;
    s.payload = payload;
    s.len = 11;
    return s;
}

/* ---- Helpers that rewrite checksums after a deliberate change ----------- */

static void fix_ip_checksum(uint8_t *d)
{
    size_t ihl = (size_t)(d[0] & 0x0f) * 4;

    d[10] = d[11] = 0;
    uint16_t c = (uint16_t)~tcp_wire_sum(d, ihl, 0);
    d[10] = (uint8_t)(c >> 8);
    d[11] = (uint8_t)c;
}

/* The TCP checksum of the datagram d, length from its IPv4 header. */
static void fix_tcp_checksum(uint8_t *d)
{
    size_t ihl = (size_t)(d[0] & 0x0f) * 4;
    size_t tlen = (size_t)(d[2] << 8 | d[3]) - ihl;
    uint8_t *t = d + ihl;
    uint8_t pseudo[12];

    memcpy(pseudo, d + 12, 8);
    pseudo[8] = 0;
    pseudo[9] = 6;
    pseudo[10] = (uint8_t)(tlen >> 8);
    pseudo[11] = (uint8_t)tlen;
    t[16] = t[17] = 0;
    uint16_t c = (uint16_t)~tcp_wire_sum(t, tlen, tcp_wire_sum(pseudo, sizeof pseudo, 0));
    t[16] = (uint8_t)(c >> 8);
    t[17] = (uint8_t)c;
}

/* Parses an exact-size heap copy of d, so a sanitized build catches any
 * read past the datagram; a rejection must leave no payload behind. */
static tcp_wire_err parse(const uint8_t *d, size_t len)
{
    uint8_t *copy = malloc(len > 0 ? len : 1);
    tcp_seg s;
    tcp_wire_err e;

    assert_non_null(copy);
    memcpy(copy, d, len);
    e = tcp_wire_parse(copy, len, &s);
    free(copy);
    if (e != TCP_WIRE_OK) {
        assert_null(s.payload); /* nothing of a rejected datagram is usable */
        assert_int_equal(s.len, 0);
    }
    return e;
}

/* Copies syn_mss into buf (at least 64 bytes) for a test to damage. */
static void copy_syn(uint8_t *buf)
{
    memset(buf, 0, 64);
    memcpy(buf, syn_mss, sizeof syn_mss);
}

/* ---- Checksum ---------------------------------------------------------- */

static void sum_matches_rfc1071_example(void **state)
{
    /* RFC 1071 §3: 0001 f203 f4f5 f6f7 sums to 2ddf0, folded ddf2. */
    static const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};

    (void)state;
    assert_int_equal(tcp_wire_sum(b, sizeof b, 0), 0xddf2);
}

static void sum_of_a_known_ipv4_header_gives_b861(void **state)
{
    /* 192.168.0.1 -> 192.168.0.199, UDP, total length 115: checksum b861. */
    uint8_t h[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                     0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};

    (void)state;
    assert_int_equal((uint16_t)~tcp_wire_sum(h, sizeof h, 0), 0xb861);
    h[10] = 0xb8;
    h[11] = 0x61;
    assert_int_equal(tcp_wire_sum(h, sizeof h, 0), 0xffff);
}

static void sum_pads_an_odd_byte_and_folds_the_initial_value(void **state)
{
    static const uint8_t one[] = {0x01};
    static const uint8_t three[] = {0xff, 0xff, 0x01};

    (void)state;
    assert_int_equal(tcp_wire_sum(one, 1, 0), 0x0100);
    assert_int_equal(tcp_wire_sum(three, 3, 0), 0x0100); /* ffff + 0100 = 100ff -> 0100 */
    assert_int_equal(tcp_wire_sum(one, 0, 0x1ffff), 0x0001);
    assert_int_equal(tcp_wire_sum(one, 1, 0xff00), 0x0001); /* ff00 + 0100 = 10000 -> 0001 */
}

/* RFC 1071 §1 as written: 16-bit big-endian words one at a time, the odd
 * last byte padded with zero, the carries folded back in. */
static uint16_t sum_by_words(const uint8_t *b, size_t len, uint32_t initial)
{
    uint64_t sum = initial;
    for (size_t i = 0; i < len; i++)
        sum += i % 2 == 0 ? (uint32_t)b[i] << 8 : b[i];
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)sum;
}

static void sum_by_wide_words_equals_the_word_by_word_sum(void **state)
{
    /* Every length 0..80 at every alignment 0..7, over bytes that make
     * many carries (mostly 0xff) and over all-zero bytes, with initial
     * values zero, small and past 16 bits. */
    uint8_t buf[96];
    static const uint32_t initials[] = {0, 1, 0xfffe, 0xffff, 0x2fffd};
    uint32_t x = 12345;

    (void)state;
    for (int fill = 0; fill < 2; fill++) {
        for (size_t i = 0; i < sizeof buf; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = fill == 0 ? 0 : (x >> 16) % 4 == 0 ? (uint8_t)(x >> 24) : 0xff;
        }
        for (size_t off = 0; off < 8; off++)
            for (size_t len = 0; len <= 80; len++)
                for (size_t k = 0; k < sizeof initials / sizeof initials[0]; k++)
                    assert_int_equal(tcp_wire_sum(buf + off, len, initials[k]),
                                     sum_by_words(buf + off, len, initials[k]));
    }
}

/* ---- The hand-checked datagram ----------------------------------------- */

static void parse_reads_every_field_of_the_known_syn(void **state)
{
    tcp_seg s;

    (void)state;
    assert_int_equal(tcp_wire_parse(syn_mss, sizeof syn_mss, &s), TCP_WIRE_OK);
    assert_int_equal(s.src_addr, ADDR_A);
    assert_int_equal(s.dst_addr, ADDR_B);
    assert_int_equal(s.src_port, 40000);
    assert_int_equal(s.dst_port, 80);
    assert_int_equal(s.seq, 1000);
    assert_int_equal(s.ack, 0);
    assert_int_equal(s.flags, TCP_SYN);
    assert_int_equal(s.wnd, 65535);
    assert_int_equal(s.urg, 0);
    assert_int_equal(s.ttl, 64);
    assert_int_equal(s.ip_id, 1);
    assert_true(s.has_mss);
    assert_int_equal(s.mss, 1460);
    assert_false(s.has_wscale || s.has_sack_perm || s.has_ts);
    assert_int_equal(s.len, 0);
    assert_ptr_equal(s.payload, syn_mss + sizeof syn_mss);
}

static void encode_of_the_known_syn_gives_the_hand_checked_bytes(void **state)
{
    tcp_seg s = syn_mss_seg();
    uint8_t buf[64];

    (void)state;
    assert_int_equal(tcp_wire_size(&s), sizeof syn_mss);
    assert_int_equal(tcp_wire_encode(&s, buf, sizeof buf), sizeof syn_mss);
    assert_memory_equal(buf, syn_mss, sizeof syn_mss);
    assert_int_equal(buf[10] << 8 | buf[11], 0x26c9);
    assert_int_equal(buf[36] << 8 | buf[37], 0xe3ab);
}

static void encode_needs_exactly_the_size_it_reports(void **state)
{
    tcp_seg s = full_seg();
    size_t n = tcp_wire_size(&s);
    uint8_t buf[128];

    (void)state;
    assert_int_equal(n, 20 + 20 + 20 + 11);
    assert_int_equal(tcp_wire_encode(&s, buf, n - 1), 0);
    assert_int_equal(tcp_wire_encode(&s, buf, 0), 0);
    assert_int_equal(tcp_wire_encode(&s, buf, n), n);
}

static void encode_refuses_a_datagram_over_65535_bytes(void **state)
{
    static uint8_t big[65535];
    static uint8_t buf[65535 + 64];
    tcp_seg s = syn_mss_seg();

    (void)state;
    s.has_mss = false;
    s.payload = big;
    s.len = 65535 - 40;
    assert_int_equal(tcp_wire_encode(&s, buf, sizeof buf), 65535);
    s.len++;
    assert_int_equal(tcp_wire_encode(&s, buf, sizeof buf), 0);
}

static void encode_uses_ttl_64_unless_told(void **state)
{
    tcp_seg s = syn_mss_seg(), p;
    uint8_t buf[64];

    (void)state;
    s.ttl = 0;
    assert_int_not_equal(tcp_wire_encode(&s, buf, sizeof buf), 0);
    assert_int_equal(buf[8], 64);
    s.ttl = 3;
    assert_int_not_equal(tcp_wire_encode(&s, buf, sizeof buf), 0);
    assert_int_equal(tcp_wire_parse(buf, tcp_wire_size(&s), &p), TCP_WIRE_OK);
    assert_int_equal(p.ttl, 3);
}

/* ---- Round trips ---------------------------------------------------------- */

static void assert_same_seg(const tcp_seg *a, const tcp_seg *b)
{
    assert_int_equal(a->src_addr, b->src_addr);
    assert_int_equal(a->dst_addr, b->dst_addr);
    assert_int_equal(a->src_port, b->src_port);
    assert_int_equal(a->dst_port, b->dst_port);
    assert_int_equal(a->seq, b->seq);
    assert_int_equal(a->ack, b->ack);
    assert_int_equal(a->flags, b->flags);
    assert_int_equal(a->wnd, b->wnd);
    assert_int_equal(a->urg, b->urg);
    assert_int_equal(a->ip_id, b->ip_id);
    assert_int_equal(a->has_mss, b->has_mss);
    assert_int_equal(a->has_wscale, b->has_wscale);
    assert_int_equal(a->has_sack_perm, b->has_sack_perm);
    assert_int_equal(a->has_ts, b->has_ts);
    if (a->has_mss)
        assert_int_equal(a->mss, b->mss);
    if (a->has_wscale)
        assert_int_equal(a->wscale, b->wscale);
    if (a->has_ts) {
        assert_int_equal(a->ts_val, b->ts_val);
        assert_int_equal(a->ts_ecr, b->ts_ecr);
    }
    assert_int_equal(a->len, b->len);
    if (a->len > 0)
        assert_memory_equal(a->payload, b->payload, a->len);
}

static void round_trip_keeps_every_field_with_all_options(void **state)
{
    tcp_seg s = full_seg(), p;
    uint8_t buf[128];
    size_t n;

    (void)state;
    n = tcp_wire_encode(&s, buf, sizeof buf);
    assert_int_equal(tcp_wire_parse(buf, n, &p), TCP_WIRE_OK);
    assert_same_seg(&s, &p);
    assert_int_equal(p.ttl, 17);
    assert_ptr_equal(p.payload, buf + n - 11);
}

/* All 16 option combinations, every flag byte, payload lengths 0..3: the
 * data offset is a multiple of 4 words, options fit, and parse gives back
 * what was encoded. */
static void round_trip_every_option_combination_and_flag_byte(void **state)
{
    tcp_seg s = full_seg(), p;
    uint8_t buf[128];
    unsigned combo, flags, len;

    (void)state;
    for (combo = 0; combo < 16; combo++) {
        s.has_mss = combo & 1;
        s.has_wscale = (combo >> 1) & 1;
        s.has_sack_perm = (combo >> 2) & 1;
        s.has_ts = (combo >> 3) & 1;
        for (flags = 0; flags < 256; flags++) {
            for (len = 0; len < 4; len++) {
                s.flags = (uint8_t)flags;
                s.len = len;
                size_t n = tcp_wire_encode(&s, buf, sizeof buf);
                assert_int_equal(n, tcp_wire_size(&s));
                assert_int_equal((buf[32] >> 4) * 4 + 20 + len, n);
                assert_int_equal(buf[32] & 0x0f, 0); /* reserved bits */
                assert_int_equal(tcp_wire_parse(buf, n, &p), TCP_WIRE_OK);
                assert_same_seg(&s, &p);
            }
        }
    }
}

static void round_trip_across_the_sequence_wrap(void **state)
{
    static const uint32_t seqs[] = {0, 1, 0x7fffffffu, 0x80000000u, 0xfffffffeu, 0xffffffffu};
    tcp_seg s = full_seg(), p;
    uint8_t buf[128];
    size_t i, j;

    (void)state;
    for (i = 0; i < 6; i++) {
        for (j = 0; j < 6; j++) {
            s.seq = seqs[i];
            s.ack = seqs[j];
            s.ts_val = seqs[j];
            assert_int_equal(tcp_wire_parse(buf, tcp_wire_encode(&s, buf, sizeof buf), &p),
                             TCP_WIRE_OK);
            assert_same_seg(&s, &p);
        }
    }
}

/* ---- What parse accepts besides our own encoding ---------------------------- */

/* Options NOP NOP <kind 30, len 4, 2 bytes> MSS 1200 EOL <3 bytes after EOL>:
 * the unknown kind is skipped, MSS read, and what follows EOL ignored even
 * though it would be malformed. */
static void parse_skips_unknown_options_and_stops_at_eol(void **state)
{
    static const uint8_t opts[12] = {1, 1, 30, 4, 0xaa, 0xbb, 2, 4, 0x04, 0xb0, 0, 7};
    uint8_t d[64];
    tcp_seg s = syn_mss_seg(), p;
    size_t n;

    (void)state;
    s.has_mss = false;
    n = tcp_wire_encode(&s, d, sizeof d);
    assert_int_equal(n, 40);
    memcpy(d + 40, opts, sizeof opts);
    d[3] = 40 + sizeof opts;
    d[32] = (20 + sizeof opts) / 4 << 4;
    fix_ip_checksum(d);
    fix_tcp_checksum(d);
    assert_int_equal(tcp_wire_parse(d, 40 + sizeof opts, &p), TCP_WIRE_OK);
    assert_true(p.has_mss);
    assert_int_equal(p.mss, 1200);
    assert_false(p.has_wscale || p.has_sack_perm || p.has_ts);
    assert_int_equal(p.len, 0);
}

/* RFC 2018 §3 SACK blocks after timestamps, laid out as Linux
 * tcp_options_write and FreeBSD tcp_addoptions write them on an ACK:
 * NOP,NOP,TS then NOP,NOP,SACK (kind 5, length 8n + 2), three blocks in
 * the 40 bytes, the same in every layout; parse gives them back. */
static void sack_blocks_follow_timestamps_in_every_layout(void **state)
{
    static const uint8_t want[40] = {
        1,    1,    8,    10,   0, 0, 0,    9,    0, 0, 0, 7, /* NOP,NOP,TS val 9 ecr 7 */
        1,    1,    5,    26,                                 /* NOP,NOP,SACK of 3 blocks */
        0,    0,    0x0b, 0xb9, 0, 0, 0x0f, 0xa1,             /* 3001:4001 */
        0,    0,    0x03, 0xe9, 0, 0, 0x07, 0xd1,             /* 1001:2001 */
        0xff, 0xff, 0xff, 0xf0, 0, 0, 0,    0x10,             /* across the wrap */
    };
    uint8_t blocks[24], d[80];
    tcp_seg p;

    (void)state;
    tcp_sack_put(blocks, 3001, 4001);
    tcp_sack_put(blocks + 8, 1001, 2001);
    tcp_sack_put(blocks + 16, 0xfffffff0u, 0x10);
    for (int layout = TCP_LAYOUT_RFC; layout <= TCP_LAYOUT_BSD; layout++) {
        tcp_seg s = full_seg();
        s.flags = TCP_ACK;
        s.has_mss = s.has_wscale = s.has_sack_perm = false;
        s.ts_val = 9;
        s.ts_ecr = 7;
        s.len = 0;
        s.layout = (uint8_t)layout;
        s.nsack = 3;
        s.sack = blocks;
        size_t n = tcp_wire_encode(&s, d, sizeof d);
        assert_int_equal(n, 20 + 20 + 40);
        assert_int_equal(tcp_wire_size(&s), n);
        assert_memory_equal(d + 40, want, sizeof want);
        assert_int_equal(tcp_wire_parse(d, n, &p), TCP_WIRE_OK);
        assert_int_equal(p.nsack, 3);
        uint32_t l, r;
        tcp_seg_sack(&p, 0, &l, &r);
        assert_true(l == 3001 && r == 4001);
        tcp_seg_sack(&p, 2, &l, &r);
        assert_true(l == 0xfffffff0u && r == 0x10);
    }
}

/* Without timestamps four blocks fit: NOP,NOP,SACK of 34 bytes. */
static void four_sack_blocks_without_timestamps(void **state)
{
    uint8_t blocks[32], d[96];
    tcp_seg s = full_seg(), p;

    (void)state;
    for (unsigned i = 0; i < 4; i++)
        tcp_sack_put(blocks + 8 * i, 1000 * (2 * i + 1), 1000 * (2 * i + 2));
    s.has_mss = s.has_wscale = s.has_sack_perm = s.has_ts = false;
    s.nsack = 4;
    s.sack = blocks;
    size_t n = tcp_wire_encode(&s, d, sizeof d);
    assert_int_equal(n, 40 + 36 + 11);
    assert_true(d[40] == 1 && d[41] == 1 && d[42] == 5 && d[43] == 34);
    assert_int_equal(tcp_wire_parse(d, n, &p), TCP_WIRE_OK);
    assert_int_equal(p.nsack, 4);
    assert_int_equal(p.len, 11);
    uint32_t l, r;
    tcp_seg_sack(&p, 3, &l, &r);
    assert_true(l == 7000 && r == 8000);
}

/* A SACK option whose length is not 8n + 2 (n >= 1) is ignored, not
 * refused (Linux tcp_parse_options); the segment parses without blocks. */
static void sack_option_of_a_bad_length_is_ignored(void **state)
{
    static const uint8_t lens[] = {2, 9, 11, 12};
    uint8_t d[80];
    tcp_seg s = syn_mss_seg(), p;

    (void)state;
    s.has_mss = false;
    for (size_t k = 0; k < sizeof lens; k++) {
        size_t n = tcp_wire_encode(&s, d, sizeof d);
        assert_int_equal(n, 40);
        memset(d + 40, 0, 12);
        d[40] = 5;
        d[41] = lens[k];
        d[3] = 52;
        d[32] = 8 << 4;
        fix_ip_checksum(d);
        fix_tcp_checksum(d);
        assert_int_equal(tcp_wire_parse(d, 52, &p), TCP_WIRE_OK);
        assert_int_equal(p.nsack, 0);
    }
}

/* IHL 6 with one word of IP options (NOP NOP NOP EOL): the TCP header is
 * found after them. */
static void parse_steps_over_ip_options(void **state)
{
    uint8_t d[64];
    tcp_seg p;

    (void)state;
    memcpy(d, syn_mss, 20);
    d[20] = d[21] = d[22] = 1;
    d[23] = 0;
    memcpy(d + 24, syn_mss + 20, 24);
    d[0] = 0x46;
    d[3] = 48;
    fix_ip_checksum(d);
    assert_int_equal(tcp_wire_parse(d, 48, &p), TCP_WIRE_OK);
    assert_int_equal(p.dst_port, 80);
    assert_int_equal(p.mss, 1460);
}

static void parse_ignores_bytes_past_the_total_length(void **state)
{
    uint8_t d[64];
    tcp_seg p;

    (void)state;
    copy_syn(d);
    d[44] = d[45] = 0xee; /* link-layer padding */
    assert_int_equal(tcp_wire_parse(d, 60, &p), TCP_WIRE_OK);
    assert_int_equal(p.len, 0);
}

static void parse_ignores_the_reserved_bits(void **state)
{
    uint8_t d[64];
    tcp_seg p;

    (void)state;
    copy_syn(d);
    d[32] |= 0x0f;
    fix_tcp_checksum(d);
    assert_int_equal(tcp_wire_parse(d, 44, &p), TCP_WIRE_OK);
    assert_int_equal(p.flags, TCP_SYN);
}

/* ---- Every rejection reason --------------------------------------------- */

static void reject_truncated(void **state)
{
    uint8_t d[64];

    (void)state;
    copy_syn(d);
    assert_int_equal(parse(d, 0), TCP_WIRE_TRUNCATED);
    assert_int_equal(parse(d, 19), TCP_WIRE_TRUNCATED); /* not even an IP header */
    assert_int_equal(parse(d, 43), TCP_WIRE_TRUNCATED); /* total length says 44 */
    d[0] = 0x4f;                                        /* IHL 15: 60 bytes */
    assert_int_equal(parse(d, 44), TCP_WIRE_TRUNCATED);
    copy_syn(d);
    d[3] = 19; /* total length below the IP header */
    fix_ip_checksum(d);
    assert_int_equal(parse(d, 44), TCP_WIRE_TRUNCATED);
    d[3] = 39; /* room for only 19 bytes of TCP header */
    fix_ip_checksum(d);
    assert_int_equal(parse(d, 44), TCP_WIRE_TRUNCATED);
}

static void reject_not_ipv4(void **state)
{
    uint8_t d[64];

    (void)state;
    copy_syn(d);
    d[0] = 0x65; /* version 6 */
    assert_int_equal(parse(d, 44), TCP_WIRE_NOT_IPV4);
    d[0] = 0x44; /* IHL 4 */
    assert_int_equal(parse(d, 44), TCP_WIRE_NOT_IPV4);
}

static void reject_bad_ip_checksum(void **state)
{
    uint8_t d[64];

    (void)state;
    copy_syn(d);
    d[8] = 63; /* TTL decremented without updating the checksum */
    assert_int_equal(parse(d, 44), TCP_WIRE_IP_CHECKSUM);
    copy_syn(d);
    d[11] ^= 0x01;
    assert_int_equal(parse(d, 44), TCP_WIRE_IP_CHECKSUM);
}

static void reject_fragments(void **state)
{
    uint8_t d[64];

    (void)state;
    copy_syn(d);
    d[6] = 0x20; /* MF, offset 0: a first fragment */
    fix_ip_checksum(d);
    assert_int_equal(parse(d, 44), TCP_WIRE_FRAGMENT);
    d[6] = 0x00;
    d[7] = 0x03; /* offset 24 bytes: a last fragment */
    fix_ip_checksum(d);
    assert_int_equal(parse(d, 44), TCP_WIRE_FRAGMENT);
    d[6] = 0x40; /* DF, offset 0: whole */
    d[7] = 0x00;
    fix_ip_checksum(d);
    assert_int_equal(parse(d, 44), TCP_WIRE_OK);
}

static void reject_not_tcp(void **state)
{
    uint8_t d[64];

    (void)state;
    copy_syn(d);
    d[9] = 17; /* UDP */
    fix_ip_checksum(d);
    assert_int_equal(parse(d, 44), TCP_WIRE_NOT_TCP);
}

static void reject_bad_data_offset(void **state)
{
    uint8_t d[64];

    (void)state;
    copy_syn(d);
    d[32] = 0x40; /* 4 words: inside the fixed header */
    fix_tcp_checksum(d);
    assert_int_equal(parse(d, 44), TCP_WIRE_BAD_OFFSET);
    d[32] = 0x70; /* 7 words = 28 bytes, segment has 24 */
    fix_tcp_checksum(d);
    assert_int_equal(parse(d, 44), TCP_WIRE_BAD_OFFSET);
}

/* The known SYN with its options replaced by the n bytes at o (n a
 * multiple of 4, at most 40), both checksums fixed, parsed. */
static tcp_wire_err parse_opts(const uint8_t *o, size_t n)
{
    uint8_t d[80];

    copy_syn(d);
    memcpy(d + 40, o, n);
    d[3] = (uint8_t)(40 + n);
    d[32] = (uint8_t)((20 + n) / 4 << 4);
    fix_ip_checksum(d);
    fix_tcp_checksum(d);
    return parse(d, 40 + n);
}

static tcp_wire_err parse_with_options(uint8_t o0, uint8_t o1, uint8_t o2, uint8_t o3)
{
    const uint8_t o[4] = {o0, o1, o2, o3};

    return parse_opts(o, sizeof o);
}

static void reject_bad_option_lengths(void **state)
{
    (void)state;
    assert_int_equal(parse_with_options(2, 4, 5, 0xb4), TCP_WIRE_OK);
    assert_int_equal(parse_with_options(30, 0, 0, 0), TCP_WIRE_BAD_OPTION); /* length 0 */
    assert_int_equal(parse_with_options(30, 1, 0, 0), TCP_WIRE_BAD_OPTION); /* length 1 */
    assert_int_equal(parse_with_options(30, 5, 0, 0), TCP_WIRE_BAD_OPTION); /* past header */
    assert_int_equal(parse_with_options(1, 1, 1, 30), TCP_WIRE_BAD_OPTION); /* no length */
    assert_int_equal(parse_with_options(2, 3, 5, 0), TCP_WIRE_BAD_OPTION);  /* MSS len 3 */
    assert_int_equal(parse_with_options(3, 4, 7, 0), TCP_WIRE_BAD_OPTION);  /* WS len 4 */
    assert_int_equal(parse_with_options(3, 2, 1, 1), TCP_WIRE_BAD_OPTION);  /* WS len 2 */
    assert_int_equal(parse_with_options(4, 3, 0, 0), TCP_WIRE_BAD_OPTION);  /* SACK-ok len 3 */
    assert_int_equal(parse_with_options(8, 4, 0, 0), TCP_WIRE_BAD_OPTION);  /* TS len 4 */
    assert_int_equal(parse_with_options(1, 3, 3, 7), TCP_WIRE_OK);          /* NOP WS 7 */
    assert_int_equal(parse_with_options(1, 1, 4, 2), TCP_WIRE_OK);          /* NOP NOP SACK-ok */
}

static void reject_timestamps_of_the_wrong_length(void **state)
{
    static const uint8_t ok[12] = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};
    static const uint8_t long12[12] = {8, 12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0};
    static const uint8_t short9[12] = {1, 1, 1, 8, 9, 0, 0, 0, 1, 0, 0, 0};
    static const uint8_t mss5[8] = {2, 5, 5, 0xb4, 0, 1, 1, 1};

    (void)state;
    assert_int_equal(parse_opts(ok, sizeof ok), TCP_WIRE_OK);
    assert_int_equal(parse_opts(long12, sizeof long12), TCP_WIRE_BAD_OPTION);
    assert_int_equal(parse_opts(short9, sizeof short9), TCP_WIRE_BAD_OPTION);
    assert_int_equal(parse_opts(mss5, sizeof mss5), TCP_WIRE_BAD_OPTION);
}

/* Forty bytes of NOP are a legal, if useless, option area. */
static void parse_accepts_the_largest_option_area(void **state)
{
    uint8_t o[40];

    (void)state;
    memset(o, 1, sizeof o);
    assert_int_equal(parse_opts(o, sizeof o), TCP_WIRE_OK);
    o[39] = 2; /* an MSS kind in the last byte: no room for its length */
    assert_int_equal(parse_opts(o, sizeof o), TCP_WIRE_BAD_OPTION);
}

static void reject_bad_tcp_checksum(void **state)
{
    uint8_t d[128];
    tcp_seg s = full_seg();
    size_t n = tcp_wire_encode(&s, d, sizeof d);

    (void)state;
    assert_int_equal(parse(d, n), TCP_WIRE_OK);
    d[n - 1] ^= 0x20; /* a payload byte */
    assert_int_equal(parse(d, n), TCP_WIRE_TCP_CHECKSUM);
    d[n - 1] ^= 0x20;
    d[20 + 17] ^= 0x80; /* the checksum itself */
    assert_int_equal(parse(d, n), TCP_WIRE_TCP_CHECKSUM);
}

static void rejected_segment_has_no_payload(void **state)
{
    uint8_t d[128];
    tcp_seg s = full_seg(), p;
    size_t n = tcp_wire_encode(&s, d, sizeof d);

    (void)state;
    d[n - 1] ^= 0x01;
    assert_int_equal(tcp_wire_parse(d, n, &p), TCP_WIRE_TCP_CHECKSUM);
    assert_null(p.payload);
    assert_int_equal(p.len, 0);
}

/* The pseudo-header binds the addresses: the same TCP bytes under a
 * different (correctly checksummed) IP header fail the TCP checksum. */
static void reject_a_segment_moved_to_another_address(void **state)
{
    uint8_t d[64];

    (void)state;
    copy_syn(d);
    d[19] = 3; /* 10.0.0.3 */
    fix_ip_checksum(d);
    assert_int_equal(parse(d, 44), TCP_WIRE_TCP_CHECKSUM);
}

static void every_single_bit_flip_is_rejected(void **state)
{
    uint8_t d[128];
    const tcp_seg segs[2] = {syn_mss_seg(), full_seg()};
    size_t k, n, bit;
    tcp_wire_err e;

    (void)state;
    for (k = 0; k < 2; k++) {
        n = tcp_wire_encode(&segs[k], d, sizeof d);
        for (bit = 0; bit < n * 8; bit++) {
            d[bit / 8] ^= (uint8_t)(1u << bit % 8);
            e = parse(d, n);
            if (e == TCP_WIRE_OK)
                fail_msg("seg %zu: flipping bit %zu (byte %zu) still parses", k, bit, bit / 8);
            d[bit / 8] ^= (uint8_t)(1u << bit % 8);
        }
        assert_int_equal(parse(d, n), TCP_WIRE_OK);
    }
}

static void every_error_has_a_distinct_name(void **state)
{
    const char *names[TCP_WIRE_TCP_CHECKSUM + 1];
    int i, j;

    (void)state;
    for (i = 0; i <= TCP_WIRE_TCP_CHECKSUM; i++) {
        names[i] = tcp_wire_err_name((tcp_wire_err)i);
        assert_non_null(names[i]);
        assert_true(strlen(names[i]) > 0);
        for (j = 0; j < i; j++)
            assert_string_not_equal(names[i], names[j]);
    }
    assert_string_equal(tcp_wire_err_name(TCP_WIRE_TCP_CHECKSUM), "bad TCP checksum");
}

/* ---- Flags ------------------------------------------------------------------ */

static void flags_print_in_fixed_order(void **state)
{
    char b[40];

    (void)state;
    assert_string_equal(tcp_flags_str(TCP_SYN | TCP_ACK, b, sizeof b), "SYN,ACK");
    assert_string_equal(tcp_flags_str(TCP_ACK | TCP_FIN, b, sizeof b), "FIN,ACK");
    assert_string_equal(tcp_flags_str(TCP_RST, b, sizeof b), "RST");
    assert_string_equal(tcp_flags_str(TCP_ACK | TCP_PSH, b, sizeof b), "PSH,ACK");
    assert_string_equal(tcp_flags_str(0xff, b, sizeof b), "SYN,FIN,RST,PSH,ACK,URG,ECE,CWR");
    assert_string_equal(tcp_flags_str(0, b, sizeof b), "NONE");
}

static void flags_print_cut_short_in_a_small_buffer(void **state)
{
    char b[8];

    (void)state;
    assert_ptr_equal(tcp_flags_str(0xff, b, 5), b);
    assert_string_equal(b, "SYN,");
    assert_ptr_equal(tcp_flags_str(0xff, b, 0), b);
}

static void flags_parse_accepts_every_spelling(void **state)
{
    static const char *const syn_ack[] = {"SYN,ACK",  "syn+ack",      "Ack|Syn",    "SYN ACK",
                                          "SYN, ACK", " syn\t+ ACK ", "SYN,ACK,SYN"};
    uint8_t f;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof syn_ack / sizeof syn_ack[0]; i++) {
        f = 0;
        assert_int_equal(tcp_flags_parse(syn_ack[i], &f), 0);
        assert_int_equal(f, TCP_SYN | TCP_ACK);
    }
    assert_int_equal(tcp_flags_parse("ACK", &f), 0);
    assert_int_equal(f, TCP_ACK);
    assert_int_equal(tcp_flags_parse("fin|psh|urg|ece|cwr|rst", &f), 0);
    assert_int_equal(f, TCP_FIN | TCP_PSH | TCP_URG | TCP_ECE | TCP_CWR | TCP_RST);
    assert_int_equal(tcp_flags_parse("NONE", &f), 0);
    assert_int_equal(f, 0);
    f = 9;
    assert_int_equal(tcp_flags_parse("", &f), 0);
    assert_int_equal(f, 0);
}

static void flags_parse_rejects_unknown_names(void **state)
{
    static const char *const bad[] = {"SYNACK", "SYN,BOGUS", "SY", "SYNN", "ACK;FIN", "S"};
    uint8_t f = 0x5a;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(tcp_flags_parse(bad[i], &f), -1);
        assert_int_equal(f, 0x5a); /* untouched */
    }
    assert_int_equal(tcp_flags_parse(NULL, &f), -1);
}

static void flags_round_trip_every_byte(void **state)
{
    char b[40];
    unsigned v;
    uint8_t f;

    (void)state;
    for (v = 0; v < 256; v++) {
        assert_int_equal(tcp_flags_parse(tcp_flags_str((uint8_t)v, b, sizeof b), &f), 0);
        assert_int_equal(f, v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sum_matches_rfc1071_example),
        cmocka_unit_test(sum_of_a_known_ipv4_header_gives_b861),
        cmocka_unit_test(sum_pads_an_odd_byte_and_folds_the_initial_value),
        cmocka_unit_test(sum_by_wide_words_equals_the_word_by_word_sum),
        cmocka_unit_test(parse_reads_every_field_of_the_known_syn),
        cmocka_unit_test(encode_of_the_known_syn_gives_the_hand_checked_bytes),
        cmocka_unit_test(encode_needs_exactly_the_size_it_reports),
        cmocka_unit_test(encode_refuses_a_datagram_over_65535_bytes),
        cmocka_unit_test(encode_uses_ttl_64_unless_told),
        cmocka_unit_test(round_trip_keeps_every_field_with_all_options),
        cmocka_unit_test(round_trip_every_option_combination_and_flag_byte),
        cmocka_unit_test(round_trip_across_the_sequence_wrap),
        cmocka_unit_test(parse_skips_unknown_options_and_stops_at_eol),
        cmocka_unit_test(sack_blocks_follow_timestamps_in_every_layout),
        cmocka_unit_test(four_sack_blocks_without_timestamps),
        cmocka_unit_test(sack_option_of_a_bad_length_is_ignored),
        cmocka_unit_test(parse_steps_over_ip_options),
        cmocka_unit_test(parse_ignores_bytes_past_the_total_length),
        cmocka_unit_test(parse_ignores_the_reserved_bits),
        cmocka_unit_test(reject_truncated),
        cmocka_unit_test(reject_not_ipv4),
        cmocka_unit_test(reject_bad_ip_checksum),
        cmocka_unit_test(reject_fragments),
        cmocka_unit_test(reject_not_tcp),
        cmocka_unit_test(reject_bad_data_offset),
        cmocka_unit_test(reject_bad_option_lengths),
        cmocka_unit_test(reject_timestamps_of_the_wrong_length),
        cmocka_unit_test(parse_accepts_the_largest_option_area),
        cmocka_unit_test(reject_bad_tcp_checksum),
        cmocka_unit_test(rejected_segment_has_no_payload),
        cmocka_unit_test(reject_a_segment_moved_to_another_address),
        cmocka_unit_test(every_single_bit_flip_is_rejected),
        cmocka_unit_test(every_error_has_a_distinct_name),
        cmocka_unit_test(flags_print_in_fixed_order),
        cmocka_unit_test(flags_print_cut_short_in_a_small_buffer),
        cmocka_unit_test(flags_parse_accepts_every_spelling),
        cmocka_unit_test(flags_parse_rejects_unknown_names),
        cmocka_unit_test(flags_round_trip_every_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
