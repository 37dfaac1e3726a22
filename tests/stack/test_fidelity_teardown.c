/*
 * test_fidelity_teardown — closing rules checked against RFC 9293 and the
 * kernels, one test per rule: sending goes on in LAST-ACK and CLOSING
 * (§3.10.7.4 fifth step), an out-of-order FIN draws an immediate duplicate
 * ACK (RFC 5681 §4.2), CLOSE implies PUSH (§3.8), an RST at RCV.NXT - 1
 * after the peer's FIN (§3.10.7.4 second step; Linux tcp_reset_check).
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

/* B in `state` (ESTABLISHED, FIN_WAIT_2, CLOSE_WAIT, CLOSING or LAST_ACK),
 * everything sent so far marked checked. Only A's FIN reaches B: B's own
 * FIN (CLOSING, LAST_ACK) stays on the wire, unacknowledged. */
static h_pair b_in_state(harness *h, tcp_state state)
{
    h_pair p = h_establish(h, H_A, H_B, 80);
    tcp_stack *a = h_stack(h, H_A), *b = h_stack(h, H_B);
    switch (state) {
    case TCP_FIN_WAIT_2:
        assert_int_equal(tcp_shutdown(b, p.server), TCP_OK);
        h_run_for(h, H_S(1)); /* the FIN's ACK, delayed or not */
        break;
    case TCP_CLOSE_WAIT:
        assert_int_equal(tcp_shutdown(a, p.client), TCP_OK);
        h_run_for(h, H_S(1)); /* the FIN's ACK, delayed or not */
        break;
    case TCP_LAST_ACK:
        assert_int_equal(tcp_shutdown(a, p.client), TCP_OK);
        h_run_for(h, H_S(1)); /* the FIN's ACK, delayed or not */
        assert_int_equal(tcp_shutdown(b, p.server), TCP_OK);
        break;
    case TCP_CLOSING:
        assert_int_equal(tcp_shutdown(a, p.client), TCP_OK);
        assert_int_equal(tcp_shutdown(b, p.server), TCP_OK);
        h_deliver(h); /* A's FIN, sent first; B's FIN stays unacknowledged */
        break;
    default:
        break;
    }
    h_expect_state(h, H_B, p.server, state);
    h_sent_skip(h, H_A);
    h_sent_skip(h, H_B);
    return p;
}

/* An RST at RCV.NXT - 1. RFC 9293 §3.10.7.4 first step finds it outside
 * the window (RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND fails) and drops it, an
 * RST drawing no ACK; RFC 5961 §3.2: "In all other cases, where the
 * SEQ-field does not match and is outside the window, the receiver MUST
 * silently discard the segment". FreeBSD tcp_do_segment likewise (th_seq
 * below last_ack_sent: drop). Linux tcp_validate_incoming resets in
 * CLOSE_WAIT, CLOSING and LAST_ACK (tcp_reset_check: "seq == rcv_nxt - 1",
 * the octet the peer's FIN took), both where tcp_sequence refuses the RST
 * and where it passes (seq == rcv_nxt || tcp_reset_check: goto reset), and
 * sends nothing; in ESTABLISHED and FIN_WAIT_2 (no FIN received) the RST
 * is out of the window and dropped silently by every profile. */
static void rst_before_rcv_nxt_after_fin_per_profile(void **state)
{
    (void)state;
    static const char *const P[] = {"rfc9293", "linux", "bsd"};
    static const tcp_state S[] = {TCP_ESTABLISHED, TCP_FIN_WAIT_2, TCP_CLOSE_WAIT, TCP_CLOSING,
                                  TCP_LAST_ACK};
    for (size_t i = 0; i < sizeof P / sizeof P[0]; i++) {
        for (size_t j = 0; j < sizeof S / sizeof S[0]; j++) {
            harness *h = h_new(2, h_profile_exact(P[i]));
            h_pair p = b_in_state(h, S[j]);
            tcp_tcb t;
            assert_int_equal(tcp_sock_tcb(h_stack(h, H_B), p.server, &t), 0);
            tcp_seg rst = h_template(h, H_B, p.server);
            rst.flags = TCP_RST;
            rst.ack = 0;
            rst.seq = t.rcv_nxt - 1;
            h_inject(h, H_B, &rst);
            bool after_fin = S[j] != TCP_ESTABLISHED && S[j] != TCP_FIN_WAIT_2;
            bool resets = i == 1 && after_fin;
            h_expect_none_sent(h, H_B);
            h_expect_state(h, H_B, p.server, resets ? TCP_CLOSED : S[j]);
            assert_int_equal(h_count(h, H_B, p.server, TCP_EV_DROP), resets ? 0 : 1);
            h_free(h);
        }
    }
}

/* The same RST in CLOSE_WAIT before B's delayed ACK of the FIN went out
 * (linux: tcp_fin enters pingpong mode, the ACK waits a tick): Linux's
 * tcp_sequence passes it (end_seq = RCV.NXT - 1 is not before rcv_wup,
 * the RCV.NXT of B's last ACK), and the second step resets all the same
 * (seq == rcv_nxt || tcp_reset_check: goto reset), sending nothing. */
