/*
 * test_oom — every allocation the stack makes may fail, and each failure
 * leaves the stack whole: a connection's life (options set, listen,
 * connect, data both ways, an idle ring parked and taken again, close,
 * the TIME_WAIT minisock and its connection rebuilt by a segment, a SYN
 * reopening a server's TIME_WAIT, a listener closed with a child queued,
 * the 2MSL timeout) is run once to count the allocations, then once per
 * allocation with that one failing. A failed call answers TCP_ENOMEM (or
 * a segment is dropped) and the run goes on; nothing may crash, trip an
 * assertion or the invariant checker, or leak (the sanitizers' build
 * checks the last). Two stacks on a fake environment: no simulator, so
 * every allocation counted is the stack's.
 *
 * malloc, calloc and realloc are wrapped at link time (-Wl,--wrap, see
 * CMakeLists.txt and ../oom_wrap.h): __wrap_* count the calls while `armed` and fail the
 * one numbered `fail_at` (with `fail_rest`, it and every later one: memory
 * that stays exhausted).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp.h"
#include "tcp_check.h"
#include "tcp_wire.h"

#include "../oom_wrap.h"

/* ---- Two stacks and a wire ------------------------------------------------ */

#define ADDR_A   0x0a000001u
#define ADDR_B   0x0a000002u
#define WIRE_MAX 64u
#define DG_MAX   2048u

typedef struct dgram {
    uint32_t to;
    size_t len;
    uint8_t bytes[DG_MAX];
} dgram;

typedef struct world {
    uint64_t now, rng;
    tcp_stack *st[2];
    dgram wire[WIRE_MAX];
    size_t nwire;
    dgram fin_to_a; /* the last FIN sent to A (len 0: none) */
    unsigned violations;
    long got_b, got_a;       /* bytes each end read */
    tcp_state a_closed_in;   /* A's state once both ends closed */
    bool minisock_acked_fin; /* A answered the FIN sent again */
    tcp_state b_closed_in;   /* the server's state once it closed first */
    tcp_state reopened;      /* the SYN that met the server's minisock */
} world;

static world W;

static uint64_t w_now(void *ctx)
{
    (void)ctx;
    return W.now;
}

static uint64_t w_random(void *ctx)
{
    (void)ctx;
    W.rng ^= W.rng << 13; /* xorshift64 */
    W.rng ^= W.rng >> 7;
    W.rng ^= W.rng << 17;
    return W.rng;
}

/* The destination address is bytes 16..19 of the IPv4 header. */
static void w_output(void *ctx, const uint8_t *d, size_t len)
{
    (void)ctx;
    if (W.nwire == WIRE_MAX || len > DG_MAX || len < 20)
        return; /* a full wire loses it */
    dgram *g = &W.wire[W.nwire++];
    g->to = (uint32_t)d[16] << 24 | (uint32_t)d[17] << 16 | (uint32_t)d[18] << 8 | d[19];
    g->len = len;
    memcpy(g->bytes, d, len);
    size_t ihl = (size_t)(d[0] & 0x0f) * 4u;
    if (g->to == ADDR_A && len > ihl + 13 && (d[ihl + 13] & TCP_FIN))
        W.fin_to_a = *g;
}

static void w_violation(void *ctx, const tcp_check_report *r)
{
    (void)ctx;
    fprintf(stderr, "fail_at %lu: invariant: %s\n", fail_at, r->detail);
    W.violations++;
}

static const tcp_env ENV = {.now_ns = w_now, .random = w_random, .output = w_output};

static tcp_stack *w_stack(uint32_t i)
{
    return W.st[i];
}

/* Delivers what is on the wire, oldest first, until it is empty. */
static void w_deliver(void)
{
    for (unsigned rounds = 0; W.nwire && rounds < 1000; rounds++) {
        dgram g = W.wire[0];
        memmove(&W.wire[0], &W.wire[1], (W.nwire - 1) * sizeof W.wire[0]);
        W.nwire--;
        tcp_stack_input(w_stack(g.to == ADDR_A ? 0 : 1), g.bytes, g.len);
    }
}

/* Moves the clock to `until`, firing each stack's deadlines on the way
 * and delivering what they send. */
static void w_run_until(uint64_t until)
{
    for (unsigned steps = 0; steps < 10000; steps++) {
        w_deliver();
        uint64_t next = until;
        for (int i = 0; i < 2; i++) {
            uint64_t d = tcp_stack_next_deadline(W.st[i]);
            next = d < next ? d : next;
        }
        if (next > until || next == UINT64_MAX)
            break;
        W.now = next > W.now ? next : W.now;
        for (int i = 0; i < 2; i++)
            tcp_stack_on_time(W.st[i]);
        if (next == until)
            break;
    }
    W.now = until > W.now ? until : W.now;
    w_deliver();
}

