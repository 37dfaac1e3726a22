/*
 * cmd_swarm — `tcpsim swarm FILE.lua --seeds A..B`: random exploration.
 * Each seed draws its own link knobs and fault rates within ranges
 * (sim/explore/exp_swarm.h), the scenario runs under them with the
 * explorer's invariants, and each failure is shrunk (knobs turned off,
 * values narrowed, the faults drawn written as a schedule and shrunk by the
 * explorer's shrinker) and can be emitted as a scenario.
 *
 * Standard output is the same bytes whatever --jobs and --shard split the
 * seeds (rates and progress go to standard error). Exit status: 0 no
 * invariant failed; 1 one did; 2 bad arguments, or a run could not be made.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "exp_swarm.h"
#include "explore.h"

typedef struct sopts {
    cli_tool_args t;
    exp_ranges cli; /* ranges the command line gave */
    exp_swarm_opts so;
    double t0, last_tick; /* wall clock, for progress on stderr only */
    double tick_after;    /* seconds before the first progress line, and between lines */
} sopts;

/* ---- One run: the scenario under a seed's knobs ---- */

typedef struct srun {
    const sopts *o;
    exp_run *r;
    const exp_knobs *fixed; /* NULL: the seed draws them */
    uint64_t seed;
    exp_ranges file; /* the scenario's swarm option */
    exp_knobs knobs; /* this run's */
    bool drawn;
    uint32_t nets;
} srun;

static int sw_on_swarm(void *ctx, const char *ranges, char *err, size_t errlen)
{
    srun *u = ctx;
    if (u->nets) {
        snprintf(err, errlen, "give it to the first simulation the scenario makes");
        return -1;
    }
    exp_ranges_default(&u->file);
    return exp_ranges_parse(&u->file, ranges, err, errlen);
}

/* The ranges a run draws from: the command line's over the scenario's
 * over the defaults. */
static void effective_ranges(const srun *u, exp_ranges *r)
{
    exp_ranges_default(r);
    exp_ranges_merge(r, &u->file);
    exp_ranges_merge(r, &u->o->cli);
}

/* The knobs are drawn when the first simulation is made: by then the
 * scenario has given its ranges, if any (rule 1: a function of the seed). */
static void sw_on_net(void *ctx, net *n)
{
    srun *u = ctx;
    if (!u->drawn) {
        if (u->fixed) {
            u->knobs = *u->fixed;
        } else {
            exp_ranges r;
            effective_ranges(u, &r);
            exp_knobs_draw(&r, u->seed, &u->knobs);
        }
        exp_knobs_apply_run(&u->knobs, u->r);
        u->drawn = true;
    }
    u->nets++;
    exp_run_attach(u->r, n);
}

static void sw_on_link(void *ctx, net *n, sim_link_params *ab, sim_link_params *ba)
{
    (void)n;
    exp_knobs_apply_links(&((srun *)ctx)->knobs, ab, ba);
}

static void sw_on_invariant(void *ctx, net *n, const char *msg)
{
    srun *u = ctx;
    (void)n;
    exp_run_fail(u->r, EXP_INV_SCENARIO, "%s", msg);
}

/* Runs cfg's scenario into r (exp_run_init done by the caller) under
 * `fixed` knobs, or those cfg's seed draws; *knobs gets them, and
 * *ranges (when not NULL) the ranges the run drew from. */
static int run_cfg(const sopts *o, lsim_config cfg, const exp_knobs *fixed, exp_run *r,
                   exp_knobs *knobs, exp_ranges *ranges)
{
    char err[300];
    srun u;
    memset(&u, 0, sizeof u);
    u.o = o;
    u.r = r;
    u.fixed = fixed;
    u.seed = cfg.seed;
    exp_ranges_default(&u.file);
    cfg.on_net = sw_on_net;
    cfg.on_net_ctx = &u;
    cfg.on_link = sw_on_link;
    cfg.on_swarm = sw_on_swarm;
    cfg.on_schedule = cli_ignore_schedule;
    cfg.on_invariant = sw_on_invariant;
    int rc = cli_explore_run(cfg, NULL, r, err, sizeof err, NULL);
    if (knobs)
        *knobs = u.knobs;
    if (ranges)
        effective_ranges(&u, ranges);
    /* the ranges are usage, not an outcome ("swarm:", "swarm.loss: ...") */
    if (rc == 0 && strstr(err, "tcpsim.new: swarm")) {
        fprintf(stderr, "tcpsim: %s\n", err);
        return -1;
    }
    return rc;
}

