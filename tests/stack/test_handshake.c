/*
 * test_handshake — opening a connection (RFC 9293 §3.5): the three-way
 * handshake, lost SYN and SYN,ACK, a SYN to a closed port, SYN retries
 * running out under two profiles, simultaneous open, recovery from an old
 * duplicate SYN (§3.5 Figure 9), and a full backlog.
 *
 * Each test ends with every socket closed and every timer run, and checks
 * the stacks hold no connection.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "harness.h"

/* Closes the given sockets, lets every timer run, checks nothing is left. */
static void close_and_reclaim(harness *h, size_t stack, const tcp_sock_id *ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tcp_close(h_stack(h, stack), ids[i]);
    h_run_for(h, H_S(600));
}

static void expect_empty(harness *h)
{
    h_expect_conns(h, H_A, 0);
    h_expect_conns(h, H_B, 0);
}

/*
 *  A (ISN 1000)                          B (LISTEN :80, ISN y)
 *  CLOSED -> SYN_SENT   SYN 1000      ->  LISTEN -> SYN_RECEIVED (child)
 *  ESTABLISHED        <- SYN,ACK y 1001
 *                       ACK 1001 y+1  ->  ESTABLISHED
 */
static void normal_open(void **state)
{
    harness *h = *state;
    tcp_sock_id l = h_listen(h, H_B, 80, 8);
    tcp_sock_id c = h_connect(h, H_A, H_B, 80, 1000);

    const tcp_seg *syn = h_expect_sent(h, H_A, TCP_SYN, 1000, H_ANY, 0);
    assert_true(syn->has_mss);
    assert_int_equal(syn->mss, 1460);
    h_deliver(h);
    const tcp_seg *synack = h_expect_sent(h, H_B, TCP_SYN | TCP_ACK, H_ANY, 1001, 0);
    h_deliver(h);
    h_expect_sent(h, H_A, TCP_ACK, 1001, synack->seq + 1u, 0);
    h_deliver(h);
    h_expect_none_sent(h, H_B);

    tcp_sock_id s = h_accept(h, H_B, l);
    h_expect_trace(h, H_A, c, H_STATES(TCP_CLOSED, TCP_SYN_SENT, TCP_ESTABLISHED));
    h_expect_trace(h, H_B, s, H_STATES(TCP_LISTEN, TCP_SYN_RECEIVED, TCP_ESTABLISHED));
    h_expect_trace(h, H_B, l, H_STATES(TCP_CLOSED, TCP_LISTEN));
    const h_event *first = h_event_at(h, H_B, 0);
    assert_non_null(first);
    const h_event *t = h_last_transition(h, H_B, s);
    assert_int_equal(t->parent, l);
    assert_string_equal(t->note, "rcv ACK of SYN");
    assert_string_equal(h_last_transition(h, H_A, c)->note, "rcv SYN,ACK");
    assert_int_equal(tcp_sock_stats(h_stack(h, H_A), c)->segs_out, 2);

    close_and_reclaim(h, H_A, &c, 1);
    tcp_sock_id both[] = {s, l};
    close_and_reclaim(h, H_B, both, 2);
    expect_empty(h);
}

/* RFC 6298 §5.5: each lost SYN doubles the RTO (1, 2, 4 s). */
static void lost_syn_retransmitted_with_backoff(void **state)
{
    harness *h = *state;
    tcp_sock_id l = h_listen(h, H_B, 80, 8);
    h_drop_sent(h, H_A, TCP_SYN, 3);
    tcp_sock_id c = h_connect(h, H_A, H_B, 80, 1000);

    h_run(h, H_S(10));
    h_expect_state(h, H_A, c, TCP_ESTABLISHED);
    assert_int_equal(h_sent(h, H_A, 0)->sent_ns, 0);
    assert_int_equal(h_sent(h, H_A, 1)->sent_ns, H_S(1));
    assert_int_equal(h_sent(h, H_A, 2)->sent_ns, H_S(3));
    assert_int_equal(h_sent(h, H_A, 3)->sent_ns, H_S(7));
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(h_sent(h, H_A, i)->seg.seq, 1000);
    assert_int_equal(tcp_sock_stats(h_stack(h, H_A), c)->retransmits, 3);
    assert_int_equal(h_count(h, H_A, c, TCP_EV_TIMER), 3);

    tcp_sock_id s = h_accept(h, H_B, l);
    close_and_reclaim(h, H_A, &c, 1);
    tcp_sock_id both[] = {s, l};
    close_and_reclaim(h, H_B, both, 2);
    expect_empty(h);
}

