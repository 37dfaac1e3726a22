/*
 * test_sockcalls — socket calls packetdrill scripts make, as the profiles
 * model them: TCP_CORK (Linux tcp_nagle_check, tcp_check_probe_timer,
 * tcp_write_wakeup), TCP_USER_TIMEOUT ending zero-window probing (Linux
 * tcp_probe_timer) and keepalive (tcp_keepalive_timer), shutdown on a
 * listener (Linux inet_shutdown, FreeBSD soshutdown, RFC 9293 §3.10.4),
 * an active OPEN on a listener (RFC 9293 §3.10.1, Linux
 * __inet_stream_connect, FreeBSD soconnectat) and a zero-length RECEIVE
 * (Linux tcp_recvmsg_locked, FreeBSD soreceive_generic, RFC 9293 §3.10.3).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

static void send_n(harness *h, size_t stack, tcp_sock_id id, size_t n)
{
    char *buf = malloc(n);
    assert_non_null(buf);
    memset(buf, 'x', n);
    assert_int_equal(tcp_send(h_stack(h, stack), id, buf, n), (long)n);
    free(buf);
}

static harness *with_profile(const char *name)
{
    return h_new(2, h_profile_exact(name));
}

/* ---- TCP_CORK ---- */

/* A corked runt waits; with nothing in flight the probe timer sends it at
 * tcp_probe0_base = max(RTO, TCP_RTO_MIN): 200 ms after a handshake whose
 * RTT was 0. It goes with PSH (tcp_write_wakeup). */
static void cork_runt_sent_by_probe_timer_linux(void **state)
{
    (void)state;
    harness *h = with_profile("linux");
    h_pair p = h_establish(h, H_A, H_B, 80);
    h_sent_skip(h, H_A);
    assert_int_equal(tcp_setopt(h_stack(h, H_A), p.client, TCP_OPT_CORK, 1), TCP_OK);
    uint64_t t0 = h_now(h);
    send_n(h, H_A, p.client, 100);
    h_expect_none_sent(h, H_A);
    h_run(h, t0 + H_MS(199));
    h_expect_none_sent(h, H_A);
    h_run(h, t0 + H_MS(200));
    h_expect_sent(h, H_A, TCP_ACK | TCP_PSH, H_ANY, H_ANY, 100);
    assert_int_equal(h_sent(h, H_A, h_sent_count(h, H_A) - 1)->sent_ns, t0 + H_MS(200));
    uint64_t v = 0;
    assert_int_equal(tcp_getopt(h_stack(h, H_A), p.client, TCP_OPT_CORK, &v), TCP_OK);
    assert_int_equal(v, 1);
    h_free(h);
}

/* Corked, whole segments go at once; only the partial tail waits. */
static void cork_full_segment_goes(void **state)
{
    (void)state;
    harness *h = with_profile("linux");
    h_pair p = h_establish(h, H_A, H_B, 80);
    h_sent_skip(h, H_A);
    assert_int_equal(tcp_setopt(h_stack(h, H_A), p.client, TCP_OPT_CORK, 1), TCP_OK);
    send_n(h, H_A, p.client, 1448 + 100);
    h_expect_sent(h, H_A, TCP_ACK, H_ANY, H_ANY, 1448);
    h_expect_none_sent(h, H_A);
    h_free(h);
}

/* Uncorking pushes the held runt at once (tcp_push_pending_frames). */
static void uncork_sends_held_data(void **state)
{
    (void)state;
    harness *h = with_profile("linux");
    h_pair p = h_establish(h, H_A, H_B, 80);
    h_sent_skip(h, H_A);
    assert_int_equal(tcp_setopt(h_stack(h, H_A), p.client, TCP_OPT_CORK, 1), TCP_OK);
    send_n(h, H_A, p.client, 10);
    send_n(h, H_A, p.client, 20);
    h_expect_none_sent(h, H_A);
    assert_int_equal(tcp_setopt(h_stack(h, H_A), p.client, TCP_OPT_CORK, 0), TCP_OK);
    h_expect_sent(h, H_A, TCP_ACK | TCP_PSH, H_ANY, H_ANY, 30);
    h_free(h);
}

/* close() pushes: the corked runt goes with the FIN (tcp_send_fin pushes
 * with TCP_NAGLE_OFF). */