/* The configuration of `seed` (every simulation gets it, as --seed gives it). */
static lsim_config seed_cfg(const sopts *o, uint64_t seed)
{
    lsim_config cfg = o->t.cfg;
    cfg.seed = seed;
    cfg.seed_set = true;
    return cfg;
}

static int run_seed(const sopts *o, uint64_t seed, const exp_knobs *fixed, exp_run *r,
                    exp_knobs *knobs)
{
    return run_cfg(o, seed_cfg(o, seed), fixed, r, knobs, NULL);
}

/* The ranges on stderr, once: after the shard's first seed (run by job 0
 * whatever --jobs), since the scenario gives its own only as it runs. */
static void show_ranges(uint64_t seed, const exp_ranges *ranges)
{
    fprintf(stderr,
            "swarm: ranges (the command line's over the scenario's over the defaults; as seed "
            "%llu found them):\n",
            (unsigned long long)seed);
    exp_ranges_print(ranges, stderr);
}

/* exp_swarm_fn: one seed of the range. */
static int swarm_one(void *ctx, uint64_t seed, exp_swarm_rec *rec)
{
    sopts *o = ctx;
    exp_run r;
    exp_ranges ranges;
    bool first = seed == o->so.seed_lo + o->so.shard;
    exp_run_init(&r, NULL, o->t.settle_ns);
    int rc = run_cfg(o, seed_cfg(o, seed), NULL, &r, &rec->knobs, first ? &ranges : NULL);
    if (first && rc == 0)
        show_ranges(seed, &ranges);
    rec->seed = seed;
    rec->failed = r.failed;
    rec->outcome = r.outcome;
    rec->sched = r.sched;
    rec->drawn = r.drawn;
    memcpy(rec->msg, r.msg, sizeof rec->msg);
    exp_run_free(&r);
    return rc;
}

/* ---- Options ---- */

static int susage(const char *msg, const char *arg)
{
    return cli_tool_usage("swarm", msg, arg);
}

/* --loss R, --fault-drop R, ...: one knob's range. 1 when a is one. */
static int knob_opt(sopts *o, const char *a, const char *v)
{
    int k = strncmp(a, "--", 2) == 0 ? exp_knob_find(a + 2) : -1;
    if (k < 0)
        return 0;
    char err[200];
    if (exp_ranges_set(&o->cli, (exp_knob)k, v, err, sizeof err) != 0)
        return susage(err, NULL);
    return 1;
}

/* cli_tool_opts.value: swarm's own options with a value. */
static int swarm_value(void *ctx, const char *a, const char *v)
{
    sopts *o = ctx;
    int rc = knob_opt(o, a, v);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (strcmp(a, "--seeds") == 0) {
        if (cli_parse_seeds(v, &o->so.seed_lo, &o->so.seed_hi) != 0)
            return susage("--seeds needs A..B with A <= B <= 9223372036854775807, got", v);
    } else if (strcmp(a, "--seed") == 0) {
        return susage("each run's seed comes from --seeds A..B; got --seed", v);
    } else {
        return -1;
    }
    return 0;
}

static int parse_swarm(int argc, char **argv, sopts *o)
{
    memset(o, 0, sizeof *o);
    o->so = (exp_swarm_opts){.seed_lo = 1, .seed_hi = 100};
    o->t.settle_ns = CLI_SWARM_SETTLE_NS;
    cli_tool_opts tool = {swarm_value, NULL, o};
    int rc = cli_tool_parse(argc, argv, "swarm", &o->t, &tool);
    o->so.jobs = o->t.jobs;
    o->so.shard = o->t.shard;
    o->so.nshards = o->t.nshards;
    return rc;
}

/* ---- The report ---- */

/* tcpsim run's line that replays seed under knobs (and a schedule, when
 * the fault rates are off and it has faults). */
