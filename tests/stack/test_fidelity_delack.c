/*
 * test_fidelity_delack — when the receiver's ACK leaves, per profile. The
 * linux profile follows Linux's delayed-ACK engine (net/ipv4/tcp_input.c
 * tcp_event_data_recv, __tcp_ack_snd_check, tcp_fin; tcp_output.c
 * tcp_send_delayed_ack, tcp_event_data_sent; tcp_timer.c
 * tcp_delack_timer_handler, tcp_compressed_ack_kick): quick ACKs at the
 * start, an ATO that starts at TCP_ATO_MIN (40 ms) and grows when a
 * delayed ACK fires, up to TCP_DELACK_MAX (200 ms) and the smoothed RTT,
 * and pingpong (interactive) mode that a reply within the ATO or a FIN
 * turns on. FreeBSD ACKs a FIN at
 * once (tcp_do_segment: TF_ACKNOW) and delays others TCPTV_DELACK.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

/* A sends text; it reaches B now and B's application reads it. */
static void data_to_b(harness *h, h_pair p, const char *text)
{
    h_send(h, H_A, p.client, text);
    h_expect_sent(h, H_A, TCP_ACK | TCP_PSH, H_ANY, H_ANY, H_ANY);
    h_deliver(h);
    h_expect_recv(h, H_B, p.server, text);
}

/* tcp_fin: ESTABLISHED -> CLOSE_WAIT enters pingpong mode, so the FIN is
 * not quick-ACKed; the delayed ACK fires after the ATO, 40 ms once data set
 * it (Linux 6.18: 41-48 ms, docs/kernel.md). */
static void linux_fin_after_data_acked_after_ato(void **state)
{
    (void)state;
    harness *h = h_new(2, h_linux_exact());
    h_pair p = h_establish(h, H_A, H_B, 80);
    data_to_b(h, p, "hello");
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0); /* quick ACK */
    h_deliver(h);
    assert_int_equal(tcp_shutdown(h_stack(h, H_A), p.client), TCP_OK);
    h_expect_sent(h, H_A, TCP_FIN | TCP_ACK, H_ANY, H_ANY, 0);
    h_deliver(h);
    h_expect_state(h, H_B, p.server, TCP_CLOSE_WAIT);
    h_expect_none_sent(h, H_B);
    h_advance(h, H_MS(40) - 1);
    h_expect_none_sent(h, H_B);
    h_advance(h, 1);
    const tcp_seg *ack = h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0);
    assert_true(ack->ack == h_last_sent(h, H_A)->seq + 1);
    h_free(h);
}

/* close_pushes_last_segment against Linux: A's 1448 bytes are quick-ACKed;
 * its last 552 bytes come with the FIN. tcp_data_queue() queues them and
 * calls tcp_fin(), which enters interactive mode, before
 * __tcp_ack_snd_check() decides the segment's ACK: no quick ACK then, and
 * 553 octets are not more than one full segment, so the ACK waits the ATO
 * (tcp_send_delayed_ack, 40 ms). Classic Nagle holds the runt until close. */
static void linux_data_with_fin_acked_after_ato(void **state)
{
    (void)state;
    tcp_profile classic = *h_linux_exact();
    classic.nagle_minshall = false;
    harness *h = h_new(2, &classic);
    h_pair p = h_establish(h, H_A, H_B, 80);
    char text[2001];
    memset(text, 'x', 2000);
    text[2000] = '\0';
    h_send(h, H_A, p.client, text);
    const tcp_seg *first = h_expect_sent(h, H_A, TCP_ACK, H_ANY, H_ANY, H_ANY);
    uint32_t runt = 2000 - first->len;
    h_deliver(h);
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0); /* quick ACK */
    assert_int_equal(tcp_close(h_stack(h, H_A), p.client), TCP_OK);
    const tcp_seg *fin = h_expect_sent(h, H_A, TCP_FIN | TCP_PSH | TCP_ACK, H_ANY, H_ANY, runt);
    uint32_t want = fin->seq + runt + 1;
    h_deliver_all(h);
    h_expect_state(h, H_B, p.server, TCP_CLOSE_WAIT);
    h_expect_none_sent(h, H_B);
    h_advance(h, H_MS(40) - 1);
    h_expect_none_sent(h, H_B);
    h_advance(h, 1);
    const tcp_seg *ack = h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0);
    assert_true(ack->ack == want);
    h_free(h);
}

/* Before any data the ATO is 0: tcp_send_delayed_ack sets the timer to
 * "jiffies + ato", which fires on the next timer tick (Linux 6.18: 1-5 ms
 * after a handshake): the profile's delack_tick, one jiffy at HZ=1000. */
static void linux_fin_without_data_acked_next_tick(void **state)
{
    (void)state;
    const tcp_profile *linux_p = h_linux_exact();
    assert_true(linux_p->delack_tick_ns > 0);
    harness *h = h_new(2, linux_p);
    h_pair p = h_establish(h, H_A, H_B, 80);
    assert_int_equal(tcp_shutdown(h_stack(h, H_A), p.client), TCP_OK);
    h_deliver(h);
    h_expect_state(h, H_B, p.server, TCP_CLOSE_WAIT);
    h_expect_none_sent(h, H_B);
    h_advance(h, linux_p->delack_tick_ns - 1);
    h_expect_none_sent(h, H_B);
    h_advance(h, 1);
    const tcp_seg *ack = h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0);
    assert_true(ack->ack == h_last_sent(h, H_A)->seq + 1);
    h_free(h);
}

/* A close() within that tick sends one FIN,ACK that carries the ACK
 * (tcp_send_fin; tcp_event_ack_sent clears the delayed-ACK timer): the
 * bare ACK never leaves. */
static void linux_close_within_tick_sends_fin_ack(void **state)
{
    (void)state;
    harness *h = h_new(2, h_linux_exact());
    h_pair p = h_establish(h, H_A, H_B, 80);
    assert_int_equal(tcp_shutdown(h_stack(h, H_A), p.client), TCP_OK);
    h_deliver(h);
    h_expect_none_sent(h, H_B);
    assert_int_equal(tcp_close(h_stack(h, H_B), p.server), TCP_OK);
    const tcp_seg *fin = h_expect_sent(h, H_B, TCP_FIN | TCP_ACK, H_ANY, H_ANY, 0);
    assert_true(fin->ack == h_last_sent(h, H_A)->seq + 1);
    h_deliver_all(h);
    h_expect_state(h, H_B, p.server, TCP_CLOSED);
    h_advance(h, H_MS(200));
    h_expect_none_sent(h, H_B);
    h_free(h);
}

/* FreeBSD tcp_do_segment: "since we received a FIN then no more input can
 * be expected, send ACK now"; RFC 9293 §3.10.7.4 eighth step likewise. */
static void bsd_fin_after_data_acked_at_once(void **state)
{
    (void)state;
    const char *names[] = {"bsd", "rfc9293"};
    for (size_t i = 0; i < 2; i++) {
        harness *h = h_new(2, tcp_profile_find(names[i]));
        h_pair p = h_establish(h, H_A, H_B, 80);
        data_to_b(h, p, "hello");
        h_run_for(h, H_S(1)); /* B's delayed ACK */
        h_sent_skip(h, H_B);
        assert_int_equal(tcp_shutdown(h_stack(h, H_A), p.client), TCP_OK);
        h_sent_skip(h, H_A);
        h_deliver(h);
        h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0);
        h_free(h);
    }
}

/* tcp_event_data_sent: B answers within the ATO of A's data, so B is
 * interactive (tcp_pingpong_thresh 1): A's next segment gets no quick ACK
 * but the delayed one after 40 ms; that expiry ends pingpong mode
 * (tcp_delack_timer_handler), and the segment after is quick-ACKed again. */
