/*
 * harness — fake tcp_env, wire and clock for stack tests (see harness.h).
 *
 * Invariants:
 *  - h->queue is sorted by deliver_ns, and entries with equal times keep
 *    the order they were queued in; position 0 is always the next due.
 *  - Every datagram a stack output is owned by that stack's sent log until
 *    h_free; queue entries only point at log entries, so a duplicate costs
 *    a pointer and delivered bytes are never mutated.
 *  - The clock never goes backwards.
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

#define H_ADDR_BASE  0x0a000001u /* 10.0.0.1 */
#define H_RULES_MAX  8
#define H_STEPS_MAX  1000000u /* deliveries + timer firings in one run */
#define H_ERRORS_LEN 2048

#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

typedef struct h_node {
    harness *h;
    size_t index;
    tcp_stack *stack;
    tcp_env env;
    tcp_profile profile;
    uint64_t rng;
    h_dgram **sent;
    size_t n_sent, cap_sent, sent_checked;
    h_event *events;
    size_t n_events, cap_events;
} h_node;

typedef struct h_qent {
    h_dgram *d;
    uint64_t deliver_ns;
} h_qent;

typedef struct h_rule {
    size_t from;
    int flags;
    size_t count;
} h_rule;

struct harness {
    size_t n;
    h_node node[H_STACKS_MAX];
    uint64_t now_ns, delay_ns, seed, undeliverable;
    h_qent *queue;
    size_t n_queue, cap_queue;
    h_rule rules[H_RULES_MAX];
    h_filter_fn filter;
    void *filter_arg;
    bool stuck; /* a run must stop: see the errors */
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

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
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

static const char *kind_name(tcp_event_kind k)
{
    static const char *const names[] = {"STATE", "SEG_IN", "SEG_OUT", "DROP",
                                        "TIMER", "USER",   "ERROR"};

    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
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
            kind_name(e->kind));
    if (e->kind == TCP_EV_STATE)
        fprintf(stderr, " %s -> %s (%s)", tcp_state_name(e->from), tcp_state_name(e->to),
                tcp_cause_name(e->cause));
    else if (e->kind == TCP_EV_TIMER)
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

/* ---- The environment each stack sees ------------------------------------------ */

static uint64_t env_now(void *ctx)
{
    const h_node *nd = ctx;

    return nd->h->now_ns;
}

static uint64_t env_random(void *ctx)
{
    h_node *nd = ctx;

    return splitmix64(&nd->rng);
}

static void queue_insert(harness *h, h_dgram *d, uint64_t deliver_ns)
{
    size_t pos = h->n_queue;

    h->queue = grow(h->queue, &h->cap_queue, h->n_queue + 1, sizeof *h->queue);
    while (pos > 0 && h->queue[pos - 1].deliver_ns > deliver_ns)
        pos--;
    memmove(h->queue + pos + 1, h->queue + pos, (h->n_queue - pos) * sizeof *h->queue);
    h->queue[pos] = (h_qent){d, deliver_ns};
    h->n_queue++;
}

static h_qent queue_remove(harness *h, size_t i)
{
    h_qent e = h->queue[i];

    assert(i < h->n_queue);
    memmove(h->queue + i, h->queue + i + 1, (h->n_queue - i - 1) * sizeof *h->queue);
    h->n_queue--;
    return e;
}

static h_verdict wire_verdict(harness *h, const h_dgram *d, uint64_t *deliver_ns)
{
    size_t i;

    for (i = 0; i < H_RULES_MAX; i++) {
        h_rule *r = &h->rules[i];

        if (r->count > 0 && r->from == d->from && (r->flags == H_ANY || r->flags == d->seg.flags)) {
            r->count--;
            return H_DROP;
        }
    }
    return h->filter != NULL ? h->filter(h, d, deliver_ns, h->filter_arg) : H_PASS;
}

static void env_output(void *ctx, const uint8_t *bytes, size_t len)
{
    h_node *nd = ctx;
    harness *h = nd->h;
    h_dgram *d = calloc(1, sizeof *d);
    uint8_t *copy = malloc(len > 0 ? len : 1);
    uint64_t due = h->now_ns + h->delay_ns;
    tcp_wire_err e;
    h_verdict v;

    assert(d != NULL && copy != NULL);
    memcpy(copy, bytes, len);
    *d = (h_dgram){
        .from = nd->index, .to = H_NOWHERE, .sent_ns = h->now_ns, .bytes = copy, .len = len};
    nd->sent = grow(nd->sent, &nd->cap_sent, nd->n_sent + 1, sizeof *nd->sent);
    nd->sent[nd->n_sent++] = d;
    e = tcp_wire_parse(copy, len, &d->seg);
    if (e != TCP_WIRE_OK) {
        h_error(h, "stack %c output a datagram tcp_wire_parse rejects: %s", stack_letter(nd->index),
                tcp_wire_err_name(e));
        return;
    }
    if (d->seg.src_addr != h_addr(h, nd->index))
        h_error(h, "stack %c output a datagram from another address", stack_letter(nd->index));
    d->to = owner_of(h, d->seg.dst_addr);
    v = wire_verdict(h, d, &due);
    if (v == H_DROP)
        return;
    queue_insert(h, d, due);
    if (v == H_DUP)
        queue_insert(h, d, due);
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

static void env_event(void *ctx, const tcp_event *ev)
{
    h_node *nd = ctx;
    harness *h = nd->h;
    h_event *r;

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
    }
    snprintf(r->note, sizeof r->note, "%s", ev->note != NULL ? ev->note : "");
    if (ev->time_ns != h->now_ns)
        h_error(h, "stack %c: %s event stamped %" PRIu64 "ns at %" PRIu64 "ns",
                stack_letter(nd->index), kind_name(ev->kind), ev->time_ns, h->now_ns);
    if (ev->kind == TCP_EV_STATE)
        check_chain(h, nd, r);
}

/* ---- Lifetime ------------------------------------------------------------------- */

/* tcp_check reports a broken stack invariant: a harness error. */
static void on_violation(void *ctx, const tcp_check_report *r)
{
    h_node *nd = ctx;
    char line[512];

    tcp_check_format(r, line, sizeof line);
    h_error(nd->h, "stack %c: %s", stack_letter(nd->index), line);
}

static void node_start(harness *h, size_t i)
{
    h_node *nd = &h->node[i];

    nd->h = h;
    nd->index = i;
    nd->rng = h->seed ^ (0x9e3779b97f4a7c15u * (i + 1));
    nd->env = (tcp_env){.ctx = nd,
                        .now_ns = env_now,
                        .random = env_random,
                        .output = env_output,
                        .event = env_event};
    nd->stack = tcp_stack_new(&nd->env, h_addr(h, i), &nd->profile);
    assert(nd->stack != NULL);
    tcp_check_enable(nd->stack, true, on_violation, nd);
}

harness *h_new(size_t n_stacks, const tcp_profile *profile)
{
    harness *h = calloc(1, sizeof *h);
    size_t i;

    assert(h != NULL);
    assert(n_stacks >= 1 && n_stacks <= H_STACKS_MAX);
    if (profile == NULL)
        profile = tcp_profile_find("rfc9293");
    assert(profile != NULL);
    h->n = n_stacks;
    h->seed = 1;
    for (i = 0; i < n_stacks; i++) {
        h->node[i].profile = *profile;
        node_start(h, i);
    }
    return h;
}

void h_free(harness *h)
{
    size_t i, k;

    if (h == NULL)
        return;
    for (i = 0; i < h->n; i++)
        tcp_stack_free(h->node[i].stack);
    for (i = 0; i < h->n; i++) {
        for (k = 0; k < h->node[i].n_sent; k++) {
            free((uint8_t *)h->node[i].sent[k]->bytes);
            free(h->node[i].sent[k]);
        }
        free(h->node[i].sent);
        free(h->node[i].events);
    }
    free(h->queue);
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
        h_run_at(__FILE__, __LINE__, h, h->now_ns + H_S(600));

    if (h != NULL && h->n_errors > 0) {
        fprintf(stderr, "%zu harness error(s):\n%s", h->n_errors, h->errors);
        rc = -1;
    }
    for (size_t i = 0; h != NULL && i < h->n; i++) {
        size_t left = h->node[i].stack ? tcp_stack_conns(h->node[i].stack) : 0;
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

void h_reboot(harness *h, size_t i, const tcp_profile *profile)
{
    h_node *nd = &h->node[i];

    assert(i < h->n);
    tcp_stack_free(nd->stack);
    nd->stack = NULL;
    nd->n_events = 0;
    if (profile != NULL)
        nd->profile = *profile;
    node_start(h, i);
}

tcp_stack *h_stack(const harness *h, size_t i)
{
    assert(i < h->n);
    return h->node[i].stack;
}

uint32_t h_addr(const harness *h, size_t i)
{
    assert(i < h->n);
    return H_ADDR_BASE + (uint32_t)i;
}

uint64_t h_now(const harness *h)
{
    return h->now_ns;
}

void h_set_delay(harness *h, uint64_t one_way_ns)
{
    h->delay_ns = one_way_ns;
}

void h_set_seed(harness *h, uint64_t seed)
{
    size_t i;

    h->seed = seed;
    for (i = 0; i < h->n; i++)
        h->node[i].rng = seed ^ (0x9e3779b97f4a7c15u * (i + 1));
}

uint64_t h_undeliverable(const harness *h)
{
    return h->undeliverable;
}

/* ---- Time ------------------------------------------------------------------------- */

/* The earliest armed deadline, lowest stack index on a tie; false if none. */
static bool earliest_timer(const harness *h, uint64_t *t, size_t *who)
{
    bool any = false;
    size_t i;

    for (i = 0; i < h->n; i++) {
        uint64_t d = tcp_stack_next_deadline(h->node[i].stack);

        if (d != UINT64_MAX && (!any || d < *t)) {
            *t = d;
            *who = i;
            any = true;
        }
    }
    if (any && *t < h->now_ns)
        *t = h->now_ns;
    return any;
}

static void fire_timers(harness *h, size_t i)
{
    char t[32], d[32];
    uint64_t next;

    tcp_stack_on_time(h->node[i].stack);
    next = tcp_stack_next_deadline(h->node[i].stack);
    if (next <= h->now_ns) {
        h_error(h, "stack %c: after tcp_stack_on_time at %s the next deadline is %s",
                stack_letter(i), time_str(h->now_ns, t, sizeof t), time_str(next, d, sizeof d));
        h->stuck = true;
    }
}

static void deliver_next(harness *h)
{
    h_qent e = queue_remove(h, 0);

    if (e.d->to == H_NOWHERE) {
        h->undeliverable++;
        return;
    }
    tcp_stack_input(h->node[e.d->to].stack, e.d->bytes, e.d->len);
}

/* The event loop: until until_ns, or (quiet_stop) until the wire is empty.
 * Returns datagrams delivered. */
static size_t run_loop(harness *h, uint64_t until_ns, bool wire, bool quiet_stop)
{
    size_t delivered = 0, steps = 0, who = 0;
    uint64_t t_wire, t_timer = UINT64_MAX;

    while (!h->stuck) {
        if (quiet_stop && h->n_queue == 0)
            break;
        t_wire = wire && h->n_queue > 0 ? h->queue[0].deliver_ns : UINT64_MAX;
        if (t_wire != UINT64_MAX && t_wire < h->now_ns)
            t_wire = h->now_ns;
        if (!earliest_timer(h, &t_timer, &who))
            t_timer = UINT64_MAX;
        if (t_wire == UINT64_MAX && t_timer == UINT64_MAX)
            break;
        if ((t_wire <= t_timer ? t_wire : t_timer) > until_ns)
            break;
        if (++steps > H_STEPS_MAX) {
            h_error(h, "more than %u deliveries and timer firings in one run", H_STEPS_MAX);
            h->stuck = true;
            break;
        }
        if (t_wire <= t_timer) {
            h->now_ns = t_wire;
            deliver_next(h);
            delivered++;
        } else {
            h->now_ns = t_timer;
            fire_timers(h, who);
        }
    }
    if (!quiet_stop && !h->stuck && until_ns > h->now_ns)
        h->now_ns = until_ns;
    return delivered;
}

void h_advance_at(const char *file, int line, harness *h, uint64_t ns)
{
    run_loop(h, h->now_ns + ns, false, false);
    if (h->stuck)
        check_errors(file, line, h);
}

size_t h_run_at(const char *file, int line, harness *h, uint64_t until_ns)
{
    size_t n = run_loop(h, until_ns, true, false);

    if (h->stuck)
        check_errors(file, line, h);
    return n;
}

size_t h_settle_at(const char *file, int line, harness *h)
{
    size_t n = run_loop(h, UINT64_MAX, true, true);

    if (h->stuck)
        check_errors(file, line, h);
    return n;
}

/* ---- Manual steps on the wire ------------------------------------------------------- */

size_t h_pending(const harness *h)
{
    return h->n_queue;
}

const h_dgram *h_peek(const harness *h, size_t i)
{
    return i < h->n_queue ? h->queue[i].d : NULL;
}

uint64_t h_peek_due(const harness *h, size_t i)
{
    assert(i < h->n_queue);
    return h->queue[i].deliver_ns;
}

static bool need_queued(const char *file, int line, const harness *h, size_t i, const char *what)
{
    if (i < h->n_queue)
        return true;
    fail_at(file, line, "%s: position %zu, but %zu datagram(s) are queued", what, i, h->n_queue);
    return false;
}

void h_deliver_at(const char *file, int line, harness *h)
{
    if (need_queued(file, line, h, 0, "h_deliver"))
        deliver_next(h);
}

size_t h_deliver_all_at(const char *file, int line, harness *h)
{
    size_t n = 0;

    while (h->n_queue > 0) {
        if (++n > H_STEPS_MAX) {
            fail_at(file, line, "h_deliver_all: more than %u datagrams at one instant",
                    H_STEPS_MAX);
            break;
        }
        deliver_next(h);
    }
    return n;
}

void h_drop_at(const char *file, int line, harness *h)
{
    if (need_queued(file, line, h, 0, "h_drop"))
        queue_remove(h, 0);
}

void h_dup_at(const char *file, int line, harness *h)
{
    if (!need_queued(file, line, h, 0, "h_dup"))
        return;
    h->queue = grow(h->queue, &h->cap_queue, h->n_queue + 1, sizeof *h->queue);
    memmove(h->queue + 2, h->queue + 1, (h->n_queue - 1) * sizeof *h->queue);
    h->queue[1] = h->queue[0];
    h->n_queue++;
}

/* The due times stay with the positions, so the queue stays sorted and the
 * datagram that was behind now arrives first. */
void h_swap_at(const char *file, int line, harness *h, size_t i, size_t j)
{
    h_dgram *d;

    if (!need_queued(file, line, h, i, "h_swap") || !need_queued(file, line, h, j, "h_swap"))
        return;
    d = h->queue[i].d;
    h->queue[i].d = h->queue[j].d;
    h->queue[j].d = d;
}

void h_delay_at(const char *file, int line, harness *h, size_t i, uint64_t extra_ns)
{
    h_qent e;

    if (!need_queued(file, line, h, i, "h_delay"))
        return;
    e = queue_remove(h, i);
    queue_insert(h, e.d, (e.deliver_ns > h->now_ns ? e.deliver_ns : h->now_ns) + extra_ns);
}

void h_drop_sent(harness *h, size_t from, int flags, size_t count)
{
    size_t i;

    for (i = 0; i < H_RULES_MAX; i++) {
        if (h->rules[i].count == 0) {
            h->rules[i] = (h_rule){from, flags, count};
            return;
        }
    }
    assert(!"more than H_RULES_MAX drop rules active");
}

void h_set_filter(harness *h, void *arg, h_filter_fn fn)
{
    h->filter = fn;
    h->filter_arg = arg;
}

/* ---- Crafted segments ---------------------------------------------------------------- */

void h_inject_raw(harness *h, size_t to, const uint8_t *bytes, size_t len)
{
    assert(to < h->n);
    tcp_stack_input(h->node[to].stack, bytes, len);
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
    tcp_stack_input(h->node[to].stack, buf, len);
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

tcp_seg h_template_at(const char *file, int line, const harness *h, size_t stack, tcp_sock_id sock)
{
    uint16_t lport = 0, rport = 0;
    uint32_t raddr = 0;
    const tcp_seg *last;
    tcp_seg s;

    memset(&s, 0, sizeof s);
    if (node_at(file, line, h, stack) == NULL)
        return s;
    if (tcp_sock_endpoints(h->node[stack].stack, sock, &lport, &raddr, &rport) != 0) {
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
    tcp_sock_id max = 0;

    if (nd->stack == NULL)
        return;
    for (size_t k = 0; k < nd->n_events; k++)
        if (nd->events[k].sock > max)
            max = nd->events[k].sock;
    for (tcp_sock_id id = 1; id <= max; id++)
        (void)tcp_close(nd->stack, id);
}

void h_finish_at(const char *file, int line, harness *h)
{
    for (size_t i = 0; i < h->n; i++)
        close_all(h, i);
    h_run_at(file, line, h, h->now_ns + H_S(600));
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
            out[0] = tcp_sock_state(nd->stack, sock);
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
    got = tcp_sock_state(h->node[stack].stack, sock);
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
    got = tcp_stack_conns(h->node[stack].stack);
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
                        uint32_t backlog)
{
    tcp_sock_id id = 0;
    tcp_stack *s;

    node_at(file, line, h, stack);
    s = h->node[stack].stack;
    if (call_ok(file, line, "tcp_socket", tcp_socket(s, &id)) &&
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
    s = h->node[stack].stack;
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
    call_ok(file, line, "tcp_accept", tcp_accept(h->node[stack].stack, listener, &id));
    return id;
}

h_pair h_establish_at(const char *file, int line, harness *h, size_t client, size_t server,
                      uint16_t port)
{
    h_pair p;

    p.listener = h_listen_at(file, line, h, server, port, 16);
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
    r = tcp_send(h->node[stack].stack, sock, text, n);
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
        r = tcp_recv(h->node[stack].stack, sock, buf + got, want - got);
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
