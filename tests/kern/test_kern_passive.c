/*
 * test_kern_passive — the kernel as the passive side: it listens, a SYN
 * built by hand arrives through the TUN device, and the test walks the
 * kernel through the handshake, a little data, and a passive close, checking
 * every segment it sends and every state sock_diag shows.
 *
 * Expected values come from RFC 9293 and the Linux sources, not from tcpsim:
 *  - the SYN,ACK acknowledges ISS+1 and carries the kernel's MSS, which is
 *    the device MTU less 40 (tcp_mss_clamp of dst advmss: 1500 - 40);
 *  - it answers only the options the SYN offered (tcp_synack_options in
 *    net/ipv4/tcp_output.c): SACK-permitted and window scale here, no
 *    timestamps because the SYN had none;
 *  - its send MSS is the peer's MSS option (RFC 9293 §3.7.1);
 *  - FIN in ESTABLISHED enters CLOSE-WAIT (RFC 9293 §3.10.7.4, eighth),
 *    close() then sends FIN and enters LAST-ACK (§3.10.4), the ACK of that
 *    FIN deletes the TCB (§3.10.7.4, fifth, LAST-ACK).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "kpeer.h"

#define PEER_ISS 1000u

/* The peer's SYN: MSS 1400, SACK-permitted, window scale 7, no timestamps. */
static void send_syn(kpeer *p)
{
    tcp_seg s;
    memset(&s, 0, sizeof s);
    s.flags = TCP_SYN;
    s.seq = PEER_ISS;
    s.wnd = 65535;
    s.has_mss = true;
    s.mss = 1400;
    s.has_sack_perm = true;
    s.has_wscale = true;
    s.wscale = 7;
    kp_send_seg(p, &s);
}

static void sample(kern_sampler *s, kpeer *p)
{
    int rc = kern_sampler_sample(s, p->ns, kern_clock_ns());
    assert_true(rc >= 0);
}

static void expect_changes(const kern_sampler *s, const tcp_state *want, size_t n)
{
    for (size_t i = 0; i < s->nchanges; i++)
        print_message("# %zu: %s -> %s%s\n", i, tcp_state_name(s->changes[i].from),
                      tcp_state_name(s->changes[i].to), s->changes[i].gap ? " (gap)" : "");
    assert_int_equal(s->nchanges, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(s->changes[i].to, want[i]);
        assert_false(s->changes[i].gap);
        assert_true(s->changes[i].t_before_ns < s->changes[i].t_seen_ns);
    }
}

/* The SYN,ACK's fields, from the Linux sources cited at the top. */
static uint32_t check_syn_ack(kpeer *p)
{
    tcp_seg sa;
    kp_expect(p, TCP_SYN | TCP_ACK, &sa);
    assert_int_equal(sa.ack, PEER_ISS + 1);
    assert_int_equal(sa.len, 0);
    assert_true(sa.has_mss);
    assert_int_equal(sa.mss, 1460);
    assert_true(sa.has_sack_perm);
    assert_true(sa.has_wscale);
    assert_false(sa.has_ts);
    assert_true(sa.wnd > 0);
    print_message("# SYN,ACK: iss %u win %u wscale %u ttl %u\n", sa.seq, sa.wnd, sa.wscale, sa.ttl);
    return sa.seq;
}

/* peer --data--> kernel, kernel --data--> peer, each acknowledged. */
static void exchange_data(kpeer *p, int fd, uint32_t iss)
{
    tcp_seg s;
    kp_send(p, TCP_PSH | TCP_ACK, PEER_ISS + 1, iss + 1, "hello", 5);
    kp_expect(p, TCP_ACK, &s);
    assert_int_equal(s.ack, PEER_ISS + 6);
    char buf[16];
    size_t got;
    assert_int_equal(kern_sock_recv(fd, buf, sizeof buf, &got), 0);
    assert_int_equal(got, 5);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(kern_sock_recv(fd, buf, sizeof buf, &got), -EAGAIN);

    size_t sent;
    assert_int_equal(kern_sock_send(fd, "world", 5, &sent), 0);
    assert_int_equal(sent, 5);
    kp_expect(p, TCP_PSH | TCP_ACK, &s);
    assert_int_equal(s.seq, iss + 1);
    assert_int_equal(s.len, 5);
    assert_memory_equal(s.payload, "world", 5);
    kp_send(p, TCP_ACK, PEER_ISS + 6, iss + 6, NULL, 0);
}

