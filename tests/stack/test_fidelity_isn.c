/*
 * test_fidelity_isn — initial sequence numbers (RFC 9293 §3.4.1 MUST-8,
 * RFC 6528), TIME_WAIT reuse that no longer depends on the seed, the
 * ephemeral port range and its exhaustion, and the RFC 5961 §7 rate limit
 * on out-of-window ACKs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "harness.h"

static tcp_sock_id open_from(harness *h, uint16_t lport)
{
    tcp_stack *a = h_stack(h, H_A);
    tcp_sock_id id;
    assert_int_equal(tcp_socket(a, &id), TCP_OK);
    assert_int_equal(tcp_bind(a, id, lport), TCP_OK);
    assert_int_equal(tcp_connect(a, id, h_addr(h, H_B), 80), TCP_OK);
    return id;
}

/* RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport,
 * secretkey), "M is the 4 microsecond timer". Two connections on the same
 * 4-tuple one second apart get ISNs exactly 1 s / 4 µs = 250 000 apart,
 * whatever the secret (the seed). */
static void isn_is_clock_plus_tuple_hash(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        harness *h = h_new(2, NULL);
        h_set_seed(h, seed);
        h_reboot(h, H_A); /* a secret drawn from this seed */
        tcp_sock_id c1 = open_from(h, 40000);
        uint32_t isn1 = h_last_sent(h, H_A)->seq;
        h_settle(h); /* no listener: RST, CLOSED */
        tcp_close(h_stack(h, H_A), c1);
        h_advance(h, H_S(1));
        tcp_sock_id c2 = open_from(h, 40000);
        uint32_t isn2 = h_last_sent(h, H_A)->seq;
        assert_int_equal((uint32_t)(isn2 - isn1), 250000u);
        h_settle(h);
        tcp_close(h_stack(h, H_A), c2);
        h_free(h);
    }
}

/* RFC 1122 §4.2.2.13 (Linux tcp_timewait_state_process: after(seq,
 * tw_rcv_nxt)): a SYN above RCV.NXT reopens a connection in TIME_WAIT. With
 * a clock-driven ISN the reconnect's SYN is above it for every seed, so the
 * trace is the same for all: the old connection ends "rcv SYN (new
 * connection)" and the new one is established without a retransmission. */
static void time_wait_reuse_same_for_every_seed(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 8; seed++) {
        harness *h = h_new(2, h_linux_exact());
        h_set_seed(h, seed);
        h_reboot(h, H_A);
        h_reboot(h, H_B);
        tcp_sock_id l = h_listen(h, H_B, 80, 8);
        tcp_sock_id c = open_from(h, 40000);
        h_settle(h);
        tcp_sock_id s = h_accept(h, H_B, l);
        assert_int_equal(tcp_close(h_stack(h, H_B), s), TCP_OK); /* server first */
        h_settle(h);
        assert_int_equal(tcp_close(h_stack(h, H_A), c), TCP_OK);
        h_settle(h);
        h_expect_state(h, H_B, s, TCP_TIME_WAIT);
        h_advance(h, H_S(1));
        tcp_sock_id c2 = open_from(h, 40000);
        h_settle(h);
        h_expect_state(h, H_A, c2, TCP_ESTABLISHED);
        assert_int_equal(tcp_sock_stats(h_stack(h, H_A), c2)->retransmits, 0);
        assert_string_equal(h_last_transition(h, H_B, s)->note, "rcv SYN (new connection)");
        h_free(h);
    }
}

/* Linux tcp_timewait_state_process: "u32 isn = tcptw->tw_snd_nxt + 65535 +
 * 2; if (isn == 0) isn++;": a reopened connection never gets ISN 0. The
 * server's ISS is chosen so that its old SND.NXT (ISS + SYN + FIN) + 65537
 * wraps to 0. */