static void linux_pingpong_delays_then_ends(void **state)
{
    (void)state;
    harness *h = h_new(2, h_linux_exact());
    h_pair p = h_establish(h, H_A, H_B, 80);
    data_to_b(h, p, "q1");
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0); /* quick ACK */
    h_send(h, H_B, p.server, "r1");                  /* a reply at once */
    h_expect_sent(h, H_B, TCP_ACK | TCP_PSH, H_ANY, H_ANY, 2);
    h_deliver_all(h);
    h_run_for(h, H_MS(100));
    h_sent_skip(h, H_A);
    h_expect_recv(h, H_A, p.client, "r1");
    data_to_b(h, p, "q2");
    h_expect_none_sent(h, H_B);
    h_advance(h, H_MS(40) - 1);
    h_expect_none_sent(h, H_B);
    h_advance(h, 1);
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0);
    h_deliver_all(h);
    h_run_for(h, H_MS(100));
    data_to_b(h, p, "q3");
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0); /* quick again */
    h_free(h);
}

/* Outside pingpong mode a delayed ACK that fires doubles the ATO
 * ("Delayed ACK missed: inflate ATO", at most the RTO); the delay used is
 * capped by TCP_DELACK_MAX and the smoothed RTT (tcp_send_delayed_ack).
 * Quick ACKs off (quickack 0), and read_ack off, so every lone segment waits; a 100 ms one-way
 * delay makes SRTT 200 ms: delays 40, 80, 160, then 200 ms. */
static void linux_ato_grows_to_delack_max(void **state)
{
    (void)state;
    tcp_profile pr = *h_linux_exact();
    pr.quickack = 0;
    pr.read_ack = false; /* the ATO alone: B's reads do not hurry the ACK */
    harness *h = h_new(2, &pr);
    h_set_delay(h, H_MS(100));
    h_pair p = h_establish(h, H_A, H_B, 80);
    const uint64_t want[] = {H_MS(40), H_MS(80), H_MS(160), H_MS(200)};
    for (size_t i = 0; i < 4; i++) {
        h_send(h, H_A, p.client, "x");
        h_sent_skip(h, H_A);
        h_run_for(h, H_MS(100)); /* the segment arrives */
        h_expect_recv(h, H_B, p.server, "x");
        h_expect_none_sent(h, H_B);
        h_run_for(h, want[i] - 1);
        h_expect_none_sent(h, H_B);
        h_run_for(h, 1);
        h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0);
        h_run_for(h, H_MS(150)); /* the ACK arrives; the gap stays above the ATO */
    }
    h_free(h);
}

/* tcp_event_data_recv: a gap longer than the RTO ("Apparently sender failed
 * to restart window, so that we send ACKs quickly") restarts quick ACKs.
 * One quick ACK (quickack 1): the first segment's; the second, 100 ms
 * later (between the ATO and the 200 ms RTO), waits 40 ms; the third, 1 s
 * later, is quick again. */
static void linux_quickack_after_idle(void **state)
{
    (void)state;
    tcp_profile pr = *h_linux_exact();
    pr.quickack = 1;
    pr.read_ack = false; /* the ATO alone: B's reads do not hurry the ACK */
    harness *h = h_new(2, &pr);
    h_pair p = h_establish(h, H_A, H_B, 80);
    data_to_b(h, p, "a");
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0);
    h_deliver(h);
    h_run_for(h, H_MS(100));
    data_to_b(h, p, "b");
    h_expect_none_sent(h, H_B);
    h_advance(h, H_MS(40));
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0);
    h_deliver(h);
    h_run_for(h, H_S(1));
    data_to_b(h, p, "c");
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0);
    h_free(h);
}

/* tcp_cleanup_rbuf: a read that empties the receive queue sends the ACK
 * owed for a pushed segment (ICSK_ACK_PUSHED: a short one, or a full one
 * with PSH) at once. Quick ACKs off so the segment's own ACK is delayed;
 * with read_ack off the ACK waits the 40 ms ATO. */
static void read_sends_ack_of_pushed_segment(bool read_ack)
{
    tcp_profile pr = *h_linux_exact();
    pr.quickack = 0;
    pr.read_ack = read_ack;
    harness *h = h_new(2, &pr);
    h_pair p = h_establish(h, H_A, H_B, 80);
    h_send(h, H_A, p.client, "hello");
    h_expect_sent(h, H_A, TCP_ACK | TCP_PSH, H_ANY, H_ANY, 5);
    h_deliver(h);
    h_expect_none_sent(h, H_B); /* delayed */
    h_expect_recv(h, H_B, p.server, "hello");
    if (read_ack) {
        h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0);
    } else {
        h_expect_none_sent(h, H_B);
        h_advance(h, H_MS(40));
        h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0);
    }
    h_free(h);
}

static void linux_read_sends_ack_of_pushed_segment(void **state)
{
    (void)state;
    read_sends_ack_of_pushed_segment(true);
}

static void without_read_ack_the_ack_waits(void **state)
{
    (void)state;
    read_sends_ack_of_pushed_segment(false);
}

/* A full-sized segment without PSH is not pushed: the read leaves its ACK
 * to the delayed-ACK timer (one segment is not "more than one full
 * frame"). A sends one MSS and 100 octets; only the first is delivered. */
static void linux_read_leaves_unpushed_full_segment_delayed(void **state)
{
    (void)state;
    tcp_profile pr = *h_linux_exact();
    pr.quickack = 0;
    pr.grow_window = false; /* a growing window would quick-ACK the segment */
    harness *h = h_new(2, &pr);
    h_pair p = h_establish(h, H_A, H_B, 80);
    tcp_sockinfo info;
    assert_int_equal(tcp_sock_info(h_stack(h, H_A), p.client, &info), TCP_OK);
    size_t mss = info.snd_mss, n = mss + 100;
    char *text = malloc(n + 1);
    assert_non_null(text);
    memset(text, 'y', n);
    text[n] = '\0';
    assert_int_equal(tcp_send(h_stack(h, H_A), p.client, text, n), (long)n);
    h_expect_sent(h, H_A, TCP_ACK, H_ANY, H_ANY, mss); /* no PSH */
    h_deliver(h);
    text[mss] = '\0'; /* B has the first segment only */
    h_expect_recv(h, H_B, p.server, text);
    h_expect_none_sent(h, H_B);
    h_advance(h, H_MS(40));
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0);
    free(text);
    h_free(h);
}

/* A segment to B as from A: `len` octets at RCV.NXT + off, with
 * timestamps (TSval tsval, echoing B's last). */
static void seg_to_b(harness *h, h_pair p, uint32_t off, uint32_t len, uint32_t tsval)
{
    static const uint8_t data[1448] = {0};
    tcp_tcb t;
    assert_int_equal(tcp_sock_tcb(h_stack(h, H_B), p.server, &t), 0);
    tcp_seg g = h_template(h, H_B, p.server);
    const tcp_seg *last = h_last_sent(h, H_B);
    g.seq = t.rcv_nxt + off;
    g.has_ts = true;
    g.ts_val = tsval;
    g.ts_ecr = last->ts_val;
    g.payload = data;
    g.len = len;
    h_inject(h, H_B, &g);
}

/* SACK compression's hold with the largest tcp_comp_sack_slack_ns, an
 * unsigned long sysctl that Linux does not bound (proc_doulongvec_minmax).
 * The compressed-ACK hrtimer's range ends at ktime_add_safe(expiry, slack)
 * (include/linux/hrtimer.h hrtimer_set_expires_range_ns), which saturates
 * at KTIME_MAX, and an hrtimer alone fires at the end of its range: the
 * held ACK never goes by itself. The segment that fills the hole is ACKed
 * at once (ICSK_ACK_NOW: the out-of-order queue empties). Window growth and
 * quickack mode are off, so that __tcp_ack_snd_check reaches the
 * compression (docs/pkt.md, M4); a 100 ms RTT and a full-size segment with
 * timestamps give B the RTT that makes the hold min(RTT/20, 1 ms) = 1 ms
 * before the slack. */
