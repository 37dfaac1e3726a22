/*
 * test_fidelity_timers — timer schedules checked against the kernels, one
 * test per rule: Linux orphan retries, FreeBSD's SYN backoff table and
 * connection-establishment limit, FreeBSD's idle-based FIN_WAIT_2, keepalive
 * across FIN_WAIT_1 / FIN_WAIT_2, counters that cannot wrap, a SYN,ACK sent
 * again for a duplicate SYN is not a lost SYN, the FreeBSD RTO slop.
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
    memset(buf, 'y', n);
    assert_int_equal(tcp_send(h_stack(h, stack), id, buf, n), (long)n);
    free(buf);
}

/* Linux tcp_orphan_retries(): "if (retries == 0 && alive) retries = 8" —
 * "8 corresponds to >100 seconds with minimal RTO of 200msec". An orphan in
 * FIN_WAIT_1 whose FIN is never acknowledged: first the tail loss probe
 * (tcp_schedule_loss_probe: one segment out, 2·SRTT + TCP_RTO_MIN capped
 * at the 200 ms RTO) sends the FIN again at 200 ms and the RTO restarts
 * from it; then RTO 200 ms doubling, 8 retransmissions, ETIMEDOUT
 * 0.2 * (2^9 - 1) = 102.2 s after the probe, the first retransmission
 * (tcp_write_timeout measures from retrans_stamp). */
static void orphan_retries_linux(void **state)
{
    (void)state;
    harness *h = h_new(2, h_linux_exact());
    h_pair p = h_establish(h, H_A, H_B, 80);
    h_drop_sent(h, H_A, H_ANY, 100); /* nothing A sends arrives */
    uint64_t t0 = h_now(h);
    size_t base = h_sent_count(h, H_A);
    assert_int_equal(tcp_close(h_stack(h, H_A), p.client), TCP_OK);
    h_run_for(h, H_S(300));
    assert_int_equal(h_sent_count(h, H_A) - base, 1 + 1 + 8);
    uint64_t probe = t0 + H_MS(200);
    assert_int_equal(h_sent(h, H_A, base + 1)->sent_ns, probe);
    for (size_t k = 1; k <= 8; k++)
        assert_int_equal(h_sent(h, H_A, base + 1 + k)->sent_ns,
                         probe + H_MS(200) * ((1u << k) - 1));
    const h_event *t = h_last_transition(h, H_A, p.client);
    assert_int_equal(t->to, TCP_CLOSED);
    assert_int_equal(t->time_ns, probe + H_MS(102200));
    h_expect_conns(h, H_A, 0);
    h_free(h);
}

/* FreeBSD tcp_timer_rexmt: in SYN_SENT the RTO is TCPTV_RTOBASE *
 * tcp_syn_backoff[shift], {1, 1, 1, 1, 1, 2, 4, 8, 16, 32, 64, ...}, and the
 * connection-establishment timer TCPTV_KEEP_INIT (75 s) drops it: SYNs at
 * 0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67 s, ETIMEDOUT at 75 s. */
static void syn_schedule_bsd(void **state)
{
    (void)state;
    static const uint64_t at[] = {0,      H_S(1),  H_S(2),  H_S(3),  H_S(4), H_S(5),
                                  H_S(7), H_S(11), H_S(19), H_S(35), H_S(67)};
    harness *h = h_new(2, tcp_profile_find("bsd"));
    h_drop_sent(h, H_A, TCP_SYN, 100);
    tcp_sock_id c = h_connect(h, H_A, H_B, 80, H_ANY);
    h_run(h, H_S(200));
    assert_int_equal(h_sent_count(h, H_A), sizeof at / sizeof at[0]);
    for (size_t k = 0; k < sizeof at / sizeof at[0]; k++)
        assert_int_equal(h_sent(h, H_A, k)->sent_ns, at[k]);
    const h_event *t = h_last_transition(h, H_A, c);
    assert_int_equal(t->to, TCP_CLOSED);
    assert_int_equal(t->time_ns, H_S(75));
    assert_int_equal(tcp_sock_error(h_stack(h, H_A), c), TCP_ETIMEDOUT);
    tcp_close(h_stack(h, H_A), c);
    h_free(h);
}

