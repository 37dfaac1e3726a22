/*
 * net_host — the world and its hosts: the tcp_env that puts one TCP stack
 * on a simulated host (the host's clock, its seeded stream, its link, the
 * observer), one deadline timer per stack, delivery, crash and restart, the
 * re-entry bracket and the deferred queue behind net.h rules 2, 3 and 5,
 * invariant checking on every stack (rule 8) and the interface MSS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_int.h"
#include "net_kern.h"
#include "sim_mem.h"
#include "tcp_check.h"

void net_oom(void)
{
    fprintf(stderr, "tcpsim: out of memory\n");
    abort();
}

void *net_grow_to(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap * 2 : 8;
    while (c < need)
        c *= 2;
    void *q = c <= SIZE_MAX / elem ? realloc(p, c * elem) : NULL;
    if (!q)
        net_oom();
    *cap = c;
    return q;
}

void *net_grow(void *p, uint32_t *cap, uint32_t need, size_t elem)
{
    size_t c = *cap;
    p = net_grow_to(p, &c, need, elem);
    assert(c <= UINT32_MAX && "a table indexed by uint32_t outgrew it");
    *cap = (uint32_t)c;
    return p;
}

const char *net_err_name(int err)
{
    switch (err) {
    case NET_EDOWN:
        return "the host is down";
    case NET_ECLOSED:
        return "the socket was closed by this side (attempt to use a closed socket)";
    case NET_ETOOBIG:
        return "the segment is too big to encode";
    case NET_ENOPORTS:
        return "the segment has no ports";
    case NET_EBUSY:
        return "called from inside a stack call";
    case NET_ELIMIT:
        return "too many fault rules (at most 65536 per simulation)";
    case NET_EKERNEL:
        return "the kernel refused the call";
    case NET_ENOKERNEL:
        return "the kernel endpoint cannot do this";
    default:
        return tcp_err_name(err);
    }
}

/* ---- The stack's environment on a simulated host ---- */

static uint64_t env_now(void *ctx)
{
    const net_host *h = ctx;
    return sim_world_now(h->net->world);
}

/* A host's stream of random numbers, "tcp:NAME" from the world's seed.
 * Most hosts draw a few in their life (an ISN, an ephemeral port), so until
 * the NET_RNG_REPLAY-th draw the host keeps only the count and replays the
 * stream from its seed for each; from then on it keeps the stream's state
 * (32 bytes) in its rare part. The same numbers in the same order either
 * way. */

static void host_rng_seed(const net_host *h, sim_rng *r)
{
    /* The stream "tcp:" and the name (at most SIM_NAME_MAX bytes), hashed
     * in parts: building the name cost more than the replay itself. */
    sim_world_rng_parts(h->net->world, r, "tcp:", sim_host_name(net_host_simof(h)));
}

static uint64_t env_random(void *ctx)
{
    net_host *h = ctx;
    if (h->rng_draws == NET_RNG_REPLAY)
        return sim_rng_next(&h->rare->rng);
    sim_rng r;
    host_rng_seed(h, &r);
    for (uint32_t i = 0; i < h->rng_draws; i++)
        sim_rng_next(&r);
    uint64_t v = sim_rng_next(&r);
    if (++h->rng_draws == NET_RNG_REPLAY)
        net_host_rare_of(h)->rng = r;
    return v;
}

net_host_rare *net_host_rare_of(net_host *h)
{
    if (!h->rare && !(h->rare = calloc(1, sizeof *h->rare)))
        net_oom();
    return h->rare;
}

static void env_send(net_host *h, sim_packet *p)
{
    if (!p) {
        fprintf(stderr, "tcpsim: out of memory for a packet\n");
        abort();
    }
    if (h->net->wire.on)
        net_wire_output(h->net, h, p); /* rule 10 */
    else
        sim_host_send(net_host_simof(h), p);
}

static void env_output(void *ctx, const uint8_t *dgram, size_t len)
{
    net_host *h = ctx;
    sim_packet *p = sim_packet_new(h->net->world, len);
    if (p)
        memcpy(p->data, dgram, len);
    env_send(h, p);
}

