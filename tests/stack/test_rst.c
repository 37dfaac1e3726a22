/*
 * test_rst — resets and hostile input: RFC 5961 §3 (blind RST: exact
 * RCV.NXT resets, in-window gets a challenge ACK, out of window dropped),
 * §4 (SYN in a synchronized state), §5 (ACK of unsent data), RFC 9293
 * §3.5.1 half-open discovery from both sides, and malformed datagrams.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "harness.h"

static void blind_rst_in_window_gets_challenge_ack(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    tcp_seg rst = h_template(h, H_A, p.client);
    uint32_t rcv_nxt = rst.seq, snd_nxt = rst.ack;
    rst.flags = TCP_RST;
    rst.ack = 0;
    rst.seq = rcv_nxt + 1000;
    h_inject(h, H_A, &rst);
    h_expect_sent(h, H_A, TCP_ACK, snd_nxt, rcv_nxt, 0);
    h_expect_state(h, H_A, p.client, TCP_ESTABLISHED);
    assert_int_equal(tcp_sock_stats(h_stack(h, H_A), p.client)->challenge_acks, 1);
    h_settle(h); /* B answers the challenge ACK with nothing */
    h_expect_none_sent(h, H_B);
    h_finish(h);
}

static void rst_out_of_window_dropped(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    tcp_seg rst = h_template(h, H_A, p.client);
    rst.flags = TCP_RST;
    rst.seq += 0x40000000u;
    h_inject(h, H_A, &rst);
    h_expect_none_sent(h, H_A);
    h_expect_state(h, H_A, p.client, TCP_ESTABLISHED);
    assert_int_equal(h_count(h, H_A, p.client, TCP_EV_DROP), 1);
    h_finish(h);
}

static void rst_at_rcv_nxt_resets(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    tcp_seg rst = h_template(h, H_A, p.client);
    rst.flags = TCP_RST;
    h_inject(h, H_A, &rst);
    h_expect_none_sent(h, H_A);
    h_expect_trace(h, H_A, p.client,
                   H_STATES(TCP_CLOSED, TCP_SYN_SENT, TCP_ESTABLISHED, TCP_CLOSED));
    assert_int_equal(tcp_sock_error(h_stack(h, H_A), p.client), TCP_ECONNRESET);
    assert_int_equal(tcp_recv(h_stack(h, H_A), p.client, (char[4]){0}, 4), TCP_ECONNRESET);
    tcp_abort(h_stack(h, H_B), p.server);
    h_finish(h);
}

/* RFC 5961 §4.2: a SYN in ESTABLISHED, whatever its sequence number. */
static void syn_in_established_gets_challenge_ack(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    tcp_seg syn = h_template(h, H_B, p.server);
    uint32_t rcv_nxt = syn.seq, snd_nxt = syn.ack;
    syn.flags = TCP_SYN;
    syn.ack = 0;
    h_inject(h, H_B, &syn);
    h_expect_sent(h, H_B, TCP_ACK, snd_nxt, rcv_nxt, 0);
    h_expect_state(h, H_B, p.server, TCP_ESTABLISHED);
    h_finish(h);
}

/* RFC 5961 §5.2: an ACK of data never sent is answered with an ACK. */
static void ack_of_unsent_data_answered(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    tcp_seg bad = h_template(h, H_A, p.client);
    uint32_t rcv_nxt = bad.seq, snd_nxt = bad.ack;
    bad.ack += 5000;
    h_inject(h, H_A, &bad);
    h_expect_sent(h, H_A, TCP_ACK, snd_nxt, rcv_nxt, 0);
    h_finish(h);
}

/*
 * RFC 9293 §3.5.1 Figure 10: A crashes and reconnects from the same port.
 *  A SYN_SENT  SYN 400                ->  B ESTABLISHED: SYN -> challenge ACK
 *  A          <- ACK (not acceptable)
 *              RST <SEQ=SEG.ACK>      ->  B: reset (ECONNRESET)
 *  A           SYN 400 (RTO)          ->  B's listener: a new connection
 */
