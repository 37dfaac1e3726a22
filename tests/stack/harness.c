/*
 * harness — stack tests on sim/net: each stack is a host of a net, the wire
 * is the net's stepped wire, the clock and the event loop are the world's
 * (see harness.h).
 *
 * Invariants:
 *  - Stack i is net host i and sim host i (hosts are added in order, and
 *    the net has no other host), at address H_ADDR_BASE + i.
 *  - Every datagram a stack output is owned by that stack's sent log until
 *    h_free (the log copies the wire's SEND record); the datagrams waiting
 *    on the wire are the net's.
 *  - A drop rule (h_rule) lives until h_free: the net's rules point at it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include "harness.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

#define H_ADDR_BASE  0x0a000001u /* 10.0.0.1 */
#define H_RULES_MAX  32
#define H_STEPS_MAX  1000000u /* world events in one run */
#define H_ERRORS_LEN 2048

#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

typedef struct h_node {
    size_t index;
    h_dgram **sent;
    size_t n_sent, cap_sent, sent_checked;
    h_event *events;
    size_t n_events, cap_events;
} h_node;

/* h_drop_sent: drop the next `count` datagrams `from` outputs with `flags`. */
typedef struct h_rule {
    const harness *h;
    size_t from;
    int flags;
    size_t count;
} h_rule;

struct harness {
    size_t n;
    net *net;
    h_node node[H_STACKS_MAX];
    tcp_profile profile[H_STACKS_MAX];
    uint64_t seed;
    h_rule *rules[H_RULES_MAX];
    size_t n_rules;
    h_filter_fn filter;
    void *filter_arg;
    bool filter_rules; /* the filter's hook rules are on the links */
    bool stuck;        /* a run must stop: see the errors */
    size_t n_errors;
    char errors[H_ERRORS_LEN];
};

/* ---- Small helpers --------------------------------------------------------- */

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
    size_t c = *cap > 0 ? *cap : 16;

    if (need <= *cap)
        return p;
    while (c < need)
        c *= 2;
    p = realloc(p, c * elem);
    assert(p != NULL);
    *cap = c;
    return p;
}

static char stack_letter(size_t i)
{
    return (char)('A' + i);
}

static const char *time_str(uint64_t ns, char *buf, size_t len)
{
    snprintf(buf, len, "%" PRIu64 ".%06" PRIu64 "ms", ns / 1000000u, ns % 1000000u);
    return buf;
}

/* A problem found where a test cannot fail (inside a stack callback). */
PRINTF_LIKE(2, 3) static void h_error(harness *h, const char *fmt, ...)
{
    size_t used = strlen(h->errors);
    va_list ap;

    h->n_errors++;
    if (used + 2 >= sizeof h->errors)
        return;
    va_start(ap, fmt);
    vsnprintf(h->errors + used, sizeof h->errors - used - 1, fmt, ap);
    va_end(ap);
    strcat(h->errors, "\n");
}

PRINTF_LIKE(3, 4) static void fail_at(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    _fail(file, line);
}

static void check_errors(const char *file, int line, const harness *h)
{
    if (h->n_errors > 0)
        fail_at(file, line, "%zu harness error(s) so far:\n%s", h->n_errors, h->errors);
}

static size_t owner_of(const harness *h, uint32_t addr)
{
    uint32_t k = addr - H_ADDR_BASE;

    return k < h->n ? k : H_NOWHERE;
}

static h_node *node_at(const char *file, int line, const harness *h, size_t i)
{
    if (i >= h->n) {
        fail_at(file, line, "no stack %zu (the harness has %zu)", i, h->n);
        return NULL;
    }
    return (h_node *)&h->node[i];
}

/* ---- Printing -------------------------------------------------------------- */

static void endpoint_str(const harness *h, uint32_t addr, uint16_t port, char *buf, size_t len)
{
    size_t i = owner_of(h, addr);

    if (i != H_NOWHERE)
        snprintf(buf, len, "%c:%u", stack_letter(i), (unsigned)port);
    else
        snprintf(buf, len, "%u.%u.%u.%u:%u", (unsigned)(addr >> 24), (unsigned)(addr >> 16 & 0xff),
                 (unsigned)(addr >> 8 & 0xff), (unsigned)(addr & 0xff), (unsigned)port);
}

static void options_str(const tcp_seg *s, char *buf, size_t len)
{
    size_t n = 0;

    buf[0] = '\0';
    if (s->has_mss)
        n += (size_t)snprintf(buf + n, len - n, ",mss %u", (unsigned)s->mss);
    if (s->has_wscale && n < len)
        n += (size_t)snprintf(buf + n, len - n, ",ws %u", (unsigned)s->wscale);
    if (s->has_sack_perm && n < len)
        n += (size_t)snprintf(buf + n, len - n, ",sackOK");
    if (s->has_ts && n < len)
        snprintf(buf + n, len - n, ",ts %" PRIu32 "/%" PRIu32, s->ts_val, s->ts_ecr);
    if (buf[0] == ',')
        buf[0] = '<';
}

char *h_seg_str(const harness *h, const tcp_seg *s, char *buf, size_t buf_len)
{
    char from[32], to[32], flags[40], opts[80];

    endpoint_str(h, s->src_addr, s->src_port, from, sizeof from);
    endpoint_str(h, s->dst_addr, s->dst_port, to, sizeof to);
    tcp_flags_str(s->flags, flags, sizeof flags);
    options_str(s, opts, sizeof opts);
    snprintf(buf, buf_len, "%s>%s %s seq=%" PRIu32 " ack=%" PRIu32 " wnd=%u len=%" PRIu32 "%s%s%s",
             from, to, flags, s->seq, s->ack, (unsigned)s->wnd, s->len, opts[0] != '\0' ? " " : "",
             opts, opts[0] != '\0' ? ">" : "");
    return buf;
}