static void time_wait_reopen_isn_never_zero(void **state)
{
    (void)state;
    harness *h = h_new(2, h_linux_exact());
    tcp_sock_id l = h_listen(h, H_B, 80, 8);
    assert_int_equal(tcp_setopt(h_stack(h, H_B), l, TCP_OPT_ISN, 0xfffefffdu), TCP_OK);
    tcp_sock_id c = open_from(h, 40000);
    h_settle(h);
    tcp_sock_id s = h_accept(h, H_B, l);
    assert_int_equal(tcp_close(h_stack(h, H_B), s), TCP_OK);
    h_settle(h);
    assert_int_equal(tcp_close(h_stack(h, H_A), c), TCP_OK);
    h_settle(h);
    h_expect_state(h, H_B, s, TCP_TIME_WAIT);
    h_sent_skip(h, H_B);
    h_advance(h, H_S(1));
    open_from(h, 40000);
    h_deliver(h);
    h_expect_sent(h, H_B, TCP_SYN | TCP_ACK, 1, H_ANY, 0);
    h_free(h);
}

/* Linux net.ipv4.ip_local_port_range default "32768 60999". */
static void ephemeral_range_linux(void **state)
{
    (void)state;
    harness *h = h_new(2, h_linux_exact());
    tcp_stack *a = h_stack(h, H_A);
    for (int i = 0; i < 50; i++) {
        tcp_sock_id id;
        uint16_t port;
        assert_int_equal(tcp_socket(a, &id), TCP_OK);
        assert_int_equal(tcp_bind(a, id, 0), TCP_OK);
        assert_int_equal(tcp_sock_endpoints(a, id, &port, NULL, NULL), 0);
        assert_in_range(port, 32768, 60999);
    }
    h_free(h);
}

/* A full range refuses at once with EADDRNOTAVAIL (Linux connect() says
 * EADDRNOTAVAIL too); a freed port can be picked again. */
static void ephemeral_ports_exhausted(void **state)
{
    (void)state;
    tcp_profile pr = *tcp_profile_find("rfc9293");
    pr.port_lo = 5000;
    pr.port_hi = 5002;
    harness *h = h_new(2, &pr);
    tcp_stack *a = h_stack(h, H_A);
    tcp_sock_id ids[4];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(tcp_socket(a, &ids[i]), TCP_OK);
        assert_int_equal(tcp_bind(a, ids[i], 0), TCP_OK);
    }
    assert_int_equal(tcp_socket(a, &ids[3]), TCP_OK);
    assert_int_equal(tcp_bind(a, ids[3], 0), TCP_EADDRNOTAVAIL);
    assert_int_equal(tcp_connect(a, ids[3], h_addr(h, H_B), 80), TCP_EADDRNOTAVAIL);
    assert_string_equal(tcp_err_name(TCP_EADDRNOTAVAIL), "EADDRNOTAVAIL");
    assert_int_equal(tcp_close(a, ids[1]), TCP_OK);
    assert_int_equal(tcp_bind(a, ids[3], 0), TCP_OK);
    uint16_t port;
    tcp_sock_endpoints(a, ids[3], &port, NULL, NULL);
    assert_in_range(port, 5000, 5002);
    h_free(h);
}

/* An explicit bind conflicts with a bound, unused socket and with a
 * listener, not with a connection's local port. */
static void explicit_bind_conflicts(void **state)
{
    harness *h = *state;
    tcp_stack *a = h_stack(h, H_A);
    tcp_sock_id x, y;
    assert_int_equal(tcp_socket(a, &x), TCP_OK);
    assert_int_equal(tcp_socket(a, &y), TCP_OK);
    assert_int_equal(tcp_bind(a, x, 7000), TCP_OK);
    assert_int_equal(tcp_bind(a, y, 7000), TCP_EADDRINUSE);
    assert_int_equal(tcp_connect(a, x, h_addr(h, H_B), 80), TCP_OK);
    assert_int_equal(tcp_bind(a, y, 7000), TCP_OK); /* x owns only its 4-tuple now */
    tcp_close(a, x);
    tcp_close(a, y);
}

static void three_out_of_window(harness *h, h_pair p)
{
    for (int i = 0; i < 3; i++) {
        tcp_seg t = h_template(h, H_A, p.client);
        t.seq += 0x40000000u; /* far outside the window */
        h_inject(h, H_A, &t);
    }
}

