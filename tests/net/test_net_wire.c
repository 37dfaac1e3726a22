/*
 * test_net_wire — net.h rule 10, the stepped wire: datagrams wait in
 * due-time order until delivered by hand or, while the wire flows, when
 * due; the link's rules decide at output; the steps by position (deliver,
 * drop, dup, swap, delay); a datagram nobody owns is discarded in its turn;
 * a rule's HOLD waits for the rule's release; a caller that drives a stack
 * directly re-arms its timer with net_host_sync. Two hosts A (10.0.0.1) and
 * B (10.0.0.2), one 10 ms link, the wire on.
 */
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "net.h"

#define A_ADDR 0x0a000001u
#define B_ADDR 0x0a000002u
#define MS     1000000ull
#define PORT   80u

typedef struct fx {
    net *n;
    uint32_t a, b, link;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->n = net_new(1);
    const tcp_profile *p = tcp_profile_find("rfc9293");
    assert_int_equal(net_host_add(f->n, "A", A_ADDR, p, &f->a), 0);
    assert_int_equal(net_host_add(f->n, "B", B_ADDR, p, &f->b), 0);
    sim_link_params lp;
    sim_link_params_default(&lp);
    lp.delay_ns = 10 * MS;
    assert_int_equal(net_link_add(f->n, f->a, f->b, &lp, &lp, &f->link), 0);
    net_set_check(f->n, true);
    assert_int_equal(net_wire_set(f->n, true), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    net_free(f->n);
    free(f);
    return 0;
}

static void run_for(fx *f, uint64_t ns)
{
    sim_world *w = net_world(f->n);
    sim_world_run_until_time(w, sim_world_now(w) + ns);
}

static uint32_t listen_b(fx *f)
{
    net_listen_opts lo = {.port = PORT, .backlog = 8};
    uint32_t l;
    assert_int_equal(net_listen(f->n, f->b, &lo, &l), 0);
    return l;
}

static uint32_t connect_a(fx *f, uint32_t raddr, uint64_t isn)
{
    net_connect_opts co = {.raddr = raddr, .rport = PORT, .nopts = 1};
    co.opts[0] = (net_opt){TCP_OPT_ISN, isn};
    uint32_t c;
    assert_int_equal(net_connect(f->n, f->a, &co, &c), 0);
    return c;
}

/* The i-th datagram on the wire, parsed. */
static tcp_seg wire_seg(const fx *f, uint32_t i, net_wire_dgram *d)
{
    tcp_seg s;
    assert_true(net_wire_at(f->n, i, d));
    assert_int_equal(tcp_wire_parse(d->data, d->len, &s), TCP_WIRE_OK);
    return s;
}

/* RFC 9293 §3.5 Figure 6, one datagram at a time: nothing moves until the
 * caller delivers it, and time does not pass. */
static void wire_holds_each_datagram_until_delivered(void **state)
{
    fx *f = *state;
    uint32_t l = listen_b(f), c = connect_a(f, B_ADDR, 1000), s;
    net_wire_dgram d;
    tcp_seg syn = wire_seg(f, 0, &d);
    assert_int_equal(net_wire_count(f->n), 1);
    assert_int_equal(syn.flags, TCP_SYN);
    assert_int_equal(syn.seq, 1000);
    assert_int_equal(d.from, f->a);
    assert_int_equal(d.to, f->b);
    assert_int_equal(d.sent_ns, 0);
    assert_int_equal(d.due_ns, 10 * MS); /* the link direction's delay */

    run_for(f, 5 * MS); /* not flowing: the wire holds */
    assert_int_equal(net_wire_count(f->n), 1);
    assert_int_equal(net_accept(f->n, l, &s), TCP_EAGAIN);

    assert_int_equal(net_wire_deliver(f->n, 0), 0); /* A --SYN--> B */
    tcp_seg synack = wire_seg(f, 0, &d);
    assert_int_equal(synack.flags, TCP_SYN | TCP_ACK);
    assert_int_equal(synack.ack, 1001);
    assert_int_equal(d.from, f->b);
    assert_int_equal(d.due_ns, 15 * MS);            /* output at 5 ms */
    assert_int_equal(net_wire_deliver(f->n, 0), 0); /* A <--SYN,ACK-- B */
    assert_int_equal(net_sock_at(f->n, c)->state, TCP_ESTABLISHED);
    assert_int_equal(net_wire_deliver(f->n, 0), 0); /* A --ACK--> B */
    assert_int_equal(net_wire_count(f->n), 0);
    assert_int_equal(net_accept(f->n, l, &s), 0);
    assert_int_equal(net_sock_at(f->n, s)->state, TCP_ESTABLISHED);
    assert_int_equal(sim_world_now(net_world(f->n)), 5 * MS);
    assert_int_equal(net_wire_delivered(f->n), 3);
    assert_int_equal(net_wire_deliver(f->n, 0), TCP_EINVAL);
}

/* Flowing, each datagram arrives at its due time: the client is ESTABLISHED
 * when the SYN,ACK arrives (20 ms), the server's child when the ACK does. */
static void flowing_wire_delivers_when_due(void **state)
{
    fx *f = *state;
    uint32_t l = listen_b(f), c = connect_a(f, B_ADDR, 1000), s;
    net_wire_flow(f->n, true);
    run_for(f, 100 * MS);
    assert_int_equal(net_wire_count(f->n), 0);
    assert_int_equal(net_wire_delivered(f->n), 3);
    const net_sock *k = net_sock_at(f->n, c);
    assert_int_equal(k->state, TCP_ESTABLISHED);
    assert_int_equal(net_sock_step(k, k->ntrace - 1)->time_ns, 20 * MS);
    assert_int_equal(net_accept(f->n, l, &s), 0);
    k = net_sock_at(f->n, s);
    assert_int_equal(net_sock_step(k, k->ntrace - 1)->time_ns, 30 * MS);
}

/* Steps by position on two data segments "ab" and "cd" (NODELAY). */
static void steps_by_position(void **state)
{
    fx *f = *state;
    uint32_t l = listen_b(f), c = connect_a(f, B_ADDR, 1000), s;
    net_wire_flow(f->n, true);
    run_for(f, 100 * MS);
    assert_int_equal(net_accept(f->n, l, &s), 0);
    net_wire_flow(f->n, false);
    uint32_t failed;
    net_opt nodelay = {TCP_OPT_NODELAY, 1};
    assert_int_equal(net_setopt(f->n, c, &nodelay, 1, &failed), 0);
    assert_int_equal(net_send(f->n, c, "ab", 2), 0);
    assert_int_equal(net_send(f->n, c, "cd", 2), 0);
    net_wire_dgram d0, d1;
    tcp_seg ab = wire_seg(f, 0, &d0), cd = wire_seg(f, 1, &d1);
    assert_int_equal(cd.seq, ab.seq + 2);

    /* swap: the segments trade places, the due times stay */
    assert_int_equal(net_wire_swap(f->n, 0, 1), 0);
    net_wire_dgram e0, e1;
    assert_int_equal(wire_seg(f, 0, &e0).seq, cd.seq);
    assert_int_equal(wire_seg(f, 1, &e1).seq, ab.seq);
    assert_int_equal(e0.due_ns, d0.due_ns);
    assert_int_equal(e1.due_ns, d1.due_ns);

    /* dup: a copy right behind, same due time, its own id, same origin */
    assert_int_equal(net_wire_dup(f->n, 0), 0);
    assert_int_equal(net_wire_count(f->n), 3);
    net_wire_dgram copy;
    assert_int_equal(wire_seg(f, 1, &copy).seq, cd.seq);
    assert_int_equal(copy.due_ns, e0.due_ns);
    assert_int_not_equal(copy.packet_id, e0.packet_id);
    assert_int_equal(copy.origin_id, e0.origin_id);

    /* delay: 50 ms after its due time, behind the others */
    assert_int_equal(net_wire_delay(f->n, 0, 50 * MS), 0);
    net_wire_dgram late;
    assert_int_equal(wire_seg(f, 2, &late).seq, cd.seq);
    assert_int_equal(late.due_ns, e0.due_ns + 50 * MS);

    /* drop: gone; the rest is delivered in order, the duplicate ignored */
    assert_int_equal(net_wire_drop(f->n, 0), 0); /* the copy of "cd" */
    assert_int_equal(net_wire_count(f->n), 2);
    net_wire_flow(f->n, true);
    run_for(f, 1000 * MS);
    char buf[8];
    assert_int_equal(net_recv(f->n, s, buf, sizeof buf), 4);
    assert_memory_equal(buf, "abcd", 4);
    assert_int_equal(net_wire_swap(f->n, 0, 5), TCP_EINVAL);
}

/* A datagram for an address no stack host owns waits its turn like any
 * other, then is discarded and counted. */
static void datagram_nobody_owns_is_discarded_in_its_turn(void **state)
{
    fx *f = *state;
    connect_a(f, 0x0a000009u, 1000);
    net_wire_dgram d;
    wire_seg(f, 0, &d);
    assert_int_equal(d.to, NET_NONE);
    assert_int_equal(d.due_ns, 0); /* no link: no delay */
    assert_int_equal(net_wire_deliver(f->n, 0), 0);
    assert_int_equal(net_wire_undeliverable(f->n), 1);
    assert_int_equal(net_wire_delivered(f->n), 1);
}

/* The link's rules act at output: a dropped SYN never waits on the wire; a
 * held one waits with no due time until its rule releases it. */
static void rules_decide_at_output(void **state)
{
    fx *f = *state;
    uint32_t drop, hold;
    net_rule_opts o = {
        .action = NET_RULE_DROP, .filter = {.dir = -1, .flags = TCP_SYN, .len = -1}, .count = 1};
    assert_int_equal(net_rule_add(f->n, f->link, &o, &drop), 0);
    o.action = NET_RULE_HOLD;
    assert_int_equal(net_rule_add(f->n, f->link, &o, &hold), 0);
    listen_b(f);
    connect_a(f, B_ADDR, 1000);
    assert_int_equal(net_rule_fired(f->n, drop), 1);
    assert_int_equal(net_wire_count(f->n), 0);

    net_wire_flow(f->n, true);
    run_for(f, 1500 * MS); /* RFC 6298 §5: the SYN again after 1 s */
    assert_int_equal(net_rule_fired(f->n, hold), 1);
    net_wire_dgram d;
    assert_int_equal(wire_seg(f, 0, &d).flags, TCP_SYN);
    assert_int_equal(d.due_ns, SIM_TIME_NEVER);
    assert_int_equal(net_wire_delivered(f->n), 0);
    assert_int_equal(net_rule_release(f->n, hold), 1);
    assert_int_equal(net_wire_count(f->n), 1);
    run_for(f, 100 * MS);
    assert_int_equal(net_wire_delivered(f->n), 3); /* SYN, SYN,ACK, ACK */
    assert_int_equal(net_wire_set(f->n, false), 0);
}

/* The wire cannot be turned off with datagrams waiting. */
static void wire_off_refused_while_datagrams_wait(void **state)
{
    fx *f = *state;
    connect_a(f, B_ADDR, 1000);
    assert_int_equal(net_wire_set(f->n, false), TCP_EINVAL);
    assert_true(net_wire_on(f->n));
    assert_int_equal(net_wire_drop(f->n, 0), 0);
    assert_int_equal(net_wire_set(f->n, false), 0);
}

/* Rule 6: a halted net's wire delivers nothing and its timer stays idle
 * (no run spins on a datagram that is due); unhalted, it flows again. */
static void halted_wire_waits(void **state)
{
    fx *f = *state;
    listen_b(f);
    connect_a(f, B_ADDR, 1000);
    net_wire_flow(f->n, true);
    net_halt(f->n);
    sim_world *w = net_world(f->n);
    uint64_t events = sim_world_events(w);
    run_for(f, 500 * MS);
    assert_int_equal(net_wire_delivered(f->n), 0);
    assert_int_equal(net_wire_count(f->n), 1);
    assert_true(sim_world_events(w) - events < 10);
    net_unhalt(f->n);
    run_for(f, 100 * MS);
    assert_int_equal(net_wire_delivered(f->n), 3);
}

/* Rule 2 for a caller that drives a stack itself: its calls are outside the
 * bracket, so the host's timer follows only after net_host_sync. */
static void direct_stack_calls_rearm_after_sync(void **state)
{
    fx *f = *state;
    tcp_stack *st = net_host_stack(f->n, f->a);
    tcp_sock_id id;
    assert_non_null(st);
    assert_int_equal(tcp_socket(st, &id), TCP_OK);
    assert_int_equal(tcp_bind(st, id, 0), TCP_OK);
    assert_int_equal(tcp_connect(st, id, B_ADDR, PORT), TCP_OK);
    assert_int_equal(net_wire_drop(f->n, 0), 0); /* the SYN is lost */
    net_wire_flow(f->n, true);
    run_for(f, 2000 * MS);
    assert_int_equal(net_wire_count(f->n), 0); /* no timer armed: no retransmission */
    assert_int_equal(net_host_sync(f->n, f->a), 0);
    run_for(f, 10 * MS); /* the RTO is long past: the SYN goes again now */
    assert_int_equal(tcp_sock_stats(st, id)->retransmits, 1);
    assert_int_equal(net_host_crash(f->n, f->a), 0);
    assert_null(net_host_stack(f->n, f->a));
    assert_int_equal(net_host_sync(f->n, f->a), NET_EDOWN);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(wire_holds_each_datagram_until_delivered),
        T(flowing_wire_delivers_when_due),
        T(steps_by_position),
        T(datagram_nobody_owns_is_discarded_in_its_turn),
        T(rules_decide_at_output),
        T(wire_off_refused_while_datagrams_wait),
        T(halted_wire_waits),
        T(direct_stack_calls_rearm_after_sync),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