static void cork_close_sends_runt_with_fin(void **state)
{
    (void)state;
    harness *h = with_profile("linux");
    h_pair p = h_establish(h, H_A, H_B, 80);
    h_sent_skip(h, H_A);
    assert_int_equal(tcp_setopt(h_stack(h, H_A), p.client, TCP_OPT_CORK, 1), TCP_OK);
    send_n(h, H_A, p.client, 10);
    h_expect_none_sent(h, H_A);
    assert_int_equal(tcp_close(h_stack(h, H_A), p.client), TCP_OK);
    h_expect_sent(h, H_A, TCP_ACK | TCP_PSH | TCP_FIN, H_ANY, H_ANY, 10);
    h_free(h);
}

/* FreeBSD's persist timer moves held data too, at TCPTV_PERSMIN (5 s). */
static void cork_runt_sent_by_persist_bsd(void **state)
{
    (void)state;
    harness *h = with_profile("bsd");
    h_pair p = h_establish(h, H_A, H_B, 80);
    h_sent_skip(h, H_A);
    assert_int_equal(tcp_setopt(h_stack(h, H_A), p.client, TCP_OPT_CORK, 1), TCP_OK);
    uint64_t t0 = h_now(h);
    send_n(h, H_A, p.client, 100);
    h_run(h, t0 + H_MS(4999));
    h_expect_none_sent(h, H_A);
    h_run(h, t0 + H_S(5));
    h_expect_sent(h, H_A, TCP_ACK | TCP_PSH, H_ANY, H_ANY, 100);
    h_free(h);
}

/* ---- TCP_USER_TIMEOUT ---- */

/* Linux tcp_probe_timer: the first expiry stamps the episode, a later one
 * at least the user timeout after it ends the connection (no RST);
 * tcp_clamp_probe0_to_user_timeout pulls the last probe in. Probes at
 * +200, +600 ms; the third expiry, clamped from +1400 to +1200 ms, ends
 * it. */
static void user_timeout_ends_zero_window_probing_linux(void **state)
{
    (void)state;
    harness *h = with_profile("linux");
    h_pair p = h_establish(h, H_A, H_B, 80);
    tcp_stack *a = h_stack(h, H_A);
    assert_int_equal(tcp_setopt(a, p.client, TCP_OPT_USER_TIMEOUT_NS, H_S(1)), TCP_OK);
    tcp_seg zw = h_template(h, H_A, p.client);
    zw.wnd = 0;
    h_inject(h, H_A, &zw);
    h_sent_skip(h, H_A);
    uint64_t t0 = h_now(h);
    send_n(h, H_A, p.client, 100);
    h_drop_sent(h, H_B, H_ANY, 100);
    h_run(h, t0 + H_MS(1199));
    assert_int_equal(tcp_sock_state(a, p.client), TCP_ESTABLISHED);
    assert_int_equal(h_sent_count(h, H_A), 2u + 2u); /* SYN, ACK; two probes */
    h_run(h, t0 + H_MS(1200));
    assert_int_equal(tcp_sock_state(a, p.client), TCP_CLOSED);
    assert_int_equal(tcp_sock_error(a, p.client), TCP_ETIMEDOUT);
    assert_true(h_last_sent(h, H_A)->flags == TCP_ACK); /* the last probe, no RST */
    h_free(h);
}

/* Linux tcp_keepalive_timer: with a user timeout the probe count is not
 * consulted; the connection ends (RST first) once idle for the user
 * timeout with a probe unanswered: probes at +1 s and +2 s, the end at
 * +3 s, though keepcnt allows nine. */
static void user_timeout_ends_keepalive_linux(void **state)
{
    (void)state;
    harness *h = with_profile("linux");
    h_pair p = h_establish(h, H_A, H_B, 80);
    tcp_stack *a = h_stack(h, H_A);
    assert_int_equal(tcp_setopt(a, p.client, TCP_OPT_KEEPIDLE_NS, H_S(1)), TCP_OK);
    assert_int_equal(tcp_setopt(a, p.client, TCP_OPT_KEEPINTVL_NS, H_S(1)), TCP_OK);
    assert_int_equal(tcp_setopt(a, p.client, TCP_OPT_KEEPCNT, 9), TCP_OK);
    assert_int_equal(tcp_setopt(a, p.client, TCP_OPT_USER_TIMEOUT_NS, H_MS(2500)), TCP_OK);
    uint64_t t0 = h_now(h);
    assert_int_equal(tcp_setopt(a, p.client, TCP_OPT_KEEPALIVE, 1), TCP_OK);
    h_sent_skip(h, H_A);
    h_drop_sent(h, H_B, H_ANY, 100);
    h_run(h, t0 + H_MS(2999));
    assert_int_equal(h_sent_count(h, H_A), 2u + 2u); /* SYN, ACK; two probes */
    assert_int_equal(tcp_sock_state(a, p.client), TCP_ESTABLISHED);
    h_run(h, t0 + H_S(3));
    assert_int_equal(tcp_sock_error(a, p.client), TCP_ETIMEDOUT);
    assert_true(h_last_sent(h, H_A)->flags & TCP_RST);
    h_free(h);
}