/* ---- One life ------------------------------------------------------------- */

#define S_NS 1000000000ull

/* Runs a connection's life under `profile`; returns how many allocations
 * it made (counted while armed). The calls' results are not checked:
 * under a failing allocation any may answer TCP_ENOMEM. */
static unsigned long one_life(const char *profile)
{
    memset(&W, 0, sizeof W);
    W.now = S_NS;
    W.rng = 0x9e3779b97f4a7c15ull;
    allocs = 0;
    armed = true;
    const tcp_profile *p = tcp_profile_find(profile);
    W.st[0] = tcp_stack_new(&ENV, NULL, ADDR_A, p);
    W.st[1] = tcp_stack_new(&ENV, NULL, ADDR_B, p);
    for (int i = 0; i < 2; i++)
        if (W.st[i])
            tcp_check_enable(W.st[i], true, w_violation, NULL);
    if (!W.st[0] || !W.st[1]) {
        tcp_stack_free(W.st[0]);
        tcp_stack_free(W.st[1]);
        armed = false;
        return allocs;
    }
    tcp_stack *a = W.st[0], *b = W.st[1];
    tcp_sock_id l = 0, c = 0, s = 0;
    (void)tcp_socket(b, &l);
    (void)tcp_setopt(b, l, TCP_OPT_KEEPIDLE_NS, 30 * S_NS); /* the options record, inherited */
    (void)tcp_setopt(b, l, TCP_OPT_KEEPALIVE, 1);
    (void)tcp_bind(b, l, 80);
    (void)tcp_listen(b, l, 4);
    (void)tcp_socket(a, &c);
    (void)tcp_setopt(a, c, TCP_OPT_USER_TIMEOUT_NS, 20 * S_NS);
    (void)tcp_setopt(a, c, TCP_OPT_MSL_NS, 5 * S_NS);
    (void)tcp_connect(a, c, ADDR_B, 80);
    w_run_until(W.now + S_NS);
    (void)tcp_accept(b, l, &s);
    static uint8_t text[3000];
    memset(text, 'x', sizeof text);
    uint8_t in[4096];
    for (int round = 0; round < 2; round++) { /* the second takes parked rings */
        (void)tcp_send(a, c, text, sizeof text);
        w_run_until(W.now + S_NS);
        long n = tcp_recv(b, s, in, sizeof in);
        W.got_b += n > 0 ? n : 0;
        (void)tcp_send(b, s, text, 700);
        w_run_until(W.now + S_NS);
        n = tcp_recv(a, c, in, sizeof in);
        W.got_a += n > 0 ? n : 0;
        w_run_until(W.now + S_NS);
    }
    (void)tcp_close(a, c); /* A closes first: TIME_WAIT there */
    w_run_until(W.now + S_NS);
    (void)tcp_close(b, s);
    w_run_until(W.now + S_NS);
    /* The peer's FIN again: a segment for the minisock rebuilds it. */
    W.a_closed_in = tcp_sock_state(a, c);
    if (W.fin_to_a.len) {
        size_t before = W.nwire;
        tcp_stack_input(a, W.fin_to_a.bytes, W.fin_to_a.len);
        W.minisock_acked_fin = W.nwire > before;
    }
    w_run_until(W.now + S_NS);
    /* The server closes first and keeps TIME_WAIT; a SYN from the same
     * port a few seconds on meets its minisock (linux, bsd: a new child). */
    tcp_sock_id c2 = 0, s2 = 0, c3 = 0, c4 = 0;
    uint16_t port = 0;
    (void)tcp_socket(a, &c2);
    (void)tcp_connect(a, c2, ADDR_B, 80);
    w_run_until(W.now + S_NS);
    (void)tcp_accept(b, l, &s2);
    (void)tcp_sock_endpoints(a, c2, &port, NULL, NULL);
    (void)tcp_close(b, s2);
    w_run_until(W.now + S_NS);
    (void)tcp_close(a, c2);
    w_run_until(W.now + 3 * S_NS);
    W.b_closed_in = tcp_sock_state(b, s2);
    (void)tcp_socket(a, &c3);
    (void)tcp_bind(a, c3, port);
    (void)tcp_connect(a, c3, ADDR_B, 80);
    w_run_until(W.now + S_NS);
    W.reopened = tcp_sock_state(a, c3);
    /* A child left in the accept queue when its listener closes. */
    (void)tcp_socket(a, &c4);
    (void)tcp_connect(a, c4, ADDR_B, 80);
    w_run_until(W.now + S_NS);
    (void)tcp_close(b, l);
    (void)tcp_close(a, c3);
    (void)tcp_close(a, c4);
    w_run_until(W.now + 120 * S_NS); /* past 2MSL and every retransmission */
    tcp_stack_free(a);
    tcp_stack_free(b);
    armed = false;
    return allocs;
}

