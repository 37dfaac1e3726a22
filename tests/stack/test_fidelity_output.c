/*
 * test_fidelity_output — what goes on the wire, one test per rule, with
 * the expected values taken from RFC 9293 and the Linux / FreeBSD sources:
 * effective MSS (§3.7.1 MUST-16), non-data segments at SND.MAX, CLOSE
 * implies PUSH (§3.8), the final FIN and the congestion window, Minshall's
 * Nagle, active RST forms, the reset answering data after close, and
 * zero-window probes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void send_n(harness *h, size_t stack, tcp_sock_id id, size_t n)
{
    char *buf = malloc(n);
    assert_non_null(buf);
    memset(buf, 'x', n);
    assert_int_equal(tcp_send(h_stack(h, stack), id, buf, n), (long)n);
    free(buf);
}

static harness *with_profile(const char *name)
{
    return h_new(2, h_profile_exact(name));
}

static void finish(harness *h)
{
    h_free(h);
}

/* RFC 9293 §3.7.1 MUST-16: Eff.snd.MSS = min(SendMSS+20, MMS_S) - TCPhdrsize
 * - IPoptionsize, TCPhdrsize including the options sent. With timestamps
 * (12 bytes with padding, RFC 7323 §3.2) an MSS of 1460 gives 1448 data
 * bytes per segment (Linux tcp_current_mss, FreeBSD tcp_output), so every
 * IPv4 datagram is 20 + 20 + 12 + 1448 = 1500 bytes. */
static void eff_mss_subtracts_timestamp_option(void **state)
{
    (void)state;
    harness *h = with_profile("linux");
    h_pair p = h_establish(h, H_A, H_B, 80);
    send_n(h, H_A, p.client, 3000);
    const tcp_seg *s1 = h_expect_sent(h, H_A, TCP_ACK, H_ANY, H_ANY, 1448);
    assert_true(s1->has_ts);
    h_expect_sent(h, H_A, TCP_ACK, H_ANY, H_ANY, 1448);
    h_expect_sent(h, H_A, TCP_ACK | TCP_PSH, H_ANY, H_ANY, 3000 - 2 * 1448);
    for (size_t k = 0; k < h_sent_count(h, H_A); k++)
        assert_true(h_sent(h, H_A, k)->len <= 1500);
    assert_int_equal(h_sent(h, H_A, h_sent_count(h, H_A) - 2)->len, 1500);
    finish(h);
}

/* After an RTO the sender goes back to SND.UNA, but a segment without data
 * carries the highest sequence number sent (FreeBSD tcp_output: "else
 * th_seq = snd_max"; Linux never rewinds snd_nxt): an RST left of the
 * peer's RCV.NXT would be out of its window and leave it half-open. */
static void rst_after_rto_carries_snd_max(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    uint32_t una = h_template(h, H_B, p.server).seq;
    h_drop_sent(h, H_B, H_ANY, 10); /* B's ACKs are lost */
    send_n(h, H_A, p.client, 3 * 1460);
    h_settle(h);
    h_run_for(h, H_MS(1500)); /* one RTO (1 s): the first segment again */
    h_sent_skip(h, H_A);
    assert_int_equal(tcp_abort(h_stack(h, H_A), p.client), TCP_OK);
    h_expect_sent(h, H_A, TCP_RST, una + 3 * 1460, H_ANY, 0);
    h_settle(h);
    h_expect_state(h, H_B, p.server, TCP_CLOSED); /* the peer accepted it */
    assert_int_equal(tcp_sock_error(h_stack(h, H_B), p.server), TCP_ECONNRESET);
}

/* §3.8: "The CLOSE user call implies a push function": 2000 bytes and a
 * close leave as 1460 bytes and 540 bytes + FIN at once, without waiting
 * for the ACK of the first segment (Nagle would hold the runt). */
static void close_implies_push(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    send_n(h, H_A, p.client, 2000);
    h_expect_sent(h, H_A, TCP_ACK, H_ANY, H_ANY, 1460);
    h_expect_none_sent(h, H_A); /* Nagle holds the runt until close */
    assert_int_equal(tcp_close(h_stack(h, H_A), p.client), TCP_OK);
    h_expect_sent(h, H_A, TCP_ACK | TCP_PSH | TCP_FIN, H_ANY, H_ANY, 540);
    assert_int_equal(h_now(h), h_sent(h, H_A, h_sent_count(h, H_A) - 1)->sent_ns);
}

/* Linux tcp_cwnd_test: "Don't be strict about the congestion window for the
 * final FIN": with the window full (rfc9293: 3 segments), a close sends the
 * bare FIN at once. */
static void final_fin_ignores_full_cwnd(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    send_n(h, H_A, p.client, 3 * 1460);
    h_expect_sent(h, H_A, TCP_ACK, H_ANY, H_ANY, 1460);
    h_expect_sent(h, H_A, TCP_ACK, H_ANY, H_ANY, 1460);
    const tcp_seg *last = h_expect_sent(h, H_A, TCP_ACK | TCP_PSH, H_ANY, H_ANY, 1460);
    uint32_t end = last->seq + 1460;
    assert_int_equal(tcp_close(h_stack(h, H_A), p.client), TCP_OK);
    h_expect_sent(h, H_A, TCP_ACK | TCP_FIN, end, H_ANY, 0);
}

