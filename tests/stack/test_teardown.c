/*
 * test_teardown — closing a connection (RFC 9293 §3.6, §3.10.4, §3.10.5):
 * active and passive close, simultaneous close through CLOSING, FIN+ACK in
 * one segment in FIN_WAIT_1 (two transitions, one segment), half-close,
 * close in SYN_RECEIVED, FIN_WAIT_2 forever vs reaped, RST on close with
 * unread data, linger 0 and abort.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "harness.h"

static void expect_empty_after(harness *h, uint64_t ns)
{
    h_run_for(h, ns);
    h_expect_conns(h, H_A, 0);
    h_expect_conns(h, H_B, 0);
}

static void close_ok(harness *h, size_t stack, tcp_sock_id id)
{
    assert_int_equal(tcp_close(h_stack(h, stack), id), TCP_OK);
}

/* CLOSE on a connection a reset ended, its TCB deleted (rfc9293, profile
 * closed_deletes_tcb): RFC 9293 §3.10.4 CLOSED STATE, "error: connection
 * does not exist"; the id is released all the same. */
static void close_deleted(harness *h, size_t stack, tcp_sock_id id)
{
    assert_int_equal(tcp_close(h_stack(h, stack), id), TCP_ENOTCONN);
    assert_int_equal(tcp_close(h_stack(h, stack), id), TCP_EBADF);
}

/*
 *  A ESTABLISHED -> FIN_WAIT_1  FIN,ACK   ->  B ESTABLISHED -> CLOSE_WAIT
 *  A FIN_WAIT_2               <- ACK
 *                             <- FIN,ACK      B CLOSE_WAIT -> LAST_ACK
 *  A TIME_WAIT                   ACK      ->  B LAST_ACK -> CLOSED
 *  A CLOSED after 2*MSL = 240 s
 */
static void active_and_passive_close(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    close_ok(h, H_A, p.client);
    const tcp_seg *fin = h_expect_sent(h, H_A, TCP_FIN | TCP_ACK, H_ANY, H_ANY, 0);
    h_deliver(h);
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, fin->seq + 1u, 0);
    h_deliver(h);
    h_expect_state(h, H_A, p.client, TCP_FIN_WAIT_2);
    h_expect_state(h, H_B, p.server, TCP_CLOSE_WAIT);
    assert_int_equal(tcp_recv(h_stack(h, H_B), p.server, (char[8]){0}, 8), 0); /* EOF */

    close_ok(h, H_B, p.server);
    const tcp_seg *fin2 = h_expect_sent(h, H_B, TCP_FIN | TCP_ACK, H_ANY, fin->seq + 1u, 0);
    h_deliver(h);
    h_expect_sent(h, H_A, TCP_ACK, fin->seq + 1u, fin2->seq + 1u, 0);
    h_deliver(h);
    h_expect_trace(h, H_A, p.client,
                   H_STATES(TCP_CLOSED, TCP_SYN_SENT, TCP_ESTABLISHED, TCP_FIN_WAIT_1,
                            TCP_FIN_WAIT_2, TCP_TIME_WAIT));
    h_expect_trace(h, H_B, p.server,
                   H_STATES(TCP_LISTEN, TCP_SYN_RECEIVED, TCP_ESTABLISHED, TCP_CLOSE_WAIT,
                            TCP_LAST_ACK, TCP_CLOSED));
    h_expect_conns(h, H_B, 1); /* the listener */
    h_run(h, H_S(240) - 1);
    h_expect_state(h, H_A, p.client, TCP_TIME_WAIT);
    h_run(h, H_S(240));
    h_expect_conns(h, H_A, 0);
    assert_string_equal(h_last_transition(h, H_A, p.client)->note, "2MSL timeout");
    close_ok(h, H_B, p.listener);
    expect_empty_after(h, 0);
}

/* §3.5 Figure 13: both FINs cross; each side goes FIN_WAIT_1 -> CLOSING ->
 * TIME_WAIT. */
