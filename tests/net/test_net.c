/*
 * test_net — sim/net's contract, one test per numbered rule of net.h and
 * docs/net.md: record lifetime, the timer re-armed after every stack call,
 * deferred callbacks, crash and restart, rules in order, hooks, crafted
 * segments, the interface MSS, invariant checking. Two hosts A (10.0.0.1)
 * and B (10.0.0.2), one 10 ms link.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "net.h"
#include "net_int.h" /* to break a connection on purpose */
#include "tcp_check.h"
#include "tcp_conn.h" /* likewise */

#define A_ADDR 0x0a000001u
#define B_ADDR 0x0a000002u
#define MS     1000000ull
#define PORT   80u

typedef struct fx {
    net *n;
    uint32_t a, b, link;
    /* what the observer saw */
    tcp_state states[32];
    uint32_t nstates;
    uint32_t state_sock;
    int in_stack_during_on_state;
    int busy_rc; /* a user call's rc made from inside on_event */
    char note[64];
    uint32_t send_on_established; /* record to send "hi" on, or NET_NONE */
    uint32_t close_on_child;      /* listener record to close when a child is born, or NET_NONE */
    int close_rc_inside, close_rc_after; /* from on_event, from on_state (1: not called) */
    uint32_t nviolations, violation_host;
    char violation[600];
} fx;

static void on_state(void *ctx, uint32_t sock, tcp_state from, tcp_state to)
{
    (void)from;
    fx *f = ctx;
    f->in_stack_during_on_state += net_in_stack(f->n);
    if (sock == f->state_sock && f->nstates < 32)
        f->states[f->nstates++] = to;
    if (sock == f->send_on_established && to == TCP_ESTABLISHED)
        assert_int_equal(net_send(f->n, sock, "hi", 2), 0);
    if (f->close_on_child != NET_NONE && sock != f->close_on_child && to == TCP_SYN_RECEIVED &&
        f->close_rc_after == 1)
        f->close_rc_after = net_close(f->n, f->close_on_child);
}

static void on_event(void *ctx, uint32_t host, const tcp_event *ev)
{
    (void)host;
    fx *f = ctx;
    if (ev->kind == TCP_EV_STATE && f->busy_rc == 0 && f->state_sock != NET_NONE)
        f->busy_rc = net_send(f->n, f->state_sock, "x", 1);
    /* Inside the SYN's call on the listener (rebuilt from its record for
     * it, stack/tcp_ls.c): closing it here would free it under that call. */
    if (f->close_on_child != NET_NONE && ev->kind == TCP_EV_STATE && ev->parent != 0 &&
        ev->to == TCP_SYN_RECEIVED && f->close_rc_inside == 1)
        f->close_rc_inside = net_close(f->n, f->close_on_child);
}

static void on_note(void *ctx, uint64_t t, const char *text)
{
    (void)t;
    fx *f = ctx;
    strncpy(f->note, text, sizeof f->note - 1);
}

static void on_violation(void *ctx, uint32_t host, const char *report)
{
    fx *f = ctx;
    f->nviolations++;
    f->violation_host = host;
    strncpy(f->violation, report, sizeof f->violation - 1);
}

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
    f->state_sock = f->send_on_established = f->close_on_child = NET_NONE;
    f->close_rc_inside = f->close_rc_after = 1;
    net_observer obs = {.ctx = f,
                        .on_event = on_event,
                        .on_note = on_note,
                        .on_state = on_state,
                        .on_violation = on_violation};
    net_set_observer(f->n, &obs);
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
    net_listen_opts lo = {.port = PORT, .backlog = 8, .autoread = true};
    uint32_t l;
    assert_int_equal(net_listen(f->n, f->b, &lo, &l), 0);
    return l;
}

static uint32_t connect_a(fx *f, uint64_t isn)
{
    net_connect_opts co = {.raddr = B_ADDR, .rport = PORT};
    if (isn) {
        co.opts[0] = (net_opt){TCP_OPT_ISN, isn};
        co.nopts = 1;
    }
    uint32_t c;
    assert_int_equal(net_connect(f->n, f->a, &co, &c), 0);
    return c;
}

static void records_outlive_their_connections(void **state)
{
    fx *f = *state;
    uint32_t l = listen_b(f), c = connect_a(f, 0), s;
    const net_sock *first = net_sock_at(f->n, c);
    run_for(f, 100 * MS);
    assert_int_equal(net_accept(f->n, l, &s), 0);
    assert_int_equal(net_send(f->n, c, "hello", 5), 0);
    assert_int_equal(net_close(f->n, c), 0);
    run_for(f, 100 * MS);
    assert_int_equal(net_close(f->n, s), 0);
    sim_world_run(net_world(f->n));
    assert_int_equal(net_host_conns(f->n, f->a), 0);
    /* the connection is gone; its record stays, in place, through growth */
    for (uint32_t i = 0; i < 300; i++)
        connect_a(f, 0);
    const net_sock *k = net_sock_at(f->n, c);
    assert_ptr_equal(k, first);
    assert_int_equal(k->state, TCP_CLOSED);
    assert_int_equal(net_sock_stats(f->n, c)->bytes_out, 5);
    assert_int_equal(net_sock_step(k, k->ntrace - 1)->state, TCP_CLOSED);
    assert_int_equal(net_sock_at(f->n, s)->nrx, 5);
    assert_memory_equal(net_sock_at(f->n, s)->rx, "hello", 5);
}

/* Eight connections (the backlog), each sending its own count of bytes,
 * all closed: every record keeps its own counters once its connection is
 * gone (the copies are carved from the net's chunks of 1, 2, 4, then five:
 * these sixteen take five). */
static void kept_counters_are_each_records_own(void **state)
{
    fx *f = *state;
    enum { N = 8 };
    uint32_t l = listen_b(f), c[N], s[N];
    for (uint32_t i = 0; i < N; i++)
        c[i] = connect_a(f, 0);
    run_for(f, 100 * MS);
    for (uint32_t i = 0; i < N; i++) {
        assert_int_equal(net_accept(f->n, l, &s[i]), 0);
        assert_int_equal(net_send(f->n, c[i], "abcdefghijklmnop", i + 1), 0);
        assert_int_equal(net_close(f->n, c[i]), 0);
    }
    run_for(f, 100 * MS);
    for (uint32_t i = 0; i < N; i++)
        assert_int_equal(net_close(f->n, s[i]), 0);
    sim_world_run(net_world(f->n));
    assert_int_equal(net_host_conns(f->n, f->a), 0);
    for (uint32_t i = 0; i < N; i++) {
        assert_int_equal(net_sock_stats(f->n, c[i])->bytes_out, i + 1);
        assert_int_equal(net_sock_stats(f->n, s[i])->bytes_in, i + 1);
        assert_int_equal(net_sock_stats(f->n, s[i])->bytes_out, 0);
    }
}

/* The listener l accepts client c's connection, c sends "hello", and the
 * accepted socket reads it; returns the accepted socket's record. */
static uint32_t hello_delivered(fx *f, uint32_t l, uint32_t c)
{
    uint32_t s;
    run_for(f, 100 * MS);
    assert_int_equal(net_accept(f->n, l, &s), 0);
    assert_int_equal(net_send(f->n, c, "hello", 5), 0);
    run_for(f, 100 * MS);
    net_drain(f->n, s);
    return s;
}

static void records_count_without_keeping_when_told(void **state)
{
    fx *f = *state;
    net_set_keep_rx(f->n, false);
    uint32_t s = hello_delivered(f, listen_b(f), connect_a(f, 0));
    assert_int_equal(net_sock_at(f->n, s)->nrx, 5);
    assert_null(net_sock_at(f->n, s)->rx);
    assert_int_equal(net_sock_stats(f->n, s)->bytes_in, 5);
}

/* net_reserve is room, nothing else: said after hosts exist, fewer than
 * there are, or more than will come (4,096 hosts: 10 MiB, so the heap
 * reservation runs too), hosts keep their ids and a connection works. */
static void reserve_is_only_room(void **state)
{
    fx *f = *state;
    net_reserve(f->n, 1);
    net_reserve(f->n, 4096);
    uint32_t c;
    assert_int_equal(net_host_add(f->n, "C", 0x0a000003u, net_host_profile(f->n, f->a), &c), 0);
    assert_int_equal(c, 2);
    assert_int_equal(net_host_count(f->n), 3);
    uint32_t s = hello_delivered(f, listen_b(f), connect_a(f, 0));
    assert_int_equal(net_sock_at(f->n, s)->nrx, 5);
    assert_memory_equal(net_sock_at(f->n, s)->rx, "hello", 5);
}

/* Hosts of one profile share the world's one copy of it; a host of
 * another profile (here the same with one field changed) has its own, and
 * each stack runs with the values its host was given. */
