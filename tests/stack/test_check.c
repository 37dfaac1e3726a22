/*
 * test_check — the stack invariants of tcp_check.h. Each test builds a
 * connection by hand (the TCB fields set directly, as lwIP's tests do),
 * checks that the checker names the invariant it breaks, and that the legal
 * neighbour of that state passes. The last tests show the LAST_ACK hang of
 * a server answering a half-close with more data than one window (RFC 9293
 * §3.10.7.4: LAST_ACK does the ESTABLISHED processing of the ACK, so queued
 * data must still go out) is caught: once from the hung state built
 * directly, and once end to end, where the run must either close cleanly or
 * be stopped by the checker, never hang silently.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tcp_check.h"
#include "tcp_conn.h"

#define ISS 1000u

/* ---- A stack with a fake world, and hand-built connections ------------------- */

typedef struct fixture {
    uint64_t now;
    tcp_stack *s;
    size_t reports;
    tcp_check_report last;
} fixture;

static uint64_t fx_now(void *ctx)
{
    return ((fixture *)ctx)->now;
}

static uint64_t fx_random(void *ctx)
{
    (void)ctx;
    return 4;
}

static void fx_output(void *ctx, const uint8_t *d, size_t len)
{
    (void)ctx, (void)d, (void)len;
}

static void fx_report(void *ctx, const tcp_check_report *r)
{
    fixture *fx = ctx;
    fx->reports++;
    fx->last = *r;
}

static fixture *fx_new(const char *profile)
{
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->now = H_S(10);
    static const tcp_env env = {.now_ns = fx_now, .random = fx_random, .output = fx_output};
    fx->s = tcp_stack_new(&env, fx, 0x0a000002u, h_profile_exact(profile));
    assert_non_null(fx->s);
    tcp_check_enable(fx->s, true, fx_report, fx);
    fx->s->now = fx->now;
    return fx;
}

static void fx_free(fixture *fx)
{
    tcp_stack_free(fx->s);
    free(fx);
}

/* A connection in `state`, owned by the user, everything sent acknowledged,
 * no timer armed, nothing queued. */
static tcp_conn *tcb(fixture *fx, tcp_state state)
{
    tcp_conn *c = tcp_conn_new(fx->s);
    assert_non_null(c);
    c->state = state;
    c->raddr = 0x0a000001u;
    c->lport = 80;
    c->rport = 5000;
    c->user_held = true;
    c->ever_used = true;
    tcp_conn_init_seq(c, ISS);
    c->snd_una = c->snd_nxt = c->snd_max = ISS + 1;
    c->irs = 7000;
    c->rcv_nxt = 7001;
    return c;
}

/* Invariants 1-4 on c: the name of the one broken, or NULL. */
static const char *broken(const tcp_conn *c)
{
    tcp_check_report r;
    return tcp_check_conn(c, &r) ? tcp_check_name(r.inv) : NULL;
}

/* Invariant 5 on a transition: the name, or NULL. */
static const char *edge_broken(const tcp_conn *c, tcp_state from, tcp_state to, tcp_cause cause,
                               uint8_t seg_flags)
{
    tcp_seg seg = {.flags = seg_flags, .seq = c->rcv_nxt};
    tcp_check_report r;
    bool bad = tcp_check_edge(c, from, to, cause, seg_flags ? &seg : NULL, &r);
    return bad ? tcp_check_name(r.inv) : NULL;
}

/* ---- 1. SND.UNA <= SND.NXT <= SND.MAX ----------------------------------------- */

static void seq_order_names_snd_nxt_past_snd_max(void **state)
{
    (void)state;
    fixture *fx = fx_new("rfc9293");
    tcp_conn *c = tcb(fx, TCP_ESTABLISHED);
    c->snd_una = ISS + 1;
    c->snd_nxt = ISS + 3001;
    c->snd_max = ISS + 1461;
    tcp_timer_set(c, TCP_TIMER_RTX, fx->now + H_S(1));
    assert_string_equal(broken(c), "SEQ_ORDER");
    c->snd_nxt = ISS + 1; /* go-back-N after an RTO: legal */
    assert_null(broken(c));
    c->snd_una = ISS + 1462; /* SND.UNA past SND.NXT */
    c->snd_nxt = ISS + 1461;
    assert_string_equal(broken(c), "SEQ_ORDER");
    fx_free(fx);
}