static void simultaneous_close(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    close_ok(h, H_A, p.client);
    close_ok(h, H_B, p.server);
    h_expect_sent(h, H_A, TCP_FIN | TCP_ACK, H_ANY, H_ANY, 0);
    h_expect_sent(h, H_B, TCP_FIN | TCP_ACK, H_ANY, H_ANY, 0);
    h_settle(h);
    const tcp_state want_a[] = {TCP_CLOSED,     TCP_SYN_SENT, TCP_ESTABLISHED,
                                TCP_FIN_WAIT_1, TCP_CLOSING,  TCP_TIME_WAIT};
    const tcp_state want_b[] = {TCP_LISTEN,     TCP_SYN_RECEIVED, TCP_ESTABLISHED,
                                TCP_FIN_WAIT_1, TCP_CLOSING,      TCP_TIME_WAIT};
    h_expect_trace(h, H_A, p.client, want_a, 6);
    h_expect_trace(h, H_B, p.server, want_b, 6);
    close_ok(h, H_B, p.listener);
    expect_empty_after(h, H_S(241));
}

/* The peer's FIN arrives with the ACK of our FIN: the ACK step moves
 * FIN_WAIT_1 to FIN_WAIT_2, the FIN step FIN_WAIT_2 to TIME_WAIT; both
 * transitions carry the same segment, cause and time. */
static void fin_and_ack_together_in_fin_wait_1(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    h_drop_sent(h, H_B, TCP_ACK, 1); /* B's ACK of A's FIN is lost */
    close_ok(h, H_A, p.client);
    h_deliver(h);
    h_expect_state(h, H_B, p.server, TCP_CLOSE_WAIT);
    close_ok(h, H_B, p.server);
    h_deliver(h); /* B's FIN,ACK acknowledges A's FIN too */
    h_expect_state(h, H_A, p.client, TCP_TIME_WAIT);

    const h_event *fw2 = h_find_transition(h, H_A, p.client, TCP_FIN_WAIT_2);
    const h_event *tw = h_find_transition(h, H_A, p.client, TCP_TIME_WAIT);
    assert_non_null(fw2);
    assert_non_null(tw);
    assert_int_equal(fw2->from, TCP_FIN_WAIT_1);
    assert_int_equal(tw->from, TCP_FIN_WAIT_2);
    assert_int_equal(fw2->cause, TCP_CAUSE_SEGMENT);
    assert_int_equal(tw->cause, TCP_CAUSE_SEGMENT);
    assert_int_equal(fw2->time_ns, tw->time_ns);
    assert_true(fw2->has_seg && tw->has_seg);
    assert_int_equal(fw2->seg.seq, tw->seg.seq);
    assert_int_equal(fw2->seg.flags, TCP_FIN | TCP_ACK);
    assert_string_equal(fw2->note, "rcv ACK of FIN");
    assert_string_equal(tw->note, "rcv FIN");
    h_settle(h);
    close_ok(h, H_B, p.listener);
    expect_empty_after(h, H_S(241));
}

/* Half-close: A shuts its send side; B, in CLOSE_WAIT, keeps sending and
 * A keeps reading in FIN_WAIT_2. */
static void half_close_with_data_in_close_wait(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    assert_int_equal(tcp_shutdown(h_stack(h, H_A), p.client), TCP_OK);
    h_settle(h);
    h_expect_state(h, H_A, p.client, TCP_FIN_WAIT_2);
    h_expect_state(h, H_B, p.server, TCP_CLOSE_WAIT);
    assert_int_equal(tcp_send(h_stack(h, H_A), p.client, "x", 1), TCP_EPIPE);

    h_send(h, H_B, p.server, "still talking");
    h_settle(h);
    h_expect_recv(h, H_A, p.client, "still talking");
    h_send(h, H_B, p.server, "and more");
    h_run_for(h, H_S(1));
    h_expect_recv(h, H_A, p.client, "and more");
    h_expect_state(h, H_A, p.client, TCP_FIN_WAIT_2);

    close_ok(h, H_B, p.server);
    h_settle(h);
    h_expect_state(h, H_A, p.client, TCP_TIME_WAIT);
    assert_int_equal(tcp_recv(h_stack(h, H_A), p.client, (char[8]){0}, 8), 0);
    close_ok(h, H_A, p.client);
    close_ok(h, H_B, p.listener);
    expect_empty_after(h, H_S(241));
}

/* §3.10.4 CLOSE in SYN-RECEIVED: "form a FIN segment and send it, and
 * enter FIN-WAIT-1". Reached by a simultaneous open. */