static void print_event(const harness *h, const h_event *e)
{
    char t[32], seg[200];

    fprintf(stderr, "    %12s sock %" PRIu32 " %-7s", time_str(e->time_ns, t, sizeof t), e->sock,
            tcp_event_name(e->kind));
    if (e->kind == TCP_EV_STATE)
        fprintf(stderr, " %s -> %s (%s)", tcp_state_name(e->from), tcp_state_name(e->to),
                tcp_cause_name(e->cause));
    else if (e->kind == TCP_EV_TIMER || e->kind == TCP_EV_TIMER_RESTART)
        fprintf(stderr, " %s", tcp_timer_name((tcp_timer_kind)e->detail));
    else if (e->kind == TCP_EV_USER)
        fprintf(stderr, " %s", tcp_user_call_name((tcp_user_call)e->detail));
    else if (e->kind == TCP_EV_ERROR)
        fprintf(stderr, " %s", tcp_err_name(e->detail));
    if (e->has_seg)
        fprintf(stderr, " [%s]", h_seg_str(h, &e->seg, seg, sizeof seg));
    if (e->note[0] != '\0')
        fprintf(stderr, " \"%s\"", e->note);
    fputc('\n', stderr);
}

static void print_sent(const harness *h, size_t stack, size_t mark)
{
    const h_node *nd = &h->node[stack];
    char t[32], seg[200];
    size_t k;

    fprintf(stderr, "  sent by %c (%zu, > marks the next unchecked):\n", stack_letter(stack),
            nd->n_sent);
    for (k = 0; k < nd->n_sent; k++)
        fprintf(stderr, "  %c %3zu %12s %s\n", k == mark ? '>' : ' ', k,
                time_str(nd->sent[k]->sent_ns, t, sizeof t),
                h_seg_str(h, &nd->sent[k]->seg, seg, sizeof seg));
}

void h_dump(const harness *h, size_t stack)
{
    const h_node *nd = &h->node[stack];
    size_t k;

    assert(stack < h->n);
    fprintf(stderr, "  events of %c (%zu):\n", stack_letter(stack), nd->n_events);
    for (k = 0; k < nd->n_events; k++)
        print_event(h, &nd->events[k]);
    print_sent(h, stack, nd->sent_checked);
}

/* ---- What the net tells the harness ------------------------------------------ */

/* Every datagram a stack outputs (the wire's SEND record, at output time):
 * parsed, checked and kept in the sender's sent log. */
static void log_sent(harness *h, size_t from, const sim_trace_rec *rec)
{
    h_node *nd = &h->node[from];
    h_dgram *d = calloc(1, sizeof *d);
    size_t len = rec->len;
    uint8_t *copy = malloc(len > 0 ? len : 1);
    tcp_wire_err e;

    assert(d != NULL && copy != NULL);
    memcpy(copy, rec->bytes, len);
    *d = (h_dgram){.from = from,
                   .to = H_NOWHERE,
                   .sent_ns = h_now(h),
                   .packet_id = rec->packet_id,
                   .bytes = copy,
                   .len = len};
    nd->sent = grow(nd->sent, &nd->cap_sent, nd->n_sent + 1, sizeof *nd->sent);
    nd->sent[nd->n_sent++] = d;
    e = tcp_wire_parse(copy, len, &d->seg);
    if (e != TCP_WIRE_OK) {
        h_error(h, "stack %c output a datagram tcp_wire_parse rejects: %s", stack_letter(from),
                tcp_wire_err_name(e));
        return;
    }
    if (d->seg.src_addr != h_addr(h, from))
        h_error(h, "stack %c output a datagram from another address", stack_letter(from));
    d->to = owner_of(h, d->seg.dst_addr);
}

static void on_trace(void *ctx, const sim_trace_rec *rec)
{
    harness *h = ctx;

    /* hosts are added in stack order, so a sim host id is a stack index */
    if (rec->kind == SIM_TR_SEND && rec->host_id < h->n)
        log_sent(h, rec->host_id, rec);
}

/* RFC 9293 states change only through transitions, so each one must start
 * where the socket's previous one ended. */
static void check_chain(harness *h, const h_node *nd, const h_event *r)
{
    size_t k = nd->n_events - 1;

    while (k-- > 0) {
        const h_event *p = &nd->events[k];

        if (p->kind != TCP_EV_STATE || p->sock != r->sock)
            continue;
        if (p->to != r->from)
            h_error(h, "stack %c sock %" PRIu32 ": transition %s -> %s, but its last was -> %s",
                    stack_letter(nd->index), r->sock, tcp_state_name(r->from),
                    tcp_state_name(r->to), tcp_state_name(p->to));
        return;
    }
}