/* The packet reads the sender's buffer until it is freed (sim_packet.h,
 * "Lent bytes"): a segment in flight is held once. */
static void env_output_lent(void *ctx, const uint8_t *dgram, size_t len,
                            void (*release)(void *owner), void *owner)
{
    net_host *h = ctx;
    env_send(h, sim_packet_new_lent(h->net->world, dgram, len, release, owner));
}

/* The packet holds the headers and reads its payload in the net's send
 * pattern (sim_packet.h, "Split bytes"), which outlives the world: a
 * segment of the pattern in flight costs its headers only. */
static void env_output_split(void *ctx, const uint8_t *head, size_t hlen, const uint8_t *tail,
                             size_t tlen)
{
    net_host *h = ctx;
    env_send(h, sim_packet_new_split(h->net->world, head, hlen, tail, tlen));
}

static void env_event(void *ctx, const tcp_event *ev)
{
    net_host *h = ctx;
    net *n = h->net;
    if (n->obs.on_event)
        n->obs.on_event(n->obs.ctx, h->index, ev);
    if (n->probe.on_event)
        n->probe.on_event(n->probe.ctx, h->index, ev);
    net_sock_on_event(n, h, ev);
}

void net_note(net *n, const char *text)
{
    if (n->obs.on_note)
        n->obs.on_note(n->obs.ctx, sim_world_now(n->world), text);
}

/* ---- The bracket and the deferred queue ---- */

void net_stack_enter(net *n)
{
    n->in_stack++;
}

/* State changes queued during stack calls. A callback may call the stack
 * again, which ends here again: the outer pass owns the queue and also runs
 * what the inner calls appended (the walk reads the array by index, so it
 * may grow under it). */
static void run_pending(net *n)
{
    if (n->in_pending)
        return;
    n->in_pending = true;
    for (uint32_t i = 0; i < n->npending && !n->halted; i++) {
        net_pending pd = n->pending[i];
        net_sock_service(n, net_sock_mut(n, pd.sock));
        if (pd.from != pd.to && n->obs.on_state)
            n->obs.on_state(n->obs.ctx, pd.sock, pd.from, pd.to);
    }
    n->npending = 0;
    if (n->after && !n->halted) { /* as a rule callback: no user call (rule 3) */
        n->in_stack++;
        n->after(n->after_ctx);
        n->in_stack--;
    }
    n->in_pending = false;
}

void net_set_after(net *n, void (*fn)(void *ctx), void *ctx)
{
    n->after = fn;
    n->after_ctx = ctx;
}

/* Re-arms the host's one timer at the stack's next deadline, then, once the
 * outermost stack call is done, runs what was queued. */
void net_stack_leave(net *n, net_host *h)
{
    if (h->stack) {
        uint64_t d = tcp_stack_next_deadline(h->stack);
        if (d == UINT64_MAX)
            sim_world_cancel(n->world, &h->timer);
        else
            sim_world_arm_at(n->world, &h->timer, d);
    }
    if (--n->in_stack == 0)
        run_pending(n);
}

bool net_in_stack(const net *n)
{
    return n->in_stack > 0;
}

void net_halt(net *n)
{
    n->halted = true;
    sim_world_stop(n->world);
    net_wire_flow(n, n->wire.flow); /* a halted wire delivers nothing */
}

void net_set_keep_rx(net *n, bool keep)
{
    n->keep_rx = keep;
}

bool net_keeps_rx(const net *n)
{
    return n->keep_rx;
}

void net_reserve(net *n, uint32_t hosts)
{
    if (hosts > n->nhosts)
        sim_mem_reserve((size_t)(hosts - n->nhosts) * NET_HOST_RESERVE_BYTES);
    /* The core's host lookups made at their final size: no rehash while
     * the hosts are added, no smaller copies left in the reserved heap. A
     * hint like the rest (sim_host.h): on failure they grow as they go. */
    (void)sim_host_reserve(n->world, hosts);
    /* And the link lookup for half as many links: the fewest that give
     * every host one (hosts in pairs, as the race's), which a world whose
     * hosts are all linked always reaches, so the room is never wasted;
     * each doubling short of it rehashed every link, a random write each
     * (docs/performance.md, fourteenth round). */
    (void)sim_link_reserve(n->world, hosts / 2);
}

