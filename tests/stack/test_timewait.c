/*
 * test_timewait — TIME_WAIT (RFC 9293 §3.6, §3.10.7.4): its length under
 * each profile and with a custom MSL, the lost final ACK (FIN sent again,
 * ACKed again, 2*MSL restarted), a SYN in TIME_WAIT (RFC 5961 challenge ACK
 * vs RFC 1122 §4.2.2.13 reopen) and an RST in TIME_WAIT (RFC 1337).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "harness.h"

/* A (client) closes first and ends in TIME_WAIT; B's server socket is
 * closed too. Returns when A enters TIME_WAIT; *t_tw is that instant. */
static h_pair client_to_time_wait(harness *h, uint64_t *t_tw)
{
    h_pair p = h_establish(h, H_A, H_B, 80);
    tcp_close(h_stack(h, H_A), p.client);
    h_settle(h);
    tcp_close(h_stack(h, H_B), p.server);
    h_settle(h);
    h_expect_state(h, H_A, p.client, TCP_TIME_WAIT);
    *t_tw = h_last_transition(h, H_A, p.client)->time_ns;
    h_sent_skip(h, H_A);
    h_sent_skip(h, H_B);
    return p;
}

static void expect_time_wait_length(const tcp_profile *prof, uint64_t msl_opt, uint64_t want)
{
    harness *h = h_new(2, prof);
    tcp_sock_id l = h_listen(h, H_B, 80, 8);
    tcp_sock_id c;
    tcp_stack *a = h_stack(h, H_A);
    assert_int_equal(tcp_socket(a, &c), TCP_OK);
    if (msl_opt)
        assert_int_equal(tcp_setopt(a, c, TCP_OPT_MSL_NS, msl_opt), TCP_OK);
    assert_int_equal(tcp_bind(a, c, 0), TCP_OK);
    assert_int_equal(tcp_connect(a, c, h_addr(h, H_B), 80), TCP_OK);
    h_settle(h);
    tcp_sock_id s = h_accept(h, H_B, l);
    tcp_close(a, c);
    h_settle(h);
    tcp_close(h_stack(h, H_B), s);
    h_settle(h);
    h_expect_state(h, H_A, c, TCP_TIME_WAIT);
    uint64_t t0 = h_last_transition(h, H_A, c)->time_ns;
    h_run(h, t0 + want - 1);
    h_expect_state(h, H_A, c, TCP_TIME_WAIT);
    h_run(h, t0 + want);
    h_expect_conns(h, H_A, 0);
    h_finish(h);
    h_free(h);
}

/* A socket its user still holds in TIME_WAIT (both ends shut down)
 * refuses a new MSL: the 2MSL timer keeps the length it started with
 * (as a FreeBSD net.inet.tcp.msl change leaves a running TIME_WAIT be),
 * and the invariant checker, which holds the timer to 2·MSL, stays
 * quiet at the next call. */
static void msl_refused_in_time_wait(void **state)
{
    (void)state;
    harness *h = h_new(2, tcp_profile_find("rfc9293"));
    h_pair p = h_establish(h, H_A, H_B, 80);
    tcp_stack *a = h_stack(h, H_A);
    assert_int_equal(tcp_shutdown(a, p.client), TCP_OK);
    h_settle(h);
    assert_int_equal(tcp_shutdown(h_stack(h, H_B), p.server), TCP_OK);
    h_settle(h);
    h_expect_state(h, H_A, p.client, TCP_TIME_WAIT);
    uint64_t t0 = h_last_transition(h, H_A, p.client)->time_ns;
    assert_int_equal(tcp_setopt(a, p.client, TCP_OPT_MSL_NS, H_MS(1)), TCP_EINVAL);
    assert_int_equal(tcp_shutdown(a, p.client), TCP_OK); /* a call: the checker runs */
    h_run(h, t0 + H_S(240) - 1);
    h_expect_state(h, H_A, p.client, TCP_TIME_WAIT);
    h_run(h, t0 + H_S(240));
    h_expect_state(h, H_A, p.client, TCP_CLOSED);
    tcp_close(a, p.client);
    tcp_close(h_stack(h, H_B), p.server);
    h_finish(h);
    h_free(h);
}

static void time_wait_is_2msl_rfc9293(void **state)
{
    (void)state;
    expect_time_wait_length(tcp_profile_find("rfc9293"), 0, H_S(240));
}

static void time_wait_is_60s_linux(void **state)
{
    (void)state;
    expect_time_wait_length(h_linux_exact(), 0, H_S(60));
}

static void time_wait_is_2msl_bsd(void **state)
{
    (void)state;
    expect_time_wait_length(tcp_profile_find("bsd"), 0, H_S(60));
}

