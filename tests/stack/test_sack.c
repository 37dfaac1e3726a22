/*
 * test_sack — the SACK blocks a receiver sends (RFC 2018 §4) under the
 * linux and bsd profiles, which agree SACK, and their absence where SACK
 * was not agreed. B is the receiver: the segments it takes are injected
 * as from A (packetdrill's way), B's ACKs stay on the wire, and each check
 * reads the last one B sent. Numbers are relative to B's RCV.NXT after the
 * handshake, plus one, as a packetdrill script writes them ("1001:2001").
 * The expectations come from RFC 2018 and the kernels: Linux
 * tcp_sack_new_ofo_skb, tcp_sack_extend, tcp_sack_maybe_coalesce,
 * tcp_sack_remove (net/ipv4/tcp_input.c) and tcp_established_options
 * (tcp_output.c); FreeBSD tcp_update_sack_list, tcp_update_dsack_list,
 * tcp_clean_sackreport (sys/netinet/tcp_sack.c) and tcp_addoptions; the
 * first exchanges of Linux's selftest tcp_dsack_mult.pkt.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tcp_conn.h"

static const char *const sack_profiles[] = {"linux", "bsd"};

typedef struct rx {
    harness *h;
    h_pair p;
    uint32_t base; /* B's RCV.NXT after the handshake, less one */
} rx;

static rx rx_new(const tcp_profile *prof)
{
    rx r;
    r.h = h_new(2, prof);
    r.p = h_establish(r.h, H_A, H_B, 80);
    r.base = h_template(r.h, H_B, r.p.server).seq - 1u;
    return r;
}

/* Data [from, to) (relative) from A to B, without options; then 2 ms, so
 * an ACK SACK compression holds (at most 1.1 ms here) has gone. */
static void data_in(rx *r, uint32_t from, uint32_t to)
{
    static const uint8_t zeros[8192];
    assert_true(to - from <= sizeof zeros);
    tcp_seg s = h_template(r->h, H_B, r->p.server);
    s.seq = r->base + from;
    s.flags = TCP_ACK | TCP_PSH;
    s.payload = zeros;
    s.len = to - from;
    h_inject(r->h, H_B, &s);
    h_advance(r->h, H_MS(2));
}

/* B's last segment acknowledges `ack` and carries the n blocks of want
 * (relative left, right pairs), in that order. */
static void expect_sack(const rx *r, uint32_t ack, unsigned n, const uint32_t *want)
{
    const tcp_seg *s = h_last_sent(r->h, H_B);
    assert_non_null(s);
    assert_int_equal(s->ack, r->base + ack);
    assert_int_equal(s->nsack, n);
    for (unsigned i = 0; i < n; i++) {
        uint32_t left, right;
        tcp_seg_sack(s, i, &left, &right);
        assert_int_equal(left, r->base + want[2 * i]);
        assert_int_equal(right, r->base + want[2 * i + 1]);
    }
}

#define EXPECT_SACK(r, ack, ...)                                                                   \
    expect_sack((r), (ack), sizeof((const uint32_t[]){__VA_ARGS__}) / (2 * sizeof(uint32_t)),      \
                (const uint32_t[]){__VA_ARGS__})

/* RFC 2018 §4: "The first SACK block ... MUST specify the contiguous block
 * of data containing the segment which triggered this ACK", then the most
 * recently reported other blocks; with timestamps three fit (§3). Linux's
 * tcp_dsack_mult.pkt, first four exchanges: sack 1001:2001, then
 * 1001:3001 (extended: tcp_sack_extend), then 4001:5001 1001:3001, then
 * 7001:8001 4001:5001 1001:3001. Filling holes drops the blocks RCV.NXT
 * reaches (Linux tcp_sack_remove, FreeBSD tcp_update_sack_list discards a
 * block whose start is at or below RCV.NXT), and the last fill leaves none
 * (tcp_sack_remove with the queue empty, FreeBSD tcp_clean_sackreport). */
static void blocks_in_rfc2018_order_per_profile(void **state)
{
    (void)state;
    for (size_t k = 0; k < 2; k++) {
        rx r = rx_new(h_profile_exact(sack_profiles[k]));
        data_in(&r, 1001, 2001);
        EXPECT_SACK(&r, 1, 1001, 2001);
        data_in(&r, 2001, 3001);
        EXPECT_SACK(&r, 1, 1001, 3001);
        data_in(&r, 4001, 5001);
        EXPECT_SACK(&r, 1, 4001, 5001, 1001, 3001);
        data_in(&r, 7001, 8001);
        EXPECT_SACK(&r, 1, 7001, 8001, 4001, 5001, 1001, 3001);
        assert_true(h_last_sent(r.h, H_B)->has_ts); /* so three blocks, not four */
        data_in(&r, 1, 1001);
        EXPECT_SACK(&r, 3001, 7001, 8001, 4001, 5001);
        data_in(&r, 3001, 4001);
        EXPECT_SACK(&r, 5001, 7001, 8001);
        data_in(&r, 5001, 7001);
        EXPECT_SACK(&r, 8001);
        h_free(r.h);
    }
}

/* A segment that joins two held ranges makes one block, first (Linux
 * tcp_sack_maybe_coalesce after tcp_sack_extend; FreeBSD merges every
 * block touching the new one into head_blk); the others keep their order. */
