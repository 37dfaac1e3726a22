/*
 * test_fidelity_listen — listeners and the receiver side per profile: the
 * accept-queue limits (Linux backlog + 1, the third ACK dropped when full),
 * RST and SYN in SYN_RECEIVED (Linux request sockets), and Linux quickack
 * at the start of a connection.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "harness.h"

/* Linux sk_acceptq_is_full: "sk_ack_backlog > sk_max_ack_backlog": with
 * backlog 1 two connections wait for accept(); tcp_conn_request drops the
 * third SYN. */
static void linux_accept_queue_holds_backlog_plus_one(void **state)
{
    (void)state;
    harness *h = h_new(2, h_linux_exact());
    h_listen(h, H_B, 80, 1);
    tcp_sock_id c1 = h_connect(h, H_A, H_B, 80, H_ANY);
    h_settle(h);
    tcp_sock_id c2 = h_connect(h, H_A, H_B, 80, H_ANY);
    h_settle(h);
    h_sent_skip(h, H_B);
    tcp_sock_id c3 = h_connect(h, H_A, H_B, 80, H_ANY);
    h_deliver(h);
    h_expect_none_sent(h, H_B);
    h_expect_state(h, H_A, c1, TCP_ESTABLISHED);
    h_expect_state(h, H_A, c2, TCP_ESTABLISHED);
    h_expect_state(h, H_A, c3, TCP_SYN_SENT);
    h_free(h);
}

/* Linux tcp_v4_syn_recv_sock with tcp_abort_on_overflow = 0: when the
 * accept queue fills between the SYN and the third ACK, the ACK is dropped
 * and the child stays SYN_RECEIVED, retransmitting its SYN,ACK. */
static void linux_third_ack_dropped_when_accept_queue_full(void **state)
{
    (void)state;
    harness *h = h_new(2, h_linux_exact());
    tcp_sock_id l = h_listen(h, H_B, 80, 0); /* backlog 0: one connection fits */
    h_connect(h, H_A, H_B, 80, H_ANY);
    tcp_sock_id c2 = h_connect(h, H_A, H_B, 80, H_ANY);
    h_deliver(h);                                /* SYN 1 */
    h_deliver(h);                                /* SYN 2: both children in SYN_RECEIVED */
    h_settle(h);                                 /* ACK 1 completes, ACK 2 finds the queue full */
    h_expect_state(h, H_A, c2, TCP_ESTABLISHED); /* the client believes it */
    tcp_sock_id ch2 = h_child(h, H_B, l, 1);
    assert_true(ch2 != 0);
    h_expect_state(h, H_B, ch2, TCP_SYN_RECEIVED);
    h_sent_skip(h, H_B);
    h_advance(h, H_S(1)); /* the SYN,ACK timer (TCP_TIMEOUT_INIT) */
    h_expect_sent(h, H_B, TCP_SYN | TCP_ACK, H_ANY, H_ANY, 0);
    h_free(h);
}

/* Linux tcp_check_req: after the window check "if (flg & TCP_FLAG_RST) goto
 * embryonic_reset" — an in-window RST not at RCV.NXT ends the request
 * silently (no challenge ACK). */
static void linux_syn_recv_rst_in_window_drops_request(void **state)
{
    (void)state;
    harness *h = h_new(2, h_linux_exact());
    tcp_sock_id l = h_listen(h, H_B, 80, 4);
    h_connect(h, H_A, H_B, 80, H_ANY);
    h_deliver(h); /* SYN */
    h_drop(h);    /* the SYN,ACK never reaches A */
    tcp_sock_id ch = h_child(h, H_B, l, 0);
    h_sent_skip(h, H_B);
    tcp_seg rst = h_template(h, H_B, ch);
    rst.flags = TCP_RST;
    rst.seq += 100; /* in the window, not at RCV.NXT */
    h_inject(h, H_B, &rst);
    h_expect_none_sent(h, H_B);
    /* embryonic_reset → inet_csk_reqsk_queue_drop: the request is freed
     * (sock_diag shows it gone), the listener never left LISTEN */
    h_expect_trace(h, H_B, ch, H_STATES(TCP_LISTEN, TCP_SYN_RECEIVED, TCP_CLOSED));
    h_expect_state(h, H_B, l, TCP_LISTEN);
    h_expect_conns(h, H_B, 1);
    h_free(h);
}