static void hosts_share_one_copy_of_a_profile(void **state)
{
    fx *f = *state;
    const tcp_profile *pa = net_host_profile(f->n, f->a);
    assert_ptr_equal(pa, net_host_profile(f->n, f->b));
    tcp_profile other = *pa;
    other.mss = (uint16_t)(pa->mss - 100);
    uint32_t c, d;
    assert_int_equal(net_host_add(f->n, "C", 0x0a000003u, &other, &c), 0);
    assert_int_equal(net_host_add(f->n, "D", 0x0a000004u, pa, &d), 0);
    assert_ptr_not_equal(net_host_profile(f->n, c), pa);
    assert_int_equal(net_host_profile(f->n, c)->mss, pa->mss - 100);
    assert_ptr_equal(net_host_profile(f->n, d), pa);
    assert_int_equal(tcp_stack_profile(net_host_stack(f->n, c))->mss, pa->mss - 100);
    assert_int_equal(tcp_stack_profile(net_host_stack(f->n, d))->mss, pa->mss);
    /* the stacks read the world's copy (tcp_stack_new_shared), not their own */
    assert_ptr_equal(tcp_stack_profile(net_host_stack(f->n, d)), pa);
    assert_ptr_equal(tcp_stack_profile(net_host_stack(f->n, c)), net_host_profile(f->n, c));
}

/* The first NET_TRACE_INLINE steps live in the record, later ones in
 * `more`, holding 2, 6, 14 ...: the client's active close (RFC 9293 §3.6:
 * CLOSED SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT CLOSED) reads
 * back in order across the spill at the third step, times never going
 * back; a listener's two steps take no allocation. */
static void steps_spill_past_the_inline_ones_in_order(void **state)
{
    fx *f = *state;
    static const tcp_state want[] = {TCP_CLOSED,     TCP_SYN_SENT,  TCP_ESTABLISHED, TCP_FIN_WAIT_1,
                                     TCP_FIN_WAIT_2, TCP_TIME_WAIT, TCP_CLOSED};
    uint32_t l = listen_b(f), c = connect_a(f, 0), s;
    const net_sock *kl = net_sock_at(f->n, l), *kc = net_sock_at(f->n, c);
    assert_int_equal(kl->ntrace, 2);
    assert_int_equal(net_sock_step(kl, 1)->state, TCP_LISTEN);
    assert_null(kl->step_more);
    run_for(f, 100 * MS);
    assert_int_equal(kc->ntrace, 3); /* the third step is the first spilled */
    assert_ptr_equal(net_sock_step(kc, 2), &kc->step_more[0]);
    assert_int_equal(net_accept(f->n, l, &s), 0);
    assert_int_equal(net_close(f->n, c), 0);
    run_for(f, 100 * MS);
    assert_int_equal(net_close(f->n, s), 0);
    sim_world_run(net_world(f->n));
    assert_int_equal(kc->ntrace, sizeof want / sizeof want[0]);
    for (uint32_t i = 0; i < kc->ntrace; i++) {
        assert_int_equal(net_sock_step(kc, i)->state, want[i]);
        if (i > 0)
            assert_true(net_sock_step(kc, i)->time_ns >= net_sock_step(kc, i - 1)->time_ns);
    }
    assert_string_equal(net_step_note(f->n, net_sock_step(kc, 0)), "socket()");
}

/* Appending many steps to one record: each reads back as appended, its
 * note included, through every growth of `more` (ASan checks the room). */
static void steps_grow_without_bound_exactly(void **state)
{
    fx *f = *state;
    uint32_t c = connect_a(f, 0);
    net_sock *k = net_sock_mut(f->n, c);
    uint32_t first = k->ntrace;
    char note[16];
    for (uint32_t i = 0; i < 100; i++) {
        snprintf(note, sizeof note, "step %u", (unsigned)i);
        net_trace_append(f->n, k, 1000 + i, (tcp_state)(i % TCP_STATE_COUNT), TCP_CAUSE_TIMER,
                         note);
    }
    assert_int_equal(k->ntrace, first + 100);
    for (uint32_t i = 0; i < 100; i++) {
        const net_trace_step *st = net_sock_step(k, first + i);
        snprintf(note, sizeof note, "step %u", (unsigned)i);
        assert_int_equal(st->time_ns, 1000 + i);
        assert_int_equal(st->state, i % TCP_STATE_COUNT);
        assert_int_equal(st->cause, TCP_CAUSE_TIMER);
        assert_string_equal(net_step_note(f->n, st), note);
    }
}

/* A record's first two spilled steps take a block of the net's pool
 * (chunks of 1, 2, 4 ... 256 blocks: 300 records need nine); a trace grown past
 * it lets the block go, and the next record to spill takes that block. Every
 * trace reads back as appended throughout. */
static void spilled_pairs_come_from_the_pool_and_go_back(void **state)
{
    fx *f = *state;
    enum { N = 300 };
    uint32_t idx[N + 1];
    for (uint32_t r = 0; r < N; r++) {
        idx[r] = net_sock_record(f->n, f->a, 1000 + r, NET_NONE, TCP_CLOSED);
        for (uint32_t i = 0; i < 4; i++)
            net_trace_append(f->n, net_sock_mut(f->n, idx[r]), r * 10 + i, TCP_SYN_SENT,
                             TCP_CAUSE_USER, "");
    }
    net_sock *k0 = net_sock_mut(f->n, idx[0]), *k1 = net_sock_mut(f->n, idx[N - 1]);
    const net_trace_step *block = k1->step_more;
    assert_ptr_not_equal(k0->step_more, block);
    net_trace_append(f->n, k1, (N - 1) * 10 + 4, TCP_CLOSED, TCP_CAUSE_USER, "");
    assert_ptr_not_equal(k1->step_more, block); /* grown out of the block */
    idx[N] = net_sock_record(f->n, f->a, 1000 + N, NET_NONE, TCP_CLOSED);
    net_sock *kn = net_sock_mut(f->n, idx[N]);
    for (uint32_t i = 0; i < 3; i++)
        net_trace_append(f->n, kn, N * 10 + i, TCP_SYN_SENT, TCP_CAUSE_USER, "");
    assert_ptr_equal(kn->step_more, block); /* taken again */
    for (uint32_t r = 0; r <= N; r++) {
        const net_sock *k = net_sock_at(f->n, idx[r]);
        uint32_t want = r == N ? 3 : r == N - 1 ? 5 : 4;
        assert_int_equal(k->ntrace, want);
        for (uint32_t i = 0; i < want; i++)
            assert_int_equal(net_sock_step(k, i)->time_ns, r * 10 + i);
    }
}

/* Every host's stack reads the net's one tcp_env, each with its host as
 * ctx; hosts come from chunks and keep their addresses (their timers are
 * armed in the world's queue) while hundreds more are added; a restarted
 * stack gets the same env. */
static void hosts_share_one_env_and_never_move(void **state)
{
    fx *f = *state;
    const tcp_stack *sa = net_host_stack(f->n, f->a), *sb = net_host_stack(f->n, f->b);
    assert_ptr_equal(sa->env, sb->env);
    assert_ptr_equal(sa->env, &f->n->env);
    assert_ptr_equal(sa->ctx, net_host_at(f->n, f->a));
    assert_ptr_equal(sb->ctx, net_host_at(f->n, f->b));
    const net_host *ha = net_host_at(f->n, f->a);
    tcp_profile p = *net_host_profile(f->n, f->a);
    for (uint32_t i = 0; i < 600; i++) {
        char name[16];
        snprintf(name, sizeof name, "h%u", i);
        uint32_t id;
        assert_int_equal(net_host_add(f->n, name, 0x0b000000u + i, &p, &id), 0);
        assert_ptr_equal(net_host_stack(f->n, id)->ctx, net_host_at(f->n, id));
    }
    assert_ptr_equal(net_host_at(f->n, f->a), ha);
    for (uint32_t i = 0; i < f->n->nhosts; i++)
        assert_ptr_equal(net_host_stack(f->n, i)->env, &f->n->env);
    assert_int_equal(net_host_crash(f->n, f->a), 0);
    assert_int_equal(net_host_restart(f->n, f->a), 0);
    assert_ptr_equal(net_host_stack(f->n, f->a)->env, &f->n->env);
    assert_ptr_equal(net_host_stack(f->n, f->a)->ctx, ha);
}

/* The net keeps no table of host pointers: a host's place follows from
 * its index, through every size of chunk (4, 4, 8 ... 512, then 1024
 * each): each index finds its own host, the one its sim host and its
 * stack name, across the boundaries at 4, 8 ... 1024, 2048. */
