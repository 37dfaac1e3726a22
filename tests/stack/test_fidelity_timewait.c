/*
 * test_fidelity_timewait — the closing states under the kernel profiles:
 * the ACK of a retransmitted FIN in CLOSING (Linux tcp_sequence, FreeBSD
 * tcp_do_segment), a bare FIN at a zero window (Linux tcp_data_queue),
 * FreeBSD's tcp_twcheck in TIME_WAIT, and Linux's timestamps on a SYN in
 * TIME_WAIT (RFC 6191, tcp_timewait_state_process).
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
    harness *h = h_new(2, h_linux_exact());
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
 * FIN at RCV.NXT is taken although the window is closed. The bytes that
 * closed it are unread here, so this is a kernel before 6.17, whose
 * tcp_sequence lets the FIN through to tcp_data_queue
 * (beyond_window_drop off; test_fidelity_delack has 6.17's refusal). */
static void linux_bare_fin_at_zero_window(void **state)
{
    (void)state;
    tcp_profile pr = *h_linux_exact();
    pr.rcvbuf = 2000;  /* tcp_win_from_space: half of it, 1000 bytes, is window */
    pr.rcvbuf_max = 0; /* a scale that fits it (tcp_rmem[2] = tcp_rmem[1]) */
    pr.beyond_window_drop = false;
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

/* B, the server (listener on 80), in TIME_WAIT under linux, timestamps
 * agreed, closed 1 s in so that TS values are not 0 (Linux takes a
 * TS.Recent of 0 as none, tcp_paws_check); *ts_recent: the TS.Val of A's
 * last segment, *snd_nxt: B's. */
static h_pair linux_server_time_wait(harness *h, uint32_t *ts_recent, uint32_t *snd_nxt)
{
    h_pair p = h_establish(h, H_A, H_B, 80);
    h_run(h, h_now(h) + H_S(1));
    assert_int_equal(tcp_close(h_stack(h, H_B), p.server), TCP_OK);
    h_settle(h);
    assert_int_equal(tcp_close(h_stack(h, H_A), p.client), TCP_OK);
    h_settle(h);
    h_expect_state(h, H_B, p.server, TCP_TIME_WAIT);
    assert_true(h_last_sent(h, H_A)->has_ts);
    *ts_recent = h_last_sent(h, H_A)->ts_val;
    assert_true(*ts_recent != 0);
    *snd_nxt = h_last_sent(h, H_B)->seq;
    h_sent_skip(h, H_B);
    return p;
}

static tcp_seg tw_syn(harness *h, h_pair p, uint32_t seq_delta, uint32_t ts_val)
{
    tcp_seg syn = h_template(h, H_B, p.server);
    syn.flags = TCP_SYN;
    syn.ack = 0;
    syn.seq += seq_delta;
    syn.has_ts = true;
    syn.ts_val = ts_val;
    syn.ts_ecr = 0;
    return syn;
}

/* RFC 6191 §2, Linux tcp_timewait_state_process: with timestamps a SYN
 * whose TS.Val is newer than TS.Recent reopens the connection even below
 * RCV.NXT ("after(seq, rcv_nxt) || (saw_tstamp && tw_ts_recent - tsval <
 * 0)"); the listener answers with ISN = tw_snd_nxt + 65535 + 2. */
static void linux_time_wait_newer_timestamp_reopens(void **state)
{
    (void)state;
    harness *h = h_new(2, h_linux_exact());
    uint32_t ts_recent = 0, snd_nxt = 0;
    h_pair p = linux_server_time_wait(h, &ts_recent, &snd_nxt);
    tcp_seg syn = tw_syn(h, p, (uint32_t)-1, ts_recent + 1000u);
    h_inject(h, H_B, &syn);
    h_expect_state(h, H_B, p.server, TCP_CLOSED);
    assert_string_equal(h_last_transition(h, H_B, p.server)->note, "rcv SYN (new connection)");
    h_expect_sent(h, H_B, TCP_SYN | TCP_ACK, snd_nxt + 65535u + 2u, syn.seq + 1u, 0);
    h_free(h);
}

/* RFC 7323 §5 PAWS in TIME_WAIT (Linux tcp_paws_reject): a SYN whose TS.Val
 * is older than TS.Recent is refused even above RCV.NXT; it is answered
 * with an ACK and the TIME_WAIT timer restarts (inet_twsk_reschedule). An
 * ACK-less SYN without a timestamp verdict below RCV.NXT does not restart
 * it ("Do not reschedule in the last case"). */
static void linux_time_wait_older_timestamp_refused(void **state)
{
    (void)state;
    harness *h = h_new(2, h_linux_exact());
    uint32_t ts_recent = 0, snd_nxt = 0;
    h_pair p = linux_server_time_wait(h, &ts_recent, &snd_nxt);
    tcp_seg syn = tw_syn(h, p, (uint32_t)-1, ts_recent);
    h_inject(h, H_B, &syn); /* an old duplicate with the same TS.Val */
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0);
    h_drop(h); /* closed, A would answer it with an RST */
    assert_int_equal(h_count(h, H_B, p.server, TCP_EV_TIMER_RESTART), 0);
    h_run(h, h_now(h) + H_S(1)); /* past the ACK rate limit (tcp_oow_rate_limited) */
    syn = tw_syn(h, p, 1000u, ts_recent - 1u);
    h_inject(h, H_B, &syn);
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0);
    h_expect_state(h, H_B, p.server, TCP_TIME_WAIT);
    assert_int_equal(h_count(h, H_B, p.server, TCP_EV_TIMER_RESTART), 1);
    h_free(h);
}

