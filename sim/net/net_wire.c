/*
 * net_wire — the stepped wire (net.h rule 10): while it is on, every
 * datagram a host's stack outputs meets its link's rules and the probe at
 * once, then waits here, owned by the wire, in due-time order, until it is
 * delivered by hand or, while the wire flows, by the wire's one world timer.
 * A caller steps the wire by position: deliver, drop, duplicate, swap,
 * delay. Delivery hands the datagram to its destination's stack at once, so
 * a program can put a crafted ladder diagram together step by step, and the
 * clock stays the world's.
 *
 * Invariants:
 *  1. ents[0 .. n) is ordered by due_ns, and entries with equal due times
 *     keep the order they entered in (a copy enters right behind its
 *     original); a datagram held by a rule is due SIM_TIME_NEVER.
 *  2. While flowing and the net is not halted, the timer is armed at
 *     ents[0].due_ns when that is finite, and idle otherwise; while not
 *     flowing, or halted (rule 6), it is idle.
 *  3. Each entry owns its packet; net_wire_free frees what is left.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_int.h"

/* Datagrams one timer event delivers at most: a stack answering itself at
 * zero delay forever still yields to the world's event limit. */
#define NET_WIRE_BURST_MAX 100000u

static void wire_fire(sim_timer *t, void *arg);

/* a + b, saturating at SIM_TIME_NEVER. */
static uint64_t time_add(uint64_t a, uint64_t b)
{
    return a > SIM_TIME_NEVER - b ? SIM_TIME_NEVER : a + b;
}

void net_wire_init(net *n)
{
    sim_timer_init(&n->wire.timer, wire_fire, n);
}

void net_wire_free(net *n)
{
    net_wire *w = &n->wire;
    sim_world_cancel(n->world, &w->timer);
    for (uint32_t i = 0; i < w->n; i++)
        sim_packet_free(n->world, w->ents[i].p);
    free(w->ents);
    memset(w, 0, sizeof *w);
}

/* Invariant 2. */
static void wire_arm(net *n)
{
    net_wire *w = &n->wire;
    if (!w->flow || n->halted || w->n == 0 || w->ents[0].due_ns == SIM_TIME_NEVER)
        sim_world_cancel(n->world, &w->timer);
    else if (!sim_timer_armed(&w->timer) ||
             sim_world_timer_when(n->world, &w->timer) != w->ents[0].due_ns)
        sim_world_arm_at(n->world, &w->timer, w->ents[0].due_ns);
}

/* Inserts e behind every entry due at or before it (invariant 1). */
static void wire_insert(net *n, net_wire_ent e)
{
    net_wire *w = &n->wire;
    w->ents = net_grow(w->ents, &w->cap, w->n + 1, sizeof *w->ents);
    uint32_t pos = w->n;
    while (pos > 0 && w->ents[pos - 1].due_ns > e.due_ns)
        pos--;
    memmove(w->ents + pos + 1, w->ents + pos, (w->n - pos) * sizeof *w->ents);
    w->ents[pos] = e;
    w->n++;
}

static net_wire_ent wire_take(net *n, uint32_t i)
{
    net_wire *w = &n->wire;
    assert(i < w->n);
    net_wire_ent e = w->ents[i];
    memmove(w->ents + i, w->ents + i + 1, (w->n - i - 1) * sizeof *w->ents);
    w->n--;
    return e;
}

static void wire_trace(net *n, sim_trace_kind kind, sim_drop_reason why, uint32_t host_id,
                       const sim_packet *p)
{
    sim_trace_rec rec = {.kind = kind, .reason = why, .host_id = host_id, .link_id = UINT32_MAX};
    sim_world_trace_packet(n->world, &rec, p);
}

/* The stack host whose address is addr, or NET_NONE. */
static uint32_t host_at(const net *n, uint32_t addr)
{
    for (uint32_t i = 0; i < n->nhosts; i++)
        if (sim_host_addr(sim_host_by_id(n->world, i)) == addr)
            return i;
    return NET_NONE;
}

void net_wire_output(net *n, net_host *h, sim_packet *p)
{
    /* A datagram waiting in the wire shows its bytes (net_wire_at) and may
     * wait long: it holds them itself, never a sender's. */
    p = sim_packet_writable(n->world, p);
    if (!p)
        net_oom();
    uint64_t now = sim_world_now(n->world);
    uint32_t to = host_at(n, sim_packet_dst(p));
    net_wire_ent e = {p, h->index, to, now, now};
    sim_fault_verdict v = {SIM_FAULT_PASS, 0, 0};
    wire_trace(n, SIM_TR_SEND, SIM_DROP_NONE, sim_host_id(net_host_simof(h)), p);
    sim_link *l = to == NET_NONE
                      ? NULL
                      : sim_link_between(n->world, net_host_simof(h), sim_host_by_id(n->world, to));
    if (l) { /* the link's rules and its delay; nothing else of it */
        int dir = sim_link_dir_from(l, net_host_simof(h));
        e.due_ns = time_add(now, sim_link_params_get(l, dir)->delay_ns);
        v = net_rules_decide(n, sim_link_id(l), dir, p);
    }
    switch (v.action) {
    case SIM_FAULT_PASS:
        break;
    case SIM_FAULT_DROP:
        wire_trace(n, SIM_TR_DROP, SIM_DROP_FAULT, sim_host_id(net_host_simof(h)), p);
        sim_packet_free(n->world, p);
        return;
    case SIM_FAULT_DELAY:
        e.due_ns = time_add(e.due_ns, v.delay_ns);
        break;
    case SIM_FAULT_HOLD:
        e.due_ns = SIM_TIME_NEVER;
        break;
    case SIM_FAULT_DUPLICATE:
        wire_insert(n, e);
        for (uint32_t c = 0; c < v.copies; c++) {
            net_wire_ent copy = e;
            copy.p = sim_packet_clone(n->world, p);
            if (!copy.p)
                break;
            wire_insert(n, copy);
        }
        wire_arm(n);
        return;
    }
    wire_insert(n, e);
    wire_arm(n);
}