bool net_halted(const net *n)
{
    return n->halted;
}

void net_unhalt(net *n)
{
    n->halted = false;
    n->error[0] = '\0';
    net_wire_flow(n, n->wire.flow); /* the wire's timer again (net_wire.c) */
}

const char *net_error(const net *n)
{
    return n->error[0] ? n->error : NULL;
}

/* ---- Invariant checking (rule 8) ---- */

/* tcp_check's report of a broken invariant, inside the stack call: kept as
 * the net's error (the first only), told to the observer, and the net
 * halted. A net halted already keeps the reason it has. */
static void on_violation(void *ctx, const tcp_check_report *r)
{
    net_host *h = ctx;
    net *n = h->net;
    if (n->halted)
        return;
    char line[512];
    tcp_check_format(r, line, sizeof line);
    snprintf(n->error, sizeof n->error, "host %s: %s", sim_host_name(net_host_simof(h)), line);
    if (n->obs.on_violation)
        n->obs.on_violation(n->obs.ctx, h->index, n->error);
    net_halt(n);
}

int net_set_check(net *n, bool on)
{
    assert(n->in_stack == 0);
    n->check = on;
    for (uint32_t i = 0; i < n->nhosts; i++) {
        net_host *h = net_host_at(n, i);
        if (h->stack && tcp_check_enable(h->stack, on, on_violation, h) < 0)
            return TCP_ENOMEM;
    }
    return 0;
}

bool net_check(const net *n)
{
    return n->check;
}

static void host_timer(sim_timer *t, void *arg)
{
    (void)t;
    net_host *h = arg;
    if (!h->stack)
        return;
    net_stack_enter(h->net);
    tcp_stack_on_time(h->stack);
    net_stack_leave(h->net, h);
}

static void host_receive(void *ctx, sim_host *host, sim_packet *p)
{
    (void)host;
    net_host_receive(ctx, p);
}

void net_host_receive(net_host *h, sim_packet *p)
{
    net *n = h->net;
    if (h->stack) {
        /* One buffer serves every delivery: a stack's input never nests. */
        const uint8_t *bytes = sim_flat_bytes(&n->rx_flat, p);
        if (!bytes)
            net_oom();
        net_stack_enter(n);
        tcp_stack_input(h->stack, bytes, p->len);
        net_stack_leave(n, h);
    } else {
        net_note(n, "packet to a crashed host discarded");
    }
    sim_packet_free(n->world, p);
}

/* The stacks build TCP_EV_TCB only for an observer or a probe: the
 * records (net_sock_on_event) read none. */
static void host_tcb_events(net_host *h)
{
    const net *n = h->net;
    if (h->stack)
        tcp_stack_set_tcb_events(h->stack, n->obs.on_event || n->probe.on_event);
}

/* Tells every stack whether TCB events are wanted, when that changed
 * from `before`: setting an observer or a probe that leaves it as it was
 * (the race's observer has no on_event) touches no host, where a walk
 * read every host and stack, a cache miss each at a million hosts. */
static void hosts_tcb_events(net *n, bool before)
{
    if ((n->obs.on_event || n->probe.on_event) == before)
        return;
    for (uint32_t i = 0; i < n->nhosts; i++)
        host_tcb_events(net_host_at(n, i));
}

static void sockmap_free(net_host *h)
{
    if (h->sockmap_out)
        free(h->sockmap.more.ids);
    h->sockmap_out = false;
}

/* A new stack's ids start again at 1. */
static void sockmap_reset(net_host *h)
{
    sockmap_free(h);
    for (uint32_t i = 0; i < NET_SOCKMAP_FIRST; i++)
        h->sockmap.first[i] = NET_NONE;
}