/* FreeBSD syncache_chkrst: an RST at RCV.NXT drops the syncache entry
 * (syncache_drop); the child ends CLOSED too. The RFC's "return this
 * connection to LISTEN" stays the rfc9293 profile's wording. */
static void bsd_syn_recv_rst_drops_entry(void **state)
{
    const char *names[] = {"bsd", "rfc9293"};
    const tcp_state end[] = {TCP_CLOSED, TCP_LISTEN};
    (void)state;
    for (size_t i = 0; i < 2; i++) {
        harness *h = h_new(2, tcp_profile_find(names[i]));
        tcp_sock_id l = h_listen(h, H_B, 80, 4);
        h_connect(h, H_A, H_B, 80, H_ANY);
        h_deliver(h); /* SYN */
        h_drop(h);    /* the SYN,ACK never reaches A */
        tcp_sock_id ch = h_child(h, H_B, l, 0);
        h_sent_skip(h, H_B);
        tcp_seg rst = h_template(h, H_B, ch);
        rst.flags = TCP_RST;
        h_inject(h, H_B, &rst);
        h_expect_none_sent(h, H_B);
        h_expect_trace(h, H_B, ch, H_STATES(TCP_LISTEN, TCP_SYN_RECEIVED, end[i]));
        h_expect_state(h, H_B, l, TCP_LISTEN);
        h_expect_conns(h, H_B, 1);
        h_free(h);
    }
}

/* RFC 5961 §3.2 (rfc9293): the same RST draws a challenge ACK. */
static void rfc9293_syn_recv_rst_in_window_challenged(void **state)
{
    harness *h = *state;
    tcp_sock_id l = h_listen(h, H_B, 80, 4);
    h_connect(h, H_A, H_B, 80, H_ANY);
    h_deliver(h);
    h_drop(h);
    tcp_sock_id ch = h_child(h, H_B, l, 0);
    h_sent_skip(h, H_B);
    tcp_seg rst = h_template(h, H_B, ch);
    rst.flags = TCP_RST;
    rst.seq += 100;
    h_inject(h, H_B, &rst);
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0);
    h_expect_state(h, H_B, ch, TCP_SYN_RECEIVED);
}

/* Linux tcp_check_req: "if (flg & TCP_FLAG_SYN) goto embryonic_reset": an
 * in-window SYN other than the retransmitted one is answered with a reset
 * (tcp_v4_send_reset: no ACK in the SYN, so <SEQ=0><ACK=SEG.SEQ+1>). */
static void linux_syn_recv_new_syn_answered_with_rst(void **state)
{
    (void)state;
    harness *h = h_new(2, h_linux_exact());
    tcp_sock_id l = h_listen(h, H_B, 80, 4);
    h_connect(h, H_A, H_B, 80, H_ANY);
    h_deliver(h);
    h_drop(h);
    tcp_sock_id ch = h_child(h, H_B, l, 0);
    h_sent_skip(h, H_B);
    tcp_seg syn = h_template(h, H_B, ch);
    syn.flags = TCP_SYN;
    syn.ack = 0;
    syn.seq += 10;
    h_inject(h, H_B, &syn);
    h_expect_sent(h, H_B, TCP_RST | TCP_ACK, 0, syn.seq + 1u, 0);
    assert_int_equal(h_last_transition(h, H_B, ch)->to, TCP_CLOSED);
    h_free(h);
}

/* Linux tcp_event_data_recv -> tcp_incr_quickack(sk, TCP_MAX_QUICKACKS):
 * the first data segments of a connection are ACKed at once, not after the
 * 40 ms delayed-ACK timer. */