/* Hands e's datagram to its destination's stack, or discards it. */
static void wire_deliver(net *n, net_wire_ent e)
{
    n->wire.delivered++;
    if (e.to == NET_NONE) {
        n->wire.undeliverable++;
        wire_trace(n, SIM_TR_DROP, SIM_DROP_NO_ROUTE, sim_host_id(sim_host_by_id(n->world, e.from)),
                   e.p);
        sim_packet_free(n->world, e.p);
        return;
    }
    net_host *h = net_host_at(n, e.to);
    wire_trace(n, SIM_TR_DELIVER, SIM_DROP_NONE, sim_host_id(net_host_simof(h)), e.p);
    net_host_receive(h, e.p);
}

static void wire_fire(sim_timer *t, void *arg)
{
    (void)t;
    net *n = arg;
    net_wire *w = &n->wire;
    uint64_t now = sim_world_now(n->world);
    for (uint32_t k = 0; k < NET_WIRE_BURST_MAX; k++) {
        if (!w->flow || n->halted || w->n == 0 || w->ents[0].due_ns > now)
            break;
        wire_deliver(n, wire_take(n, 0));
    }
    wire_arm(n);
}

int net_wire_set(net *n, bool on)
{
    assert(n->in_stack == 0);
    if (!on && n->wire.n > 0)
        return TCP_EINVAL;
    n->wire.on = on;
    if (!on)
        net_wire_flow(n, false);
    return 0;
}

bool net_wire_on(const net *n)
{
    return n->wire.on;
}

void net_wire_flow(net *n, bool on)
{
    n->wire.flow = on;
    wire_arm(n);
}

uint32_t net_wire_count(const net *n)
{
    return n->wire.n;
}

bool net_wire_at(const net *n, uint32_t i, net_wire_dgram *out)
{
    if (i >= n->wire.n)
        return false;
    const net_wire_ent *e = &n->wire.ents[i];
    *out = (net_wire_dgram){.from = e->from,
                            .to = e->to,
                            .packet_id = e->p->id,
                            .origin_id = e->p->origin_id,
                            .sent_ns = e->sent_ns,
                            .due_ns = e->due_ns,
                            .data = e->p->data,
                            .len = e->p->len};
    return true;
}

int net_wire_deliver(net *n, uint32_t i)
{
    if (n->in_stack > 0)
        return NET_EBUSY;
    if (i >= n->wire.n)
        return TCP_EINVAL;
    wire_deliver(n, wire_take(n, i));
    wire_arm(n);
    return 0;
}

int net_wire_drop(net *n, uint32_t i)
{
    if (i >= n->wire.n)
        return TCP_EINVAL;
    net_wire_ent e = wire_take(n, i);
    wire_trace(n, SIM_TR_DROP, SIM_DROP_FAULT, sim_host_id(sim_host_by_id(n->world, e.from)), e.p);
    sim_packet_free(n->world, e.p);
    wire_arm(n);
    return 0;
}

int net_wire_dup(net *n, uint32_t i)
{
    net_wire *w = &n->wire;
    if (i >= w->n)
        return TCP_EINVAL;
    net_wire_ent copy = w->ents[i];
    copy.p = sim_packet_clone(n->world, copy.p);
    if (!copy.p) {
        fprintf(stderr, "tcpsim: out of memory for a packet\n");
        abort();
    }
    w->ents = net_grow(w->ents, &w->cap, w->n + 1, sizeof *w->ents);
    memmove(w->ents + i + 2, w->ents + i + 1, (w->n - i - 1) * sizeof *w->ents);
    w->ents[i + 1] = copy;
    w->n++;
    return 0;
}

int net_wire_swap(net *n, uint32_t i, uint32_t j)
{
    net_wire *w = &n->wire;
    if (i >= w->n || j >= w->n)
        return TCP_EINVAL;
    net_wire_ent a = w->ents[i];
    uint64_t due_i = a.due_ns;
    w->ents[i] = w->ents[j];
    w->ents[i].due_ns = due_i;
    a.due_ns = w->ents[j].due_ns;
    w->ents[j] = a;
    return 0;
}

int net_wire_delay(net *n, uint32_t i, uint64_t extra_ns)
{
    if (i >= n->wire.n)
        return TCP_EINVAL;
    net_wire_ent e = wire_take(n, i);
    uint64_t now = sim_world_now(n->world);
    e.due_ns = time_add(e.due_ns > now ? e.due_ns : now, extra_ns);
    wire_insert(n, e);
    wire_arm(n);
    return 0;
}

uint64_t net_wire_delivered(const net *n)
{
    return n->wire.delivered;
}

uint64_t net_wire_undeliverable(const net *n)
{
    return n->wire.undeliverable;
}

uint32_t net_wire_release_held(net *n, uint32_t id)
{
    net_wire *w = &n->wire;
    for (uint32_t i = 0; i < w->n; i++) {
        if (w->ents[i].p->id != id || w->ents[i].due_ns != SIM_TIME_NEVER)
            continue;
        net_wire_ent e = wire_take(n, i);
        e.due_ns = sim_world_now(n->world);
        wire_insert(n, e);
        wire_arm(n);
        return 1;
    }
    return 0;
}