static void replay_line(const sopts *o, uint64_t seed, const exp_knobs *k, const exp_schedule *s,
                        char *buf, size_t len)
{
    char knobs[512], sched[256] = "", settle[80] = "";
    exp_knobs_format(k, knobs, sizeof knobs);
    if (s && s->n) {
        char t[240];
        exp_schedule_format(s, t, sizeof t);
        snprintf(sched, sizeof sched, " --schedule %s", t);
    }
    if (o->t.settle)
        snprintf(settle, sizeof settle, " --settle %s", o->t.settle);
    snprintf(buf, len, "tcpsim run %s --seed %llu%s%s --swarm %s%s%s",
             o->t.cfg.file ? o->t.cfg.file : "FILE", (unsigned long long)seed,
             o->t.cfg.profile ? " --profile " : "", o->t.cfg.profile ? o->t.cfg.profile : "", knobs,
             sched, settle);
}

static bool has_rates(const exp_knobs *k)
{
    return (k->on >> EXP_KNOB_FAULT_FIRST) != 0;
}

/* ---- Shrinking a failure ---- */

/* Whether seed under knobs k (and schedule s, or none) still fails inv. */
static bool still_fails(const sopts *o, uint64_t seed, const exp_knobs *k, const exp_schedule *s,
                        exp_inv inv, uint32_t *runs)
{
    exp_run r;
    exp_run_init(&r, s, o->t.settle_ns);
    ++*runs;
    bool fails = run_seed(o, seed, k, &r, NULL) == 0 && (r.failed & (1u << inv)) &&
                 (!s || r.applied == s->n);
    exp_run_free(&r);
    return fails;
}

/* The value a knob is narrowed toward: none of the impairment (the MTU
 * of an Ethernet path, which a smaller one may not need). */
static uint64_t quiet_value(exp_knob k, uint64_t v)
{
    return k == EXP_KNOB_MTU ? (v < 1500 ? 1500 : v) : 0;
}

/* Moves knob k from its failing value toward quiet while the run still
 * fails (a bisection of at most 8 runs on two-digit values). */
static void narrow(const sopts *o, uint64_t seed, exp_knobs *cur, exp_knob k, exp_inv inv,
                   uint32_t *runs)
{
    uint64_t bad = cur->v[k], good = quiet_value(k, bad);
    for (int step = 0; step < 8 && bad != good; step++) {
        uint64_t mid = good < bad ? good + (bad - good) / 2 : bad + (good - bad) / 2;
        mid = exp_knob_round(mid, good > mid);
        if (mid == bad || mid == good)
            break;
        exp_knobs c = *cur;
        c.v[k] = mid;
        if (still_fails(o, seed, &c, NULL, inv, runs)) {
            bad = mid;
            *cur = c;
        } else {
            good = mid;
        }
    }
}

typedef struct shrink_ctx {
    const sopts *o;
    uint64_t seed;
    exp_knobs knobs;
} shrink_ctx;

/* exp_runner_fn for the explorer's shrinker: the seed under fixed knobs. */
static int shrink_runner(void *ctx, exp_run *r)
{
    const shrink_ctx *c = ctx;
    return run_seed(c->o, c->seed, &c->knobs, r, NULL);
}

/* The faults the rates drew, as a schedule with the rates off, shrunk by
 * the explorer's shrinker (exp_swarm.h rule 4). False when they do not
 * fit a schedule or the schedule does not fail the same invariant. */
static bool shrink_faults(const sopts *o, uint64_t seed, exp_knobs *cur, exp_schedule *sched,
                          exp_inv inv, uint32_t *runs)
{
    exp_run r;
    exp_run_init(&r, NULL, o->t.settle_ns);
    ++*runs;
    bool ok = run_seed(o, seed, cur, &r, NULL) == 0 && !r.overflow;
    exp_schedule drawn = r.sched;
    exp_run_free(&r);
    shrink_ctx c = {o, seed, *cur};
    c.knobs.on &= EXP_KNOB_LINK_MASK;
    if (!ok || !still_fails(o, seed, &c.knobs, &drawn, inv, runs))
        return false;
    exp_opts eo = {.run = shrink_runner, .ctx = &c, .settle_ns = o->t.settle_ns};
    *runs += exp_shrink(&eo, inv, &drawn, sched);
    *cur = c.knobs;
    return true;
}

/* Knobs turned off one at a time while the invariant still fails, the
 * rest narrowed, then the faults written as a schedule and shrunk. */