static void close_in_syn_received_goes_fin_wait_1(void **state)
{
    harness *h = *state;
    tcp_stack *a = h_stack(h, H_A), *b = h_stack(h, H_B);
    tcp_sock_id x, y;
    assert_int_equal(tcp_socket(a, &x), TCP_OK);
    assert_int_equal(tcp_socket(b, &y), TCP_OK);
    assert_int_equal(tcp_bind(a, x, 1000), TCP_OK);
    assert_int_equal(tcp_bind(b, y, 2000), TCP_OK);
    assert_int_equal(tcp_connect(a, x, h_addr(h, H_B), 2000), TCP_OK);
    assert_int_equal(tcp_connect(b, y, h_addr(h, H_A), 1000), TCP_OK);
    h_deliver(h); /* A's SYN: B -> SYN_RECEIVED */
    h_expect_state(h, H_B, y, TCP_SYN_RECEIVED);
    close_ok(h, H_B, y);
    h_expect_state(h, H_B, y, TCP_FIN_WAIT_1);
    assert_string_equal(h_last_transition(h, H_B, y)->note, "close()");
    assert_int_equal(h_last_transition(h, H_B, y)->cause, TCP_CAUSE_USER);
    h_settle(h);
    h_run_for(h, H_S(5));
    h_expect_trace(
        h, H_B, y,
        H_STATES(TCP_CLOSED, TCP_SYN_SENT, TCP_SYN_RECEIVED, TCP_FIN_WAIT_1, TCP_FIN_WAIT_2));
    h_expect_state(h, H_A, x, TCP_CLOSE_WAIT);
    close_ok(h, H_A, x);
    h_settle(h);
    h_expect_state(h, H_B, y, TCP_TIME_WAIT);
    expect_empty_after(h, H_S(300));
}

/* rfc9293 has no FIN_WAIT_2 timeout: an orphan waits for the peer's FIN. */
static void fin_wait_2_forever_rfc9293(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    close_ok(h, H_A, p.client);
    h_settle(h);
    h_run_for(h, H_S(86400));
    h_expect_state(h, H_A, p.client, TCP_FIN_WAIT_2);
    assert_int_equal(tcp_stack_next_deadline(h_stack(h, H_A)), UINT64_MAX);
    close_ok(h, H_B, p.server);
    close_ok(h, H_B, p.listener);
    expect_empty_after(h, H_S(241));
}

/* linux: an orphan in FIN_WAIT_2 is reaped after tcp_fin_timeout (60 s);
 * a half-closed socket the user still holds is not. */
static void fin_wait_2_orphan_reaped_linux(void **state)
{
    (void)state;
    harness *h = h_new(2, h_linux_exact());
    h_pair p = h_establish(h, H_A, H_B, 80);
    h_pair q = h_establish(h, H_A, H_B, 81);
    /* The orphan timer starts in FIN_WAIT_2, when B's ACK of the bare FIN
     * arrives: one tick after the FIN (delack_tick, tcp_send_delayed_ack). */
    uint64_t t0 = h_now(h) + h_linux_exact()->delack_tick_ns;
    close_ok(h, H_A, p.client);
    assert_int_equal(tcp_shutdown(h_stack(h, H_A), q.client), TCP_OK);
    h_settle(h);
    h_run(h, t0 + H_S(60) - 1);
    h_expect_state(h, H_A, p.client, TCP_FIN_WAIT_2);
    h_run(h, t0 + H_S(60));
    h_expect_state(h, H_A, p.client, TCP_CLOSED);
    const h_event *t = h_last_transition(h, H_A, p.client);
    assert_int_equal(t->cause, TCP_CAUSE_TIMER);
    assert_string_equal(t->note, "FIN_WAIT_2 timeout");
    h_run_for(h, H_S(3600));
    h_expect_state(h, H_A, q.client, TCP_FIN_WAIT_2);

    close_ok(h, H_A, q.client); /* now an orphan: reaped 60 s later */
    h_run_for(h, H_S(61));
    h_expect_conns(h, H_A, 0);
    close_ok(h, H_B, p.server);
    close_ok(h, H_B, q.server);
    close_ok(h, H_B, p.listener);
    close_ok(h, H_B, q.listener);
    h_run_for(h, H_S(120));
    h_expect_conns(h, H_B, 0);
    h_free(h);
}