static void a_hosts_place_follows_from_its_index(void **state)
{
    fx *f = *state;
    tcp_profile p = *net_host_profile(f->n, f->a);
    for (uint32_t i = 0; i < 2100; i++) {
        char name[16];
        snprintf(name, sizeof name, "h%u", i);
        uint32_t id;
        assert_int_equal(net_host_add(f->n, name, 0x0b000000u + i, &p, &id), 0);
    }
    for (uint32_t i = 0; i < net_host_count(f->n); i++) {
        const net_host *h = net_host_at(f->n, i);
        assert_int_equal(h->index, i);
        assert_ptr_equal(net_host_stack(f->n, i)->ctx, h);
        assert_ptr_equal(net_host_simof(h), net_host_sim(f->n, i));
        assert_int_equal(sim_host_id(net_host_sim(f->n, i)), i);
        if (i > 0 && i % 1024 != 0 && (i & (i - 1)) != 0) /* inside a chunk: the next slot */
            assert_ptr_equal(h, net_host_at(f->n, i - 1) + 1);
    }
}

/* A crash with the map moved out of the host (five listeners and a
 * child), then a restart: the new stack's ids start again at 1 and map,
 * in the host again, to new records only. The old records keep their
 * last state and steps; no event of the new stack reaches them. */
static void restart_maps_new_ids_to_new_records_only(void **state)
{
    fx *f = *state;
    const net_host *h = net_host_at(f->n, f->b);
    uint32_t old[5], child;
    for (uint32_t i = 0; i < 5; i++) {
        net_listen_opts lo = {.port = (uint16_t)(PORT + i), .backlog = 8, .autoread = true};
        assert_int_equal(net_listen(f->n, f->b, &lo, &old[i]), 0);
    }
    uint32_t c = connect_a(f, 0);
    run_for(f, 100 * MS);
    assert_int_equal(net_accept(f->n, old[0], &child), 0);
    assert_true(h->sockmap_out);
    assert_int_equal(net_host_crash(f->n, f->b), 0);
    assert_int_equal(net_host_restart(f->n, f->b), 0);
    assert_false(h->sockmap_out);
    uint32_t nold = net_sock_at(f->n, child)->ntrace, nl0 = net_sock_at(f->n, old[0])->ntrace;
    assert_int_equal(net_sock_at(f->n, child)->state, TCP_CLOSED);

    uint32_t l = listen_b(f), s;
    assert_int_equal(net_sock_at(f->n, l)->id, 1);
    assert_true(l != old[0]);
    assert_int_equal(net_abort(f->n, c), 0);
    uint32_t c2 = connect_a(f, 0);
    run_for(f, 100 * MS);
    assert_int_equal(net_accept(f->n, l, &s), 0);
    const net_sock *k = net_sock_at(f->n, s);
    assert_true(s != child);
    assert_int_equal(k->host, f->b);
    assert_int_equal(k->parent, l);
    assert_int_equal(k->state, TCP_ESTABLISHED);
    assert_int_equal(net_send(f->n, c2, "new", 3), 0);
    run_for(f, 100 * MS);
    assert_int_equal(k->nrx, 3);
    /* the old records saw nothing of it */
    assert_int_equal(net_sock_at(f->n, child)->ntrace, nold);
    assert_int_equal(net_sock_at(f->n, old[0])->ntrace, nl0);
    assert_int_equal(net_sock_at(f->n, child)->state, TCP_CLOSED);
    assert_int_equal(net_sock_at(f->n, old[0])->state, TCP_CLOSED);
    for (uint32_t i = 0; i < 5; i++) {
        const net_sock *o = net_sock_at(f->n, old[i]);
        assert_string_equal(net_step_note(f->n, net_sock_step(o, o->ntrace - 1)), "host crash");
    }
}

/* A restarted stack gives its ids out again from 1: a call on a record of
 * the crashed stack must not reach the new socket that holds its id. The
 * old record's connection is gone: every call answers TCP_EBADF, as the
 * stack does for an id it does not have, and close and abort release the
 * record all the same. */
static void calls_on_a_crashed_record_never_reach_a_new_socket(void **state)
{
    fx *f = *state;
    uint32_t l = listen_b(f);
    uint32_t s = hello_delivered(f, l, connect_a(f, 0));
    assert_int_equal(net_host_crash(f->n, f->b), 0);
    assert_int_equal(net_host_restart(f->n, f->b), 0);
    uint32_t l2 = listen_b(f);
    uint32_t s2 = hello_delivered(f, l2, connect_a(f, 0));
    assert_int_equal(net_sock_at(f->n, l2)->id, net_sock_at(f->n, l)->id);
    assert_int_equal(net_sock_at(f->n, s2)->id, net_sock_at(f->n, s)->id);
    uint64_t out = net_sock_stats(f->n, s2)->bytes_out;
    char buf[8];
    assert_int_equal(net_send(f->n, s, "x", 1), TCP_EBADF);
    assert_int_equal(net_send_now(f->n, s, "x", 1), TCP_EBADF);
    assert_int_equal(net_recv(f->n, s, buf, sizeof buf), TCP_EBADF);
    net_opt o = {TCP_OPT_NODELAY, 1};
    uint32_t failed;
    assert_int_equal(net_setopt(f->n, s, &o, 1, &failed), TCP_EBADF);
    assert_int_equal(net_shutdown_read(f->n, s), TCP_EBADF);
    assert_int_equal(net_shutdown(f->n, s), TCP_EBADF);
    assert_int_equal(net_connect_sock(f->n, s, B_ADDR, PORT), TCP_EBADF);
    int err = 1;
    assert_int_equal(net_sock_take_error(f->n, s, &err), TCP_EBADF);
    assert_int_equal(err, 0);
    connect_a(f, 0);
    run_for(f, 100 * MS);
    uint32_t got;
    assert_int_equal(net_accept(f->n, l, &got), TCP_EBADF);
    assert_int_equal(net_close(f->n, l), TCP_EBADF);
    assert_true(net_sock_at(f->n, l)->released);
    assert_int_equal(net_abort(f->n, s), TCP_EBADF);
    assert_true(net_sock_at(f->n, s)->released);
    run_for(f, 100 * MS);
    /* the new sockets saw none of it */
    assert_int_equal(net_sock_stats(f->n, s2)->bytes_out, out);
    assert_int_equal(net_sock_at(f->n, s2)->state, TCP_ESTABLISHED);
    assert_false(net_sock_at(f->n, s2)->rd_shut);
    assert_int_equal(net_sock_at(f->n, l2)->state, TCP_LISTEN);
    assert_int_equal(net_accept(f->n, l2, &got), 0);
}

/* A host's first three sockets (stack ids 1-3) are mapped to their records
 * in the host itself; the fourth moves the map out, keeping the three. */
static void a_host_maps_its_first_sockets_in_place(void **state)
{
    fx *f = *state;
    const net_host *h = net_host_at(f->n, f->b);
    uint32_t rec[4];
    for (uint32_t i = 0; i < 4; i++) {
        net_listen_opts lo = {.port = (uint16_t)(PORT + i), .backlog = 8};
        assert_int_equal(net_listen(f->n, f->b, &lo, &rec[i]), 0);
        assert_int_equal(net_sock_at(f->n, rec[i])->id, i + 1);
        if (i < 3)
            assert_false(h->sockmap_out);
    }
    assert_true(h->sockmap_out);
    assert_int_equal(net_host_sock(h, 0), NET_NONE);
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(net_host_sock(h, i + 1), rec[i]);
    assert_int_equal(net_host_sock(h, 5), NET_NONE);
    assert_int_equal(net_host_sock(h, 1000), NET_NONE);
}

/* A step's note is the world's one copy: the listener's and the client's
 * first steps ("socket()") name the same id and so the same string. */
static void step_notes_are_kept_once(void **state)
{
    fx *f = *state;
    uint32_t l = listen_b(f), c = connect_a(f, 0);
    const net_sock *kl = net_sock_at(f->n, l), *kc = net_sock_at(f->n, c);
    assert_true(kl->ntrace >= 1 && kc->ntrace >= 1);
    assert_string_equal(net_step_note(f->n, net_sock_step(kl, 0)), "socket()");
    assert_int_equal(net_sock_step(kl, 0)->note, net_sock_step(kc, 0)->note);
    assert_ptr_equal(net_step_note(f->n, net_sock_step(kl, 0)),
                     net_step_note(f->n, net_sock_step(kc, 0)));
    for (uint32_t i = 0; i < kc->ntrace; i++)
        assert_non_null(net_step_note(f->n, net_sock_step(kc, i)));
}

/* A connects to B with a 10-byte send buffer; B's accepted socket reads
 * everything as it arrives. */
static void small_sndbuf_pair(fx *f, uint32_t *c, uint32_t *s)
{
    uint32_t l = listen_b(f);
    net_connect_opts co = {.raddr = B_ADDR, .rport = PORT};
    co.opts[0] = (net_opt){TCP_OPT_SNDBUF, 10};
    co.nopts = 1;
    assert_int_equal(net_connect(f->n, f->a, &co, c), 0);
    run_for(f, 100 * MS);
    assert_int_equal(net_accept(f->n, l, s), 0);
    net_set_autoread(f->n, *s, true);
}

/* The pattern is 'a'..'z' by position in the queue; bytes given after it
 * follow it, whether or not the stack has taken the pattern yet. */
