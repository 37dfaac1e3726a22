/*
 * test_harness — the stack harness driving real stacks: the three-way
 * handshake step by step and on a delayed wire, a lost SYN, a peer played
 * by the test with crafted segments, the wire's fault helpers (duplicate,
 * swap, delay), malformed input, and two runs with one seed giving the same
 * bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "harness.h"
#include "tcp_conn.h" /* to break a connection on purpose */

#define PEER_ADDR 0x0a000063u /* 10.0.0.99: no stack owns it; the test plays it */

/*
 *  A (client, ISN 1000)                 B (listening on 80)
 *  SYN seq=1000                 ->
 *                               <-      SYN,ACK seq=ISS ack=1001
 *  ACK seq=1001 ack=ISS+1       ->
 */
static void three_way_handshake_step_by_step(void **state)
{
    harness *h = *state;
    tcp_sock_id l = h_listen(h, H_B, 80, 8);
    tcp_sock_id c = h_connect(h, H_A, H_B, 80, 1000);
    const tcp_seg *synack;
    tcp_sock_id child;

    h_expect_sent(h, H_A, TCP_SYN, 1000, H_ANY, 0);
    h_deliver(h);
    synack = h_expect_sent(h, H_B, TCP_SYN | TCP_ACK, H_ANY, 1001, 0);
    h_deliver(h);
    h_expect_sent(h, H_A, TCP_ACK, 1001, synack->seq + 1u, 0);
    h_deliver(h);

    h_expect_none_sent(h, H_A);
    h_expect_none_sent(h, H_B);
    assert_int_equal(h_pending(h), 0);
    child = h_accept(h, H_B, l);
    assert_int_equal(h_child(h, H_B, l, 0), child);
    h_expect_trace(h, H_A, c, H_STATES(TCP_CLOSED, TCP_SYN_SENT, TCP_ESTABLISHED));
    h_expect_trace(h, H_B, l, H_STATES(TCP_CLOSED, TCP_LISTEN));
    /* RFC 9293 §3.10.7.2: the TCB that was in LISTEN moves to SYN-RECEIVED. */
    h_expect_trace(h, H_B, child, H_STATES(TCP_LISTEN, TCP_SYN_RECEIVED, TCP_ESTABLISHED));
    assert_int_equal(h_last_transition(h, H_A, c)->cause, TCP_CAUSE_SEGMENT);
    assert_int_equal(h_last_transition(h, H_B, child)->cause, TCP_CAUSE_SEGMENT);
    h_expect_conns(h, H_A, 1);
    h_expect_conns(h, H_B, 2);
}

/* With a 10 ms one-way delay the client is ESTABLISHED when the SYN,ACK
 * arrives (20 ms) and the server child when the ACK does (30 ms). */
static void handshake_on_a_delayed_wire(void **state)
{
    harness *h = *state;
    tcp_sock_id l, c, child;

    h_set_delay(h, H_MS(10));
    l = h_listen(h, H_B, 80, 8);
    c = h_connect(h, H_A, H_B, 80, H_ANY);
    assert_int_equal(h_run(h, H_MS(100)), 3);
    assert_int_equal(h_now(h), H_MS(100));
    child = h_accept(h, H_B, l);
    h_expect_state(h, H_A, c, TCP_ESTABLISHED);
    h_expect_state(h, H_B, child, TCP_ESTABLISHED);
    assert_int_equal(h_last_transition(h, H_A, c)->time_ns, H_MS(20));
    assert_int_equal(h_last_transition(h, H_B, child)->time_ns, H_MS(30));
    assert_int_equal(h_sent(h, H_B, 0)->sent_ns, H_MS(10));
}

/* RFC 6298 §5: the SYN is sent again when the initial RTO expires. */
static void lost_syn_is_sent_again_after_the_initial_rto(void **state)
{
    harness *h = *state;
    tcp_sock_id c;
    uint64_t rto = tcp_stack_profile(h_stack(h, H_A))->rto_initial_ns;

    h_drop_sent(h, H_A, TCP_SYN, 1);
    h_listen(h, H_B, 80, 8);
    c = h_connect(h, H_A, H_B, 80, 1000);
    h_run(h, rto - 1);
    h_expect_sent(h, H_A, TCP_SYN, 1000, H_ANY, 0); /* lost */
    h_expect_none_sent(h, H_A);
    h_expect_none_sent(h, H_B);

    h_run(h, rto);
    h_expect_sent(h, H_A, TCP_SYN, 1000, H_ANY, 0); /* the same ISN again */
    assert_int_equal(h_sent(h, H_A, 1)->sent_ns, rto);
    h_expect_sent(h, H_B, TCP_SYN | TCP_ACK, H_ANY, 1001, 0);
    h_expect_sent(h, H_A, TCP_ACK, 1001, H_ANY, 0);
    h_expect_state(h, H_A, c, TCP_ESTABLISHED);
    assert_int_equal(h_count(h, H_A, c, TCP_EV_TIMER), 1);
}

