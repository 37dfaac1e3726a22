/*
 * test_kern_pump — the real-time building blocks a driver calls: reads
 * from the TUN device wait no longer than asked, a zero timeout does not
 * wait, the clock never goes back, and datagrams the kernel must drop
 * (not IPv4, a bad checksum, a TCP segment for nobody's address) neither
 * break the device nor draw an answer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "kpeer.h"

#define MS 1000000ull

static void read_waits_no_longer_than_asked(void **state)
{
    (void)state;
    kern_config cfg;
    kp_config(&cfg);
    kpeer p;
    kp_open(&p, &cfg, 40000, 80);
    uint8_t buf[KERN_DGRAM_MAX];
    size_t n;
    uint64_t t0 = kern_clock_ns();
    assert_int_equal(kern_tun_read(p.ns, buf, sizeof buf, 50 * MS, &n), 0);
    uint64_t waited = kern_clock_ns() - t0;
    assert_int_equal(n, 0);
    assert_true(waited >= 50 * MS);
    assert_true(waited < 150 * MS);

    t0 = kern_clock_ns();
    assert_int_equal(kern_tun_read(p.ns, buf, sizeof buf, 0, &n), 0);
    assert_true(kern_clock_ns() - t0 < 5 * MS);
    kp_close(&p);
}

static void clock_never_goes_back(void **state)
{
    (void)state;
    uint64_t last = kern_clock_ns();
    for (int i = 0; i < 100000; i++) {
        uint64_t now = kern_clock_ns();
        assert_true(now >= last);
        last = now;
    }
}

/* Each of these is dropped by the kernel's IPv4 input; afterwards the
 * connection attempt still gets its SYN,ACK, so the device still works. */
static void datagrams_the_kernel_drops_draw_no_answer(void **state)
{
    (void)state;
    kern_config cfg;
    kp_config(&cfg);
    kpeer p;
    kp_open(&p, &cfg, 40000, 80);
    int lfd;
    assert_int_equal(kern_sock_listen(p.ns, KP_KERNEL, 80, 8, &lfd), 0);

    static const uint8_t not_ipv4[] = {0x60, 0, 0, 0, 0, 0, 59, 64};
    assert_int_equal(kern_tun_write(p.ns, not_ipv4, sizeof not_ipv4), 0);

    tcp_seg s;
    memset(&s, 0, sizeof s);
    s.flags = TCP_SYN;
    s.seq = 1;
    s.wnd = 1000;
    s.src_addr = KP_PEER;
    s.dst_addr = KP_KERNEL;
    s.src_port = 40000;
    s.dst_port = 80;
    uint8_t d[KERN_DGRAM_MAX];
    size_t n = tcp_wire_encode(&s, d, sizeof d);
    d[n - 1] ^= 0xff; /* breaks the TCP checksum */
    assert_int_equal(kern_tun_write(p.ns, d, n), 0);
    kp_expect_quiet(&p);

    kp_send(&p, TCP_SYN, 1, 0, NULL, 0); /* the same SYN, intact */
    kp_expect(&p, TCP_SYN | TCP_ACK, &s);
    assert_int_equal(s.ack, 2);
    kp_close(&p);
}

/* The device offers no offloads (no IFF_VNET_HDR, no TUNSETOFFLOAD), so
 * the kernel segments before the device: 4000 bytes to a peer with MSS
 * 1000 arrive as four datagrams of at most 1000 bytes of payload, each
 * within the initial window of 10 segments (RFC 6928). */
static void kernel_data_arrives_one_segment_per_datagram(void **state)
{
    (void)state;
    kern_config cfg;
    kp_config(&cfg);
    kpeer p;
    kp_open(&p, &cfg, 40000, 80);
    int lfd, fd;
    assert_int_equal(kern_sock_listen(p.ns, KP_KERNEL, 80, 8, &lfd), 0);
    tcp_seg s;
    memset(&s, 0, sizeof s);
    s.flags = TCP_SYN;
    s.seq = 100;
    s.wnd = 65535;
    s.has_mss = true;
    s.mss = 1000;
    kp_send_seg(&p, &s);
    kp_expect(&p, TCP_SYN | TCP_ACK, &s);
    uint32_t iss = s.seq;
    kp_send(&p, TCP_ACK, 101, iss + 1, NULL, 0);
    uint64_t end = kern_clock_ns() + KP_WAIT_NS;
    int rc;
    while ((rc = kern_sock_accept(p.ns, lfd, &fd)) == -EAGAIN && kern_clock_ns() < end)
        ;
    assert_int_equal(rc, 0);
    static char data[4000];
    size_t sent;
    assert_int_equal(kern_sock_send(fd, data, sizeof data, &sent), 0);
    assert_int_equal(sent, sizeof data);
    uint32_t next = iss + 1, total = 0;
    while (total < sizeof data) {
        kp_next(&p, &s);
        assert_int_equal(s.flags & ~TCP_PSH, TCP_ACK); /* PSH where Linux pushes */
        if (s.len == 0)
            fail_msg("an empty segment before all data came");
        assert_int_equal(s.seq, next);
        assert_true(s.len <= 1000);
        next += s.len;
        total += s.len;
    }
    assert_int_equal(total, sizeof data);
    kp_close(&p);
}

static void oversized_write_is_refused_with_errno(void **state)
{
    (void)state;
    kern_config cfg;
    kp_config(&cfg);
    kpeer p;
    kp_open(&p, &cfg, 40000, 80);
    static uint8_t big[70000];
    int rc = kern_tun_write(p.ns, big, sizeof big);
    assert_true(rc < 0); /* tun_get_user: EINVAL past 64 KiB */
    print_message("# a 70000-byte write: %s\n", strerror(-rc));
    kp_close(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(read_waits_no_longer_than_asked),
        cmocka_unit_test(clock_never_goes_back),
        cmocka_unit_test(datagrams_the_kernel_drops_draw_no_answer),
        cmocka_unit_test(kernel_data_arrives_one_segment_per_datagram),
        cmocka_unit_test(oversized_write_is_refused_with_errno),
    };
    return KP_MAIN("kern_pump", tests);
}