/* The SYN,ACK is lost; the listener's child sends it again on its own RTO
 * (the client's own retransmitted SYN is lost too). */
static void lost_syn_ack_retransmitted(void **state)
{
    harness *h = *state;
    tcp_sock_id l = h_listen(h, H_B, 80, 8);
    h_drop_sent(h, H_B, TCP_SYN | TCP_ACK, 1);
    tcp_sock_id c = h_connect(h, H_A, H_B, 80, 1000);
    h_drop_sent(h, H_A, TCP_SYN, 1);

    h_run(h, H_MS(1500));
    h_expect_state(h, H_A, c, TCP_ESTABLISHED);
    h_expect_sent(h, H_A, TCP_SYN, 1000, H_ANY, 0);
    const tcp_seg *sa = h_expect_sent(h, H_B, TCP_SYN | TCP_ACK, H_ANY, 1001, 0);
    const tcp_seg *sa2 = h_expect_sent(h, H_B, TCP_SYN | TCP_ACK, sa->seq, 1001, 0);
    assert_int_equal(h_sent(h, H_B, 1)->sent_ns, H_S(1));
    assert_ptr_not_equal(sa, sa2);
    tcp_sock_id s = h_accept(h, H_B, l);
    assert_int_equal(tcp_sock_stats(h_stack(h, H_B), s)->retransmits, 1);

    close_and_reclaim(h, H_A, &c, 1);
    tcp_sock_id both[] = {s, l};
    close_and_reclaim(h, H_B, both, 2);
    expect_empty(h);
}

/* RFC 9293 §3.10.7.1: a SYN to a port nobody listens on gets
 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>; the client reads ECONNREFUSED. */
static void syn_to_closed_port_refused(void **state)
{
    harness *h = *state;
    tcp_sock_id c = h_connect(h, H_A, H_B, 81, 5000);

    h_settle(h);
    h_expect_sent(h, H_A, TCP_SYN, 5000, H_ANY, 0);
    h_expect_sent(h, H_B, TCP_RST | TCP_ACK, 0, 5001, 0);
    h_expect_trace(h, H_A, c, H_STATES(TCP_CLOSED, TCP_SYN_SENT, TCP_CLOSED));
    assert_int_equal(tcp_sock_error(h_stack(h, H_A), c), TCP_ECONNREFUSED);
    assert_int_equal(h_count(h, H_A, c, TCP_EV_ERROR), 1);
    assert_string_equal(h_last_transition(h, H_A, c)->note, "rcv RST");
    assert_int_equal(tcp_recv(h_stack(h, H_A), c, (char[4]){0}, 4), TCP_ECONNREFUSED);
    h_expect_conns(h, H_A, 1); /* the user still holds the id */
    close_and_reclaim(h, H_A, &c, 1);
    expect_empty(h);
}