static void seq_order_holds_across_wraparound(void **state)
{
    (void)state;
    fixture *fx = fx_new("rfc9293");
    tcp_conn *c = tcb(fx, TCP_ESTABLISHED);
    c->snd_una = 0xfffffff0u;
    c->snd_nxt = 0x10u;
    c->snd_max = 0x20u;
    c->snd_buf_seq = c->snd_una;
    tcp_timer_set(c, TCP_TIMER_RTX, fx->now + H_S(1));
    assert_null(broken(c));
    fx_free(fx);
}

/* ---- 2. Something owed to the peer => RTX or persist armed -------------------- */

static void pending_timer_names_unacked_data_without_rtx(void **state)
{
    (void)state;
    fixture *fx = fx_new("linux");
    tcp_conn *c = tcb(fx, TCP_ESTABLISHED);
    c->snd_nxt = c->snd_max = ISS + 1461; /* one segment in flight */
    assert_string_equal(broken(c), "PENDING_TIMER");
    tcp_timer_set(c, TCP_TIMER_KEEPALIVE, fx->now + H_S(7200)); /* not a way out */
    assert_string_equal(broken(c), "PENDING_TIMER");
    tcp_timer_set(c, TCP_TIMER_RTX, fx->now + H_MS(200));
    assert_null(broken(c));
    fx_free(fx);
}

static void pending_timer_names_unsent_data_at_zero_window(void **state)
{
    (void)state;
    fixture *fx = fx_new("bsd");
    tcp_conn *c = tcb(fx, TCP_CLOSE_WAIT);
    assert_int_equal(tcp_ring_reserve(&c->sndq, 4096, 4096, NULL), 0);
    assert_int_equal(tcp_ring_push(&c->sndq, (const uint8_t *)"hello", 5), 5);
    c->snd_wnd = 0;
    assert_string_equal(broken(c), "PENDING_TIMER");
    tcp_timer_set(c, TCP_TIMER_PERSIST, fx->now + H_S(5));
    assert_null(broken(c));
    fx_free(fx);
}

static void pending_timer_names_fin_not_yet_sent(void **state)
{
    (void)state;
    fixture *fx = fx_new("rfc9293");
    tcp_conn *c = tcb(fx, TCP_FIN_WAIT_1);
    c->fin_queued = true; /* SND.MAX has not passed the FIN */
    assert_string_equal(broken(c), "PENDING_TIMER");
    c->snd_nxt = c->snd_max = ISS + 2; /* FIN sent, unacknowledged */
    assert_string_equal(broken(c), "PENDING_TIMER");
    tcp_timer_set(c, TCP_TIMER_RTX, fx->now + H_S(1));
    assert_null(broken(c));
    fx_free(fx);
}

/* ---- 3. Outside CLOSED: a timer, or a user call that can move it ------------------- */

static void stuck_names_last_ack_without_timer(void **state)
{
    (void)state;
    fixture *fx = fx_new("rfc9293");
    tcp_conn *c = tcb(fx, TCP_LAST_ACK);
    c->fin_queued = true;
    c->snd_nxt = c->snd_max = c->snd_una = ISS + 2; /* FIN sent and acknowledged */
    c->user_held = false;
    c->released = true;
    assert_string_equal(broken(c), "STUCK");
    c->user_held = true; /* the user cannot move LAST_ACK on either */
    assert_string_equal(broken(c), "STUCK");
    fx_free(fx);
}

static void stuck_allows_idle_established_the_user_can_close(void **state)
{
    (void)state;
    fixture *fx = fx_new("rfc9293");
    tcp_conn *c = tcb(fx, TCP_ESTABLISHED);
    assert_null(broken(c));
    c->user_held = false;
    c->in_accept_q = true; /* not accepted yet: accept() then close() */
    assert_null(broken(c));
    c->in_accept_q = false; /* nobody can ever reach it */
    assert_string_equal(broken(c), "STUCK");
    fx_free(fx);
}