/* An active open with a user timeout, its SYNs lost: the connection
 * ends with ETIMEDOUT and the note "user timeout"; returns when. */
static uint64_t syn_sent_user_timeout_end(harness *h, uint64_t user_timeout_ns)
{
    tcp_stack *a = h_stack(h, H_A);
    h_drop_sent(h, H_A, TCP_SYN, 100);
    tcp_sock_id c = 0;
    assert_int_equal(tcp_socket(a, &c), TCP_OK);
    assert_int_equal(tcp_setopt(a, c, TCP_OPT_USER_TIMEOUT_NS, user_timeout_ns), TCP_OK);
    assert_int_equal(tcp_bind(a, c, 0), TCP_OK);
    assert_int_equal(tcp_connect(a, c, h_addr(h, H_B), 80), TCP_OK);
    h_run(h, H_S(1000));
    h_expect_trace(h, H_A, c, H_STATES(TCP_CLOSED, TCP_SYN_SENT, TCP_CLOSED));
    const h_event *t = h_last_transition(h, H_A, c);
    assert_int_equal(t->cause, TCP_CAUSE_TIMER);
    assert_string_equal(t->note, "user timeout");
    assert_int_equal(tcp_sock_error(a, c), TCP_ETIMEDOUT);
    assert_false(h_last_sent(h, H_A)->flags & TCP_RST);
    return t->time_ns;
}

/* Linux tcp_write_timeout in SYN_SENT: retrans_stamp is the first SYN
 * (tcp_connect); the first RTO (1 s) only retransmits (no retransmission
 * yet, retransmits_timed_out is false), later RTOs are clamped to what is
 * left (tcp_clamp_rto_to_user_timeout). 2.5 s: SYNs at 0, 1, 2 s (linear
 * timeouts), the end at 2.5 s. 0.5 s: the timeout has passed when the
 * first retransmission goes at 1 s; the next RTO is one jiffy (1 ms). */
static void user_timeout_ends_syn_sent_linux(void **state)
{
    (void)state;
    harness *h = with_profile("linux");
    assert_int_equal(syn_sent_user_timeout_end(h, H_MS(2500)), H_MS(2500));
    assert_int_equal(h_sent_count(h, H_A), 3u);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(h_sent(h, H_A, i)->sent_ns, H_S(i));
    h_free(h);
    h = with_profile("linux");
    assert_int_equal(syn_sent_user_timeout_end(h, H_MS(500)), H_MS(1001));
    assert_int_equal(h_sent_count(h, H_A), 2u);
    h_free(h);
}

/* RFC 9293 §3.10.8 USER TIMEOUT: "For any state if the user timeout
 * expires ... enter the CLOSED state": rfc9293 and bsd end SYN_SENT too
 * (their RTOs double from 1 s: SYNs at 0, 1, 3 s, the end clamped to 4 s). */
static void user_timeout_ends_syn_sent_rfc9293_bsd(void **state)
{
    (void)state;
    static const char *const P[] = {"rfc9293", "bsd"};
    for (size_t i = 0; i < 2; i++) {
        harness *h = with_profile(P[i]);
        assert_int_equal(syn_sent_user_timeout_end(h, H_S(4)), H_S(4));
        h_free(h);
    }
}

/* A server's child, its peer gone silent after the handshake, sends 100
 * bytes; `on_listener` sets the user timeout on the listener before the
 * SYN arrives, else on the child after accept. Returns the time the child
 * ended, with ETIMEDOUT and the note "user timeout". */
