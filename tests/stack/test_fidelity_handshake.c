/*
 * test_fidelity_handshake — the SYN and SYN,ACK each profile sends and the
 * handshake rules that differ between kernels, one test per rule. Expected
 * bytes and times come from the sources named at each test: Linux
 * tcp_options_write() / tcp_select_initial_window() (net/ipv4/tcp_output.c)
 * and tcp_rcv_synsent_state_process() (net/ipv4/tcp_input.c), FreeBSD
 * tcp_addoptions() (sys/netinet/tcp_output.c) and tcp_timer_keep()
 * (sys/netinet/tcp_timer.c), packetdrill's own option strings, and what
 * Linux 6.18 sent in `tcpsim kernel` runs (docs/kernel.md).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "harness.h"

static harness *with(const tcp_profile *p)
{
    return h_new(2, p);
}

static harness *named(const char *name)
{
    return with(tcp_profile_find(name));
}

/* The option bytes of the k-th segment stack sent (after the 20-byte IPv4
 * and 20-byte TCP headers), checked against want. */
static void expect_options(const harness *h, size_t stack, size_t k, const uint8_t *want, size_t n)
{
    const h_dgram *d = h_sent(h, stack, k);
    assert_non_null(d);
    size_t doff = (size_t)(d->bytes[20 + 12] >> 4) * 4;
    assert_int_equal(doff - 20, n);
    assert_memory_equal(d->bytes + 40, want, n);
}

/* A peer SYN to `to`:`port` from stack `from` (which has no socket for it),
 * with the options asked for. */
static tcp_seg peer_syn(const harness *h, size_t from, size_t to, uint16_t port, bool ts)
{
    tcp_seg s = {0};
    s.src_addr = h_addr(h, from);
    s.dst_addr = h_addr(h, to);
    s.src_port = 40000;
    s.dst_port = port;
    s.seq = 7000;
    s.flags = TCP_SYN;
    s.wnd = 65535;
    s.has_mss = true;
    s.mss = 1460;
    s.has_sack_perm = true;
    s.has_wscale = true;
    s.wscale = 7;
    s.has_ts = ts;
    s.ts_val = 12345;
    return s;
}

/* Linux tcp_options_write(): MSS; with timestamps SACK-permitted and TS in
 * one word; then NOP,WS. packetdrill's Linux tests expect the SYN as
 * <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale N>. The scale is
 * ilog2(tcp_rmem[2]) - 15 = ilog2(32 MB) - 15 = 10 (tcp_select_initial_window,
 * tcp_rmem[2] = 32 MB since 6.16; Linux 6.18 offered 10 in docs/kernel.md). */
static void linux_syn_options_order(void **state)
{
    (void)state;
    harness *h = named("linux");
    h_connect(h, H_A, H_B, 80, 1000);
    const tcp_seg *syn = h_expect_sent(h, H_A, TCP_SYN, 1000, H_ANY, 0);
    uint32_t tv = syn->ts_val;
    const uint8_t want[] = {2,
                            4,
                            0x05,
                            0xb4,
                            4,
                            2,
                            8,
                            10,
                            (uint8_t)(tv >> 24),
                            (uint8_t)(tv >> 16),
                            (uint8_t)(tv >> 8),
                            (uint8_t)tv,
                            0,
                            0,
                            0,
                            0,
                            1,
                            3,
                            3,
                            10};
    expect_options(h, H_A, 0, want, sizeof want);
    h_free(h);
}

/* Linux tcp_options_write() without timestamps: MSS; NOP,NOP,SACK-permitted;
 * NOP,WS: packetdrill's <mss 1460,nop,nop,sackOK,nop,wscale N>. */
static void linux_synack_options_without_timestamps(void **state)
{
    (void)state;
    harness *h = named("linux");
    h_listen(h, H_B, 80, 8);
    tcp_seg syn = peer_syn(h, H_A, H_B, 80, false);
    h_inject(h, H_B, &syn);
    h_expect_sent(h, H_B, TCP_SYN | TCP_ACK, H_ANY, 7001, 0);
    const uint8_t want[] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 10};
    expect_options(h, H_B, 0, want, sizeof want);
    h_free(h);
}

/* FreeBSD tcp_addoptions(): MSS; NOP to an odd offset, WS; SACK-permitted
 * at an even offset; TS at 2 mod 4 (no NOP needed after sackOK). The scale
 * is the smallest with TCP_MAXWIN << scale >= sb_max = 2 MB: 6. */
