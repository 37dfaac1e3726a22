/*
 * test_explore — sim/explore's contract (explore.h): schedules in text,
 * the tree of schedules counted exactly, the shrinker, the same report
 * whatever the jobs and shards, and a run over a real net.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "explore.h"

#define MS 1000000ull

/* ---- A model run: no net, only decision points ----
 * The run sees `base` segments, and each drop makes one more (its
 * retransmission). A fault at a point the run never reaches is not applied.
 * With `planted`, a run fails when a drop comes before a dup. */
typedef struct model {
    uint32_t base;
    bool planted;
    uint32_t runs;
    uint32_t crash; /* a dup at this point aborts the run (0: never) */
} model;

static int model_run(void *ctx, exp_run *r)
{
    model *m = ctx;
    m->runs++;
    uint32_t points = m->base;
    bool dropped = false;
    for (uint32_t p = 1; p <= points; p++) {
        int k = exp_run_point(r);
        if (k < 0)
            continue;
        r->applied++;
        if (k == EXP_DROP) {
            points++;
            dropped = true;
        } else if (k == EXP_DUP && dropped && m->planted) {
            exp_run_fail(r, EXP_INV_SCRIPT, "a dup after a drop");
        }
        if (m->crash && k == EXP_DUP && p == m->crash)
            abort(); /* a run that dies: the fork tree must say which */
    }
    r->outcome = points;
    return 0;
}

static exp_opts model_opts(model *m, uint32_t faults, unsigned kinds)
{
    return (exp_opts){.faults = faults,
                      .kinds = kinds,
                      .max_schedules = 1000000,
                      .jobs = 1,
                      .nshards = 1,
                      .run = model_run,
                      .ctx = m};
}

static uint64_t explore_count(model *m, uint32_t faults, unsigned kinds, bool rerun)
{
    exp_opts o = model_opts(m, faults, kinds);
    o.fork_tree = !rerun;
    exp_run root;
    assert_int_equal(exp_run_root(&o, &root), 0);
    exp_report rep = {0};
    assert_int_equal(exp_explore(&o, &root, &rep), 0);
    uint64_t n = rep.schedules;
    exp_report_free(&rep);
    return n;
}

static void schedules_read_and_write_their_text(void **state)
{
    (void)state;
    exp_schedule s;
    char err[200], buf[256];
    assert_int_equal(exp_schedule_parse("7:drop,12:dup,13:reorder", &s, err, sizeof err), 0);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.f[1].point, 12);
    assert_int_equal(s.f[2].kind, EXP_REORDER);
    exp_schedule_format(&s, buf, sizeof buf);
    assert_string_equal(buf, "7:drop,12:dup,13:reorder");
    assert_int_equal(exp_schedule_parse("12:drop,7:dup", &s, err, sizeof err), -1);
    assert_int_equal(exp_schedule_parse("0:drop", &s, err, sizeof err), -1);
    assert_int_equal(exp_schedule_parse("3:smash", &s, err, sizeof err), -1);
    assert_int_equal(exp_schedule_parse("x", &s, err, sizeof err), -1);
    assert_int_equal(exp_schedule_parse("-", &s, err, sizeof err), 0);
    assert_int_equal(s.n, 0);
    unsigned mask;
    assert_int_equal(exp_kinds_parse("drop,delay", &mask), 0);
    assert_int_equal(mask, (1u << EXP_DROP) | (1u << EXP_DELAY));
    assert_int_equal(exp_kinds_parse("drop,", &mask), 0);
    assert_int_equal(exp_kinds_parse("lose", &mask), -1);
}

/* Counted by hand: 3 segments, kinds drop and dup, a drop adds one.
 *  K=0: the root alone: 1.
 *  K=1: 3 points x 2 kinds = 6, so 7.
 *  K=2: below (p, drop) the run has 4 points: q in p+1..4, 2 kinds each:
 *       p=1: 6, p=2: 4, p=3: 2; below (p, dup) 3 points: p=1: 4, p=2: 2,
 *       p=3: 0. 18 more: 25.
 *  K=2 with drop only: (1,d): 3, (2,d): 2, (3,d): 1; 1 + 3 + 6 = 10. */
static void the_tree_has_exactly_the_schedules_counted_by_hand(void **state)
{
    (void)state;
    model m = {3, false, 0, 0};
    unsigned dd = (1u << EXP_DROP) | (1u << EXP_DUP);
    for (int rerun = 0; rerun < 2; rerun++) { /* the fork tree, then from scratch */
        assert_int_equal(explore_count(&m, 0, dd, rerun), 1);
        assert_int_equal(explore_count(&m, 1, dd, rerun), 7);
        assert_int_equal(explore_count(&m, 2, dd, rerun), 25);
        assert_int_equal(explore_count(&m, 2, 1u << EXP_DROP, rerun), 10);
    }
    /* the estimate ignores added segments: 1 + 3*2 + 3*4 = 19 */
    assert_int_equal(exp_count_estimate(3, 2, 2), 19);
    assert_int_equal(exp_count_estimate(1000000, 8, 4), UINT64_MAX);
}