static void on_event(void *ctx, uint32_t host, const tcp_event *ev)
{
    harness *h = ctx;
    h_node *nd = &h->node[host];
    h_event *r;

    if (ev->kind == TCP_EV_TCB)
        return; /* a snapshot after every call, not an event: tests read tcp_sock_tcb */
    nd->events = grow(nd->events, &nd->cap_events, nd->n_events + 1, sizeof *nd->events);
    r = &nd->events[nd->n_events++];
    *r = (h_event){.kind = ev->kind,
                   .time_ns = ev->time_ns,
                   .sock = ev->sock,
                   .parent = ev->parent,
                   .from = ev->from,
                   .to = ev->to,
                   .cause = ev->cause,
                   .detail = ev->detail,
                   .has_seg = ev->seg != NULL};
    if (ev->seg != NULL) {
        r->seg = *ev->seg;
        r->seg.payload = NULL;
        r->seg.nsack = 0; /* its blocks lie in the stack's buffer */
        r->seg.sack = NULL;
    }
    snprintf(r->note, sizeof r->note, "%s", ev->note != NULL ? ev->note : "");
    if (ev->time_ns != h_now(h))
        h_error(h, "stack %c: %s event stamped %" PRIu64 "ns at %" PRIu64 "ns",
                stack_letter(nd->index), tcp_event_name(ev->kind), ev->time_ns, h_now(h));
    if (ev->kind == TCP_EV_STATE)
        check_chain(h, nd, r);
}

/* net.h rule 8: a broken stack invariant (the net halts after it). */
static void on_violation(void *ctx, uint32_t host, const char *report)
{
    harness *h = ctx;

    (void)host;
    h_error(h, "%s", report);
}

/* ---- Rules on the links ---------------------------------------------------------- */

/* The sending stack of a segment on its way. */
static size_t sender_of(const harness *h, const net_seg_view *v)
{
    return owner_of(h, v->seg->src_addr);
}

/* h_drop_sent's rule: a net drop rule on every link, whose predicate counts
 * the matches of every link down together. */
static bool drop_rule_match(void *ctx, uint32_t rule, const net_seg_view *v)
{
    h_rule *r = ctx;

    (void)rule;
    if (r->count == 0 || sender_of(r->h, v) != r->from ||
        (r->flags != H_ANY && v->seg->flags != (uint8_t)r->flags))
        return false;
    r->count--;
    return true;
}

/* h_set_filter's rule: a net hook on every link asks the filter. */
static sim_fault_verdict filter_hook(void *ctx, uint32_t rule, const net_seg_view *v)
{
    harness *h = ctx;
    sim_fault_verdict pass = {SIM_FAULT_PASS, 0, 0};
    uint64_t base, due;
    h_dgram d;

    (void)rule;
    if (h->filter == NULL)
        return pass;
    base = h_now(h) +
           sim_link_params_get(sim_link_by_id(net_world(h->net), v->link), v->dir)->delay_ns;
    due = base;
    d = (h_dgram){.from = sender_of(h, v),
                  .to = owner_of(h, v->seg->dst_addr),
                  .sent_ns = h_now(h),
                  .seg = *v->seg,
                  .bytes = v->packet->data,
                  .len = v->packet->len};
    switch (h->filter(h, &d, &due, h->filter_arg)) {
    case H_DROP:
        return (sim_fault_verdict){SIM_FAULT_DROP, 0, 0};
    case H_DUP:
        return (sim_fault_verdict){SIM_FAULT_DUPLICATE, 0, 1};
    case H_PASS:
        break;
    }
    return due > base ? (sim_fault_verdict){SIM_FAULT_DELAY, due - base, 0} : pass;
}

/* Adds a rule to every link; the rules of one call share ctx. */
static void rule_on_every_link(harness *h, const net_rule_opts *o)
{
    for (uint32_t l = 0; l < sim_link_count(net_world(h->net)); l++) {
        int rc = net_rule_add(h->net, l, o, NULL);
        assert(rc == 0);
        (void)rc;
    }
}

/* ---- Lifetime ------------------------------------------------------------------- */

/* The net: stacks A, B, ... at 10.0.0.1, ..., a link between every pair
 * (0 delay), the stepped wire on, the invariant checker on. */
static void net_build(harness *h)
{
    const net_observer obs = {.ctx = h, .on_event = on_event, .on_violation = on_violation};
    sim_link_params lp;
    uint32_t id, link;

    h->net = net_new(h->seed);
    assert(h->net != NULL);
    for (size_t i = 0; i < h->n; i++) {
        char name[2] = {stack_letter(i), '\0'};
        int rc = net_host_add(h->net, name, h_addr(h, i), &h->profile[i], &id);

        assert(rc == 0 && id == i);
        (void)rc;
    }
    sim_link_params_default(&lp);
    for (size_t i = 0; i < h->n; i++)
        for (size_t j = i + 1; j < h->n; j++)
            if (net_link_add(h->net, (uint32_t)i, (uint32_t)j, &lp, &lp, &link) != 0)
                assert(!"a harness link");
    net_set_observer(h->net, &obs);
    net_set_check(h->net, true);
    sim_world_set_trace(net_world(h->net), on_trace, h);
    net_wire_set(h->net, true);
}

const tcp_profile *h_linux_exact(void)
{
    static tcp_profile exact;
    exact = *tcp_profile_find("linux");
    exact.timer_hz = 0;
    return &exact;
}

const tcp_profile *h_profile_exact(const char *name)
{
    return name && strcmp(name, "linux") == 0 ? h_linux_exact() : tcp_profile_find(name);
}

harness *h_new(size_t n_stacks, const tcp_profile *profile)
{
    harness *h = calloc(1, sizeof *h);

    assert(h != NULL);
    assert(n_stacks >= 1 && n_stacks <= H_STACKS_MAX);
    if (profile == NULL)
        profile = tcp_profile_find("rfc9293");
    assert(profile != NULL);
    h->n = n_stacks;
    h->seed = 1;
    for (size_t i = 0; i < n_stacks; i++) {
        h->node[i].index = i;
        h->profile[i] = *profile;
    }
    net_build(h);
    return h;
}

