/*
 * test_tcb — the connection variables a stack reports (TCP_EV_TCB, and
 * tcp_sock_tcb): after each call, once per connection it touched, as the
 * call leaves them. Two stacks are wired by hand (no simulator) so that
 * every event is seen; the expected values are RFC 9293 §3.10's
 * assignments and RFC 6298's timer rules, on fixed ISNs (A 100, B 300).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tcp.h"

#define ADDR_A  0x0a000001u
#define ADDR_B  0x0a000002u
#define QMAX    8
#define EVMAX   256
#define DGRAM   1600
#define DELAY   50000000ull /* 50 ms one way */
#define NO_TIME UINT64_MAX

typedef struct wire wire;

/* What one stack reported, in order. */
typedef struct rec {
    tcp_event_kind kind;
    tcp_sock_id sock;
    uint64_t call; /* which call of the test made it */
    tcp_tcb tcb;
} rec;

typedef struct node {
    wire *w;
    tcp_stack *s;
    uint32_t addr;
    rec ev[EVMAX];
    size_t nev;
} node;

struct wire {
    uint64_t now, call;
    tcp_sock_id listener; /* B's */
    node n[2];
    uint8_t q[QMAX][DGRAM];
    size_t qlen[QMAX], nq;
    tcp_seg seg[16]; /* the segments delivered, in order (headers only) */
    size_t nseg;
};

static uint64_t w_now(void *ctx)
{
    return ((node *)ctx)->w->now;
}

static uint64_t w_random(void *ctx)
{
    (void)ctx;
    return 7;
}

static void w_output(void *ctx, const uint8_t *d, size_t len)
{
    wire *w = ((node *)ctx)->w;
    assert_true(w->nq < QMAX && len <= DGRAM);
    memcpy(w->q[w->nq], d, len);
    w->qlen[w->nq++] = len;
}

static void w_event(void *ctx, const tcp_event *ev)
{
    node *n = ctx;
    assert_true(n->nev < EVMAX);
    rec *r = &n->ev[n->nev++];
    *r = (rec){ev->kind, ev->sock, n->w->call, {0}};
    assert_true((ev->kind == TCP_EV_TCB) == (ev->tcb != NULL));
    if (ev->tcb)
        r->tcb = *ev->tcb;
}

static wire *w_new(void)
{
    wire *w = calloc(1, sizeof *w);
    assert_non_null(w);
    const tcp_profile *p = tcp_profile_find("rfc9293");
    static const tcp_env env = {w_now, w_random, w_output, w_event, NULL, NULL, NULL};
    for (int i = 0; i < 2; i++) {
        node *n = &w->n[i];
        n->w = w;
        n->addr = i ? ADDR_B : ADDR_A;
        n->s = tcp_stack_new(&env, n, n->addr, p);
        assert_non_null(n->s);
    }
    return w;
}

static void w_free(wire *w)
{
    tcp_stack_free(w->n[0].s);
    tcp_stack_free(w->n[1].s);
    free(w);
}

/* Carries the oldest datagram in flight to its address, DELAY later. */
static void w_deliver(wire *w)
{
    assert_true(w->nq > 0);
    uint8_t d[DGRAM];
    size_t len = w->qlen[0];
    memcpy(d, w->q[0], len);
    memmove(w->q[0], w->q[1], (w->nq - 1) * sizeof w->q[0]);
    memmove(w->qlen, w->qlen + 1, (w->nq - 1) * sizeof w->qlen[0]);
    w->nq--;
    uint32_t dst = (uint32_t)d[16] << 24 | (uint32_t)d[17] << 16 | (uint32_t)d[18] << 8 | d[19];
    assert_true(w->nseg < 16);
    assert_int_equal(tcp_wire_parse(d, len, &w->seg[w->nseg]), TCP_WIRE_OK);
    w->seg[w->nseg++].payload = NULL;
    w->now += DELAY;
    w->call++;
    tcp_stack_input(w->n[dst == ADDR_B].s, d, len);
}