static void linux_comp_sack_largest_slack_holds(void **state)
{
    (void)state;
    tcp_profile prof = *tcp_profile_find("linux");
    prof.comp_sack_slack_ns = UINT64_MAX;
    prof.grow_window = false;
    prof.rcv_autotune = false;
    prof.quickack = 0;
    harness *h = h_new(2, &prof);
    h_set_delay(h, H_MS(50));
    tcp_sock_id l = h_listen(h, H_B, 80, 8);
    h_pair p = {.client = h_connect(h, H_A, H_B, 80, 1000)};
    h_settle(h);
    p.server = h_accept(h, H_B, l);
    h_set_delay(h, 0);
    seg_to_b(h, p, 0, 1448, 1000); /* in order: B's receive-side RTT sample */
    h_advance(h, H_MS(300));
    while (h_pending(h))
        h_drop(h);
    h_sent_skip(h, H_B);
    /* 1448 octets lost; the next three draw duplicate ACKs at once. */
    for (uint32_t k = 1; k <= 3; k++) {
        seg_to_b(h, p, k * 1448u, 1448, 1010);
        h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0);
        h_drop(h);
    }
    /* The fourth and fifth are held, for good. */
    seg_to_b(h, p, 4 * 1448u, 1448, 1020);
    h_expect_none_sent(h, H_B);
    h_advance(h, H_MS(1));
    seg_to_b(h, p, 5 * 1448u, 1448, 1021);
    h_advance(h, H_MS(1000));
    h_expect_none_sent(h, H_B);
    /* The hole filled: one ACK of everything, at once. */
    tcp_tcb t;
    assert_int_equal(tcp_sock_tcb(h_stack(h, H_B), p.server, &t), 0);
    seg_to_b(h, p, 0, 1448, 1030);
    const tcp_seg *ack = h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0);
    assert_true(ack->ack == t.rcv_nxt + 6u * 1448u);
    h_free(h);
}

/* Linux 6.6+ counts a quick ACK only for an ACK sent while one is
 * scheduled: tcp_event_ack_sent -> tcp_dec_quickack_mode, "How many ACKs
 * S/ACKing new data have we sent?": pkts = inet_csk_ack_scheduled(sk) ? 1
 * : 0 (commit 059217c18be6, "tcp: fix quick-ack counting to count actual
 * ACKs of new data"). ICSK_ACK_SCHED is set by data (tcp_event_data_recv,
 * tcp_data_queue_ofo, tcp_data_queue's old and out-of-window data) and a
 * FIN (tcp_fin), and cleared by the ACK that carries it
 * (inet_csk_clear_xmit_timer). quickack 2 and no window growth, so B has
 * exactly one quick ACK left after A's first segment. */
static tcp_profile one_quick_left_profile(void)
{
    tcp_profile pr = *h_linux_exact();
    pr.quickack = 2;
    pr.grow_window = false; /* tcp_grow_window's icsk_ack.quick |= 1 */
    pr.rcv_autotune = false;
    pr.read_ack = false; /* B's reads do not send the ACK (tcp_cleanup_rbuf) */
    return pr;
}

/* A connects to B, whose receive buffer is rcvbuf bytes; c is A's socket,
 * s B's accepted one, the handshake's segments skipped. */
static void buffer_pair(harness *h, uint32_t rcvbuf, tcp_sock_id *c, tcp_sock_id *s)
{
    tcp_stack *b = h_stack(h, H_B);
    tcp_sock_id l;
    assert_int_equal(tcp_socket(b, &l), TCP_OK);
    assert_int_equal(tcp_setopt(b, l, TCP_OPT_RCVBUF, rcvbuf), TCP_OK);
    assert_int_equal(tcp_bind(b, l, 80), TCP_OK);
    assert_int_equal(tcp_listen(b, l, 8), TCP_OK);
    *c = h_connect(h, H_A, H_B, 80, H_ANY);
    h_settle(h);
    *s = h_accept(h, H_B, l);
    h_sent_skip(h, H_A);
    h_sent_skip(h, H_B);
}

/* buffer_pair with 2000 bytes, which offer a 1000-byte window with the
 * linux ratio. */
static void small_buffer_pair(harness *h, tcp_sock_id *c, tcp_sock_id *s)
{
    buffer_pair(h, 2000, c, s);
}

/* small_buffer_pair on a new harness under the named profile (exact
 * timers), and B's TCB then. */
static harness *small_pair_tcb(const char *profile, tcp_sock_id *c, tcp_sock_id *s, tcp_tcb *t)
{
    harness *h = h_new(2, h_profile_exact(profile));
    small_buffer_pair(h, c, s);
    assert_int_equal(tcp_sock_tcb(h_stack(h, H_B), *s, t), 0);
    return h;
}

/* A's 1-byte segment on connection c reaches B, who ACKs it at once with
 * the quick ACK it has left. */
static void short_segment_quick_acked(harness *h, tcp_sock_id c)
{
    h_send(h, H_A, c, "y");
    h_expect_sent(h, H_A, TCP_ACK | TCP_PSH, H_ANY, H_ANY, 1);
    h_deliver(h);
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0);
}

/* A challenge ACK (RFC 5961 §4.2: a SYN in ESTABLISHED; Linux
 * tcp_validate_incoming -> tcp_send_challenge_ack -> tcp_send_ack) is sent
 * with no ACK scheduled: it spends no quick ACK, and A's next short
 * segment is still ACKed at once. */
static void linux_challenge_ack_spends_no_quickack(void **state)
{
    (void)state;
    tcp_profile pr = one_quick_left_profile();
    harness *h = h_new(2, &pr);
    h_pair p = h_establish(h, H_A, H_B, 80);
    data_to_b(h, p, "a");
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0); /* quick ACK: one left */
    h_deliver(h);
    h_advance(h, H_MS(5));
    tcp_tcb t;
    assert_int_equal(tcp_sock_tcb(h_stack(h, H_B), p.server, &t), 0);
    tcp_seg syn = h_template(h, H_B, p.server);
    syn.flags = TCP_SYN;
    syn.seq = t.rcv_nxt;
    h_inject(h, H_B, &syn);
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, t.rcv_nxt, 0); /* the challenge ACK */
    assert_int_equal(tcp_sock_stats(h_stack(h, H_B), p.server)->challenge_acks, 1);
    h_drop(h);
    h_advance(h, H_MS(5));
    data_to_b(h, p, "b");
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0); /* the quick ACK left */
    h_free(h);
}

/* The ACK a read sends to open the window (Linux tcp_cleanup_rbuf: the
 * window at least doubled -> tcp_send_ack) acknowledges nothing new when
 * every byte was already ACKed: no ACK is scheduled, so it spends no quick
 * ACK (tcp_dec_quickack_mode, Linux 6.6). But the window of every segment
 * sent comes from __tcp_select_window, which ends quickack mode while the
 * free space is under half the full space ("icsk_ack.quick = 0"). B's
 * 2000-byte buffer (window 1000 bytes with the linux ratio) is filled past
 * half by 600 bytes; after 1 s idle, longer than the RTO, a 1-byte segment
 * restarts quickack mode (tcp_event_data_recv: "sender failed to restart
 * window"; a window under two segments gives 2, tcp_incr_quickack). Its
 * ACK goes at once, but offers 399 free octets of 1000: no quick ACK is
 * left after it, the window update after the read gives none back, and
 * A's next short segment, 10 ms later, waits the ATO (40 ms: a gap of at
 * most TCP_ATO_MIN / 2 keeps it). Linux 6.18 does the same in the kernel
 * run of robustness/zero_window_persist.lua (docs/kernel-agreement.md). */