void h_free(harness *h)
{
    size_t i, k;

    if (h == NULL)
        return;
    net_free(h->net);
    for (i = 0; i < h->n; i++) {
        for (k = 0; k < h->node[i].n_sent; k++) {
            free((uint8_t *)h->node[i].sent[k]->bytes);
            free(h->node[i].sent[k]);
        }
        free(h->node[i].sent);
        free(h->node[i].events);
    }
    for (i = 0; i < h->n_rules; i++)
        free(h->rules[i]);
    free(h);
}

int h_setup(void **state)
{
    *state = h_new(2, NULL);
    return 0;
}

static void close_all(harness *h, size_t i);

int h_teardown(void **state)
{
    harness *h = *state;
    int rc = 0;

    /* what the test left open is closed and given 600 s to finish */
    for (size_t i = 0; h != NULL && h->n_errors == 0 && i < h->n; i++)
        close_all(h, i);
    if (h != NULL && h->n_errors == 0)
        h_run_at(__FILE__, __LINE__, h, h_now(h) + H_S(600));

    if (h != NULL && h->n_errors > 0) {
        fprintf(stderr, "%zu harness error(s):\n%s", h->n_errors, h->errors);
        rc = -1;
    }
    for (size_t i = 0; h != NULL && i < h->n; i++) {
        size_t left = net_host_conns(h->net, (uint32_t)i);
        if (left > 0) {
            fprintf(stderr, "%c still holds %zu connection(s) (end the test with h_finish)\n",
                    stack_letter(i), left);
            rc = -1;
        }
    }
    h_free(h);
    *state = NULL;
    return rc;
}

void h_reboot(harness *h, size_t i)
{
    assert(i < h->n);
    int rc = net_host_crash(h->net, (uint32_t)i);
    assert(rc == 0);
    rc = net_host_restart(h->net, (uint32_t)i);
    assert(rc == 0);
    (void)rc;
    h->node[i].n_events = 0; /* ids start again */
}

tcp_stack *h_stack(const harness *h, size_t i)
{
    assert(i < h->n);
    return net_host_stack(h->net, (uint32_t)i);
}

uint32_t h_addr(const harness *h, size_t i)
{
    assert(i < h->n);
    return H_ADDR_BASE + (uint32_t)i;
}

uint64_t h_now(const harness *h)
{
    return sim_world_now(net_world(h->net));
}

void h_set_delay(harness *h, uint64_t one_way_ns)
{
    sim_world *w = net_world(h->net);

    for (uint32_t l = 0; l < sim_link_count(w); l++) {
        for (int d = 0; d < 2; d++) {
            sim_link_params p = *sim_link_params_get(sim_link_by_id(w, l), d);
            p.delay_ns = one_way_ns;
            sim_link_params_set(sim_link_by_id(w, l), d, &p);
        }
    }
}

void h_set_seed(harness *h, uint64_t seed)
{
    for (size_t i = 0; i < h->n; i++)
        assert(h->node[i].n_sent == 0 && h->node[i].n_events == 0 &&
               "h_set_seed comes right after h_new");
    assert(h->n_rules == 0 && h->filter == NULL);
    net_free(h->net);
    h->seed = seed;
    net_build(h);
}

uint64_t h_undeliverable(const harness *h)
{
    return net_wire_undeliverable(h->net);
}

const char *h_errors(const harness *h)
{
    return h->errors;
}

/* ---- Time: the world's clock and its one event loop ------------------------------- */

/* Tests call the stacks directly, outside the net's bracket: re-arm every
 * host's timer before the world runs (net.h, net_host_sync). */
static void sync_hosts(harness *h)
{
    for (size_t i = 0; i < h->n; i++)
        (void)net_host_sync(h->net, (uint32_t)i);
}

static bool wire_empty(void *arg)
{
    const harness *h = arg;

    return net_wire_count(h->net) == 0;
}

/* Runs the world until until_ns (or, settle, until the wire is empty),
 * with the wire flowing or holding. Returns datagrams delivered. */
static size_t run_world(const char *file, int line, harness *h, uint64_t until_ns, bool flow,
                        bool settle)
{
    sim_world *w = net_world(h->net);
    uint64_t before = net_wire_delivered(h->net);
    sim_run_result r;

    if (h->stuck)
        return 0;
    sync_hosts(h);
    sim_world_set_limits(w, sim_world_events(w) + H_STEPS_MAX, SIM_TIME_NEVER);
    net_wire_flow(h->net, flow);
    if (settle)
        r = sim_world_run_until(w, wire_empty, h, SIM_TIME_NEVER);
    else
        r = sim_world_run_until_time(w, until_ns > h_now(h) ? until_ns : h_now(h));
    net_wire_flow(h->net, false);
    if (r == SIM_RUN_LIMIT_EVENTS || r == SIM_RUN_LIMIT_TIME) {
        h_error(h, "the run stopped: %s (a timer stuck at now?)", sim_world_error(w));
        h->stuck = true;
    }
    if (h->stuck || net_halted(h->net))
        check_errors(file, line, h);
    return (size_t)(net_wire_delivered(h->net) - before);
}

void h_advance_at(const char *file, int line, harness *h, uint64_t ns)
{
    run_world(file, line, h, h_now(h) + ns, false, false);
}

size_t h_run_at(const char *file, int line, harness *h, uint64_t until_ns)
{
    return run_world(file, line, h, until_ns, true, false);
}