static void half_open_discovered_by_reconnect(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    uint16_t port;
    assert_int_equal(tcp_sock_endpoints(h_stack(h, H_A), p.client, &port, NULL, NULL), 0);
    h_reboot(h, H_A);
    tcp_stack *a = h_stack(h, H_A);
    tcp_sock_id c;
    assert_int_equal(tcp_socket(a, &c), TCP_OK);
    assert_int_equal(tcp_setopt(a, c, TCP_OPT_ISN, 400), TCP_OK);
    assert_int_equal(tcp_bind(a, c, port), TCP_OK);
    assert_int_equal(tcp_connect(a, c, h_addr(h, H_B), 80), TCP_OK);
    h_sent_skip(h, H_A);
    h_sent_skip(h, H_B);
    h_settle(h);
    h_expect_sent(h, H_B, TCP_ACK, H_ANY, H_ANY, 0); /* the challenge ACK */
    h_expect_sent(h, H_A, TCP_RST, H_ANY, H_ANY, 0);
    h_expect_state(h, H_B, p.server, TCP_CLOSED);
    assert_int_equal(tcp_sock_error(h_stack(h, H_B), p.server), TCP_ECONNRESET);
    h_run_for(h, H_S(2));
    h_expect_state(h, H_A, c, TCP_ESTABLISHED);
    tcp_sock_id s2 = h_accept(h, H_B, p.listener);
    tcp_close(a, c);
    tcp_close(h_stack(h, H_B), s2);
    h_finish(h);
}

/* RFC 9293 §3.5.1 Figure 11: B crashed; A's data meets no connection and
 * is answered with RST; A aborts. */
static void half_open_discovered_by_data(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    h_reboot(h, H_B);
    h_send(h, H_A, p.client, "anyone there?");
    h_settle(h);
    h_expect_state(h, H_A, p.client, TCP_CLOSED);
    assert_int_equal(tcp_sock_error(h_stack(h, H_A), p.client), TCP_ECONNRESET);
    tcp_close(h_stack(h, H_A), p.client);
    h_run_for(h, H_S(10));
    h_expect_conns(h, H_A, 0);
    h_expect_conns(h, H_B, 0);
}

/* Hostile bytes are counted, reported with a reason and dropped; the
 * connection does not notice. */
static void malformed_input_dropped_and_counted(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    tcp_stack *a = h_stack(h, H_A);
    uint64_t before = tcp_stack_malformed(a);
    static const uint8_t garbage[] = {0x45, 0x00, 0x00, 0x14, 1, 2, 3};
    h_inject_raw(h, H_A, garbage, sizeof garbage);
    h_inject_raw(h, H_A, NULL, 0);
    uint8_t junk[64];
    for (int i = 0; i < 64; i++)
        junk[i] = (uint8_t)(i * 37);
    h_inject_raw(h, H_A, junk, sizeof junk);
    /* A correct segment whose TCP checksum is then broken. */
    const h_dgram *d = h_sent(h, H_B, 0);
    uint8_t copy[128];
    assert_true(d->len <= sizeof copy);
    memcpy(copy, d->bytes, d->len);
    copy[d->len - 1] ^= 0xff;
    h_inject_raw(h, H_A, copy, d->len);
    assert_int_equal(tcp_stack_malformed(a), before + 4);
    assert_int_equal(h_count(h, H_A, 0, TCP_EV_DROP), 4);
    h_expect_none_sent(h, H_A);
    h_expect_state(h, H_A, p.client, TCP_ESTABLISHED);
    h_send(h, H_A, p.client, "still fine");
    h_settle(h);
    h_expect_recv(h, H_B, p.server, "still fine");
    h_finish(h);
}

