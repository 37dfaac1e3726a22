/*
 * test_kern_active — the kernel as the active side: it connects to the
 * hand-played peer, closes first and reaches TIME_WAIT, which only
 * sock_diag can show (the socket has no descriptor by then). Also the
 * socket options the kernel endpoint offers, and the errno of calls that
 * must fail.
 *
 * Expected values come from RFC 9293 and the Linux sources:
 *  - the SYN carries MSS 1460 (MTU 1500 - 40), SACK-permitted, timestamps
 *    and window scale: tcp_syn_options with tcp_sack, tcp_timestamps and
 *    tcp_window_scaling at their default 1 (ip-sysctl.rst);
 *  - close() in ESTABLISHED sends FIN, FIN-WAIT-1 (§3.10.4); the ACK of it
 *    gives FIN-WAIT-2, the peer's FIN gives TIME-WAIT (§3.10.7.4, eighth);
 *    Linux holds TIME_WAIT for TCP_TIMEWAIT_LEN, 60 s (include/net/tcp.h);
 *  - an RST acknowledging the SYN in SYN-SENT: "error: connection reset"
 *    (§3.10.7.3), ECONNREFUSED in Linux (tcp_reset);
 *  - SO_LINGER with timeout 0 makes close() send RST,ACK (tcp_close ->
 *    tcp_disconnect -> tcp_send_active_reset), and so does close() with
 *    unread data (RFC 2525 §2.17; tcp_close);
 *  - send() on a socket that is not connected fails with EPIPE
 *    (sk_stream_wait_connect), shutdown() of a closed one with ENOTCONN
 *    (inet_shutdown), bind() to an address the namespace lacks with
 *    EADDRNOTAVAIL, to one a listener holds with EADDRINUSE.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "kpeer.h"

#define PEER_ISS 5000u
#define K_PORT   40000
#define P_PORT   80

/* kernel --SYN--> peer, peer --SYN,ACK--> kernel, kernel --ACK--> peer.
 * Returns the kernel's ISS; *fd is its socket. */
static uint32_t connect_kernel(kpeer *p, int *fd, kern_sampler *smp)
{
    int rc = kern_sock_connect(p->ns, KP_KERNEL, K_PORT, KP_PEER, P_PORT, fd);
    assert_int_equal(rc, -EINPROGRESS);
    tcp_seg s;
    kp_expect(p, TCP_SYN, &s);
    assert_true(s.has_mss && s.has_sack_perm && s.has_ts && s.has_wscale);
    assert_int_equal(s.mss, 1460);
    assert_int_equal(s.len, 0);
    uint32_t iss = s.seq;
    if (smp) {
        assert_true(kern_sampler_sample(smp, p->ns, kern_clock_ns()) >= 0);
        assert_int_equal(smp->last, TCP_SYN_SENT);
    }
    tcp_seg sa;
    memset(&sa, 0, sizeof sa);
    sa.flags = TCP_SYN | TCP_ACK;
    sa.seq = PEER_ISS;
    sa.ack = iss + 1;
    sa.wnd = 65535;
    sa.has_mss = true;
    sa.mss = 1460;
    kp_send_seg(p, &sa);
    kp_expect(p, TCP_ACK, &s);
    assert_int_equal(s.seq, iss + 1);
    assert_int_equal(s.ack, PEER_ISS + 1);
    assert_int_equal(kern_sock_error(*fd), 0);
    return iss;
}

static void open_peer(kpeer *p)
{
    kern_config cfg;
    kp_config(&cfg);
    kp_open(p, &cfg, P_PORT, K_PORT);
}