static void joining_segment_coalesces_blocks_per_profile(void **state)
{
    (void)state;
    for (size_t k = 0; k < 2; k++) {
        rx r = rx_new(h_profile_exact(sack_profiles[k]));
        data_in(&r, 1001, 2001);
        data_in(&r, 5001, 6001);
        data_in(&r, 3001, 4001);
        EXPECT_SACK(&r, 1, 3001, 4001, 5001, 6001, 1001, 2001);
        data_in(&r, 2001, 3001);
        EXPECT_SACK(&r, 1, 1001, 4001, 5001, 6001);
        data_in(&r, 4001, 5001);
        EXPECT_SACK(&r, 1, 1001, 6001);
        h_free(r.h);
    }
}

/* Data B already holds out of order is reported twice (RFC 2883 §4: "the
 * first block of the SACK option ... the D-SACK block", then "the SACK
 * block containing the segment that triggered this ACK"). Linux
 * tcp_data_queue_ofo: "All the bits are present. Drop." with
 * tcp_dsack_set, then add_sack, whose tcp_sack_new_ofo_skb moves that
 * block first; tcp_options_write writes tp->duplicate_sack before
 * tp->selective_acks. FreeBSD tcp_update_dsack_list: the overlap first,
 * then the block it lies in (mid_blk), then the others. Three fit beside
 * timestamps, so the oldest block is not carried this time. */
static void duplicate_of_held_data_is_dsacked_then_its_block_per_profile(void **state)
{
    (void)state;
    for (size_t k = 0; k < 2; k++) {
        rx r = rx_new(h_profile_exact(sack_profiles[k]));
        data_in(&r, 1001, 3001);
        data_in(&r, 4001, 5001);
        data_in(&r, 7001, 8001);
        EXPECT_SACK(&r, 1, 7001, 8001, 4001, 5001, 1001, 3001);
        data_in(&r, 1001, 2001);
        EXPECT_SACK(&r, 1, 1001, 2001, 1001, 3001, 7001, 8001);
        h_free(r.h);
    }
}

/* The rest of Linux's selftest tcp_dsack_mult.pkt (no timestamps there):
 * 1:6001 in order over held 1001:3001 and 4001:5001 reports 1001:3001 as
 * D-SACK, then 7001:8001 (tcp_ofo_queue: the first out-of-order skb below
 * the new RCV.NXT gives tcp_dsack_extend its part; 4001:5001 does not
 * touch it); 6001:8001 reports 7001:8001; 1:1001, all old, reports
 * 1:1001 (tcp_send_dupack). FreeBSD gives the same blocks
 * (tcp_update_dsack_list: the overlap with the lowest block below
 * rcv_nxt; tcp_do_segment's todrop: the octets dropped). */
static void dsack_mult_selftest_per_profile(void **state)
{
    (void)state;
    for (size_t k = 0; k < 2; k++) {
        tcp_profile prof = *h_profile_exact(sack_profiles[k]);
        prof.send_timestamps = false;
        rx r = rx_new(&prof);
        data_in(&r, 1001, 2001);
        data_in(&r, 2001, 3001);
        data_in(&r, 4001, 5001);
        data_in(&r, 7001, 8001);
        EXPECT_SACK(&r, 1, 7001, 8001, 4001, 5001, 1001, 3001);
        data_in(&r, 1, 6001);
        EXPECT_SACK(&r, 6001, 1001, 3001, 7001, 8001);
        data_in(&r, 6001, 8001);
        EXPECT_SACK(&r, 8001, 7001, 8001);
        data_in(&r, 1, 1001);
        EXPECT_SACK(&r, 8001, 1, 1001);
        h_free(r.h);
    }
}

/* A D-SACK block is reported once (Linux tcp_options_write clears
 * rx_opt.dsack once written; FreeBSD tcp_output, tcp_clean_dsack_blocks
 * after a segment is sent); a segment partly old reports its old part
 * (Linux tcp_data_queue "Partial packet": tcp_dsack_set(seq, rcv_nxt);
 * FreeBSD todrop). */
static void dsack_once_and_partial_per_profile(void **state)
{
    (void)state;
    for (size_t k = 0; k < 2; k++) {
        rx r = rx_new(h_profile_exact(sack_profiles[k]));
        data_in(&r, 1, 1001);
        data_in(&r, 501, 1501);
        h_advance(r.h, H_MS(500));
        EXPECT_SACK(&r, 1501, 501, 1001);
        data_in(&r, 1501, 2001);
        h_advance(r.h, H_MS(500));
        EXPECT_SACK(&r, 2001);
        h_free(r.h);
    }
}

/* The rfc9293 profile sends no SACK option at all, and D-SACK needs SACK
 * (Linux tcp_dsack_set: tcp_is_sack; FreeBSD: TF_SACK_PERMIT): with SACK
 * not agreed, an old segment is answered without blocks. */
static void no_dsack_unless_sack_agreed(void **state)
{
    (void)state;
    const char *const names[] = {"linux", "bsd", "rfc9293"};
    for (size_t k = 0; k < 3; k++) {
        tcp_profile prof = *h_profile_exact(names[k]);
        prof.send_sack_perm = false;
        rx r = rx_new(&prof);
        data_in(&r, 1, 1001);
        data_in(&r, 1, 1001);
        EXPECT_SACK(&r, 1001);
        h_free(r.h);
    }
}