/* SO_KEEPALIVE, TCP_KEEPINTVL and TCP_KEEPCNT set while the SYN is out
 * leave FreeBSD's connection-establishment timer running: TT_KEEP holds
 * TCPTV_KEEP_INIT in SYN_SENT; SO_KEEPALIVE does not reach
 * tcp_default_ctloutput, TCP_KEEPINTVL re-arms only FIN_WAIT_2's 2MSL
 * timer and TCP_KEEPCNT sets the count; tcp_timer_keep drops the
 * connection before ESTABLISHED whatever the option ("if (tp->t_state <
 * TCPS_ESTABLISHED) goto dropit"). The SYNs of syn_schedule_bsd,
 * ETIMEDOUT at 75 s. */
static void keepalive_set_in_syn_sent_keeps_the_establishment_limit_bsd(void **state)
{
    (void)state;
    harness *h = h_new(2, tcp_profile_find("bsd"));
    h_drop_sent(h, H_A, TCP_SYN, 100);
    tcp_sock_id c = h_connect(h, H_A, H_B, 80, H_ANY);
    tcp_stack *a = h_stack(h, H_A);
    h_run(h, H_S(2));
    assert_int_equal(tcp_setopt(a, c, TCP_OPT_KEEPALIVE, 1), TCP_OK);
    assert_int_equal(tcp_setopt(a, c, TCP_OPT_KEEPINTVL_NS, H_S(5)), TCP_OK);
    assert_int_equal(tcp_setopt(a, c, TCP_OPT_KEEPCNT, 3), TCP_OK);
    h_run(h, H_S(200));
    const h_event *t = h_last_transition(h, H_A, c);
    assert_int_equal(t->to, TCP_CLOSED);
    assert_int_equal(t->time_ns, H_S(75));
    assert_string_equal(t->note, "connection-establishment timeout");
    assert_int_equal(tcp_sock_error(a, c), TCP_ETIMEDOUT);
    tcp_close(a, c);
    h_free(h);
}

/* FreeBSD tcp_default_ctloutput, TCP_KEEPIDLE: "if ((tp->t_state >
 * TCPS_LISTEN) && (tp->t_state <= TCPS_CLOSING)) tcp_timer_activate(tp,
 * TT_KEEP, TP_KEEPIDLE(tp))", SO_KEEPALIVE or not: in SYN_SENT the
 * establishment limit becomes the new idle time from the call, shorter or
 * longer than what was left of the 75 s, and tcp_timer_keep drops the
 * connection when it fires. Set at 2 s: 10 s ends it at 12 s; 100 s at
 * 102 s, after the SYNs of syn_schedule_bsd (the next would go at 131 s). */
static void keepidle_set_in_syn_sent_restarts_the_establishment_limit_bsd(void **state)
{
    (void)state;
    static const uint64_t idle[] = {H_S(10), H_S(100)};
    static const size_t syns[] = {8, 11}; /* SYNs at 0, 1, 2, 3, 4, 5, 7, 11 s; then 19 ... 67 s */
    for (size_t i = 0; i < 2; i++) {
        harness *h = h_new(2, tcp_profile_find("bsd"));
        h_drop_sent(h, H_A, TCP_SYN, 100);
        tcp_sock_id c = h_connect(h, H_A, H_B, 80, H_ANY);
        tcp_stack *a = h_stack(h, H_A);
        h_run(h, H_S(2));
        assert_int_equal(tcp_setopt(a, c, TCP_OPT_KEEPIDLE_NS, idle[i]), TCP_OK);
        h_run(h, H_S(200));
        const h_event *t = h_last_transition(h, H_A, c);
        assert_int_equal(t->to, TCP_CLOSED);
        assert_int_equal(t->time_ns, H_S(2) + idle[i]);
        assert_string_equal(t->note, "connection-establishment timeout");
        assert_int_equal(tcp_sock_error(a, c), TCP_ETIMEDOUT);
        assert_int_equal(h_sent_count(h, H_A), syns[i]);
        tcp_close(a, c);
        h_free(h);
    }
}