/* linux: close() with unread received data aborts with RST. */
static void close_with_unread_data_sends_rst(void **state)
{
    (void)state;
    harness *h = h_new(2, h_linux_exact());
    h_pair p = h_establish(h, H_A, H_B, 80);
    h_send(h, H_B, p.server, "unread");
    h_settle(h);
    assert_int_equal(tcp_readable(h_stack(h, H_A), p.client), 6);
    h_sent_skip(h, H_A);
    close_ok(h, H_A, p.client);
    /* tcp_close: tcp_send_active_reset -> RST,ACK */
    h_expect_sent(h, H_A, TCP_RST | TCP_ACK, H_ANY, H_ANY, 0);
    h_expect_none_sent(h, H_A);
    h_expect_state(h, H_A, p.client, TCP_CLOSED);
    assert_string_equal(h_last_transition(h, H_A, p.client)->note, "close() with unread data");
    h_deliver_all(h);
    h_expect_state(h, H_B, p.server, TCP_CLOSED);
    assert_int_equal(tcp_sock_error(h_stack(h, H_B), p.server), TCP_ECONNRESET);
    h_expect_conns(h, H_A, 0); /* no TIME_WAIT */
    close_ok(h, H_B, p.server);
    close_ok(h, H_B, p.listener);
    expect_empty_after(h, 0);
    h_free(h);
}

/* bsd: close() with unread data flushes it and sends FIN. */
static void close_with_unread_data_sends_fin_bsd(void **state)
{
    (void)state;
    harness *h = h_new(2, tcp_profile_find("bsd"));
    h_pair p = h_establish(h, H_A, H_B, 80);
    h_send(h, H_B, p.server, "unread");
    h_settle(h);
    h_sent_skip(h, H_A);
    close_ok(h, H_A, p.client);
    h_expect_sent(h, H_A, TCP_FIN | TCP_ACK, H_ANY, H_ANY, 0);
    h_expect_state(h, H_A, p.client, TCP_FIN_WAIT_1);
    close_ok(h, H_B, p.server);
    close_ok(h, H_B, p.listener);
    expect_empty_after(h, H_S(120));
    h_free(h);
}

/* SO_LINGER with a zero time: close() sends RST, no TIME_WAIT. */
static void linger_zero_sends_rst_without_time_wait(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    assert_int_equal(tcp_setopt(h_stack(h, H_A), p.client, TCP_OPT_LINGER_ZERO, 1), TCP_OK);
    close_ok(h, H_A, p.client);
    const tcp_seg *rst = h_expect_sent(h, H_A, TCP_RST, H_ANY, H_ANY, 0);
    assert_int_equal(rst->seq, h_template(h, H_B, p.server).seq);
    h_expect_conns(h, H_A, 0);
    h_settle(h);
    h_expect_trace(h, H_B, p.server,
                   H_STATES(TCP_LISTEN, TCP_SYN_RECEIVED, TCP_ESTABLISHED, TCP_CLOSED));
    assert_int_equal(h_count(h, H_B, p.server, TCP_EV_ERROR), 1);
    close_deleted(h, H_B, p.server);
    close_ok(h, H_B, p.listener);
    expect_empty_after(h, 0);
}

/* §3.10.5 ABORT in ESTABLISHED: <SEQ=SND.NXT><CTL=RST>, CLOSED at once. */
static void abort_sends_rst(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    assert_int_equal(tcp_abort(h_stack(h, H_B), p.server), TCP_OK);
    h_expect_sent(h, H_B, TCP_RST, H_ANY, H_ANY, 0);
    assert_int_equal(tcp_send(h_stack(h, H_B), p.server, "x", 1), TCP_EBADF);
    h_settle(h);
    h_expect_state(h, H_A, p.client, TCP_CLOSED);
    assert_int_equal(tcp_sock_error(h_stack(h, H_A), p.client), TCP_ECONNRESET);
    assert_int_equal(tcp_send(h_stack(h, H_A), p.client, "x", 1), TCP_ECONNRESET);
    close_deleted(h, H_A, p.client);
    close_ok(h, H_B, p.listener);
    expect_empty_after(h, 0);
}

/* Closing a listener resets its accepted-but-not-taken children. */
static void closing_listener_resets_queued_children(void **state)
{
    harness *h = *state;
    tcp_sock_id l = h_listen(h, H_B, 80, 8);
    tcp_sock_id c = h_connect(h, H_A, H_B, 80, H_ANY);
    h_settle(h);
    h_expect_conns(h, H_B, 2);
    close_ok(h, H_B, l);
    h_expect_conns(h, H_B, 0);
    h_settle(h);
    h_expect_state(h, H_A, c, TCP_CLOSED);
    assert_int_equal(tcp_sock_error(h_stack(h, H_A), c), TCP_ECONNRESET);
    close_deleted(h, H_A, c);
    expect_empty_after(h, 0);
}