/* The profile knob: linux with dsack "none" reports no D-SACK, its SACK
 * blocks unchanged. */
static void dsack_knob_none_sends_blocks_only(void **state)
{
    (void)state;
    tcp_profile prof = *h_profile_exact("linux");
    prof.dsack = TCP_DSACK_NONE;
    rx r = rx_new(&prof);
    data_in(&r, 1001, 2001);
    data_in(&r, 1001, 2001);
    EXPECT_SACK(&r, 1, 1001, 2001);
    data_in(&r, 1, 1001);
    data_in(&r, 1, 1001);
    EXPECT_SACK(&r, 2001);
    h_free(r.h);
}

/* A FIN sent again after it was taken: Linux counts it in end_seq
 * (tcp_data_queue from tcp_rcv_state_process in CLOSE-WAIT: old, so
 * tcp_dsack_set(seq, end_seq)): D-SACK 1001:1002. FreeBSD's todrop counts
 * data octets only ("todrop > tlen": the FIN is dropped, todrop = tlen =
 * 0), so no D-SACK. */
static void retransmitted_fin_dsack_per_profile(void **state)
{
    (void)state;
    for (size_t k = 0; k < 2; k++) {
        rx r = rx_new(h_profile_exact(sack_profiles[k]));
        data_in(&r, 1, 1001);
        tcp_seg f = h_template(r.h, H_B, r.p.server);
        f.seq = r.base + 1001;
        f.flags = TCP_ACK | TCP_FIN;
        h_inject(r.h, H_B, &f);
        h_advance(r.h, H_MS(500));
        EXPECT_SACK(&r, 1002);
        h_inject(r.h, H_B, &f);
        h_advance(r.h, H_MS(2));
        if (k == 0)
            EXPECT_SACK(&r, 1002, 1001, 1002);
        else
            EXPECT_SACK(&r, 1002);
        h_free(r.h);
    }
}

/* Data read already, sent again with the FIN (Linux's selftest
 * tcp_close_no_rst.pkt): tcp_data_queue's partial packet sets a D-SACK
 * block for 1:1001, but tcp_fin, taking the FIN in sequence, calls
 * tcp_sack_reset, so the FIN's ACK goes without it (profile
 * sack_fin_reset). With the knob off the block would go, as for any
 * partly old segment (dsack_once_and_partial_per_profile). */
static void fin_taken_forgets_the_dsack_block_linux(void **state)
{
    (void)state;
    for (int reset = 1; reset >= 0; reset--) {
        tcp_profile prof = *h_profile_exact("linux");
        prof.sack_fin_reset = reset;
        rx r = rx_new(&prof);
        data_in(&r, 1, 1001);
        static const uint8_t zeros[1000];
        tcp_seg f = h_template(r.h, H_B, r.p.server);
        f.seq = r.base + 1;
        f.flags = TCP_ACK | TCP_FIN;
        f.payload = zeros;
        f.len = 1000;
        h_inject(r.h, H_B, &f);
        h_advance(r.h, H_MS(500));
        if (reset)
            EXPECT_SACK(&r, 1002);
        else
            EXPECT_SACK(&r, 1002, 1, 1001);
        h_free(r.h);
    }
}

/* A FIN held out of order: Linux keeps it in the out-of-order queue and
 * its end_seq counts it (tcp_v4_fill_cb: seq + syn + fin + len), which
 * tcp_data_queue_ofo gives tcp_sack_new_ofo_skb: the block's right edge is
 * one past the data, and a bare FIN makes a block of its own octet.
 * FreeBSD reports data octets only (tcp_do_segment: the SACK update takes
 * save_start + save_tlen, and none for a bare FIN, save_tlen == 0).
 * Profile sack_fin. */
static void fin_held_out_of_order_in_block_per_profile(void **state)
{
    (void)state;
    for (size_t k = 0; k < 2; k++) {
        bool linux_rule = k == 0;
        rx r = rx_new(h_profile_exact(sack_profiles[k]));
        tcp_seg f = h_template(r.h, H_B, r.p.server);
        static const uint8_t zeros[1000];
        f.seq = r.base + 2001;
        f.flags = TCP_ACK | TCP_FIN;
        f.payload = zeros;
        f.len = 1000;
        h_inject(r.h, H_B, &f);
        h_advance(r.h, H_MS(2));
        if (linux_rule)
            EXPECT_SACK(&r, 1, 2001, 3002);
        else
            EXPECT_SACK(&r, 1, 2001, 3001);
        data_in(&r, 1001, 2001); /* joins it */
        if (linux_rule)
            EXPECT_SACK(&r, 1, 1001, 3002);
        else
            EXPECT_SACK(&r, 1, 1001, 3001);
        data_in(&r, 1, 1001); /* all in order, FIN taken */
        EXPECT_SACK(&r, 3002);
        h_free(r.h);

        r = rx_new(h_profile_exact(sack_profiles[k]));
        f = h_template(r.h, H_B, r.p.server);
        f.seq = r.base + 1001;
        f.flags = TCP_ACK | TCP_FIN;
        h_inject(r.h, H_B, &f);
        h_advance(r.h, H_MS(2));
        if (linux_rule)
            EXPECT_SACK(&r, 1, 1001, 1002);
        else
            EXPECT_SACK(&r, 1);
        data_in(&r, 1, 501); /* the FIN stays held, its block too */
        if (linux_rule)
            EXPECT_SACK(&r, 501, 1001, 1002);
        else
            EXPECT_SACK(&r, 501);
        data_in(&r, 501, 1001);
        EXPECT_SACK(&r, 1002);
        h_free(r.h);
    }
}