size_t h_settle_at(const char *file, int line, harness *h)
{
    return run_world(file, line, h, 0, true, true);
}

/* ---- Manual steps on the wire ------------------------------------------------------- */

size_t h_pending(const harness *h)
{
    return net_wire_count(h->net);
}

/* The sent-log entry behind a datagram on the wire (a copy's origin). */
static const h_dgram *dgram_of(const harness *h, const net_wire_dgram *w)
{
    const h_node *nd = &h->node[w->from];

    for (size_t k = nd->n_sent; k-- > 0;)
        if (nd->sent[k]->packet_id == w->origin_id)
            return nd->sent[k];
    return NULL;
}

const h_dgram *h_peek(const harness *h, size_t i)
{
    net_wire_dgram w;

    return net_wire_at(h->net, (uint32_t)i, &w) ? dgram_of(h, &w) : NULL;
}

uint64_t h_peek_due(const harness *h, size_t i)
{
    net_wire_dgram w;
    bool ok = net_wire_at(h->net, (uint32_t)i, &w);

    assert(ok);
    (void)ok;
    return w.due_ns;
}

static bool need_queued(const char *file, int line, const harness *h, size_t i, const char *what)
{
    if (i < h_pending(h))
        return true;
    fail_at(file, line, "%s: position %zu, but %zu datagram(s) are queued", what, i, h_pending(h));
    return false;
}

void h_deliver_at(const char *file, int line, harness *h)
{
    if (need_queued(file, line, h, 0, "h_deliver"))
        net_wire_deliver(h->net, 0);
}

size_t h_deliver_all_at(const char *file, int line, harness *h)
{
    size_t n = 0;

    while (h_pending(h) > 0) {
        if (++n > H_STEPS_MAX) {
            fail_at(file, line, "h_deliver_all: more than %u datagrams at one instant",
                    H_STEPS_MAX);
            break;
        }
        net_wire_deliver(h->net, 0);
    }
    return n;
}

void h_drop_at(const char *file, int line, harness *h)
{
    if (need_queued(file, line, h, 0, "h_drop"))
        net_wire_drop(h->net, 0);
}

void h_dup_at(const char *file, int line, harness *h)
{
    if (need_queued(file, line, h, 0, "h_dup"))
        net_wire_dup(h->net, 0);
}

void h_swap_at(const char *file, int line, harness *h, size_t i, size_t j)
{
    if (need_queued(file, line, h, i, "h_swap") && need_queued(file, line, h, j, "h_swap"))
        net_wire_swap(h->net, (uint32_t)i, (uint32_t)j);
}

void h_delay_at(const char *file, int line, harness *h, size_t i, uint64_t extra_ns)
{
    if (need_queued(file, line, h, i, "h_delay"))
        net_wire_delay(h->net, (uint32_t)i, extra_ns);
}

void h_drop_sent(harness *h, size_t from, int flags, size_t count)
{
    h_rule *r = calloc(1, sizeof *r);

    assert(r != NULL && from < h->n);
    assert(h->n_rules < H_RULES_MAX && "more than H_RULES_MAX drop rules");
    *r = (h_rule){h, from, flags, count};
    h->rules[h->n_rules++] = r;
    rule_on_every_link(h, &(net_rule_opts){.action = NET_RULE_DROP,
                                           .filter = {.dir = -1, .len = -1},
                                           .count = UINT32_MAX,
                                           .match = drop_rule_match,
                                           .ctx = r});
}

void h_set_filter(harness *h, void *arg, h_filter_fn fn)
{
    if (!h->filter_rules && fn != NULL) {
        rule_on_every_link(h, &(net_rule_opts){.action = NET_RULE_HOOK,
                                               .filter = {.dir = -1, .len = -1},
                                               .count = UINT32_MAX,
                                               .hook = filter_hook,
                                               .ctx = h});
        h->filter_rules = true;
    }
    h->filter = fn;
    h->filter_arg = arg;
}

/* ---- Crafted segments ---------------------------------------------------------------- */

void h_inject_raw(harness *h, size_t to, const uint8_t *bytes, size_t len)
{
    assert(to < h->n);
    int rc = net_host_input(h->net, (uint32_t)to, bytes, len);
    assert(rc == 0);
    (void)rc;
}

void h_inject_at(const char *file, int line, harness *h, size_t to, const tcp_seg *seg)
{
    size_t need = tcp_wire_size(seg), len;
    uint8_t *buf;

    if (node_at(file, line, h, to) == NULL)
        return;
    buf = malloc(need);
    assert(buf != NULL);
    len = tcp_wire_encode(seg, buf, need);
    if (len == 0) {
        free(buf);
        fail_at(file, line, "h_inject: segment does not encode (%zu bytes)", need);
        return;
    }
    h_inject_raw(h, to, buf, len);
    free(buf);
}

uint32_t h_seg_len(const tcp_seg *s)
{
    return s->len + ((s->flags & TCP_SYN) ? 1u : 0u) + ((s->flags & TCP_FIN) ? 1u : 0u);
}

tcp_seg h_reply(const tcp_seg *sent)
{
    tcp_seg r;

    memset(&r, 0, sizeof r);
    r.src_addr = sent->dst_addr;
    r.dst_addr = sent->src_addr;
    r.src_port = sent->dst_port;
    r.dst_port = sent->src_port;
    r.seq = (sent->flags & TCP_ACK) ? sent->ack : 0;
    r.ack = sent->seq + h_seg_len(sent);
    r.flags = TCP_ACK;
    r.wnd = 65535;
    return r;
}