static uint64_t next_rand(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Robustness: thousands of crafted, well-formed segments with random
 * flags, sequence and acknowledgment numbers near the connection's, and
 * random lengths, at both ends, with time moving. The stack's assertions
 * and the sanitizers are the oracle; everything is reclaimed afterwards. */
static void random_segments_never_break_the_stack(void **state)
{
    harness *h = *state;
    static uint8_t payload[3000];
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)i;
    for (int round = 0; round < 20; round++) {
        h_pair p = h_establish(h, H_A, H_B, (uint16_t)(1000 + round));
        for (int i = 0; i < 300; i++) {
            size_t to = next_rand(&x) & 1 ? H_A : H_B;
            tcp_sock_id id = to == H_A ? p.client : p.server;
            if (tcp_sock_state(h_stack(h, to), id) == TCP_CLOSED)
                break;
            tcp_seg g = h_template(h, to, id);
            uint64_t r = next_rand(&x);
            g.flags = (uint8_t)(r & 0x3f);
            g.seq += (uint32_t)((int32_t)(next_rand(&x) % 140000) - 70000);
            if (r & 0x100)
                g.ack += (uint32_t)((int32_t)(next_rand(&x) % 8000) - 4000);
            g.wnd = (uint16_t)next_rand(&x);
            g.len = (uint32_t)(next_rand(&x) % 4 == 0 ? next_rand(&x) % sizeof payload : 0);
            g.payload = payload;
            h_inject(h, to, &g);
            if (r & 0x200)
                h_run_for(h, (next_rand(&x) % 3000) * H_MS(1));
            if ((r & 0x7c00) == 0)
                h_send(h, to, id, "data");
        }
        tcp_abort(h_stack(h, H_A), p.client);
        tcp_abort(h_stack(h, H_B), p.server);
        tcp_close(h_stack(h, H_B), p.listener);
        h_run_for(h, H_S(1000));
        h_expect_conns(h, H_A, 0);
        h_expect_conns(h, H_B, 0);
        h_sent_skip(h, H_A);
        h_sent_skip(h, H_B);
    }
}

/* A reset in CLOSE-WAIT (an RST at RCV.NXT after the peer's FIN). RFC 9293
 * §3.10.7.4 second step: "any outstanding RECEIVEs and SEND should receive
 * 'reset' responses" (ECONNRESET); FreeBSD tcp_do_segment sets so_error =
 * ECONNRESET for CLOSE_WAIT as for ESTABLISHED. Linux tcp_reset gives
 * EPIPE in CLOSE_WAIT ("We want the right error as BSD sees it"), so a
 * later write fails with EPIPE; a read returns 0 first, the FIN having
 * been received (tcp_recvmsg_locked tests SOCK_DONE before sk_err).
 * FreeBSD: soreceive_generic tests so_error before SBS_CANTRCVMORE, so a
 * read fails with ECONNRESET and clears it, the next returns 0; tcp_close
 * → soisdisconnected set SBS_CANTSENDMORE, which sosend_generic tests
 * before so_error: a write fails with EPIPE. RFC 9293: the first call is
 * answered "reset" (the FIN received does not come first: the TCB is
 * deleted, profile closed_deletes_tcb), later ones "connection does not
 * exist" (§3.10.2, §3.10.3 CLOSED). */
