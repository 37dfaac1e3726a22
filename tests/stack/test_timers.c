/*
 * test_timers — keepalive (RFC 1122 §4.2.3.6) given up and answered, the
 * SYN,ACK retries of a listener's child, and the deadline the stack
 * exposes (earliest timer, no periodic ticks).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "harness.h"

static void set_keepalive(harness *h, size_t stack, tcp_sock_id id)
{
    tcp_stack *s = h_stack(h, stack);
    assert_int_equal(tcp_setopt(s, id, TCP_OPT_KEEPIDLE_NS, H_S(10)), TCP_OK);
    assert_int_equal(tcp_setopt(s, id, TCP_OPT_KEEPINTVL_NS, H_S(2)), TCP_OK);
    assert_int_equal(tcp_setopt(s, id, TCP_OPT_KEEPCNT, 3), TCP_OK);
    assert_int_equal(tcp_setopt(s, id, TCP_OPT_KEEPALIVE, 1), TCP_OK);
}

/* linux: idle 10 s, interval 2 s, 3 probes, the peer gone silent: probes at
 * 10, 12, 14 s, then RST,ACK and ETIMEDOUT at 16 s. */
static void keepalive_gives_up_with_rst_linux(void **state)
{
    (void)state;
    harness *h = h_new(2, h_linux_exact());
    h_pair p = h_establish(h, H_A, H_B, 80);
    uint64_t t0 = h_now(h);
    set_keepalive(h, H_A, p.client);
    h_drop_sent(h, H_B, H_ANY, 100);
    h_run(h, t0 + H_S(30));
    const tcp_seg *probe = h_expect_sent(h, H_A, TCP_ACK, H_ANY, H_ANY, 0);
    assert_int_equal(probe->seq, h_template(h, H_B, p.server).seq - 1u);
    h_expect_sent(h, H_A, TCP_ACK, H_ANY, H_ANY, 0);
    h_expect_sent(h, H_A, TCP_ACK, H_ANY, H_ANY, 0);
    h_expect_sent(h, H_A, TCP_RST | TCP_ACK, H_ANY, H_ANY, 0); /* tcp_send_active_reset */
    assert_int_equal(h_sent(h, H_A, h_sent_count(h, H_A) - 4)->sent_ns, t0 + H_S(10));
    assert_int_equal(h_sent(h, H_A, h_sent_count(h, H_A) - 1)->sent_ns, t0 + H_S(16));
    h_expect_state(h, H_A, p.client, TCP_CLOSED);
    assert_int_equal(tcp_sock_error(h_stack(h, H_A), p.client), TCP_ETIMEDOUT);
    assert_string_equal(h_last_transition(h, H_A, p.client)->note, "keepalive timeout");
    assert_int_equal(tcp_sock_stats(h_stack(h, H_A), p.client)->keepalive_probes, 3);
    h_finish(h);
    h_free(h);
}

/* An answered probe keeps an idle connection open for hours. */
static void keepalive_answered_keeps_connection(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    set_keepalive(h, H_A, p.client);
    h_run_for(h, H_S(3600));
    h_expect_state(h, H_A, p.client, TCP_ESTABLISHED);
    const tcp_stats *st = tcp_sock_stats(h_stack(h, H_A), p.client);
    assert_true(st->keepalive_probes >= 300);
    h_finish(h);
}

/* linux: tcp_synack_retries 5: SYN,ACKs at 0, 1, 3, 7, 15, 31 s, and the
 * child is dropped at 63 s; the listener stays. */
static void synack_retries_drop_the_child_linux(void **state)
{
    (void)state;
    harness *h = h_new(2, h_linux_exact());
    tcp_sock_id l = h_listen(h, H_B, 80, 8);
    h_drop_sent(h, H_B, TCP_SYN | TCP_ACK, 100);
    tcp_sock_id c = h_connect(h, H_A, H_B, 80, H_ANY);
    h_drop_sent(h, H_A, TCP_SYN, 100);
    h_run(h, H_S(100));
    tcp_sock_id child = h_child(h, H_B, l, 0);
    assert_int_equal(h_sent_count(h, H_B), 6);
    assert_int_equal(h_sent(h, H_B, 5)->sent_ns, H_S(31));
    const h_event *t = h_last_transition(h, H_B, child);
    assert_int_equal(t->to, TCP_CLOSED);
    assert_int_equal(t->time_ns, H_S(63));
    h_expect_conns(h, H_B, 1);
    h_expect_state(h, H_B, l, TCP_LISTEN);
    tcp_close(h_stack(h, H_A), c);
    h_finish(h);
    h_free(h);
}

/* No periodic ticks: an idle established connection arms nothing. */
static void idle_connection_arms_no_timer(void **state)
{
    harness *h = *state;
    h_pair p = h_establish(h, H_A, H_B, 80);
    assert_int_equal(tcp_stack_next_deadline(h_stack(h, H_A)), UINT64_MAX);
    assert_int_equal(tcp_stack_next_deadline(h_stack(h, H_B)), UINT64_MAX);
    h_send(h, H_A, p.client, "x");
    assert_int_equal(tcp_stack_next_deadline(h_stack(h, H_A)), h_now(h) + H_S(1));
    h_settle(h);
    h_finish(h);
    assert_int_equal(tcp_stack_next_deadline(h_stack(h, H_A)), UINT64_MAX);
}

/* Connection state stays compact: at most 1 KiB without data buffers. */
static void connection_state_is_compact(void **state)
{
    (void)state;
    assert_true(tcp_conn_size() <= 1024);
}

#define T(f) cmocka_unit_test_setup_teardown(f, h_setup, h_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keepalive_gives_up_with_rst_linux),
        T(keepalive_answered_keeps_connection),
        cmocka_unit_test(synack_retries_drop_the_child_linux),
        T(idle_connection_arms_no_timer),
        cmocka_unit_test(connection_state_is_compact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