/* [from, to) (relative, at most 64 octets) from A with ACK and `flags`,
 * then 2 ms; B must still be ESTABLISHED with its invariants kept (the
 * harness's checker reports a broken one here). */
static void hostile_in(rx *r, uint32_t from, uint32_t to, uint8_t flags)
{
    static const uint8_t zeros[64];
    assert_true(to - from <= sizeof zeros);
    tcp_seg f = h_template(r->h, H_B, r->p.server);
    f.seq = r->base + from;
    f.flags = (uint8_t)(TCP_ACK | flags);
    f.payload = zeros;
    f.len = to - from;
    h_inject(r->h, H_B, &f);
    h_advance(r->h, H_MS(2));
    h_expect_state(r->h, H_B, r->p.server, TCP_ESTABLISHED);
}

/* A peer that contradicts its own FIN (hostile input the fuzzer found):
 * data with a FIN at 1005, then data over it with a FIN at 1044, then a
 * bare FIN at 2001. The connection keeps the first FIN (on_text), so only
 * that one counts in a block (profile sack_fin); a block ending at a FIN
 * the connection does not hold would cover an octet not held. The
 * invariant checker (tcp_check, on in the harness) holds every block to
 * the octets held; h_expect_state reports a violation. */
static void contradicting_fins_keep_blocks_on_held_octets_per_profile(void **state)
{
    (void)state;
    for (size_t k = 0; k < 2; k++) {
        rx r = rx_new(h_profile_exact(sack_profiles[k]));
        hostile_in(&r, 1001, 1005, TCP_FIN);
        hostile_in(&r, 1003, 1044, TCP_FIN);
        hostile_in(&r, 2001, 2001, TCP_FIN);
        /* the held data, 1001-1044, in one block; no block of its own
         * for the FIN at 2001 */
        EXPECT_SACK(&r, 1, 1001, 1044);
        h_free(r.h);
    }
}

/* Data beyond a FIN held out of order (hostile input the fuzzer found):
 * 1001-1005 with its FIN at 1005, then 1006-1026. Linux's out-of-order
 * queue holds the FIN's skb (end_seq 1006), so the second segment touches
 * its block and extends it (tcp_sack_extend: seq 1006 not after end 1006):
 * one block 1001-1026, over the FIN's octet. FreeBSD's blocks are data
 * only (save_start + save_tlen): 1006-1026 and 1001-1005, the FIN's octet
 * between them. The invariant checker counts a FIN held out of order as
 * held where the profile's blocks count it (sack_fin). */
static void data_past_a_held_fin_extends_its_block_per_profile(void **state)
{
    (void)state;
    for (size_t k = 0; k < 2; k++) {
        rx r = rx_new(h_profile_exact(sack_profiles[k]));
        hostile_in(&r, 1001, 1005, TCP_FIN);
        hostile_in(&r, 1006, 1026, 0);
        if (k == 0)
            EXPECT_SACK(&r, 1, 1001, 1026);
        else
            EXPECT_SACK(&r, 1, 1006, 1026, 1001, 1005);
        h_free(r.h);
    }
}

/* An RST answering a segment carries no options: Linux tcp_v4_send_reset
 * builds its own header, with MD5 or TCP-AO options only; FreeBSD
 * tcp_respond sends the bare header. Data after close() draws one
 * (rst_on_data_after_close), here while B holds data out of order. */
static void rst_reply_carries_no_blocks_per_profile(void **state)
{
    (void)state;
    for (size_t k = 0; k < 2; k++) {
        rx r = rx_new(h_profile_exact(sack_profiles[k]));
        data_in(&r, 1001, 2001);
        EXPECT_SACK(&r, 1, 1001, 2001);
        tcp_close(h_stack(r.h, H_B), r.p.server);
        h_advance(r.h, H_MS(2));
        data_in(&r, 3001, 4001);
        const tcp_seg *s = h_last_sent(r.h, H_B);
        assert_non_null(s);
        assert_true(s->flags & TCP_RST);
        assert_int_equal(s->nsack, 0);
        assert_false(s->has_ts);
        h_free(r.h);
    }
}

/* An active RST carries the options of the connection by profile
 * rst_opts. Linux tcp_send_active_reset sends its RST through
 * tcp_transmit_skb, whose tcp_established_options adds the timestamps and
 * the SACK blocks, as on any segment; FreeBSD tcp_drop moves to CLOSED and
 * calls tcp_output, which adds the timestamps (TF_RCVD_TSTMP; RFC 7323
 * §3.2: TSopt "SHOULD be sent in an <RST> segment") and SACK blocks only
 * in an established state. Knob rst_opts "none" sends it bare. */
