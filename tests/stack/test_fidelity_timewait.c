/*
 * test_fidelity_timewait — the closing states under the kernel profiles:
 * the ACK of a retransmitted FIN in CLOSING (Linux tcp_sequence, FreeBSD
 * tcp_do_segment), a bare FIN at a zero window (Linux tcp_data_queue), and
 * FreeBSD's tcp_twcheck in TIME_WAIT.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "harness.h"

/* Both sides close at once and both plain ACKs are lost: A sits in
 * CLOSING. */
static h_pair both_closing(harness *h)
{
    h_pair p = h_establish(h, H_A, H_B, 80);
    assert_int_equal(tcp_close(h_stack(h, H_A), p.client), TCP_OK);
    assert_int_equal(tcp_close(h_stack(h, H_B), p.server), TCP_OK);
    h_deliver(h); /* A's FIN to B: B CLOSING, ACK queued */
    h_deliver(h); /* B's FIN to A: A CLOSING, ACK queued */
    h_drop(h);
    h_drop(h);
    h_expect_state(h, H_A, p.client, TCP_CLOSING);
    h_sent_skip(h, H_A);
    return p;
}

/* B's FIN again, now acknowledging A's FIN: <SEQ=RCV.NXT-1><ACK=A's FIN+1>. */
static void inject_fin_again(harness *h, h_pair p)
{
    tcp_seg fin = h_template(h, H_A, p.client);
    fin.seq -= 1u;
    fin.flags = TCP_FIN | TCP_ACK;
    h_inject(h, H_A, &fin);
}

/* Linux tcp_sequence accepts a segment with end_seq >= rcv_wup, so the ACK
 * of B's retransmitted FIN is processed: CLOSING -> TIME_WAIT at once, and
 * tcp_rcv_state_process's CLOSING case consumes the segment (no ACK). */
static void linux_closing_takes_ack_of_retransmitted_fin(void **state)
{
    (void)state;
    harness *h = h_new(2, tcp_profile_find("linux"));
    h_pair p = both_closing(h);
    inject_fin_again(h, p);
    h_expect_state(h, H_A, p.client, TCP_TIME_WAIT);
    h_expect_none_sent(h, H_A);
    h_free(h);
}

/* RFC 9293 §3.10.7.4 Table 6 (rfc9293): the same segment is not acceptable
 * (SEG.SEQ + SEG.LEN - 1 < RCV.NXT): an ACK in reply, CLOSING stays. */
static void rfc9293_closing_ignores_old_fin(void **state)
{
    harness *h = *state;
    h_pair p = both_closing(h);
    inject_fin_again(h, p);
    h_expect_state(h, H_A, p.client, TCP_CLOSING);
    h_expect_sent(h, H_A, TCP_ACK, H_ANY, H_ANY, 0);
}

/* Linux tcp_data_queue at tcp_receive_window == 0: "if (!skb->len &&
 * (TCP_SKB_CB(skb)->tcp_flags & TCPHDR_FIN)) goto queue_and_out": a bare
 * FIN at RCV.NXT is taken although the window is closed. */
static void linux_bare_fin_at_zero_window(void **state)
{
    (void)state;
    tcp_profile pr = *tcp_profile_find("linux");
    pr.rcvbuf = 2000;  /* tcp_win_from_space: half of it, 1000 bytes, is window */
    pr.rcvbuf_max = 0; /* a scale that fits it (tcp_rmem[2] = tcp_rmem[1]) */
    harness *h = h_new(2, &pr);
    h_pair p = h_establish(h, H_A, H_B, 80);
    char fill[1000];
    memset(fill, 'z', sizeof fill);
    assert_int_equal(tcp_send(h_stack(h, H_B), p.server, fill, sizeof fill), 1000);
    h_settle(h);
    assert_int_equal(tcp_readable(h_stack(h, H_A), p.client), 1000); /* window 0 */
    tcp_seg fin = h_template(h, H_A, p.client);
    fin.flags = TCP_FIN | TCP_ACK;
    h_inject(h, H_A, &fin);
    h_expect_state(h, H_A, p.client, TCP_CLOSE_WAIT);
    h_free(h);
}