static uint64_t child_user_timeout_end(const char *profile, bool on_listener)
{
    harness *h = with_profile(profile);
    tcp_stack *b = h_stack(h, H_B);
    tcp_sock_id l = h_listen(h, H_B, 80, 8);
    if (on_listener)
        assert_int_equal(tcp_setopt(b, l, TCP_OPT_USER_TIMEOUT_NS, H_S(2)), TCP_OK);
    h_connect(h, H_A, H_B, 80, H_ANY);
    h_settle(h);
    tcp_sock_id c = h_accept(h, H_B, l);
    uint64_t v = 0;
    assert_int_equal(tcp_getopt(b, c, TCP_OPT_USER_TIMEOUT_NS, &v), TCP_OK);
    assert_int_equal(v, on_listener ? H_S(2) : 0);
    if (!on_listener)
        assert_int_equal(tcp_setopt(b, c, TCP_OPT_USER_TIMEOUT_NS, H_S(2)), TCP_OK);
    h_drop_sent(h, H_A, H_ANY, 1000);
    send_n(h, H_B, c, 100);
    h_run(h, h_now(h) + H_S(3600));
    const h_event *t = h_last_transition(h, H_B, c);
    assert_int_equal(t->to, TCP_CLOSED);
    assert_string_equal(t->note, "user timeout");
    assert_int_equal(tcp_sock_error(b, c), TCP_ETIMEDOUT);
    uint64_t end = t->time_ns;
    h_free(h);
    return end;
}

/* A listener's TCP_USER_TIMEOUT applies to the connections it accepts:
 * Linux's child is a copy of its listener (sk_clone_lock, then
 * inet_csk_clone_lock keeps icsk_user_timeout and tcp_create_openreq_child
 * does not reset it). FreeBSD has no such option; the rule is the same in
 * every profile. The child ends as one given the timeout after accept. */
static void user_timeout_inherited_from_listener(void **state)
{
    (void)state;
    static const char *const P[] = {"rfc9293", "linux", "bsd"};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(child_user_timeout_end(P[i], true), child_user_timeout_end(P[i], false));
}

/* A corked listener's children are corked: Linux keeps tp->nonagle
 * (TCP_NAGLE_CORK) in the clone, FreeBSD's syncache_socket copies the
 * listener's TF_NOPUSH|TF_NODELAY. The child's runt waits. */
static void cork_inherited_from_listener(void **state)
{
    (void)state;
    static const char *const P[] = {"linux", "bsd"};
    for (size_t i = 0; i < 2; i++) {
        harness *h = with_profile(P[i]);
        tcp_stack *b = h_stack(h, H_B);
        tcp_sock_id l = h_listen(h, H_B, 80, 8);
        assert_int_equal(tcp_setopt(b, l, TCP_OPT_CORK, 1), TCP_OK);
        h_connect(h, H_A, H_B, 80, H_ANY);
        h_settle(h);
        tcp_sock_id c = h_accept(h, H_B, l);
        uint64_t v = 0;
        assert_int_equal(tcp_getopt(b, c, TCP_OPT_CORK, &v), TCP_OK);
        assert_int_equal(v, 1);
        h_sent_skip(h, H_B);
        send_n(h, H_B, c, 100);
        h_expect_none_sent(h, H_B);
        h_free(h);
    }
}

/* ---- Listeners ---- */

/* shutdown(SHUT_WR) on a listener: RFC 9293 §3.10.4 CLOSE in LISTEN
 * deletes the TCB; Linux inet_shutdown does nothing (0) and the listener
 * still completes handshakes; FreeBSD soshutdown answers ENOTCONN. */
static void listener_shutdown_wr_per_profile(void **state)
{
    (void)state;
    static const struct {
        const char *profile;
        int rc;
        tcp_state after;
    } C[] = {{"rfc9293", TCP_OK, TCP_CLOSED},
             {"linux", TCP_OK, TCP_LISTEN},
             {"bsd", TCP_ENOTCONN, TCP_LISTEN}};
    for (size_t i = 0; i < sizeof C / sizeof C[0]; i++) {
        harness *h = with_profile(C[i].profile);
        tcp_sock_id l = h_listen(h, H_B, 80, 8);
        assert_int_equal(tcp_shutdown(h_stack(h, H_B), l), C[i].rc);
        h_expect_state(h, H_B, l, C[i].after);
        if (C[i].after == TCP_LISTEN) {
            tcp_sock_id c = h_connect(h, H_A, H_B, 80, 1000);
            h_settle(h);
            h_expect_state(h, H_A, c, TCP_ESTABLISHED);
        }
        h_free(h);
    }
}