/* Linux tcp_timewait_state_process: any segment but an RST that PAWS
 * refuses (tcp_paws_reject) goes to the out-of-window path, so it is
 * answered with an ACK and the TIME_WAIT timer restarts ("if (paws_reject
 * || th->ack) inet_twsk_reschedule"), with or without an ACK bit: a bare
 * ACK at RCV.NXT with an old TS.Val draws an ACK where a fresh one is
 * absorbed, and an ACK-less FIN with an old TS.Val restarts the timer
 * where one with a fresh TS.Val does not. */
static void linux_time_wait_paws_refused_segments_restart(void **state)
{
    (void)state;
    harness *h = h_new(2, h_linux_exact());
    uint32_t ts_recent = 0, snd_nxt = 0;
    h_pair p = linux_server_time_wait(h, &ts_recent, &snd_nxt);
    tcp_seg ack = h_template(h, H_B, p.server);
    ack.has_ts = true;
    ack.ts_val = ts_recent - 1u;
    ack.ts_ecr = 0;
    h_inject(h, H_B, &ack);
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0);
    h_drop(h); /* closed, A would answer it with an RST */
    assert_int_equal(h_count(h, H_B, p.server, TCP_EV_TIMER_RESTART), 1);

    h_run(h, h_now(h) + H_S(1)); /* past the ACK rate limit (tcp_oow_rate_limited) */
    tcp_seg fin = h_template(h, H_B, p.server);
    fin.flags = TCP_FIN;
    fin.ack = 0;
    fin.has_ts = true;
    fin.ts_val = ts_recent + 1000u; /* fresh: out of window, no ACK, no restart */
    fin.ts_ecr = 0;
    h_inject(h, H_B, &fin);
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0);
    h_drop(h);
    assert_int_equal(h_count(h, H_B, p.server, TCP_EV_TIMER_RESTART), 1);

    h_run(h, h_now(h) + H_S(1));
    fin.ts_val = ts_recent - 1u; /* refused by PAWS: the timer restarts */
    h_inject(h, H_B, &fin);
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0);
    h_drop(h);
    h_expect_state(h, H_B, p.server, TCP_TIME_WAIT);
    assert_int_equal(h_count(h, H_B, p.server, TCP_EV_TIMER_RESTART), 2);
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
        T(linux_time_wait_newer_timestamp_reopens),
        T(linux_time_wait_older_timestamp_refused),
        T(linux_time_wait_paws_refused_segments_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
