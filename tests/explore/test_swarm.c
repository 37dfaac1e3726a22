/*
 * test_swarm — the knobs of a swarm run (exp_swarm.h): the same seed draws
 * the same knobs, within the ranges, independent of other knobs' ranges;
 * default knobs are left off for some seeds, given ones never; ranges and
 * knobs read from text (and refused with a message); the text form reads
 * back exactly; the report's text form reads back to the same report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "exp_swarm.h"

static void same_seed_same_knobs(void **state)
{
    (void)state;
    exp_ranges r;
    exp_ranges_default(&r);
    for (uint64_t seed = 0; seed < 200; seed++) {
        exp_knobs a, b;
        exp_knobs_draw(&r, seed, &a);
        exp_knobs_draw(&r, seed, &b);
        assert_memory_equal(&a, &b, sizeof a);
    }
    exp_knobs s1, s2;
    exp_knobs_draw(&r, 1, &s1);
    exp_knobs_draw(&r, 2, &s2);
    assert_true(memcmp(&s1, &s2, sizeof s1) != 0);
}

static void knobs_within_ranges(void **state)
{
    (void)state;
    exp_ranges r;
    exp_ranges_default(&r);
    char err[200];
    assert_int_equal(
        exp_ranges_parse(&r, "loss=0.1..0.2,delay=5ms..7ms,mtu=1000..1100", err, sizeof err), 0);
    uint32_t on[EXP_KNOB_COUNT] = {0};
    for (uint64_t seed = 1; seed <= 1000; seed++) {
        exp_knobs k;
        exp_knobs_draw(&r, seed, &k);
        for (int i = 0; i < EXP_KNOB_COUNT; i++) {
            if (!((k.on >> i) & 1u))
                continue;
            on[i]++;
            assert_in_range(k.v[i], r.lo[i], r.hi[i]);
        }
    }
    /* given: every seed; default: some seeds, not all (about half) */
    assert_int_equal(on[EXP_KNOB_LOSS], 1000);
    assert_int_equal(on[EXP_KNOB_DELAY], 1000);
    assert_int_equal(on[EXP_KNOB_MTU], 1000);
    assert_in_range(on[EXP_KNOB_JITTER], 400, 600);
    assert_in_range(on[EXP_KNOB_FAULT_DROP], 400, 600);
}

/* A knob's range moves no other knob's value (its own stream). */
static void knobs_independent(void **state)
{
    (void)state;
    exp_ranges a, b;
    exp_ranges_default(&a);
    exp_ranges_default(&b);
    char err[200];
    assert_int_equal(exp_ranges_set(&b, EXP_KNOB_LOSS, "off", err, sizeof err), 0);
    assert_int_equal(exp_ranges_set(&b, EXP_KNOB_JITTER, "1ms..2ms", err, sizeof err), 0);
    for (uint64_t seed = 1; seed <= 100; seed++) {
        exp_knobs x, y;
        exp_knobs_draw(&a, seed, &x);
        exp_knobs_draw(&b, seed, &y);
        assert_false((y.on >> EXP_KNOB_LOSS) & 1u);
        for (int k = 0; k < EXP_KNOB_COUNT; k++) {
            if (k == EXP_KNOB_LOSS || k == EXP_KNOB_JITTER)
                continue;
            assert_int_equal((x.on >> k) & 1u, (y.on >> k) & 1u);
            assert_int_equal(x.v[k], y.v[k]);
        }
    }
}

static void range_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *msg;
    } BAD[] = {
        {"loss=0..1.5", "loss must be in [0,1], got 1.5"},
        {"loss=-0.1", "loss must be in [0,1]"},
        {"loss=0.2..0.1", "loss: the range '0.2..0.1' ends below its start"},
        {"delay=5", "delay: "},
        {"delay=0..11min", "delay must be at most 10min"},
        {"mtu=67", "mtu must be bytes in [68,65535], got '67'"},
        {"mtu=1500x", "mtu must be bytes"},
        {"wobble=0..1", "unknown knob 'wobble'"},
        {"loss", "'loss' is not NAME=RANGE"},
        {"loss=", "loss: '' is not a value"},
        {"loss=0..", "loss: '' is not a value"},
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        exp_ranges r;
        exp_ranges_default(&r);
        char err[200] = "";
        assert_int_equal(exp_ranges_parse(&r, BAD[i].text, err, sizeof err), -1);
        if (!strstr(err, BAD[i].msg))
            fail_msg("'%s': got '%s', wanted '%s'", BAD[i].text, err, BAD[i].msg);
    }
    exp_knobs k;
    char err[200];
    assert_int_equal(exp_knobs_parse("loss=0..0.1", &k, err, sizeof err), -1);
    assert_non_null(strstr(err, "one value"));
}

static void knobs_text_round_trip(void **state)
{
    (void)state;
    exp_ranges r;
    exp_ranges_default(&r);
    for (uint64_t seed = 1; seed <= 300; seed++) {
        exp_knobs k, back;
        char text[512], err[200];
        exp_knobs_draw(&r, seed, &k);
        exp_knobs_format(&k, text, sizeof text);
        assert_int_equal(exp_knobs_parse(text, &back, err, sizeof err), 0);
        assert_int_equal(back.on, k.on);
        for (int i = 0; i < EXP_KNOB_COUNT; i++)
            if ((k.on >> i) & 1u)
                assert_int_equal(back.v[i], k.v[i]);
    }
    exp_knobs k;
    char text[512], err[200];
    assert_int_equal(
        exp_knobs_parse("loss=0.000000001,delay=1.5ms,mtu=576,fault_dup=1", &k, err, sizeof err),
        0);
    exp_knobs_format(&k, text, sizeof text);
    assert_string_equal(text, "loss=0.000000001,delay=1.5ms,mtu=576,fault_dup=1");
    assert_int_equal(exp_knobs_parse("-", &k, err, sizeof err), 0);
    assert_int_equal(k.on, 0);
}