/* The last segment stack sent on the connection lport <-> raddr:rport. */
static const tcp_seg *last_on(const harness *h, size_t stack, uint16_t lport, uint32_t raddr,
                              uint16_t rport)
{
    const h_node *nd = &h->node[stack];
    size_t k = nd->n_sent;

    while (k-- > 0) {
        const tcp_seg *s = &nd->sent[k]->seg;

        if (s->src_port == lport && s->dst_addr == raddr && s->dst_port == rport)
            return s;
    }
    return NULL;
}

void h_inject_rst_at(const char *file, int line, harness *h, size_t stack, tcp_sock_id sock)
{
    tcp_tcb t;
    if (tcp_sock_tcb(h_stack(h, stack), sock, &t) != 0) {
        fail_at(file, line, "h_inject_rst: stack %c has no socket %" PRIu32, stack_letter(stack),
                sock);
        return;
    }
    tcp_seg rst = h_template_at(file, line, h, stack, sock);
    rst.flags = TCP_RST;
    rst.ack = 0;
    rst.seq = t.rcv_nxt;
    h_inject_at(file, line, h, stack, &rst);
}

tcp_seg h_template_at(const char *file, int line, const harness *h, size_t stack, tcp_sock_id sock)
{
    uint16_t lport = 0, rport = 0;
    uint32_t raddr = 0;
    const tcp_seg *last;
    tcp_seg s;

    memset(&s, 0, sizeof s);
    if (node_at(file, line, h, stack) == NULL)
        return s;
    if (tcp_sock_endpoints(h_stack(h, stack), sock, &lport, &raddr, &rport) != 0) {
        fail_at(file, line, "h_template: stack %c has no socket %" PRIu32, stack_letter(stack),
                sock);
        return s;
    }
    last = last_on(h, stack, lport, raddr, rport);
    if (last != NULL)
        s = h_reply(last);
    s.src_addr = raddr;
    s.src_port = rport;
    s.dst_addr = h_addr(h, stack);
    s.dst_port = lport;
    s.flags = TCP_ACK;
    s.wnd = 65535;
    return s;
}

/* ---- What was sent ----------------------------------------------------------------------- */

size_t h_sent_count(const harness *h, size_t stack)
{
    assert(stack < h->n);
    return h->node[stack].n_sent;
}

const h_dgram *h_sent(const harness *h, size_t stack, size_t k)
{
    assert(stack < h->n);
    return k < h->node[stack].n_sent ? h->node[stack].sent[k] : NULL;
}

const tcp_seg *h_last_sent(const harness *h, size_t stack)
{
    const h_node *nd = &h->node[stack];

    assert(stack < h->n);
    return nd->n_sent > 0 ? &nd->sent[nd->n_sent - 1]->seg : NULL;
}

void h_sent_skip(harness *h, size_t stack)
{
    assert(stack < h->n);
    h->node[stack].sent_checked = h->node[stack].n_sent;
}

static void expected_str(int flags, int64_t seq, int64_t ack, int64_t len, char *buf, size_t n)
{
    char f[40] = "*", sq[16] = "*", ak[16] = "*", ln[16] = "*";

    if (flags != H_ANY)
        tcp_flags_str((uint8_t)flags, f, sizeof f);
    if (seq != H_ANY)
        snprintf(sq, sizeof sq, "%" PRId64, seq);
    if (ack != H_ANY)
        snprintf(ak, sizeof ak, "%" PRId64, ack);
    if (len != H_ANY)
        snprintf(ln, sizeof ln, "%" PRId64, len);
    snprintf(buf, n, "%s seq=%s ack=%s len=%s", f, sq, ak, ln);
}

const tcp_seg *h_expect_sent_at(const char *file, int line, harness *h, size_t stack, int flags,
                                int64_t seq, int64_t ack, int64_t len)
{
    h_node *nd = node_at(file, line, h, stack);
    char want[96], got[200];
    const tcp_seg *s;

    check_errors(file, line, h);
    expected_str(flags, seq, ack, len, want, sizeof want);
    if (nd->sent_checked >= nd->n_sent) {
        print_sent(h, stack, nd->sent_checked);
        fail_at(file, line, "expected %c to send %s; it sent nothing more", stack_letter(stack),
                want);
        return NULL;
    }
    s = &nd->sent[nd->sent_checked]->seg;
    if ((flags != H_ANY && s->flags != (uint8_t)flags) ||
        (seq != H_ANY && s->seq != (uint32_t)seq) || (ack != H_ANY && s->ack != (uint32_t)ack) ||
        (len != H_ANY && s->len != (uint32_t)len)) {
        print_sent(h, stack, nd->sent_checked);
        fail_at(file, line, "segment %zu of %c\n  expected: %s\n  actual:   %s", nd->sent_checked,
                stack_letter(stack), want, h_seg_str(h, s, got, sizeof got));
        return NULL;
    }
    nd->sent_checked++;
    return s;
}

void h_expect_none_sent_at(const char *file, int line, harness *h, size_t stack)
{
    const h_node *nd = node_at(file, line, h, stack);

    check_errors(file, line, h);
    if (nd->sent_checked < nd->n_sent) {
        print_sent(h, stack, nd->sent_checked);
        fail_at(file, line, "expected %c to have sent nothing more; it sent %zu more segment(s)",
                stack_letter(stack), nd->n_sent - nd->sent_checked);
    }
}