/* Minshall's Nagle (RFC 9293 Appendix A.3; Linux tcp_nagle_check with
 * tcp_minshall_check): a runt may go while full-sized segments are in
 * flight, as long as no earlier runt is unacknowledged. linux: 1600 bytes
 * leave as 1448 + 152 at once; a second runt then waits. */
static void minshall_nagle_linux(void **state)
{
    (void)state;
    harness *h = with_profile("linux");
    h_pair p = h_establish(h, H_A, H_B, 80);
    send_n(h, H_A, p.client, 1600);
    h_expect_sent(h, H_A, TCP_ACK, H_ANY, H_ANY, 1448);
    h_expect_sent(h, H_A, TCP_ACK | TCP_PSH, H_ANY, H_ANY, 152);
    send_n(h, H_A, p.client, 10);
    h_expect_none_sent(h, H_A);
    finish(h);
}

/* The classic rule (rfc9293): the runt waits while anything is in flight. */
static void classic_nagle_rfc9293(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    send_n(h, H_A, p.client, 1600);
    h_expect_sent(h, H_A, TCP_ACK, H_ANY, H_ANY, 1460);
    h_expect_none_sent(h, H_A);
}

/* Linux tcp_send_active_reset: tcp_init_nondata_skb(skb, tcp_acceptable_seq,
 * TCPHDR_ACK | TCPHDR_RST): abort() sends RST,ACK with ACK = RCV.NXT. */
static void active_rst_has_ack_linux(void **state)
{
    (void)state;
    harness *h = with_profile("linux");
    h_pair p = h_establish(h, H_A, H_B, 80);
    tcp_seg t = h_template(h, H_B, p.server); /* seq: A's SND.NXT, ack: A's RCV.NXT */
    assert_int_equal(tcp_abort(h_stack(h, H_A), p.client), TCP_OK);
    h_expect_sent(h, H_A, TCP_RST | TCP_ACK, t.seq, t.ack, 0);
    finish(h);
}

/* RFC 9293 §3.10.5 ABORT: "<SEQ=SND.NXT><CTL=RST>", no ACK (rfc9293). */
static void active_rst_rfc9293_no_ack(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    uint32_t snd_nxt = h_template(h, H_B, p.server).seq;
    assert_int_equal(tcp_abort(h_stack(h, H_A), p.client), TCP_OK);
    h_expect_sent(h, H_A, TCP_RST, snd_nxt, H_ANY, 0);
}

/* Data after close(): the reset answers the segment, <SEQ=SEG.ACK><CTL=RST>
 * (Linux tcp_reset -> tcp_v4_send_reset; FreeBSD dropwithreset), and goes
 * out before the connection is closed. Here the peer has not yet
 * acknowledged our FIN, so SEG.ACK = our FIN's sequence number. */
static void data_after_close_rst_answers_segment(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    assert_int_equal(tcp_close(h_stack(h, H_A), p.client), TCP_OK);
    const tcp_seg *fin = h_expect_sent(h, H_A, TCP_FIN | TCP_ACK, H_ANY, H_ANY, 0);
    uint32_t fin_seq = fin->seq;
    tcp_seg data = h_template(h, H_A, p.client);
    data.ack = fin_seq; /* B has not seen the FIN yet */
    data.payload = (const uint8_t *)"late";
    data.len = 4;
    h_inject(h, H_A, &data);
    h_expect_sent(h, H_A, TCP_RST, fin_seq, H_ANY, 0);
    h_expect_conns(h, H_A, 0);
    /* the RST was reported before the transition to CLOSED */
    size_t n = h_event_count(h, H_A);
    const h_event *last = h_event_at(h, H_A, n - 1);
    assert_int_equal(last->kind, TCP_EV_ERROR);
    assert_int_equal(h_event_at(h, H_A, n - 2)->kind, TCP_EV_STATE);
    assert_int_equal(h_event_at(h, H_A, n - 3)->kind, TCP_EV_SEG_OUT);
}

/* Linux tcp_write_wakeup -> tcp_xmit_probe_skb(sk, 0): a zero-window probe
 * is <SEQ=SND.UNA-1><ACK=RCV.NXT>, no data; tcp_send_probe0 increments the
 * backoff before the next interval: RTO, 2·RTO, 4·RTO apart. */
static void zero_window_probe_linux(void **state)
{
    (void)state;
    harness *h = with_profile("linux");
    h_pair p = h_establish(h, H_A, H_B, 80);
    uint32_t una = h_template(h, H_B, p.server).seq;
    tcp_seg zw = h_template(h, H_A, p.client);
    zw.wnd = 0;
    h_inject(h, H_A, &zw); /* B's window is closed */
    h_sent_skip(h, H_A);
    send_n(h, H_A, p.client, 100);
    h_expect_none_sent(h, H_A);
    uint64_t t0 = h_now(h);
    h_drop_sent(h, H_B, H_ANY, 100); /* no answer comes back */
    h_run_for(h, H_S(2));
    const tcp_seg *pr = h_expect_sent(h, H_A, TCP_ACK, una - 1u, H_ANY, 0);
    assert_false(pr->len);
    h_expect_sent(h, H_A, TCP_ACK, una - 1u, H_ANY, 0);
    h_expect_sent(h, H_A, TCP_ACK, una - 1u, H_ANY, 0);
    uint64_t rto = H_MS(200); /* TCP_RTO_MIN: the handshake's RTT was 0 */
    size_t k = h_sent_count(h, H_A);
    assert_int_equal(h_sent(h, H_A, k - 3)->sent_ns, t0 + rto);
    assert_int_equal(h_sent(h, H_A, k - 2)->sent_ns, t0 + 3 * rto);
    assert_int_equal(h_sent(h, H_A, k - 1)->sent_ns, t0 + 7 * rto);
    finish(h);
}