/* FreeBSD, net.inet.tcp.fast_finwait2_recycle = 0: an orphan entering
 * FIN_WAIT_2 gets the 2MSL timer for TP_MAXIDLE = 8 * 75 s = 600 s, and
 * tcp_timer_2msl closes only "if (ticks - tp->t_rcvtime > TP_MAXIDLE)",
 * else re-arms for TP_KEEPINTVL (75 s): a silent peer is dropped at 675 s;
 * a peer that keeps talking keeps the connection. */
static void fin_wait_2_idle_bsd(void **state)
{
    (void)state;
    harness *h = h_new(2, tcp_profile_find("bsd"));
    h_pair p = h_establish(h, H_A, H_B, 80);
    assert_int_equal(tcp_close(h_stack(h, H_A), p.client), TCP_OK);
    h_settle(h);
    h_expect_state(h, H_A, p.client, TCP_FIN_WAIT_2);
    uint64_t t0 = h_now(h);
    h_run(h, t0 + H_S(675) - 1);
    h_expect_state(h, H_A, p.client, TCP_FIN_WAIT_2);
    h_run(h, t0 + H_S(675));
    h_expect_conns(h, H_A, 0);
    h_free(h);
}

/* Keepalive probes an idle connection only (Linux tcp_keepalive_timer
 * reschedules while packets are out; RFC 1122 §4.2.3.6): no keepalive timer
 * fires while our FIN is outstanding in FIN_WAIT_1, and the timer runs again
 * in FIN_WAIT_2, probing <SEQ=SND.UNA-1> after the idle time. */
static void keepalive_skips_fin_wait_1_and_runs_in_fin_wait_2(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    tcp_stack *a = h_stack(h, H_A);
    assert_int_equal(tcp_setopt(a, p.client, TCP_OPT_KEEPIDLE_NS, H_S(2)), TCP_OK);
    assert_int_equal(tcp_setopt(a, p.client, TCP_OPT_KEEPALIVE, 1), TCP_OK);
    assert_int_equal(tcp_shutdown(a, p.client), TCP_OK);
    h_advance(h, H_MS(3500)); /* the FIN waits on the wire; RTOs at 1 s, 3 s */
    assert_int_equal(h_count(h, H_A, p.client, TCP_EV_TIMER), 2);
    h_settle(h);
    h_expect_state(h, H_A, p.client, TCP_FIN_WAIT_2);
    h_sent_skip(h, H_A);
    uint32_t una = h_template(h, H_B, p.server).seq; /* A's SND.UNA */
    h_advance(h, H_S(2));
    h_expect_sent(h, H_A, TCP_ACK, una - 1u, H_ANY, 0);
}

/* C1: a retries knob above 255 must not wrap the counter: with rto_min =
 * rto_max = 1 ms and data_retries = 300, an unanswered segment is sent
 * 1 + 300 times and the connection times out at 301 ms. */
static void retries_above_255_do_not_wrap(void **state)
{
    (void)state;
    tcp_profile pr = *tcp_profile_find("rfc9293");
    pr.data_retries = 300;
    pr.rto_initial_ns = pr.rto_min_ns = pr.rto_max_ns = H_MS(1);
    harness *h = h_new(2, &pr);
    h_pair p = h_establish(h, H_A, H_B, 80);
    h_drop_sent(h, H_A, H_ANY, 1000);
    uint64_t t0 = h_now(h);
    size_t base = h_sent_count(h, H_A);
    send_n(h, H_A, p.client, 10);
    h_run_for(h, H_S(2));
    assert_int_equal(h_sent_count(h, H_A) - base, 301);
    const h_event *t = h_last_transition(h, H_A, p.client);
    assert_int_equal(t->to, TCP_CLOSED);
    assert_int_equal(t->time_ns, t0 + H_MS(301));
    assert_int_equal(tcp_sock_error(h_stack(h, H_A), p.client), TCP_ETIMEDOUT);
    tcp_close(h_stack(h, H_A), p.client);
    h_free(h);
}

/* RFC 6298 §5.7 and RFC 5681 §3.1 apply when the SYN's *timer* expired. A
 * SYN,ACK sent again at once for the peer's duplicate SYN is no timeout: the
 * server keeps its initial window (rfc9293: 3 segments) and RTO. */