/* RFC 9293 §3.10.7.4: at RCV.WND = 0 only ACK, URG and RST are taken. */
static void rfc9293_bare_fin_at_zero_window_waits(void **state)
{
    (void)state;
    tcp_profile pr = *tcp_profile_find("rfc9293");
    pr.rcvbuf = 1000;
    harness *h = h_new(2, &pr);
    h_pair p = h_establish(h, H_A, H_B, 80);
    char fill[1000];
    memset(fill, 'z', sizeof fill);
    assert_int_equal(tcp_send(h_stack(h, H_B), p.server, fill, sizeof fill), 1000);
    h_settle(h);
    tcp_seg fin = h_template(h, H_A, p.client);
    fin.flags = TCP_FIN | TCP_ACK;
    h_inject(h, H_A, &fin);
    h_expect_state(h, H_A, p.client, TCP_ESTABLISHED);
    h_free(h);
}

/* A in TIME_WAIT under bsd. */
static h_pair bsd_time_wait(harness *h)
{
    h_pair p = h_establish(h, H_A, H_B, 80);
    assert_int_equal(tcp_close(h_stack(h, H_A), p.client), TCP_OK);
    h_settle(h);
    assert_int_equal(tcp_close(h_stack(h, H_B), p.server), TCP_OK);
    h_settle(h);
    h_expect_state(h, H_A, p.client, TCP_TIME_WAIT);
    h_sent_skip(h, H_A);
    return p;
}

/* FreeBSD tcp_twcheck: "Drop the segment if it does not contain an ACK"
 * (silently), and acknowledge a bare ACK whose ack is not snd_nxt ("if
 * (thflags != TH_ACK || tlen != 0 || th->th_seq != tp->rcv_nxt ||
 * th->th_ack != tp->snd_nxt)"), but not a duplicate ACK. */
static void bsd_time_wait_twcheck(void **state)
{
    (void)state;
    harness *h = h_new(2, tcp_profile_find("bsd"));
    h_pair p = bsd_time_wait(h);
    tcp_seg t = h_template(h, H_A, p.client);
    t.flags = TCP_FIN; /* no ACK */
    h_inject(h, H_A, &t);
    h_expect_none_sent(h, H_A);
    t = h_template(h, H_A, p.client); /* the duplicate ACK */
    h_inject(h, H_A, &t);
    h_expect_none_sent(h, H_A);
    t.ack -= 1u; /* not snd_nxt */
    h_inject(h, H_A, &t);
    h_expect_sent(h, H_A, TCP_ACK, H_ANY, H_ANY, 0);
    h_expect_state(h, H_A, p.client, TCP_TIME_WAIT);
    h_free(h);
}

/* FreeBSD tcp_twcheck: a SYN (no ACK) above RCV.NXT closes TIME_WAIT before
 * the lookup is repeated; with no listener on the port tcp_input answers
 * RST (<SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>, RFC 9293 §3.10.7.1). */
static void bsd_time_wait_syn_without_listener_resets(void **state)
{
    (void)state;
    harness *h = h_new(2, tcp_profile_find("bsd"));
    h_pair p = bsd_time_wait(h);
    tcp_seg syn = h_template(h, H_A, p.client);
    syn.flags = TCP_SYN;
    syn.ack = 0;
    syn.seq += 1000u;
    h_inject(h, H_A, &syn);
    h_expect_sent(h, H_A, TCP_RST | TCP_ACK, 0, syn.seq + 1u, 0);
    h_expect_conns(h, H_A, 0);
    h_free(h);
}

#define T(f) cmocka_unit_test_setup_teardown(f, h_setup, h_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(linux_closing_takes_ack_of_retransmitted_fin),
        T(rfc9293_closing_ignores_old_fin),
        T(linux_bare_fin_at_zero_window),
        T(rfc9293_bare_fin_at_zero_window_waits),
        T(bsd_time_wait_twcheck),
        T(bsd_time_wait_syn_without_listener_resets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