static void active_rst_options_per_profile(void **state)
{
    (void)state;
    for (size_t k = 0; k < 3; k++) {
        tcp_profile prof = *h_profile_exact(sack_profiles[k % 2]);
        if (k == 2)
            prof.rst_opts = TCP_RST_OPTS_NONE;
        rx r = rx_new(&prof);
        data_in(&r, 1001, 2001);
        EXPECT_SACK(&r, 1, 1001, 2001);
        assert_int_equal(tcp_abort(h_stack(r.h, H_B), r.p.server), 0);
        h_advance(r.h, H_MS(1));
        const tcp_seg *s = h_last_sent(r.h, H_B);
        assert_non_null(s);
        assert_true(s->flags & TCP_RST);
        assert_int_equal(s->has_ts, k < 2);
        if (k == 0)
            EXPECT_SACK(&r, 1, 1001, 2001);
        else
            assert_int_equal(s->nsack, 0);
        h_free(r.h);
    }
}

/* Without timestamps 40 bytes hold four blocks (RFC 2018 §3; Linux
 * tcp_established_options: (40 - 4) / 8; FreeBSD tcp_addoptions: (40 - 4)
 * / TCPOLEN_SACK). A fifth range is held and its block goes first; the
 * oldest is forgotten (Linux tcp_sack_new_ofo_skb: "If the sack array is
 * full, forget about the last one", TCP_NUM_SACKS = 4; FreeBSD keeps six,
 * MAX_SACK_BLKS, and sends the first four: the same segment). The
 * forgotten range is still held: filling up to it acknowledges it. */
static void four_blocks_and_a_fifth_range_per_profile(void **state)
{
    (void)state;
    for (size_t k = 0; k < 2; k++) {
        tcp_profile prof = *h_profile_exact(sack_profiles[k]);
        prof.send_timestamps = false;
        rx r = rx_new(&prof);
        data_in(&r, 1001, 2001);
        data_in(&r, 3001, 4001);
        data_in(&r, 5001, 6001);
        data_in(&r, 7001, 8001);
        assert_false(h_last_sent(r.h, H_B)->has_ts);
        EXPECT_SACK(&r, 1, 7001, 8001, 5001, 6001, 3001, 4001, 1001, 2001);
        data_in(&r, 9001, 10001);
        EXPECT_SACK(&r, 1, 9001, 10001, 7001, 8001, 5001, 6001, 3001, 4001);
        data_in(&r, 1, 1001);
        EXPECT_SACK(&r, 2001, 9001, 10001, 7001, 8001, 5001, 6001, 3001, 4001);
        h_free(r.h);
    }
}

/* SACK is used only when both SYNs carried SACK-permitted (RFC 2018 §2):
 * A offering none (send_sack_perm off on both stacks here, as the rfc9293
 * profile), B's duplicate ACKs carry no blocks. */
static void no_blocks_unless_agreed(void **state)
{
    (void)state;
    const char *const names[] = {"linux", "bsd", "rfc9293"};
    for (size_t k = 0; k < 3; k++) {
        tcp_profile prof = *h_profile_exact(names[k]);
        prof.send_sack_perm = false;
        rx r = rx_new(&prof);
        data_in(&r, 1001, 2001);
        EXPECT_SACK(&r, 1);
        data_in(&r, 3001, 4001);
        EXPECT_SACK(&r, 1);
        h_free(r.h);
    }
}

/* A data segment B sends while it holds data out of order carries the
 * blocks too, and its payload shrinks by their bytes: Linux
 * tcp_current_mss subtracts what tcp_established_options adds beyond the
 * timestamps (header_len - tcp_header_len), FreeBSD tcp_output limits len
 * to t_maxseg - optlen. One block: 1448 - 12 = 1436; three: 1448 - 28 =
 * 1420. Once nothing is held the segments are full again. */
static void blocks_shrink_data_segments_per_profile(void **state)
{
    (void)state;
    static const uint8_t out[3 * 1448];
    for (size_t k = 0; k < 2; k++) {
        tcp_profile prof = *h_profile_exact(sack_profiles[k]);
        rx r = rx_new(&prof);
        data_in(&r, 1001, 2001);
        size_t before = h_sent_count(r.h, H_B);
        assert_int_equal(tcp_send(h_stack(r.h, H_B), r.p.server, out, 1436), 1436);
        assert_int_equal(tcp_send(h_stack(r.h, H_B), r.p.server, out, 1436), 1436);
        const h_dgram *d = h_sent(r.h, H_B, before);
        assert_non_null(d);
        assert_int_equal(d->seg.len, 1436);
        assert_int_equal(d->seg.nsack, 1);
        d = h_sent(r.h, H_B, before + 1);
        assert_non_null(d);
        assert_int_equal(d->seg.len, 1436);
        data_in(&r, 3001, 4001);
        data_in(&r, 5001, 6001);
        /* cwnd 10 segments, the peer's window open: what is queued goes */
        before = h_sent_count(r.h, H_B);
        assert_int_equal(tcp_send(h_stack(r.h, H_B), r.p.server, out, 1420), 1420);
        d = h_sent(r.h, H_B, before);
        assert_non_null(d);
        assert_int_equal(d->seg.len, 1420);
        assert_int_equal(d->seg.nsack, 3);
        data_in(&r, 1, 1001);
        data_in(&r, 2001, 3001);
        data_in(&r, 4001, 5001);
        EXPECT_SACK(&r, 6001);
        before = h_sent_count(r.h, H_B);
        assert_int_equal(tcp_send(h_stack(r.h, H_B), r.p.server, out, 1448), 1448);
        d = h_sent(r.h, H_B, before);
        assert_non_null(d);
        assert_int_equal(d->seg.len, 1448);
        assert_int_equal(d->seg.nsack, 0);
        h_free(r.h);
    }
}

