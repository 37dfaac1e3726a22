/*
 * A state kept for many runs (lsim.h, lsim_keep_*): a run in it behaves
 * byte for byte as the same run in a state of its own, whatever ran before
 * it and in whatever order; what a run holds in C is released; the budgets
 * start afresh.
 *
 * The runs are those of the explorer: one scenario under different fault
 * schedules (sim/explore), each observed as the explorer sees it (the
 * outcome hash of every socket's trace, the invariants, the decision
 * points) plus the script's own view: it ends by raising an error that
 * lists what an earlier run could have left behind (globals, library
 * tables, package.loaded, a module's upvalue, math.random's stream).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "explore.h"
#include "lsim.h"

static const char MODULE[] = "local n = 0\n"
                             "return { bump = function() n = n + 1; return n end }\n";

/* Touches everything a run could leave behind, runs a connection that a
 * schedule may disturb, and reports what it saw as its error. */
static const char SCENARIO[] =
    "count = (count or 0) + 1\n"
    "string.mark = (string.mark or 0) + 1\n"
    "getmetatable('').__index.seen = (getmetatable('').__index.seen or 0) + 1\n"
    "package.loaded.leftover = (package.loaded.leftover or 0) + 1\n"
    "local bumps = require('keepmod').bump()\n"
    "local draws = {}\n"
    "for i = 1, 3 do draws[i] = math.random(1000000) end\n"
    "local junk = {}\n"
    "for i = 1, 3000 do junk[i] = { i, tostring(i) } end\n"
    "local sim = tcpsim.new { seed = 11 }\n"
    "local a, b = sim:host 'A', sim:host 'B'\n"
    "sim:link(a, b, { delay = '10ms' })\n"
    "local l = b:listen(80, { autoread = true })\n"
    "local c = a:connect(b, 80)\n"
    "sim:run_for '1s'\n"
    "c:send(3000)\n"
    "sim:run_for '1s'\n"
    "c:close()\n"
    "sim:run()\n"
    "error(string.format('count=%d mark=%d seen=%d leftover=%d bumps=%d draws=%d,%d,%d "
    "state=%s now=%d', count, string.mark, ('').seen, package.loaded.leftover, bumps, "
    "draws[1], draws[2], draws[3], c.state, sim.now), 0)\n";

typedef struct seen {
    int rc;
    char err[512];
    long checked, failed;
    uint64_t outcome;
    unsigned failed_inv;
    uint32_t npoints, applied;
    char msg[EXP_MSG_MAX];
} seen;

typedef struct fixture {
    char dir[64], file[96], mod[96];
    lsim_config cfg;
} fixture;

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void attach(void *ctx, net *n)
{
    exp_run_attach(ctx, n);
}

static void fixture_make(fixture *fx, const char *scenario)
{
    memset(fx, 0, sizeof *fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/tcpsim-keep-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->file, sizeof fx->file, "%s/main.lua", fx->dir);
    snprintf(fx->mod, sizeof fx->mod, "%s/keepmod.lua", fx->dir);
    write_file(fx->file, scenario);
    write_file(fx->mod, MODULE);
    fx->cfg.file = fx->file;
    fx->cfg.cache_chunks = true;
    fx->cfg.quiet_print = true;
    fx->cfg.on_net = attach;
}

static void fixture_free(fixture *fx)
{
    unlink(fx->file);
    unlink(fx->mod);
    rmdir(fx->dir);
}

/* One run under schedule `text`, in k (or, k NULL, in a state of its own). */
static seen run_once(const fixture *fx, lsim_keep *k, const char *text)
{
    exp_schedule s;
    char perr[100];
    assert_int_equal(exp_schedule_parse(text, &s, perr, sizeof perr), 0);
    exp_run r;
    exp_run_init(&r, &s, 600ull * 1000000000ull);
    lsim_config cfg = fx->cfg;
    cfg.on_net_ctx = &r;
    lua_State *L = k ? lsim_keep_begin(k, &r) : lsim_runtime_new(&cfg);
    assert_non_null(L);
    seen v;
    memset(&v, 0, sizeof v);
    const char *err;
    v.rc = lsim_runtime_run(L, &err);
    snprintf(v.err, sizeof v.err, "%s", err ? err : "");
    lsim_expect_counts(L, &v.checked, &v.failed);
    exp_run_finish(&r);
    if (k)
        lsim_keep_end(k);
    else
        lsim_runtime_free(L);
    v.outcome = r.outcome;
    v.failed_inv = r.failed;
    v.npoints = r.npoints;
    v.applied = r.applied;
    memcpy(v.msg, r.msg, sizeof v.msg);
    exp_run_free(&r);
    return v;
}