static void active_close_reaches_time_wait(void **state)
{
    (void)state;
    kpeer p;
    open_peer(&p);
    kern_tuple t = kp_tuple(&p);
    kern_sampler smp;
    kern_sampler_init(&smp, &t, kern_clock_ns());
    int fd;
    uint32_t iss = connect_kernel(&p, &fd, &smp);
    assert_int_equal(kern_sampler_wait(&smp, p.ns, TCP_ESTABLISHED, KP_WAIT_NS), 1);

    assert_int_equal(kern_sock_close(p.ns, fd), 0); /* kernel close() */
    tcp_seg s;
    kp_expect(&p, TCP_FIN | TCP_ACK, &s);
    assert_int_equal(s.seq, iss + 1);
    assert_int_equal(s.ack, PEER_ISS + 1);
    assert_true(kern_sampler_sample(&smp, p.ns, kern_clock_ns()) >= 0);
    assert_int_equal(smp.last, TCP_FIN_WAIT_1);
    /* The orphan is still a full socket: the dump carries its tcp_info
     * (INET_DIAG_INFO), whose counters outlive the descriptor. */
    kern_diag d;
    assert_int_equal(kern_diag_lookup(p.ns, &t, &d), 1);
    assert_true(d.has_info);
    assert_int_equal(d.total_retrans, 0);

    kp_send(&p, TCP_ACK, PEER_ISS + 1, iss + 2, NULL, 0); /* peer ACKs the FIN */
    assert_int_equal(kern_sampler_wait(&smp, p.ns, TCP_FIN_WAIT_2, KP_WAIT_NS), 1);
    /* An orphan in FIN_WAIT2 with tcp_fin_timeout <= TCP_TIMEWAIT_LEN is
     * kept as a timewait socket (tcp_rcv_state_process -> tcp_time_wait
     * with substate FIN_WAIT2): inet_diag reports the substate and the
     * timewait timer (idiag_timer 3), running for tcp_fin_timeout, 60 s;
     * a timewait socket has no tcp_info. */
    assert_int_equal(kern_diag_lookup(p.ns, &t, &d), 1);
    assert_false(d.has_info);
    assert_int_equal(d.inode, 0);
    assert_int_equal(d.timer, 3);
    assert_true(d.expires_ms > 55000 && d.expires_ms <= 60000);
    kp_expect_quiet(&p);

    kp_send(&p, TCP_FIN | TCP_ACK, PEER_ISS + 1, iss + 2, NULL, 0); /* peer FIN */
    kp_expect(&p, TCP_ACK, &s);
    assert_int_equal(s.seq, iss + 2);
    assert_int_equal(s.ack, PEER_ISS + 2);
    assert_int_equal(kern_sampler_wait(&smp, p.ns, TCP_TIME_WAIT, KP_WAIT_NS), 1);

    assert_int_equal(kern_diag_lookup(p.ns, &t, &d), 1);
    assert_int_equal(d.state, TCP_TIME_WAIT);
    assert_int_equal(d.inode, 0);
    assert_int_equal(d.timer, 3); /* idiag_timer 3: the TIME_WAIT timer */
    print_message("# TIME_WAIT expires in %u ms\n", d.expires_ms);
    assert_true(d.expires_ms > 55000 && d.expires_ms <= 60000);

    static const tcp_state want[] = {TCP_SYN_SENT, TCP_ESTABLISHED, TCP_FIN_WAIT_1, TCP_FIN_WAIT_2,
                                     TCP_TIME_WAIT};
    assert_int_equal(smp.nchanges, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < smp.nchanges; i++) {
        assert_int_equal(smp.changes[i].to, want[i]);
        assert_false(smp.changes[i].gap);
    }
    kp_close(&p); /* the TIME_WAIT socket ends with its namespace */
}

/* Simultaneous close: the peer's FIN crosses the kernel's, so the kernel
 * goes FIN-WAIT-1 -> CLOSING -> TIME-WAIT (RFC 9293 §3.10.7.4, eighth, and
 * fifth: "if the ACK acknowledges our FIN, then enter the TIME-WAIT"). */