static void passive_open_and_close(void **state)
{
    (void)state;
    kern_config cfg;
    kp_config(&cfg);
    kpeer p;
    kp_open(&p, &cfg, 40000, 80);
    int lfd, fd;
    assert_int_equal(kern_sock_listen(p.ns, KP_KERNEL, 80, 8, &lfd), 0);
    kern_tuple t = kp_tuple(&p);
    kern_sampler smp;
    kern_sampler_init(&smp, &t, kern_clock_ns());

    send_syn(&p); /* peer --SYN--> kernel */
    uint32_t iss = check_syn_ack(&p);
    sample(&smp, &p);
    assert_int_equal(smp.last, TCP_SYN_RECEIVED);
    assert_int_equal(kern_sock_accept(p.ns, lfd, &fd), -EAGAIN);

    kp_send(&p, TCP_ACK, PEER_ISS + 1, iss + 1, NULL, 0); /* peer --ACK--> kernel */
    assert_int_equal(kern_sampler_wait(&smp, p.ns, TCP_ESTABLISHED, KP_WAIT_NS), 1);
    assert_int_equal(kern_sock_accept(p.ns, lfd, &fd), 0);
    kern_tcp_info ti;
    assert_int_equal(kern_tcp_info_get(fd, &ti), 0);
    assert_int_equal(ti.state, TCP_ESTABLISHED);
    assert_int_equal(ti.snd_mss, 1400);
    assert_true(ti.sack && ti.wscale && !ti.timestamps);

    exchange_data(&p, fd, iss);

    uint64_t fin_ns = kern_clock_ns();
    kp_send(&p, TCP_FIN | TCP_ACK, PEER_ISS + 6, iss + 6, NULL, 0); /* peer --FIN--> kernel */
    tcp_seg s;
    kp_expect(&p, TCP_ACK, &s);
    assert_int_equal(s.seq, iss + 6);
    assert_int_equal(s.ack, PEER_ISS + 7);
    print_message("# the ACK of the FIN came after %llu us\n",
                  (unsigned long long)((kern_clock_ns() - fin_ns) / 1000));
    sample(&smp, &p);
    assert_int_equal(smp.last, TCP_CLOSE_WAIT);
    assert_int_equal(kern_tcp_info_get(fd, &ti), 0);
    assert_int_equal(ti.state, TCP_CLOSE_WAIT);
    size_t total;
    bool eof;
    assert_int_equal(kern_sock_drain(fd, &total, &eof), 0);
    assert_int_equal(total, 0);
    assert_true(eof);

    assert_int_equal(kern_sock_close(p.ns, fd), 0); /* kernel close() */
    kp_expect(&p, TCP_FIN | TCP_ACK, &s);
    assert_int_equal(s.seq, iss + 6);
    assert_int_equal(s.ack, PEER_ISS + 7);
    kern_diag d;
    assert_int_equal(kern_diag_lookup(p.ns, &t, &d), 1);
    assert_int_equal(d.state, TCP_LAST_ACK);
    assert_int_equal(d.inode, 0); /* orphaned: no descriptor */
    sample(&smp, &p);

    kp_send(&p, TCP_ACK, PEER_ISS + 7, iss + 7, NULL, 0); /* peer --ACK--> kernel */
    assert_int_equal(kern_sampler_wait(&smp, p.ns, TCP_CLOSED, KP_WAIT_NS), 1);
    kp_expect_quiet(&p);

    static const tcp_state want[] = {TCP_SYN_RECEIVED, TCP_ESTABLISHED, TCP_CLOSE_WAIT,
                                     TCP_LAST_ACK, TCP_CLOSED};
    expect_changes(&smp, want, sizeof want / sizeof want[0]);
    kp_close(&p);
}

/* A SYN to a port nobody listens on: RST,ACK with ack = SEG.SEQ + SEG.LEN
 * + 1 for the SYN and seq 0 (RFC 9293 §3.10.7.1, CLOSED: "<SEQ=0>..."). */
static void syn_to_closed_port_is_reset(void **state)
{
    (void)state;
    kern_config cfg;
    kp_config(&cfg);
    kpeer p;
    kp_open(&p, &cfg, 40001, 81);
    send_syn(&p);
    tcp_seg s;
    kp_expect(&p, TCP_RST | TCP_ACK, &s);
    assert_int_equal(s.seq, 0);
    assert_int_equal(s.ack, PEER_ISS + 1);
    assert_int_equal(kp_state(&p), TCP_CLOSED);
    kp_close(&p);
}

/* Handshake to a listener on cfg's namespace; returns the accepted fd and
 * the SYN,ACK's MSS option in *mss. */