/* An RST at the highest right edge of the blocks B would send resets the
 * connection under linux (tcp_validate_incoming: "If seq num matches
 * RCV.NXT or (RCV.NXT - 1) after a FIN, or the right-most SACK block,
 * then RESET the connection"); at another block's edge it draws a
 * challenge ACK, which carries the blocks. Under bsd (tcp_do_segment:
 * th_seq != rcv_nxt) and RFC 5961 §3.2 both draw a challenge ACK. */
static void rst_at_highest_sack_edge_per_profile(void **state)
{
    (void)state;
    for (size_t k = 0; k < 2; k++) {
        bool linux = k == 0;
        rx r = rx_new(h_profile_exact(sack_profiles[k]));
        data_in(&r, 3001, 4001);
        data_in(&r, 1001, 2001);
        tcp_seg rst = h_template(r.h, H_B, r.p.server);
        rst.flags = TCP_RST;
        rst.seq = r.base + 2001;
        size_t before = h_sent_count(r.h, H_B);
        h_inject(r.h, H_B, &rst);
        assert_int_equal(h_sent_count(r.h, H_B), before + 1); /* challenge ACK */
        EXPECT_SACK(&r, 1, 1001, 2001, 3001, 4001);
        h_expect_state(r.h, H_B, r.p.server, TCP_ESTABLISHED);
        h_advance(r.h, H_S(1)); /* past the challenge ACKs' rate limits */
        rst.seq = r.base + 4001;
        before = h_sent_count(r.h, H_B);
        h_inject(r.h, H_B, &rst);
        if (linux) {
            assert_int_equal(h_sent_count(r.h, H_B), before);
            h_expect_state(r.h, H_B, r.p.server, TCP_CLOSED);
        } else {
            assert_int_equal(h_sent_count(r.h, H_B), before + 1);
            h_expect_state(r.h, H_B, r.p.server, TCP_ESTABLISHED);
        }
        h_free(r.h);
    }
}

/* The tail loss probe sends the last segment again, cut at the MSS of the
 * moment (Linux tcp_send_loss_probe: mss = tcp_current_mss, the last skb
 * split at (pcount - 1) * mss), so while blocks are due it is a segment of
 * 1436 bytes, as those sent: B's 2872 bytes went as 1436 + 1436, and the
 * probe is the second of them, not 1424 bytes cut at 1448. */
static void loss_probe_is_cut_at_the_shrunk_mss(void **state)
{
    (void)state;
    static const uint8_t out[2 * 1436];
    rx r = rx_new(h_linux_exact());
    data_in(&r, 1001, 2001);
    size_t before = h_sent_count(r.h, H_B);
    assert_int_equal(tcp_send(h_stack(r.h, H_B), r.p.server, out, sizeof out), sizeof out);
    assert_int_equal(h_sent_count(r.h, H_B), before + 2);
    uint32_t first = h_sent(r.h, H_B, before)->seg.seq;
    assert_int_equal(h_sent(r.h, H_B, before)->seg.len, 1436);
    assert_int_equal(h_sent(r.h, H_B, before + 1)->seg.len, 1436);
    h_advance(r.h, H_MS(400)); /* the probe timeout, well before the RTO */
    assert_true(h_sent_count(r.h, H_B) > before + 2);
    const h_dgram *d = h_sent(r.h, H_B, before + 2);
    assert_int_equal(d->seg.seq, first + 1436);
    assert_int_equal(d->seg.len, 1436);
    assert_int_equal(d->seg.nsack, 1);
    h_free(r.h);
}

/* The window scale B announced in its SYN,ACK. */
static uint8_t b_wscale(const rx *r)
{
    for (size_t k = 0; k < h_sent_count(r->h, H_B); k++) {
        const h_dgram *d = h_sent(r->h, H_B, k);
        if (d->seg.flags & TCP_SYN)
            return d->seg.has_wscale ? d->seg.wscale : 0;
    }
    fail_msg("B sent no SYN,ACK");
    return 0;
}

/* All of a window but its head held out of order: the highest block's
 * right edge is the window's (RCV.NXT + RCV.WND), where the peer's SND.NXT
 * and so its RST lie. Linux's tcp_sequence takes a segment of no length
 * there (!after(end_seq, rcv_nxt + tcp_receive_window)), and
 * tcp_validate_incoming then resets at the right-most SACK block, where
 * RFC 9293's Table 6 (SEG.SEQ < RCV.NXT + RCV.WND) finds the RST out of
 * the window. */