static void stuck_orphan_fin_wait_2_depends_on_profile(void **state)
{
    (void)state;
    /* RFC 9293 has no FIN-WAIT-2 timer: the orphan waits for the peer. */
    fixture *fx = fx_new("rfc9293");
    tcp_conn *c = tcb(fx, TCP_FIN_WAIT_2);
    c->fin_queued = true;
    c->snd_nxt = c->snd_max = c->snd_una = ISS + 2;
    c->user_held = false;
    c->released = true;
    assert_null(broken(c));
    fx_free(fx);
    /* Linux reaps orphans after tcp_fin_timeout: no timer is a bug. */
    fx = fx_new("linux");
    c = tcb(fx, TCP_FIN_WAIT_2);
    c->fin_queued = true;
    c->snd_nxt = c->snd_max = c->snd_una = ISS + 2;
    c->user_held = false;
    c->released = true;
    assert_string_equal(broken(c), "STUCK");
    tcp_timer_set(c, TCP_TIMER_FIN_WAIT_2, fx->now + H_S(60));
    assert_null(broken(c));
    fx_free(fx);
}

/* ---- 4. TIME_WAIT: its timer alone, its length, its restarts ------------------------- */

static tcp_conn *time_wait(fixture *fx, uint64_t due_in)
{
    tcp_conn *c = tcb(fx, TCP_TIME_WAIT);
    c->fin_queued = true;
    c->snd_nxt = c->snd_max = c->snd_una = ISS + 2;
    c->user_held = false;
    c->released = true;
    tcp_timer_set(c, TCP_TIMER_TIME_WAIT, fx->now + due_in);
    c->check_tw_at = tcp_timer_at(c, TCP_TIMER_TIME_WAIT);
    return c;
}

static void time_wait_names_wrong_length_and_other_timers(void **state)
{
    (void)state;
    fixture *fx = fx_new("bsd"); /* 2 * MSL = 2 * 30 s (TCPTV_MSL) */
    tcp_conn *c = time_wait(fx, H_S(60));
    assert_null(broken(c));
    c->check_tw_at = fx->now + H_S(61);
    tcp_timer_store(c, TCP_TIMER_TIME_WAIT, c->check_tw_at);
    assert_string_equal(broken(c), "TIME_WAIT");
    c->check_tw_at = fx->now + H_S(30);
    tcp_timer_store(c, TCP_TIMER_TIME_WAIT, c->check_tw_at);
    assert_null(broken(c));
    /* The RTO cannot be armed here (it shares the 2MSL slot,
     * tcp_timer_slot); a keepalive deadline can. */
    tcp_timer_set(c, TCP_TIMER_KEEPALIVE, fx->now + H_S(1));
    assert_string_equal(broken(c), "TIME_WAIT");
    tcp_timer_stop_all(c);
    assert_string_equal(broken(c), "TIME_WAIT"); /* no timer at all */
    fx_free(fx);
}

/* A bare ACK restarts TIME_WAIT in Linux (tcp_timewait_state_process:
 * inet_twsk_reschedule on an ACK), not in RFC 9293, where only a
 * retransmitted FIN does (§3.10.7.4). */
static void time_wait_restart_rules_per_profile(void **state)
{
    (void)state;
    const char *profiles[] = {"rfc9293", "linux"};
    for (int i = 0; i < 2; i++) {
        fixture *fx = fx_new(profiles[i]);
        tcp_conn *c = time_wait(fx, H_S(1));
        uint64_t len = tcp_time_wait_ns(c); /* rfc9293: 2 * 120 s; linux: 60 s */
        c->check_tw_at = fx->now + len - H_S(5);
        tcp_timer_store(c, TCP_TIMER_TIME_WAIT, c->check_tw_at);
        tcp_seg ack = {.flags = TCP_ACK, .seq = c->rcv_nxt};
        tcp_check_event(c, TCP_EV_SEG_IN, 0, &ack);
        tcp_timer_set(c, TCP_TIMER_TIME_WAIT, fx->now + len);
        if (i == 0)
            assert_string_equal(broken(c), "TIME_WAIT");
        else
            assert_null(broken(c));
        tcp_seg fin = {.flags = TCP_FIN | TCP_ACK, .seq = c->rcv_nxt - 1};
        tcp_check_event(c, TCP_EV_SEG_IN, 0, &fin);
        assert_null(broken(c));
        /* A restart must start the full length over. */
        tcp_timer_set(c, TCP_TIMER_TIME_WAIT, fx->now + len - H_S(1));
        assert_string_equal(broken(c), "TIME_WAIT");
        fx_free(fx);
    }
}