static void time_wait_with_custom_msl(void **state)
{
    (void)state;
    expect_time_wait_length(tcp_profile_find("rfc9293"), H_S(5), H_S(10));
    expect_time_wait_length(h_linux_exact(), H_MS(1500), H_S(3));
}

/*
 *  A FIN_WAIT_2      <- FIN,ACK      B LAST_ACK
 *  A TIME_WAIT (t0)     ACK  -> lost
 *                    <- FIN,ACK      (B's RTO, t0 + 1 s)
 *                       ACK  ->      B CLOSED
 *  A CLOSED at t0 + 1 s + 240 s (the timer restarted)
 */
static void lost_final_ack(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    tcp_close(h_stack(h, H_A), p.client);
    h_settle(h);
    h_drop_sent(h, H_A, TCP_ACK, 1);
    h_sent_skip(h, H_A);
    h_sent_skip(h, H_B);
    tcp_close(h_stack(h, H_B), p.server);
    h_settle(h);
    uint64_t t0 = h_now(h);
    h_expect_state(h, H_A, p.client, TCP_TIME_WAIT);
    h_expect_state(h, H_B, p.server, TCP_LAST_ACK);
    const tcp_seg *fin = h_expect_sent(h, H_B, TCP_FIN | TCP_ACK, H_ANY, H_ANY, 0);
    uint32_t fin_seq = fin->seq;
    h_expect_sent(h, H_A, TCP_ACK, H_ANY, fin_seq + 1u, 0); /* lost */

    h_run(h, t0 + H_S(2));
    h_expect_sent(h, H_B, TCP_FIN | TCP_ACK, fin_seq, H_ANY, 0);
    assert_int_equal(h_sent(h, H_B, h_sent_count(h, H_B) - 1)->sent_ns, t0 + H_S(1));
    h_expect_sent(h, H_A, TCP_ACK, H_ANY, fin_seq + 1u, 0);
    h_expect_state(h, H_B, p.server, TCP_CLOSED);
    h_expect_trace(h, H_B, p.server,
                   H_STATES(TCP_LISTEN, TCP_SYN_RECEIVED, TCP_ESTABLISHED, TCP_CLOSE_WAIT,
                            TCP_LAST_ACK, TCP_CLOSED));

    h_run(h, t0 + H_S(1) + H_S(240) - 1);
    h_expect_state(h, H_A, p.client, TCP_TIME_WAIT);
    h_run(h, t0 + H_S(1) + H_S(240));
    h_expect_conns(h, H_A, 0);
    assert_int_equal(h_last_transition(h, H_A, p.client)->time_ns, t0 + H_S(241));
    tcp_close(h_stack(h, H_B), p.listener);
    h_expect_conns(h, H_B, 0);
}

/* The server closes first, so its side is in TIME_WAIT while it listens. */
static h_pair server_to_time_wait(harness *h)
{
    h_pair p = h_establish(h, H_A, H_B, 80);
    tcp_close(h_stack(h, H_B), p.server);
    h_settle(h);
    tcp_close(h_stack(h, H_A), p.client);
    h_settle(h);
    h_expect_state(h, H_B, p.server, TCP_TIME_WAIT);
    h_expect_conns(h, H_A, 0);
    h_sent_skip(h, H_A);
    h_sent_skip(h, H_B);
    return p;
}

/* rfc9293: a SYN in TIME_WAIT gets a challenge ACK (RFC 5961 §4.2); the
 * connection stays in TIME_WAIT. */
static void syn_in_time_wait_challenged_rfc9293(void **state)
{
    harness *h = *state;
    h_pair p = server_to_time_wait(h);
    tcp_seg syn = h_template(h, H_B, p.server);
    uint32_t rcv_nxt = syn.seq, snd_nxt = syn.ack;
    syn.flags = TCP_SYN;
    syn.seq += 100000;
    syn.ack = 0;
    h_inject(h, H_B, &syn);
    h_expect_sent(h, H_B, TCP_ACK, snd_nxt, rcv_nxt, 0);
    h_expect_state(h, H_B, p.server, TCP_TIME_WAIT);
    assert_int_equal(tcp_sock_stats(h_stack(h, H_B), p.server)->challenge_acks, 1);
    h_finish(h);
}

/* linux: a SYN above RCV.NXT reopens: TIME_WAIT -> CLOSED, and the listener
 * takes the SYN with ISN = old SND.NXT + 65535 + 2. */