static void linux_quickack_at_start(void **state)
{
    (void)state;
    harness *h = h_new(2, h_linux_exact());
    h_pair p = h_establish(h, H_A, H_B, 80);
    h_send(h, H_A, p.client,
           "eighty bytes of request.......................................................");
    h_deliver(h);
    const tcp_seg *ack = h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0);
    assert_int_equal(h_sent(h, H_B, h_sent_count(h, H_B) - 1)->sent_ns, h_now(h));
    (void)ack;
    h_free(h);
}

/* rfc9293 (no quickack): the same segment waits for the delayed ACK
 * (200 ms, RFC 9293 §3.8.6.3). */
static void rfc9293_delayed_ack_at_start(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    h_send(h, H_A, p.client, "eighty bytes");
    h_deliver(h);
    h_expect_none_sent(h, H_B);
    uint64_t t0 = h_now(h);
    h_advance(h, H_MS(200));
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0);
    assert_int_equal(h_sent(h, H_B, h_sent_count(h, H_B) - 1)->sent_ns, t0 + H_MS(200));
}

/* Simultaneous open: A and B connect to each other; both SYNs arrive, both
 * sides are in SYN_RECEIVED with their SYN,ACKs on the wire. */
static tcp_sock_id simultaneous_syn_received(harness *h)
{
    tcp_sock_id a, b;
    tcp_stack *sa = h_stack(h, H_A), *sb = h_stack(h, H_B);
    assert_int_equal(tcp_socket(sa, &a), TCP_OK);
    assert_int_equal(tcp_bind(sa, a, 5000), TCP_OK);
    assert_int_equal(tcp_socket(sb, &b), TCP_OK);
    assert_int_equal(tcp_bind(sb, b, 6000), TCP_OK);
    assert_int_equal(tcp_connect(sa, a, h_addr(h, H_B), 6000), TCP_OK);
    assert_int_equal(tcp_connect(sb, b, h_addr(h, H_A), 5000), TCP_OK);
    h_deliver(h);
    h_deliver(h);
    h_expect_state(h, H_A, a, TCP_SYN_RECEIVED);
    h_sent_skip(h, H_A);
    return a;
}

/* FreeBSD tcp_disconnect: "if (tp->t_state < TCPS_ESTABLISHED)
 * tp = tcp_close(tp)": close() in SYN_RECEIVED ends without a FIN. */
static void bsd_close_in_syn_received_is_silent(void **state)
{
    (void)state;
    harness *h = h_new(2, tcp_profile_find("bsd"));
    tcp_sock_id a = simultaneous_syn_received(h);
    assert_int_equal(tcp_close(h_stack(h, H_A), a), TCP_OK);
    h_expect_none_sent(h, H_A);
    h_expect_conns(h, H_A, 0);
    h_free(h);
}

/* RFC 9293 §3.10.4 CLOSE in SYN-RECEIVED: "If no SENDs have been issued and
 * there is no pending data to send, then form a FIN segment and send it,
 * and enter FIN-WAIT-1 state". */
static void rfc9293_close_in_syn_received_sends_fin(void **state)
{
    harness *h = *state;
    tcp_sock_id a = simultaneous_syn_received(h);
    assert_int_equal(tcp_close(h_stack(h, H_A), a), TCP_OK);
    h_expect_sent(h, H_A, TCP_FIN | TCP_ACK, H_ANY, H_ANY, 0);
    h_expect_state(h, H_A, a, TCP_FIN_WAIT_1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, h_setup, h_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(linux_accept_queue_holds_backlog_plus_one),
        T(linux_third_ack_dropped_when_accept_queue_full),
        T(linux_syn_recv_rst_in_window_drops_request),
        T(rfc9293_syn_recv_rst_in_window_challenged),
        T(bsd_syn_recv_rst_drops_entry),
        T(linux_syn_recv_new_syn_answered_with_rst),
        T(linux_quickack_at_start),
        T(rfc9293_delayed_ack_at_start),
        T(bsd_close_in_syn_received_is_silent),
        T(rfc9293_close_in_syn_received_sends_fin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
