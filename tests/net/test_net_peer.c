/*
 * test_net_peer — the raw peer: crafted bytes go out as written (option
 * bytes in their order, any payload size up to one IPv4 datagram, both
 * checksums right), every datagram reaching the peer is queued with its
 * arrival time, and a taken datagram stays readable while more arrive;
 * a datagram sent split (the stack's pattern) reaches the peer whole.
 * A stack host B (10.0.0.2, port 80 listening) and the peer P (10.0.0.9),
 * one link of 10 ms each way.
 */
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "net.h"

#define B_ADDR 0x0a000002u
#define P_ADDR 0x0a000009u
#define MS     1000000ull

typedef struct fx {
    net *n;
    net_peer *p;
    uint32_t b, link, listener;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->n = net_new(7);
    assert_int_equal(net_host_add(f->n, "B", B_ADDR, tcp_profile_find("rfc9293"), &f->b), 0);
    f->p = net_peer_new(f->n, "P", P_ADDR);
    assert_non_null(f->p);
    sim_link_params lp;
    sim_link_params_default(&lp);
    lp.delay_ns = 10 * MS;
    assert_int_equal(net_peer_link(f->n, f->p, f->b, &lp, &lp, &f->link), 0);
    net_listen_opts lo = {.port = 80, .backlog = 4};
    assert_int_equal(net_listen(f->n, f->b, &lo, &f->listener), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    net_free(f->n);
    net_peer_free(f->p);
    free(f);
    return 0;
}

/* nop,nop,sackOK | mss 1460 | nop,wscale 7: an order no built-in layout uses */
static const uint8_t OPTS[12] = {1, 1, 4, 2, 2, 4, 0x05, 0xb4, 1, 3, 3, 7};

static tcp_seg syn(void)
{
    tcp_seg s = {.src_addr = P_ADDR,
                 .dst_addr = B_ADDR,
                 .src_port = 5000,
                 .dst_port = 80,
                 .seq = 1000,
                 .flags = TCP_SYN,
                 .wnd = 65535};
    return s;
}

static void encode_keeps_option_bytes_and_order(void **state)
{
    (void)state;
    uint8_t buf[128];
    tcp_seg s = syn();
    size_t n = net_peer_encode(&s, OPTS, sizeof OPTS, buf, sizeof buf);
    assert_int_equal(n, 20 + 20 + 12);
    assert_memory_equal(buf + 40, OPTS, sizeof OPTS);
    tcp_seg got;
    assert_int_equal(tcp_wire_parse(buf, n, &got), TCP_WIRE_OK); /* both checksums */
    assert_true(got.has_mss && got.mss == 1460 && got.has_wscale && got.wscale == 7);
    assert_true(got.has_sack_perm);
    assert_int_equal(got.seq, 1000);
    /* option lengths must be a multiple of 4 and at most 40 */
    assert_int_equal(net_peer_encode(&s, OPTS, 10, buf, sizeof buf), 0);
    assert_int_equal(net_peer_encode(&s, OPTS, 44, buf, sizeof buf), 0);
}

/* A crafted datagram's IPv4 header is the one the stack writes for the
 * same segment (tcp_wire_encode): DF set, as Linux (ip_dont_fragment with
 * path MTU discovery on, the default) and FreeBSD (tcp_output with
 * path_mtu_discovery) send TCP, so a raw peer's datagrams look like a
 * kernel's in a pcap. */
static void encode_writes_the_stacks_ipv4_header(void **state)
{
    (void)state;
    uint8_t peer[64], wire[64];
    tcp_seg s = syn();
    s.ip_id = 7;
    assert_int_equal(net_peer_encode(&s, NULL, 0, peer, sizeof peer), 40);
    assert_int_equal(tcp_wire_encode(&s, wire, sizeof wire), 40);
    assert_int_equal(peer[6], 0x40); /* DF, fragment offset 0 */
    assert_int_equal(peer[7], 0);
    assert_memory_equal(peer, wire, 20);
}

static void encode_takes_a_datagram_up_to_the_ipv4_limit(void **state)
{
    (void)state;
    static uint8_t buf[70000];
    tcp_seg s = syn();
    s.flags = TCP_ACK;
    s.len = 65535 - 40;
    assert_int_equal(net_peer_encode(&s, NULL, 0, buf, sizeof buf), 65535);
    tcp_seg got;
    assert_int_equal(tcp_wire_parse(buf, 65535, &got), TCP_WIRE_OK);
    assert_int_equal(got.len, 65495);
    s.len++;
    assert_int_equal(net_peer_encode(&s, NULL, 0, buf, sizeof buf), 0);
    assert_int_equal(net_peer_encode(&s, NULL, 0, buf, 100), 0);
}

static void stack_replies_are_queued_with_arrival_times(void **state)
{
    fx *f = *state;
    uint8_t buf[128];
    tcp_seg s = syn();
    size_t n = net_peer_encode(&s, OPTS, sizeof OPTS, buf, sizeof buf);
    assert_int_equal(net_peer_send(f->p, buf, n), 0);
    net_peer_dgram d;
    assert_false(net_peer_take(f->p, &d));
    sim_world_run_until_time(net_world(f->n), 100 * MS);
    assert_int_equal(net_peer_queued(f->p), 1);
    assert_true(net_peer_take(f->p, &d));
    assert_int_equal(d.time_ns, 20 * MS); /* 10 ms there, 10 ms back */
    tcp_seg got;
    assert_int_equal(tcp_wire_parse(d.data, d.len, &got), TCP_WIRE_OK);
    assert_int_equal(got.flags, TCP_SYN | TCP_ACK);
    assert_int_equal(got.ack, 1001); /* RFC 9293 §3.10.7.2: ACK = SEG.SEQ + 1 */
    assert_int_equal(got.dst_port, 5000);
    assert_int_equal(net_peer_queued(f->p), 0);
}

static void taken_bytes_survive_later_arrivals(void **state)
{
    fx *f = *state;
    uint8_t buf[128];
    tcp_seg s = syn();
    size_t n = net_peer_encode(&s, NULL, 0, buf, sizeof buf);
    net_peer_send(f->p, buf, n);
    sim_world_run_until_time(net_world(f->n), 25 * MS);
    net_peer_dgram first;
    assert_true(net_peer_take(f->p, &first));
    uint8_t copy[128];
    memcpy(copy, first.data, first.len);
    /* the unanswered SYN-ACK is retransmitted: more arrivals meanwhile */
    sim_world_run_until_time(net_world(f->n), 10000 * MS);
    assert_true(net_peer_queued(f->p) >= 1);
    assert_memory_equal(first.data, copy, first.len);
}

static void oversize_send_is_refused(void **state)
{
    fx *f = *state;
    static uint8_t big[NET_PEER_DGRAM_MAX + 1];
    assert_int_equal(net_peer_send(f->p, big, sizeof big), NET_ETOOBIG);
}

/* A peer keeps the whole datagram of a split packet (the stack's pattern:
 * headers of their own, the payload read in the net's pattern), both
 * checksums right. */
static void a_split_datagram_reaches_the_peer_whole(void **state)
{
    fx *f = *state;
    uint8_t buf[128];
    tcp_seg s = syn();
    s.wnd = 8000;
    size_t n = net_peer_encode(&s, NULL, 0, buf, sizeof buf);
    assert_int_equal(net_peer_send(f->p, buf, n), 0);
    sim_world_run_until_time(net_world(f->n), 100 * MS);
    net_peer_dgram d;
    assert_true(net_peer_take(f->p, &d));
    tcp_seg synack;
    assert_int_equal(tcp_wire_parse(d.data, d.len, &synack), TCP_WIRE_OK);
    tcp_seg ack = {.src_addr = P_ADDR,
                   .dst_addr = B_ADDR,
                   .src_port = 5000,
                   .dst_port = 80,
                   .seq = 1001,
                   .ack = synack.seq + 1,
                   .flags = TCP_ACK,
                   .wnd = 8000};
    n = net_peer_encode(&ack, NULL, 0, buf, sizeof buf);
    assert_int_equal(net_peer_send(f->p, buf, n), 0);
    sim_world_run_until_time(net_world(f->n), 200 * MS);
    uint32_t srv;
    assert_int_equal(net_accept(f->n, f->listener, &srv), 0);
    assert_int_equal(net_send(f->n, srv, NULL, 500), 0);
    sim_world_run_until_time(net_world(f->n), 300 * MS);
    assert_true(net_peer_take(f->p, &d));
    tcp_seg data;
    assert_int_equal(tcp_wire_parse(d.data, d.len, &data), TCP_WIRE_OK);
    assert_int_equal(data.seq, synack.seq + 1);
    assert_int_equal(data.len, 500);
    for (uint32_t i = 0; i < 500; i++)
        assert_int_equal(data.payload[i], 'a' + i % 26);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encode_keeps_option_bytes_and_order),
        cmocka_unit_test(encode_writes_the_stacks_ipv4_header),
        cmocka_unit_test(encode_takes_a_datagram_up_to_the_ipv4_limit),
        cmocka_unit_test_setup_teardown(stack_replies_are_queued_with_arrival_times, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(taken_bytes_survive_later_arrivals, setup, teardown),
        cmocka_unit_test_setup_teardown(oversize_send_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(a_split_datagram_reaches_the_peer_whole, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