/* ---- 5. Transitions: RFC 9293's diagram, its causes, the profile's edges ------------ */

static void edge_names_transitions_outside_the_diagram(void **state)
{
    (void)state;
    fixture *fx = fx_new("rfc9293");
    tcp_conn *c = tcb(fx, TCP_ESTABLISHED);
    assert_string_equal(edge_broken(c, TCP_ESTABLISHED, TCP_TIME_WAIT, TCP_CAUSE_SEGMENT, TCP_FIN),
                        "EDGE");
    assert_string_equal(edge_broken(c, TCP_LAST_ACK, TCP_TIME_WAIT, TCP_CAUSE_SEGMENT, TCP_ACK),
                        "EDGE");
    /* an edge of the diagram taken on a cause the diagram does not give */
    assert_string_equal(edge_broken(c, TCP_ESTABLISHED, TCP_CLOSE_WAIT, TCP_CAUSE_USER, 0), "EDGE");
    assert_string_equal(edge_broken(c, TCP_CLOSE_WAIT, TCP_LAST_ACK, TCP_CAUSE_SEGMENT, TCP_ACK),
                        "EDGE");
    assert_null(edge_broken(c, TCP_ESTABLISHED, TCP_CLOSE_WAIT, TCP_CAUSE_SEGMENT, TCP_FIN));
    assert_null(edge_broken(c, TCP_CLOSE_WAIT, TCP_LAST_ACK, TCP_CAUSE_USER, 0));
    fx_free(fx);
}

static void edge_fin_wait_2_timeout_only_where_the_profile_has_one(void **state)
{
    (void)state;
    fixture *fx = fx_new("rfc9293");
    tcp_conn *c = tcb(fx, TCP_FIN_WAIT_2);
    assert_string_equal(edge_broken(c, TCP_FIN_WAIT_2, TCP_CLOSED, TCP_CAUSE_TIMER, 0), "EDGE");
    c->keepalive = true; /* a keepalive timeout may end it */
    assert_null(edge_broken(c, TCP_FIN_WAIT_2, TCP_CLOSED, TCP_CAUSE_TIMER, 0));
    fx_free(fx);
    fx = fx_new("linux");
    c = tcb(fx, TCP_FIN_WAIT_2);
    assert_null(edge_broken(c, TCP_FIN_WAIT_2, TCP_CLOSED, TCP_CAUSE_TIMER, 0));
    fx_free(fx);
}

static void edge_time_wait_rst_and_syn_per_profile(void **state)
{
    (void)state;
    /* bsd: tcp_twcheck drops RSTs (RFC 1337) */
    fixture *fx = fx_new("bsd");
    tcp_conn *c = tcb(fx, TCP_TIME_WAIT);
    assert_string_equal(edge_broken(c, TCP_TIME_WAIT, TCP_CLOSED, TCP_CAUSE_SEGMENT, TCP_RST),
                        "EDGE");
    assert_null(edge_broken(c, TCP_TIME_WAIT, TCP_CLOSED, TCP_CAUSE_SEGMENT, TCP_SYN));
    fx_free(fx);
    /* rfc9293: an RST at RCV.NXT closes; a SYN gets a challenge ACK (RFC 5961 §4) */
    fx = fx_new("rfc9293");
    c = tcb(fx, TCP_TIME_WAIT);
    assert_null(edge_broken(c, TCP_TIME_WAIT, TCP_CLOSED, TCP_CAUSE_SEGMENT, TCP_RST));
    assert_string_equal(edge_broken(c, TCP_TIME_WAIT, TCP_CLOSED, TCP_CAUSE_SEGMENT, TCP_SYN),
                        "EDGE");
    assert_string_equal(edge_broken(c, TCP_TIME_WAIT, TCP_CLOSED, TCP_CAUSE_SEGMENT, TCP_ACK),
                        "EDGE");
    fx_free(fx);
}

