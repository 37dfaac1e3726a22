/*
 * test_profiles — the built-in profiles are found by name and hold the
 * values docs/stack.md gives; a copied profile with one field changed
 * changes behaviour (backlog_full = RST); state and error names.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "harness.h"

static void profiles_are_found_by_name(void **state)
{
    (void)state;
    const char *const *names = tcp_profile_names();
    size_t n = 0;
    for (; names[n]; n++) {
        const tcp_profile *p = tcp_profile_find(names[n]);
        assert_non_null(p);
        assert_string_equal(p->name, names[n]);
        assert_true(p->rto_min_ns <= p->rto_initial_ns && p->rto_initial_ns <= p->rto_max_ns);
    }
    assert_int_equal(n, 3);
    assert_null(tcp_profile_find("windows"));
    assert_null(tcp_profile_find(NULL));
}

/* tcp_profile_check: the built-in profiles run; each RTO bound runs up to
 * TCP_RTO_LIMIT_NS (an hour) and is named, with why, one past it. */
static void profile_check_bounds_the_rto(void **state)
{
    (void)state;
    const char *const *names = tcp_profile_names();
    for (size_t n = 0; names[n]; n++)
        assert_null(tcp_profile_check(tcp_profile_find(names[n]), NULL));
    const size_t off[] = {offsetof(tcp_profile, rto_initial_ns), offsetof(tcp_profile, rto_min_ns),
                          offsetof(tcp_profile, rto_max_ns)};
    const char *const knob[] = {"rto_initial", "rto_min", "rto_max"};
    for (size_t k = 0; k < 3; k++) {
        tcp_profile p = *tcp_profile_find("linux");
        uint64_t *field = (uint64_t *)((char *)&p + off[k]);
        *field = TCP_RTO_LIMIT_NS;
        assert_null(tcp_profile_check(&p, NULL));
        *field = TCP_RTO_LIMIT_NS + 1;
        const char *why = NULL;
        assert_string_equal(tcp_profile_check(&p, &why), knob[k]);
        assert_non_null(strstr(why, "at most 1h"));
        *field = UINT64_MAX;
        assert_string_equal(tcp_profile_check(&p, NULL), knob[k]);
    }
}

/* Scalars are aligned to their size here (no field is an array or a
 * struct), so a field the list misses leaves a gap that is not padding. */
static size_t align_up(size_t at, size_t size)
{
    return (at + size - 1) / size * size;
}

/* tcp_profile_diff compares every field: the list covers tcp_profile from
 * the first field after the name to the end, in order, with only the
 * padding the compiler must put between scalars. */
static void the_field_list_covers_the_profile(void **state)
{
    (void)state;
    size_t n;
    const tcp_profile_field *f = tcp_profile_fields(&n);
    assert_true(n > 60);
    size_t at = offsetof(tcp_profile, msl_ns), largest = 1;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(f[i].off, align_up(at, f[i].size));
        at = f[i].off + f[i].size;
        if (f[i].size > largest)
            largest = f[i].size;
    }
    assert_int_equal(align_up(at, largest), sizeof(tcp_profile));
}

/* Each field, changed alone, is the difference found and named; listed
 * in skip, it is not. */
static void profile_diff_names_each_field(void **state)
{
    (void)state;
    const tcp_profile *l = tcp_profile_find("linux");
    assert_null(tcp_profile_diff(l, l, NULL));
    size_t n;
    const tcp_profile_field *f = tcp_profile_fields(&n);
    for (size_t i = 0; i < n; i++) {
        tcp_profile p = *l;
        ((unsigned char *)&p)[f[i].off] ^= 1; /* bool, enum or number: another value */
        assert_string_equal(tcp_profile_diff(&p, l, NULL), f[i].knob);
        const char *const skip[] = {"delack", f[i].knob, NULL};
        assert_null(tcp_profile_diff(&p, l, skip));
    }
    assert_string_equal(tcp_profile_diff(tcp_profile_find("bsd"), l, NULL),
                        "time_wait"); /* msl: 30 s in both */
}

static void profile_values(void **state)
{
    (void)state;
    const tcp_profile *r = tcp_profile_find("rfc9293");
    const tcp_profile *l = tcp_profile_find("linux");
    const tcp_profile *b = tcp_profile_find("bsd");
    assert_int_equal(r->msl_ns, H_S(120));
    assert_int_equal(r->time_wait_ns, 0);
    assert_int_equal(r->fin_wait_2_timeout_ns, 0);
    assert_int_equal(r->rto_min_ns, H_S(1));
    assert_true(r->rto_max_ns >= H_S(60));
    assert_int_equal(r->tw_syn, TCP_TW_SYN_CHALLENGE);
    assert_int_equal(l->time_wait_ns, H_S(60));
    assert_int_equal(l->fin_wait_2_timeout_ns, H_S(60));
    assert_int_equal(l->rto_min_ns, H_MS(200));
    assert_int_equal(l->rto_max_ns, H_S(120));
    assert_int_equal(l->syn_retries, 6);
    assert_int_equal(l->synack_retries, 5);
    assert_int_equal(l->data_retries, 15);
    assert_int_equal(l->keepalive_probes, 9);
    assert_true(l->rst_on_close_with_unread && l->rst_on_keepalive_timeout);
    assert_true(l->tw_restart_on_ack);
    assert_int_equal(l->tw_syn, TCP_TW_SYN_ACCEPT_NEWER_TS);
    assert_int_equal(l->backlog_full, TCP_BACKLOG_DROP);
    assert_int_equal(b->msl_ns, H_S(30));
    assert_int_equal(b->tw_rst, TCP_TW_RST_IGNORE);
    assert_int_equal(b->rto_min_ns, H_MS(30));
}