void net_host_map_sock(net_host *h, tcp_sock_id id, uint32_t idx)
{
    /* The map's length is a uint32_t: UINT32_MAX has no slot (id + 1 would
     * wrap to 0 and the store land past the array). A stack numbers its
     * sockets from 1, so only 2^32 - 1 sockets made on one host reach it;
     * the process stops as it does when memory runs out. */
    if (id == UINT32_MAX) {
        fprintf(stderr, "tcpsim: host %s: socket ids exhausted (2^32 - 1 sockets made)\n",
                sim_host_name(net_host_simof(h)));
        abort();
    }
    if (!h->sockmap_out && id < NET_SOCKMAP_FIRST) {
        h->sockmap.first[id] = idx;
        return;
    }
    if (!h->sockmap_out) {
        uint32_t len = NET_SOCKMAP_FIRST;
        uint32_t *ids = net_grow(NULL, &len, id + 1, sizeof *ids);
        memcpy(ids, h->sockmap.first, sizeof h->sockmap.first); /* before `more` covers it */
        for (uint32_t i = NET_SOCKMAP_FIRST; i < len; i++)
            ids[i] = NET_NONE;
        h->sockmap.more.ids = ids;
        h->sockmap.more.len = len;
        h->sockmap_out = true;
    } else if (id >= h->sockmap.more.len) {
        uint32_t old = h->sockmap.more.len;
        h->sockmap.more.ids = net_grow(h->sockmap.more.ids, &h->sockmap.more.len, id + 1,
                                       sizeof *h->sockmap.more.ids);
        for (uint32_t i = old; i < h->sockmap.more.len; i++)
            h->sockmap.more.ids[i] = NET_NONE;
    }
    h->sockmap.more.ids[id] = idx;
}

static int host_start_stack(net_host *h)
{
    h->stack = tcp_stack_new_shared(&h->net->env, h, sim_host_addr(net_host_simof(h)), h->profile);
    /* A stack whose checker cannot be made is not started unchecked. */
    if (h->stack && tcp_check_enable(h->stack, h->net->check, on_violation, h) < 0) {
        tcp_stack_free(h->stack);
        h->stack = NULL;
    }
    host_tcb_events(h);
    sockmap_reset(h);
    return h->stack ? 0 : -1;
}

/* ---- The world ---- */

net *net_new(uint64_t seed)
{
    net *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->world = sim_world_new(seed);
    n->scratch = tcp_scratch_new();
    if (!n->world || !n->scratch) {
        sim_world_free(n->world);
        tcp_scratch_free(n->scratch);
        free(n);
        return NULL;
    }
    n->env = (tcp_env){env_now,    env_random,      env_output,      env_event,
                       n->scratch, env_output_lent, env_output_split};
    n->check = tcp_check_default();
    n->keep_rx = true;
    net_wire_init(n);
    return n;
}

void net_free(net *n)
{
    if (!n)
        return;
    for (uint32_t i = 0; i < n->nhosts; i++) {
        net_host *h = net_host_at(n, i);
        if (h->stack)
            tcp_stack_free(h->stack);
        sockmap_free(h);
        if (h->rare)
            free(h->rare->link_more);
        free(h->rare);
    }
    for (uint32_t i = 0; i < n->nhostchunks; i++)
        free(n->hostchunks[i]);
    free(n->hostchunks);
    net_wire_free(n);
    net_sock_free_all(n);
    free(n->pending);
    net_rules_free(n);
    net_kern_free(n->kern);
    sim_world_free(n->world);
    sim_flat_free(&n->rx_flat);
    for (uint32_t i = 0; i < n->caprule_flats; i++)
        sim_flat_free(&n->rule_flats[i]);
    free(n->rule_flats);
    net_draws_free(n);            /* after the world, whose hook points at them */
    tcp_scratch_free(n->scratch); /* after every stack */
    net_keep_free(&n->profiles);
    net_keep_free(&n->notes);
    free(n);
}

sim_world *net_world(const net *n)
{
    return n->world;
}