static void pattern_then_data_arrive_in_order(void **state)
{
    fx *f = *state;
    uint32_t c, s;
    small_sndbuf_pair(f, &c, &s);
    assert_int_equal(net_send(f->n, c, NULL, 30), 0);
    assert_null(net_sock_at(f->n, c)->txq->tx); /* only the pattern: a count */
    assert_int_equal(net_send(f->n, c, "XY", 2), 0);
    run_for(f, 1000 * MS);
    const char *want = "abcdefghijklmnopqrstuvwxyzabcdXY";
    assert_int_equal(net_sock_at(f->n, s)->nrx, strlen(want));
    assert_memory_equal(net_sock_at(f->n, s)->rx, want, strlen(want));
}

/* A send the stack takes whole leaves no queue behind (txq NULL: most
 * records never keep one), yet the queue's position goes on as if it had
 * stayed: the pattern is 'a'..'z' by position in the queue (net.h), so the
 * pattern sent after "hello" starts at its sixth letter, and the next one
 * where that one stopped. */
static void a_queue_taken_whole_goes_and_its_position_stays(void **state)
{
    fx *f = *state;
    uint32_t c = connect_a(f, 0), s = hello_delivered(f, listen_b(f), c);
    assert_null(net_sock_at(f->n, c)->txq);
    assert_int_equal(net_send(f->n, c, NULL, 10), 0);
    assert_null(net_sock_at(f->n, c)->txq);
    assert_int_equal(net_send(f->n, c, NULL, 30), 0);
    assert_null(net_sock_at(f->n, c)->txq);
    assert_int_equal(net_send_now(f->n, c, "XY", 2), 2);
    assert_null(net_sock_at(f->n, c)->txq);
    assert_int_equal(net_send(f->n, c, NULL, 3), 0);
    run_for(f, 1000 * MS);
    net_drain(f->n, s);
    const char *want = "hello"
                       "fghijklmno"
                       "pqrstuvwxyzabcdefghijklmnopqrs"
                       "XY"
                       "vwx";
    assert_int_equal(net_sock_at(f->n, s)->nrx, strlen(want));
    assert_memory_equal(net_sock_at(f->n, s)->rx, want, strlen(want));
}

/* A queue that held bytes and was taken whole leaves the pattern queued
 * next kept as bytes, as when the queue stayed (net_tx_queue: the pattern
 * behind bytes is bytes), at any position, 0 included (26 bytes sent). */
static void the_pattern_behind_bytes_taken_whole_is_kept_as_bytes(void **state)
{
    fx *f = *state;
    uint32_t l = listen_b(f), c = connect_a(f, 0), s;
    run_for(f, 100 * MS);
    assert_int_equal(net_accept(f->n, l, &s), 0);
    const char *abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    assert_int_equal(net_send(f->n, c, abc, 26), 0);
    assert_null(net_sock_at(f->n, c)->txq); /* taken whole */
    assert_int_equal(net_send(f->n, c, NULL, 300000), 0);
    assert_non_null(net_sock_at(f->n, c)->txq); /* more than the send buffer */
    assert_non_null(net_sock_at(f->n, c)->txq->tx);
    run_for(f, 60000 * MS);
    net_drain(f->n, s);
    const net_sock *k = net_sock_at(f->n, s);
    assert_int_equal(k->nrx, 26 + 300000);
    assert_memory_equal(k->rx, abc, 26);
    for (size_t i = 26; i < k->nrx; i++)
        if (k->rx[i] != (char)('a' + i % 26))
            fail_msg("byte %zu is %c", i, k->rx[i]);
}

/* Whether c's stack holds its send queue as a count of the pattern
 * (tcp_send_pattern onto an empty queue) rather than as bytes (tcp_send). */
static bool stack_queue_is_pattern(fx *f, uint32_t c)
{
    const net_sock *k = net_sock_at(f->n, c);
    const tcp_conn *tc = tcp_stack_find(net_host_at(f->n, k->host)->stack, k->id);
    assert_non_null(tc);
    return tc->snd_pat;
}

/* An empty send of bytes turns the pattern queued after it into bytes
 * only where a queue would have held some (net_tx_queue grows tx to its
 * position): not at position 0, where the queue stays a count, but past
 * it, at a multiple of 26 too. The stack gets the same call either way as
 * when the queue was kept whole. */
static void an_empty_send_of_bytes_keeps_the_pattern_as_it_was(void **state)
{
    fx *f = *state;
    uint32_t l = listen_b(f), c = connect_a(f, 0), s;
    run_for(f, 100 * MS);
    assert_int_equal(net_accept(f->n, l, &s), 0);
    assert_int_equal(net_send(f->n, c, "", 0), 0); /* at position 0: no bytes */
    assert_int_equal(net_send(f->n, c, NULL, 30), 0);
    assert_true(stack_queue_is_pattern(f, c));
    run_for(f, 1000 * MS); /* all acknowledged: the stack's queue empty */
    /* 30 + 22 = 52: position 2 * 26, whose phase is 0 again */
    assert_int_equal(net_send(f->n, c, NULL, 22), 0);
    run_for(f, 1000 * MS);
    assert_int_equal(net_send(f->n, c, "", 0), 0); /* past 0: bytes from now on */
    assert_int_equal(net_send(f->n, c, NULL, 30), 0);
    assert_false(stack_queue_is_pattern(f, c));
    run_for(f, 1000 * MS);
    net_drain(f->n, s);
    const net_sock *k = net_sock_at(f->n, s);
    assert_int_equal(k->nrx, 82);
    for (size_t i = 0; i < k->nrx; i++)
        if (k->rx[i] != (char)('a' + i % 26))
            fail_msg("byte %zu is %c", i, k->rx[i]);
}

/* The record keeps no room counts (three records a connection pair):
 * rx's room is in front of its bytes, so bytes kept after the net stopped
 * and started keeping again (nrx counted on meanwhile) grow rx by what it
 * holds, not by nrx; ASan reports a write past the room otherwise. */
static void rx_room_is_the_buffers_own(void **state)
{
    fx *f = *state;
    if (sizeof(void *) == 8)
        assert_true(sizeof(net_sock) <= 104);
    uint32_t c = connect_a(f, 0), s = hello_delivered(f, listen_b(f), c);
    net_set_keep_rx(f->n, false);
    assert_int_equal(net_send(f->n, c, "abc", 3), 0);
    run_for(f, 100 * MS);
    net_drain(f->n, s);
    net_set_keep_rx(f->n, true);
    char big[300];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('A' + i % 23);
    assert_int_equal(net_send(f->n, c, big, sizeof big), 0);
    run_for(f, 100 * MS);
    net_drain(f->n, s);
    const net_sock *k = net_sock_at(f->n, s);
    assert_int_equal(k->nrx, 5 + 3 + sizeof big);
    assert_memory_equal(k->rx, "hello", 5);
    assert_memory_equal(k->rx + 8, big, sizeof big);
}

/* tx's room is implied by ntx: bytes queued behind a small send buffer in
 * many sizes, the pattern among them, arrive whole and in order. */
static void tx_room_follows_its_count(void **state)
{
    fx *f = *state;
    uint32_t c, s;
    small_sndbuf_pair(f, &c, &s);
    char want[2048];
    size_t nwant = 0;
    static const size_t sizes[] = {1, 7, 8, 9, 20, 3, 64, 200, 1, 513, 17};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        char chunk[600];
        for (size_t j = 0; j < sizes[i]; j++)
            chunk[j] = (char)('0' + (i + j) % 10);
        assert_int_equal(net_send(f->n, c, chunk, sizes[i]), 0);
        memcpy(want + nwant, chunk, sizes[i]);
        nwant += sizes[i];
        if (i == 4) { /* the pattern behind data: kept as bytes */
            assert_int_equal(net_send(f->n, c, NULL, 30), 0);
            for (size_t j = 0; j < 30; j++)
                want[nwant + j] = (char)('a' + (nwant + j) % 26);
            nwant += 30;
        }
        if (i == 2) /* the queue may empty and tx go, then come back */
            run_for(f, 50 * MS);
    }
    assert_non_null(net_sock_at(f->n, c)->txq->tx);
    run_for(f, 60000 * MS);                 /* ten bytes a round trip, a delayed ACK each */
    assert_null(net_sock_at(f->n, c)->txq); /* all taken: freed */
    const net_sock *k = net_sock_at(f->n, s);
    assert_int_equal(k->nrx, nwant);
    assert_memory_equal(k->rx, want, nwant);
}

/* A host's numbers are the stream "tcp:NAME" of the world's seed, in
 * order (sim_rng.h), whether the host replays the stream from its seed
 * (its first few draws, the stream's state not kept) or keeps its state
 * (later ones). The stack drew two at its start (its ISN key). */