static void assert_same(const seen *a, const seen *b)
{
    assert_int_equal(a->rc, b->rc);
    assert_string_equal(a->err, b->err);
    assert_int_equal(a->checked, b->checked);
    assert_int_equal(a->failed, b->failed);
    assert_true(a->outcome == b->outcome);
    assert_int_equal(a->failed_inv, b->failed_inv);
    assert_int_equal(a->npoints, b->npoints);
    assert_int_equal(a->applied, b->applied);
    assert_string_equal(a->msg, b->msg);
}

static const char *const SCHEDULES[] = {"",       "1:drop",       "2:dup",         "3:drop,5:dup",
                                        "4:drop", "1:dup,2:drop", "6:drop,7:drop", "2:drop"};
#define NSCHED (sizeof SCHEDULES / sizeof SCHEDULES[0])

static void kept_runs_equal_fresh_runs_in_any_order(void **state)
{
    (void)state;
    fixture fx;
    fixture_make(&fx, SCENARIO);
    seen alone[NSCHED];
    for (size_t i = 0; i < NSCHED; i++) /* each in a state of its own */
        alone[i] = run_once(&fx, NULL, SCHEDULES[i]);
    /* what the script saw is a first run's, and a schedule changes the run */
    assert_int_equal(alone[0].rc, 2);
    assert_non_null(strstr(alone[0].err, "count=1 mark=1 seen=1 leftover=1 bumps=1 "));
    assert_true(alone[0].npoints >= 7);
    assert_true(alone[1].outcome != alone[0].outcome || alone[1].npoints != alone[0].npoints);
    lsim_keep *k = lsim_keep_new(&fx.cfg);
    assert_non_null(k);
    for (int pass = 0; pass < 3; pass++) /* in order, backwards, then each twice */
        for (size_t j = 0; j < NSCHED * (pass == 2 ? 2 : 1); j++) {
            size_t i = pass == 0 ? j : pass == 1 ? NSCHED - 1 - j : j / 2;
            seen v = run_once(&fx, k, SCHEDULES[i]);
            assert_same(&v, &alone[i]);
        }
    lsim_keep_free(k);
    fixture_free(&fx);
}

/* What a run holds in C (its simulation, a raw peer) and every Lua block
 * it allocated are released: the heap is the same after every run. */
static void kept_runs_release_what_they_hold(void **state)
{
    (void)state;
    if (!lsim_heap_exact())
        skip(); /* the heap is only sampled here (Valgrind): nothing to compare */
    fixture fx;
    fixture_make(&fx, "local sim = tcpsim.new {}\n"
                      "local a, b = sim:host 'A', sim:host 'B'\n"
                      "local peer = sim:raw_peer(a, { delay = '10ms' })\n"
                      "sim:link(a, b, { delay = '1ms' })\n"
                      "local big = {}\n"
                      "for i = 1, 20000 do big[i] = string.rep('x', i % 100) end\n"
                      "sim:run()\n");
    seen first = run_once(&fx, NULL, "");
    assert_string_equal(first.err, "");
    lsim_keep *k = lsim_keep_new(&fx.cfg);
    assert_non_null(k);
    size_t heap = 0;
    for (int i = 0; i < 5; i++) {
        seen v = run_once(&fx, k, "");
        assert_same(&v, &first);
        if (i == 0)
            heap = lsim_heap_in_use();
        assert_int_equal(lsim_heap_in_use(), heap);
    }
    lsim_keep_free(k);
    fixture_free(&fx);
}