static void syn_retries_run_out(harness *h, const uint64_t *times, size_t n, uint64_t dead_ns)
{
    h_drop_sent(h, H_A, TCP_SYN, 100);
    tcp_sock_id c = h_connect(h, H_A, H_B, 80, H_ANY);
    h_run(h, H_S(1000));
    assert_int_equal(h_sent_count(h, H_A), n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(h_sent(h, H_A, i)->sent_ns, times[i]);
    h_expect_trace(h, H_A, c, H_STATES(TCP_CLOSED, TCP_SYN_SENT, TCP_CLOSED));
    const h_event *t = h_last_transition(h, H_A, c);
    assert_int_equal(t->time_ns, dead_ns);
    assert_int_equal(t->cause, TCP_CAUSE_TIMER);
    assert_string_equal(t->note, "SYN retries exhausted");
    assert_int_equal(tcp_sock_error(h_stack(h, H_A), c), TCP_ETIMEDOUT);
    close_and_reclaim(h, H_A, &c, 1);
    expect_empty(h);
}

/* rfc9293: 7 retransmissions, RTO capped at 60 s: gives up at 183 s, past
 * RFC 1122 §4.2.3.5's three minutes. */
static void syn_retries_exhausted_rfc9293(void **state)
{
    static const uint64_t times[] = {0,       H_S(1),  H_S(3),  H_S(7),
                                     H_S(15), H_S(31), H_S(63), H_S(123)};
    syn_retries_run_out(*state, times, 8, H_S(183));
}

/* linux (6.5 and later): tcp_syn_retries 6 plus tcp_syn_linear_timeouts 4
 * (Documentation/networking/ip-sysctl.rst; tcp_retransmit_timer doubles
 * only once total_rto > tcp_syn_linear_timeouts): SYNs at 0, 1, 2, 3, 4,
 * 5, 7, 11, 19, 35, 67 s, ETIMEDOUT at 131 s. */
static void syn_retries_exhausted_linux(void **state)
{
    (void)state;
    static const uint64_t times[] = {0,      H_S(1),  H_S(2),  H_S(3),  H_S(4), H_S(5),
                                     H_S(7), H_S(11), H_S(19), H_S(35), H_S(67)};
    harness *h = h_new(2, h_linux_exact());
    syn_retries_run_out(h, times, 11, H_S(131));
    h_free(h);
}

static tcp_sock_id open_from(harness *h, size_t stack, uint16_t lport, size_t to, uint16_t rport,
                             uint32_t isn)
{
    tcp_stack *st = h_stack(h, stack);
    tcp_sock_id id;
    assert_int_equal(tcp_socket(st, &id), TCP_OK);
    assert_int_equal(tcp_setopt(st, id, TCP_OPT_ISN, isn), TCP_OK);
    assert_int_equal(tcp_bind(st, id, lport), TCP_OK);
    assert_int_equal(tcp_connect(st, id, h_addr(h, to), rport), TCP_OK);
    return id;
}

/*
 * RFC 9293 §3.5 Figure 8, simultaneous open:
 *  A SYN_SENT     SYN 100   ->  <-  SYN 300     B SYN_SENT
 *  A SYN_RECEIVED SYN,ACK 100/301 -> <- SYN,ACK 300/101  B SYN_RECEIVED
 *  both ESTABLISHED, and each ACKs the other's SYN,ACK, whose SYN is old
 *  (§3.10.7.4 Table 6: not acceptable, "an acknowledgment should be sent
 *  in reply"; Linux tcp_data_queue, FreeBSD tcp_do_segment TF_ACKNOW)
 */
static void simultaneous_open(void **state)
{
    harness *h = *state;
    tcp_sock_id a = open_from(h, H_A, 1000, H_B, 2000, 100);
    tcp_sock_id b = open_from(h, H_B, 2000, H_A, 1000, 300);

    h_expect_sent(h, H_A, TCP_SYN, 100, H_ANY, 0);
    h_expect_sent(h, H_B, TCP_SYN, 300, H_ANY, 0);
    h_deliver(h); /* A's SYN reaches B */
    h_deliver(h); /* B's SYN reaches A */
    h_expect_sent(h, H_B, TCP_SYN | TCP_ACK, 300, 101, 0);
    h_expect_sent(h, H_A, TCP_SYN | TCP_ACK, 100, 301, 0);
    h_deliver_all(h);
    h_expect_sent(h, H_B, TCP_ACK, 301, 101, 0);
    h_expect_sent(h, H_A, TCP_ACK, 101, 301, 0);
    h_expect_none_sent(h, H_A);
    h_expect_none_sent(h, H_B);
    const tcp_state want[] = {TCP_CLOSED, TCP_SYN_SENT, TCP_SYN_RECEIVED, TCP_ESTABLISHED};
    h_expect_trace(h, H_A, a, want, 4);
    h_expect_trace(h, H_B, b, want, 4);

    h_send(h, H_A, a, "ping");
    h_settle(h);
    h_expect_recv(h, H_B, b, "ping");
    close_and_reclaim(h, H_A, &a, 1);
    close_and_reclaim(h, H_B, &b, 1);
    h_run_for(h, H_S(600));
    expect_empty(h);
}

/*
 * RFC 9293 §3.5 Figure 9, recovery from an old duplicate SYN:
 *  A SYN_SENT   SYN 100 (delayed)
 *  (old dup)    SYN 90            ->  B: child SYN_RECEIVED
 *  A           <- SYN,ACK z 91        (ack 91 is not acceptable in SYN_SENT)
 *               RST 91            ->  child back to LISTEN (and reclaimed)
 *               SYN 100           ->  new child SYN_RECEIVED
 *  A ESTABLISHED <- SYN,ACK w 101
 *               ACK 101 w+1       ->  ESTABLISHED
 */
static void old_duplicate_syn_recovery(void **state)
{
    harness *h = *state;
    tcp_sock_id l = h_listen(h, H_B, 80, 8);
    tcp_sock_id c = h_connect(h, H_A, H_B, 80, 100);
    uint16_t lport;
    assert_int_equal(tcp_sock_endpoints(h_stack(h, H_A), c, &lport, NULL, NULL), 0);
    h_delay(h, 0, H_MS(100));

    tcp_seg old = {0};
    old.src_addr = h_addr(h, H_A);
    old.dst_addr = h_addr(h, H_B);
    old.src_port = lport;
    old.dst_port = 80;
    old.seq = 90;
    old.flags = TCP_SYN;
    old.wnd = 65535;
    h_inject(h, H_B, &old);
    h_expect_sent(h, H_B, TCP_SYN | TCP_ACK, H_ANY, 91, 0);
    tcp_sock_id bogus = h_child(h, H_B, l, 0);
    h_deliver(h); /* the SYN,ACK for 90 reaches A */
    h_expect_sent(h, H_A, TCP_SYN, 100, H_ANY, 0);
    h_expect_sent(h, H_A, TCP_RST, 91, H_ANY, 0);
    h_deliver(h); /* the RST sends the child back to LISTEN */
    h_expect_trace(h, H_B, bogus, H_STATES(TCP_LISTEN, TCP_SYN_RECEIVED, TCP_LISTEN));
    h_expect_conns(h, H_B, 1);

    h_run(h, H_MS(200));
    h_expect_sent(h, H_B, TCP_SYN | TCP_ACK, H_ANY, 101, 0);
    h_expect_sent(h, H_A, TCP_ACK, 101, H_ANY, 0);
    h_expect_trace(h, H_A, c, H_STATES(TCP_CLOSED, TCP_SYN_SENT, TCP_ESTABLISHED));
    tcp_sock_id s = h_accept(h, H_B, l);
    assert_int_not_equal(s, bogus);
    h_expect_trace(h, H_B, s, H_STATES(TCP_LISTEN, TCP_SYN_RECEIVED, TCP_ESTABLISHED));

    close_and_reclaim(h, H_A, &c, 1);
    tcp_sock_id both[] = {s, l};
    close_and_reclaim(h, H_B, both, 2);
    expect_empty(h);
}

/* Backlog 1 and nobody accepts: the second SYN is dropped silently (the
 * profile's backlog_full = DROP, as Linux); the client retransmits and gets
 * in once the first connection is accepted. */
static void backlog_full_drops_syn(void **state)
{
    harness *h = *state;
    tcp_sock_id l = h_listen(h, H_B, 80, 1);
    tcp_sock_id c1 = h_connect(h, H_A, H_B, 80, H_ANY);
    h_settle(h);
    h_sent_skip(h, H_A);
    h_sent_skip(h, H_B);
    tcp_sock_id c2 = h_connect(h, H_A, H_B, 80, 7000);
    h_settle(h);
    h_expect_sent(h, H_A, TCP_SYN, 7000, H_ANY, 0);
    h_expect_none_sent(h, H_B);
    assert_int_equal(h_count(h, H_B, l, TCP_EV_DROP), 1);
    h_expect_state(h, H_A, c2, TCP_SYN_SENT);

    tcp_sock_id s1 = h_accept(h, H_B, l);
    h_run_for(h, H_S(2));
    h_expect_state(h, H_A, c2, TCP_ESTABLISHED);
    tcp_sock_id s2 = h_accept(h, H_B, l);

    tcp_sock_id as[] = {c1, c2};
    close_and_reclaim(h, H_A, as, 2);
    tcp_sock_id bs[] = {s1, s2, l};
    close_and_reclaim(h, H_B, bs, 3);
    expect_empty(h);
}

/* RFC 9293 §3.10.1: OPEN in LISTEN turns the passive socket active
 * (the diagram's LISTEN --SEND--> SYN-SENT edge). */
static void listen_then_connect_goes_syn_sent(void **state)
{
    harness *h = *state;
    tcp_sock_id l = h_listen(h, H_B, 80, 8);
    tcp_sock_id a = h_listen(h, H_A, 90, 8);
    assert_int_equal(tcp_connect(h_stack(h, H_A), a, h_addr(h, H_B), 80), TCP_OK);
    h_settle(h);
    h_expect_trace(h, H_A, a, H_STATES(TCP_CLOSED, TCP_LISTEN, TCP_SYN_SENT, TCP_ESTABLISHED));
    tcp_sock_id s = h_accept(h, H_B, l);
    close_and_reclaim(h, H_A, &a, 1);
    tcp_sock_id bs[] = {s, l};
    close_and_reclaim(h, H_B, bs, 2);
    expect_empty(h);
}

#define T(f) cmocka_unit_test_setup_teardown(f, h_setup, h_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(normal_open),
        T(lost_syn_retransmitted_with_backoff),
        T(lost_syn_ack_retransmitted),
        T(syn_to_closed_port_refused),
        T(syn_retries_exhausted_rfc9293),
        cmocka_unit_test(syn_retries_exhausted_linux),
        T(simultaneous_open),
        T(old_duplicate_syn_recovery),
        T(backlog_full_drops_syn),
        T(listen_then_connect_goes_syn_sent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