static void host_numbers_are_its_stream_replayed_or_kept(void **state)
{
    fx *f = *state;
    if (sizeof(void *) == 8)
        assert_true(sizeof(net_host) <= 88);
    net_host *h = net_host_at(f->n, f->a);
    sim_rng ref;
    sim_rng_seed(&ref, 1, "tcp:A");
    sim_rng_next(&ref);
    sim_rng_next(&ref);
    assert_int_equal(h->rng_draws, 2);
    for (int i = 0; i < 40; i++) {
        assert_int_equal(f->n->env.random(h), sim_rng_next(&ref));
        assert_true((h->rng_draws == NET_RNG_REPLAY) == (i >= 5)); /* kept from the 8th draw */
        assert_true((h->rare != NULL) == (i >= 5));
    }
    /* a crash and a restart go on with the stream, not from its start */
    assert_int_equal(net_host_crash(f->n, f->a), 0);
    assert_int_equal(net_host_restart(f->n, f->a), 0);
    sim_rng_next(&ref);
    sim_rng_next(&ref);
    assert_int_equal(f->n->env.random(h), sim_rng_next(&ref));
    /* the other host's stream is untouched by A's draws */
    net_host *hb = net_host_at(f->n, f->b);
    sim_rng_seed(&ref, 1, "tcp:B");
    sim_rng_next(&ref);
    sim_rng_next(&ref);
    assert_int_equal(f->n->env.random(hb), sim_rng_next(&ref));
    assert_int_equal(hb->rng_draws, 3);
    assert_null(hb->rare);
}

static void timer_follows_the_stacks_deadline(void **state)
{
    fx *f = *state;
    sim_link_set_up(sim_link_by_id(net_world(f->n), f->link), 0, false);
    uint32_t c = connect_a(f, 0);
    uint64_t rto = net_host_profile(f->n, f->a)->rto_initial_ns;
    run_for(f, rto - 1);
    assert_int_equal(net_sock_stats(f->n, c)->retransmits, 0);
    run_for(f, 1); /* the SYN's timer was armed when connect returned */
    assert_int_equal(net_sock_stats(f->n, c)->retransmits, 1);
}

static void on_state_runs_after_the_stack_call_in_order(void **state)
{
    fx *f = *state;
    uint32_t l = listen_b(f), c = connect_a(f, 0);
    f->state_sock = c;
    f->busy_rc = 1; /* this test does not probe on_event */
    f->send_on_established = c;
    run_for(f, 100 * MS);
    assert_int_equal(f->in_stack_during_on_state, 0);
    /* CLOSED -> SYN_SENT came from net_connect, before state_sock was set */
    assert_int_equal(f->nstates, 1);
    assert_int_equal(f->states[0], TCP_ESTABLISHED);
    uint32_t s;
    assert_int_equal(net_accept(f->n, l, &s), 0);
    assert_int_equal(net_sock_at(f->n, s)->nrx, 2); /* sent from inside on_state */
}

static void user_call_from_inside_a_stack_call_is_refused(void **state)
{
    fx *f = *state;
    listen_b(f);
    f->state_sock = connect_a(f, 0);
    f->busy_rc = 0;
    run_for(f, 100 * MS);
    assert_int_equal(f->busy_rc, NET_EBUSY);
    assert_int_equal(net_sock_at(f->n, f->state_sock)->state, TCP_ESTABLISHED);
}

/* A listener's first child is born inside the call that brings the SYN
 * to the listener; a close of the listener from on_event there is
 * refused, and from on_state (after that call) closes it once: it takes
 * its embryonic child with it (silently, close_listener in
 * stack/tcp_user.c), the connecting end, which had the child's SYN,ACK,
 * is reset by the ACK that meets no connection (RFC 9293 §3.10.7.1), and the
 * stack holds nothing (the sanitizers' build checks nothing was freed
 * twice). */
static void a_listener_closed_by_a_callback_on_its_first_child_is_freed_once(void **state)
{
    fx *f = *state;
    net_set_check(f->n, true);
    uint32_t l = listen_b(f);
    f->close_on_child = l;
    uint32_t c = connect_a(f, 0);
    run_for(f, 100 * MS);
    assert_int_equal(f->close_rc_inside, NET_EBUSY);
    assert_int_equal(f->close_rc_after, 0);
    assert_int_equal(net_sock_at(f->n, l)->state, TCP_CLOSED);
    assert_int_equal(net_host_conns(f->n, f->b), 0);
    run_for(f, 10000 * MS);
    assert_int_equal(net_sock_at(f->n, c)->state, TCP_CLOSED);
    assert_int_equal(net_sock_at(f->n, c)->error, TCP_ECONNRESET);
    assert_int_equal(net_host_conns(f->n, f->b), 0);
    assert_int_equal(f->nviolations, 0);
}

static void crash_closes_live_sockets_and_restart_starts_fresh(void **state)
{
    fx *f = *state;
    uint32_t l = listen_b(f), s;
    uint32_t c = connect_a(f, 0);
    run_for(f, 100 * MS);
    assert_int_equal(net_accept(f->n, l, &s), 0);
    assert_int_equal(net_send(f->n, c, "hello", 5), 0);
    run_for(f, 100 * MS);
    uint64_t segs_in = net_sock_stats(f->n, s)->segs_in;
    assert_true(segs_in >= 2); /* the handshake's last ACK, the data */
    assert_int_equal(net_host_crash(f->n, f->b), 0);
    /* the counters went with the stack: the record kept them first */
    assert_int_equal(net_sock_stats(f->n, s)->segs_in, segs_in);
    assert_int_equal(net_sock_stats(f->n, s)->bytes_in, 5);
    assert_string_equal(f->note, "B crashed");
    assert_false(net_host_up(f->n, f->b));
    assert_int_equal(net_host_crash(f->n, f->b), NET_EDOWN);
    const net_sock *k = net_sock_at(f->n, s);
    assert_int_equal(k->state, TCP_CLOSED);
    assert_string_equal(net_step_note(f->n, net_sock_step(k, k->ntrace - 1)), "host crash");
    assert_int_equal(net_sock_step(k, k->ntrace - 1)->cause, TCP_CAUSE_USER);
    assert_int_equal(net_send(f->n, s, "x", 1), NET_EDOWN);
    assert_int_equal(net_host_restart(f->n, f->b), 0);
    assert_string_equal(f->note, "B restarted");
    assert_true(net_host_up(f->n, f->b));
    assert_int_equal(net_host_conns(f->n, f->b), 0);
}

static void rules_act_in_order_on_the_nth_match(void **state)
{
    fx *f = *state;
    net_rule_opts second = {.action = NET_RULE_DROP,
                            .filter = {.dir = 0, .flags = TCP_SYN, .exact = true, .len = -1},
                            .skip = 1,
                            .count = 1};
    net_rule_opts first = second;
    first.skip = 0;
    uint32_t r0, r1;
    assert_int_equal(net_rule_add(f->n, f->link, &second, &r0), 0);
    assert_int_equal(net_rule_add(f->n, f->link, &first, &r1), 0);
    listen_b(f);
    uint32_t c = connect_a(f, 0);
    sim_world_run_until_time(net_world(f->n), 10000 * MS);
    /* SYN 1: r0 lets it pass (skip), r1 drops it; SYN 2: r0 drops it; SYN 3 passes */
    assert_int_equal(net_rule_fired(f->n, r0), 1);
    assert_int_equal(net_rule_fired(f->n, r1), 1);
    assert_int_equal(net_sock_stats(f->n, c)->retransmits, 2);
    assert_int_equal(net_sock_at(f->n, c)->state, TCP_ESTABLISHED);
}

/* A `last` rule added first still comes after a plain one added later:
 * SYN 1 is the plain rule's (the last rule does not see it), so the last
 * rule's first SYN is SYN 2. */
static void last_rules_see_only_what_the_others_let_pass(void **state)
{
    fx *f = *state;
    net_rule_opts last = {.action = NET_RULE_DROP,
                          .filter = {.dir = 0, .flags = TCP_SYN, .exact = true, .len = -1},
                          .count = 1,
                          .last = true};
    net_rule_opts plain = last;
    plain.last = false;
    uint32_t r0, r1;
    assert_int_equal(net_rule_add(f->n, f->link, &last, &r0), 0);
    assert_int_equal(net_rule_add(f->n, f->link, &plain, &r1), 0);
    listen_b(f);
    uint32_t c = connect_a(f, 0);
    run_for(f, 100 * MS);
    assert_int_equal(net_rule_fired(f->n, r1), 1);
    assert_int_equal(net_rule_fired(f->n, r0), 0);
    sim_world_run_until_time(net_world(f->n), 10000 * MS);
    assert_int_equal(net_rule_fired(f->n, r0), 1);
    assert_int_equal(net_sock_stats(f->n, c)->retransmits, 2);
    assert_int_equal(net_sock_at(f->n, c)->state, TCP_ESTABLISHED);
}

typedef struct after_seen {
    fx *f;
    uint32_t calls, sock;
    int close_rc;
    tcp_state first_state;
} after_seen;