static void bsd_syn_options_order(void **state)
{
    (void)state;
    harness *h = named("bsd");
    h_connect(h, H_A, H_B, 80, 1000);
    const tcp_seg *syn = h_expect_sent(h, H_A, TCP_SYN, 1000, H_ANY, 0);
    uint32_t tv = syn->ts_val;
    const uint8_t want[] = {2,
                            4,
                            0x05,
                            0xb4,
                            1,
                            3,
                            3,
                            6,
                            4,
                            2,
                            8,
                            10,
                            (uint8_t)(tv >> 24),
                            (uint8_t)(tv >> 16),
                            (uint8_t)(tv >> 8),
                            (uint8_t)tv,
                            0,
                            0,
                            0,
                            0};
    expect_options(h, H_A, 0, want, sizeof want);
    h_free(h);
}

/* FreeBSD tcp_addoptions() without timestamps: MSS, NOP, WS, SACK-permitted
 * end at offset 10; "Terminate and pad TCP options to a 4 byte boundary":
 * EOL, then a zero byte. */
static void bsd_synack_options_eol_padding(void **state)
{
    (void)state;
    harness *h = named("bsd");
    h_listen(h, H_B, 80, 8);
    tcp_seg syn = peer_syn(h, H_A, H_B, 80, false);
    h_inject(h, H_B, &syn);
    h_expect_sent(h, H_B, TCP_SYN | TCP_ACK, H_ANY, 7001, 0);
    const uint8_t want[] = {2, 4, 0x05, 0xb4, 1, 3, 3, 6, 4, 2, 0, 0};
    expect_options(h, H_B, 0, want, sizeof want);
    h_free(h);
}

/* Data segments keep NOP,NOP,TS in every layout (RFC 7323 Appendix A;
 * Linux tcp_options_write, FreeBSD tcp_addoptions with TS alone). */
static void data_segment_timestamp_layout(void **state)
{
    (void)state;
    const char *names[] = {"linux", "bsd"};
    for (size_t i = 0; i < 2; i++) {
        harness *h = named(names[i]);
        h_pair p = h_establish(h, H_A, H_B, 80);
        h_send(h, H_A, p.client, "x");
        h_expect_sent(h, H_A, TCP_ACK | TCP_PSH, H_ANY, H_ANY, 1);
        const h_dgram *d = h_sent(h, H_A, h_sent_count(h, H_A) - 1);
        assert_int_equal(d->bytes[20 + 12] >> 4, 8); /* 20 + 12 bytes of header */
        const uint8_t want[] = {1, 1, 8, 10};
        assert_memory_equal(d->bytes + 40, want, sizeof want);
        h_free(h);
    }
}

/* Linux tcp_select_initial_window(): space = tcp_full_space() = tcp_rmem[1]
 * (131072) x TCP_DEFAULT_SCALING_RATIO (1/2) = 65536, rounded down to a
 * multiple of the MSS: 44 x 1460 = 64240 in a SYN (and in a SYN,ACK without
 * timestamps: Linux 6.18's SYN,ACK in docs/kernel.md), 45 x 1448 = 65160 in
 * a SYN,ACK that agrees on timestamps (the MSS less TCPOLEN_TSTAMP_ALIGNED). */
static void linux_initial_window(void **state)
{
    (void)state;
    harness *h = named("linux");
    h_connect(h, H_A, H_B, 80, 1000);
    h_expect_seg(h, H_A, .flags = TCP_SYN, .wnd = 64240);
    h_listen(h, H_B, 80, 8);
    tcp_seg syn = peer_syn(h, H_A, H_B, 80, false);
    syn.src_port = 40001;
    h_inject(h, H_B, &syn);
    h_expect_seg(h, H_B, .flags = TCP_SYN | TCP_ACK, .wnd = 64240);
    syn = peer_syn(h, H_A, H_B, 80, true);
    syn.src_port = 40002;
    h_inject(h, H_B, &syn);
    h_expect_seg(h, H_B, .flags = TCP_SYN | TCP_ACK, .wnd = 65160);
    h_free(h);
}

/* FreeBSD syncache_respond offers min(sbspace, TCP_MAXWIN): 65535 for the
 * 65536-byte net.inet.tcp.recvspace, not rounded to the MSS. */