static void rst_in_close_wait_error_per_profile(void **state)
{
    (void)state;
    static const struct {
        const char *profile;
        int err;
    } C[] = {{"rfc9293", TCP_ECONNRESET}, {"linux", TCP_EPIPE}, {"bsd", TCP_ECONNRESET}};
    for (size_t i = 0; i < sizeof C / sizeof C[0]; i++) {
        harness *h = h_new(2, h_profile_exact(C[i].profile));
        h_pair p = h_establish(h, H_A, H_B, 80);
        assert_int_equal(tcp_shutdown(h_stack(h, H_A), p.client), TCP_OK);
        h_run_for(h, H_S(1));
        h_expect_state(h, H_B, p.server, TCP_CLOSE_WAIT);
        tcp_stack *b = h_stack(h, H_B);
        h_inject_rst(h, H_B, p.server);
        h_expect_state(h, H_B, p.server, TCP_CLOSED);
        assert_int_equal(tcp_sock_error(b, p.server), C[i].err);
        if (i == 0) { /* rfc9293 */
            assert_int_equal(tcp_recv(b, p.server, (char[4]){0}, 4), TCP_ECONNRESET);
            assert_int_equal(tcp_send(b, p.server, "x", 1), TCP_ENOTCONN);
            assert_int_equal(tcp_recv(b, p.server, (char[4]){0}, 4), TCP_ENOTCONN);
        } else if (i == 1) { /* linux */
            assert_int_equal(tcp_recv(b, p.server, (char[4]){0}, 4), 0);
            assert_int_equal(tcp_send(b, p.server, "x", 1), TCP_EPIPE);
            assert_int_equal(tcp_send(b, p.server, "x", 1), TCP_EPIPE);
        } else if (i == 2) { /* bsd */
            assert_int_equal(tcp_send(b, p.server, "x", 1), TCP_EPIPE);
            assert_int_equal(tcp_recv(b, p.server, (char[4]){0}, 4), TCP_ECONNRESET);
            assert_int_equal(tcp_recv(b, p.server, (char[4]){0}, 4), 0);
            assert_int_equal(tcp_send(b, p.server, "x", 1), TCP_EPIPE);
        }
        h_free(h);
    }
}

/* What reads and writes answer after a reset in ESTABLISHED with five
 * bytes received and unread. Linux: tcp_reset → tcp_done purges the write
 * queue only and sets sk_shutdown = SHUTDOWN_MASK. tcp_sendmsg_locked
 * finds sk_err and reports sock_error(), which clears it (ECONNRESET);
 * tcp_recvmsg_locked copies the queued bytes first, then would report
 * sk_err, already cleared, and finds RCV_SHUTDOWN: 0; a write then fails
 * with EPIPE (sk_stream_error: no error left). FreeBSD: tcp_do_segment
 * sets so_error = ECONNRESET and tcp_close → soisdisconnected sets
 * SBS_CANTRCVMORE and SBS_CANTSENDMORE and keeps so_rcv; sosend_generic
 * tests SBS_CANTSENDMORE first (EPIPE, so_error kept); soreceive_generic
 * takes the queued bytes first (m != NULL: dontblock), then reports
 * so_error and clears it, then finds SBS_CANTRCVMORE: 0. */
static void rst_then_calls_per_profile(void **state)
{
    (void)state;
    static const struct {
        const char *profile;
        int first_send, after_data, last_send;
    } C[] = {{"linux", TCP_ECONNRESET, 0, TCP_EPIPE},
             {"bsd", TCP_EPIPE, TCP_ECONNRESET, TCP_EPIPE}};
    for (size_t i = 0; i < sizeof C / sizeof C[0]; i++) {
        harness *h = h_new(2, h_profile_exact(C[i].profile));
        h_pair p = h_establish(h, H_A, H_B, 80);
        h_send(h, H_A, p.client, "hello");
        h_run_for(h, H_S(1));
        tcp_stack *b = h_stack(h, H_B);
        assert_int_equal(tcp_readable(b, p.server), 5);
        h_inject_rst(h, H_B, p.server);
        h_expect_state(h, H_B, p.server, TCP_CLOSED);
        assert_int_equal(tcp_sock_error(b, p.server), TCP_ECONNRESET);
        char buf[16];
        assert_int_equal(tcp_send(b, p.server, "x", 1), C[i].first_send);
        assert_int_equal(tcp_recv(b, p.server, buf, sizeof buf), 5);
        assert_memory_equal(buf, "hello", 5);
        assert_int_equal(tcp_recv(b, p.server, buf, sizeof buf), C[i].after_data);
        assert_int_equal(tcp_recv(b, p.server, buf, sizeof buf), 0);
        assert_int_equal(tcp_recv(b, p.server, buf, 0), 0);
        assert_int_equal(tcp_send(b, p.server, "x", 1), C[i].last_send);
        /* STATUS still names the error that ended the connection */
        assert_int_equal(tcp_sock_error(b, p.server), TCP_ECONNRESET);
        h_free(h);
    }
}