static void note_after(void *ctx)
{
    after_seen *a = ctx;
    if (++a->calls == 5) { /* the first step of the run: the record exists */
        a->first_state = net_sock_at(a->f->n, a->sock)->state;
        a->close_rc = net_close(a->f->n, a->sock); /* refused: only queries here */
    }
}

/* The after-step callback runs once per outermost stack call, after it:
 * a user call's (socket(), then listen() or connect()), every arrival and
 * every timer; inside it a user call is refused. */
static void after_runs_once_per_step_and_only_looks(void **state)
{
    fx *f = *state;
    after_seen a = {.f = f, .close_rc = 1};
    net_set_after(f->n, note_after, &a);
    listen_b(f);
    uint32_t c = connect_a(f, 0);
    a.sock = c;
    assert_int_equal(a.calls, 4); /* socket and listen; socket and connect */
    run_for(f, 1000 * MS);
    assert_int_equal(a.close_rc, NET_EBUSY);
    assert_int_equal(a.first_state, TCP_SYN_SENT); /* after the SYN reached B */
    /* SYN at B, SYN,ACK at A, ACK at B: three more steps at least */
    assert_true(a.calls >= 5);
    assert_int_equal(net_sock_at(f->n, c)->state, TCP_ESTABLISHED);
    uint32_t before = a.calls;
    net_set_after(f->n, NULL, NULL);
    assert_int_equal(net_close(f->n, c), 0);
    run_for(f, 1000 * MS);
    assert_int_equal(a.calls, before);
}

static sim_fault_verdict count_hook(void *ctx, uint32_t rule, const net_seg_view *v)
{
    (void)rule;
    uint32_t *seen = ctx;
    (*seen)++;
    assert_int_equal(v->dir, 1);
    return (sim_fault_verdict){(v->seg->flags & TCP_SYN) ? SIM_FAULT_DROP : SIM_FAULT_PASS, 0, 0};
}

static void hook_decides_for_every_matching_segment(void **state)
{
    fx *f = *state;
    uint32_t seen = 0;
    net_rule_opts o = {.action = NET_RULE_HOOK,
                       .filter = {.dir = 1, .len = -1},
                       .count = UINT32_MAX,
                       .hook = count_hook,
                       .ctx = &seen};
    assert_int_equal(net_rule_add(f->n, f->link, &o, NULL), 0);
    uint32_t l = listen_b(f);
    connect_a(f, 0);
    run_for(f, 500 * MS);
    /* B's SYN,ACK is dropped every time: B retransmits it, A its SYN */
    const sim_link_stats st = sim_link_stats_get(sim_link_by_id(net_world(f->n), f->link), 1);
    assert_true(seen >= 1);
    assert_int_equal(st.dropped_fault, seen);
    uint32_t s;
    assert_int_equal(net_accept(f->n, l, &s), TCP_EAGAIN);
}

typedef struct probe_seen {
    uint32_t decided, events, first_drop;
} probe_seen;

static sim_fault_verdict probe_decide(void *ctx, const net_seg_view *v)
{
    probe_seen *p = ctx;
    (void)v;
    p->decided++;
    if (p->decided == p->first_drop)
        return (sim_fault_verdict){SIM_FAULT_DROP, 0, 0};
    return (sim_fault_verdict){SIM_FAULT_PASS, 0, 0};
}

static void probe_event(void *ctx, uint32_t host, const tcp_event *ev)
{
    (void)host;
    (void)ev;
    ((probe_seen *)ctx)->events++;
}

/* Rule 8: the probe decides only for segments no rule acted on. */
static void probe_decides_after_the_rules(void **state)
{
    fx *f = *state;
    probe_seen seen = {0, 0, 1};
    net_rule_opts o = {.action = NET_RULE_DROP, .filter = {.dir = 0, .len = -1}, .count = 1};
    assert_int_equal(net_rule_add(f->n, f->link, &o, NULL), 0);
    net_probe pr = {&seen, probe_decide, probe_event};
    net_set_probe(f->n, &pr);
    listen_b(f);
    uint32_t c = connect_a(f, 0);
    run_for(f, 5000 * MS);
    /* The rule drops the first SYN (the probe never sees it); the probe
     * drops the second, A's first retransmission; the third gets through. */
    const sim_link_stats st = sim_link_stats_get(sim_link_by_id(net_world(f->n), f->link), 0);
    assert_int_equal(st.dropped_fault, 2);
    assert_true(seen.decided >= 3);
    assert_true(seen.events > 0);
    assert_int_equal(net_sock_at(f->n, c)->state, TCP_ESTABLISHED);
}

static void count_tcb(void *ctx, uint32_t host, const tcp_event *ev)
{
    (void)host;
    *(uint32_t *)ctx += ev->kind == TCP_EV_TCB;
}

/* The stacks build TCB events exactly while an observer's or a probe's
 * on_event can see them, whichever order the two are set and cleared in
 * (a setting that leaves that unchanged walks no host). */
static void tcb_events_follow_observer_and_probe(void **state)
{
    fx *f = *state;
    uint32_t by_probe = 0, by_obs = 0;
    net_probe pr = {.ctx = &by_probe, .on_event = count_tcb};
    net_set_probe(f->n, &pr);
    net_observer quiet = {0};
    net_set_observer(f->n, &quiet); /* the probe still wants them */
    uint32_t l = listen_b(f);
    connect_a(f, 0);
    run_for(f, 100 * MS);
    uint32_t seen = by_probe;
    assert_true(seen > 0);
    net_set_probe(f->n, NULL); /* nobody wants them: off */
    net_observer obs = {.ctx = &by_obs, .on_event = count_tcb};
    net_set_observer(f->n, &obs); /* on again */
    net_set_probe(f->n, &pr);     /* both: no change */
    uint32_t s;
    assert_int_equal(net_accept(f->n, l, &s), 0);
    assert_int_equal(net_send(f->n, s, "x", 1), 0);
    run_for(f, 100 * MS);
    assert_true(by_obs > 0);
    assert_true(by_probe > seen);
}

typedef struct tcb_count {
    uint32_t host, n; /* TCB events from `host` */
} tcb_count;

static void count_tcb_of(void *ctx, uint32_t host, const tcp_event *ev)
{
    tcb_count *c = ctx;
    c->n += host == c->host && ev->kind == TCP_EV_TCB;
}

/* Whether a stack builds TCB events is settled for every host, old or
 * added later, each time the observer or the probe changes whether anyone
 * can see them: a host added after the observer is set builds them as the
 * others do, and one added while no one wants them builds none. */
static void hosts_added_later_follow_whether_tcb_events_are_wanted(void **state)
{
    fx *f = *state; /* the fixture's observer has an on_event */
    const tcp_profile *p = tcp_profile_find("rfc9293");
    uint32_t c, d, link;
    assert_int_equal(net_host_add(f->n, "C", 0x0a000003u, p, &c), 0);
    assert_false(net_host_at(f->n, c)->stack->no_tcb);
    net_observer quiet = {0};
    net_set_observer(f->n, &quiet); /* no one wants them: every stack off */
    assert_int_equal(net_host_add(f->n, "D", 0x0a000004u, p, &d), 0);
    for (uint32_t h = 0; h < 4; h++)
        assert_true(net_host_at(f->n, h)->stack->no_tcb);
    tcb_count seen = {c, 0};
    net_probe pr = {.ctx = &seen, .on_event = count_tcb_of};
    net_set_probe(f->n, &pr); /* wanted again: every stack on, D's too */
    for (uint32_t h = 0; h < 4; h++)
        assert_false(net_host_at(f->n, h)->stack->no_tcb);
    sim_link_params lp;
    sim_link_params_default(&lp);
    assert_int_equal(net_link_add(f->n, c, f->b, &lp, &lp, &link), 0);
    listen_b(f);
    net_connect_opts co = {.raddr = B_ADDR, .rport = PORT};
    uint32_t k;
    assert_int_equal(net_connect(f->n, c, &co, &k), 0);
    run_for(f, 100 * MS);
    assert_int_equal(net_sock_at(f->n, k)->state, TCP_ESTABLISHED);
    assert_true(seen.n > 0);
}

static void inject_sends_a_crafted_segment(void **state)
{
    fx *f = *state;
    uint32_t l = listen_b(f), c = connect_a(f, 1000), s;
    run_for(f, 100 * MS);
    assert_int_equal(net_accept(f->n, l, &s), 0);
    net_sock_ports(f->n, c);
    const net_sock *k = net_sock_at(f->n, c);
    tcp_seg seg = {.src_addr = A_ADDR,
                   .dst_addr = B_ADDR,
                   .src_port = k->lport,
                   .dst_port = PORT,
                   .seq = 1001, /* RCV.NXT at B: an acceptable RST (RFC 9293 §3.10.7.4) */
                   .flags = TCP_RST};
    tcp_seg big = seg;
    big.len = NET_INJECT_DATA_MAX + 1;
    assert_int_equal(net_inject(f->n, f->link, 0, &big), NET_ETOOBIG);
    tcp_seg noports = seg;
    noports.src_port = 0;
    assert_int_equal(net_inject(f->n, f->link, 0, &noports), NET_ENOPORTS);
    assert_int_equal(net_inject(f->n, f->link, 0, &seg), 0);
    run_for(f, 100 * MS);
    const net_sock *b = net_sock_at(f->n, s);
    assert_int_equal(b->state, TCP_CLOSED);
    assert_int_equal(net_sock_step(b, b->ntrace - 1)->cause, TCP_CAUSE_SEGMENT);
}