/* FreeBSD tcp_setpersist: TCPT_RANGESET(tt, t * tcp_backoff[shift],
 * tcp_persmin, tcp_persmax): with a small RTO the interval is TCPTV_PERSMIN
 * = 5 s, and the probe carries one octet of data. */
static void zero_window_probe_bsd_min_5s(void **state)
{
    (void)state;
    harness *h = with_profile("bsd");
    h_pair p = h_establish(h, H_A, H_B, 80);
    uint32_t una = h_template(h, H_B, p.server).seq;
    tcp_seg zw = h_template(h, H_A, p.client);
    zw.wnd = 0;
    h_inject(h, H_A, &zw);
    h_sent_skip(h, H_A);
    send_n(h, H_A, p.client, 100);
    uint64_t t0 = h_now(h);
    h_drop_sent(h, H_B, H_ANY, 100);
    h_run_for(h, H_S(11));
    h_expect_sent(h, H_A, H_ANY, una, H_ANY, 1);
    h_expect_sent(h, H_A, H_ANY, una, H_ANY, 1);
    size_t k = h_sent_count(h, H_A);
    assert_int_equal(h_sent(h, H_A, k - 2)->sent_ns, t0 + H_S(5));
    assert_int_equal(h_sent(h, H_A, k - 1)->sent_ns, t0 + H_S(10));
    finish(h);
}

/* A in LAST_ACK with data still queued behind its FIN (the peer's window
 * is closed). */
static h_pair last_ack_with_unsent_data(harness *h)
{
    h_pair p = h_establish(h, H_A, H_B, 80);
    assert_int_equal(tcp_shutdown(h_stack(h, H_B), p.server), TCP_OK);
    h_settle(h);
    h_expect_state(h, H_A, p.client, TCP_CLOSE_WAIT);
    tcp_seg zw = h_template(h, H_A, p.client);
    zw.wnd = 0;
    h_inject(h, H_A, &zw);
    send_n(h, H_A, p.client, 100);
    assert_int_equal(tcp_setopt(h_stack(h, H_A), p.client, TCP_OPT_LINGER_ZERO, 1), TCP_OK);
    h_sent_skip(h, H_A);
    return p;
}

/* Linux tcp_disconnect: "else if (tp->snd_nxt != tp->write_seq &&
 * (1 << old_state) & (TCPF_CLOSING | TCPF_LAST_ACK)) tcp_send_active_reset":
 * an abortive close in LAST_ACK with unsent data sends RST,ACK. */
static void linux_abort_in_last_ack_with_unsent_data_resets(void **state)
{
    (void)state;
    harness *h = with_profile("linux");
    h_pair p = last_ack_with_unsent_data(h);
    assert_int_equal(tcp_shutdown(h_stack(h, H_A), p.client), TCP_OK);
    h_expect_state(h, H_A, p.client, TCP_LAST_ACK);
    assert_int_equal(tcp_close(h_stack(h, H_A), p.client), TCP_OK);
    h_expect_sent(h, H_A, TCP_RST | TCP_ACK, H_ANY, H_ANY, 0);
    finish(h);
}

/* RFC 9293 §3.10.5 ABORT in LAST-ACK: "respond with ok and delete the TCB,
 * enter CLOSED state, and return" — no reset. */
static void rfc9293_abort_in_last_ack_is_silent(void **state)
{
    harness *h = *state;
    h_pair p = last_ack_with_unsent_data(h);
    assert_int_equal(tcp_shutdown(h_stack(h, H_A), p.client), TCP_OK);
    h_expect_state(h, H_A, p.client, TCP_LAST_ACK);
    assert_int_equal(tcp_close(h_stack(h, H_A), p.client), TCP_OK);
    h_expect_none_sent(h, H_A);
    h_expect_conns(h, H_A, 0);
    /* The silent abort told B nothing: it waits in FIN_WAIT_2, which has no
     * timeout under rfc9293, so it aborts too before the harness checks. */
    assert_int_equal(tcp_abort(h_stack(h, H_B), p.server), TCP_OK);
    h_finish(h);
}

/* RFC 6582 §3.2 step 2: after a recovery, three duplicate ACKs that do not
 * cover more than `recover` (left over from the old window) start no
 * second fast retransmit. */