/* RFC 9293 §3.10.7.3 (SYN-SENT, RST with an acceptable ACK): "signal to the
 * user 'error: connection reset', drop the segment, enter CLOSED state". */
static void rst_answering_our_syn_refuses_the_connection(void **state)
{
    harness *h = *state;
    tcp_sock_id c = h_connect(h, H_A, H_B, 80, 1000);
    tcp_seg rst;

    h_expect_sent(h, H_A, TCP_SYN, 1000, H_ANY, 0);
    h_drop(h);
    rst = h_template(h, H_A, c); /* from B:80, ack 1001 */
    rst.flags = TCP_RST | TCP_ACK;
    assert_int_equal(rst.ack, 1001);
    h_inject(h, H_A, &rst);

    h_expect_none_sent(h, H_A);
    h_expect_trace(h, H_A, c, H_STATES(TCP_CLOSED, TCP_SYN_SENT, TCP_CLOSED));
    assert_int_equal(tcp_sock_error(h_stack(h, H_A), c), TCP_ECONNREFUSED);
}

/* The test plays the peer at 10.0.0.99: crafted SYN, crafted ACK, data. */
static void listener_answers_a_crafted_peer(void **state)
{
    harness *h = *state;
    tcp_sock_id l = h_listen(h, H_A, 80, 8), child;
    const tcp_seg *synack;
    tcp_seg syn, ack, data;

    memset(&syn, 0, sizeof syn);
    syn.src_addr = PEER_ADDR;
    syn.dst_addr = h_addr(h, H_A);
    syn.src_port = 5555;
    syn.dst_port = 80;
    syn.seq = 7000;
    syn.flags = TCP_SYN;
    syn.wnd = 65535;
    syn.has_mss = true;
    syn.mss = 1460;
    h_inject(h, H_A, &syn);
    synack = h_expect_sent(h, H_A, TCP_SYN | TCP_ACK, H_ANY, 7001, 0);

    ack = h_reply(synack); /* seq 7001, ack ISS+1 */
    h_inject(h, H_A, &ack);
    h_expect_none_sent(h, H_A);
    child = h_child(h, H_A, l, 0);
    h_expect_state(h, H_A, child, TCP_ESTABLISHED);

    data = h_template(h, H_A, child);
    assert_int_equal(data.seq, 7001);
    data.flags = TCP_PSH | TCP_ACK;
    data.payload = (const uint8_t *)"hi";
    data.len = 2;
    h_inject(h, H_A, &data);
    h_advance(h, H_MS(500)); /* RFC 9293 §3.8.6.3: an ACK delay MUST be under 0.5 s */
    h_expect_sent(h, H_A, TCP_ACK, synack->seq + 1u, 7003, 0);
    assert_int_equal(h_accept(h, H_A, l), child);
    h_expect_recv(h, H_A, child, "hi");

    h_run_for(h, H_MS(1));
    assert_int_equal(h_undeliverable(h), 2); /* SYN,ACK and ACK to 10.0.0.99 */
}

/* Data segments delivered in the wrong order still read in order. */
static void swapped_segments_read_in_order(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    uint32_t first;

    assert_int_equal(tcp_setopt(h_stack(h, H_A), p.client, TCP_OPT_NODELAY, 1), TCP_OK);
    h_send(h, H_A, p.client, "ab");
    h_send(h, H_A, p.client, "cd");
    first = h_expect_sent(h, H_A, H_ANY, H_ANY, H_ANY, 2)->seq;
    h_expect_sent(h, H_A, H_ANY, first + 2u, H_ANY, 2);
    assert_int_equal(h_pending(h), 2);
    h_swap(h, 0, 1);
    assert_int_equal(h_peek(h, 0)->seg.seq, first + 2u);
    h_run_for(h, H_S(5));
    h_expect_recv(h, H_B, p.server, "abcd");
}

/* A duplicated segment is read once (RFC 9293 §3.10.7.4: a segment that
 * is not acceptable is acknowledged and dropped). */
static void duplicated_segment_is_read_once(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);

    h_send(h, H_A, p.client, "x");
    assert_int_equal(h_pending(h), 1);
    h_dup(h);
    assert_int_equal(h_pending(h), 2);
    h_run_for(h, H_S(1));
    h_expect_recv(h, H_B, p.server, "x");
    assert_int_equal(tcp_readable(h_stack(h, H_B), p.server), 0);
}

/* h_delay moves a datagram behind those due before its new time. */
static void delayed_segment_arrives_after_the_next(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    uint32_t first;

    assert_int_equal(tcp_setopt(h_stack(h, H_A), p.client, TCP_OPT_NODELAY, 1), TCP_OK);
    h_send(h, H_A, p.client, "ab");
    h_send(h, H_A, p.client, "cd");
    first = h_peek(h, 0)->seg.seq;
    h_delay(h, 0, H_MS(50));
    assert_int_equal(h_peek(h, 0)->seg.seq, first + 2u);
    assert_int_equal(h_peek_due(h, 1), H_MS(50));
    h_run_for(h, H_S(5));
    h_expect_recv(h, H_B, p.server, "abcd");
}