static int handshake(kpeer *p, const kern_config *cfg, uint16_t port, uint32_t *mss)
{
    kp_open(p, cfg, 40002, port);
    int lfd, fd;
    assert_int_equal(kern_sock_listen(p->ns, KP_KERNEL, port, 8, &lfd), 0);
    tcp_seg s;
    memset(&s, 0, sizeof s);
    s.flags = TCP_SYN;
    s.seq = PEER_ISS;
    s.wnd = 65535;
    s.has_mss = true;
    s.mss = 8960;
    kp_send_seg(p, &s);
    kp_expect(p, TCP_SYN | TCP_ACK, &s);
    assert_true(s.has_mss);
    *mss = s.mss;
    kp_send(p, TCP_ACK, PEER_ISS + 1, s.seq + 1, NULL, 0);
    kern_tuple t = kp_tuple(p);
    kern_sampler smp;
    kern_sampler_init(&smp, &t, kern_clock_ns());
    assert_int_equal(kern_sampler_wait(&smp, p->ns, TCP_ESTABLISHED, KP_WAIT_NS), 1);
    assert_int_equal(kern_sock_accept(p->ns, lfd, &fd), 0);
    return fd;
}

/* The device's MTU decides the MSS Linux advertises: MTU - 40
 * (tcp_advertise_mss: dst_metric_advmss, ipv4_default_advmss = mtu - 40). */
static void mtu_sets_the_advertised_mss(void **state)
{
    (void)state;
    kern_config cfg;
    kp_config(&cfg);
    cfg.mtu = 9000;
    kpeer p;
    uint32_t mss;
    handshake(&p, &cfg, 82, &mss);
    assert_int_equal(mss, 8960);
    kp_close(&p);
}

/* Route metrics for knobs with no sysctl reach a connection: advmss caps
 * the SYN,ACK's MSS option; the locked rto_min bounds the RTO from below
 * (tcp_rto_min reads RTAX_RTO_MIN only when locked; 1.5 s is above both
 * the 200 ms default and the 1 s initial RTO); initcwnd is the initial
 * window (tcp_init_cwnd: RTAX_INITCWND, else TCP_INIT_CWND 10). */
static void route_metrics_reach_the_connection(void **state)
{
    (void)state;
    kern_config cfg;
    kp_config(&cfg);
    cfg.mtu = 9000;
    cfg.advmss = 1000;
    cfg.rto_min_ms = 1500;
    cfg.initcwnd = 4;
    kpeer p;
    uint32_t mss;
    int fd = handshake(&p, &cfg, 83, &mss);
    assert_int_equal(mss, 1000);
    kern_tcp_info ti;
    assert_int_equal(kern_tcp_info_get(fd, &ti), 0);
    print_message("# rto %u us, cwnd %u, snd_mss %u\n", ti.rto_us, ti.snd_cwnd, ti.snd_mss);
    assert_true(ti.rto_us >= 1500000);
    assert_int_equal(ti.snd_cwnd, 4);
    kp_close(&p);
}

/* A receive buffer set on a listener is its connections' (the profile's
 * rcvbuf option): SO_RCVBUF reads back the size asked, and it fixes the
 * SYN,ACK's window and scale as Linux derives them: tcp_full_space() is
 * half the buffer (TCP_DEFAULT_SCALING_RATIO), SOCK_RCVBUF_LOCK clamps the
 * window to it so no scale is needed (tcp_openreq_init_rwin,
 * tcp_select_initial_window), and the window is a whole number of the
 * MSS the kernel advertises (tcp_openreq_init_rwin: the route's advmss,
 * MTU 1500 - 40, less nothing without timestamps): 2048 rounded down to
 * 1460. A size the
 * kernel would change (odd, below SOCK_MIN_RCVBUF) is -ERANGE. */
static void rcvbuf_on_listener_fixes_the_window(void **state)
{
    (void)state;
    kern_config cfg;
    kp_config(&cfg);
    kpeer p;
    kp_open(&p, &cfg, 40003, 84);
    int lfd, v = 0;
    assert_int_equal(kern_sock_listen(p.ns, KP_KERNEL, 84, 8, &lfd), 0);
    assert_int_equal(kern_sock_rcvbuf(lfd, 4095), -ERANGE);
    assert_int_equal(kern_sock_rcvbuf(lfd, 512), -ERANGE);
    assert_int_equal(kern_sock_rcvbuf(lfd, 4096), 0);
    assert_int_equal(kern_sock_getopt(lfd, SOL_SOCKET, SO_RCVBUF, &v), 0);
    assert_int_equal(v, 4096);
    send_syn(&p);
    tcp_seg s;
    kp_expect(&p, TCP_SYN | TCP_ACK, &s);
    print_message("# SYN,ACK window %u, wscale %s%u\n", s.wnd, s.has_wscale ? "" : "none ",
                  s.wscale);
    assert_int_equal(s.wnd, 1460);
    assert_true(s.has_wscale);
    assert_int_equal(s.wscale, 0);
    kp_close(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(passive_open_and_close),
        cmocka_unit_test(syn_to_closed_port_is_reset),
        cmocka_unit_test(mtu_sets_the_advertised_mss),
        cmocka_unit_test(route_metrics_reach_the_connection),
        cmocka_unit_test(rcvbuf_on_listener_fixes_the_window),
    };
    return KP_MAIN("kern_passive", tests);
}