static void the_shrinker_finds_the_minimal_schedule(void **state)
{
    (void)state;
    model m = {6, true, 0, 0};
    exp_opts o = model_opts(&m, 4, 3);
    exp_schedule in, out;
    char err[200], buf[256];
    assert_int_equal(exp_schedule_parse("1:dup,3:drop,5:dup,6:drop", &in, err, sizeof err), 0);
    uint32_t runs = exp_shrink(&o, EXP_INV_SCRIPT, &in, &out);
    exp_schedule_format(&out, buf, sizeof buf);
    /* one drop then one dup, each at the earliest point it can take */
    assert_string_equal(buf, "1:drop,2:dup");
    assert_true(runs > 0 && runs == m.runs);
}

static void write_report(const exp_report *rep, char *buf, size_t len)
{
    FILE *f = fmemopen(buf, len, "w");
    assert_non_null(f);
    assert_int_equal(exp_report_write(rep, f), 0);
    fclose(f);
}

static void report_text(model *m, uint32_t jobs, uint32_t shard, uint32_t nshards, exp_report *into,
                        bool rerun)
{
    exp_opts o = model_opts(m, 3, 15);
    o.fork_tree = !rerun;
    o.jobs = jobs;
    o.shard = shard;
    o.nshards = nshards;
    exp_run root;
    assert_int_equal(exp_run_root(&o, &root), 0);
    assert_int_equal(exp_explore(&o, &root, into), 0);
}

/* One report's text: jobs 1 or 3, or two shards of 2 jobs merged through
 * their text; the fork tree or from scratch. */
static void one_report(model *m, int way, bool rerun, char *out, size_t len)
{
    exp_report rep = {0};
    if (way < 2) {
        report_text(m, way == 0 ? 1 : 3, 0, 1, &rep, rerun);
    } else {
        for (uint32_t s = 0; s < 2; s++) {
            exp_report part = {0};
            char text[1 << 16];
            report_text(m, 2, s, 2, &part, rerun);
            exp_report_sort(&part);
            write_report(&part, text, sizeof text);
            FILE *f = fmemopen(text, strlen(text), "r");
            char err[200];
            assert_int_equal(exp_report_read(&rep, f, err, sizeof err), 0);
            fclose(f);
            exp_report_free(&part);
        }
    }
    exp_report_sort(&rep);
    write_report(&rep, out, len);
    assert_true(rep.schedules > 100 && rep.nfails > 0);
    exp_report_free(&rep);
}

static void reports_are_the_same_whatever_the_jobs_and_shards(void **state)
{
    (void)state;
    static char first[1 << 16], other[1 << 16];
    model m = {4, true, 0, 0};
    one_report(&m, 0, true, first, sizeof first);
    for (int rerun = 0; rerun < 2; rerun++)
        for (int way = 0; way < 3; way++) {
            one_report(&m, way, rerun, other, sizeof other);
            assert_string_equal(first, other);
        }
}

/* A run that dies of a signal in the fork tree: an error, and every
 * process made is gone (reaped) when exp_explore returns. */
static void a_dying_run_is_an_error_and_leaves_no_process(void **state)
{
    (void)state;
    model m = {4, false, 0, 3};
    for (uint32_t jobs = 1; jobs <= 2; jobs++) {
        exp_opts o = model_opts(&m, 2, 3);
        o.jobs = jobs;
        o.fork_tree = true;
        exp_run root;
        assert_int_equal(exp_run_root(&o, &root), 0);
        exp_report rep = {0};
        assert_int_equal(exp_explore(&o, &root, &rep), -1);
        exp_report_free(&rep);
        assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
        assert_int_equal(errno, ECHILD);
    }
}

/* ---- A real net: A connects to B, sends 3000 bytes, both close ---- */

typedef struct world_run {
    uint32_t client, peer;
} world_run;

static int net_run(void *ctx, exp_run *r)
{
    (void)ctx;
    net *n = net_new(3);
    const tcp_profile *p = tcp_profile_find("rfc9293");
    uint32_t a, b, link, server, client, peer;
    assert_int_equal(net_host_add(n, "A", 0x0a000001u, p, &a), 0);
    assert_int_equal(net_host_add(n, "B", 0x0a000002u, p, &b), 0);
    sim_link_params lp;
    sim_link_params_default(&lp);
    lp.delay_ns = 10 * MS;
    assert_int_equal(net_link_add(n, a, b, &lp, &lp, &link), 0);
    exp_run_attach(r, n);
    net_listen_opts lo = {.port = 80, .backlog = 8, .autoread = true};
    net_connect_opts co = {.raddr = 0x0a000002u, .rport = 80, .autoread = true};
    assert_int_equal(net_listen(n, b, &lo, &server), 0);
    assert_int_equal(net_connect(n, a, &co, &client), 0);
    sim_world *w = net_world(n);
    sim_world_run_until_time(w, 5000 * MS);
    if (net_accept(n, server, &peer) == 0) {
        net_send(n, client, NULL, 3000);
        net_close(n, client);
        sim_world_run_until_time(w, sim_world_now(w) + 5000 * MS);
        net_close(n, peer);
    }
    net_close(n, server);
    exp_run_finish(r);
    net_free(n);
    return 0;
}