static void linux_squeezed_window_leaves_no_quickack(void **state)
{
    (void)state;
    tcp_profile pr = one_quick_left_profile();
    harness *h = h_new(2, &pr);
    tcp_stack *b = h_stack(h, H_B);
    tcp_sock_id c, s;
    small_buffer_pair(h, &c, &s);
    char fill[601];
    memset(fill, 'f', 600);
    fill[600] = '\0';
    h_send(h, H_A, c, fill);
    h_run_for(h, H_S(1)); /* ACKed at once, squeezed (400 free); idle past the RTO */
    h_sent_skip(h, H_A);
    h_sent_skip(h, H_B);
    tcp_tcb t;
    assert_int_equal(tcp_sock_tcb(b, s, &t), 0);
    assert_true(t.rcv_wnd < 500); /* under half the window is left */
    h_send(h, H_A, c, "x");
    h_expect_sent(h, H_A, TCP_ACK | TCP_PSH, H_ANY, H_ANY, 1);
    h_deliver(h);
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0); /* quick, and squeezed */
    h_deliver(h);
    static char buf[2000];
    assert_int_equal(tcp_recv(b, s, buf, sizeof buf), 601);
    const tcp_seg *upd = h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0);
    assert_true(upd->wnd > t.rcv_wnd); /* the window update */
    h_deliver(h);
    h_advance(h, H_MS(10));
    h_send(h, H_A, c, "y");
    h_expect_sent(h, H_A, TCP_ACK | TCP_PSH, H_ANY, H_ANY, 1);
    h_deliver(h);
    h_expect_none_sent(h, H_B); /* no quick ACK left */
    h_advance(h, H_MS(40) - 1);
    h_expect_none_sent(h, H_B);
    h_advance(h, 1);
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0); /* the delayed ACK */
    h_free(h);
}

/* A segment of data already received: the peer retransmitted because our
 * ACK was lost or late. Linux tcp_data_queue ("A retransmit, 2nd most
 * common case. Force an immediate ack.", LINUX_MIB_DELAYEDACKLOST) and,
 * for one ending before the last ACK sent, tcp_send_dupack both call
 * tcp_enter_quickack_mode(sk, TCP_MAX_QUICKACKS): quick ACKs again
 * (tcp_incr_quickack, here the profile's 2), pingpong mode left, ATO back
 * to TCP_ATO_MIN. B has spent its quick ACKs on A's first two segments; A
 * retransmits the second; its ACK goes at once and, scheduled by the old
 * data, spends one; A's next short segment gets the other at once, where
 * without the quickack entry it would wait 40 ms. */
static void linux_old_data_enters_quickack(void **state)
{
    (void)state;
    tcp_profile pr = one_quick_left_profile();
    harness *h = h_new(2, &pr);
    h_pair p = h_establish(h, H_A, H_B, 80);
    data_to_b(h, p, "a");
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0); /* quick ACK: one left */
    h_deliver(h);
    h_advance(h, H_MS(5));
    h_send(h, H_A, p.client, "b");
    const tcp_seg *b_seg = h_expect_sent(h, H_A, TCP_ACK | TCP_PSH, H_ANY, H_ANY, 1);
    tcp_seg again = *b_seg;
    h_deliver(h);
    h_expect_recv(h, H_B, p.server, "b");
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0); /* the last quick ACK */
    h_drop(h);                                       /* lost: A will resend "b" */
    h_advance(h, H_MS(5));
    tcp_tcb t;
    assert_int_equal(tcp_sock_tcb(h_stack(h, H_B), p.server, &t), 0);
    again.payload = (const uint8_t *)"b";
    h_inject(h, H_B, &again);
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, t.rcv_nxt, 0); /* at once */
    h_deliver(h);
    h_advance(h, H_MS(5));
    data_to_b(h, p, "c");
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0); /* quick again */
    h_free(h);
}

/* A retransmission of data older than the last ACK sent (A resends "a"
 * after B ACKed "b") fails Linux's tcp_sequence (end_seq < rcv_wup):
 * tcp_validate_incoming -> tcp_send_dupack, which enters quickack mode too
 * but sends its ACK with none scheduled, so that ACK spends none: both
 * quick ACKs are left, for "c" and "d"; "e" waits the ATO. */
static void linux_data_before_last_ack_enters_quickack(void **state)
{
    (void)state;
    tcp_profile pr = one_quick_left_profile();
    harness *h = h_new(2, &pr);
    h_pair p = h_establish(h, H_A, H_B, 80);
    h_send(h, H_A, p.client, "a");
    tcp_seg old = *h_expect_sent(h, H_A, TCP_ACK | TCP_PSH, H_ANY, H_ANY, 1);
    h_deliver(h);
    h_expect_recv(h, H_B, p.server, "a");
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0);
    h_deliver(h);
    h_advance(h, H_MS(5));
    data_to_b(h, p, "b");
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0); /* the last quick ACK */
    h_deliver(h);
    h_advance(h, H_MS(5));
    old.payload = (const uint8_t *)"a";
    h_inject(h, H_B, &old);
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0); /* the duplicate ACK */
    h_deliver(h);
    const char *next[] = {"c", "d"};
    for (size_t i = 0; i < 2; i++) {
        h_advance(h, H_MS(5));
        data_to_b(h, p, next[i]);
        h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0); /* quick */
        h_deliver(h);
    }
    h_advance(h, H_MS(5));
    data_to_b(h, p, "e");
    h_expect_none_sent(h, H_B);
    h_advance(h, H_MS(40));
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0);
    h_free(h);
}

/* Data at RCV.NXT while the window is zero and bytes wait unread. Since
 * Linux 6.17 ("tcp: do not accept packets beyond window") tcp_sequence
 * refuses a segment ending beyond the window unless the receive queue is
 * empty (SKB_DROP_REASON_TCP_INVALID_END_SEQUENCE), so it never reaches
 * tcp_data_queue's zero-window drop (out_of_window, which enters quickack
 * mode): tcp_validate_incoming answers it with tcp_send_dupack, whose
 * quickack entry needs a segment starting before RCV.NXT. B's window (1000
 * bytes from a 2000-byte buffer) closes with A's two segments, which spend
 * both quick ACKs; a byte A pushes into the zero window is ACKed at once
 * but restores none, so after B reads, A's next short segment waits the
 * ATO. */
static void linux_zero_window_data_held_queue_no_quickack(void **state)
{
    (void)state;
    tcp_profile pr = one_quick_left_profile();
    harness *h = h_new(2, &pr);
    tcp_stack *b = h_stack(h, H_B);
    tcp_sock_id c, s;
    small_buffer_pair(h, &c, &s);
    char half[501];
    memset(half, 'h', 500);
    half[500] = '\0';
    for (int i = 0; i < 2; i++) {
        h_send(h, H_A, c, half);
        h_expect_sent(h, H_A, TCP_ACK | TCP_PSH, H_ANY, H_ANY, 500);
        h_deliver(h);
        h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0); /* quick */
        h_deliver(h);
        h_advance(h, H_MS(5));
    }
    tcp_tcb t;
    assert_int_equal(tcp_sock_tcb(b, s, &t), 0);
    assert_int_equal(t.rcv_wnd, 0);
    tcp_seg probe = h_template(h, H_B, s);
    probe.flags = TCP_ACK | TCP_PSH;
    probe.seq = t.rcv_nxt;
    probe.payload = (const uint8_t *)"z";
    probe.len = 1;
    h_inject(h, H_B, &probe);
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, t.rcv_nxt, 0); /* tcp_send_dupack: at once, window 0 */
    h_deliver(h);
    static char buf[2000];
    assert_int_equal(tcp_recv(b, s, buf, sizeof buf), 1000);
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, t.rcv_nxt, 0); /* the window update */
    h_deliver(h);
    h_advance(h, H_MS(5));
    h_send(h, H_A, c, "y");
    h_expect_sent(h, H_A, TCP_ACK | TCP_PSH, H_ANY, H_ANY, 1);
    h_deliver(h);
    h_expect_none_sent(h, H_B); /* no quick ACK left */
    h_advance(h, H_MS(40));
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0);
    h_free(h);
}