static void linux_rst_at_sack_edge_on_window_edge_resets(void **state)
{
    (void)state;
    rx r = rx_new(h_linux_exact());
    uint8_t ws = b_wscale(&r);
    uint32_t end = 2001, edge = 0;
    data_in(&r, 1001, end);
    for (int i = 0; i < 64; i++) { /* the window may grow as data comes in */
        const tcp_seg *ack = h_last_sent(r.h, H_B);
        edge = ack->ack + ((uint32_t)ack->wnd << ws) - r.base;
        if (end == edge)
            break;
        uint32_t next = edge - end > 4096 ? end + 4096 : edge;
        data_in(&r, end, next);
        end = next;
    }
    assert_int_equal(end, edge);
    EXPECT_SACK(&r, 1, 1001, edge);
    tcp_seg rst = h_template(r.h, H_B, r.p.server);
    rst.flags = TCP_RST;
    rst.seq = r.base + edge;
    size_t before = h_sent_count(r.h, H_B);
    h_inject(r.h, H_B, &rst);
    assert_int_equal(h_sent_count(r.h, H_B), before);
    h_expect_state(r.h, H_B, r.p.server, TCP_CLOSED);
    h_free(r.h);
}

/* Linux tcp_sack_new_ofo_skb: while SACK compression holds an ACK, a
 * segment that lands beyond the second most recent block
 * (TCP_SACK_BLOCKS_EXPECTED = 2) sends the held ACK at once
 * (tcp_sack_compress_send_ack), with the blocks as they stand: the block
 * it extends is grown in place, not yet moved first. Its own ACK is then
 * held as before (dup_ack_counter is past TCP_FASTRETRANS_THRESH). A
 * segment that extends the first or second block sends nothing. Window
 * growth (grow_window) is off so that no quick ACK hides the hold. */
static void linux_segment_beyond_second_block_sends_held_ack(void **state)
{
    (void)state;
    tcp_profile prof = *h_linux_exact();
    prof.grow_window = false;
    rx r = rx_new(&prof);
    data_in(&r, 1001, 2001); /* three duplicate ACKs at once */
    data_in(&r, 3001, 4001);
    data_in(&r, 5001, 6001);
    EXPECT_SACK(&r, 1, 5001, 6001, 3001, 4001, 1001, 2001);
    static const uint8_t zeros[1000];
    tcp_seg s = h_template(r.h, H_B, r.p.server);
    s.payload = zeros;
    size_t before = h_sent_count(r.h, H_B);
    s.seq = r.base + 7001; /* a new block: held (nothing held to send yet) */
    s.len = 500;
    h_inject(r.h, H_B, &s);
    s.seq = r.base + 7501; /* extends the first block: held */
    h_inject(r.h, H_B, &s);
    s.seq = r.base + 6001; /* joins the first and second blocks: held */
    s.len = 1000;
    h_inject(r.h, H_B, &s);
    assert_int_equal(h_sent_count(r.h, H_B), before);
    s.seq = r.base + 2001; /* extends 1001:2001, now the third block */
    s.len = 500;
    h_inject(r.h, H_B, &s);
    assert_int_equal(h_sent_count(r.h, H_B), before + 1);
    EXPECT_SACK(&r, 1, 5001, 8001, 3001, 4001, 1001, 2501);
    h_advance(r.h, H_MS(2));
    assert_int_equal(h_sent_count(r.h, H_B), before + 2);
    EXPECT_SACK(&r, 1, 1001, 2501, 5001, 8001, 3001, 4001);
    h_free(r.h);
}

/* Linux tcp_data_queue_ofo: a duplicate that starts inside held data sets
 * the D-SACK block ("All the bits are present", "Partial overlap":
 * tcp_dsack_set), replacing one that still waits; tcp_dsack_extend grows a
 * waiting block only for a segment that starts in a hole or at a held
 * segment it covers (rb_replace_node, merge_right), and in tcp_ofo_queue.
 * SACK compression holds the ACK of the first duplicate here
 * (dup_ack_counter past TCP_FASTRETRANS_THRESH, neither segment beyond the
 * second block), so the second finds the first's block waiting: the ACK
 * reports the second, before its block (tcp_sack_new_ofo_skb moved it
 * first). Window growth (grow_window) is off so that no quick ACK hides
 * the hold. */
static void linux_dsack_of_held_data_replaces_a_waiting_one(void **state)
{
    (void)state;
    tcp_profile prof = *h_linux_exact();
    prof.grow_window = false;
    rx r = rx_new(&prof);
    data_in(&r, 1001, 2001); /* three duplicate ACKs at once */
    data_in(&r, 3001, 4001);
    data_in(&r, 5001, 6001);
    EXPECT_SACK(&r, 1, 5001, 6001, 3001, 4001, 1001, 2001);
    static const uint8_t zeros[1000];
    tcp_seg s = h_template(r.h, H_B, r.p.server);
    s.payload = zeros;
    size_t before = h_sent_count(r.h, H_B);
    s.seq = r.base + 3001; /* all of 3001:4001 again: held */
    s.len = 1000;
    h_inject(r.h, H_B, &s);
    s.seq = r.base + 5501; /* 5501:6001 again, now the second block: held */
    s.len = 500;
    h_inject(r.h, H_B, &s);
    assert_int_equal(h_sent_count(r.h, H_B), before);
    h_advance(r.h, H_MS(2));
    assert_int_equal(h_sent_count(r.h, H_B), before + 1);
    EXPECT_SACK(&r, 1, 5501, 6001, 5001, 6001, 3001, 4001);
    h_free(r.h);
}

