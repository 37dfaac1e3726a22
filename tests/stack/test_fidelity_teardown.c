/*
 * test_fidelity_teardown — closing rules checked against RFC 9293 and the
 * kernels, one test per rule: sending goes on in LAST-ACK and CLOSING
 * (§3.10.7.4 fifth step), an out-of-order FIN draws an immediate duplicate
 * ACK (RFC 5681 §4.2), CLOSE implies PUSH (§3.8).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define BIG 20000u

static char *text_of(size_t n)
{
    char *t = malloc(n + 1);
    assert_non_null(t);
    for (size_t i = 0; i < n; i++)
        t[i] = (char)('a' + i % 23);
    t[n] = '\0';
    return t;
}

/* Reads everything readable on sock and checks it equals want. */
static void expect_received(harness *h, size_t stack, tcp_sock_id sock, const char *want)
{
    size_t n = strlen(want), got = 0;
    char *buf = malloc(n + 1);
    assert_non_null(buf);
    long r;
    while ((r = tcp_recv(h_stack(h, stack), sock, buf + got, n + 1 - got)) > 0)
        got += (size_t)r;
    assert_int_equal(got, n);
    assert_memory_equal(buf, want, n);
    free(buf);
}

/* §3.10.7.4 fifth step, LAST-ACK: the ACK is processed as in ESTABLISHED
 * (SND.UNA and the window advance), and §3.6 case 2: what B sent before its
 * FIN is delivered. B's 20 000 bytes exceed its initial window, so most of
 * them are still queued when B closes. */
static void last_ack_sends_data_queued_behind_fin(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    assert_int_equal(tcp_shutdown(h_stack(h, H_A), p.client), TCP_OK);
    h_settle(h);
    h_expect_state(h, H_B, p.server, TCP_CLOSE_WAIT);
    char *reply = text_of(BIG);
    h_send(h, H_B, p.server, reply);
    assert_int_equal(tcp_close(h_stack(h, H_B), p.server), TCP_OK);
    h_expect_state(h, H_B, p.server, TCP_LAST_ACK);
    h_run_for(h, H_S(30));
    expect_received(h, H_A, p.client, reply);
    h_expect_trace(h, H_B, p.server,
                   H_STATES(TCP_LISTEN, TCP_SYN_RECEIVED, TCP_ESTABLISHED, TCP_CLOSE_WAIT,
                            TCP_LAST_ACK, TCP_CLOSED));
    h_expect_state(h, H_A, p.client, TCP_TIME_WAIT);
    free(reply);
}

/* §3.10.7.4 fifth step, CLOSING: "In addition to the processing for the
 * ESTABLISHED state" — A's data queued behind its FIN still goes out after
 * B's FIN moved A to CLOSING. */
static void closing_sends_data_queued_behind_fin(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    char *data = text_of(BIG);
    h_send(h, H_A, p.client, data);
    assert_int_equal(tcp_shutdown(h_stack(h, H_A), p.client), TCP_OK);
    assert_int_equal(tcp_shutdown(h_stack(h, H_B), p.server), TCP_OK);
    h_run_for(h, H_S(30));
    expect_received(h, H_B, p.server, data);
    h_expect_trace(h, H_A, p.client,
                   H_STATES(TCP_CLOSED, TCP_SYN_SENT, TCP_ESTABLISHED, TCP_FIN_WAIT_1, TCP_CLOSING,
                            TCP_TIME_WAIT));
    h_expect_trace(h, H_B, p.server,
                   H_STATES(TCP_LISTEN, TCP_SYN_RECEIVED, TCP_ESTABLISHED, TCP_FIN_WAIT_1,
                            TCP_FIN_WAIT_2, TCP_TIME_WAIT));
    free(data);
}

/* RFC 5681 §4.2: "A TCP receiver SHOULD send an immediate duplicate ACK
 * when an out-of-order segment arrives." A FIN beyond RCV.NXT is one. */
static void out_of_order_fin_draws_immediate_dup_ack(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    tcp_seg fin = h_template(h, H_B, p.server);
    uint32_t rcv_nxt = fin.seq;
    fin.seq += 100; /* 100 bytes before it are missing */
    fin.flags = TCP_ACK | TCP_FIN;
    h_inject(h, H_B, &fin);
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, rcv_nxt, 0);
    h_expect_state(h, H_B, p.server, TCP_ESTABLISHED);
    /* The 100 bytes before the crafted FIN never come: B would wait for them
     * for ever, so it aborts before the harness closes the rest. */
    assert_int_equal(tcp_abort(h_stack(h, H_B), p.server), TCP_OK);
    h_finish(h);
}

#define T(f) cmocka_unit_test_setup_teardown(f, h_setup, h_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(last_ack_sends_data_queued_behind_fin),
        T(closing_sends_data_queued_behind_fin),
        T(out_of_order_fin_draws_immediate_dup_ack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