/* The datagram a hook saw last, and its parsed segment. */
typedef struct seen_dgram {
    uint8_t bytes[256];
    uint32_t len;
    tcp_seg seg;
    uint32_t count;
} seen_dgram;

static sim_fault_verdict record_dgram(void *ctx, uint32_t rule, const net_seg_view *v)
{
    (void)rule;
    seen_dgram *d = ctx;
    d->len = v->packet->len;
    memcpy(d->bytes, v->packet->data, d->len < sizeof d->bytes ? d->len : sizeof d->bytes);
    d->seg = *v->seg;
    d->count++;
    return (sim_fault_verdict){SIM_FAULT_PASS, 0, 0};
}

/* RFC 9293 §3.1: options follow the 20-byte header in the order given, the
 * header ends on a 32-bit boundary (padding of zeros), the data offset
 * counts 32-bit words; the datagram is one IPv4 datagram (RFC 791: total
 * length 16 bits). */
static void inject_opts_writes_the_bytes_given_and_pads_them(void **state)
{
    fx *f = *state;
    seen_dgram d = {.count = 0};
    net_rule_opts o = {.action = NET_RULE_HOOK,
                       .filter = {.dir = 0, .len = -1},
                       .count = UINT32_MAX,
                       .hook = record_dgram,
                       .ctx = &d};
    assert_int_equal(net_rule_add(f->n, f->link, &o, NULL), 0);
    tcp_seg seg = {.src_addr = A_ADDR,
                   .dst_addr = B_ADDR,
                   .src_port = 4000,
                   .dst_port = PORT,
                   .seq = 7,
                   .flags = TCP_SYN,
                   .wnd = 1000,
                   .payload = (const uint8_t *)"abc",
                   .len = 3};
    static const uint8_t ws[] = {3, 3, 7}; /* window scale 7 (RFC 7323 §2.2) */
    assert_int_equal(net_inject_opts(f->n, f->link, 0, &seg, ws, sizeof ws), 0);
    assert_int_equal(d.count, 1);
    assert_int_equal(d.len, 20 + 24 + 3);
    assert_int_equal(d.bytes[2] << 8 | d.bytes[3], 47); /* IPv4 total length */
    assert_int_equal(d.bytes[6], 0x40);                 /* DF, as the stack's own */
    assert_int_equal(d.bytes[20 + 12] >> 4, 6);         /* 24 bytes of TCP header */
    static const uint8_t opts[] = {3, 3, 7, 0};
    assert_memory_equal(d.bytes + 40, opts, 4);
    assert_memory_equal(d.bytes + 44, "abc", 3);
    assert_true(d.seg.has_wscale); /* it parsed: both checksums hold */
    assert_int_equal(d.seg.wscale, 7);
    assert_int_equal(d.seg.len, 3);

    uint8_t big[TCP_OPT_MAX + 1] = {0};
    assert_int_equal(net_inject_opts(f->n, f->link, 0, &seg, big, sizeof big), NET_ETOOBIG);
    seg.payload = NULL;
    seg.len = 65535 - 40 - 4 + 1; /* one byte more than the datagram holds with 4 of options */
    assert_int_equal(net_inject_opts(f->n, f->link, 0, &seg, ws, sizeof ws), NET_ETOOBIG);
    seg.len = 0;
    seg.src_port = 0;
    assert_int_equal(net_inject_opts(f->n, f->link, 0, &seg, NULL, 0), NET_ENOPORTS);
    assert_int_equal(d.count, 1);
}

static void filter_matches_seq_ack_and_a_time_window(void **state)
{
    (void)state;
    tcp_seg seg = {.seq = 100, .ack = 200, .flags = TCP_ACK};
    net_filter f = {.dir = -1, .len = -1};
    assert_true(net_filter_matches(&f, 0, &seg, 5));
    f.has_seq = true, f.seq = 100;
    assert_true(net_filter_matches(&f, 0, &seg, 5));
    f.seq = 101;
    assert_false(net_filter_matches(&f, 0, &seg, 5));
    f.has_seq = false, f.has_ack = true, f.ack = 200;
    assert_true(net_filter_matches(&f, 0, &seg, 5));
    seg.flags = TCP_SYN; /* RFC 9293 §3.1: no ACK bit, no acknowledgment number */
    assert_false(net_filter_matches(&f, 0, &seg, 5));
    seg.flags = TCP_ACK;
    f.has_ack = false, f.after_ns = 5, f.before_ns = 10; /* [5, 10) */
    assert_false(net_filter_matches(&f, 0, &seg, 4));
    assert_true(net_filter_matches(&f, 0, &seg, 5));
    assert_true(net_filter_matches(&f, 0, &seg, 9));
    assert_false(net_filter_matches(&f, 0, &seg, 10));
    f.before_ns = 0; /* no end */
    assert_true(net_filter_matches(&f, 0, &seg, UINT64_MAX));
}

/* RFC 9293 §3.10.1 and §3.10.7.3: OPEN sets SND.UNA = ISS, SND.NXT =
 * ISS+1; the SYN,ACK sets IRS, RCV.NXT = IRS+1, SND.UNA = SEG.ACK. */
static void sock_tcb_reads_the_connection_variables(void **state)
{
    fx *f = *state;
    uint32_t l = listen_b(f), c = connect_a(f, 1000), s;
    tcp_tcb t;
    assert_int_equal(net_sock_tcb(f->n, c, &t), 0);
    assert_int_equal(t.state, TCP_SYN_SENT);
    assert_int_equal(t.iss, 1000);
    assert_int_equal(t.snd_una, 1000);
    assert_int_equal(t.snd_nxt, 1001);
    assert_int_equal(t.snd_max, 1001);
    run_for(f, 100 * MS);
    assert_int_equal(net_accept(f->n, l, &s), 0);
    assert_int_equal(net_sock_tcb(f->n, c, &t), 0);
    assert_int_equal(t.snd_una, 1001);
    uint32_t irs = t.irs;
    assert_int_equal(t.rcv_nxt, irs + 1);
    assert_int_equal(net_sock_tcb(f->n, s, &t), 0);
    assert_int_equal(t.iss, irs);
    assert_int_equal(t.irs, 1000);
    assert_int_equal(t.rcv_nxt, 1001);
    assert_int_equal(net_abort(f->n, c), 0);
    assert_int_equal(net_sock_tcb(f->n, c, &t), TCP_EBADF);
}

typedef struct syn_mss {
    uint16_t mss[2]; /* the MSS option of the last SYN seen in each direction */
} syn_mss;

static sim_fault_verdict record_syn_mss(void *ctx, uint32_t rule, const net_seg_view *v)
{
    (void)rule;
    syn_mss *m = ctx;
    assert_true(v->seg->has_mss);
    m->mss[v->dir] = v->seg->mss;
    return (sim_fault_verdict){SIM_FAULT_PASS, 0, 0};
}

static void watch_syn_mss(fx *f, uint32_t link, syn_mss *m)
{
    net_rule_opts o = {.action = NET_RULE_HOOK,
                       .filter = {.dir = -1, .flags = TCP_SYN, .len = -1},
                       .count = UINT32_MAX,
                       .hook = record_syn_mss,
                       .ctx = m};
    assert_int_equal(net_rule_add(f->n, link, &o, NULL), 0);
}

/* RFC 9293 §3.7.1: the MSS a host advertises is its interface MTU less 40;
 * the smallest MTU of the host's links counts, a socket option and a host
 * that keeps its profile's mss win over it. */