/* The compressed ACK is an ACK sent while one is scheduled: the data that
 * went out of order called inet_csk_schedule_ack (tcp_data_queue_ofo), and
 * tcp_compressed_ack_kick -> tcp_send_ack -> tcp_event_ack_sent ->
 * tcp_dec_quickack_mode finds ICSK_ACK_SCHED, so it spends a quick ACK as
 * any other (Linux 6.6: pkts = inet_csk_ack_scheduled(sk) ? 1 : 0). SACK
 * compression runs only outside quickack mode, so quick ACKs are left only
 * in pingpong mode: B (7 quick ACKs, tcp_incr_quickack with a large
 * window) spends one on A's first segment and answers it at once, which
 * makes it interactive. Then, each ACK spending one: three duplicate ACKs
 * at once (3 left), the compressed one (2), the one for the segment that
 * fills the hole (1), the delayed ACK of A's next segment, whose expiry
 * also ends pingpong mode (0, tcp_delack_timer_handler). A's segment after
 * that gets no quick ACK: it waits the ATO. */
static void linux_compressed_ack_spends_quickack(void **state)
{
    (void)state;
    tcp_profile pr = *h_linux_exact();
    pr.quickack = 7;
    pr.grow_window = false; /* tcp_grow_window's icsk_ack.quick |= 1 */
    pr.rcv_autotune = false;
    pr.read_ack = false;
    harness *h = h_new(2, &pr);
    h_pair p = h_establish(h, H_A, H_B, 80);
    data_to_b(h, p, "a");
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0); /* quick: 6 left */
    h_deliver(h);
    h_advance(h, H_MS(1));
    h_send(h, H_B, p.server, "r"); /* a reply within the ATO: pingpong */
    h_expect_sent(h, H_B, TCP_ACK | TCP_PSH, H_ANY, H_ANY, 1);
    h_deliver(h);
    h_expect_sent(h, H_A, TCP_ACK, H_ANY, H_ANY, 0);
    h_deliver(h);
    /* From here B's segments are dropped: A's stack never sent what is
     * injected in its name. 1448 octets lost; three duplicate ACKs. */
    for (uint32_t k = 1; k <= 3; k++) {
        seg_to_b(h, p, k * 1448u, 1448, 1000 + k);
        h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0);
        h_drop(h);
    }
    seg_to_b(h, p, 4 * 1448u, 1448, 1004);
    h_expect_none_sent(h, H_B); /* held */
    h_advance(h, H_MS(2));
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0); /* the compressed ACK */
    h_drop(h);
    seg_to_b(h, p, 0, 1448, 1010); /* fills the hole: ACKed at once */
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0);
    h_drop(h);
    h_advance(h, H_MS(5));
    seg_to_b(h, p, 0, 10, 1020);
    h_expect_none_sent(h, H_B); /* pingpong: delayed */
    h_advance(h, H_MS(60));     /* the ATO, under the RTO: no restart of quickack mode */
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0); /* the last quick ACK */
    h_drop(h);
    h_advance(h, H_MS(5));
    seg_to_b(h, p, 0, 10, 1030);
    h_expect_none_sent(h, H_B); /* none left */
    h_advance(h, H_MS(40));
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0);
    h_free(h);
}

/* A segment into B's connection as from A: `len` octets of 'z' (or a bare
 * FIN) at RCV.NXT, acknowledging `ack`. */
static tcp_seg seg_at_rcv_nxt(harness *h, tcp_sock_id s, uint32_t len, int flags, uint32_t ack)
{
    static uint8_t zs[4000];
    assert_true(len <= sizeof zs);
    memset(zs, 'z', sizeof zs);
    tcp_tcb t;
    assert_int_equal(tcp_sock_tcb(h_stack(h, H_B), s, &t), 0);
    tcp_seg g = h_template(h, H_B, s);
    g.flags = flags;
    g.seq = t.rcv_nxt;
    g.ack = ack;
    g.payload = len ? zs : NULL;
    g.len = len;
    return g;
}

/* small_buffer_pair with one_quick_left_profile, then A's 1000 bytes
 * close B's window and stay unread; B's quick ACK for them (one of two) is
 * delivered. */
static harness *zero_window_pair(tcp_sock_id *c, tcp_sock_id *s)
{
    tcp_profile pr = one_quick_left_profile();
    harness *h = h_new(2, &pr);
    small_buffer_pair(h, c, s);
    static char full[1001];
    memset(full, 'f', 1000);
    h_send(h, H_A, *c, full);
    h_expect_sent(h, H_A, TCP_ACK | TCP_PSH, H_ANY, H_ANY, 1000);
    h_deliver(h);
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0); /* quick: one left */
    h_deliver(h);
    tcp_tcb t;
    assert_int_equal(tcp_sock_tcb(h_stack(h, H_B), *s, &t), 0);
    assert_int_equal(t.rcv_wnd, 0);
    return h;
}

/* Linux 6.17 tcp_sequence refuses a segment ending beyond the window while
 * the receive queue holds bytes (SKB_DROP_REASON_TCP_INVALID_END_SEQUENCE)
 * and tcp_validate_incoming answers it with tcp_send_dupack -> tcp_send_ack
 * with no ACK scheduled (tcp_data_queue, which would schedule one, is never
 * reached): the answer spends no quick ACK (tcp_dec_quickack_mode, Linux
 * 6.6: only when inet_csk_ack_scheduled). The window is kept over half
 * free throughout, so __tcp_select_window's squeeze ("icsk_ack.quick = 0"
 * under half free) never ends quickack mode: 300 unread bytes of B's
 * 1000-byte window spend one of its two quick ACKs; a segment one octet
 * longer than the window left is refused and answered at once; A's next
 * short segment gets the quick ACK left, at once. */
static void linux_beyond_window_dupack_spends_no_quickack(void **state)
{
    (void)state;
    tcp_profile pr = one_quick_left_profile();
    harness *h = h_new(2, &pr);
    tcp_stack *b = h_stack(h, H_B);
    tcp_sock_id c, s;
    small_buffer_pair(h, &c, &s);
    static char part[301];
    memset(part, 'p', 300);
    h_send(h, H_A, c, part);
    h_expect_sent(h, H_A, TCP_ACK | TCP_PSH, H_ANY, H_ANY, 300);
    h_deliver(h);
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0); /* quick: one left */
    h_deliver(h);
    h_advance(h, H_MS(5));
    tcp_tcb t;
    assert_int_equal(tcp_sock_tcb(b, s, &t), 0);
    assert_true(t.rcv_wnd >= 500); /* over half free: no squeeze */
    tcp_seg z = seg_at_rcv_nxt(h, s, t.rcv_wnd + 1, TCP_ACK | TCP_PSH, t.snd_una);
    h_inject(h, H_B, &z);
    const tcp_seg *dup = h_expect_sent(h, H_B, TCP_ACK, H_ANY, t.rcv_nxt, 0);
    assert_int_equal(dup->wnd, t.rcv_wnd);
    h_deliver(h);
    h_advance(h, H_MS(5));
    short_segment_quick_acked(h, c);
    h_free(h);
}

/* The refused segment is dropped whole: tcp_validate_incoming returns
 * before tcp_ack, so its ACK field is not processed either (RFC 9293
 * §3.10.7.4 would keep it: "special allowance should be made to accept
 * valid ACKs"). B's "q" is unacknowledged; A's byte into the zero window
 * acknowledges it, and B's SND.UNA stays; a bare ACK of it (no text, so
 * not beyond the window) moves SND.UNA. */
static void linux_zero_window_data_ack_field_dropped(void **state)
{
    (void)state;
    tcp_sock_id c, s;
    harness *h = zero_window_pair(&c, &s);
    tcp_stack *b = h_stack(h, H_B);
    h_send(h, H_B, s, "q");
    h_expect_sent(h, H_B, TCP_ACK | TCP_PSH, H_ANY, H_ANY, 1);
    h_drop(h);
    tcp_tcb t;
    assert_int_equal(tcp_sock_tcb(b, s, &t), 0);
    assert_int_equal(t.snd_max, t.snd_una + 1);
    tcp_seg z = seg_at_rcv_nxt(h, s, 1, TCP_ACK | TCP_PSH, t.snd_max);
    h_inject(h, H_B, &z);
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, t.rcv_nxt, 0);
    tcp_tcb after;
    assert_int_equal(tcp_sock_tcb(b, s, &after), 0);
    assert_int_equal(after.snd_una, t.snd_una);
    tcp_seg ack = seg_at_rcv_nxt(h, s, 0, TCP_ACK, t.snd_max);
    h_inject(h, H_B, &ack);
    assert_int_equal(tcp_sock_tcb(b, s, &after), 0);
    assert_int_equal(after.snd_una, t.snd_max);
    h_free(h);
}