void net_set_probe(net *n, const net_probe *p)
{
    bool before = n->obs.on_event || n->probe.on_event;
    if (p)
        n->probe = *p;
    else
        memset(&n->probe, 0, sizeof n->probe);
    hosts_tcb_events(n, before);
}

void net_set_observer(net *n, const net_observer *obs)
{
    bool before = n->obs.on_event || n->probe.on_event;
    n->obs = *obs;
    hosts_tcb_events(n, before);
}

/* ---- Hosts ---- */

/* A zeroed host from the chunks (net_host_at says which holds which):
 * one allocation per chunk, none per host. */
static net_host *host_alloc(net *n)
{
    if (n->hosts_left == 0) {
        uint32_t len = n->nhosts < NET_HOST_CHUNK_FIRST ? NET_HOST_CHUNK_FIRST : n->nhosts;
        len = len > NET_HOST_CHUNK_MAX ? NET_HOST_CHUNK_MAX : len;
        n->hostchunks =
            net_grow(n->hostchunks, &n->caphostchunks, n->nhostchunks + 1, sizeof *n->hostchunks);
        net_host *chunk = calloc(len, sizeof *chunk);
        if (!chunk) {
            fprintf(stderr, "tcpsim: out of memory\n");
            abort();
        }
        n->hostchunks[n->nhostchunks++] = chunk;
        n->host_next = chunk;
        n->hosts_left = len;
    }
    n->hosts_left--;
    return n->host_next++;
}

int net_host_add(net *n, const char *name, uint32_t addr, const tcp_profile *profile, uint32_t *out)
{
    sim_host *sh;
    if (sim_host_count(n->world) != n->nhosts) /* a host index is its sim host id */
        return sim_world_fail(n->world, "stack host %s must be added before every raw peer",
                              name ? name : "");
    if (sim_host_add(n->world, name, addr, &sh) != 0)
        return -1;
    net_host *h = host_alloc(n);
    h->net = n;
    h->index = n->nhosts;
    assert(sim_host_id(sh) == h->index);
    tcp_profile p;
    memcpy(&p, profile, sizeof p); /* padding too: equal profiles are kept once */
    p.name[sizeof p.name - 1] = '\0';
    h->profile = net_keep_profile(n, &p);
    n->nhosts++;
    sim_timer_init(&h->timer, host_timer, h);
    sim_host_set_receiver(sh, host_receive, h);
    if (out)
        *out = h->index;
    if (host_start_stack(h) != 0) {
        fprintf(stderr, "tcpsim: out of memory for a stack\n");
        abort();
    }
    return 0;
}

uint32_t net_host_count(const net *n)
{
    return n->nhosts;
}

sim_host *net_host_sim(const net *n, uint32_t host)
{
    return sim_host_by_id(n->world, host);
}

const tcp_profile *net_host_profile(const net *n, uint32_t host)
{
    return net_host_at(n, host)->profile;
}

bool net_host_up(const net *n, uint32_t host)
{
    return net_host_at(n, host)->stack != NULL;
}

tcp_stack *net_host_stack(const net *n, uint32_t host)
{
    return net_host_at(n, host)->stack;
}

int net_host_sync(net *n, uint32_t host)
{
    net_host *h = net_host_at(n, host);
    if (n->in_stack > 0)
        return NET_EBUSY;
    if (!h->stack)
        return NET_EDOWN;
    net_stack_enter(n);
    net_stack_leave(n, h);
    return 0;
}

size_t net_host_conns(const net *n, uint32_t host)
{
    const net_host *h = net_host_at(n, host);
    return h->stack ? tcp_stack_conns(h->stack) : 0;
}

void net_host_keep_mss(net *n, uint32_t host)
{
    net_host_at(n, host)->mss_fixed = true;
}

/* RFC 9293 §3.7.1: the MSS to advertise and the bound on the send MSS come
 * from the interface MTU less the IPv4 and TCP headers (Linux
 * tcp_advertise_mss, FreeBSD tcp_mssopt). */