/* RECEIVE on a listener, a zero-length one included. Linux
 * tcp_recvmsg_locked answers ENOTCONN before it looks at anything else
 * (sk_state == TCP_LISTEN); FreeBSD soreceive finds a listening socket not
 * connected (ENOTCONN) before its uio_resid == 0 check; RFC 9293 §3.10.3
 * would queue the call until ESTABLISHED, which a listener that hands its
 * connections to children never reaches. After shutdown(SHUT_RD) Linux's
 * listener is disconnected (tcp_disconnect, which also clears
 * sk_shutdown), so recvmsg finds a socket never connected: ENOTCONN, not
 * the 0 of a shut receive side; rfc9293 closed it (CLOSE in LISTEN,
 * §3.10.4: "connection does not exist"); FreeBSD keeps it listening. */
static void recv_on_listener_enotconn(void **state)
{
    (void)state;
    const char *names[] = {"rfc9293", "linux", "bsd"};
    for (size_t i = 0; i < 3; i++) {
        harness *h = with_profile(names[i]);
        tcp_stack *b = h_stack(h, H_B);
        tcp_sock_id l = h_listen(h, H_B, 80, 8);
        char buf[16];
        assert_int_equal(tcp_recv(b, l, buf, sizeof buf), TCP_ENOTCONN);
        assert_int_equal(tcp_recv(b, l, buf, 0), TCP_ENOTCONN);
        tcp_shutdown_read(b, l);
        assert_int_equal(tcp_recv(b, l, buf, sizeof buf), TCP_ENOTCONN);
        assert_int_equal(tcp_recv(b, l, buf, 0), TCP_ENOTCONN);
        h_free(h);
    }
}

/* SEND on a socket that is not connected. Linux tcp_sendmsg_locked calls
 * sk_stream_wait_connect in any state but ESTABLISHED and CLOSE_WAIT;
 * that returns sock_error() when an error is pending, else -EPIPE in any
 * state but SYN_SENT and SYN_RECV, and sk_stream_error keeps EPIPE: a
 * fresh or bound socket, a listener, a listener SHUT_RD disconnected
 * (tcp_disconnect) and a connect shutdown() ended in SYN_SENT
 * (inet_shutdown → tcp_disconnect) answer EPIPE (profile
 * send_unconnected_epipe). FreeBSD sosend_generic: not SS_ISCONNECTED
 * with PR_CONNREQUIRED, ENOTCONN. RFC 9293 §3.10.2 SEND in CLOSED:
 * "error: connection does not exist"; in LISTEN without a foreign
 * socket: "error: foreign socket unspecified" (ENOTCONN both). A zero
 * length meets the same rule (sk_stream_wait_connect comes before the
 * copy loop). A refused connect reports its error first (sock_error),
 * then answers as a connection shut both ways (linux, bsd) or deleted
 * (rfc9293), as a connection a reset or TIME_WAIT ended does. */