static void bsd_synack_window(void **state)
{
    (void)state;
    harness *h = named("bsd");
    h_listen(h, H_B, 80, 8);
    tcp_seg syn = peer_syn(h, H_A, H_B, 80, true);
    h_inject(h, H_B, &syn);
    h_expect_seg(h, H_B, .flags = TCP_SYN | TCP_ACK, .wnd = 65535);
    h_free(h);
}

/* Linux 6.6 to 6.15 had tcp_rmem[2] = 6 MB: ilog2(6291456) - 15 = 7, the
 * scale packetdrill scripts of that time show; rcvbuf_max models it. */
static void linux_wscale_from_rcvbuf_max(void **state)
{
    (void)state;
    tcp_profile pr = *h_linux_exact();
    pr.rcvbuf_max = 6291456;
    harness *h = with(&pr);
    h_connect(h, H_A, H_B, 80, 1000);
    const tcp_seg *syn = h_expect_sent(h, H_A, TCP_SYN, 1000, H_ANY, 0);
    assert_true(syn->has_wscale);
    assert_int_equal(syn->wscale, 7);
    h_free(h);
}

/* A receive buffer the user set fixes the scale (Linux tcp_connect_init:
 * with SOCK_RCVBUF_LOCK the window clamp is tcp_full_space()): 8192 bytes,
 * half of it window (two whole segments in the SYN), need no shift. */
static void linux_wscale_user_rcvbuf(void **state)
{
    (void)state;
    harness *h = named("linux");
    tcp_stack *st = h_stack(h, H_A);
    tcp_sock_id id;
    assert_int_equal(tcp_socket(st, &id), TCP_OK);
    assert_int_equal(tcp_setopt(st, id, TCP_OPT_RCVBUF, 8192), TCP_OK);
    assert_int_equal(tcp_connect(st, id, h_addr(h, H_B), 80), TCP_OK);
    const tcp_seg *syn = h_expect_seg(h, H_A, .flags = TCP_SYN, .wnd = 2920);
    assert_int_equal(syn->wscale, 0);
    h_free(h);
}

/* An RST,ACK in SYN_SENT whose ACK is not acceptable: dropped (RFC 9293
 * §3.10.7.3), and Linux re-arms the retransmission timer at TCP_TIMEOUT_MIN
 * (2 jiffies) while no SYN was retransmitted yet ("Previous FIN/ACK or
 * RST/ACK might be ignored"): the SYN goes again 2 jiffies (8 ms at HZ 250)
 * later; packetdrill's rst-syn-sent-bad-ack, written at HZ 1000, expects
 * it 2 ms later within 10 ms. */
static void linux_bad_ack_in_syn_sent_resends_syn(void **state)
{
    (void)state;
    harness *h = with(h_linux_exact());
    tcp_sock_id c = h_connect(h, H_A, H_B, 80, 1000);
    h_expect_sent(h, H_A, TCP_SYN, 1000, H_ANY, 0);
    h_drop(h);
    h_advance(h, H_MS(50));
    tcp_seg rst = h_template(h, H_A, c);
    rst.flags = TCP_RST | TCP_ACK;
    rst.seq = 0;
    rst.ack = 1000 + 5;
    h_inject(h, H_A, &rst);
    h_expect_none_sent(h, H_A);
    h_advance(h, H_MS(8)); /* TCP_TIMEOUT_MIN: 2 jiffies at HZ 250 */
    h_expect_sent(h, H_A, TCP_SYN, 1000, H_ANY, 0);
    h_expect_state(h, H_A, c, TCP_SYN_SENT);
    const tcp_stats *st = tcp_sock_stats(h_stack(h, H_A), c);
    assert_int_equal(st->retransmits, 1);
    h_free(h);
}

/* The same for a bare bad ACK: answered <SEQ=SEG.ACK><CTL=RST>, then the
 * quick SYN. Once a SYN has been retransmitted (icsk_retransmits != 0)
 * the timer is left alone. */