/* A profile is data: a copy of linux with backlog_full = RST answers the
 * refused SYN with <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>. */
static void overridden_knob_changes_behaviour(void **state)
{
    (void)state;
    tcp_profile p = *tcp_profile_find("linux");
    p.backlog_full = TCP_BACKLOG_RST;
    p.backlog_model = TCP_BACKLOG_RFC; /* backlog 1: one connection fills the queues */
    harness *h = h_new(2, &p);
    assert_int_equal(tcp_stack_profile(h_stack(h, H_B))->backlog_full, TCP_BACKLOG_RST);
    tcp_sock_id l = h_listen(h, H_B, 80, 1);
    tcp_sock_id c1 = h_connect(h, H_A, H_B, 80, H_ANY);
    h_settle(h);
    h_sent_skip(h, H_B);
    tcp_sock_id c2 = h_connect(h, H_A, H_B, 80, 3000);
    h_settle(h);
    h_expect_sent(h, H_B, TCP_RST | TCP_ACK, 0, 3001, 0);
    h_expect_state(h, H_A, c2, TCP_CLOSED);
    assert_int_equal(tcp_sock_error(h_stack(h, H_A), c2), TCP_ECONNREFUSED);
    tcp_sock_id s = h_accept(h, H_B, l);
    tcp_close(h_stack(h, H_A), c1);
    tcp_close(h_stack(h, H_A), c2);
    tcp_close(h_stack(h, H_B), s);
    tcp_close(h_stack(h, H_B), l);
    h_run_for(h, H_S(600));
    h_expect_conns(h, H_A, 0);
    h_expect_conns(h, H_B, 0);
    h_free(h);
}

static void state_and_error_names(void **state)
{
    (void)state;
    tcp_state s;
    assert_string_equal(tcp_state_name(TCP_SYN_RECEIVED), "SYN_RECEIVED");
    assert_string_equal(tcp_state_rfc_name(TCP_SYN_RECEIVED), "SYN-RECEIVED");
    assert_string_equal(tcp_state_linux_name(TCP_SYN_RECEIVED), "SYN_RECV");
    assert_int_equal(tcp_state_parse("FIN-WAIT-2", &s), 0);
    assert_int_equal(s, TCP_FIN_WAIT_2);
    assert_int_equal(tcp_state_parse("CLOSE", &s), 0);
    assert_int_equal(s, TCP_CLOSED);
    assert_int_equal(tcp_state_parse("nope", &s), -1);
    assert_string_equal(tcp_err_name(TCP_ECONNREFUSED), "ECONNREFUSED");
    assert_string_equal(tcp_err_name(0), "OK");
    assert_string_equal(tcp_timer_name(TCP_TIMER_TIME_WAIT), "TIME_WAIT");
    assert_string_equal(tcp_user_call_name(TCP_CALL_SHUTDOWN), "shutdown");
    assert_string_equal(tcp_cause_name(TCP_CAUSE_SEGMENT), "segment");
    assert_string_equal(tcp_event_name(TCP_EV_SEG_IN), "SEG_IN");
    assert_string_equal(tcp_event_name(TCP_EV_TIMER_RESTART), "TIMER_RESTART");
    assert_string_equal(tcp_user_call_name(TCP_CALL_ABORT), "abort");
    assert_string_equal(tcp_timer_name((tcp_timer_kind)(TCP_TIMER_FIN_WAIT_2 + 1)), "?");
}

/* Bad calls return errors and leave no connection behind. */
static void user_call_errors(void **state)
{
    harness *h = *state;
    tcp_stack *a = h_stack(h, H_A);
    tcp_sock_id x, y;
    assert_int_equal(tcp_socket(a, &x), TCP_OK);
    assert_int_equal(tcp_socket(a, &y), TCP_OK);
    assert_int_equal(tcp_send(a, x, "x", 1), TCP_ENOTCONN);
    assert_int_equal(tcp_recv(a, x, (char[2]){0}, 2), TCP_ENOTCONN);
    assert_int_equal(tcp_bind(a, x, 80), TCP_OK);
    assert_int_equal(tcp_bind(a, y, 80), TCP_EADDRINUSE);
    assert_int_equal(tcp_setopt(a, x, TCP_OPT_KEEPCNT, 0), TCP_EINVAL);
    assert_int_equal(tcp_connect(a, x, 0, 80), TCP_EINVAL);
    assert_int_equal(tcp_listen(a, x, 4), TCP_OK);
    assert_int_equal(tcp_accept(a, x, &y), TCP_EAGAIN);
    assert_int_equal(tcp_close(a, x), TCP_OK);
    assert_int_equal(tcp_close(a, x), TCP_EBADF);
    assert_int_equal(tcp_sock_state(a, x), TCP_CLOSED);
    assert_null(tcp_sock_stats(a, x));
    assert_int_equal(tcp_close(a, 12345), TCP_EBADF);
    tcp_sock_id z;
    assert_int_equal(tcp_socket(a, &z), TCP_OK);
    assert_true(z > y); /* ids are never reused */
    assert_int_equal(tcp_close(a, y), TCP_OK);
    assert_int_equal(tcp_close(a, z), TCP_OK);
    h_expect_conns(h, H_A, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, h_setup, h_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(profiles_are_found_by_name),
        cmocka_unit_test(profile_check_bounds_the_rto),
        cmocka_unit_test(profile_values),
        cmocka_unit_test(the_field_list_covers_the_profile),
        cmocka_unit_test(profile_diff_names_each_field),
        cmocka_unit_test(overridden_knob_changes_behaviour),
        cmocka_unit_test(state_and_error_names),
        T(user_call_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