static void no_second_fast_retransmit_below_recover(void **state)
{
    (void)state;
    tcp_profile pr = *h_linux_exact();
    /* B's ACKs for the out-of-order segments must stay duplicates: with
     * grow_window their windows would grow, which makes them updates. */
    pr.grow_window = false;
    harness *h = h_new(2, &pr);
    h_pair p = h_establish(h, H_A, H_B, 80);
    send_n(h, H_A, p.client, 10); /* B's first ACK brings its scaled window */
    h_settle(h);
    h_drop_sent(h, H_A, H_ANY, 1); /* the first data segment is lost */
    send_n(h, H_A, p.client, 4 * 1448);
    h_deliver_all(h); /* segments 2-4 reach B: three duplicate ACKs back */
    h_deliver_all(h); /* the dupacks reach A: fast retransmit */
    h_settle(h);      /* the retransmission is ACKed: recovery ends */
    assert_int_equal(tcp_sock_stats(h_stack(h, H_A), p.client)->retransmits, 1);
    uint16_t wnd = h_last_sent(h, H_B)->wnd;
    send_n(h, H_A, p.client, 1448); /* new data in flight */
    h_sent_skip(h, H_A);
    tcp_seg dup = h_template(h, H_A, p.client);
    dup.ack = h_last_sent(h, H_A)->seq; /* SND.UNA, which is recover */
    dup.wnd = wnd;
    uint64_t before = tcp_sock_stats(h_stack(h, H_A), p.client)->dup_acks_in;
    for (int i = 0; i < 3; i++)
        h_inject(h, H_A, &dup);
    assert_int_equal(tcp_sock_stats(h_stack(h, H_A), p.client)->dup_acks_in, before + 3);
    h_expect_none_sent(h, H_A);
    assert_int_equal(tcp_sock_stats(h_stack(h, H_A), p.client)->retransmits, 1);
    finish(h);
}

/* Linux tcp_min_snd_mss (TCP_MIN_SND_MSS = 48): a peer MSS that leaves
 * less (40 - 12 for timestamps) is raised to 48. */
static void mss_floor_linux(void **state)
{
    (void)state;
    tcp_profile pr = *h_linux_exact();
    pr.mss = 40;
    harness *h = h_new(2, &pr);
    h_pair p = h_establish(h, H_A, H_B, 80);
    assert_int_equal(tcp_setopt(h_stack(h, H_A), p.client, TCP_OPT_NODELAY, 1), TCP_OK);
    send_n(h, H_A, p.client, 100);
    h_expect_sent(h, H_A, TCP_ACK, H_ANY, H_ANY, 48);
    h_free(h);
}

/* Linux tcp_slow_start: in slow start an ACK grows cwnd by every segment
 * it covers ("cwnd = min(cwnd + acked, ssthresh)"), so one ACK of the
 * initial window's ten segments doubles it to 20; RFC 5681 §3.1 adds at
 * most one SMSS per ACK (11). In the selftest tcp_blocking_blocking-write.pkt
 * the ACK after the first (of ten segments) covers twenty more: all twenty
 * were sent on that first ACK. */
static void slow_start_counts_every_segment_acked(void **state)
{
    const bool full[] = {true, false};
    const uint32_t want[] = {20, 11};
    (void)state;
    for (size_t i = 0; i < 2; i++) {
        tcp_profile pr = *h_linux_exact();
        pr.ss_full_ack = full[i];
        harness *h = h_new(2, &pr);
        h_pair p = h_establish(h, H_A, H_B, 80);
        tcp_stack *a = h_stack(h, H_A);
        assert_int_equal(tcp_setopt(a, p.client, TCP_OPT_NODELAY, 1), TCP_OK);
        h_sent_skip(h, H_A);
        h_drop_sent(h, H_A, H_ANY, 10);
        send_n(h, H_A, p.client, 30 * 1448);
        h_run_for(h, H_MS(1));
        tcp_sockinfo in;
        assert_int_equal(tcp_sock_info(a, p.client, &in), TCP_OK);
        assert_int_equal(in.snd_cwnd, 10);
        assert_int_equal(in.unacked, 10);
        tcp_seg ack = h_template(h, H_A, p.client);
        h_inject(h, H_A, &ack);
        assert_int_equal(tcp_sock_info(a, p.client, &in), TCP_OK);
        assert_int_equal(in.snd_cwnd, want[i]);
        assert_int_equal(in.unacked, want[i]);
        h_free(h);
    }
}

/* Linux tcp_sndbuf_expand at establishment (tcp_init_buffer_space): the
 * send buffer of both ends becomes 2 (reno) x 10 segments x 2304 octets
 * of socket memory per segment of MSS 1460: SO_SNDBUF read back after the
 * handshake on Linux 6.18 with reno is 46080 (16384 before it), and
 * 332800 at MSS 8960. A buffer the user sized (SO_SNDBUF) stays. */