const tcp_seg *h_expect_seg_at(const char *file, int line, harness *h, size_t stack,
                               h_seg_want want)
{
    const h_node *nd = node_at(file, line, h, stack);
    char got[200];

    if (want.wnd != H_ANY && nd->sent_checked < nd->n_sent) {
        const tcp_seg *s = &nd->sent[nd->sent_checked]->seg;
        if (s->wnd != (uint16_t)want.wnd) {
            print_sent(h, stack, nd->sent_checked);
            fail_at(file, line, "segment %zu of %c\n  expected: wnd=%lld\n  actual:   %s",
                    nd->sent_checked, stack_letter(stack), (long long)want.wnd,
                    h_seg_str(h, s, got, sizeof got));
            return NULL;
        }
    }
    return h_expect_sent_at(file, line, h, stack, want.flags, want.seq, want.ack, want.len);
}

/* Closes every socket the events of stack i name (listeners, connections,
 * sockets a RST left CLOSED; one already released refuses, which is fine). */
static void close_all(harness *h, size_t i)
{
    const h_node *nd = &h->node[i];
    tcp_stack *st = h_stack(h, i);
    tcp_sock_id max = 0;

    if (st == NULL)
        return;
    for (size_t k = 0; k < nd->n_events; k++)
        if (nd->events[k].sock > max)
            max = nd->events[k].sock;
    for (tcp_sock_id id = 1; id <= max; id++)
        (void)tcp_close(st, id);
}

void h_finish_at(const char *file, int line, harness *h)
{
    for (size_t i = 0; i < h->n; i++)
        close_all(h, i);
    h_run_at(file, line, h, h_now(h) + H_S(600));
    for (size_t i = 0; i < h->n; i++)
        h_expect_conns_at(file, line, h, i, 0);
}

/* ---- What happened ------------------------------------------------------------------------ */

size_t h_event_count(const harness *h, size_t stack)
{
    assert(stack < h->n);
    return h->node[stack].n_events;
}

const h_event *h_event_at(const harness *h, size_t stack, size_t k)
{
    assert(stack < h->n);
    return k < h->node[stack].n_events ? &h->node[stack].events[k] : NULL;
}

size_t h_count(const harness *h, size_t stack, tcp_sock_id sock, tcp_event_kind kind)
{
    const h_node *nd = &h->node[stack];
    size_t k, n = 0;

    assert(stack < h->n);
    for (k = 0; k < nd->n_events; k++)
        if (nd->events[k].kind == kind && (sock == H_ALL_SOCKS || nd->events[k].sock == sock))
            n++;
    return n;
}

size_t h_trace(const harness *h, size_t stack, tcp_sock_id sock, tcp_state *out, size_t max)
{
    const h_node *nd = &h->node[stack];
    size_t k, n = 0;

    assert(stack < h->n);
    for (k = 0; k < nd->n_events; k++) {
        const h_event *e = &nd->events[k];

        if (e->kind != TCP_EV_STATE || e->sock != sock)
            continue;
        if (n == 0) {
            if (max > 0)
                out[0] = e->from;
            n = 1;
        }
        if (n < max)
            out[n] = e->to;
        n++;
    }
    if (n == 0) {
        if (max > 0)
            out[0] = tcp_sock_state(h_stack(h, stack), sock);
        n = 1;
    }
    return n;
}

static void print_states(const char *label, const tcp_state *s, size_t n)
{
    size_t i;

    fprintf(stderr, "  %s", label);
    for (i = 0; i < n; i++)
        fprintf(stderr, "%s%s", i > 0 ? " -> " : "", tcp_state_name(s[i]));
    fputc('\n', stderr);
}

void h_expect_trace_at(const char *file, int line, harness *h, size_t stack, tcp_sock_id sock,
                       const tcp_state *states, size_t n)
{
    tcp_state got[64];
    size_t k, total;

    node_at(file, line, h, stack);
    check_errors(file, line, h);
    total = h_trace(h, stack, sock, got, 64);
    if (total == n && memcmp(got, states, n * sizeof *states) == 0)
        return;
    print_states("expected: ", states, n);
    print_states("actual:   ", got, total < 64 ? total : 64);
    fprintf(stderr, "  transitions:\n");
    for (k = 0; k < h->node[stack].n_events; k++) {
        const h_event *e = &h->node[stack].events[k];

        if (e->kind == TCP_EV_STATE && e->sock == sock)
            print_event(h, e);
    }
    fail_at(file, line, "trace of %c sock %" PRIu32 " differs", stack_letter(stack), sock);
}

void h_expect_state_at(const char *file, int line, harness *h, size_t stack, tcp_sock_id sock,
                       tcp_state state)
{
    tcp_state got;

    node_at(file, line, h, stack);
    check_errors(file, line, h);
    got = tcp_sock_state(h_stack(h, stack), sock);
    if (got != state) {
        h_dump(h, stack);
        fail_at(file, line, "%c sock %" PRIu32 ": expected %s, is %s", stack_letter(stack), sock,
                tcp_state_name(state), tcp_state_name(got));
    }
}

void h_expect_conns_at(const char *file, int line, harness *h, size_t stack, size_t n)
{
    size_t got;

    node_at(file, line, h, stack);
    check_errors(file, line, h);
    got = net_host_conns(h->net, (uint32_t)stack);
    if (got != n)
        fail_at(file, line, "%c has %zu connection(s), expected %zu", stack_letter(stack), got, n);
}

