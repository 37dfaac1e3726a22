/*
 * test_fidelity_tlp — the linux profile's tail loss probe (RFC 8985 §7) as
 * Linux schedules and sends it: tcp_schedule_loss_probe and
 * tcp_send_loss_probe (net/ipv4/tcp_output.c). With a 10 ms one-way delay
 * the handshake gives SRTT 20 ms, so with more than one segment out the
 * probe timeout is 2·SRTT + TCP_TIMEOUT_MIN (2 jiffies, 2 ms) = 42 ms,
 * before the 200 ms RTO.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void send_n(harness *h, size_t stack, tcp_sock_id id, size_t n)
{
    char *buf = malloc(n);
    assert_non_null(buf);
    memset(buf, 'x', n);
    assert_int_equal(tcp_send(h_stack(h, stack), id, buf, n), (long)n);
    free(buf);
}

/* A linux pair over a 10 ms one-way delay, established; A's sent log
 * checked up to here. */
static harness *pair(const tcp_profile *p, h_pair *out)
{
    harness *h = h_new(2, p);
    h_set_delay(h, H_MS(10));
    *out = h_establish(h, H_A, H_B, 80);
    return h;
}

/* The whole flight is lost: at PTO = 42 ms the last segment goes again
 * (no new data to send), then the RTO runs from the probe: one probe per
 * tail, and the first segment again 220 ms later (SRTT 20 ms + Linux's
 * variance term, at least TCP_RTO_MIN: tcp_rtt_estimator, __tcp_set_rto). */
static void linux_probe_resends_last_segment(void **state)
{
    (void)state;
    h_pair p;
    harness *h = pair(h_linux_exact(), &p);
    uint32_t una = h_template(h, H_B, p.server).seq;
    h_drop_sent(h, H_A, H_ANY, 4);
    uint64_t t0 = h_now(h);
    send_n(h, H_A, p.client, 3 * 1448);
    h_expect_sent(h, H_A, TCP_ACK, una, H_ANY, 1448);
    h_expect_sent(h, H_A, TCP_ACK, una + 1448, H_ANY, 1448);
    h_expect_sent(h, H_A, TCP_ACK | TCP_PSH, una + 2896, H_ANY, 1448);
    h_run(h, t0 + H_MS(42) - 1);
    h_expect_none_sent(h, H_A);
    h_run(h, t0 + H_MS(42));
    h_expect_sent(h, H_A, TCP_ACK | TCP_PSH, una + 2896, H_ANY, 1448);
    h_run(h, t0 + H_MS(262) - 1);
    h_expect_none_sent(h, H_A);
    h_run(h, t0 + H_MS(262));
    h_expect_sent(h, H_A, TCP_ACK, una, H_ANY, 1448);
    h_free(h);
}

/* With data not yet sent (the congestion window, 10 segments, is full)
 * the probe is one new segment, sent whatever the congestion window. */
static void linux_probe_sends_new_data(void **state)
{
    (void)state;
    h_pair p;
    harness *h = pair(h_linux_exact(), &p);
    uint32_t una = h_template(h, H_B, p.server).seq;
    h_drop_sent(h, H_A, H_ANY, 11);
    uint64_t t0 = h_now(h);
    send_n(h, H_A, p.client, 11 * 1448); /* the send buffer holds 16384 */
    for (int i = 0; i < 10; i++)
        h_expect_sent(h, H_A, H_ANY, una + (uint32_t)i * 1448, H_ANY, 1448);
    h_run(h, t0 + H_MS(42));
    h_expect_sent(h, H_A, H_ANY, una + 10 * 1448, H_ANY, 1448);
    h_expect_none_sent(h, H_A);
    h_free(h);
}

/* Linux probes only SACK connections (tcp_schedule_loss_probe:
 * !tcp_is_sack(tp)): without SACK-permitted the RTO, 20 + 200 ms, recovers
 * the tail. */
static void no_probe_without_sack(void **state)
{
    (void)state;
    tcp_profile pr = *h_linux_exact();
    pr.send_sack_perm = false;
    h_pair p;
    harness *h = pair(&pr, &p);
    uint32_t una = h_template(h, H_B, p.server).seq;
    h_drop_sent(h, H_A, H_ANY, 4);
    uint64_t t0 = h_now(h);
    send_n(h, H_A, p.client, 3 * 1448);
    h_sent_skip(h, H_A);
    h_run(h, t0 + H_MS(220) - 1);
    h_expect_none_sent(h, H_A);
    h_run(h, t0 + H_MS(220));
    h_expect_sent(h, H_A, TCP_ACK, una, H_ANY, 1448);
    h_free(h);
}

/* FreeBSD's default stack has no TLP (bsd tlp = false): the RTO, SRTT +
 * 4·RTTVAR = 60 ms plus the 200 ms slop (TCPT_RANGESET), brings the first
 * segment again at 260 ms. */
static void bsd_no_probe(void **state)
{
    (void)state;
    h_pair p;
    harness *h = pair(tcp_profile_find("bsd"), &p);
    uint32_t una = h_template(h, H_B, p.server).seq;
    h_drop_sent(h, H_A, H_ANY, 4);
    uint64_t t0 = h_now(h);
    send_n(h, H_A, p.client, 3 * 1448);
    h_sent_skip(h, H_A);
    h_run(h, t0 + H_MS(260) - 1);
    h_expect_none_sent(h, H_A);
    h_run(h, t0 + H_MS(260));
    h_expect_sent(h, H_A, TCP_ACK, una, H_ANY, 1448);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(linux_probe_resends_last_segment),
        cmocka_unit_test(linux_probe_sends_new_data),
        cmocka_unit_test(no_probe_without_sack),
        cmocka_unit_test(bsd_no_probe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
