/*
 * kern_sampler — a connection's state changes as the kernel shows them.
 *
 * Sampling can only see the states that last until a sample: a change is
 * recorded with the interval (previous sample, this sample] it happened in,
 * and `gap` says when no single transition explains it. The sampler never
 * fills in the states it did not see: which states were skipped is for a
 * reader who knows more (the segments around it) to decide.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <time.h>

#include "kern_internal.h"

#define BIT(s) (1u << (s))

/* Edges of the RFC 9293 §3.3.2 state diagram, as seen on one tuple: a
 * passive open shows no LISTEN for the connection's own tuple (the request
 * socket appears in SYN_RECEIVED), and RFC 1122 §4.2.2.13 lets a SYN reopen
 * a tuple in TIME_WAIT. Any state may end CLOSED (RST, abort, timeout). */
static uint32_t direct_edges(tcp_state from)
{
    switch (from) {
    case TCP_CLOSED:
        return BIT(TCP_SYN_SENT) | BIT(TCP_SYN_RECEIVED) | BIT(TCP_LISTEN);
    case TCP_LISTEN:
        return BIT(TCP_SYN_SENT) | BIT(TCP_SYN_RECEIVED);
    case TCP_SYN_SENT:
        return BIT(TCP_SYN_RECEIVED) | BIT(TCP_ESTABLISHED);
    case TCP_SYN_RECEIVED: /* §3.10.7.4: a FIN in SYN-RECEIVED enters CLOSE-WAIT */
        return BIT(TCP_ESTABLISHED) | BIT(TCP_FIN_WAIT_1) | BIT(TCP_CLOSE_WAIT);
    case TCP_ESTABLISHED:
        return BIT(TCP_FIN_WAIT_1) | BIT(TCP_CLOSE_WAIT);
    case TCP_FIN_WAIT_1: /* §3.10.7.4: FIN with the ACK of ours enters TIME-WAIT */
        return BIT(TCP_FIN_WAIT_2) | BIT(TCP_CLOSING) | BIT(TCP_TIME_WAIT);
    case TCP_FIN_WAIT_2:
        return BIT(TCP_TIME_WAIT);
    case TCP_CLOSE_WAIT:
        return BIT(TCP_LAST_ACK);
    case TCP_CLOSING:
        return BIT(TCP_TIME_WAIT);
    case TCP_LAST_ACK:
        return 0;
    case TCP_TIME_WAIT:
        return BIT(TCP_SYN_RECEIVED);
    default:
        return 0;
    }
}

bool kern_transition_direct(tcp_state from, tcp_state to)
{
    return to == TCP_CLOSED ? from != TCP_CLOSED : (direct_edges(from) & BIT(to)) != 0;
}

void kern_sampler_init(kern_sampler *s, const kern_tuple *t, uint64_t now_ns)
{
    *s = (kern_sampler){.tuple = *t, .last = TCP_CLOSED, .last_ns = now_ns};
}

int kern_sampler_sample(kern_sampler *s, kern_ns *ns, uint64_t now_ns)
{
    kern_diag d;
    int rc = kern_diag_lookup(ns, &s->tuple, &d);
    if (rc < 0)
        return rc;
    tcp_state now = rc == 1 ? d.state : TCP_CLOSED;
    s->samples++;
    uint64_t before = s->last_ns;
    s->last_ns = now_ns;
    if (now == s->last)
        return 0;
    if (s->nchanges < KERN_CHANGES_MAX) {
        s->changes[s->nchanges++] = (kern_change){
            .t_before_ns = before,
            .t_seen_ns = now_ns,
            .from = s->last,
            .to = now,
            .gap = !kern_transition_direct(s->last, now),
        };
    } else {
        s->lost++;
    }
    s->last = now;
    return 1;
}

int kern_sampler_wait(kern_sampler *s, kern_ns *ns, tcp_state want, uint64_t timeout_ns)
{
    uint64_t end = kern_clock_ns() + timeout_ns;
    for (;;) {
        int rc = kern_sampler_sample(s, ns, kern_clock_ns());
        if (rc < 0)
            return rc;
        if (s->last == want)
            return 1;
        if (kern_clock_ns() >= end)
            return 0;
        struct timespec ms = {.tv_nsec = 1000000};
        nanosleep(&ms, NULL);
    }
}