static void linux_rst_before_rcv_nxt_before_fin_ack_resets(void **state)
{
    (void)state;
    harness *h = h_new(2, h_linux_exact());
    h_pair p = h_establish(h, H_A, H_B, 80);
    tcp_seg fin = h_template(h, H_B, p.server);
    fin.flags = TCP_ACK | TCP_FIN;
    h_inject(h, H_B, &fin);
    h_expect_state(h, H_B, p.server, TCP_CLOSE_WAIT);
    h_expect_none_sent(h, H_B); /* the FIN's ACK is still delayed */
    tcp_seg rst = fin;
    rst.flags = TCP_RST;
    rst.ack = 0;
    h_inject(h, H_B, &rst); /* SEG.SEQ = the FIN's = RCV.NXT - 1 */
    h_expect_none_sent(h, H_B);
    h_expect_state(h, H_B, p.server, TCP_CLOSED);
    h_advance(h, H_MS(300)); /* and the delayed ACK never goes */
    h_expect_none_sent(h, H_B);
    h_free(h);
}

/* An RST at RCV.NXT in CLOSING or LAST_ACK, with the user still holding
 * the socket (shutdown(), not close()). RFC 9293 §3.10.7.4 second step,
 * "CLOSING STATE, LAST-ACK STATE, TIME-WAIT: If the RST bit is set, then
 * enter the CLOSED state, delete the TCB, and return": no signal, no
 * error. Linux tcp_reset switches on sk_state: SYN_SENT ECONNREFUSED,
 * CLOSE_WAIT EPIPE, CLOSE returns, anything else (CLOSING and LAST_ACK
 * among them) ECONNRESET. FreeBSD tcp_do_segment sets so_error =
 * ECONNRESET for ESTABLISHED through LAST_ACK, CLOSING and LAST_ACK
 * included, before tcp_close. Either way nothing is sent in answer.
 * What the user then sees: Linux tcp_recvmsg_locked finds SOCK_DONE (the
 * FIN came) before sk_err, so a read returns 0; tcp_sendmsg_locked
 * reports sock_error(), clearing it, then EPIPE (SEND_SHUTDOWN). FreeBSD
 * sosend_generic finds SBS_CANTSENDMORE (shutdown, then tcp_close →
 * soisdisconnected) before so_error: EPIPE; soreceive_generic reports
 * so_error before SBS_CANTRCVMORE and clears it, then returns 0. RFC
 * 9293: the TCB is deleted, so SEND and RECEIVE meet §3.10.2 and §3.10.3
 * in CLOSED, "connection does not exist" (profile closed_deletes_tcb). */
static void rst_in_closing_and_last_ack_error_per_profile(void **state)
{
    (void)state;
    static const struct {
        const char *profile;
        int err;
    } P[] = {{"rfc9293", 0}, {"linux", TCP_ECONNRESET}, {"bsd", TCP_ECONNRESET}};
    static const tcp_state S[] = {TCP_CLOSING, TCP_LAST_ACK};
    for (size_t i = 0; i < sizeof P / sizeof P[0]; i++) {
        for (size_t j = 0; j < sizeof S / sizeof S[0]; j++) {
            harness *h = h_new(2, h_profile_exact(P[i].profile));
            h_pair p = b_in_state(h, S[j]);
            tcp_stack *b = h_stack(h, H_B);
            h_inject_rst(h, H_B, p.server);
            h_expect_none_sent(h, H_B);
            h_expect_state(h, H_B, p.server, TCP_CLOSED);
            assert_int_equal(tcp_sock_error(b, p.server), P[i].err);
            assert_int_equal(h_count(h, H_B, p.server, TCP_EV_ERROR), P[i].err ? 1 : 0);
            char buf[4];
            if (i == 0) { /* rfc9293 */
                assert_int_equal(tcp_recv(b, p.server, buf, sizeof buf), TCP_ENOTCONN);
                assert_int_equal(tcp_send(b, p.server, "x", 1), TCP_ENOTCONN);
            } else if (i == 1) { /* linux */
                assert_int_equal(tcp_recv(b, p.server, buf, sizeof buf), 0);
                assert_int_equal(tcp_send(b, p.server, "x", 1), TCP_ECONNRESET);
                assert_int_equal(tcp_send(b, p.server, "x", 1), TCP_EPIPE);
                assert_int_equal(tcp_recv(b, p.server, buf, sizeof buf), 0);
            } else if (i == 2) { /* bsd */
                assert_int_equal(tcp_send(b, p.server, "x", 1), TCP_EPIPE);
                assert_int_equal(tcp_recv(b, p.server, buf, sizeof buf), TCP_ECONNRESET);
                assert_int_equal(tcp_recv(b, p.server, buf, sizeof buf), 0);
                assert_int_equal(tcp_send(b, p.server, "x", 1), TCP_EPIPE);
            }
            h_free(h);
        }
    }
}

#define T(f) cmocka_unit_test_setup_teardown(f, h_setup, h_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(last_ack_sends_data_queued_behind_fin),
        T(closing_sends_data_queued_behind_fin),
        T(out_of_order_fin_draws_immediate_dup_ack),
        cmocka_unit_test(rst_before_rcv_nxt_after_fin_per_profile),
        cmocka_unit_test(linux_rst_before_rcv_nxt_before_fin_ack_resets),
        cmocka_unit_test(rst_in_closing_and_last_ack_error_per_profile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