/* Hostile input: a peer sends a thousand one-octet segments, each out of
 * order and apart from the others (every other octet). Memory stays
 * bounded: TCP_OOO_MAX ranges are held, each later segment that would need
 * a range of its own is dropped and ACKed (docs/stack.md), the stack holds
 * no more after the thousandth than after the sixteenth but the receive
 * ring, which reaches no further than the buffer offered, and no more than
 * TCP_SACK_BLOCKS blocks are kept; every ACK acknowledges RCV.NXT and
 * carries at most the three blocks that fit beside timestamps (RFC 2018
 * §3), the first the newest range held (the invariant SACK, checked after every
 * event here). Data in order over all of it then takes every range held:
 * RCV.NXT goes to its end and no SACK block is left. */
static void many_tiny_out_of_order_segments_stay_bounded_per_profile(void **state)
{
    (void)state;
    for (size_t k = 0; k < 2; k++) {
        rx r = rx_new(h_profile_exact(sack_profiles[k]));
        tcp_mem at16 = {0}, now;
        for (uint32_t i = 0; i < 1000; i++) {
            uint32_t at = 1001u + 2u * i;
            data_in(&r, at, at + 1u);
            const tcp_seg *s = h_last_sent(r.h, H_B);
            assert_non_null(s);
            assert_int_equal(s->ack, r.base + 1u);
            assert_int_equal(s->nsack, i < 2 ? i + 1u : 3u);
            uint32_t left, right;
            tcp_seg_sack(s, 0, &left, &right);
            uint32_t newest = i < TCP_OOO_MAX ? at : 1001u + 2u * (TCP_OOO_MAX - 1u);
            assert_int_equal(left, r.base + newest);
            assert_int_equal(right, r.base + newest + 1u);
            if (i == 15)
                tcp_stack_mem(h_stack(r.h, H_B), &at16);
        }
        tcp_stack_mem(h_stack(r.h, H_B), &now);
        assert_int_equal(now.total_bytes - now.ring_bytes, at16.total_bytes - at16.ring_bytes);
        const tcp_conn *c = tcp_stack_find(h_stack(r.h, H_B), r.p.server);
        assert_non_null(c);
        /* the ring reaches no further than the receive buffer offered */
        assert_true(tcp_ring_cap(&c->rcvq) <= tcp_rcv_space(c) + (1u << c->rcv_wscale));
        assert_int_equal(c->ooo_n, TCP_OOO_MAX);
        assert_true(c->ooo->nsack <= TCP_SACK_BLOCKS);
        data_in(&r, 1, 3001);
        const tcp_seg *s = h_last_sent(r.h, H_B);
        assert_int_equal(s->ack, r.base + 3001u);
        for (unsigned i = 0; i < s->nsack; i++) { /* a D-SACK block at most, below RCV.NXT */
            uint32_t left, right;
            tcp_seg_sack(s, i, &left, &right);
            assert_true(tcp_seq_le(right, r.base + 3001u));
        }
        assert_int_equal(c->ooo_n, 0);
        assert_int_equal(c->ooo->nsack, 0);
        h_free(r.h);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(blocks_in_rfc2018_order_per_profile),
        cmocka_unit_test(joining_segment_coalesces_blocks_per_profile),
        cmocka_unit_test(duplicate_of_held_data_is_dsacked_then_its_block_per_profile),
        cmocka_unit_test(dsack_mult_selftest_per_profile),
        cmocka_unit_test(dsack_once_and_partial_per_profile),
        cmocka_unit_test(no_dsack_unless_sack_agreed),
        cmocka_unit_test(dsack_knob_none_sends_blocks_only),
        cmocka_unit_test(retransmitted_fin_dsack_per_profile),
        cmocka_unit_test(fin_taken_forgets_the_dsack_block_linux),
        cmocka_unit_test(fin_held_out_of_order_in_block_per_profile),
        cmocka_unit_test(contradicting_fins_keep_blocks_on_held_octets_per_profile),
        cmocka_unit_test(data_past_a_held_fin_extends_its_block_per_profile),
        cmocka_unit_test(rst_reply_carries_no_blocks_per_profile),
        cmocka_unit_test(active_rst_options_per_profile),
        cmocka_unit_test(four_blocks_and_a_fifth_range_per_profile),
        cmocka_unit_test(many_tiny_out_of_order_segments_stay_bounded_per_profile),
        cmocka_unit_test(no_blocks_unless_agreed),
        cmocka_unit_test(blocks_shrink_data_segments_per_profile),
        cmocka_unit_test(loss_probe_is_cut_at_the_shrunk_mss),
        cmocka_unit_test(rst_at_highest_sack_edge_per_profile),
        cmocka_unit_test(linux_rst_at_sack_edge_on_window_edge_resets),
        cmocka_unit_test(linux_segment_beyond_second_block_sends_held_ack),
        cmocka_unit_test(linux_dsack_of_held_data_replaces_a_waiting_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