static void link_knobs_applied(void **state)
{
    (void)state;
    exp_knobs k;
    char err[200];
    assert_int_equal(exp_knobs_parse("reorder=0.1,delay=20ms,mtu=1000", &k, err, sizeof err), 0);
    sim_link_params p;
    sim_link_params_default(&p);
    p.loss_ppb = 5; /* a knob that is off leaves the scenario's value */
    exp_knobs_apply_link(&k, &p);
    assert_int_equal(p.loss_ppb, 5);
    assert_int_equal(p.reorder_ppb, 100000000);
    assert_int_equal(p.delay_ns, 20000000);
    assert_int_equal(p.reorder_delay_ns, 20000000); /* as sim:link gives it */
    assert_int_equal(p.mtu, 1000);
    assert_int_equal(sim_link_params_check(&p, err, sizeof err), 0);
}

static void report_text_round_trip(void **state)
{
    (void)state;
    exp_ranges r;
    exp_ranges_default(&r);
    exp_swarm_report rep = {0}, back = {0};
    for (uint64_t seed = 10; seed > 0; seed--) {
        exp_swarm_rec rec;
        memset(&rec, 0, sizeof rec);
        rec.seed = seed;
        exp_knobs_draw(&r, seed, &rec.knobs);
        rec.outcome = seed % 3;
        rec.failed = seed % 4 == 0 ? 1u << EXP_INV_SCENARIO : 0;
        snprintf(rec.msg, sizeof rec.msg, "seed %u failed", (unsigned)seed);
        exp_swarm_report_add(&rep, &rec);
    }
    exp_swarm_report_sort(&rep);
    assert_int_equal(rep.runs, 10);
    assert_int_equal(rep.nfails, 2);
    assert_int_equal(rep.fails[0].seed, 4);
    assert_int_equal(rep.noutcomes, 3);
    assert_int_equal(rep.outcomes[0].first.seed, 1);
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(exp_swarm_report_write(&rep, f), 0);
    rewind(f);
    char err[200];
    assert_int_equal(exp_swarm_report_read(&back, f, err, sizeof err), 0);
    fclose(f);
    exp_swarm_report_sort(&back);
    assert_int_equal(back.runs, rep.runs);
    assert_int_equal(back.nfails, rep.nfails);
    for (uint32_t i = 0; i < rep.nfails; i++) {
        assert_int_equal(back.fails[i].seed, rep.fails[i].seed);
        assert_int_equal(back.fails[i].knobs.on, rep.fails[i].knobs.on);
        assert_string_equal(back.fails[i].msg, rep.fails[i].msg);
    }
    assert_int_equal(back.noutcomes, rep.noutcomes);
    exp_swarm_report_free(&rep);
    exp_swarm_report_free(&back);
}

/* A run that makes each seed its own outcome, so the report lists the
 * seeds it was given. */
static int seed_as_outcome(void *ctx, uint64_t seed, exp_swarm_rec *rec)
{
    (void)ctx;
    memset(rec, 0, sizeof *rec);
    rec->seed = seed;
    rec->outcome = seed * 0x9e3779b97f4a7c15ull + 1;
    return 0;
}

/* The seeds of shards and jobs: every seed once, in one job or two. */
static void shares_cover_the_range(void **state)
{
    (void)state;
    for (uint32_t jobs = 1; jobs <= 2; jobs++) {
        unsigned seen[16] = {0};
        uint64_t total = 0;
        exp_swarm_opts o = {
            .seed_lo = 3, .seed_hi = 12, .nshards = 3, .jobs = jobs, .run = seed_as_outcome};
        for (o.shard = 0; o.shard < 3; o.shard++) {
            exp_swarm_report rep = {0};
            assert_int_equal(exp_swarm_run(&o, &rep), 0);
            assert_int_equal(rep.runs, exp_swarm_share(&o));
            assert_int_equal(rep.noutcomes, rep.runs);
            for (uint32_t i = 0; i < rep.noutcomes; i++) {
                uint64_t seed = rep.outcomes[i].first.seed;
                assert_true(seed >= 3 && seed <= 12);
                assert_int_equal((seed - 3) % 3, o.shard); /* i-th seed to shard i mod 3 */
                seen[seed]++;
            }
            total += rep.runs;
            exp_swarm_report_free(&rep);
        }
        assert_int_equal(total, 10);
        for (uint64_t seed = 3; seed <= 12; seed++)
            assert_int_equal(seen[seed], 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_seed_same_knobs),   cmocka_unit_test(knobs_within_ranges),
        cmocka_unit_test(knobs_independent),      cmocka_unit_test(range_errors),
        cmocka_unit_test(knobs_text_round_trip),  cmocka_unit_test(link_knobs_applied),
        cmocka_unit_test(report_text_round_trip), cmocka_unit_test(shares_cover_the_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