/* ---- 6. SACK blocks: above RCV.NXT, in the window, disjoint, held ------------------- */

/* An ESTABLISHED connection that agreed SACK (bsd: no SACK compression),
 * holding [7101, 7201) then [7301, 7401) out of order, as store_text
 * notes them; the window offered reaches 7001 + 4000. */
static tcp_conn *sack_tcb(fixture *fx, bool ts)
{
    tcp_conn *c = tcb(fx, TCP_ESTABLISHED);
    c->sack_ok = true;
    c->ts_ok = ts;
    c->rcv_adv = c->rcv_nxt + 4000u;
    static const uint32_t held[][2] = {{7101, 7201}, {7301, 7401}};
    for (unsigned i = 0; i < 2; i++) {
        assert_true(tcp_ooo_add(c, held[i][0], held[i][1]));
        tcp_sack_note(c, held[i][0], held[i][1]);
    }
    assert_int_equal(c->ooo->nsack, 2);
    assert_null(broken(c));
    return c;
}

static void sack_names_block_below_rcv_nxt(void **state)
{
    (void)state;
    fixture *fx = fx_new("bsd");
    tcp_conn *c = sack_tcb(fx, true);
    c->ooo->sack_start[1] = c->rcv_nxt; /* RFC 2018 §4: RCV.NXT is acknowledged */
    c->ooo->start[0] = c->rcv_nxt;      /* held, so only the edge breaks it */
    assert_string_equal(broken(c), "SACK");
    fx_free(fx);
}

static void sack_names_block_beyond_the_window(void **state)
{
    (void)state;
    fixture *fx = fx_new("bsd");
    tcp_conn *c = sack_tcb(fx, true);
    c->rcv_adv = 7350; /* [7301, 7401) reaches past the edge offered */
    assert_string_equal(broken(c), "SACK");
    fx_free(fx);
}

static void sack_names_overlapping_blocks(void **state)
{
    (void)state;
    fixture *fx = fx_new("bsd");
    tcp_conn *c = sack_tcb(fx, true);
    c->ooo->start[0] = 7101; /* one range [7101, 7401) holds both */
    c->ooo->end[0] = 7401;
    c->ooo_n = 1;
    c->ooo->sack_end[1] = 7350; /* [7101, 7350) overlaps [7301, 7401) */
    assert_string_equal(broken(c), "SACK");
    fx_free(fx);
}

static void sack_names_block_not_held(void **state)
{
    (void)state;
    fixture *fx = fx_new("bsd");
    tcp_conn *c = sack_tcb(fx, true);
    c->ooo->sack_end[0] = 7501; /* [7301, 7501): 7401.. not held */
    assert_string_equal(broken(c), "SACK");
    fx_free(fx);
}

static void sack_names_first_block_not_the_latest(void **state)
{
    (void)state;
    fixture *fx = fx_new("bsd");
    tcp_conn *c = sack_tcb(fx, true);
    uint32_t s = c->ooo->sack_start[0], e = c->ooo->sack_end[0];
    c->ooo->sack_start[0] = c->ooo->sack_start[1];
    c->ooo->sack_end[0] = c->ooo->sack_end[1];
    c->ooo->sack_start[1] = s;
    c->ooo->sack_end[1] = e;
    assert_string_equal(broken(c), "SACK"); /* [7301, 7401) came last */
    fx_free(fx);
}

static void sack_names_more_blocks_than_the_option_holds(void **state)
{
    (void)state;
    fixture *fx = fx_new("bsd");
    tcp_conn *c = sack_tcb(fx, false);
    c->ooo->nsack = TCP_SACK_BLOCKS + 1;
    assert_string_equal(broken(c), "SACK");
    c->ooo->nsack = 2;
    c->sack_ok = false; /* blocks on a connection that did not agree SACK */
    assert_string_equal(broken(c), "SACK");
    fx_free(fx);
}