static void syn_in_time_wait_reopens_linux(void **state)
{
    (void)state;
    harness *h = h_new(2, h_linux_exact());
    h_pair p = server_to_time_wait(h);
    tcp_seg t = h_template(h, H_B, p.server);
    uint16_t port;
    assert_int_equal(tcp_sock_endpoints(h_stack(h, H_A), p.client, &port, NULL, NULL), -1);
    port = t.src_port;
    tcp_stack *a = h_stack(h, H_A);
    tcp_sock_id c;
    assert_int_equal(tcp_socket(a, &c), TCP_OK);
    assert_int_equal(tcp_setopt(a, c, TCP_OPT_ISN, t.seq + 1000u), TCP_OK);
    assert_int_equal(tcp_bind(a, c, port), TCP_OK);
    assert_int_equal(tcp_connect(a, c, h_addr(h, H_B), 80), TCP_OK);
    h_deliver(h);
    h_expect_state(h, H_B, p.server, TCP_CLOSED);
    assert_string_equal(h_last_transition(h, H_B, p.server)->note, "rcv SYN (new connection)");
    h_expect_sent(h, H_B, TCP_SYN | TCP_ACK, (int64_t)(uint32_t)(t.ack + 65535u + 2u),
                  t.seq + 1001u, 0);
    h_settle(h);
    h_expect_state(h, H_A, c, TCP_ESTABLISHED);
    tcp_sock_id s = h_accept(h, H_B, p.listener);
    assert_int_not_equal(s, p.server);
    h_finish(h);
    h_free(h);
}

static void rst_in_time_wait(const char *profile, bool exact_kills)
{
    harness *h = h_new(2, h_profile_exact(profile));
    uint64_t t0;
    h_pair p = client_to_time_wait(h, &t0);
    tcp_seg rst = h_template(h, H_A, p.client);
    rst.flags = TCP_RST;
    rst.ack = 0;
    rst.seq += 10; /* in no window: ignored by every profile */
    h_inject(h, H_A, &rst);
    h_expect_state(h, H_A, p.client, TCP_TIME_WAIT);
    rst.seq -= 10; /* exactly RCV.NXT */
    h_inject(h, H_A, &rst);
    h_expect_none_sent(h, H_A);
    if (exact_kills) {
        h_expect_conns(h, H_A, 0);
        assert_string_equal(h_last_transition(h, H_A, p.client)->note, "rcv RST");
    } else {
        h_expect_state(h, H_A, p.client, TCP_TIME_WAIT);
    }
    h_finish(h);
    h_free(h);
}

static void rst_in_time_wait_closes_rfc9293(void **state)
{
    (void)state;
    rst_in_time_wait("rfc9293", true);
}

static void rst_in_time_wait_closes_linux(void **state)
{
    (void)state;
    rst_in_time_wait("linux", true);
}

static void rst_in_time_wait_ignored_bsd(void **state)
{
    (void)state;
    rst_in_time_wait("bsd", false); /* RFC 1337 */
}

/* linux (tw_restart_on_ack): a bare in-window ACK restarts the 60 s;
 * rfc9293 ignores it. */
static void ack_in_time_wait_restarts_linux_only(void **state)
{
    (void)state;
    const char *names[] = {"linux", "rfc9293"};
    const uint64_t tw[] = {H_S(60), H_S(240)};
    for (int i = 0; i < 2; i++) {
        harness *h = h_new(2, h_profile_exact(names[i]));
        uint64_t t0;
        h_pair p = client_to_time_wait(h, &t0);
        h_run(h, t0 + H_S(10));
        tcp_seg ack = h_template(h, H_A, p.client);
        h_inject(h, H_A, &ack);
        h_expect_none_sent(h, H_A);
        uint64_t end = i == 0 ? t0 + H_S(10) + tw[i] : t0 + tw[i];
        h_run(h, end - 1);
        h_expect_state(h, H_A, p.client, TCP_TIME_WAIT);
        h_run(h, end);
        h_expect_conns(h, H_A, 0);
        tcp_close(h_stack(h, H_B), p.listener);
        h_expect_conns(h, H_B, 0);
        h_free(h);
    }
}

#define T(f) cmocka_unit_test_setup_teardown(f, h_setup, h_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(time_wait_is_2msl_rfc9293),
        cmocka_unit_test(time_wait_is_60s_linux),
        cmocka_unit_test(time_wait_is_2msl_bsd),
        cmocka_unit_test(time_wait_with_custom_msl),
        cmocka_unit_test(msl_refused_in_time_wait),
        T(lost_final_ack),
        T(syn_in_time_wait_challenged_rfc9293),
        cmocka_unit_test(syn_in_time_wait_reopens_linux),
        cmocka_unit_test(rst_in_time_wait_closes_rfc9293),
        cmocka_unit_test(rst_in_time_wait_closes_linux),
        cmocka_unit_test(rst_in_time_wait_ignored_bsd),
        cmocka_unit_test(ack_in_time_wait_restarts_linux_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