/* A bare FIN at RCV.NXT ends one beyond a zero window: with bytes unread
 * Linux 6.17 tcp_sequence refuses it too, before tcp_data_queue's "bare
 * FIN packets in a loop" allowance (zero_window_fin) is reached. B stays
 * ESTABLISHED and ACKs RCV.NXT, not the FIN; once B has read and opened
 * the window, the FIN sent again is taken. */
static void linux_zero_window_fin_refused_with_bytes_unread(void **state)
{
    (void)state;
    tcp_sock_id c, s;
    harness *h = zero_window_pair(&c, &s);
    tcp_stack *b = h_stack(h, H_B);
    tcp_tcb t;
    assert_int_equal(tcp_sock_tcb(b, s, &t), 0);
    tcp_seg fin = seg_at_rcv_nxt(h, s, 0, TCP_ACK | TCP_FIN, t.snd_una);
    h_inject(h, H_B, &fin);
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, t.rcv_nxt, 0);
    h_expect_state(h, H_B, s, TCP_ESTABLISHED);
    static char buf[2000];
    assert_int_equal(tcp_recv(b, s, buf, sizeof buf), 1000);
    h_sent_skip(h, H_B);
    h_inject(h, H_B, &fin);
    h_expect_state(h, H_B, s, TCP_CLOSE_WAIT);
    h_free(h);
}

/* Data ending beyond a window that is not zero, with bytes unread. Linux
 * 6.17 tcp_sequence drops the segment whole and tcp_send_dupack ACKs
 * RCV.NXT; RFC 9293 §3.10.7.4 processes the part in the window ("segments
 * with higher beginning sequence numbers may be held", the rest trimmed),
 * as FreeBSD tcp_do_segment does (trailing data beyond the window
 * dropped). B's window is half filled, then A sends 300 octets more than
 * the other half. */
static void beyond_window_with_bytes_unread_per_profile(void **state)
{
    (void)state;
    static const struct {
        const char *profile;
        bool drop;
    } C[] = {{"rfc9293", false}, {"linux", true}, {"bsd", false}};
    for (size_t i = 0; i < sizeof C / sizeof C[0]; i++) {
        tcp_sock_id c, s;
        tcp_tcb t;
        harness *h = small_pair_tcb(C[i].profile, &c, &s, &t);
        tcp_stack *b = h_stack(h, H_B);
        uint32_t half = t.rcv_wnd / 2;
        tcp_seg first = seg_at_rcv_nxt(h, s, half, TCP_ACK | TCP_PSH, t.snd_una);
        h_inject(h, H_B, &first);
        h_sent_skip(h, H_B);
        assert_int_equal(tcp_readable(b, s), half);
        assert_int_equal(tcp_sock_tcb(b, s, &t), 0);
        uint32_t left = t.rcv_wnd;
        assert_true(left > 0);
        tcp_seg over = seg_at_rcv_nxt(h, s, left + 300, TCP_ACK | TCP_PSH, t.snd_una);
        h_inject(h, H_B, &over);
        h_advance(h, H_MS(500)); /* any delayed ACK goes */
        uint32_t taken = C[i].drop ? 0 : left;
        assert_int_equal(tcp_readable(b, s), half + taken);
        const tcp_seg *ack = h_last_sent(h, H_B);
        assert_non_null(ack);
        assert_int_equal(ack->ack, t.rcv_nxt + taken);
        h_free(h);
    }
}

/* B's connection of beyond_window_with_bytes_unread_per_profile, with half
 * its window filled and left unread when `unread`; then one segment is
 * put to it (edge_put). */
typedef struct edge_run {
    harness *h;
    tcp_sock_id s;
    uint32_t before, rcv_nxt, snd_una, left; /* readable; B's TCB then */
} edge_run;

static edge_run edge_setup(const char *profile, bool unread)
{
    edge_run e = {.h = h_new(2, h_profile_exact(profile))};
    tcp_stack *b = h_stack(e.h, H_B);
    tcp_sock_id c;
    small_buffer_pair(e.h, &c, &e.s);
    tcp_tcb t;
    assert_int_equal(tcp_sock_tcb(b, e.s, &t), 0);
    if (unread) {
        tcp_seg first = seg_at_rcv_nxt(e.h, e.s, t.rcv_wnd / 2, TCP_ACK | TCP_PSH, t.snd_una);
        h_inject(e.h, H_B, &first);
        h_advance(e.h, H_MS(500));
        h_sent_skip(e.h, H_B);
        assert_int_equal(tcp_sock_tcb(b, e.s, &t), 0);
    }
    e.before = (uint32_t)tcp_readable(b, e.s);
    e.rcv_nxt = t.rcv_nxt;
    e.snd_una = t.snd_una;
    e.left = t.rcv_wnd;
    assert_true(e.left > 0);
    return e;
}

/* `len` octets (a bare FIN: 0) at RCV.NXT + off with `flags`; any delayed
 * ACK goes. */
static void edge_put(edge_run *e, uint32_t off, uint32_t len, int flags)
{
    tcp_seg g = seg_at_rcv_nxt(e->h, e->s, len, flags, e->snd_una);
    g.seq += off;
    h_inject(e->h, H_B, &g);
    h_advance(e->h, H_MS(500));
}

static uint32_t edge_taken(const edge_run *e)
{
    return (uint32_t)tcp_readable(h_stack(e->h, H_B), e->s) - e->before;
}

static const char *last_drop_note(const harness *h)
{
    for (size_t k = h_event_count(h, H_B); k-- > 0;) {
        const h_event *ev = h_event_at(h, H_B, k);
        if (ev->kind == TCP_EV_DROP)
            return ev->note;
    }
    return "";
}

/* The edges of Linux 6.17 tcp_sequence's rule, "after(end_seq, rcv_nxt +
 * tcp_receive_window(tp))" refused while skb_queue_len(sk_receive_queue),
 * "after(seq, rcv_nxt + tcp_receive_window(tp))" refused as
 * SKB_DROP_REASON_TCP_INVALID_SEQUENCE whatever the queue; end_seq counts
 * the FIN. (1) Data ending exactly at the right edge is not after it:
 * taken in every profile. (2) The same data with a FIN ends one past it:
 * Linux refuses it all; RFC 9293 §3.10.7.4 takes the data and trims the
 * FIN (the idealized segment "does not exceed the window"). (3) With
 * nothing unread Linux lets a segment past the edge through ("to not
 * freeze flows from buggy peers"): at least the window's part is taken
 * (Linux queues all of it; here it is trimmed, docs/stack.md). (4) Data
 * starting at the edge starts in no window octet: Table 6 refuses it, and
 * Linux's note is the end check's (seq is not after the edge); one octet
 * further it is out of window for both.
 * FreeBSD tcp_do_segment trims the tail by "todrop = (th_seq + tlen) -
 * (rcv_nxt + rcv_wnd)", tlen counting data octets only, and clears TH_FIN
 * only when todrop > 0: the FIN takes no room in the window (profile
 * edge_fin). So in (2) it takes the data and the FIN (CLOSE_WAIT, the ACK
 * covers the FIN); (5) a bare FIN at RCV.NXT into a zero window gives
 * todrop 0 and is taken too (zero_window_fin), where RFC 9293 §3.10.7.4
 * allows only ACK, URG and RST and Linux 6.17 refuses it with bytes
 * unread; (6) data one octet past the edge, with a FIN, has its tail cut
 * (todrop 1), its data up to the edge taken. Whether the FIN is then lost
 * is not asserted for bsd: the trim clears TH_FIN from thflags, but the
 * in-order path of tcp_do_segment sets thflags again from the header's
 * th_flags (and tcp_reass too), not modelled (docs/stack.md). */