/* RFC 9293 §3.10.7.4 second step, ESTABLISHED: "any outstanding RECEIVEs
 * and SEND should receive 'reset' responses. All segment queues should be
 * flushed. Users should also receive an unsolicited general 'connection
 * reset' signal. Enter the CLOSED state, delete the TCB". The five bytes
 * received and unread go with the queues; the first SEND or RECEIVE made
 * after the reset is the one answered "reset" (nothing was outstanding
 * with the calls non-blocking); later ones find no TCB: §3.10.2 SEND and
 * §3.10.3 RECEIVE in CLOSED, "error: connection does not exist"
 * (TCP_ENOTCONN). STATUS still names the error (TCP_EV_ERROR, the
 * unsolicited signal, was reported once). */
static void rfc9293_rst_flushes_queues_and_reports_once(void **state)
{
    (void)state;
    for (int send_first = 0; send_first < 2; send_first++) {
        harness *h = h_new(2, h_profile_exact("rfc9293"));
        h_pair p = h_establish(h, H_A, H_B, 80);
        h_send(h, H_A, p.client, "hello");
        h_run_for(h, H_S(1));
        tcp_stack *b = h_stack(h, H_B);
        assert_int_equal(tcp_readable(b, p.server), 5);
        h_inject_rst(h, H_B, p.server);
        h_expect_state(h, H_B, p.server, TCP_CLOSED);
        assert_int_equal(h_count(h, H_B, p.server, TCP_EV_ERROR), 1);
        assert_int_equal(tcp_readable(b, p.server), 0);
        char buf[16];
        if (send_first)
            assert_int_equal(tcp_send(b, p.server, "x", 1), TCP_ECONNRESET);
        else
            assert_int_equal(tcp_recv(b, p.server, buf, sizeof buf), TCP_ECONNRESET);
        assert_int_equal(tcp_recv(b, p.server, buf, sizeof buf), TCP_ENOTCONN);
        assert_int_equal(tcp_recv(b, p.server, buf, 0), TCP_ENOTCONN);
        assert_int_equal(tcp_send(b, p.server, "x", 1), TCP_ENOTCONN);
        assert_int_equal(tcp_sock_error(b, p.server), TCP_ECONNRESET);
        h_free(h);
    }
}

/* "All segment queues should be flushed" (RFC 9293 §3.10.7.4) covers the
 * bytes held out of order too: under rfc9293 a reset with five bytes in
 * order and five beyond a hole leaves neither, and the receive ring goes
 * back (tcp_stack_mem). Linux tcp_done and FreeBSD tcp_close keep the
 * in-order bytes readable (profile closed_deletes_tcb off). */
static void reset_flushes_out_of_order_bytes_per_profile(void **state)
{
    (void)state;
    static const struct {
        const char *profile;
        size_t readable;
    } C[] = {{"rfc9293", 0}, {"linux", 5}, {"bsd", 5}};
    for (size_t i = 0; i < sizeof C / sizeof C[0]; i++) {
        harness *h = h_new(2, h_profile_exact(C[i].profile));
        h_pair p = h_establish(h, H_A, H_B, 80);
        h_send(h, H_A, p.client, "hello");
        h_run_for(h, H_S(1));
        tcp_stack *b = h_stack(h, H_B);
        assert_int_equal(tcp_readable(b, p.server), 5);
        tcp_seg d = h_template(h, H_B, p.server);
        d.seq += 100; /* beyond a hole: held out of order */
        d.payload = (const uint8_t *)"world";
        d.len = 5;
        h_inject(h, H_B, &d);
        h_inject_rst(h, H_B, p.server);
        h_expect_state(h, H_B, p.server, TCP_CLOSED);
        assert_int_equal(tcp_readable(b, p.server), C[i].readable);
        tcp_mem m;
        tcp_stack_mem(b, &m);
        if (C[i].readable)
            assert_true(m.ring_bytes > 0);
        else
            assert_int_equal(m.ring_bytes, 0);
        char buf[16];
        long want = C[i].readable ? 5 : TCP_ECONNRESET;
        assert_int_equal(tcp_recv(b, p.server, buf, sizeof buf), want);
        /* RFC 9293 §3.10.4 CLOSE in CLOSED: "connection does not exist". */
        assert_int_equal(tcp_close(b, p.server), C[i].readable ? TCP_OK : TCP_ENOTCONN);
        h_expect_conns(h, H_B, 1); /* the listener */
        h_free(h);
    }
}