/* A described fault names its segment as a rule made with the link sees
 * it (docs/scenarios.md: rules act in the order they were made, and the
 * first that acts takes the segment): A's SYN is point 1 and its
 * retransmission point 2. The drop rule takes the first SYN, so the
 * duplicate rule's first SYN from A is the retransmission: nth 1 both. */
static void a_described_fault_names_its_segment_as_a_rule_counts(void **state)
{
    (void)state;
    exp_schedule s = {.f = {{1, EXP_DROP}, {2, EXP_DUP}}, .n = 2};
    exp_run r;
    exp_run_init(&r, &s, 600000 * MS);
    r.describe = true;
    assert_int_equal(net_run(NULL, &r), 0);
    assert_int_equal(r.applied, 2);
    for (int i = 0; i < 2; i++) {
        const exp_fault_desc *d = &r.desc[i];
        assert_int_equal(d->net, 0);
        assert_int_equal(d->link, 0);
        assert_string_equal(d->from, "A");
        assert_string_equal(d->to, "B");
        assert_int_equal(d->flags, TCP_SYN);
        assert_int_equal(d->len, 0);
        assert_int_equal(d->nth, 1);
        assert_int_equal(d->kind, i == 0 ? EXP_DROP : EXP_DUP);
    }
    exp_run_free(&r);
    /* With no fault before it, point 2 is B's SYN,ACK: B's 1st. */
    exp_schedule t = {.f = {{2, EXP_DROP}}, .n = 1};
    exp_run_init(&r, &t, 600000 * MS);
    r.describe = true;
    assert_int_equal(net_run(NULL, &r), 0);
    assert_string_equal(r.desc[0].from, "B");
    assert_int_equal(r.desc[0].flags, TCP_SYN | TCP_ACK);
    assert_int_equal(r.desc[0].nth, 1);
    exp_run_free(&r);
}

static void a_real_run_is_deterministic_and_keeps_its_invariants(void **state)
{
    (void)state;
    exp_opts o = {.faults = 2,
                  .kinds = 15,
                  .max_schedules = 1000000,
                  .jobs = 1,
                  .nshards = 1,
                  .settle_ns = 600000 * MS,
                  .run = net_run};
    exp_run root, again;
    assert_int_equal(exp_run_root(&o, &root), 0);
    assert_int_equal(exp_run_root(&o, &again), 0);
    /* SYN, SYN-ACK, ACK; data in 1460-byte segments (3) and their ACKs;
     * FIN and ACK each way: at least 9 segments */
    assert_true(root.npoints >= 9);
    assert_int_equal(root.npoints, again.npoints);
    assert_int_equal(root.outcome, again.outcome);
    assert_int_equal(root.failed, 0);
    exp_run_free(&root);
    exp_run_free(&again);
    /* a lost SYN is sent again: at least one more decision point */
    exp_schedule s = {.f = {{1, EXP_DROP}}, .n = 1};
    exp_run r;
    exp_run_init(&r, &s, o.settle_ns);
    assert_int_equal(net_run(NULL, &r), 0);
    assert_int_equal(r.applied, 1);
    assert_true(r.npoints >= again.npoints + 1);
    assert_int_equal(r.failed, 0);
    exp_run_free(&r);
    exp_report rep = {0};
    assert_int_equal(exp_explore(&o, &again, &rep), 0);
    assert_true(rep.schedules > again.npoints * 4);
    for (uint32_t i = 0; i < rep.nfails; i++)
        print_message("fail: %s\n", rep.fails[i].msg);
    assert_int_equal(rep.nfails, 0);
    exp_report_free(&rep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(schedules_read_and_write_their_text),
        cmocka_unit_test(the_tree_has_exactly_the_schedules_counted_by_hand),
        cmocka_unit_test(the_shrinker_finds_the_minimal_schedule),
        cmocka_unit_test(reports_are_the_same_whatever_the_jobs_and_shards),
        cmocka_unit_test(a_dying_run_is_an_error_and_leaves_no_process),
        cmocka_unit_test(a_real_run_is_deterministic_and_keeps_its_invariants),
        cmocka_unit_test(a_described_fault_names_its_segment_as_a_rule_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