/* The last TCB n reported for sock, or NULL. */
static const tcp_tcb *last_tcb(const node *n, tcp_sock_id sock)
{
    for (size_t k = n->nev; k-- > 0;)
        if (n->ev[k].kind == TCP_EV_TCB && n->ev[k].sock == sock)
            return &n->ev[k].tcb;
    return NULL;
}

/* The reported TCB agrees with what tcp_sock_tcb reads now. */
static const tcp_tcb *reported(const node *n, tcp_sock_id sock)
{
    const tcp_tcb *t = last_tcb(n, sock);
    assert_non_null(t);
    tcp_tcb now;
    assert_int_equal(tcp_sock_tcb(n->s, sock, &now), 0);
    assert_memory_equal(t, &now, sizeof now);
    return t;
}

static tcp_sock_id sock_with_isn(node *n, uint32_t isn)
{
    tcp_sock_id id;
    assert_int_equal(tcp_socket(n->s, &id), TCP_OK);
    assert_int_equal(tcp_setopt(n->s, id, TCP_OPT_ISN, isn), TCP_OK);
    return id;
}

/* B listens on 80 (ISN 300), A connects (ISN 100); the handshake's three
 * segments are carried. Returns A's socket; *child is B's connection. */
static tcp_sock_id handshake(wire *w, tcp_sock_id *child)
{
    node *a = &w->n[0], *b = &w->n[1];
    tcp_sock_id l = sock_with_isn(b, 300);
    assert_int_equal(tcp_bind(b->s, l, 80), TCP_OK);
    assert_int_equal(tcp_listen(b->s, l, 4), TCP_OK);
    w->listener = l;
    tcp_sock_id c = sock_with_isn(a, 100);
    w->call++;
    assert_int_equal(tcp_connect(a->s, c, ADDR_B, 80), TCP_OK);

    /* RFC 9293 §3.10.1, OPEN in CLOSED: SND.UNA = ISS, SND.NXT = ISS+1;
     * RFC 6298 (5.1): the SYN starts the retransmission timer, 1 s (2.1). */
    const tcp_tcb *t = reported(a, c);
    assert_int_equal(t->state, TCP_SYN_SENT);
    assert_int_equal(t->iss, 100);
    assert_int_equal(t->snd_una, 100);
    assert_int_equal(t->snd_nxt, 101);
    assert_int_equal(t->irs, 0);
    assert_int_equal(t->rcv_nxt, 0);
    assert_true(t->timer_at[TCP_TIMER_RTX] == w->now + 1000000000ull);

    w_deliver(w); /* the SYN reaches B */
    *child = b->ev[b->nev - 1].sock == l ? b->ev[b->nev - 2].sock : b->ev[b->nev - 1].sock;
    assert_true(*child != l);
    /* §3.10.7.2, LISTEN, third (SYN): RCV.NXT = SEG.SEQ+1, IRS = SEG.SEQ,
     * SND.NXT = ISS+1, SND.UNA = ISS; the SYN,ACK is timed (RFC 6298 5.1). */
    t = reported(b, *child);
    assert_int_equal(t->state, TCP_SYN_RECEIVED);
    assert_int_equal(t->irs, 100);
    assert_int_equal(t->rcv_nxt, 101);
    assert_int_equal(t->iss, 300);
    assert_int_equal(t->snd_una, 300);
    assert_int_equal(t->snd_nxt, 301);
    assert_true(t->timer_at[TCP_TIMER_RTX] == w->now + 1000000000ull);
    return c;
}