/* RFC 9293 §3.10.7.4 puts TIME-WAIT with CLOSING and LAST-ACK: "If the RST
 * bit is set, then enter the CLOSED state, delete the TCB, and return". A
 * user who only shut the send side still holds the socket there; under
 * rfc9293 (closed_deletes_tcb) its calls then meet §3.10.2, §3.10.3 in
 * CLOSED, "connection does not exist", as after an RST in CLOSING or
 * LAST-ACK; linux keeps the socket shut both ways (end of stream, EPIPE). */
static void rst_in_held_time_wait_per_profile(void **state)
{
    (void)state;
    static const struct {
        const char *profile;
        long recv, send;
        int close;
    } C[] = {{"rfc9293", TCP_ENOTCONN, TCP_ENOTCONN, TCP_ENOTCONN}, {"linux", 0, TCP_EPIPE, 0}};
    for (size_t i = 0; i < sizeof C / sizeof C[0]; i++) {
        harness *h = h_new(2, h_profile_exact(C[i].profile));
        h_pair p = h_establish(h, H_A, H_B, 80);
        tcp_stack *a = h_stack(h, H_A);
        assert_int_equal(tcp_shutdown(a, p.client), TCP_OK);
        h_settle(h);
        assert_int_equal(tcp_close(h_stack(h, H_B), p.server), TCP_OK);
        h_settle(h);
        h_expect_state(h, H_A, p.client, TCP_TIME_WAIT);
        h_inject_rst(h, H_A, p.client);
        h_expect_state(h, H_A, p.client, TCP_CLOSED);
        assert_int_equal(tcp_sock_error(a, p.client), 0);
        char buf[4];
        assert_int_equal(tcp_recv(a, p.client, buf, sizeof buf), C[i].recv);
        assert_int_equal(tcp_send(a, p.client, "x", 1), C[i].send);
        assert_int_equal(tcp_close(a, p.client), C[i].close);
        h_free(h);
    }
}

/* shutdown() after a reset. Linux inet_shutdown: "case TCP_CLOSE: err =
 * -ENOTCONN", sk_err untouched; FreeBSD soshutdown: ENOTCONN when none of
 * SS_ISCONNECTED, SS_ISCONNECTING, SS_ISDISCONNECTING is set, which
 * tcp_close → soisdisconnected cleared, so_error untouched; RFC 9293
 * §3.10.4 CLOSE in CLOSED: "error: connection does not exist" (CLOSE is
 * neither a SEND nor a RECEIVE, which get the "reset" responses). So in
 * every profile both directions answer ENOTCONN, and the error stays for
 * the next RECEIVE. */
static void shutdown_after_reset_per_profile(void **state)
{
    (void)state;
    const char *names[] = {"rfc9293", "linux", "bsd"};
    for (size_t i = 0; i < 3; i++) {
        harness *h = h_new(2, h_profile_exact(names[i]));
        h_pair p = h_establish(h, H_A, H_B, 80);
        tcp_stack *b = h_stack(h, H_B);
        h_inject_rst(h, H_B, p.server);
        h_expect_state(h, H_B, p.server, TCP_CLOSED);
        assert_int_equal(tcp_shutdown(b, p.server), TCP_ENOTCONN);
        assert_int_equal(tcp_shutdown_read(b, p.server), TCP_ENOTCONN);
        char buf[4];
        assert_int_equal(tcp_recv(b, p.server, buf, sizeof buf), TCP_ECONNRESET);
        assert_int_equal(tcp_shutdown(b, p.server), TCP_ENOTCONN);
        assert_int_equal(tcp_shutdown_read(b, p.server), TCP_ENOTCONN);
        /* RFC 9293 §3.10.4 CLOSE in CLOSED: "connection does not exist";
         * Linux inet_release → tcp_close and FreeBSD soclose answer 0.
         * Either way the id is released. */
        assert_int_equal(tcp_close(b, p.server), i == 0 ? TCP_ENOTCONN : TCP_OK);
        assert_int_equal(tcp_close(b, p.server), TCP_EBADF);
        h_expect_conns(h, H_B, 1); /* the listener */
        h_free(h);
    }
}