static void synack_for_duplicate_syn_is_not_a_lost_syn(void **state)
{
    harness *h = *state;
    tcp_sock_id l = h_listen(h, H_B, 80, 4);
    tcp_sock_id c = h_connect(h, H_A, H_B, 80, H_ANY);
    h_dup(h);     /* the SYN arrives twice */
    h_deliver(h); /* SYN */
    h_deliver(h); /* SYN again: the SYN,ACK goes out again at once */
    h_settle(h);
    tcp_sock_id s = h_accept(h, H_B, l);
    h_expect_state(h, H_A, c, TCP_ESTABLISHED);
    h_sent_skip(h, H_B);
    assert_int_equal(tcp_setopt(h_stack(h, H_B), s, TCP_OPT_NODELAY, 1), TCP_OK);
    send_n(h, H_B, s, 4 * 1460);
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 1460);
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 1460);
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 1460);
    h_expect_none_sent(h, H_B);
}

/* Linux FLAG_SYN_ACKED: the ACK of our SYN is not delivered data and grows
 * no window. rfc9293: after a passive open the window is exactly 3 * 1460
 * bytes, so with NODELAY a 4381st byte waits for an ACK. */
static void ack_of_syn_grows_no_cwnd(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    assert_int_equal(tcp_setopt(h_stack(h, H_B), p.server, TCP_OPT_NODELAY, 1), TCP_OK);
    send_n(h, H_B, p.server, 3 * 1460 + 1);
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 1460);
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 1460);
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 1460);
    h_expect_none_sent(h, H_B);
}

/* FreeBSD TCPT_RANGESET adds tcp_rexmit_slop (200 ms) to the data RTO: with
 * the RTT near 0 the RTO floor is TCPTV_MIN (30 ms) + 200 ms. */
static void rto_slop_bsd(void **state)
{
    (void)state;
    harness *h = h_new(2, tcp_profile_find("bsd"));
    h_pair p = h_establish(h, H_A, H_B, 80);
    h_drop_sent(h, H_A, H_ANY, 1);
    uint64_t t0 = h_now(h);
    send_n(h, H_A, p.client, 10);
    h_run_for(h, H_S(1));
    const tcp_seg *first = h_expect_sent(h, H_A, TCP_ACK | TCP_PSH, H_ANY, H_ANY, 10);
    const tcp_seg *again = h_expect_sent(h, H_A, TCP_ACK | TCP_PSH, first->seq, H_ANY, 10);
    (void)again;
    size_t k = h_sent_count(h, H_A);
    assert_int_equal(h_sent(h, H_A, k - 2)->sent_ns, t0);
    assert_int_equal(h_sent(h, H_A, k - 1)->sent_ns, t0 + H_MS(230));
    h_free(h);
}

/* The RTO, the persist timer, the FIN_WAIT_2 timeout and 2MSL share one
 * deadline slot (tcp_conn.h): each must hand it to the next. A's data
 * meets B's closed window (RFC 9293 §3.8.6.1: the persist timer probes it,
 * the RTO stopped), A closes with its FIN behind the data (an orphan in
 * FIN_WAIT_1), B reads, the data and FIN are acknowledged: FIN_WAIT_2 with
 * the orphan's timeout where the profile has one, keepalive in its own
 * slot; B's FIN then takes A to TIME_WAIT, whose timer alone runs (RFC
 * 9293 §3.10.7.4 "turn off the other timers"). Under every profile, with
 * the TCB read at each step. */