static void sndbuf_expanded_at_establishment(void **state)
{
    const uint16_t mss[] = {1460, 8960};
    const uint64_t want[] = {46080, 332800};
    (void)state;
    for (size_t i = 0; i < 2; i++) {
        tcp_profile pr = *h_linux_exact();
        pr.mss = mss[i];
        harness *h = h_new(2, &pr);
        tcp_stack *a = h_stack(h, H_A);
        tcp_sock_id l = h_listen(h, H_B, 80, 8);
        tcp_sock_id fixed;
        assert_int_equal(tcp_socket(a, &fixed), TCP_OK);
        assert_int_equal(tcp_setopt(a, fixed, TCP_OPT_SNDBUF, 16384), TCP_OK);
        uint64_t v = 0;
        assert_int_equal(tcp_getopt(a, fixed, TCP_OPT_SNDBUF, &v), TCP_OK);
        assert_int_equal(v, 16384);
        tcp_sock_id c = h_connect(h, H_A, H_B, 80, H_ANY);
        assert_int_equal(tcp_getopt(a, c, TCP_OPT_SNDBUF, &v), TCP_OK);
        assert_int_equal(v, 16384); /* tcp_wmem[1] before the handshake */
        assert_int_equal(tcp_connect(a, fixed, h_addr(h, H_B), 80), TCP_OK);
        h_run_for(h, H_S(1));
        tcp_sock_id s;
        assert_int_equal(tcp_accept(h_stack(h, H_B), l, &s), TCP_OK);
        assert_int_equal(tcp_getopt(a, c, TCP_OPT_SNDBUF, &v), TCP_OK);
        assert_int_equal(v, want[i]);
        assert_int_equal(tcp_getopt(h_stack(h, H_B), s, TCP_OPT_SNDBUF, &v), TCP_OK);
        assert_int_equal(v, want[i]);
        assert_int_equal(tcp_getopt(a, fixed, TCP_OPT_SNDBUF, &v), TCP_OK);
        assert_int_equal(v, 16384);
        h_free(h);
    }
}

/* Linux __tcp_select_window without window scaling (a receive buffer the
 * user set: 4096 bytes, a 2048-byte window, scale 0) offers "the largest
 * window that is a nice multiple of mss": when B's application reads the
 * 1448 bytes that closed the window, B reopens it to rounddown(2048, 1448)
 * = 1448, where the rfc9293 rule offers every free byte (2048). */
static void window_whole_segments_at_scale_0(void **state)
{
    const char *names[] = {"linux", "rfc9293"};
    const uint32_t closed[] = {0, 600}, want[] = {1448, 2048};
    (void)state;
    for (size_t i = 0; i < 2; i++) {
        tcp_profile pr = *h_profile_exact(names[i]);
        pr.rcv_win_ratio = 128; /* the same window from the same buffer */
        pr.send_timestamps = true;
        harness *h = h_new(2, &pr);
        tcp_stack *b = h_stack(h, H_B);
        tcp_sock_id l = h_listen_rcvbuf(h, H_B, 80, 8, 4096);
        tcp_sock_id c = h_connect(h, H_A, H_B, 80, H_ANY);
        h_settle(h);
        tcp_sock_id s = h_accept(h, H_B, l);
        send_n(h, H_A, c, 1448);
        h_run_for(h, H_MS(500)); /* past a delayed ACK */
        assert_int_equal(tcp_readable(b, s), 1448);
        /* linux: 600 free octets are under half the buffer and one MSS */
        assert_int_equal(h_last_sent(h, H_B)->wnd, closed[i]);
        static char buf[1448];
        assert_int_equal(tcp_recv(b, s, buf, sizeof buf), 1448);
        h_run_for(h, H_MS(500));
        assert_int_equal(h_last_sent(h, H_B)->wnd, want[i]);
        h_free(h);
    }
}

/* Linux __tcp_select_window without window scaling starts from
 * "window = tp->rcv_wnd", the window the last segment offered (set by
 * tcp_select_window with rcv_wup = rcv_nxt), and keeps it "If our current
 * window offering is within 1 mss of the free space" (neither window <=
 * free_space - mss nor window > free_space). B's SYN,ACK offers 1448
 * (rounddown(2048, 1448): a 4096-byte buffer, half of it window, scale 0);
 * 100 bytes arrive and stay unread: the free space is 1948, and 1448 is
 * within one MSS of it (1448 > 1948 - 1448, and so for any MSS from
 * Linux's initial rcv_mss estimate, 536, up), so the ACK offers 1448 again
 * and the right edge moves by 100; tcp_select_window's never-shrink step
 * (new_win >= tcp_receive_window() = 1348) keeps it. RCV.ADV - RCV.NXT
 * (1348) in place of tp->rcv_wnd would keep the old edge instead.
 * Window growth and the ratio measurement are turned off so that the free
 * space is the buffer's half less the bytes held. */
static void window_whole_segments_keeps_last_offer(void **state)
{
    (void)state;
    tcp_profile pr = *h_profile_exact("linux");
    pr.rcv_win_ratio = 128;
    pr.scaling_ratio = 0;
    pr.grow_window = false;
    pr.rcv_autotune = false;
    harness *h = h_new(2, &pr);
    tcp_stack *b = h_stack(h, H_B);
    tcp_sock_id l = h_listen_rcvbuf(h, H_B, 80, 8, 4096);
    tcp_sock_id c = h_connect(h, H_A, H_B, 80, H_ANY);
    h_expect_sent(h, H_A, TCP_SYN, H_ANY, H_ANY, 0);
    h_deliver(h);
    h_expect_seg(h, H_B, .flags = TCP_SYN | TCP_ACK, .wnd = 1448);
    h_settle(h);
    tcp_sock_id s = h_accept(h, H_B, l);
    send_n(h, H_A, c, 100);
    h_run_for(h, H_MS(500));
    assert_int_equal(tcp_readable(b, s), 100);
    const tcp_seg *ack = h_last_sent(h, H_B);
    assert_true(ack->flags & TCP_ACK);
    assert_int_equal(ack->wnd, 1448);
    h_free(h);
}