static void linux_bad_ack_after_retransmission_waits_rto(void **state)
{
    (void)state;
    harness *h = with(h_linux_exact());
    tcp_sock_id c = h_connect(h, H_A, H_B, 80, 1000);
    h_drop(h);
    tcp_seg ack = h_template(h, H_A, c);
    ack.flags = TCP_ACK;
    ack.seq = 0;
    ack.ack = 900;
    h_inject(h, H_A, &ack);
    h_expect_sent(h, H_A, TCP_SYN, 1000, H_ANY, 0);
    h_expect_sent(h, H_A, TCP_RST, 900, H_ANY, 0);
    h_advance(h, H_MS(8)); /* TCP_TIMEOUT_MIN: 2 jiffies at HZ 250 */
    h_expect_sent(h, H_A, TCP_SYN, 1000, H_ANY, 0);
    h_inject(h, H_A, &ack); /* RST again, but the RTO (1 s, linear) is kept */
    h_expect_sent(h, H_A, TCP_RST, 900, H_ANY, 0);
    h_advance(h, H_MS(999));
    h_expect_none_sent(h, H_A);
    h_advance(h, H_MS(1));
    h_expect_sent(h, H_A, TCP_SYN, 1000, H_ANY, 0);
    h_free(h);
}

/* FreeBSD (tcp_do_segment: dropwithreset) and RFC 9293 drop it and wait for
 * the RTO. */
static void bsd_bad_ack_in_syn_sent_waits_rto(void **state)
{
    (void)state;
    const char *names[] = {"bsd", "rfc9293"};
    for (size_t i = 0; i < 2; i++) {
        harness *h = named(names[i]);
        tcp_sock_id c = h_connect(h, H_A, H_B, 80, 1000);
        h_expect_sent(h, H_A, TCP_SYN, 1000, H_ANY, 0);
        h_drop(h);
        tcp_seg rst = h_template(h, H_A, c);
        rst.flags = TCP_RST | TCP_ACK;
        rst.seq = 0;
        rst.ack = 1000 + 5;
        h_inject(h, H_A, &rst);
        h_advance(h, H_MS(999));
        h_expect_none_sent(h, H_A);
        h_advance(h, H_MS(1));
        h_expect_sent(h, H_A, TCP_SYN, 1000, H_ANY, 0);
        h_free(h);
    }
}

/* A's connect to B at ISN 1000 crosses B's SYN (ISN 5000, MSS 1460 and
 * SACK-permitted when sack); B's SYN,ACK then ends A's SYN_RECEIVED. Checks
 * A's segments on the way; *synack is B's SYN,ACK, a template for B. */
static tcp_sock_id simultaneous_open(harness *h, bool sack, tcp_seg *synack)
{
    tcp_sock_id c = h_connect(h, H_A, H_B, 80, 1000);
    h_expect_sent(h, H_A, TCP_SYN, 1000, H_ANY, 0);
    h_drop(h);
    tcp_seg syn = h_template(h, H_A, c);
    syn.flags = TCP_SYN;
    syn.seq = 5000;
    syn.ack = 0;
    syn.has_mss = syn.has_sack_perm = sack;
    syn.mss = 1460;
    h_inject(h, H_A, &syn);
    h_expect_sent(h, H_A, TCP_SYN | TCP_ACK, 1000, 5001, 0);
    h_expect_state(h, H_A, c, TCP_SYN_RECEIVED);
    h_drop(h);
    *synack = syn;
    synack->flags = TCP_SYN | TCP_ACK;
    synack->ack = 1001;
    h_inject(h, H_A, synack);
    h_expect_state(h, H_A, c, TCP_ESTABLISHED);
    return c;
}

/* Simultaneous open under linux: each side ACKs the SYN,ACK (Linux
 * tcp_validate_incoming lets it through in SYN_RECV, tcp_data_queue sees
 * end_seq == rcv_nxt and sends an immediate ACK; Linux 6.18 in `tcpsim
 * kernel scenarios/handshake/simultaneous_open.lua`: six segments). */
static void linux_simultaneous_open_acks_synack(void **state)
{
    (void)state;
    harness *h = named("linux");
    tcp_seg synack;
    simultaneous_open(h, false, &synack);
    h_expect_sent(h, H_A, TCP_ACK, 1001, 5001, 0);
    h_expect_none_sent(h, H_A);
    h_free(h);
}