static uint32_t swarm_shrink(const sopts *o, exp_inv inv, const exp_swarm_rec *first,
                             exp_knobs *cur, exp_schedule *sched)
{
    uint32_t runs = 0;
    *cur = first->knobs;
    memset(sched, 0, sizeof *sched);
    for (int k = 0; k < EXP_KNOB_COUNT; k++) {
        if (!((cur->on >> k) & 1u))
            continue;
        exp_knobs c = *cur;
        c.on &= ~(1u << k);
        if (still_fails(o, first->seed, &c, NULL, inv, &runs))
            *cur = c;
    }
    for (int k = 0; k < EXP_KNOB_COUNT; k++)
        if ((cur->on >> k) & 1u)
            narrow(o, first->seed, cur, (exp_knob)k, inv, &runs);
    if (has_rates(cur))
        shrink_faults(o, first->seed, cur, sched, inv, &runs);
    return runs;
}

/* The link knobs as the fields of a Lua table for link:set, exactly:
 * probabilities as strings (read digit by digit), durations with units. */
static void knob_fields(const exp_knobs *k, char *buf, size_t len)
{
    exp_knobs link = *k;
    link.on &= EXP_KNOB_LINK_MASK;
    char text[512], *save = NULL;
    exp_knobs_format(&link, text, sizeof text);
    size_t at = 0;
    buf[0] = 0;
    for (char *item = strtok_r(text, ",", &save); item && link.on;
         item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        *eq = 0;
        bool bare = strcmp(item, "mtu") == 0 || strcmp(eq + 1, "0") == 0;
        int w = snprintf(buf + at, len - at, "%s%s = %s%s%s", at ? ", " : "", item,
                         bare ? "" : "\"", eq + 1, bare ? "" : "\"");
        if (w < 0 || (size_t)w >= len - at)
            return;
        at += (size_t)w;
    }
}

/* The file's path: DIR/NAME-seedN-INVARIANT.lua. */
static void emit_path(const sopts *o, uint64_t seed, exp_inv inv, char *path, size_t len)
{
    const char *base = strrchr(o->t.cfg.file, '/');
    base = base ? base + 1 : o->t.cfg.file;
    size_t blen = cli_ends_with(base, ".lua") ? strlen(base) - 4 : strlen(base);
    snprintf(path, len, "%s/%.*s-seed%llu-%s.lua", o->t.emit_dir, (int)blen, base,
             (unsigned long long)seed, exp_inv_name(inv));
}

/* Runs the written file as tcpsim run would (no seed, no knobs, no
 * schedule) and says whether it fails as the shrunk run did. */
static void check_emitted(const sopts *o, const char *path, exp_inv inv, const exp_run *want)
{
    char dirs[3][1100], opts[3400], run_line[4800];
    lsim_config cfg = o->t.cfg;
    cfg.file = path;
    cfg.seed_set = false;
    cli_lib_dirs(o->t.cfg.file, &cfg, dirs, opts, sizeof opts);
    snprintf(run_line, sizeof run_line, "tcpsim run %s%s", path, opts);
    exp_knobs none = {0};
    exp_run r;
    exp_run_init(&r, NULL, o->t.settle_ns);
    bool fails = run_cfg(o, cfg, &none, &r, NULL, NULL) == 0 && (r.failed & (1u << inv));
    bool same = fails && r.outcome == want->outcome && strcmp(r.msg, want->msg) == 0;
    printf("  emitted: %s (%s)\n", run_line,
           same    ? "fails the same way: same invariant, message and outcome"
           : fails ? "fails the same invariant, with another message or outcome"
                   : "does NOT fail it: see the file's rules");
    exp_run_free(&r);
}

/* --emit-scenario: the shrunk run written as a scenario (cmd_explore_emit.c
 * with the seed and link knobs), then run to check it. */