/* A connection that ends normally while the user still holds the socket.
 * RFC 9293 deletes the TCB: LAST-ACK when our FIN is acknowledged
 * (§3.10.7.4: "delete the TCB, enter the CLOSED state, and return"), and
 * TIME-WAIT when its timer expires (§3.10.8 Time-Wait Timeout: "delete the
 * TCB"). RECEIVE, SEND and CLOSE then meet CLOSED: "error: connection does
 * not exist" (§3.10.2, §3.10.3, §3.10.4), and the bytes unread went with
 * the TCB. Linux keeps the socket shut both ways with its receive queue
 * (tcp_done: sk_shutdown = SHUTDOWN_MASK; tcp_recvmsg_locked: SOCK_DONE,
 * 0; sk_stream_error: EPIPE; inet_release closes it: 0), FreeBSD likewise
 * (tcp_close → soisdisconnected: so_rcv kept, SBS_CANTRCVMORE,
 * SBS_CANTSENDMORE; soreceive_generic: 0; sosend_generic: EPIPE; soclose:
 * 0). */
typedef struct ended_calls {
    const char *profile;
    long readable; /* bytes unread left readable */
    long recv, send;
    int close;
} ended_calls;

static const ended_calls ENDED[] = {
    {"rfc9293", 0, TCP_ENOTCONN, TCP_ENOTCONN, TCP_ENOTCONN},
    {"linux", 5, 0, TCP_EPIPE, TCP_OK},
    {"bsd", 5, 0, TCP_EPIPE, TCP_OK},
};

static void expect_ended_calls(harness *h, size_t stack, tcp_sock_id id, const ended_calls *e,
                               size_t left)
{
    tcp_stack *s = h_stack(h, stack);
    h_expect_state(h, stack, id, TCP_CLOSED);
    assert_int_equal(tcp_sock_error(s, id), 0);
    assert_int_equal((long)tcp_readable(s, id), e->readable);
    char buf[8];
    if (e->readable)
        assert_int_equal(tcp_recv(s, id, buf, sizeof buf), e->readable);
    assert_int_equal(tcp_recv(s, id, buf, sizeof buf), e->recv);
    assert_int_equal(tcp_recv(s, id, buf, sizeof buf), e->recv);
    assert_int_equal(tcp_send(s, id, "x", 1), e->send);
    assert_int_equal(tcp_sock_take_error(s, id), 0);
    assert_int_equal(tcp_close(s, id), e->close);
    /* Whatever close answers, the id is released: `left` (a listener)
     * is all the stack holds. */
    assert_int_equal(tcp_recv(s, id, buf, sizeof buf), TCP_EBADF);
    assert_int_equal(tcp_close(s, id), TCP_EBADF);
    h_expect_conns(h, stack, left);
}

/*
 *  A ESTABLISHED, "hello" -> B (unread)
 *  A close()        FIN,ACK   ->  B ESTABLISHED -> CLOSE_WAIT
 *                             <-  ACK
 *  B shutdown()   <- FIN,ACK      B CLOSE_WAIT -> LAST_ACK
 *                    ACK      ->  B LAST_ACK -> CLOSED: TCB deleted (rfc9293)
 */
static void last_ack_acknowledged_deletes_the_tcb_per_profile(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ENDED / sizeof ENDED[0]; i++) {
        harness *h = h_new(2, h_profile_exact(ENDED[i].profile));
        h_pair p = h_establish(h, H_A, H_B, 80);
        assert_int_equal(tcp_send(h_stack(h, H_A), p.client, "hello", 5), 5);
        h_settle(h);
        close_ok(h, H_A, p.client);
        h_settle(h);
        h_expect_state(h, H_B, p.server, TCP_CLOSE_WAIT);
        assert_int_equal(tcp_shutdown(h_stack(h, H_B), p.server), TCP_OK);
        h_expect_state(h, H_B, p.server, TCP_LAST_ACK);
        h_settle(h);
        expect_ended_calls(h, H_B, p.server, &ENDED[i], 1);
        h_free(h);
    }
}