/* A D-SACK block (RFC 2883 §4) covers octets received twice: below
 * RCV.NXT or held out of order. */
static void sack_names_dsack_block_over_octets_never_received(void **state)
{
    (void)state;
    fixture *fx = fx_new("bsd");
    tcp_conn *c = sack_tcb(fx, true);
    tcp_dsack_set(c, 7101, 7151); /* held: a duplicate */
    assert_null(broken(c));
    tcp_dsack_set(c, 6501, 7001); /* below RCV.NXT */
    assert_null(broken(c));
    c->ooo->dsack_end = 7051; /* 7001..7051 neither received nor held */
    assert_string_equal(broken(c), "SACK");
    fx_free(fx);
}

/* ---- Reports: through the stack's hook, once, with the event named ----------------- */

static void report_names_connection_invariant_and_event(void **state)
{
    (void)state;
    fixture *fx = fx_new("rfc9293");
    tcp_conn *c = tcb(fx, TCP_ESTABLISHED);
    c->snd_nxt = c->snd_max = ISS + 101;
    tcp_seg ack = {.flags = TCP_ACK, .seq = 7001, .ack = ISS + 1};
    tcp_check_event(c, TCP_EV_SEG_IN, 0, &ack);
    tcp_check_after(c);
    tcp_check_after(c); /* reported once */
    assert_int_equal(fx->reports, 1);
    assert_int_equal(fx->last.inv, TCP_CHECK_PENDING_TIMER);
    assert_int_equal(fx->last.sock, c->id);
    assert_int_equal(fx->last.state, TCP_ESTABLISHED);
    char line[512];
    tcp_check_format(&fx->last, line, sizeof line);
    assert_non_null(strstr(line, "invariant PENDING_TIMER violated"));
    assert_non_null(strstr(line, "10.0.0.2:80>10.0.0.1:5000 in ESTABLISHED"));
    assert_non_null(strstr(line, "after segment ACK seq=7001 ack=1001 len=0"));
    fx_free(fx);
}

/* ---- The LAST_ACK hang ---------------------------------------------------------------- */

/* The state the hang leaves: the peer half-closed, the server queued 20 000
 * bytes and closed; what was sent is acknowledged, 15 620 bytes and the FIN
 * are still queued, and no timer will ever send them. */
static void last_ack_hang_state_is_caught(void **state)
{
    (void)state;
    fixture *fx = fx_new("rfc9293");
    tcp_conn *c = tcb(fx, TCP_LAST_ACK);
    static uint8_t data[20000];
    assert_int_equal(tcp_ring_reserve(&c->sndq, 65535, 65535, NULL), 0);
    assert_int_equal(tcp_ring_push(&c->sndq, data, sizeof data), sizeof data);
    c->snd_una = c->snd_nxt = c->snd_max = ISS + 1 + 4380;
    tcp_ring_consume(&c->sndq, 4380);
    c->snd_buf_seq = ISS + 1 + 4380;
    c->fin_queued = true;
    c->fin_rcvd = true;
    c->user_held = false;
    c->released = true;
    tcp_stack_settle(c); /* what every entry point does last */
    assert_int_equal(fx->reports, 1);
    assert_int_equal(fx->last.inv, TCP_CHECK_PENDING_TIMER);
    assert_int_equal(fx->last.state, TCP_LAST_ACK);
    assert_non_null(strstr(fx->last.detail, "unsent data"));
    fx_free(fx);
}

/* The same hang in CLOSING (FIN_WAIT_1 -> CLOSING with data still queued
 * behind our FIN): the peer's FIN arrived, ours is not sent. */
static void closing_hang_state_is_caught(void **state)
{
    (void)state;
    fixture *fx = fx_new("linux");
    tcp_conn *c = tcb(fx, TCP_CLOSING);
    static uint8_t data[3000];
    assert_int_equal(tcp_ring_reserve(&c->sndq, 16384, 16384, NULL), 0);
    assert_int_equal(tcp_ring_push(&c->sndq, data, sizeof data), sizeof data);
    c->fin_queued = true;
    c->fin_rcvd = true;
    c->rcv_nxt = 7002;
    tcp_stack_settle(c);
    assert_int_equal(fx->reports, 1);
    assert_int_equal(fx->last.inv, TCP_CHECK_PENDING_TIMER);
    assert_int_equal(fx->last.state, TCP_CLOSING);
    fx_free(fx);
}