/* tcp.h rule 4: malformed input is counted, reported with a reason, dropped. */
static void malformed_datagrams_are_counted_and_dropped(void **state)
{
    harness *h = *state;
    static const uint8_t junk[10] = {0x45, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    uint8_t buf[64];
    tcp_seg s;
    size_t n;
    const h_event *drop;

    h_listen(h, H_A, 80, 8);
    h_inject_raw(h, H_A, junk, sizeof junk);
    memset(&s, 0, sizeof s);
    s.src_addr = PEER_ADDR;
    s.dst_addr = h_addr(h, H_A);
    s.src_port = 1;
    s.dst_port = 80;
    s.flags = TCP_SYN;
    n = tcp_wire_encode(&s, buf, sizeof buf);
    buf[n - 1] ^= 1; /* breaks the TCP checksum */
    h_inject_raw(h, H_A, buf, n);

    assert_int_equal(tcp_stack_malformed(h_stack(h, H_A)), 2);
    assert_int_equal(h_count(h, H_A, H_ALL_SOCKS, TCP_EV_DROP), 2);
    drop = h_event_at(h, H_A, h_event_count(h, H_A) - 1);
    assert_int_equal(drop->kind, TCP_EV_DROP);
    assert_true(strlen(drop->note) > 0);
    h_expect_none_sent(h, H_A);
    h_expect_conns(h, H_A, 1);
}

/* Handshake with random ISNs under one seed; returns the harness. */
static harness *seeded_handshake(uint64_t seed)
{
    harness *h = h_new(2, NULL);

    h_set_seed(h, seed);
    h_establish(h, H_A, H_B, 80);
    return h;
}

static void one_seed_gives_the_same_bytes(void **state)
{
    harness *x = seeded_handshake(7), *y = seeded_handshake(7), *z = seeded_handshake(8);
    size_t stack, k;

    (void)state;
    for (stack = 0; stack < 2; stack++) {
        assert_int_equal(h_sent_count(x, stack), h_sent_count(y, stack));
        for (k = 0; k < h_sent_count(x, stack); k++) {
            assert_int_equal(h_sent(x, stack, k)->len, h_sent(y, stack, k)->len);
            assert_memory_equal(h_sent(x, stack, k)->bytes, h_sent(y, stack, k)->bytes,
                                h_sent(x, stack, k)->len);
        }
    }
    assert_int_not_equal(h_sent(x, H_A, 0)->seg.seq, h_sent(z, H_A, 0)->seg.seq);
    h_free(x);
    h_free(y);
    h_free(z);
}

#define T(f) cmocka_unit_test_setup_teardown(f, h_setup, h_teardown)

/* Teardown's leak check can fail: A's FIN is acknowledged but B's FIN
 * never arrives, so A waits in FIN_WAIT_2 (no timeout in rfc9293) past
 * teardown's 600 s. */
static void teardown_reports_a_connection_left_behind(void **state)
{
    (void)state;
    harness *h = h_new(2, NULL);
    h_establish(h, H_A, H_B, 80);
    h_drop_sent(h, H_B, TCP_FIN | TCP_ACK, 1000);
    void *st = h;
    assert_int_equal(h_teardown(&st), -1);
    assert_null(st);
}

/* The net checks every stack's invariants after every event (net_set_check,
 * tcp_check.h): a connection broken on purpose is reported through
 * on_violation as a harness error, and the next expectation fails. */
static void broken_invariant_is_a_harness_error(void **state)
{
    (void)state;
    harness *h = h_new(2, NULL);
    h_pair p = h_establish(h, H_A, H_B, 80);
    tcp_conn *tc = tcp_stack_find(h_stack(h, H_A), p.client);
    assert_non_null(tc);
    assert_string_equal(h_errors(h), "");
    tc->snd_nxt = tc->snd_una - 1u; /* RFC 9293 §3.3.1: SND.UNA =< SND.NXT, broken */
    h_send(h, H_A, p.client, "x");  /* the next call on it is checked */
    assert_non_null(strstr(h_errors(h), "host A: invariant SEQ_ORDER"));
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(three_way_handshake_step_by_step),
        T(handshake_on_a_delayed_wire),
        T(lost_syn_is_sent_again_after_the_initial_rto),
        T(rst_answering_our_syn_refuses_the_connection),
        T(listener_answers_a_crafted_peer),
        T(swapped_segments_read_in_order),
        T(duplicated_segment_is_read_once),
        T(delayed_segment_arrives_after_the_next),
        T(malformed_datagrams_are_counted_and_dropped),
        cmocka_unit_test(one_seed_gives_the_same_bytes),
        cmocka_unit_test(teardown_reports_a_connection_left_behind),
        cmocka_unit_test(broken_invariant_is_a_harness_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
