/*
 * test_data — reliable in-order data (RFC 9293 §3.8, RFC 6298, RFC 5681):
 * a bulk transfer, delayed ACK, sequence wrap, out-of-order segments with an
 * early FIN, zero window and persist probes, RTO backoff and retransmissions
 * running out.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define PEER_ADDR 0x0a000063u /* 10.0.0.99: the test plays it */

/* Sends n patterned bytes from A to B while B reads; checks every byte. */
static void transfer(harness *h, h_pair p, size_t n)
{
    uint8_t *out = malloc(n), *in = malloc(n);
    assert_non_null(out);
    assert_non_null(in);
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(i * 7 + i / 251);
    size_t sent = 0, got = 0;
    for (int round = 0; round < 100000 && got < n; round++) {
        if (sent < n) {
            long k = tcp_send(h_stack(h, H_A), p.client, out + sent, n - sent);
            if (k > 0)
                sent += (size_t)k;
            else
                assert_int_equal(k, TCP_EAGAIN);
        }
        h_run_for(h, H_MS(10));
        long r = tcp_recv(h_stack(h, H_B), p.server, in + got, n - got);
        if (r > 0)
            got += (size_t)r;
        else
            assert_int_equal(r, TCP_EAGAIN);
    }
    assert_int_equal(got, n);
    assert_memory_equal(in, out, n);
    free(out);
    free(in);
}

static void bulk_transfer_in_order(void **state)
{
    harness *h = *state;
    h_set_delay(h, H_MS(5));
    h_pair p = h_establish(h, H_A, H_B, 80);
    transfer(h, p, 300000);
    const tcp_stats *st = tcp_sock_stats(h_stack(h, H_A), p.client);
    assert_true(st->bytes_out >= 300000);
    assert_int_equal(st->retransmits, 0);
    h_finish(h);
}

/* A lossy wire: every 7th datagram is dropped; the data still arrives. */
static h_verdict drop_some(harness *h, const h_dgram *d, uint64_t *deliver_ns, void *arg)
{
    (void)h;
    (void)d;
    (void)deliver_ns;
    unsigned *n = arg;
    return (++*n % 7 == 0) ? H_DROP : H_PASS;
}

static void bulk_transfer_on_a_lossy_wire(void **state)
{
    harness *h = *state;
    unsigned count = 0;
    h_set_delay(h, H_MS(5));
    h_pair p = h_establish(h, H_A, H_B, 80);
    h_set_filter(h, &count, drop_some);
    transfer(h, p, 100000);
    assert_true(tcp_sock_stats(h_stack(h, H_A), p.client)->retransmits > 0);
    h_set_filter(h, NULL, NULL);
    h_finish(h);
}

/* RFC 9293 §3.8.6.3: one small segment is ACKed after the delayed-ACK time
 * (200 ms in rfc9293, 40 ms in linux); two full segments at once. */
static void delayed_ack(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    uint64_t t0 = h_now(h);
    h_send(h, H_A, p.client, "x");
    h_deliver(h);
    h_expect_sent(h, H_A, TCP_ACK | TCP_PSH, H_ANY, H_ANY, 1);
    h_expect_none_sent(h, H_B);
    h_run(h, t0 + H_MS(200) - 1);
    h_expect_none_sent(h, H_B);
    h_run(h, t0 + H_MS(200));
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0);

    static char big[2 * 1460 + 1];
    memset(big, 'y', sizeof big - 1);
    assert_int_equal(tcp_setopt(h_stack(h, H_A), p.client, TCP_OPT_NODELAY, 1), TCP_OK);
    h_send(h, H_A, p.client, big);
    h_deliver(h);
    h_expect_none_sent(h, H_B);
    h_deliver(h);
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0); /* every second full segment */
    h_settle(h);
    h_finish(h);
}

/* The ISN sits just below 2^32: sequence numbers wrap during the transfer. */
static void seq_wrap_during_transfer(void **state)
{
    harness *h = *state;
    tcp_sock_id l = h_listen(h, H_B, 80, 8);
    tcp_sock_id c = h_connect(h, H_A, H_B, 80, 0xFFFFF000u);
    h_settle(h);
    h_pair p = {l, c, h_accept(h, H_B, l)};
    transfer(h, p, 20000);
    const tcp_seg *last = h_last_sent(h, H_A);
    assert_true(last->seq < 0x1000000u); /* wrapped */
    h_finish(h);
}

/* The test plays the peer: segments 2 and 3 (with FIN) arrive before 1;
 * the FIN waits for the data in front of it. */