static void emit_group(const sopts *o, exp_inv inv, const exp_swarm_rec *first, const exp_knobs *k,
                       const exp_schedule *s, const char *replay)
{
    const char *settle = o->t.settle ? o->t.settle : "1h"; /* the file settles as swarm runs do */
    if (has_rates(k)) {
        printf("  emitted: none (the faults come from rates: more than %d were drawn, no "
               "schedule holds them)\n",
               EXP_FAULTS_MAX);
        return;
    }
    exp_run r;
    exp_run_init(&r, s, o->t.settle_ns);
    r.describe = true;
    bool again =
        run_seed(o, first->seed, k, &r, NULL) == 0 && r.applied == s->n && (r.failed & (1u << inv));
    char path[1200], from[512], fields[600], text[512], dirs[3][1100], opts[3400], line[4800];
    emit_path(o, first->seed, inv, path, sizeof path);
    exp_knobs_format(&first->knobs, from, sizeof from);
    exp_knobs_format(k, text, sizeof text);
    knob_fields(k, fields, sizeof fields);
    lsim_config cfg = o->t.cfg;
    cli_lib_dirs(o->t.cfg.file, &cfg, dirs, opts, sizeof opts);
    snprintf(line, sizeof line, "tcpsim run %s%s", path, opts);
    if (mkdir(o->t.emit_dir, 0777) != 0 && errno != EEXIST)
        fprintf(stderr, "tcpsim: cannot make %s: %s\n", o->t.emit_dir, strerror(errno));
    cli_emit e = {path,        o->t.cfg.file, exp_inv_name(inv),
                  r.msg,       from,          replay,
                  line,        settle,        &r,
                  first->seed, fields,        text};
    if (!again || cli_explore_emit(&e) != 0)
        printf("  emitted: none (%s)\n",
               again ? "the file could not be written" : "the shrunk run did not fail again");
    else
        check_emitted(o, path, inv, &r);
    exp_run_free(&r);
}

/* The first failing run of a group, shrunk (and emitted). */
static void swarm_shrink_group(const sopts *o, exp_inv inv, const exp_swarm_rec *first)
{
    exp_knobs k;
    exp_schedule s;
    char line[1024];
    uint32_t runs = swarm_shrink(o, inv, first, &k, &s);
    replay_line(o, first->seed, &k, &s, line, sizeof line);
    printf("  shrunk: %s (%u knob%s, %u fault%s in the schedule; %u runs)\n", line,
           (unsigned)exp_knobs_count(&k), exp_knobs_count(&k) == 1 ? "" : "s", (unsigned)s.n,
           s.n == 1 ? "" : "s", (unsigned)runs);
    if (o->t.emit_dir)
        emit_group(o, inv, first, &k, &s, line);
}

static void print_group(const sopts *o, const exp_swarm_report *rep, exp_inv inv, bool shrink)
{
    const exp_swarm_rec *first = NULL;
    for (uint32_t i = 0; i < rep->nfails && !first; i++)
        if (rep->fails[i].failed & (1u << inv))
            first = &rep->fails[i];
    char line[1024];
    printf("invariant %s: %llu runs fail\n", exp_inv_name(inv),
           (unsigned long long)rep->per_inv[inv]);
    replay_line(o, first->seed, &first->knobs, NULL, line, sizeof line);
    printf("  first:  %s\n          %s\n", line, first->msg);
    if (shrink && !o->t.no_shrink)
        swarm_shrink_group(o, inv, first);
}

static void print_report(const sopts *o, const exp_swarm_report *rep, bool shrink)
{
    char line[1024];
    for (int inv = 0; inv < EXP_INV_COUNT; inv++)
        if (rep->per_inv[inv])
            print_group(o, rep, (exp_inv)inv, shrink);
    for (uint32_t i = 0; i < rep->nfails && i < 20; i++) {
        replay_line(o, rep->fails[i].seed, &rep->fails[i].knobs, NULL, line, sizeof line);
        printf("FAIL %s\n     %s\n", line, rep->fails[i].msg);
    }
    if (rep->nfails > 20)
        printf("(%u more failing runs)\n", rep->nfails - 20);
    printf("outcomes (count, first seed):\n");
    for (uint32_t i = 0; i < rep->noutcomes && i < 20; i++) {
        const exp_swarm_rec *f = &rep->outcomes[i].first;
        replay_line(o, f->seed, &f->knobs, NULL, line, sizeof line);
        printf("  %8llu  %s\n", (unsigned long long)rep->outcomes[i].count, line);
    }
    if (rep->noutcomes > 20)
        printf("  (%u more outcomes)\n", rep->noutcomes - 20);
    printf("%llu runs, %u outcomes, %u invariant failures\n", (unsigned long long)rep->runs,
           rep->noutcomes, rep->nfails);
}