void net_host_note_link(net *n, uint32_t host, uint32_t link)
{
    net_host *h = net_host_at(n, host);
    if (h->nlinks > 0) {
        net_host_rare *r = net_host_rare_of(h);
        r->link_more = net_grow(r->link_more, &r->caplinks, h->nlinks, sizeof *r->link_more);
        r->link_more[h->nlinks - 1] = link;
    } else {
        h->link_first = link;
    }
    h->nlinks++;
}

/* O(links of the host): the MTU is read now, so a changed link counts. */
uint16_t net_host_iface_mss(const net *n, uint32_t host)
{
    const net_host *h = net_host_at(n, host);
    uint32_t mtu = 0;
    for (uint32_t i = 0; i < h->nlinks; i++) {
        uint32_t id = i == 0 ? h->link_first : h->rare->link_more[i - 1];
        const sim_link *l = sim_link_by_id(n->world, id);
        int dir = sim_link_dir_from(l, net_host_simof(h));
        if (dir >= 0 && (mtu == 0 || sim_link_params_get(l, dir)->mtu < mtu))
            mtu = sim_link_params_get(l, dir)->mtu;
    }
    if (h->mss_fixed || mtu == 0)
        return 0;
    return mtu - 40 < 64 ? 64 : (uint16_t)(mtu - 40);
}

int net_host_input(net *n, uint32_t host, const uint8_t *bytes, size_t len)
{
    net_host *h = net_host_at(n, host);
    if (n->in_stack > 0)
        return NET_EBUSY;
    if (!h->stack)
        return NET_EDOWN;
    net_stack_enter(n);
    tcp_stack_input(h->stack, bytes, len);
    net_stack_leave(n, h);
    return 0;
}

int net_host_crash(net *n, uint32_t host)
{
    if (n->kern && net_kern_host(n, host))
        return net_kern_refuse(n, NET_KERN_REFUSAL "crash or restart");
    net_host *h = net_host_at(n, host);
    if (!h->stack)
        return NET_EDOWN;
    /* The counters go with the stack: each record keeps its own first. */
    for (uint32_t i = 0; i < n->nsocks; i++) {
        net_sock *k = net_sock_mut(n, i);
        const tcp_stats *st =
            k->host == h->index && k->alive ? tcp_sock_stats(h->stack, k->id) : NULL;
        if (st)
            net_sock_keep_stats(n, k, st);
    }
    tcp_stack_free(h->stack);
    h->stack = NULL;
    sim_world_cancel(n->world, &h->timer);
    uint64_t now = sim_world_now(n->world);
    /* Its records' steps to CLOSED are queued as a stack call's are, and
     * passed on when the bracket closes, as after any user call (without
     * it they waited for some later stack call, or were never passed on). */
    net_stack_enter(n);
    for (uint32_t i = 0; i < n->nsocks; i++) {
        net_sock *k = net_sock_mut(n, i);
        if (k->host != h->index || !k->alive)
            continue;
        tcp_event ev = {.kind = TCP_EV_STATE,
                        .time_ns = now,
                        .sock = k->id,
                        .from = k->state,
                        .to = TCP_CLOSED,
                        .cause = TCP_CAUSE_USER,
                        .note = "host crash"};
        if (n->obs.on_event)
            n->obs.on_event(n->obs.ctx, h->index, &ev);
        if (n->probe.on_event)
            n->probe.on_event(n->probe.ctx, h->index, &ev);
        net_sock_on_event(n, h, &ev);
        k->alive = false;
    }
    net_stack_leave(n, h);
    char note[64];
    snprintf(note, sizeof note, "%s crashed", sim_host_name(net_host_simof(h)));
    net_note(n, note);
    return 0;
}

int net_host_restart(net *n, uint32_t host)
{
    if (n->kern && net_kern_host(n, host))
        return net_kern_refuse(n, NET_KERN_REFUSAL "crash or restart");
    net_host *h = net_host_at(n, host);
    if (h->stack || host_start_stack(h) != 0)
        return -1;
    char note[64];
    snprintf(note, sizeof note, "%s restarted", sim_host_name(net_host_simof(h)));
    net_note(n, note);
    return 0;
}