/* getsockopt(SO_ERROR) after a reset reads the pending error and clears
 * it: Linux sock_getsockopt SO_ERROR → sock_error, xchg(&sk->sk_err, 0);
 * FreeBSD sogetopt SO_ERROR: optval = so->so_error; so->so_error = 0.
 * The calls after it find no error left: linux and bsd the socket shut
 * both ways (a read returns 0, a write EPIPE), rfc9293 no TCB ("connection
 * does not exist"). A call that reported the error leaves none for it. */
static void take_error_after_reset_per_profile(void **state)
{
    (void)state;
    static const struct {
        const char *profile;
        int recv_after, send_after;
    } C[] = {
        {"rfc9293", TCP_ENOTCONN, TCP_ENOTCONN}, {"linux", 0, TCP_EPIPE}, {"bsd", 0, TCP_EPIPE}};
    for (size_t i = 0; i < sizeof C / sizeof C[0]; i++) {
        harness *h = h_new(2, h_profile_exact(C[i].profile));
        h_pair p = h_establish(h, H_A, H_B, 80);
        tcp_stack *b = h_stack(h, H_B);
        assert_int_equal(tcp_sock_take_error(b, p.server), 0);
        h_inject_rst(h, H_B, p.server);
        h_expect_state(h, H_B, p.server, TCP_CLOSED);
        assert_int_equal(tcp_sock_take_error(b, p.server), TCP_ECONNRESET);
        assert_int_equal(tcp_sock_take_error(b, p.server), 0);
        char buf[4];
        assert_int_equal(tcp_recv(b, p.server, buf, sizeof buf), C[i].recv_after);
        assert_int_equal(tcp_send(b, p.server, "x", 1), C[i].send_after);
        assert_int_equal(tcp_sock_error(b, p.server), TCP_ECONNRESET);
        h_free(h);

        h = h_new(2, h_profile_exact(C[i].profile));
        p = h_establish(h, H_A, H_B, 80);
        b = h_stack(h, H_B);
        h_inject_rst(h, H_B, p.server);
        assert_int_equal(tcp_recv(b, p.server, buf, sizeof buf), TCP_ECONNRESET);
        assert_int_equal(tcp_sock_take_error(b, p.server), 0);
        assert_int_equal(tcp_sock_take_error(b, 999), TCP_EBADF);
        h_free(h);
    }
}

/* The window field of the resets a profile sends. A reply RST (the answer
 * to a segment: Linux tcp_v4_send_reset leaves rep.th.window 0, FreeBSD
 * tcp_respond, RFC 9293 §3.10.7.1) carries 0 in every profile. An active
 * RST carries 0 under rfc9293 (no rule) and bsd (tcp_output: "If a RST
 * segment is sent, advertise a window of zero"); under linux
 * (profile rst_window) tcp_send_active_reset -> __tcp_transmit_skb writes
 * tcp_select_window like any segment but a SYN:
 * - ABORT (tcp_abort, tcp_disconnect: the reset before the receive queue
 *   is purged): the queue still holds the unread data and
 *   tcp_select_window never shrinks the window, so the RST offers what the
 *   last ACK offered;
 * - close() with unread data (tcp_close: the receive queue is purged,
 *   data_was_unread, then tcp_send_active_reset): the window of an empty
 *   queue, which at scale 0 is the SYN's window: __tcp_select_window's
 *   rounddown(min(free space, rcv_ssthresh), mss), rcv_ssthresh grown to
 *   window_clamp, the whole space (tcp_grow_window, tcp_init_buffer_space). */