static void simultaneous_close_passes_closing(void **state)
{
    (void)state;
    kpeer p;
    open_peer(&p);
    kern_tuple t = kp_tuple(&p);
    kern_sampler smp;
    kern_sampler_init(&smp, &t, kern_clock_ns());
    int fd;
    uint32_t iss = connect_kernel(&p, &fd, &smp);
    assert_int_equal(kern_sampler_wait(&smp, p.ns, TCP_ESTABLISHED, KP_WAIT_NS), 1);
    assert_int_equal(kern_sock_shutdown(fd, SHUT_WR), 0); /* FIN, the socket kept */
    tcp_seg s;
    kp_expect(&p, TCP_FIN | TCP_ACK, &s);
    assert_int_equal(s.seq, iss + 1);
    assert_int_equal(kern_sampler_wait(&smp, p.ns, TCP_FIN_WAIT_1, KP_WAIT_NS), 1);

    kp_send(&p, TCP_FIN | TCP_ACK, PEER_ISS + 1, iss + 1, NULL, 0); /* not acking its FIN */
    kp_expect(&p, TCP_ACK, &s);
    assert_int_equal(s.seq, iss + 2);
    assert_int_equal(s.ack, PEER_ISS + 2);
    assert_int_equal(kern_sampler_wait(&smp, p.ns, TCP_CLOSING, KP_WAIT_NS), 1);
    kern_tcp_info ti;
    assert_int_equal(kern_tcp_info_get(fd, &ti), 0);
    assert_int_equal(ti.state, TCP_CLOSING);

    kp_send(&p, TCP_ACK, PEER_ISS + 2, iss + 2, NULL, 0);
    assert_int_equal(kern_sampler_wait(&smp, p.ns, TCP_TIME_WAIT, KP_WAIT_NS), 1);
    /* tcp_time_wait hands the connection to a timewait socket and closes
     * the full one (tcp_done): the descriptor's socket says CLOSED while
     * sock_diag shows TIME_WAIT. */
    assert_int_equal(kern_tcp_info_get(fd, &ti), 0);
    assert_int_equal(ti.state, TCP_CLOSED);
    static const tcp_state want[] = {TCP_SYN_SENT, TCP_ESTABLISHED, TCP_FIN_WAIT_1, TCP_CLOSING,
                                     TCP_TIME_WAIT};
    assert_int_equal(smp.nchanges, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < smp.nchanges; i++) {
        assert_int_equal(smp.changes[i].to, want[i]);
        assert_false(smp.changes[i].gap);
    }
    kp_close(&p);
}

/* The ACK of a FIN received in ESTABLISHED comes within TCP_DELACK_MAX
 * (200 ms, include/net/tcp.h), whether at once or by the delayed-ACK timer;
 * which one depends on the connection's quick-ACK and pingpong state, so
 * only the bound is checked here and the delay is printed. */
static void ack_of_fin_in_established_within_delack_max(void **state)
{
    (void)state;
    kpeer p;
    open_peer(&p);
    int fd;
    uint32_t iss = connect_kernel(&p, &fd, NULL);
    uint64_t t0 = kern_clock_ns();
    kp_send(&p, TCP_FIN | TCP_ACK, PEER_ISS + 1, iss + 1, NULL, 0);
    tcp_seg s;
    kp_expect(&p, TCP_ACK, &s);
    uint64_t delay_ms = (kern_clock_ns() - t0) / 1000000;
    print_message("# the ACK of the FIN came after %llu ms\n", (unsigned long long)delay_ms);
    assert_int_equal(s.ack, PEER_ISS + 2);
    assert_true(delay_ms <= 200 + 20); /* + scheduling slack */
    assert_int_equal(kp_state(&p), TCP_CLOSE_WAIT);
    kp_close(&p);
}

static void rst_answering_syn_is_econnrefused(void **state)
{
    (void)state;
    kpeer p;
    open_peer(&p);
    int fd;
    assert_int_equal(kern_sock_connect(p.ns, KP_KERNEL, K_PORT, KP_PEER, P_PORT, &fd),
                     -EINPROGRESS);
    tcp_seg s;
    kp_expect(&p, TCP_SYN, &s);
    kp_send(&p, TCP_RST | TCP_ACK, 0, s.seq + 1, NULL, 0);
    kp_expect_quiet(&p);
    assert_int_equal(kern_sock_error(fd), -ECONNREFUSED);
    assert_int_equal(kern_sock_error(fd), 0); /* reading SO_ERROR clears it */
    assert_int_equal(kp_state(&p), TCP_CLOSED);
    /* The socket is back in TCP_CLOSE: inet_shutdown says ENOTCONN, send()
     * EPIPE (tcp_sendmsg_locked, sk_stream_wait_connect). */
    assert_int_equal(kern_sock_shutdown(fd, SHUT_WR), -ENOTCONN);
    size_t sent;
    assert_int_equal(kern_sock_send(fd, "x", 1, &sent), -EPIPE);
    kp_close(&p);
}

static void linger_zero_close_sends_rst(void **state)
{
    (void)state;
    kpeer p;
    open_peer(&p);
    int fd;
    uint32_t iss = connect_kernel(&p, &fd, NULL);
    assert_int_equal(kern_sock_linger(fd, true, 0), 0);
    assert_int_equal(kern_sock_close(p.ns, fd), 0);
    tcp_seg s;
    kp_expect(&p, TCP_RST | TCP_ACK, &s);
    assert_int_equal(s.seq, iss + 1);
    assert_int_equal(s.ack, PEER_ISS + 1);
    assert_int_equal(kp_state(&p), TCP_CLOSED);
    kp_close(&p);
}