/* Reads everything stack `stack` holds for s. */
static void drain(harness *h, size_t stack, tcp_sock_id s)
{
    static char buf[65536];
    while (tcp_recv(h_stack(h, stack), s, buf, sizeof buf) > 0)
        ;
}

/* Delivers the next datagram; true if it carried data to stack `to`. */
static bool deliver_is_data_to(harness *h, size_t to)
{
    const h_dgram *d = h_peek(h, 0);
    assert_non_null(d);
    bool data = d->to == to && d->seg.len > 0;
    h_deliver(h);
    return data;
}

/* Linux tcp_grow_window (profile grow_window, scaling_ratio). The kernel's
 * run of robustness/full_size_segments.lua (Linux 6.18 as B behind a TUN
 * device, 131072-byte buffer, window scale 10, A sending 1448-byte
 * segments): B's SYN,ACK offers 65160 and A's handshake ACK 63 (64512);
 * B's first six ACKs offer 67, 70, 73, 75, 78, 79 (68608 ... 80896), each
 * sent at once, and B ACKs 22 segments one by one before it ACKs every
 * second one. From the sources: rcv_ssthresh starts at the SYN,ACK's
 * window, rounddown(65536, 1448) (tcp_select_initial_window); the first
 * segment measures the TUN skb's ratio, 1448 * 256 / 2304 = 160, and the
 * clamp becomes 131072 * 160 / 256 = 81920 (tcp_measure_rcv_mss); each
 * segment adds 2 x 1460 up to that clamp less the octets held (tcp_space),
 * the window offered is rounded up to 1024 (__tcp_select_window), and each
 * growth makes its ACK immediate (icsk_ack.quick |= 1) on top of the 16
 * quick ACKs (TCP_MAX_QUICKACKS). The fourth value, 75 and not 76, is that
 * of a reader that had not yet read the first four segments (81920 -
 * 4 x 1448 = 76128); B reads from the fourth segment on here. */
static void window_grows_per_segment_linux(void **state)
{
    (void)state;
    const uint16_t want[] = {67, 70, 73, 75, 78, 79};
    harness *h = with_profile("linux");
    tcp_sock_id l = h_listen(h, H_B, 80, 8);
    tcp_sock_id c = h_connect(h, H_A, H_B, 80, H_ANY);
    h_expect_sent(h, H_A, TCP_SYN, H_ANY, H_ANY, 0);
    h_deliver(h);
    h_expect_seg(h, H_B, .flags = TCP_SYN | TCP_ACK, .wnd = 65160);
    h_deliver(h);
    h_expect_seg(h, H_A, .flags = TCP_ACK, .wnd = 63);
    h_deliver(h);
    tcp_sock_id s = h_accept(h, H_B, l);
    send_n(h, H_A, c, 30 * 1448);
    size_t data = 0;
    while (data < 24) {
        size_t before = h_sent_count(h, H_B);
        if (!deliver_is_data_to(h, H_B))
            continue;
        data++;
        size_t acks = h_sent_count(h, H_B) - before;
        if (data <= 22)
            assert_int_equal(acks, 1); /* quick ACKs and growths */
        else
            assert_int_equal(acks, data == 24); /* every second segment */
        if (data <= 6)
            assert_int_equal(h_last_sent(h, H_B)->wnd, want[data - 1]);
        else
            assert_true(h_last_sent(h, H_B)->wnd <= 80); /* the clamp, 81920 */
        if (data >= 4)
            drain(h, H_B, s);
    }
    h_free(h);
}

/* tcp_data_queue_ofo grows the window for out-of-order data on a SACK
 * connection only ("For non sack flows, do not grow window to force DUPACK
 * and trigger fast retransmit"). The kernel's run of
 * robustness/bulk_lossy_1500.lua (A's first segment lost, SACK agreed):
 * its duplicate ACKs offer 68608, 71680, 74752, 76800 and then no more,
 * the out-of-order octets held counting against the buffer (81920 -
 * 4 x 1448, rounded up to 1024 = 76800). Without SACK every duplicate
 * ACK offers the same window. Each growth makes its duplicate ACK
 * immediate (icsk_ack.quick |= 1), and that ACK spends it
 * (tcp_dec_quickack_mode); once the window stops growing, SACK
 * compression sends the next TCP_FASTRETRANS_THRESH = 3 duplicate ACKs at
 * once and holds the later ones (__tcp_ack_snd_check), as the kernel's
 * runs of that scenario compress them. Without SACK every one goes at
 * once. */
static void out_of_order_grows_window_with_sack_only(void **state)
{
    (void)state;
    const uint16_t want[] = {67, 70, 73, 75, 75, 75, 75, 75, 75};
    for (int sack = 1; sack >= 0; sack--) {
        tcp_profile pr = *h_linux_exact();
        pr.send_sack_perm = sack;
        harness *h = h_new(2, &pr);
        h_pair p = h_establish(h, H_A, H_B, 80);
        send_n(h, H_A, p.client, 10 * 1448);
        h_drop(h); /* the first segment */
        uint16_t first = 0;
        for (size_t k = 0; k < 9; k++) {
            size_t before = h_sent_count(h, H_B);
            assert_true(deliver_is_data_to(h, H_B));
            /* four growths, then three duplicate ACKs, then held */
            bool held = sack && k >= 4 + 3;
            assert_int_equal(h_sent_count(h, H_B) - before, !held);
            if (held)
                continue;
            const tcp_seg *dup = h_last_sent(h, H_B);
            if (k == 0)
                first = dup->wnd;
            assert_int_equal(dup->wnd, sack ? want[k] : first);
        }
        h_free(h);
    }
}