static void out_of_order_with_early_fin(void **state)
{
    harness *h = *state;
    tcp_sock_id l = h_listen(h, H_A, 80, 8);
    tcp_seg syn = {0};
    syn.src_addr = PEER_ADDR;
    syn.dst_addr = h_addr(h, H_A);
    syn.src_port = 4000;
    syn.dst_port = 80;
    syn.seq = 100;
    syn.flags = TCP_SYN;
    syn.wnd = 65535;
    h_inject(h, H_A, &syn);
    const tcp_seg *synack = h_expect_sent(h, H_A, TCP_SYN | TCP_ACK, H_ANY, 101, 0);
    tcp_seg ack = h_reply(synack);
    h_inject(h, H_A, &ack);
    tcp_sock_id s = h_accept(h, H_A, l);

    tcp_seg d = ack;
    d.flags = TCP_ACK;
    d.seq = 106;
    d.payload = (const uint8_t *)"world";
    d.len = 5;
    h_inject(h, H_A, &d);                          /* "world" before "hello" */
    h_expect_sent(h, H_A, TCP_ACK, H_ANY, 101, 0); /* duplicate ACK at once */
    d.seq = 111;
    d.payload = (const uint8_t *)"!";
    d.len = 1;
    d.flags = TCP_ACK | TCP_FIN;
    h_inject(h, H_A, &d);
    h_expect_sent(h, H_A, TCP_ACK, H_ANY, 101, 0);
    h_expect_state(h, H_A, s, TCP_ESTABLISHED); /* the FIN waits */
    assert_int_equal(tcp_readable(h_stack(h, H_A), s), 0);
    d.seq = 101;
    d.payload = (const uint8_t *)"hello";
    d.len = 5;
    d.flags = TCP_ACK;
    h_inject(h, H_A, &d);
    h_expect_sent(h, H_A, TCP_ACK, H_ANY, 113, 0); /* all data and the FIN */
    h_expect_state(h, H_A, s, TCP_CLOSE_WAIT);
    h_expect_recv(h, H_A, s, "helloworld!");
    assert_int_equal(tcp_recv(h_stack(h, H_A), s, (char[4]){0}, 4), 0);
    h_finish(h);
}

/* B's receive buffer is 1000 bytes and B does not read: the window closes;
 * A sends persist probes with backoff and never gives up while they are
 * answered (RFC 1122 §4.2.2.17); reading reopens the window. */
static void zero_window_and_persist(void **state)
{
    harness *h = *state;
    tcp_stack *b = h_stack(h, H_B);
    tcp_sock_id l = h_listen_rcvbuf(h, H_B, 80, 8, 1000);
    tcp_sock_id c = h_connect(h, H_A, H_B, 80, H_ANY);
    h_settle(h);
    tcp_sock_id s = h_accept(h, H_B, l);

    static char data[3001];
    memset(data, 'z', 3000);
    h_send(h, H_A, c, data);
    h_run_for(h, H_S(300));
    assert_int_equal(tcp_readable(b, s), 1000);
    const tcp_stats *st = tcp_sock_stats(h_stack(h, H_A), c);
    assert_true(st->persist_probes >= 5);
    h_expect_state(h, H_A, c, TCP_ESTABLISHED);

    static char buf[3000];
    size_t got = 0;
    for (int i = 0; i < 200 && got < 3000; i++) {
        long r = tcp_recv(b, s, buf + got, sizeof buf - got);
        if (r > 0)
            got += (size_t)r;
        h_run_for(h, H_S(2));
    }
    assert_int_equal(got, 3000);
    assert_memory_equal(buf, data, 3000);
    h_finish(h);
}

/* Every data segment from A is lost: RTO 1, 2, 4, ... capped at 60 s;
 * after 7 retransmissions (rfc9293) A gives up with ETIMEDOUT. */
static void retransmissions_exhausted(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    uint64_t t0 = h_now(h);
    h_drop_sent(h, H_A, TCP_ACK | TCP_PSH, 100);
    h_send(h, H_A, p.client, "lost");
    h_run_for(h, H_S(1000));
    h_expect_state(h, H_A, p.client, TCP_CLOSED);
    assert_int_equal(tcp_sock_error(h_stack(h, H_A), p.client), TCP_ETIMEDOUT);
    const h_event *t = h_last_transition(h, H_A, p.client);
    assert_string_equal(t->note, "retransmissions exhausted");
    /* the handshake's RTT is 0, so RTO = rto_min = 1 s: 1+2+4+8+16+32+60+60 */
    assert_int_equal(t->time_ns, t0 + H_S(183));
    assert_int_equal(tcp_sock_stats(h_stack(h, H_A), p.client)->retransmits, 7);
    tcp_close(h_stack(h, H_A), p.client);
    h_run_for(h, H_S(10));
    /* B never heard: its keepalive is off; abort it */
    tcp_abort(h_stack(h, H_B), p.server);
    tcp_close(h_stack(h, H_B), p.listener);
    h_run_for(h, H_S(10));
    h_expect_conns(h, H_A, 0);
    h_expect_conns(h, H_B, 0);
}

/* Three duplicate ACKs trigger a fast retransmit before the RTO. */
static void fast_retransmit(void **state)
{
    harness *h = *state;
    h_set_delay(h, H_MS(10));
    h_pair p = h_establish(h, H_A, H_B, 80);
    assert_int_equal(tcp_setopt(h_stack(h, H_A), p.client, TCP_OPT_NODELAY, 1), TCP_OK);
    static char data[20000];
    memset(data, 'q', sizeof data - 1);
    transfer(h, p, 10000); /* open the congestion window */
    h_drop_sent(h, H_A, H_ANY, 1);
    h_send(h, H_A, p.client, data);
    h_run_for(h, H_MS(500));
    const tcp_stats *st = tcp_sock_stats(h_stack(h, H_A), p.client);
    assert_true(st->retransmits >= 1);
    assert_int_equal(h_count(h, H_A, p.client, TCP_EV_TIMER), 0); /* no RTO */
    static char buf[sizeof data];
    long r = tcp_recv(h_stack(h, H_B), p.server, buf, sizeof buf);
    assert_int_equal(r, (long)sizeof data - 1);
    h_finish(h);
}

#define T(f) cmocka_unit_test_setup_teardown(f, h_setup, h_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(bulk_transfer_in_order),
        T(bulk_transfer_on_a_lossy_wire),
        T(delayed_ack),
        T(seq_wrap_during_transfer),
        T(out_of_order_with_early_fin),
        T(zero_window_and_persist),
        T(retransmissions_exhausted),
        T(fast_retransmit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