static void close_with_unread_data_sends_rst(void **state)
{
    (void)state;
    kpeer p;
    open_peer(&p);
    int fd;
    uint32_t iss = connect_kernel(&p, &fd, NULL);
    kp_send(&p, TCP_PSH | TCP_ACK, PEER_ISS + 1, iss + 1, "unread", 6);
    tcp_seg s;
    kp_expect(&p, TCP_ACK, &s);
    assert_int_equal(s.ack, PEER_ISS + 7);
    assert_int_equal(kern_sock_close(p.ns, fd), 0);
    kp_expect(&p, TCP_RST | TCP_ACK, &s);
    assert_int_equal(s.seq, iss + 1);
    assert_int_equal(s.ack, PEER_ISS + 7);
    assert_int_equal(kp_state(&p), TCP_CLOSED);
    kp_close(&p);
}

/* Keepalive with TCP_KEEPIDLE 1 s: after a second of silence the kernel
 * probes with an ACK at SND.UNA - 1 and no data (tcp_write_wakeup ->
 * tcp_xmit_probe_skb; RFC 1122 §4.2.3.6 allows the garbage-free form). */
static void keepalive_options_and_probe(void **state)
{
    (void)state;
    kpeer p;
    open_peer(&p);
    int fd, v;
    uint32_t iss = connect_kernel(&p, &fd, NULL);
    assert_int_equal(kern_sock_keepalive(fd, true, 1, 3, 4), 0);
    assert_int_equal(kern_sock_getopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(kern_sock_getopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(kern_sock_getopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &v), 0);
    assert_int_equal(v, 3);
    assert_int_equal(kern_sock_getopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &v), 0);
    assert_int_equal(v, 4);
    assert_int_equal(kern_sock_nodelay(fd, true), 0);
    assert_int_equal(kern_sock_getopt(fd, IPPROTO_TCP, TCP_NODELAY, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(kern_sock_keepalive(fd, true, -1, 0, 100000), -EINVAL);

    uint64_t t0 = kern_clock_ns();
    tcp_seg s;
    kp_expect(&p, TCP_ACK, &s);
    uint64_t waited_ms = (kern_clock_ns() - t0) / 1000000;
    print_message("# keepalive probe after %llu ms\n", (unsigned long long)waited_ms);
    assert_int_equal(s.seq, iss);
    assert_int_equal(s.len, 0);
    assert_true(waited_ms >= 900);
    kp_close(&p);
}

static void failing_calls_return_the_kernel_errno(void **state)
{
    (void)state;
    kpeer p;
    open_peer(&p);
    int fd;
    assert_int_equal(kern_sock_listen(p.ns, 0x0a000009u, 80, 8, &fd), -EADDRNOTAVAIL);
    assert_int_equal(fd, -1);
    assert_int_equal(kern_sock_listen(p.ns, KP_KERNEL, 80, 8, &fd), 0);
    int fd2;
    assert_int_equal(kern_sock_listen(p.ns, KP_KERNEL, 80, 8, &fd2), -EADDRINUSE);
    size_t sent;
    assert_int_equal(kern_sock_send(fd, "x", 1, &sent), -EPIPE);
    assert_int_equal(sent, 0);
    /* inet_shutdown: a listener refuses only SHUT_RD (it disconnects). */
    assert_int_equal(kern_sock_shutdown(fd, SHUT_WR), 0);
    assert_int_equal(kern_sock_close(p.ns, fd), 0);
    kp_expect_quiet(&p);
    kp_close(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(active_close_reaches_time_wait),
        cmocka_unit_test(simultaneous_close_passes_closing),
        cmocka_unit_test(ack_of_fin_in_established_within_delack_max),
        cmocka_unit_test(rst_answering_syn_is_econnrefused),
        cmocka_unit_test(linger_zero_close_sends_rst),
        cmocka_unit_test(close_with_unread_data_sends_rst),
        cmocka_unit_test(keepalive_options_and_probe),
        cmocka_unit_test(failing_calls_return_the_kernel_errno),
    };
    return KP_MAIN("kern_active", tests);
}