/* Linux receive-buffer autotuning (profile rcv_autotune: tcp_rcv_space_adjust,
 * tcp_rcvbuf_grow, tcp_rcv_rtt_measure_ts). The kernel's run of
 * robustness/full_size_segments.lua (Linux 6.18.44 as B behind a TUN
 * device, 5 ms each way, a reader that takes every segment at once): the
 * window stops at the clamp, 79 x 1024, through the first two flights (30
 * segments); in the third RTT the reader has taken more than the last
 * measure (rcvq_space, at first min(rcv_ssthresh, 10 x 1460)), the buffer
 * grows and the window with it, each growth ACKed at once: the ACKs of
 * segments 32 to 37 offer 83968, 87040, 90112, 92160, 95232, 98304. With
 * the knob off the window stays at the clamp. */
static void reads_grow_receive_buffer_linux(void **state)
{
    (void)state;
    const uint16_t want[] = {82, 85, 88, 90, 93, 96};
    for (int on = 1; on >= 0; on--) {
        tcp_profile pr = *h_linux_exact();
        pr.rcv_autotune = on;
        harness *h = h_new(2, &pr);
        h_set_delay(h, 5000000u);
        tcp_sock_id l = h_listen(h, H_B, 80, 8);
        tcp_sock_id c = h_connect(h, H_A, H_B, 80, H_ANY);
        uint32_t iss = h_expect_sent(h, H_A, TCP_SYN, H_ANY, H_ANY, 0)->seq;
        static char out[60 * 1448];
        size_t sent = 0;
        tcp_sock_id s = 0; /* 0: not accepted yet */
        size_t seen = 0;
        unsigned grown = 0;
        while (seen < 37 && (sent < sizeof out || h_pending(h))) {
            long n = tcp_send(h_stack(h, H_A), c, out + sent, sizeof out - sent);
            if (n > 0)
                sent += (size_t)n; /* as much as the send buffer takes */
            if (!h_pending(h))
                break;
            size_t before = h_sent_count(h, H_B);
            if (h_peek_due(h, 0) > h_now(h))
                h_advance(h, h_peek_due(h, 0) - h_now(h)); /* 5 ms each way */
            h_deliver(h);
            if (!s && tcp_accept(h_stack(h, H_B), l, &s) != 0)
                s = 0; /* not established yet */
            if (s)
                drain(h, H_B, s);
            for (size_t k = before; k < h_sent_count(h, H_B); k++) {
                const tcp_seg *a = &h_sent(h, H_B, k)->seg;
                uint32_t segs = (a->ack - iss - 1) / 1448;
                if (a->flags & TCP_SYN || !segs)
                    continue;
                seen = segs;
                if (segs <= 31 || !on)
                    assert_true(a->wnd <= 79); /* the clamp, 81920 */
                else if (segs <= 37)
                    assert_int_equal(a->wnd, want[segs - 32]);
                if (segs >= 32 && segs <= 37 && (a->ack - iss - 1) % 1448 == 0)
                    grown |= 1u << (segs - 32);
            }
        }
        assert_true(seen >= 37);
        if (on)
            assert_int_equal(grown, 0x3f); /* each of 32..37 ACKed at once */
        h_free(h);
    }
}

#define T(f) cmocka_unit_test_setup_teardown(f, h_setup, h_teardown)

/* A linux-profile receiver that never reads, under a bulk sender: the
 * window is kept from shrinking (tcp_select_window) but its rounding to the
 * scale unit must not carry the right edge past the receive buffer, ACK
 * after ACK; what arrives past the buffer is dropped (Linux drops what
 * tcp_try_rmem_schedule cannot hold), never an abort. The edge is the
 * peer's view of it (ACK + field << scale). */
static void unread_receiver_edge_stays_within_the_buffer(void **state)
{
    (void)state;
    harness *h = with_profile("linux");
    h_pair p = h_establish(h, H_A, H_B, 80);
    static char buf[1 << 16];
    memset(buf, 'x', sizeof buf);
    tcp_tcb t0;
    assert_int_equal(tcp_sock_tcb(h_stack(h, H_B), p.server, &t0), 0);
    const tcp_seg *synack = &h_sent(h, H_B, 0)->seg;
    assert_true(synack->has_wscale && synack->wscale > 0);
    uint32_t start = t0.rcv_nxt, unit = 1u << synack->wscale, worst = 0, half_way = 0;
    for (int i = 0; i < 3000; i++) {
        if (i == 1500)
            half_way = worst;
        tcp_send(h_stack(h, H_A), p.client, buf, sizeof buf);
        if (h_pending(h))
            h_deliver(h);
        else
            h_run_for(h, 5000000);
        const tcp_seg *ack = h_last_sent(h, H_B);
        uint32_t edge = ack->ack + ((uint32_t)ack->wnd << synack->wscale) - start;
        worst = edge > worst ? edge : worst;
    }
    tcp_tcb t;
    assert_int_equal(tcp_sock_tcb(h_stack(h, H_B), p.server, &t), 0);
    uint32_t held = t.rcv_nxt - start;
    assert_true(held > 0);
    /* the buffer filled long before half way; the edge then never moved */
    assert_int_equal(worst, half_way);
    /* within what is held plus the rounding (the kept window's unit, and
     * the field's unit on top of it) */
    assert_true(worst <= held + 2u * unit);
    h_free(h);
}