/* Simultaneous open under linux, then the first data out of order: the
 * SYN,ACK that ends SYN_RECV reaches tcp_data_queue's "!after(end_seq,
 * rcv_nxt)" case (out_of_window: tcp_enter_quickack_mode with
 * TCP_MAX_QUICKACKS, ATO = TCP_ATO_MIN), and neither tcp_finish_connect nor
 * tcp_create_openreq_child runs on this path, so icsk_ack.lrcvtime keeps
 * the 0 of a new socket: tcp_event_data_recv measures the first gap from
 * jiffies 0, longer than the RTO on any host up for more than five minutes
 * (INITIAL_JIFFIES), and calls tcp_incr_quickack. Quickack mode thus holds
 * through the out-of-order segment's duplicate ACK and the hole filled, and
 * a short segment after them is ACKed at once; after a passive open the
 * same short segment waits the ATO (packetdrill quickack-ooo-first). SACK,
 * so that tcp_data_queue_ofo grows the window (icsk_ack.quick |= 1). */
static void linux_simultaneous_open_keeps_quickack_for_ooo_first_data(void **state)
{
    (void)state;
    static const uint8_t text[1448];
    harness *h = named("linux");
    tcp_seg d;
    simultaneous_open(h, true, &d);
    h_expect_sent(h, H_A, TCP_ACK, 1001, 5001, 0);
    h_advance(h, H_MS(10));
    d.has_mss = d.has_sack_perm = false;
    d.flags = TCP_ACK;
    d.payload = text;
    d.len = sizeof text;
    d.seq = 5001 + 1448; /* out of order: a duplicate ACK at once */
    h_inject(h, H_A, &d);
    h_expect_sent(h, H_A, TCP_ACK, 1001, 5001, 0);
    h_advance(h, H_MS(10));
    d.seq = 5001; /* fills the hole: ACKed at once */
    h_inject(h, H_A, &d);
    h_expect_sent(h, H_A, TCP_ACK, 1001, 5001 + 2 * 1448, 0);
    h_advance(h, H_MS(10));
    d.flags = TCP_ACK | TCP_PSH;
    d.seq = 5001 + 2 * 1448;
    d.len = 100; /* short: no window growth; quickack mode ACKs it */
    h_inject(h, H_A, &d);
    h_expect_sent(h, H_A, TCP_ACK, 1001, 5001 + 2 * 1448 + 100, 0);
    h_free(h);
}

/* FreeBSD's connection-establishment timer (TCPTV_KEEP_INIT, 75 s) runs
 * from connect() and also covers SYN_RECEIVED after a simultaneous open
 * (tcp_timer_keep: "if (tp->t_state < TCPS_ESTABLISHED) goto dropit"). */
static void bsd_keepinit_covers_simultaneous_open(void **state)
{
    (void)state;
    harness *h = named("bsd");
    tcp_sock_id c = h_connect(h, H_A, H_B, 80, 1000);
    h_drop_sent(h, H_A, H_ANY, 100);
    h_drop(h);
    h_advance(h, H_S(10));
    tcp_seg syn = h_template(h, H_A, c);
    syn.flags = TCP_SYN;
    syn.seq = 5000;
    syn.ack = 0;
    h_inject(h, H_A, &syn);
    h_expect_state(h, H_A, c, TCP_SYN_RECEIVED);
    h_advance(h, H_S(65) - 1);
    h_expect_state(h, H_A, c, TCP_SYN_RECEIVED);
    h_advance(h, 1);
    h_expect_state(h, H_A, c, TCP_CLOSED);
    assert_int_equal(tcp_sock_error(h_stack(h, H_A), c), TCP_ETIMEDOUT);
    const h_event *e = h_last_transition(h, H_A, c);
    assert_non_null(e);
    assert_string_equal(e->note, "connection-establishment timeout");
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(linux_syn_options_order),
        cmocka_unit_test(linux_synack_options_without_timestamps),
        cmocka_unit_test(bsd_syn_options_order),
        cmocka_unit_test(bsd_synack_options_eol_padding),
        cmocka_unit_test(data_segment_timestamp_layout),
        cmocka_unit_test(linux_initial_window),
        cmocka_unit_test(bsd_synack_window),
        cmocka_unit_test(linux_wscale_from_rcvbuf_max),
        cmocka_unit_test(linux_wscale_user_rcvbuf),
        cmocka_unit_test(linux_bad_ack_in_syn_sent_resends_syn),
        cmocka_unit_test(linux_bad_ack_after_retransmission_waits_rto),
        cmocka_unit_test(bsd_bad_ack_in_syn_sent_waits_rto),
        cmocka_unit_test(linux_simultaneous_open_acks_synack),
        cmocka_unit_test(linux_simultaneous_open_keeps_quickack_for_ooo_first_data),
        cmocka_unit_test(bsd_keepinit_covers_simultaneous_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