typedef struct seen {
    size_t n;
    tcp_check_report first;
} seen;

static void on_seen(void *ctx, const tcp_check_report *r)
{
    seen *s = ctx;
    if (s->n++ == 0)
        s->first = *r;
}

/* End to end: the run closes both ends with every byte delivered, or the
 * checker stops it in LAST_ACK; it never hangs unnoticed. */
static void last_ack_hang_never_silent(void **state)
{
    (void)state;
    harness *h = h_new(2, NULL);
    seen s = {0};
    h_set_delay(h, H_MS(10));
    h_pair p = h_establish(h, H_A, H_B, 80);
    tcp_check_enable(h_stack(h, H_B), true, on_seen, &s);
    assert_int_equal(tcp_shutdown(h_stack(h, H_A), p.client), TCP_OK);
    h_run_for(h, H_S(1));
    static uint8_t data[20000];
    assert_int_equal(tcp_send(h_stack(h, H_B), p.server, data, sizeof data), sizeof data);
    assert_int_equal(tcp_close(h_stack(h, H_B), p.server), TCP_OK);
    h_run_for(h, H_S(600));
    if (s.n == 0) {
        assert_int_equal(tcp_sock_state(h_stack(h, H_B), p.server), TCP_CLOSED);
        /* Every byte and the FIN taken in order; A's TIME_WAIT has expired,
         * which under rfc9293 deleted the TCB and the bytes unread with it
         * (RFC 9293 §3.10.8), so they are counted, not read. */
        tcp_tcb t;
        assert_int_equal(tcp_sock_tcb(h_stack(h, H_A), p.client, &t), 0);
        assert_int_equal(t.state, TCP_CLOSED);
        assert_int_equal(t.rcv_nxt - t.irs, 1u + sizeof data + 1u);
    } else {
        assert_int_equal(s.first.inv, TCP_CHECK_PENDING_TIMER);
        assert_int_equal(s.first.state, TCP_LAST_ACK);
    }
    h_sent_skip(h, H_A);
    h_sent_skip(h, H_B);
    h_expect_none_sent(h, H_A); /* and no harness error (A runs checked too) */
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seq_order_names_snd_nxt_past_snd_max),
        cmocka_unit_test(seq_order_holds_across_wraparound),
        cmocka_unit_test(pending_timer_names_unacked_data_without_rtx),
        cmocka_unit_test(pending_timer_names_unsent_data_at_zero_window),
        cmocka_unit_test(pending_timer_names_fin_not_yet_sent),
        cmocka_unit_test(stuck_names_last_ack_without_timer),
        cmocka_unit_test(stuck_allows_idle_established_the_user_can_close),
        cmocka_unit_test(stuck_orphan_fin_wait_2_depends_on_profile),
        cmocka_unit_test(time_wait_names_wrong_length_and_other_timers),
        cmocka_unit_test(time_wait_restart_rules_per_profile),
        cmocka_unit_test(edge_names_transitions_outside_the_diagram),
        cmocka_unit_test(edge_fin_wait_2_timeout_only_where_the_profile_has_one),
        cmocka_unit_test(edge_time_wait_rst_and_syn_per_profile),
        cmocka_unit_test(sack_names_block_below_rcv_nxt),
        cmocka_unit_test(sack_names_block_beyond_the_window),
        cmocka_unit_test(sack_names_overlapping_blocks),
        cmocka_unit_test(sack_names_block_not_held),
        cmocka_unit_test(sack_names_first_block_not_the_latest),
        cmocka_unit_test(sack_names_more_blocks_than_the_option_holds),
        cmocka_unit_test(sack_names_dsack_block_over_octets_never_received),
        cmocka_unit_test(report_names_connection_invariant_and_event),
        cmocka_unit_test(last_ack_hang_state_is_caught),
        cmocka_unit_test(closing_hang_state_is_caught),
        cmocka_unit_test(last_ack_hang_never_silent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