/* A minisock's ACK offers the window the full connection would: the same
 * final ACK of a retransmitted FIN whether the user closed (the connection
 * became a minisock) or only shut down (it is held whole). */
static void time_wait_minisock_offers_the_connections_window(void **state)
{
    (void)state;
    uint16_t w[2];
    for (int mode = 0; mode < 2; mode++) {
        harness *h = with_profile("linux");
        h_pair p = h_establish(h, H_A, H_B, 80);
        send_n(h, H_B, p.server, 1);
        h_settle(h);
        drain(h, H_A, p.client);
        h_settle(h);
        if (mode == 0)
            tcp_close(h_stack(h, H_A), p.client);
        else
            tcp_shutdown(h_stack(h, H_A), p.client);
        h_settle(h);
        h_drop_sent(h, H_A, TCP_ACK, 1);
        tcp_close(h_stack(h, H_B), p.server);
        h_run_for(h, 5000000000ull);
        const tcp_seg *last = h_last_sent(h, H_A);
        assert_int_equal(last->flags, TCP_ACK);
        w[mode] = last->wnd;
        h_free(h);
    }
    assert_int_equal(w[0], w[1]);
}

/* After an RTO SND.NXT falls back; the peer ACKs the retransmitted head
 * with a zero window while data beyond it is still outstanding. The RTO
 * keeps watching that data; the persist timer, which shares its slot, is
 * not armed (Linux tcp_check_probe_timer: only with nothing outstanding
 * and no timer pending). */
static void zero_window_ack_after_rto_keeps_the_rto(void **state)
{
    (void)state;
    const char *names[] = {"rfc9293", "linux", "bsd"};
    for (int prof = 0; prof < 3; prof++) {
        harness *h = with_profile(names[prof]);
        h_pair p = h_establish(h, H_A, H_B, 80);
        tcp_setopt(h_stack(h, H_A), p.client, TCP_OPT_NODELAY, 1);
        send_n(h, H_A, p.client, 4000);
        tcp_tcb t;
        assert_int_equal(tcp_sock_tcb(h_stack(h, H_A), p.client, &t), 0);
        uint32_t head = t.snd_una;
        /* everything lost, a loss probe of the tail too, until the RTO
         * sends the head again */
        bool rto = false;
        for (int ms = 0; ms < 10000 && !rto; ms++) {
            while (h_pending(h) &&
                   !(rto = h_peek(h, 0)->seg.seq == head && h_peek(h, 0)->seg.len > 0))
                h_drop(h);
            if (!rto)
                h_advance(h, H_MS(1));
        }
        assert_true(rto);
        tcp_seg g = h_reply(&h_peek(h, 0)->seg);
        g.wnd = 0;
        while (h_pending(h))
            h_drop(h);
        h_inject(h, H_A, &g);
        assert_int_equal(tcp_sock_tcb(h_stack(h, H_A), p.client, &t), 0);
        assert_true((int32_t)(t.snd_max - t.snd_una) > 0);
        assert_true(t.timer_at[TCP_TIMER_RTX] != UINT64_MAX);
        assert_true(t.timer_at[TCP_TIMER_PERSIST] == UINT64_MAX);
        size_t before = h_sent_count(h, H_A);
        h_run_for(h, H_S(2));
        assert_true(h_sent_count(h, H_A) > before); /* the RTO (or a probe after it) went out */
        assert_int_equal(h_last_sent(h, H_A)->seq, t.snd_una);
        h_free(h);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(eff_mss_subtracts_timestamp_option),
        T(rst_after_rto_carries_snd_max),
        T(close_implies_push),
        T(final_fin_ignores_full_cwnd),
        T(minshall_nagle_linux),
        T(classic_nagle_rfc9293),
        T(active_rst_has_ack_linux),
        T(active_rst_rfc9293_no_ack),
        T(data_after_close_rst_answers_segment),
        T(zero_window_probe_linux),
        T(zero_window_probe_bsd_min_5s),
        T(linux_abort_in_last_ack_with_unsent_data_resets),
        T(rfc9293_abort_in_last_ack_is_silent),
        T(no_second_fast_retransmit_below_recover),
        T(mss_floor_linux),
        T(sndbuf_expanded_at_establishment),
        T(slow_start_counts_every_segment_acked),
        T(window_whole_segments_at_scale_0),
        cmocka_unit_test(window_whole_segments_keeps_last_offer),
        T(window_grows_per_segment_linux),
        T(out_of_order_grows_window_with_sack_only),
        T(reads_grow_receive_buffer_linux),
        T(unread_receiver_edge_stays_within_the_buffer),
        T(time_wait_minisock_offers_the_connections_window),
        T(zero_window_ack_after_rto_keeps_the_rto),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