static void handshake_variables_follow_rfc_9293(void **state)
{
    (void)state;
    wire *w = w_new();
    node *a = &w->n[0], *b = &w->n[1];
    tcp_sock_id child, c = handshake(w, &child);

    w_deliver(w); /* the SYN,ACK reaches A */
    /* §3.10.7.3, SYN-SENT, fourth: RCV.NXT = SEG.SEQ+1, IRS = SEG.SEQ,
     * SND.UNA = SEG.ACK; RFC 6298 (5.2): all acknowledged, timer off. */
    const tcp_tcb *t = reported(a, c);
    assert_int_equal(t->state, TCP_ESTABLISHED);
    assert_int_equal(t->irs, 300);
    assert_int_equal(t->rcv_nxt, 301);
    assert_int_equal(t->snd_una, 101);
    assert_int_equal(t->snd_nxt, 101);
    assert_true(t->timer_at[TCP_TIMER_RTX] == NO_TIME);

    w_deliver(w); /* A's ACK reaches B */
    /* §3.10.7.4, fifth, SYN-RECEIVED: SND.UNA = SEG.ACK (the ACK is
     * acceptable), SND.WND = SEG.WND; the SYN,ACK is acknowledged. */
    t = reported(b, child);
    assert_int_equal(t->state, TCP_ESTABLISHED);
    assert_int_equal(t->snd_una, 301);
    assert_int_equal(t->snd_nxt, 301);
    const tcp_seg *syn = &w->seg[0], *synack = &w->seg[1], *ack = &w->seg[2];
    unsigned shift = syn->has_wscale && synack->has_wscale ? syn->wscale : 0; /* RFC 7323 §2.3 */
    assert_int_equal(t->snd_wnd, (uint32_t)ack->wnd << shift);
    assert_true(t->timer_at[TCP_TIMER_RTX] == NO_TIME);
    w_free(w);
}

/* One TCB report per connection a call touched (listen() and accept()
 * change no variable and report none), after that connection's other
 * events of the call; a call that touches none reports none. */
static void one_report_per_touched_connection_last(void **state)
{
    (void)state;
    wire *w = w_new();
    tcp_sock_id child, c = handshake(w, &child);
    w_deliver(w);
    w_deliver(w);
    for (int i = 0; i < 2; i++) {
        const node *n = &w->n[i];
        for (size_t k = 0; k < n->nev; k++) {
            const rec *r = &n->ev[k];
            size_t tcbs = 0;
            bool other_after = false;
            for (size_t j = 0; j < n->nev; j++) {
                const rec *q = &n->ev[j];
                if (q->call != r->call || q->sock != r->sock || r->sock == 0)
                    continue;
                tcbs += q->kind == TCP_EV_TCB;
                other_after |= j > k && r->kind == TCP_EV_TCB && q->kind != TCP_EV_TCB;
            }
            /* listen() (call 0) changes no variable and reports none */
            if (r->sock != 0 && r->call > 0)
                assert_int_equal(tcbs, 1);
            assert_true(tcbs <= 1);
            assert_false(other_after);
        }
    }
    /* A call that touches no connection reports nothing. */
    size_t before = w->n[0].nev;
    w->call++;
    tcp_stack_on_time(w->n[0].s);
    assert_int_equal(w->n[0].nev, before);
    (void)c;
    w_free(w);
}

/* The close: the FIN takes a sequence number and is timed; TIME_WAIT arms
 * its 2*MSL timer and disarms the others. */