static void one_slot_passes_from_persist_to_fin_wait_2_to_time_wait(void **state)
{
    (void)state;
    const char *names[] = {"rfc9293", "linux", "bsd"};
    for (size_t i = 0; i < 3; i++) {
        harness *h = h_new(2, tcp_profile_find(names[i]));
        tcp_stack *a = h_stack(h, H_A), *b = h_stack(h, H_B);
        tcp_sock_id l = h_listen(h, H_B, 80, 8);
        assert_int_equal(tcp_setopt(b, l, TCP_OPT_RCVBUF, 2048), TCP_OK);
        tcp_sock_id c = h_connect(h, H_A, H_B, 80, H_ANY);
        h_settle(h);
        tcp_sock_id s = h_accept(h, H_B, l);
        assert_int_equal(tcp_setopt(a, c, TCP_OPT_KEEPIDLE_NS, H_S(5)), TCP_OK);
        assert_int_equal(tcp_setopt(a, c, TCP_OPT_KEEPALIVE, 1), TCP_OK);
        static uint8_t text[20000];
        assert_int_equal(tcp_send(a, c, text, sizeof text), (long)sizeof text);
        h_run_for(h, H_S(2));
        tcp_tcb t;
        assert_int_equal(tcp_sock_tcb(a, c, &t), 0);
        assert_int_equal(t.snd_wnd, 0);
        assert_true(t.timer_at[TCP_TIMER_PERSIST] != UINT64_MAX);
        assert_true(t.timer_at[TCP_TIMER_RTX] == UINT64_MAX);
        assert_int_equal(tcp_close(a, c), TCP_OK);
        h_expect_state(h, H_A, c, TCP_FIN_WAIT_1);
        static uint8_t in[4096];
        for (int k = 0; k < 400 && tcp_sock_state(a, c) == TCP_FIN_WAIT_1; k++) {
            while (tcp_recv(b, s, in, sizeof in) > 0)
                continue;
            h_run_for(h, H_MS(100));
        }
        h_expect_state(h, H_A, c, TCP_FIN_WAIT_2);
        assert_int_equal(tcp_sock_tcb(a, c, &t), 0);
        assert_true(t.timer_at[TCP_TIMER_RTX] == UINT64_MAX);
        assert_true(t.timer_at[TCP_TIMER_PERSIST] == UINT64_MAX);
        bool fw2 = tcp_stack_profile(a)->fin_wait_2_timeout_ns != 0;
        assert_int_equal(t.timer_at[TCP_TIMER_FIN_WAIT_2] != UINT64_MAX, fw2);
        assert_true(t.timer_at[TCP_TIMER_KEEPALIVE] != UINT64_MAX);
        h_run_for(h, H_S(6)); /* a keepalive probe, answered, beside the orphan's timeout */
        h_expect_state(h, H_A, c, TCP_FIN_WAIT_2);
        while (tcp_recv(b, s, in, sizeof in) > 0) /* none unread: no RST at B's close */
            continue;
        assert_int_equal(tcp_close(b, s), TCP_OK);
        h_settle(h);
        h_expect_state(h, H_A, c, TCP_TIME_WAIT);
        assert_int_equal(tcp_sock_tcb(a, c, &t), 0);
        for (int k = 0; k < TCP_TIMER_COUNT; k++)
            assert_int_equal(t.timer_at[k] != UINT64_MAX, k == TCP_TIMER_TIME_WAIT);
        h_finish(h);
        h_free(h);
    }
}

#define T(f) cmocka_unit_test_setup_teardown(f, h_setup, h_teardown)

/* Linux's RTO after RTT samples of 40, 100, 200 and 100 ms, worked by hand from
 * tcp_rtt_estimator and __tcp_set_rto (microseconds; srtt_us holds 8·SRTT,
 * mdev_us 4·the deviation, rttvar_us the RTO's variance term):
 *  - 40 ms (the handshake): srtt 40000, mdev 2·40000 = 80000, rttvar =
 *    max(80000, TCP_RTO_MIN 200000) = 200000: RTO 240 ms (RFC 6298 §2.4
 *    would give max(40 + 4·20, 200) = 200 ms); tcpi_rttvar = mdev / 4;
 *  - 100 ms: error +60000, srtt 40000 + 7500 = 47500, mdev 80000 + 60000 -
 *    20000 = 120000, below the window's largest (200000): RTO 247.5 ms;
 *  - 200 ms: error +152500, srtt 47500 + 19062 = 66562, mdev 120000 +
 *    152500 - 30000 = 242500, the window's largest, so rttvar 242500:
 *    RTO 309.062 ms;
 *  - 100 ms again: error +33438, srtt 70742, mdev 242500 + 33438 - 60625 =
 *    215313, the window's largest but below rttvar, which the window's end
 *    moves a quarter of the way down to it: 242500 - 6796 = 235704: RTO
 *    306.446 ms.
 * (Each RTT stays below the RTO before it: a retransmission would give no
 * sample, RFC 6298 §3, Karn.) */