/*
 *  B ESTABLISHED, "hello" -> A (unread)
 *  A shutdown()     FIN,ACK   ->  B ESTABLISHED -> CLOSE_WAIT
 *  A FIN_WAIT_2               <-  ACK
 *                             <-  FIN,ACK     B close(): LAST_ACK
 *  A TIME_WAIT                    ACK     ->  B CLOSED
 *  A CLOSED after 2*MSL: TCB deleted (rfc9293)
 */
static void time_wait_expiry_deletes_the_tcb_per_profile(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ENDED / sizeof ENDED[0]; i++) {
        harness *h = h_new(2, h_profile_exact(ENDED[i].profile));
        h_pair p = h_establish(h, H_A, H_B, 80);
        assert_int_equal(tcp_send(h_stack(h, H_B), p.server, "hello", 5), 5);
        h_settle(h);
        assert_int_equal(tcp_shutdown(h_stack(h, H_A), p.client), TCP_OK);
        h_settle(h);
        close_ok(h, H_B, p.server);
        h_settle(h);
        h_expect_state(h, H_A, p.client, TCP_TIME_WAIT);
        h_run_for(h, H_MS(600000)); /* 2*MSL in every profile, and more */
        expect_ended_calls(h, H_A, p.client, &ENDED[i], 0);
        h_free(h);
    }
}

/* CLOSE in SYN-SENT while the user keeps the socket (shutdown(), not
 * close()): RFC 9293 §3.10.4 SYN-SENT STATE, "Delete the TCB and return
 * 'error: closing' responses to any queued SENDs, or RECEIVEs". The
 * socket then meets CLOSED, "error: connection does not exist", for
 * RECEIVE, SEND and CLOSE alike (§3.10.2-4; profile closed_deletes_tcb),
 * as after any other ending. Linux inet_shutdown → tcp_disconnect leaves
 * a socket never connected: recv ENOTCONN (tcp_recvmsg_locked: TCP_CLOSE),
 * close 0 (inet_release). */
static void shutdown_in_syn_sent_deletes_the_tcb_per_profile(void **state)
{
    (void)state;
    static const struct {
        const char *profile;
        long recv;
        int close;
    } C[] = {{"rfc9293", TCP_ENOTCONN, TCP_ENOTCONN}, {"linux", TCP_ENOTCONN, TCP_OK}};
    for (size_t i = 0; i < sizeof C / sizeof C[0]; i++) {
        harness *h = h_new(2, h_profile_exact(C[i].profile));
        tcp_sock_id c = h_connect(h, H_A, H_B, 80, H_ANY);
        tcp_stack *a = h_stack(h, H_A);
        h_expect_state(h, H_A, c, TCP_SYN_SENT);
        assert_int_equal(tcp_shutdown(a, c), TCP_OK);
        h_expect_state(h, H_A, c, TCP_CLOSED);
        char buf[4];
        assert_int_equal(tcp_recv(a, c, buf, sizeof buf), C[i].recv);
        if (i == 0) /* §3.10.2 CLOSED */
            assert_int_equal(tcp_send(a, c, "x", 1), TCP_ENOTCONN);
        assert_int_equal(tcp_close(a, c), C[i].close);
        assert_int_equal(tcp_close(a, c), TCP_EBADF);
        h_expect_conns(h, H_A, 0);
        h_free(h);
    }
}

#define T(f) cmocka_unit_test_setup_teardown(f, h_setup, h_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(active_and_passive_close),
        T(simultaneous_close),
        T(fin_and_ack_together_in_fin_wait_1),
        T(half_close_with_data_in_close_wait),
        T(close_in_syn_received_goes_fin_wait_1),
        T(fin_wait_2_forever_rfc9293),
        cmocka_unit_test(fin_wait_2_orphan_reaped_linux),
        cmocka_unit_test(close_with_unread_data_sends_rst),
        cmocka_unit_test(close_with_unread_data_sends_fin_bsd),
        T(linger_zero_sends_rst_without_time_wait),
        T(abort_sends_rst),
        T(closing_listener_resets_queued_children),
        cmocka_unit_test(last_ack_acknowledged_deletes_the_tcb_per_profile),
        cmocka_unit_test(time_wait_expiry_deletes_the_tcb_per_profile),
        cmocka_unit_test(shutdown_in_syn_sent_deletes_the_tcb_per_profile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