static void beyond_window_edges_per_profile(void **state)
{
    (void)state;
    static const char *const P[] = {"rfc9293", "linux", "bsd"};
    for (size_t i = 0; i < 3; i++) {
        bool linux = i == 1;
        edge_run e = edge_setup(P[i], true);
        edge_put(&e, 0, e.left, TCP_ACK | TCP_PSH); /* (1) */
        assert_int_equal(edge_taken(&e), e.left);
        h_free(e.h);
        e = edge_setup(P[i], false); /* (3) */
        edge_put(&e, 0, e.left + 300, TCP_ACK | TCP_PSH);
        if (linux)
            assert_true(edge_taken(&e) >= e.left);
        else
            assert_int_equal(edge_taken(&e), e.left);
        h_free(e.h);
        e = edge_setup(P[i], true); /* (4) */
        edge_put(&e, e.left, 10, TCP_ACK | TCP_PSH);
        assert_int_equal(edge_taken(&e), 0);
        assert_string_equal(last_drop_note(e.h),
                            linux ? "beyond window, bytes unread" : "out of window");
        assert_int_equal(h_last_sent(e.h, H_B)->ack, e.rcv_nxt);
        edge_put(&e, e.left + 1, 10, TCP_ACK | TCP_PSH);
        assert_int_equal(edge_taken(&e), 0);
        assert_string_equal(last_drop_note(e.h), "out of window");
        h_free(e.h);
    }
    for (size_t i = 0; i < 3; i++) { /* (2) */
        bool linux = i == 1, bsd = i == 2;
        edge_run e = edge_setup(P[i], true);
        edge_put(&e, 0, e.left, TCP_ACK | TCP_FIN);
        assert_int_equal(edge_taken(&e), linux ? 0 : e.left);
        h_expect_state(e.h, H_B, e.s, bsd ? TCP_CLOSE_WAIT : TCP_ESTABLISHED);
        assert_int_equal(h_last_sent(e.h, H_B)->ack, e.rcv_nxt + (linux ? 0 : e.left) + bsd);
        h_free(e.h);
    }
    for (size_t i = 0; i < 3; i++) { /* (5) */
        bool linux = i == 1, bsd = i == 2;
        edge_run e = edge_setup(P[i], true);
        edge_put(&e, 0, e.left, TCP_ACK | TCP_PSH);
        assert_int_equal(edge_taken(&e), e.left);
        tcp_tcb t;
        assert_int_equal(tcp_sock_tcb(h_stack(e.h, H_B), e.s, &t), 0);
        assert_int_equal(t.rcv_wnd, 0);
        size_t sent = h_sent_count(e.h, H_B);
        edge_put(&e, 0, 0, TCP_ACK | TCP_FIN);
        assert_true(h_sent_count(e.h, H_B) > sent);
        h_expect_state(e.h, H_B, e.s, bsd ? TCP_CLOSE_WAIT : TCP_ESTABLISHED);
        const tcp_seg *ack = h_last_sent(e.h, H_B);
        assert_non_null(ack);
        assert_int_equal(ack->ack, t.rcv_nxt + bsd);
        if (linux)
            assert_string_equal(last_drop_note(e.h), "beyond window, bytes unread");
        h_free(e.h);
    }
    for (size_t i = 0; i < 3; i++) { /* (6) */
        bool linux = i == 1, bsd = i == 2;
        edge_run e = edge_setup(P[i], true);
        size_t sent = h_sent_count(e.h, H_B);
        edge_put(&e, 0, e.left + 1, TCP_ACK | TCP_FIN);
        assert_int_equal(edge_taken(&e), linux ? 0 : e.left);
        assert_true(h_sent_count(e.h, H_B) > sent);
        const tcp_seg *ack = h_last_sent(e.h, H_B);
        assert_non_null(ack);
        if (bsd) {
            assert_true(ack->ack - e.rcv_nxt >= e.left);
        } else {
            h_expect_state(e.h, H_B, e.s, TCP_ESTABLISHED);
            assert_int_equal(ack->ack, e.rcv_nxt + (linux ? 0 : e.left));
        }
        h_free(e.h);
    }
}

/* An RST at RCV.NXT whose data runs past the window, bytes unread: Linux
 * 6.17 tcp_sequence refuses it and tcp_validate_incoming drops a refused
 * RST without an answer (tcp_reset_check holds only at RCV.NXT - 1), so
 * the connection stays, with a SYN in the segment too (the RST is looked
 * at first). RFC 9293 §3.10.7.4 accepts it (its first octet is in the
 * window) and its second step resets ("exactly matches the next expected
 * sequence value", RFC 5961 §3.2); FreeBSD tcp_do_segment likewise
 * (th_seq == last_ack_sent). */
static void beyond_window_rst_per_profile(void **state)
{
    (void)state;
    static const char *const P[] = {"rfc9293", "linux", "bsd"};
    for (size_t i = 0; i < 3; i++) {
        bool linux = i == 1;
        edge_run e = edge_setup(P[i], true);
        edge_put(&e, 0, e.left + 300, TCP_RST | TCP_ACK);
        h_expect_state(e.h, H_B, e.s, linux ? TCP_ESTABLISHED : TCP_CLOSED);
        if (linux) {
            h_expect_none_sent(e.h, H_B);
            edge_put(&e, 0, e.left + 300, TCP_RST | TCP_SYN | TCP_ACK);
            h_expect_state(e.h, H_B, e.s, TCP_ESTABLISHED);
            h_expect_none_sent(e.h, H_B);
        }
        h_free(e.h);
    }
}

/* A read after shutdown(SHUT_RD). Linux tcp_cleanup_rbuf sends the window
 * update ("if we can now advertise a non-zero window which has been raised
 * significantly") only without RCV_SHUTDOWN: "do not send window open ACK
 * in states, where we will not receive more. It is useless." SHUT_RD sets
 * RCV_SHUTDOWN (inet_shutdown), and the held bytes stay readable. RFC 9293
 * has no SHUT_RD: the connection still receives, so the read's window
 * update goes as §3.8.6.2.2 says. FreeBSD soshutdown flushes the held bytes
 * (sorflush): the read finds none and nothing is sent. B's 2000-byte buffer
 * is filled by A and left unread; B reads it all, with and without
 * shutdown(SHUT_RD) first. */
static void shut_rd_read_window_update_per_profile(void **state)
{
    (void)state;
    static const struct {
        const char *profile;
        bool update_after_shut; /* the read after SHUT_RD sends a window update */
        bool readable_after_shut;
    } C[] = {{"rfc9293", true, true}, {"linux", false, true}, {"bsd", false, false}};
    for (size_t i = 0; i < sizeof C / sizeof C[0]; i++) {
        for (int shut = 0; shut <= 1; shut++) {
            tcp_sock_id c, s;
            tcp_tcb t;
            harness *h = small_pair_tcb(C[i].profile, &c, &s, &t);
            tcp_stack *b = h_stack(h, H_B);
            static char fill[4001];
            memset(fill, 'f', t.rcv_wnd);
            fill[t.rcv_wnd] = '\0';
            h_send(h, H_A, c, fill);
            h_run_for(h, H_MS(500)); /* delivered and ACKed; the window closed */
            assert_int_equal(tcp_sock_tcb(b, s, &t), 0);
            assert_int_equal(t.rcv_wnd, 0);
            size_t held = tcp_readable(b, s);
            assert_true(held > 0);
            h_sent_skip(h, H_B);
            if (shut)
                assert_int_equal(tcp_shutdown_read(b, s), TCP_OK);
            static char buf[4000];
            long want = shut && !C[i].readable_after_shut ? 0 : (long)held;
            assert_int_equal(tcp_recv(b, s, buf, sizeof buf), want);
            if (!shut || C[i].update_after_shut) {
                const tcp_seg *upd = h_expect_sent(h, H_B, TCP_ACK, H_ANY, t.rcv_nxt, 0);
                assert_true(upd->wnd > 0); /* the window update */
            } else {
                h_expect_none_sent(h, H_B);
            }
            h_free(h);
        }
    }
}