static int merge_reports(sopts *o)
{
    exp_swarm_report rep = {0};
    for (int i = 0; i < o->t.nmerge; i++) {
        FILE *f = fopen(o->t.merge[i], "r");
        char err[200];
        if (!f || exp_swarm_report_read(&rep, f, err, sizeof err) != 0) {
            fprintf(stderr, "tcpsim: %s: %s\n", o->t.merge[i], f ? err : strerror(errno));
            if (f)
                fclose(f);
            exp_swarm_report_free(&rep);
            return 2;
        }
        fclose(f);
    }
    exp_swarm_report_sort(&rep);
    print_report(o, &rep, false);
    int fails = rep.nfails != 0;
    exp_swarm_report_free(&rep);
    return fails;
}

/* Progress on stderr once a run has taken 3 s, then every 2 s (with
 * TCPSIM_SWARM_PROGRESS=S: after S s, then every 2S/3 s; 0 after each run). */
static void tick(void *ctx, const exp_swarm_report *rep)
{
    sopts *o = ctx;
    double now = cli_wall_seconds(), dt = now - o->t0;
    if (dt < o->tick_after || now - o->last_tick < o->tick_after * 2.0 / 3.0)
        return;
    o->last_tick = now;
    uint64_t total = exp_swarm_share(&o->so);
    double rate = (double)rep->runs / dt;
    fprintf(stderr, "swarm: %llu of %llu runs, %.0f runs/s, ETA %.0f s, %u failures so far\n",
            (unsigned long long)rep->runs, (unsigned long long)total, rate,
            rate > 0 ? (double)(total - rep->runs) / rate : 0.0, rep->nfails);
}

/* Seconds before the first progress line: 3, or TCPSIM_SWARM_PROGRESS
 * (a number of seconds >= 0; tests set 0 to see the line at once). */
static double progress_after(void)
{
    const char *v = getenv("TCPSIM_SWARM_PROGRESS");
    if (!v)
        return 3.0;
    char *end;
    double s = strtod(v, &end);
    if (end == v || *end || !(s >= 0.0)) { /* !(s >= 0): negative, or NaN */
        fprintf(stderr, "tcpsim: TCPSIM_SWARM_PROGRESS=%s is not a number of seconds: 3\n", v);
        return 3.0;
    }
    return s;
}

static int swarm_file(sopts *o)
{
    o->so.run = swarm_one;
    o->so.tick = tick;
    o->so.ctx = o;
    fprintf(stderr, "swarm %s: seeds %llu..%llu, %llu runs in this shard\n", o->t.cfg.file,
            (unsigned long long)o->so.seed_lo, (unsigned long long)o->so.seed_hi,
            (unsigned long long)exp_swarm_share(&o->so));
    o->tick_after = progress_after();
    o->t0 = o->last_tick = cli_wall_seconds();
    exp_swarm_report rep = {0};
    if (exp_swarm_run(&o->so, &rep) != 0) {
        exp_swarm_report_free(&rep);
        return 2;
    }
    double dt = cli_wall_seconds() - o->t0;
    fprintf(stderr, "swarm: %llu runs in %.2f s (%.0f runs/s)\n", (unsigned long long)rep.runs, dt,
            dt > 0 ? (double)rep.runs / dt : 0.0);
    exp_swarm_report_sort(&rep);
    int rc = 0;
    if (o->t.report_out) {
        FILE *f = fopen(o->t.report_out, "w");
        if (!f || exp_swarm_report_write(&rep, f) != 0 || fclose(f) != 0) {
            fprintf(stderr, "tcpsim: cannot write the report %s\n", o->t.report_out);
            rc = 2;
        }
    }
    print_report(o, &rep, o->so.nshards <= 1);
    if (!rc)
        rc = rep.nfails != 0;
    exp_swarm_report_free(&rep);
    return rc;
}

int cli_swarm(int argc, char **argv)
{
    cli_tool_keep_heap();
    sopts o;
    int rc = parse_swarm(argc, argv, &o);
    if (rc)
        return rc;
    return o.t.merging ? merge_reports(&o) : swarm_file(&o);
}