static void close_moves_snd_nxt_and_the_timers(void **state)
{
    (void)state;
    wire *w = w_new();
    node *a = &w->n[0], *b = &w->n[1];
    tcp_sock_id child, c = handshake(w, &child);
    w_deliver(w);
    w_deliver(w);
    w->call++;
    assert_int_equal(tcp_close(a->s, c), TCP_OK);
    /* §3.10.4, CLOSE in ESTABLISHED: a FIN is sent (it takes SND.NXT). */
    const tcp_tcb *t = reported(a, c);
    assert_int_equal(t->state, TCP_FIN_WAIT_1);
    assert_int_equal(t->snd_nxt, 102);
    assert_int_equal(t->snd_una, 101);
    assert_true(t->timer_at[TCP_TIMER_RTX] == w->now + 1000000000ull);

    w_deliver(w); /* the FIN reaches B: §3.10.7.4 eighth, RCV.NXT over the FIN */
    t = reported(b, child);
    assert_int_equal(t->state, TCP_CLOSE_WAIT);
    assert_int_equal(t->rcv_nxt, 102);
    w_deliver(w); /* B's ACK reaches A: FIN_WAIT_2, the FIN acknowledged, RTX off */
    t = reported(a, c);
    assert_int_equal(t->state, TCP_FIN_WAIT_2);
    assert_int_equal(t->snd_una, 102);
    assert_true(t->timer_at[TCP_TIMER_RTX] == NO_TIME);

    w->call++;
    tcp_sock_id got;
    assert_int_equal(tcp_accept(b->s, w->listener, &got), TCP_OK);
    assert_int_equal(got, child);
    assert_int_equal(tcp_close(b->s, child), TCP_OK);
    w_deliver(w); /* B's FIN reaches A: TIME_WAIT, 2*MSL from now */
    t = reported(a, c);
    assert_int_equal(t->state, TCP_TIME_WAIT);
    assert_int_equal(t->rcv_nxt, 302);
    uint64_t two_msl = 2 * tcp_profile_find("rfc9293")->msl_ns;
    assert_true(t->timer_at[TCP_TIMER_TIME_WAIT] == w->now + two_msl);
    for (int k = 0; k < TCP_TIMER_COUNT; k++)
        if (k != TCP_TIMER_TIME_WAIT)
            assert_true(t->timer_at[k] == NO_TIME);
    tcp_tcb none;
    assert_int_equal(tcp_sock_tcb(a->s, 9999, &none), -1);
    w_free(w);
}

/* B listens on 80, A connects, the handshake's segments are carried. */
static void open_pair(wire *w)
{
    node *a = &w->n[0], *b = &w->n[1];
    tcp_sock_id l = sock_with_isn(b, 300);
    assert_int_equal(tcp_bind(b->s, l, 80), TCP_OK);
    assert_int_equal(tcp_listen(b->s, l, 4), TCP_OK);
    tcp_sock_id c = sock_with_isn(a, 100);
    w->call++;
    assert_int_equal(tcp_connect(a->s, c, ADDR_B, 80), TCP_OK);
    for (int k = 0; k < 3; k++)
        w_deliver(w);
}

/* With TCB events off (tcp_stack_set_tcb_events), a stack reports every
 * other event as before, in the same order, and no TCB; tcp_sock_tcb
 * still reads the same variables. */
static void tcb_events_can_be_turned_off(void **state)
{
    (void)state;
    wire *on = w_new(), *off = w_new();
    for (int i = 0; i < 2; i++)
        tcp_stack_set_tcb_events(off->n[i].s, false);
    open_pair(on);
    open_pair(off);
    for (int i = 0; i < 2; i++) {
        const node *a = &on->n[i], *b = &off->n[i];
        size_t j = 0, tcbs = 0;
        for (size_t k = 0; k < a->nev; k++) {
            if (a->ev[k].kind == TCP_EV_TCB) {
                tcbs++;
                continue;
            }
            assert_true(j < b->nev);
            assert_int_equal(b->ev[j].kind, a->ev[k].kind);
            assert_int_equal(b->ev[j].sock, a->ev[k].sock);
            j++;
        }
        assert_true(tcbs > 0);
        assert_int_equal(j, b->nev); /* nothing else, and no TCB */
        for (tcp_sock_id id = 1; id <= 2; id++) {
            tcp_tcb t_on, t_off;
            int rc = tcp_sock_tcb(a->s, id, &t_on);
            assert_int_equal(tcp_sock_tcb(b->s, id, &t_off), rc);
            if (rc == 0)
                assert_memory_equal(&t_on, &t_off, sizeof t_on);
        }
    }
    w_free(on);
    w_free(off);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(handshake_variables_follow_rfc_9293),
        cmocka_unit_test(one_report_per_touched_connection_last),
        cmocka_unit_test(close_moves_snd_nxt_and_the_timers),
        cmocka_unit_test(tcb_events_can_be_turned_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