/* The instruction budget starts afresh: each run spends more than half of
 * it (about 120,000 instructions of 200,000). */
static void kept_runs_each_get_the_whole_budget(void **state)
{
    (void)state;
    fixture fx;
    fixture_make(&fx, "local x = 0\nfor i = 1, 60000 do x = x + i end\n");
    fx.cfg.max_instructions = 200000;
    lsim_keep *k = lsim_keep_new(&fx.cfg);
    assert_non_null(k);
    for (int i = 0; i < 4; i++) {
        seen v = run_once(&fx, k, "");
        assert_int_equal(v.rc, 0);
        assert_string_equal(v.err, "");
    }
    lsim_keep_free(k);
    fx.cfg.max_instructions = 100000; /* and the budget still stops a run */
    k = lsim_keep_new(&fx.cfg);
    assert_non_null(k);
    seen v = run_once(&fx, k, "");
    assert_int_equal(v.rc, 2);
    assert_non_null(strstr(v.err, "instruction limit of 100000"));
    lsim_keep_free(k);
    fixture_free(&fx);
}

/* A large simulation's later run controls collect only after work the
 * script did through the binding (lsim_world.c, collect_setup), counted
 * the same in a kept state as in a fresh one: loading a module, which
 * compiles it in a fresh state and takes the kept image's function in a
 * kept one, is not such work. The script sees a collection through a weak
 * table, so the two would tell an explorer's run from its replay. (The
 * live table keeps the heap large enough that compiling the module does
 * not by itself bring the incremental collector round to the dropped
 * table: with a module of 8,000 statements and no live table it does, in
 * the fresh state only.) */
#define MOD_LINES 3000 /* statements to compile; running them makes nothing */
static void kept_runs_collect_where_fresh_runs_do(void **state)
{
    (void)state;
    fixture fx;
    fixture_make(&fx, "local sim = tcpsim.new { seed = 1 }\n"
                      "for i = 1, 1000 do sim:host('h' .. i) end\n"
                      "local live = {}\n"
                      "for i = 1, 30000 do live[i] = i end\n"
                      "sim:run_to '1ms'\n"
                      "local weak = setmetatable({}, { __mode = 'v' })\n"
                      "weak[1] = {}\n"
                      "local n = require('bigmod')\n"
                      "sim:run_to '2ms'\n"
                      "error(string.format('n=%d live=%d collected=%s', n, #live, "
                      "tostring(weak[1] == nil)), 0)\n");
    char mod[128];
    snprintf(mod, sizeof mod, "%s/bigmod.lua", fx.dir);
    size_t cap = MOD_LINES * 10 + 64, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    len += (size_t)snprintf(text + len, cap - len, "local x = 0\n");
    for (int i = 0; i < MOD_LINES; i++)
        len += (size_t)snprintf(text + len, cap - len, "x = x + 1\n");
    snprintf(text + len, cap - len, "return x\n");
    write_file(mod, text);
    free(text);
    seen alone = run_once(&fx, NULL, "");
    char want[64];
    snprintf(want, sizeof want, "n=%d live=30000 ", MOD_LINES);
    assert_non_null(strstr(alone.err, want));
    lsim_keep *k = lsim_keep_new(&fx.cfg);
    assert_non_null(k);
    for (int i = 0; i < 2; i++) {
        seen v = run_once(&fx, k, "");
        assert_same(&v, &alone);
    }
    lsim_keep_free(k);
    unlink(mod);
    fixture_free(&fx);
}

static void unsafe_states_are_not_kept(void **state)
{
    (void)state;
    lsim_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.file = "x.lua";
    cfg.unsafe = true; /* io.open's files would outlive the run */
    assert_null(lsim_keep_new(&cfg));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kept_runs_equal_fresh_runs_in_any_order),
        cmocka_unit_test(kept_runs_release_what_they_hold),
        cmocka_unit_test(kept_runs_each_get_the_whole_budget),
        cmocka_unit_test(kept_runs_collect_where_fresh_runs_do),
        cmocka_unit_test(unsafe_states_are_not_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