static void send_unconnected_per_profile(void **state)
{
    (void)state;
    static const struct {
        const char *profile;
        int unconnected; /* fresh, bound, listener */
        int listener_shut_rd;
        int syn_sent_shut;
        int refused_first, refused_then;
    } C[] = {
        {"rfc9293", TCP_ENOTCONN, TCP_ENOTCONN, TCP_ENOTCONN, TCP_ECONNREFUSED, TCP_ENOTCONN},
        {"linux", TCP_EPIPE, TCP_EPIPE, TCP_EPIPE, TCP_ECONNREFUSED, TCP_EPIPE},
        {"bsd", TCP_ENOTCONN, TCP_ENOTCONN, TCP_EPIPE, TCP_EPIPE, TCP_EPIPE},
    };
    for (size_t i = 0; i < sizeof C / sizeof C[0]; i++) {
        harness *h = with_profile(C[i].profile);
        tcp_stack *a = h_stack(h, H_A);
        tcp_stack *b = h_stack(h, H_B);
        tcp_sock_id x;
        assert_int_equal(tcp_socket(a, &x), TCP_OK);
        assert_int_equal(tcp_send(a, x, "x", 1), C[i].unconnected);
        assert_int_equal(tcp_send(a, x, "x", 0), C[i].unconnected);
        assert_int_equal(tcp_bind(a, x, 81), TCP_OK);
        assert_int_equal(tcp_send(a, x, "x", 1), C[i].unconnected);
        h_expect_state(h, H_A, x, TCP_CLOSED);
        tcp_sock_id l = h_listen(h, H_B, 80, 8);
        assert_int_equal(tcp_send(b, l, "x", 1), C[i].unconnected);
        h_settle(h);
        assert_int_equal(tcp_send(b, l, "x", 0), C[i].unconnected);
        tcp_shutdown_read(b, l);
        assert_int_equal(tcp_send(b, l, "x", 1), C[i].listener_shut_rd);
        /* A connect refused: its error first, then shut or deleted. */
        tcp_sock_id r = h_connect(h, H_A, H_B, 99, H_ANY);
        h_settle(h);
        h_expect_state(h, H_A, r, TCP_CLOSED);
        assert_int_equal(tcp_send(a, r, "x", 1), C[i].refused_first);
        assert_int_equal(tcp_send(a, r, "x", 1), C[i].refused_then);
        /* shutdown() in SYN_SENT ends the connect, no error pending. FreeBSD
         * tcp_usr_shutdown calls socantsendmore before tcp_usrclosed: EPIPE
         * (SBS_CANTSENDMORE, sosend_generic's first test). */
        tcp_sock_id s = h_connect(h, H_A, H_B, 80, H_ANY);
        h_expect_state(h, H_A, s, TCP_SYN_SENT);
        assert_int_equal(tcp_shutdown(a, s), TCP_OK);
        h_expect_state(h, H_A, s, TCP_CLOSED);
        assert_int_equal(tcp_send(a, s, "x", 1), C[i].syn_sent_shut);
        h_free(h);
    }
}

/* Unchanged by send_unconnected_epipe: a send after a reset reports the
 * error first (linux, rfc9293: sock_error; bsd: SBS_CANTSENDMORE first,
 * EPIPE), then EPIPE (linux, bsd: tcp_done, soisdisconnected shut the send
 * side) or ENOTCONN (rfc9293: the TCB deleted, §3.10.2 CLOSED); after a
 * normal close (shutdown, TIME_WAIT expired) EPIPE under linux and bsd,
 * ENOTCONN under rfc9293. */
static void send_after_reset_and_close_per_profile(void **state)
{
    (void)state;
    static const struct {
        const char *profile;
        int reset_first, reset_then, closed;
    } C[] = {
        {"rfc9293", TCP_ECONNRESET, TCP_ENOTCONN, TCP_ENOTCONN},
        {"linux", TCP_ECONNRESET, TCP_EPIPE, TCP_EPIPE},
        {"bsd", TCP_EPIPE, TCP_EPIPE, TCP_EPIPE},
    };
    for (size_t i = 0; i < sizeof C / sizeof C[0]; i++) {
        harness *h = with_profile(C[i].profile);
        tcp_stack *a = h_stack(h, H_A);
        h_pair p = h_establish(h, H_A, H_B, 80);
        h_inject_rst(h, H_A, p.client);
        h_expect_state(h, H_A, p.client, TCP_CLOSED);
        assert_int_equal(tcp_send(a, p.client, "x", 1), C[i].reset_first);
        assert_int_equal(tcp_send(a, p.client, "x", 1), C[i].reset_then);
        h_pair q = h_establish(h, H_A, H_B, 81);
        assert_int_equal(tcp_shutdown(a, q.client), TCP_OK);
        h_settle(h);
        assert_int_equal(tcp_close(h_stack(h, H_B), q.server), TCP_OK);
        h_settle(h);
        h_expect_state(h, H_A, q.client, TCP_TIME_WAIT);
        h_run_for(h, 600ull * 1000000000ull);
        h_expect_state(h, H_A, q.client, TCP_CLOSED);
        assert_int_equal(tcp_send(a, q.client, "x", 1), C[i].closed);
        h_free(h);
    }
}