static void mss_comes_from_the_interface_mtu(void **state)
{
    fx *f = *state;
    syn_mss m = {{0, 0}};
    watch_syn_mss(f, f->link, &m);
    assert_int_equal(net_host_iface_mss(f->n, f->a), 1460);
    listen_b(f);
    connect_a(f, 0);
    run_for(f, 100 * MS);
    assert_int_equal(m.mss[0], 1460);
    assert_int_equal(m.mss[1], 1460);

    uint32_t c, link2;
    assert_int_equal(net_host_add(f->n, "C", 0x0a000003u, tcp_profile_find("rfc9293"), &c), 0);
    sim_link_params lp;
    sim_link_params_default(&lp);
    lp.mtu = 1280;
    assert_int_equal(net_link_add(f->n, f->a, c, &lp, &lp, &link2), 0);
    assert_int_equal(net_host_iface_mss(f->n, f->a), 1240);
    net_connect_opts co = {.raddr = B_ADDR, .rport = PORT};
    uint32_t k;
    assert_int_equal(net_connect(f->n, f->a, &co, &k), 0);
    run_for(f, 100 * MS);
    assert_int_equal(m.mss[0], 1240);

    co.opts[0] = (net_opt){TCP_OPT_MSS, 1000};
    co.nopts = 1;
    assert_int_equal(net_connect(f->n, f->a, &co, &k), 0);
    run_for(f, 100 * MS);
    assert_int_equal(m.mss[0], 1000);

    assert_int_equal(net_link_add(f->n, f->b, c, &lp, &lp, &link2), 0);
    assert_int_equal(net_host_iface_mss(f->n, f->b), 1240);
    net_host_keep_mss(f->n, f->b);
    assert_int_equal(net_host_iface_mss(f->n, f->b), 0);
    net_listen_opts lo = {.port = PORT + 1, .backlog = 8}; /* made after keep_mss */
    uint32_t l2;
    assert_int_equal(net_listen(f->n, f->b, &lo, &l2), 0);
    co.nopts = 0;
    co.rport = PORT + 1;
    assert_int_equal(net_connect(f->n, f->a, &co, &k), 0);
    run_for(f, 100 * MS);
    assert_int_equal(m.mss[1], net_host_profile(f->n, f->b)->mss); /* 1460, not 1240 */
}

/* B answers A's half-close with more data than one window and closes. This
 * once left B in LAST_ACK with data queued and no timer (RFC 9293 §3.10.7.4:
 * the ACK step must not end the sending), the PENDING_TIMER case of
 * tests/stack/test_check.c. */
static void reply_after_half_close(fx *f)
{
    uint32_t l = listen_b(f), c = connect_a(f, 0), s;
    run_for(f, 1000 * MS);
    assert_int_equal(net_accept(f->n, l, &s), 0);
    assert_int_equal(net_shutdown(f->n, c), 0);
    run_for(f, 1000 * MS);
    assert_int_equal(net_send(f->n, s, NULL, 20000), 0);
    assert_int_equal(net_close(f->n, s), 0);
    run_for(f, 600000 * MS);
    assert_int_equal(net_sock_at(f->n, s)->state, TCP_CLOSED);
    assert_int_equal(net_sock_at(f->n, c)->state, TCP_CLOSED);
}

/* Rule 8: checking applies to every stack, also one started after a
 * restart. A whole exchange that breaks no invariant reports nothing and
 * halts nothing. (The stack's own tests build each violation by hand:
 * tests/stack/test_check.c.) */
static void check_applies_after_restart(void **state)
{
    fx *f = *state;
    assert_int_equal(net_check(f->n), tcp_check_default());
    net_set_check(f->n, true);
    assert_true(net_check(f->n));
    assert_int_equal(net_host_crash(f->n, f->b), 0);
    assert_int_equal(net_host_restart(f->n, f->b), 0);
    reply_after_half_close(f);
    assert_int_equal(f->nviolations, 0);
    assert_false(net_halted(f->n));
    assert_null(net_error(f->n));
}

/* Rule 8, the failing side: a connection whose sequence variables are broken
 * by hand (SND.NXT behind SND.UNA, which no stack path writes) is named by
 * the checker at the next stack call on it; the report reaches the
 * observer, halts the net and stays as net_error until net_unhalt. */
static void check_reports_a_violation_and_halts(void **state)
{
    fx *f = *state;
    net_set_check(f->n, true);
    uint32_t l = listen_b(f), c = connect_a(f, 0), s;
    run_for(f, 1000 * MS);
    assert_int_equal(net_accept(f->n, l, &s), 0);
    const net_sock *k = net_sock_at(f->n, c);
    tcp_conn *tc = tcp_stack_find(net_host_at(f->n, k->host)->stack, k->id);
    assert_non_null(tc);
    tc->snd_nxt = tc->snd_una - 1;
    net_send(f->n, c, NULL, 10); /* the next stack call on it is checked */
    run_for(f, 1000 * MS);
    assert_int_equal(f->nviolations, 1);
    assert_int_equal(f->violation_host, f->a);
    assert_true(net_halted(f->n));
    assert_non_null(net_error(f->n));
    assert_string_equal(net_error(f->n), f->violation);
    assert_ptr_not_equal(strstr(f->violation, "host A: invariant SEQ_ORDER"), NULL);
    net_unhalt(f->n);
    assert_false(net_halted(f->n));
    assert_null(net_error(f->n));
}

static void check_off_reports_nothing(void **state)
{
    fx *f = *state;
    net_set_check(f->n, false);
    reply_after_half_close(f);
    assert_int_equal(f->nviolations, 0);
    assert_false(net_halted(f->n));
    assert_null(net_error(f->n));
}

/* net_host_map_sock maps a stack's socket id to its record in an array
 * indexed by id, whose length is a uint32_t: UINT32_MAX has no slot (id + 1
 * wraps to 0, so no growth would make room and the store went 16 GiB past
 * the array). Mapping it stops the process with a message, as running out
 * of memory does, never a stray write: run in a child, it must end by
 * SIGABRT (a wild write is SIGSEGV, or ASan's report and exit 1). */
static void sockmap_refuses_the_id_it_cannot_hold(void **state)
{
    fx *f = *state;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stderr))
            _exit(3);
        net_host_map_sock(net_host_at(f->n, f->a), UINT32_MAX, 0);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    /* An id the array can hold still maps. */
    net_host_map_sock(net_host_at(f->n, f->a), 100, 7);
    assert_int_equal(net_host_sock(net_host_at(f->n, f->a), 100), 7);
    assert_int_equal(net_host_sock(net_host_at(f->n, f->a), 99), NET_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(records_outlive_their_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(records_count_without_keeping_when_told, setup, teardown),
        cmocka_unit_test_setup_teardown(reserve_is_only_room, setup, teardown),
        cmocka_unit_test_setup_teardown(hosts_share_one_env_and_never_move, setup, teardown),
        cmocka_unit_test_setup_teardown(a_host_maps_its_first_sockets_in_place, setup, teardown),
        cmocka_unit_test_setup_teardown(restart_maps_new_ids_to_new_records_only, setup, teardown),
        cmocka_unit_test_setup_teardown(calls_on_a_crashed_record_never_reach_a_new_socket, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(pattern_then_data_arrive_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(hosts_share_one_copy_of_a_profile, setup, teardown),
        cmocka_unit_test_setup_teardown(step_notes_are_kept_once, setup, teardown),
        cmocka_unit_test_setup_teardown(steps_spill_past_the_inline_ones_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(steps_grow_without_bound_exactly, setup, teardown),
        cmocka_unit_test_setup_teardown(kept_counters_are_each_records_own, setup, teardown),
        cmocka_unit_test_setup_teardown(spilled_pairs_come_from_the_pool_and_go_back, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(timer_follows_the_stacks_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(on_state_runs_after_the_stack_call_in_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            a_listener_closed_by_a_callback_on_its_first_child_is_freed_once, setup, teardown),
        cmocka_unit_test_setup_teardown(user_call_from_inside_a_stack_call_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(crash_closes_live_sockets_and_restart_starts_fresh, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(rules_act_in_order_on_the_nth_match, setup, teardown),
        cmocka_unit_test_setup_teardown(last_rules_see_only_what_the_others_let_pass, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(hook_decides_for_every_matching_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(rx_room_is_the_buffers_own, setup, teardown),
        cmocka_unit_test_setup_teardown(tx_room_follows_its_count, setup, teardown),
        cmocka_unit_test_setup_teardown(a_hosts_place_follows_from_its_index, setup, teardown),
        cmocka_unit_test_setup_teardown(a_queue_taken_whole_goes_and_its_position_stays, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(the_pattern_behind_bytes_taken_whole_is_kept_as_bytes,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(an_empty_send_of_bytes_keeps_the_pattern_as_it_was, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(host_numbers_are_its_stream_replayed_or_kept, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(after_runs_once_per_step_and_only_looks, setup, teardown),
        cmocka_unit_test_setup_teardown(inject_sends_a_crafted_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(inject_opts_writes_the_bytes_given_and_pads_them, setup,
                                        teardown),
        cmocka_unit_test(filter_matches_seq_ack_and_a_time_window),
        cmocka_unit_test_setup_teardown(sock_tcb_reads_the_connection_variables, setup, teardown),
        cmocka_unit_test_setup_teardown(probe_decides_after_the_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(tcb_events_follow_observer_and_probe, setup, teardown),
        cmocka_unit_test_setup_teardown(hosts_added_later_follow_whether_tcb_events_are_wanted,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(mss_comes_from_the_interface_mtu, setup, teardown),
        cmocka_unit_test_setup_teardown(check_applies_after_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(check_reports_a_violation_and_halts, setup, teardown),
        cmocka_unit_test_setup_teardown(check_off_reports_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(sockmap_refuses_the_id_it_cannot_hold, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