static void rto_floor_on_the_variance_linux(void **state)
{
    (void)state;
    harness *h = h_new(2, h_linux_exact());
    h_set_delay(h, H_MS(20));
    h_pair p = h_establish(h, H_A, H_B, 80);
    tcp_sockinfo i;
    assert_int_equal(tcp_sock_info(h_stack(h, H_A), p.client, &i), 0);
    assert_int_equal(i.rto_us, 240000);
    assert_int_equal(i.rtt_us, 40000);
    assert_int_equal(i.rttvar_us, 20000);
    const uint64_t delays[] = {H_MS(50), H_MS(100), H_MS(50)};
    const uint32_t rto[] = {247500, 309062, 306446}, rtt[] = {47500, 66562, 70742},
                   var[] = {30000, 60625, 53828};
    for (int k = 0; k < 3; k++) {
        h_set_delay(h, delays[k]);
        send_n(h, H_A, p.client, 100);
        h_run_for(h, 2 * delays[k]);
        assert_int_equal(tcp_sock_info(h_stack(h, H_A), p.client, &i), 0);
        assert_int_equal(i.unacked, 0);
        assert_int_equal(i.rto_us, rto[k]);
        assert_int_equal(i.rtt_us, rtt[k]);
        assert_int_equal(i.rttvar_us, var[k]);
    }
    h_free(h);
}

/* The variance floor is kept in microseconds (tcp_rtt_estimator's units);
 * a floor above 2^32 us (71.6 min) must not wrap. Profiles refuse rto_min
 * above TCP_RTO_LIMIT_NS (tcp_profile_check), but the stack takes any
 * profile, so its arithmetic saturates instead: with rto_min = 80 min the
 * variance term stays at the floor after a window's end has moved it
 * towards the window's largest deviation, which is the floor, and the RTO
 * is SRTT + 80 min (__tcp_set_rto), 40 ms + 80 min with every RTT 40 ms.
 * A floor wrapped to 32 bits would let the variance term fall, and the
 * RTO would be the clamp's 80 min alone. */
static void rto_floor_above_32_bits_of_microseconds_holds(void **state)
{
    (void)state;
    tcp_profile pr = *h_linux_exact();
    pr.rto_min_ns = 80ull * 60 * H_S(1);
    pr.rto_max_ns = 3ull * 3600 * H_S(1);
    pr.tlp = false; /* the RTO, not a loss probe, after the drop below */
    harness *h = h_new(2, &pr);
    h_set_delay(h, H_MS(20));
    h_pair p = h_establish(h, H_A, H_B, 80);
    for (int k = 0; k < 2; k++) { /* two windows of data, two RTT samples */
        send_n(h, H_A, p.client, 100);
        h_run_for(h, H_MS(40));
    }
    send_n(h, H_A, p.client, 100);
    h_drop(h);
    uint64_t rto = tcp_stack_next_deadline(h_stack(h, H_A)) - h_now(h);
    assert_int_equal(rto, pr.rto_min_ns + H_MS(40));
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(orphan_retries_linux),
        T(syn_schedule_bsd),
        T(fin_wait_2_idle_bsd),
        T(keepalive_skips_fin_wait_1_and_runs_in_fin_wait_2),
        T(retries_above_255_do_not_wrap),
        T(synack_for_duplicate_syn_is_not_a_lost_syn),
        T(ack_of_syn_grows_no_cwnd),
        T(rto_slop_bsd),
        cmocka_unit_test(one_slot_passes_from_persist_to_fin_wait_2_to_time_wait),
        cmocka_unit_test(keepalive_set_in_syn_sent_keeps_the_establishment_limit_bsd),
        cmocka_unit_test(rto_floor_on_the_variance_linux),
        cmocka_unit_test(rto_floor_above_32_bits_of_microseconds_holds),
        cmocka_unit_test(keepidle_set_in_syn_sent_restarts_the_establishment_limit_bsd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