const h_event *h_last_transition(const harness *h, size_t stack, tcp_sock_id sock)
{
    const h_node *nd = &h->node[stack];
    size_t k = nd->n_events;

    assert(stack < h->n);
    while (k-- > 0)
        if (nd->events[k].kind == TCP_EV_STATE && nd->events[k].sock == sock)
            return &nd->events[k];
    return NULL;
}

const h_event *h_find_transition(const harness *h, size_t stack, tcp_sock_id sock, tcp_state to)
{
    const h_node *nd = &h->node[stack];

    assert(stack < h->n);
    for (size_t k = 0; k < nd->n_events; k++) {
        const h_event *e = &nd->events[k];
        if (e->kind == TCP_EV_STATE && (sock == 0 || e->sock == sock) && e->to == to)
            return e;
    }
    return NULL;
}

tcp_sock_id h_child(const harness *h, size_t stack, tcp_sock_id listener, size_t k)
{
    const h_node *nd = &h->node[stack];
    tcp_sock_id last = 0;
    size_t i, seen = 0;

    assert(stack < h->n);
    /* Ids are never reused and grow, so a new child is one above the last. */
    for (i = 0; i < nd->n_events; i++) {
        const h_event *e = &nd->events[i];

        if (e->parent != listener || e->sock == listener || e->sock == 0 || e->sock <= last)
            continue;
        if (seen++ == k)
            return e->sock;
        last = e->sock;
    }
    return 0;
}

/* ---- User calls ---------------------------------------------------------------------------- */

static bool call_ok(const char *file, int line, const char *call, int rc)
{
    if (rc == TCP_OK)
        return true;
    fail_at(file, line, "%s failed: %s", call, tcp_err_name(rc));
    return false;
}

tcp_sock_id h_listen_at(const char *file, int line, harness *h, size_t stack, uint16_t port,
                        uint32_t backlog, uint32_t rcvbuf)
{
    tcp_sock_id id = 0;
    tcp_stack *s;

    node_at(file, line, h, stack);
    s = h_stack(h, stack);
    if (call_ok(file, line, "tcp_socket", tcp_socket(s, &id)) &&
        (rcvbuf == 0 ||
         call_ok(file, line, "tcp_setopt", tcp_setopt(s, id, TCP_OPT_RCVBUF, rcvbuf))) &&
        call_ok(file, line, "tcp_bind", tcp_bind(s, id, port)))
        call_ok(file, line, "tcp_listen", tcp_listen(s, id, backlog));
    return id;
}

tcp_sock_id h_connect_at(const char *file, int line, harness *h, size_t stack, size_t to,
                         uint16_t port, int64_t isn)
{
    tcp_sock_id id = 0;
    tcp_stack *s;

    node_at(file, line, h, stack);
    node_at(file, line, h, to);
    s = h_stack(h, stack);
    if (!call_ok(file, line, "tcp_socket", tcp_socket(s, &id)))
        return 0;
    if (isn != H_ANY &&
        !call_ok(file, line, "tcp_setopt(ISN)", tcp_setopt(s, id, TCP_OPT_ISN, (uint64_t)isn)))
        return 0;
    if (call_ok(file, line, "tcp_bind", tcp_bind(s, id, 0)))
        call_ok(file, line, "tcp_connect", tcp_connect(s, id, h_addr(h, to), port));
    return id;
}

tcp_sock_id h_accept_at(const char *file, int line, harness *h, size_t stack, tcp_sock_id listener)
{
    tcp_sock_id id = 0;

    node_at(file, line, h, stack);
    call_ok(file, line, "tcp_accept", tcp_accept(h_stack(h, stack), listener, &id));
    return id;
}

h_pair h_establish_at(const char *file, int line, harness *h, size_t client, size_t server,
                      uint16_t port)
{
    h_pair p;

    p.listener = h_listen_at(file, line, h, server, port, 16, 0);
    p.client = h_connect_at(file, line, h, client, server, port, H_ANY);
    h_settle_at(file, line, h);
    p.server = h_accept_at(file, line, h, server, p.listener);
    h_expect_state_at(file, line, h, client, p.client, TCP_ESTABLISHED);
    h_expect_state_at(file, line, h, server, p.server, TCP_ESTABLISHED);
    h_sent_skip(h, client);
    h_sent_skip(h, server);
    return p;
}

void h_send_at(const char *file, int line, harness *h, size_t stack, tcp_sock_id sock,
               const char *text)
{
    size_t n = strlen(text);
    long r;

    node_at(file, line, h, stack);
    r = tcp_send(h_stack(h, stack), sock, text, n);
    if (r < 0)
        fail_at(file, line, "tcp_send failed: %s", tcp_err_name((int)r));
    else if ((size_t)r != n)
        fail_at(file, line, "tcp_send took %ld of %zu bytes", r, n);
}

void h_expect_recv_at(const char *file, int line, harness *h, size_t stack, tcp_sock_id sock,
                      const char *text)
{
    size_t want = strlen(text), got = 0;
    char *buf = malloc(want + 1);
    long r = 0;

    assert(buf != NULL);
    node_at(file, line, h, stack);
    while (got < want) {
        r = tcp_recv(h_stack(h, stack), sock, buf + got, want - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    buf[got] = '\0';
    if (got != want || memcmp(buf, text, want) != 0) {
        fprintf(stderr, "  expected: \"%s\"\n  actual:   \"%s\" (last tcp_recv: %ld %s)\n", text,
                buf, r, r < 0 ? tcp_err_name((int)r) : "");
        free(buf);
        fail_at(file, line, "%c sock %" PRIu32 " received other bytes", stack_letter(stack), sock);
        return;
    }
    free(buf);
}