/* RECEIVE of 0 bytes on a connection. Linux tcp_recvmsg_locked asks for at
 * least one byte (sock_rcvlowat: 1 for a length of 0) and runs its loop
 * once: data queued is found (found_ok_skb) and 0 of it copied; with none,
 * a connection not at its end would wait (sk_wait_data), which a
 * non-blocking call answers EAGAIN; the peer's FIN (SOCK_DONE) gives 0.
 * FreeBSD soreceive_generic returns 0 when uio_resid is 0 after its error,
 * end-of-stream and not-connected tests, and takes the queued data
 * (dontblock) before those; RFC 9293 §3.10.3 has a RECEIVE wait only for
 * "insufficient incoming segments", which 0 octets never are. */
static void recv_zero_length_per_profile(void **state)
{
    (void)state;
    static const struct {
        const char *profile;
        int empty;
    } C[] = {{"rfc9293", TCP_OK}, {"linux", TCP_EAGAIN}, {"bsd", TCP_OK}};
    for (size_t i = 0; i < sizeof C / sizeof C[0]; i++) {
        harness *h = with_profile(C[i].profile);
        tcp_stack *b = h_stack(h, H_B);
        h_pair p = h_establish(h, H_A, H_B, 80);
        char buf[16];
        assert_int_equal(tcp_recv(b, p.server, buf, 0), C[i].empty);
        h_send(h, H_A, p.client, "abc");
        h_deliver(h);
        assert_int_equal(tcp_recv(b, p.server, buf, 0), 0); /* data queued */
        assert_int_equal(tcp_readable(b, p.server), 3);     /* and kept */
        const h_event *ev = h_event_at(h, H_B, h_event_count(h, H_B) - 1);
        assert_int_equal(ev->kind, TCP_EV_USER);
        assert_string_equal(ev->note, "recv() of 0 bytes"); /* not an end of stream */
        h_expect_recv(h, H_B, p.server, "abc");
        assert_int_equal(tcp_recv(b, p.server, buf, 0), C[i].empty);
        assert_int_equal(tcp_close(h_stack(h, H_A), p.client), TCP_OK);
        h_settle(h);
        assert_int_equal(tcp_recv(b, p.server, buf, 0), 0); /* end of stream */
        ev = h_event_at(h, H_B, h_event_count(h, H_B) - 1);
        assert_string_equal(ev->note, "recv() end of stream");
        h_free(h);
    }
}

/* Bytes still queued come before the error that ended the connection, for
 * a zero-length RECEIVE as for any other: Linux tcp_recvmsg_locked looks at
 * sk_err only when the receive queue gave nothing; FreeBSD soreceive
 * reaches so_error only with no data (m == NULL). Under rfc9293 the reset
 * flushed them (RFC 9293 §3.10.7.4, profile closed_deletes_tcb): the
 * zero-length RECEIVE meets the reset, then "connection does not exist". */
static void recv_zero_length_data_before_reset(void **state)
{
    (void)state;
    const char *names[] = {"rfc9293", "linux", "bsd"};
    for (size_t i = 0; i < 3; i++) {
        harness *h = with_profile(names[i]);
        tcp_stack *b = h_stack(h, H_B);
        h_pair p = h_establish(h, H_A, H_B, 80);
        h_send(h, H_A, p.client, "abc");
        h_deliver(h);
        h_settle(h);
        tcp_tcb t;
        assert_int_equal(tcp_sock_tcb(b, p.server, &t), 0);
        tcp_seg rst = h_template(h, H_B, p.server);
        rst.flags = TCP_RST;
        rst.seq = t.rcv_nxt;
        h_inject(h, H_B, &rst);
        h_expect_state(h, H_B, p.server, TCP_CLOSED);
        char buf[16];
        if (i == 0) { /* rfc9293 */
            assert_int_equal(tcp_readable(b, p.server), 0);
            assert_int_equal(tcp_recv(b, p.server, buf, 0), TCP_ECONNRESET);
            assert_int_equal(tcp_recv(b, p.server, buf, 0), TCP_ENOTCONN);
            h_free(h);
            continue;
        }
        assert_int_equal(tcp_recv(b, p.server, buf, 0), 0);
        h_expect_recv(h, H_B, p.server, "abc");
        assert_int_equal(tcp_recv(b, p.server, buf, 0), TCP_ECONNRESET);
        h_free(h);
    }
}

/* shutdown(SHUT_RD) on a listener: Linux tcp_disconnect stops it; FreeBSD
 * keeps it listening, answers ENOTCONN and fails the next accept once with
 * ECONNABORTED (so_error), then accepts again. */