/* A sends exactly n bare ACKs, then nothing. */
static void expect_acks_from_a(harness *h, int n)
{
    for (int i = 0; i < n; i++)
        h_expect_sent(h, H_A, TCP_ACK, H_ANY, H_ANY, 0);
    h_expect_none_sent(h, H_A);
}

/* RFC 5961 §7 with Linux tcp_oow_rate_limited (tcp_invalid_ratelimit =
 * HZ/2): one ACK per 500 ms answers out-of-window segments. */
static void oow_acks_rate_limited_linux(void **state)
{
    (void)state;
    harness *h = h_new(2, h_linux_exact());
    h_pair p = h_establish(h, H_A, H_B, 80);
    three_out_of_window(h, p);
    expect_acks_from_a(h, 1);
    h_advance(h, H_MS(500));
    three_out_of_window(h, p);
    expect_acks_from_a(h, 1);
    h_free(h);
}

/* Out-of-window segments that occupy sequence space: one with data far to
 * the right of the window, one with a FIN only. */
static void data_and_fin_out_of_window(harness *h, h_pair p)
{
    tcp_seg t = h_template(h, H_A, p.client);
    t.seq += 0x40000000u;
    t.payload = (const uint8_t *)"x";
    t.len = 1;
    h_inject(h, H_A, &t);
    t = h_template(h, H_A, p.client);
    t.seq += 0x40000000u;
    t.flags |= TCP_FIN;
    h_inject(h, H_A, &t);
}

/* Linux tcp_oow_rate_limited: "Data packets without SYNs are not likely
 * part of an ACK loop" (seq != end_seq and no SYN: data or a FIN) are
 * answered whatever the rate (tcp_validate_incoming -> tcp_send_dupack),
 * and they leave last_oow_ack_time alone: the pure ACKs after them still
 * get their one ACK per 500 ms. */
static void oow_data_and_fin_not_rate_limited_linux(void **state)
{
    (void)state;
    harness *h = h_new(2, h_linux_exact());
    h_pair p = h_establish(h, H_A, H_B, 80);
    for (int round = 0; round < 2; round++) {
        data_and_fin_out_of_window(h, p);
        expect_acks_from_a(h, 2);
        h_advance(h, H_MS(100));
    }
    three_out_of_window(h, p);
    expect_acks_from_a(h, 1);
    data_and_fin_out_of_window(h, p); /* still answered within the 500 ms */
    expect_acks_from_a(h, 2);
    h_free(h);
}

/* FreeBSD's ACK-war check (ctf_ack_war_checks, from ctf_do_dropafterack:
 * tcp_ack_war_cnt = 5 per tcp_ack_war_time_window = 1000 ms) counts every
 * ACK sent for a dropped segment, whatever the segment carried. */
static void oow_data_rate_limited_bsd(void **state)
{
    (void)state;
    harness *h = h_new(2, h_profile_exact("bsd"));
    h_pair p = h_establish(h, H_A, H_B, 80);
    for (int i = 0; i < 3; i++)
        data_and_fin_out_of_window(h, p);
    expect_acks_from_a(h, 5);
    h_free(h);
}

/* rfc9293: RFC 9293 §3.10.7.4 "an acknowledgment should be sent in reply",
 * no limit. */
static void oow_acks_unlimited_rfc9293(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    three_out_of_window(h, p);
    for (int i = 0; i < 3; i++)
        h_expect_sent(h, H_A, TCP_ACK, H_ANY, H_ANY, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, h_setup, h_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(isn_is_clock_plus_tuple_hash),
        T(time_wait_reuse_same_for_every_seed),
        T(time_wait_reopen_isn_never_zero),
        T(ephemeral_range_linux),
        T(ephemeral_ports_exhausted),
        T(explicit_bind_conflicts),
        T(oow_acks_rate_limited_linux),
        T(oow_acks_unlimited_rfc9293),
        T(oow_data_and_fin_not_rate_limited_linux),
        T(oow_data_rate_limited_bsd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