static void every_allocation_may_fail(const char *profile)
{
    fail_at = 0;
    fail_rest = false;
    unsigned long n = one_life(profile);
    assert_int_equal(W.violations, 0);
    /* The life without a failure goes the whole way. */
    assert_int_equal(W.got_b, 6000);
    assert_int_equal(W.got_a, 1400);
    assert_int_equal(W.a_closed_in, TCP_TIME_WAIT);
    assert_true(W.minisock_acked_fin);
    assert_int_equal(W.b_closed_in, TCP_TIME_WAIT);
    /* rfc9293 answers the SYN with a challenge ACK (RFC 5961 §4.2); the
     * others open a new connection. */
    if (strcmp(profile, "rfc9293") != 0)
        assert_int_equal(W.reopened, TCP_ESTABLISHED);
    assert_true(n > 10);
    printf("%s: %lu allocations\n", profile, n);
    for (int rest = 0; rest < 2; rest++) {
        fail_rest = rest;
        for (fail_at = 1; fail_at <= n; fail_at++) {
            one_life(profile);
            if (W.violations)
                fprintf(stderr, "%s: allocation %lu of %lu failed%s\n", profile, fail_at, n,
                        rest ? ", and every one after it" : "");
            assert_int_equal(W.violations, 0);
        }
    }
    fail_at = 0;
    fail_rest = false;
}

/* TCP_OPT_MSL_NS is kept in the options record: on a socket without one,
 * on a connection and on a listener record alike, setting it allocates
 * the record; when that fails the call answers TCP_ENOMEM and the socket
 * keeps the profile's MSL, and the same call succeeds once memory is back. */
static void the_msl_option_answers_enomem_without_its_record(void **state)
{
    (void)state;
    memset(&W, 0, sizeof W);
    W.now = S_NS;
    W.rng = 0x9e3779b97f4a7c15ull;
    const tcp_profile *p = tcp_profile_find("rfc9293");
    tcp_stack *s = tcp_stack_new(&ENV, NULL, ADDR_A, p);
    assert_non_null(s);
    tcp_sock_id c, l;
    assert_int_equal(tcp_socket(s, &c), TCP_OK);
    assert_int_equal(tcp_socket(s, &l), TCP_OK);
    assert_int_equal(tcp_listen(s, l, 4), TCP_OK);
    tcp_sock_id ids[2] = {c, l};
    for (int i = 0; i < 2; i++) {
        uint64_t v = 0;
        allocs = 0;
        fail_at = 1;
        fail_rest = false;
        armed = true;
        assert_int_equal(tcp_setopt(s, ids[i], TCP_OPT_MSL_NS, 5 * S_NS), TCP_ENOMEM);
        armed = false;
        assert_int_equal(allocs, 1); /* the record, and nothing else tried */
        assert_int_equal(tcp_getopt(s, ids[i], TCP_OPT_MSL_NS, &v), TCP_OK);
        assert_int_equal(v, p->msl_ns);
        fail_at = 0;
        assert_int_equal(tcp_setopt(s, ids[i], TCP_OPT_MSL_NS, 5 * S_NS), TCP_OK);
        assert_int_equal(tcp_getopt(s, ids[i], TCP_OPT_MSL_NS, &v), TCP_OK);
        assert_int_equal(v, 5 * S_NS);
    }
    tcp_stack_free(s);
}

static void rfc9293_survives_each_failed_allocation(void **state)
{
    (void)state;
    every_allocation_may_fail("rfc9293");
}

static void linux_survives_each_failed_allocation(void **state)
{
    (void)state;
    every_allocation_may_fail("linux");
}

static void bsd_survives_each_failed_allocation(void **state)
{
    (void)state;
    every_allocation_may_fail("bsd");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_msl_option_answers_enomem_without_its_record),
        cmocka_unit_test(rfc9293_survives_each_failed_allocation),
        cmocka_unit_test(linux_survives_each_failed_allocation),
        cmocka_unit_test(bsd_survives_each_failed_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