static void rst_window_per_profile(void **state)
{
    (void)state;
    static const char *const P[] = {"rfc9293", "linux", "bsd"};
    for (size_t i = 0; i < sizeof P / sizeof P[0]; i++) {
        bool linux = strcmp(P[i], "linux") == 0;
        for (int closing = 0; closing < 2; closing++) {
            tcp_profile pr = *h_profile_exact(P[i]);
            pr.rcvbuf = 16000; /* a window the unread data narrows */
            pr.rcvbuf_max = 0; /* scale 0: the window in octets */
            harness *h = h_new(2, &pr);
            h_pair p = h_establish(h, H_A, H_B, 80);
            const tcp_seg *synack = NULL;
            for (size_t k = 0; k < h_sent_count(h, H_B) && !synack; k++)
                if (h_sent(h, H_B, k)->seg.flags & TCP_SYN)
                    synack = &h_sent(h, H_B, k)->seg;
            assert_non_null(synack);
            uint32_t syn_wnd = synack->wnd;
            h_sent_skip(h, H_B);
            char data[3000];
            memset(data, 'd', sizeof data);
            assert_int_equal(tcp_send(h_stack(h, H_A), p.client, data, sizeof data), 3000);
            h_run_for(h, 500000000u); /* past a delayed ACK */
            assert_int_equal(tcp_readable(h_stack(h, H_B), p.server), 3000);
            const tcp_seg *ack = h_last_sent(h, H_B);
            assert_non_null(ack);
            assert_int_equal(ack->flags, TCP_ACK);
            uint32_t ack_wnd = ack->wnd;
            assert_true(ack_wnd < syn_wnd); /* the unread data narrows it */
            h_sent_skip(h, H_B);
            if (closing)
                assert_int_equal(tcp_close(h_stack(h, H_B), p.server), TCP_OK);
            else
                assert_int_equal(tcp_abort(h_stack(h, H_B), p.server), TCP_OK);
            const tcp_seg *rst = h_expect_seg(h, H_B, .len = 0);
            if (closing && !pr.rst_on_close_with_unread) {
                /* bsd: a FIN (profile rst_on_close_with_unread) */
                assert_int_equal(rst->flags, TCP_FIN | TCP_ACK);
            } else {
                assert_true(rst->flags & TCP_RST);
                uint32_t want = !linux ? 0 : closing ? syn_wnd : ack_wnd;
                assert_int_equal(rst->wnd, want);
            }
            h_expect_none_sent(h, H_B);

            /* A segment to a port with no socket: the reply RST. */
            tcp_seg g = h_reply(rst);
            g.dst_port = 81;
            h_inject(h, H_B, &g);
            const tcp_seg *reply = h_expect_seg(h, H_B, .flags = TCP_RST, .len = 0);
            assert_int_equal(reply->wnd, 0);
            h_free(h);
        }
    }
}

#define T(f) cmocka_unit_test_setup_teardown(f, h_setup, h_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(blind_rst_in_window_gets_challenge_ack),
        T(rst_out_of_window_dropped),
        T(rst_at_rcv_nxt_resets),
        T(syn_in_established_gets_challenge_ack),
        T(ack_of_unsent_data_answered),
        T(half_open_discovered_by_reconnect),
        T(half_open_discovered_by_data),
        T(malformed_input_dropped_and_counted),
        T(random_segments_never_break_the_stack),
        cmocka_unit_test(rst_in_close_wait_error_per_profile),
        cmocka_unit_test(rst_then_calls_per_profile),
        cmocka_unit_test(rfc9293_rst_flushes_queues_and_reports_once),
        cmocka_unit_test(reset_flushes_out_of_order_bytes_per_profile),
        cmocka_unit_test(rst_in_held_time_wait_per_profile),
        cmocka_unit_test(shutdown_after_reset_per_profile),
        cmocka_unit_test(take_error_after_reset_per_profile),
        cmocka_unit_test(rst_window_per_profile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