/* B's ACK of everything up to `ack`, which goes at once, or else (no
 * quick ACK, the window test failed) when the delayed ACK fires, the ATO
 * (40 ms, TCP_ATO_MIN) after t0, the first data's arrival. */
static void expect_ack_at_once_or_ato(harness *h, bool at_once, uint32_t ack, uint64_t t0)
{
    if (at_once) {
        h_expect_sent(h, H_B, TCP_ACK, H_ANY, ack, 0);
        return;
    }
    h_expect_none_sent(h, H_B);
    h_advance(h, H_MS(40) - 1);
    h_expect_none_sent(h, H_B);
    h_advance(h, 1);
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, ack, 0);
    assert_int_equal(h_now(h) - t0, H_MS(40));
}

/* Linux __tcp_ack_snd_check sends the ACK at once for more than one full
 * segment not yet acknowledged only if "right edge of window advances far
 * enough": __tcp_select_window(sk) >= tp->rcv_wnd, the window it would
 * offer now against the one it offered last (or with fewer unread bytes
 * than SO_RCVLOWAT, 1); else, out of quickack mode, the delayed ACK
 * ("tcp_recvmsg() will send ACK otherwise"). No quick ACKs (quickack 0)
 * and no window growth, so the window offered is the free space rounded up
 * to the scale's unit (__tcp_select_window, the window scale on). Two full
 * segments arrive at once and stay unread. With a 131072-byte buffer
 * (65536 bytes of window space at the linux ratio, scale 1) the window B
 * would offer, ALIGN(65536 - 2896, 2) = 62640, is below the one its
 * SYN,ACK offered (65160, whole segments with timestamps): the ACK waits
 * the ATO, 40 ms after the first segment (TCP_ATO_MIN,
 * tcp_event_data_recv). With a 262144-byte buffer (131072 of space, scale
 * 2) the SYN,ACK offers at most 65535 and the window now, 128176, is far
 * above it: the ACK goes at once. */
static void linux_two_segments_acked_at_once_only_if_window_not_shrinking(void **state)
{
    (void)state;
    static const struct {
        uint32_t rcvbuf;
        bool at_once;
    } C[] = {{131072, false}, {262144, true}};
    for (size_t i = 0; i < sizeof C / sizeof C[0]; i++) {
        tcp_profile pr = *h_linux_exact();
        pr.quickack = 0;
        pr.grow_window = false;
        pr.rcv_autotune = false;
        pr.scaling_ratio = 0;
        harness *h = h_new(2, &pr);
        tcp_stack *b = h_stack(h, H_B);
        tcp_sock_id c, s;
        buffer_pair(h, C[i].rcvbuf, &c, &s);
        tcp_tcb t;
        assert_int_equal(tcp_sock_tcb(b, s, &t), 0);
        uint32_t offered = t.rcv_wnd; /* the SYN,ACK's */
        assert_true(offered > 60000 && offered <= 65535);
        uint32_t space = C[i].rcvbuf / 2, unit = C[i].rcvbuf == 131072 ? 2 : 4;
        uint32_t now = (space - 2 * 1448 + unit - 1) / unit * unit;
        assert_true(C[i].at_once ? now >= offered : now < offered);
        uint64_t t0 = h_now(h);
        tcp_seg one = seg_at_rcv_nxt(h, s, 1448, TCP_ACK, t.snd_una);
        h_inject(h, H_B, &one);
        tcp_seg two = seg_at_rcv_nxt(h, s, 1448, TCP_ACK, t.snd_una);
        h_inject(h, H_B, &two);
        assert_int_equal(tcp_readable(b, s), 2 * 1448);
        expect_ack_at_once_or_ato(h, C[i].at_once, t.rcv_nxt + 2 * 1448, t0);
        h_free(h);
    }
}

/* In quickack mode too, __tcp_ack_snd_check's window test comes first,
 * and the __tcp_select_window it calls ends quickack mode while the free
 * space is under half the full space ("icsk_ack.quick = 0"), before
 * tcp_in_quickack_mode is asked. B's first data, one segment of two full
 * segments (2896 octets, as GRO hands Linux two: tcp_measure_rcv_mss takes
 * gso_size, so more than one full segment is unacknowledged), comes with
 * the quick ACKs tcp_event_data_recv gives first data (tcp_incr_quickack:
 * at least 2). With a 32768-byte buffer the free space stays over half but
 * the window B would offer is below its SYN,ACK's: the quick ACK goes at
 * once. With 8192 bytes (4096 of space, the clamp 2896, max(2 x advmss,
 * space - advmss) in tcp_init_buffer_space) 1200 octets are left free,
 * under half: no quick ACK is left, the window would shrink to 0, and the
 * ACK waits the ATO, 40 ms (TCP_ATO_MIN). */
static void linux_window_test_squeezes_before_quickack(void **state)
{
    (void)state;
    static const struct {
        uint32_t rcvbuf;
        bool at_once;
    } C[] = {{32768, true}, {8192, false}};
    for (size_t i = 0; i < sizeof C / sizeof C[0]; i++) {
        harness *h = h_new(2, h_linux_exact());
        tcp_stack *b = h_stack(h, H_B);
        tcp_sock_id c, s;
        buffer_pair(h, C[i].rcvbuf, &c, &s);
        tcp_tcb t;
        assert_int_equal(tcp_sock_tcb(b, s, &t), 0);
        assert_true(t.rcv_wnd >= 2 * 1448); /* the SYN,ACK's window takes the segment */
        uint64_t t0 = h_now(h);
        tcp_seg two = seg_at_rcv_nxt(h, s, 2 * 1448, TCP_ACK, t.snd_una);
        h_inject(h, H_B, &two);
        assert_int_equal(tcp_readable(b, s), 2 * 1448);
        expect_ack_at_once_or_ato(h, C[i].at_once, t.rcv_nxt + 2 * 1448, t0);
        h_free(h);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(linux_fin_after_data_acked_after_ato),
        cmocka_unit_test(linux_data_with_fin_acked_after_ato),
        cmocka_unit_test(linux_fin_without_data_acked_next_tick),
        cmocka_unit_test(linux_close_within_tick_sends_fin_ack),
        cmocka_unit_test(bsd_fin_after_data_acked_at_once),
        cmocka_unit_test(linux_pingpong_delays_then_ends),
        cmocka_unit_test(linux_ato_grows_to_delack_max),
        cmocka_unit_test(linux_quickack_after_idle),
        cmocka_unit_test(linux_read_sends_ack_of_pushed_segment),
        cmocka_unit_test(without_read_ack_the_ack_waits),
        cmocka_unit_test(linux_read_leaves_unpushed_full_segment_delayed),
        cmocka_unit_test(linux_comp_sack_largest_slack_holds),
        cmocka_unit_test(linux_challenge_ack_spends_no_quickack),
        cmocka_unit_test(linux_squeezed_window_leaves_no_quickack),
        cmocka_unit_test(linux_old_data_enters_quickack),
        cmocka_unit_test(linux_data_before_last_ack_enters_quickack),
        cmocka_unit_test(linux_zero_window_data_held_queue_no_quickack),
        cmocka_unit_test(linux_compressed_ack_spends_quickack),
        cmocka_unit_test(linux_beyond_window_dupack_spends_no_quickack),
        cmocka_unit_test(linux_zero_window_data_ack_field_dropped),
        cmocka_unit_test(linux_zero_window_fin_refused_with_bytes_unread),
        cmocka_unit_test(beyond_window_with_bytes_unread_per_profile),
        cmocka_unit_test(beyond_window_edges_per_profile),
        cmocka_unit_test(beyond_window_rst_per_profile),
        cmocka_unit_test(shut_rd_read_window_update_per_profile),
        cmocka_unit_test(linux_two_segments_acked_at_once_only_if_window_not_shrinking),
        cmocka_unit_test(linux_window_test_squeezes_before_quickack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