static void listener_shutdown_rd_bsd_aborts_next_accept(void **state)
{
    (void)state;
    harness *h = with_profile("bsd");
    tcp_stack *b = h_stack(h, H_B);
    tcp_sock_id l = h_listen(h, H_B, 80, 8);
    h_connect(h, H_A, H_B, 80, 1000);
    h_settle(h);
    assert_int_equal(tcp_shutdown_read(b, l), TCP_ENOTCONN);
    h_expect_state(h, H_B, l, TCP_LISTEN);
    tcp_sock_id ch = 0;
    assert_int_equal(tcp_accept(b, l, &ch), TCP_ECONNABORTED);
    assert_int_equal(tcp_accept(b, l, &ch), TCP_OK);
    h_expect_state(h, H_B, ch, TCP_ESTABLISHED);
    h_free(h);

    h = with_profile("linux");
    l = h_listen(h, H_B, 80, 8);
    assert_int_equal(tcp_shutdown_read(h_stack(h, H_B), l), TCP_OK);
    h_expect_state(h, H_B, l, TCP_CLOSED);
    h_free(h);
}

/* connect() on a listener: RFC 9293 §3.10.1 LISTEN -> SYN_SENT; Linux
 * __inet_stream_connect EISCONN (sk_state is not TCP_CLOSE); FreeBSD
 * soconnectat EOPNOTSUPP (SO_ACCEPTCONN). Refused, it keeps listening. */
static void connect_on_listener_per_profile(void **state)
{
    (void)state;
    static const struct {
        const char *profile;
        int rc;
        tcp_state after;
    } C[] = {{"rfc9293", TCP_OK, TCP_SYN_SENT},
             {"linux", TCP_EISCONN, TCP_LISTEN},
             {"bsd", TCP_EOPNOTSUPP, TCP_LISTEN}};
    for (size_t i = 0; i < sizeof C / sizeof C[0]; i++) {
        harness *h = with_profile(C[i].profile);
        h_listen(h, H_B, 80, 8);
        tcp_sock_id a = h_listen(h, H_A, 90, 8);
        assert_int_equal(tcp_connect(h_stack(h, H_A), a, h_addr(h, H_B), 80), C[i].rc);
        h_expect_state(h, H_A, a, C[i].after);
        if (C[i].rc == TCP_OK) {
            h_expect_sent(h, H_A, TCP_SYN, H_ANY, H_ANY, 0);
            h_settle(h);
            h_expect_trace(h, H_A, a,
                           H_STATES(TCP_CLOSED, TCP_LISTEN, TCP_SYN_SENT, TCP_ESTABLISHED));
            /* It listens no more: a SYN from another port of B meets no
             * listener and is answered with RST (§3.10.7.1). */
            h_expect_sent(h, H_A, TCP_ACK, H_ANY, H_ANY, 0); /* the handshake's */
            tcp_seg syn = h_template(h, H_A, a);
            syn.src_port = 4444;
            syn.flags = TCP_SYN;
            syn.ack = 0;
            h_inject(h, H_A, &syn);
            h_expect_sent(h, H_A, TCP_RST | TCP_ACK, 0, H_ANY, 0);
            h_drop(h);
            h_expect_state(h, H_A, a, TCP_ESTABLISHED);
        } else {
            h_expect_none_sent(h, H_A);
        }
        h_free(h);
    }
}

#define T(f) cmocka_unit_test_setup_teardown(f, h_setup, h_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(cork_runt_sent_by_probe_timer_linux),
        T(cork_full_segment_goes),
        T(uncork_sends_held_data),
        T(cork_close_sends_runt_with_fin),
        T(cork_runt_sent_by_persist_bsd),
        T(user_timeout_ends_zero_window_probing_linux),
        T(user_timeout_ends_keepalive_linux),
        T(user_timeout_ends_syn_sent_linux),
        T(user_timeout_ends_syn_sent_rfc9293_bsd),
        T(user_timeout_inherited_from_listener),
        T(cork_inherited_from_listener),
        T(listener_shutdown_wr_per_profile),
        T(listener_shutdown_rd_bsd_aborts_next_accept),
        T(recv_on_listener_enotconn),
        T(recv_zero_length_per_profile),
        T(recv_zero_length_data_before_reset),
        T(connect_on_listener_per_profile),
        T(send_unconnected_per_profile),
        T(send_after_reset_and_close_per_profile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
