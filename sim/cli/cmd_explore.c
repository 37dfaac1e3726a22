/*
 * cmd_explore — `tcpsim explore FILE.lua`: runs the scenario under every
 * schedule of at most K faults (sim/explore/explore.h), checks the
 * invariants on each run, shrinks each failure and prints the report; also
 * the runner behind `tcpsim run --schedule`.
 *
 * Exit status: 0 no invariant failed; 1 an invariant failed (or the
 * fault-free run fails); 2 bad arguments, or a run could not be made.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "exp_swarm.h"
#include "explore.h"

typedef struct xopts {
    cli_tool_args t;
    exp_opts eo;
    const char *coverage;
} xopts;

/* ---- The runner: one Lua run of the scenario under a schedule ---- */

typedef struct runner {
    lsim_config cfg;
    bool keep;       /* run in one kept state (lsim_keep_*), made after the first run */
    bool keep_tried; /* lsim_keep_new was called (it may have refused) */
    lsim_keep *kept; /* the state, or NULL: a fresh state per run */
    long expect[2];  /* of the last run: checked, failed */
    char err[300];   /* the last run's script error, or "" */
} runner;

static void attach(void *ctx, net *n)
{
    exp_run_attach(ctx, n);
}

/* A scenario's own invariant (sim:invariant) failed in this run. */
static void scenario_invariant(void *ctx, net *n, const char *msg)
{
    (void)n;
    exp_run_fail(ctx, EXP_INV_SCENARIO, "%s", msg);
}

int cli_ignore_schedule(void *ctx, const char *text, uint64_t settle_ns, char *err, size_t errlen)
{
    (void)ctx, (void)text, (void)settle_ns, (void)err, (void)errlen;
    return 0;
}
#define ignore_schedule cli_ignore_schedule

/* What every explore and swarm run sets, and a kept state is made with. */
static void explore_cfg(lsim_config *cfg)
{
    cfg->no_payload = true;   /* nothing an explore run writes reads payload bytes */
    cfg->no_tcbs = true;      /* nor TCB records (only the stepper page does) */
    cfg->cache_chunks = true; /* the same files, run many times */
    cfg->quiet_expect = true; /* expectations are not invariants under faults */
    cfg->quiet_print = true;  /* the report is the output, whatever the jobs and way */
}

int cli_explore_run(lsim_config cfg, lsim_keep *kept, exp_run *r, char *err, size_t errlen,
                    long expect[2])
{
    explore_cfg(&cfg);
    lua_State *L = kept ? lsim_keep_begin(kept, r) : lsim_runtime_new(&cfg);
    if (!L) {
        fprintf(stderr, "tcpsim: out of memory\n");
        return -1;
    }
    const char *msg;
    long checked, failed;
    err[0] = 0;
    if (lsim_runtime_run(L, &msg) != 0) {
        snprintf(err, errlen, "%s", msg);
        if (strstr(msg, "limit of"))
            exp_run_fail(r, EXP_INV_LIMIT, "%s", msg);
    }
    lsim_expect_counts(L, &checked, &failed);
    if (expect) {
        expect[0] = checked;
        expect[1] = failed;
    }
    exp_run_finish(r);
    if (err[0]) /* a script error is part of the outcome, not a failure */
        r->outcome ^= 0x9e3779b97f4a7c15ull;
    if (kept)
        lsim_keep_end(kept);
    else
        lsim_runtime_free(L);
    return 0;
}

/* Runs one schedule into r. A runner that keeps its state runs the first
 * schedule (the root) in a state of its own, which compiles every file the
 * scenario loads, then makes the kept state with them preloaded; each later
 * run starts from it as made (lsim.h, lsim_keep_new rule 1). */
static int run_scenario(void *ctx, exp_run *r)
{
    runner *u = ctx;
    lsim_config cfg = u->cfg;
    cfg.on_net = attach;
    cfg.on_net_ctx = r;
    cfg.on_schedule = ignore_schedule;
    cfg.on_invariant = scenario_invariant;
    int rc = cli_explore_run(cfg, u->kept, r, u->err, sizeof u->err, u->expect);
    if (rc == 0 && !u->kept && u->keep && !u->keep_tried) {
        u->keep_tried = true;
        explore_cfg(&cfg);
        cfg.on_net_ctx = NULL;
        u->kept = lsim_keep_new(&cfg); /* NULL: fresh states, as before */
    }
    return rc;
}

/* ---- Options ---- */

static int xusage(const char *msg, const char *arg)
{
    return cli_tool_usage("explore", msg, arg);
}

static int parse_range(const char *v, uint32_t *lo, uint32_t *hi)
{
    const char *dots = strstr(v, "..");
    uint64_t a, b;
    char left[32];
    if (!dots || (size_t)(dots - v) >= sizeof left)
        return -1;
    snprintf(left, sizeof left, "%.*s", (int)(dots - v), v);
    if (cli_parse_u64(left, &a) || cli_parse_u64(dots + 2, &b) || a == 0 || b < a || b > UINT32_MAX)
        return -1;
    *lo = (uint32_t)a;
    *hi = (uint32_t)b;
    return 0;
}

/* cli_tool_opts.value: explore's own options with a value. */
static int explore_value(void *ctx, const char *a, const char *v)
{
    xopts *o = ctx;
    uint64_t n;
    if (strcmp(a, "--faults") == 0) {
        if (cli_parse_u64(v, &n) || n > EXP_FAULTS_MAX)
            return xusage("--faults must be in [0,8], got", v);
        o->eo.faults = (uint32_t)n;
    } else if (strcmp(a, "--kinds") == 0) {
        if (exp_kinds_parse(v, &o->eo.kinds) != 0)
            return xusage("--kinds takes a list of drop,dup,delay,reorder, got", v);
    } else if (strcmp(a, "--segments") == 0) {
        if (parse_range(v, &o->eo.seg_lo, &o->eo.seg_hi) != 0)
            return xusage("--segments takes A..B with 1 <= A <= B, got", v);
    } else if (strcmp(a, "--max-schedules") == 0) {
        if (cli_parse_u64(v, &o->eo.max_schedules) || !o->eo.max_schedules)
            return xusage("--max-schedules needs a positive integer, got", v);
    } else if (strcmp(a, "--seed") == 0) {
        if (cli_parse_u64(v, &o->t.cfg.seed) || o->t.cfg.seed > INT64_MAX)
            return xusage("--seed needs a non-negative integer, got", v);
        o->t.cfg.seed_set = true;
    } else if (strcmp(a, "--coverage") == 0) {
        o->coverage = v;
    } else {
        return -1;
    }
    return 0;
}

int cli_tool_usage(const char *cmd, const char *msg, const char *arg)
{
    fprintf(stderr, "tcpsim: %s%s%s%s\n(try tcpsim %s --help)\n", msg, arg ? " '" : "",
            arg ? arg : "", arg ? "'" : "", cmd);
    return 2;
}

/* The options with a value both tools take: 0 taken, -1 not one of them,
 * else the exit status (message printed). */
static int tool_value(const char *cmd, cli_tool_args *t, const char *a, const char *v)
{
    uint64_t n;
    if (strcmp(a, "--jobs") == 0) {
        if (cli_parse_u64(v, &n) || n == 0 || n > 64)
            return cli_tool_usage(cmd, "--jobs must be in [1,64], got", v);
        t->jobs = (uint32_t)n;
    } else if (strcmp(a, "--shard") == 0) {
        unsigned i, m;
        char extra;
        if (sscanf(v, "%u/%u%c", &i, &m, &extra) != 2 || i == 0 || i > m || m > 4096)
            return cli_tool_usage(cmd, "--shard takes I/N with 1 <= I <= N <= 4096, got", v);
        t->shard = i - 1;
        t->nshards = m;
    } else if (strcmp(a, "--settle") == 0) {
        char err[160];
        if (sim_duration_parse(v, &t->settle_ns, err, sizeof err) != 0)
            return cli_tool_usage(cmd, "--settle needs a duration, got", v);
        t->settle = v;
    } else if (strcmp(a, "--report-out") == 0) {
        t->report_out = v;
    } else if (strcmp(a, "--emit-scenario") == 0) {
        t->emit_dir = v;
    } else {
        return -1;
    }
    return 0;
}

/* One argument that is no option: a report to merge, or the scenario. */
static int tool_operand(const char *cmd, cli_tool_args *t, const char *a)
{
    if (t->merging) {
        if (t->nmerge == 64)
            return cli_tool_usage(cmd, "at most 64 reports to merge", NULL);
        t->merge[t->nmerge++] = a;
    } else if (!t->cfg.file) {
        t->cfg.file = a;
    } else {
        return cli_tool_usage(cmd, "one scenario file at a time; also got", a);
    }
    return 0;
}

int cli_tool_parse(int argc, char **argv, const char *cmd, cli_tool_args *t,
                   const cli_tool_opts *tool)
{
    t->jobs = 1;
    t->shard = 0;
    t->nshards = 1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int used = cli_common_opt(&t->cfg, argc, argv, i), rc = 0;
        if (used < 0)
            return 2;
        if (used) {
            i += used - 1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(cli_help(cmd), stdout);
            exit(0);
        } else if (strcmp(a, "--merge") == 0) {
            t->merging = true;
        } else if (strcmp(a, "--no-shrink") == 0) {
            t->no_shrink = true;
        } else if (tool->flag && tool->flag(tool->ctx, a)) {
            continue;
        } else if (a[0] == '-' && a[1]) {
            if (!v)
                return cli_tool_usage(cmd, "this option needs a value:", a);
            rc = tool_value(cmd, t, a, v);
            if (rc < 0)
                rc = tool->value(tool->ctx, a, v);
            if (rc < 0)
                return cli_tool_usage(cmd, "unknown option", a);
            i++;
        } else {
            rc = tool_operand(cmd, t, a);
        }
        if (rc)
            return rc;
    }
    char need[64];
    snprintf(need, sizeof need, "%s needs a scenario file", cmd);
    if (t->merging ? t->nmerge == 0 : !t->cfg.file)
        return cli_tool_usage(cmd, t->merging ? "--merge needs report files" : need, NULL);
    return 0;
}

static bool explore_flag(void *ctx, const char *a)
{
    xopts *o = ctx;
    if (strcmp(a, "--fork-tree") != 0)
        return false;
    o->eo.fork_tree = true;
    return true;
}

static int parse_explore(int argc, char **argv, xopts *o)
{
    memset(o, 0, sizeof *o);
    o->eo = (exp_opts){.faults = 1, .kinds = 3, .max_schedules = 10000000};
    o->t.settle_ns = 600ull * 1000000000ull;
    cli_tool_opts tool = {explore_value, explore_flag, o};
    int rc = cli_tool_parse(argc, argv, "explore", &o->t, &tool);
    o->eo.jobs = o->t.jobs;
    o->eo.shard = o->t.shard;
    o->eo.nshards = o->t.nshards;
    o->eo.settle_ns = o->t.settle_ns;
    return rc;
}

/* ---- The report ---- */

static void replay_line(const xopts *o, const exp_schedule *s, char *buf, size_t len)
{
    char sched[256], seed[40] = "", settle[80] = "";
    exp_schedule_format(s, sched, sizeof sched);
    if (o->t.cfg.seed_set)
        snprintf(seed, sizeof seed, " --seed %llu", (unsigned long long)o->t.cfg.seed);
    if (o->t.settle)
        snprintf(settle, sizeof settle, " --settle %s", o->t.settle);
    snprintf(buf, len, "tcpsim run %s%s%s%s --schedule %s%s",
             o->t.cfg.file ? o->t.cfg.file : "FILE", seed, o->t.cfg.profile ? " --profile " : "",
             o->t.cfg.profile ? o->t.cfg.profile : "", sched, settle);
}

/* The folders the scenario's require() searches (its own, lib/, ../lib/)
 * that exist, as -I options for a file written elsewhere; into cfg too. */
void cli_lib_dirs(const char *file, lsim_config *cfg, char dirs[3][1100], char *opts, size_t len)
{
    const char *slash = strrchr(file, '/');
    int n = slash ? (int)(slash - file) : 1;
    const char *base = slash ? file : ".";
    static const char *const SUB[3] = {"", "/lib", "/../lib"};
    size_t at = 0;
    opts[0] = 0;
    for (int i = 0; i < 3; i++) {
        snprintf(dirs[i], sizeof dirs[i], "%.*s%s", n, base, SUB[i]);
        struct stat st;
        if (stat(dirs[i], &st) != 0 || !S_ISDIR(st.st_mode))
            continue;
        if (cfg->nlib_paths < 16)
            cfg->lib_paths[cfg->nlib_paths++] = dirs[i];
        int w = snprintf(opts + at, len - at, " -I %s", dirs[i]);
        if (w > 0 && (size_t)w < len - at)
            at += (size_t)w;
    }
}

/* --emit-scenario: writes the shrunk schedule as a scenario, then runs
 * the file (no schedule) to say whether it fails inv as well. */
static void emit_group(const xopts *o, exp_inv inv, const exp_schedule *from,
                       const exp_schedule *small, const char *replay)
{
    runner u = {.cfg = o->t.cfg};
    exp_run r;
    exp_run_init(&r, small, o->eo.settle_ns);
    r.describe = true;
    bool again = run_scenario(&u, &r) == 0 && r.applied == small->n && (r.failed & (1u << inv));
    char path[1100], first[256], dirs[3][1100], opts[3400], run_line[4600];
    const char *base = strrchr(o->t.cfg.file, '/');
    base = base ? base + 1 : o->t.cfg.file;
    size_t blen = strlen(base) > 4 && strcmp(base + strlen(base) - 4, ".lua") == 0
                      ? strlen(base) - 4
                      : strlen(base);
    snprintf(path, sizeof path, "%s/%.*s-%s.lua", o->t.emit_dir, (int)blen, base,
             exp_inv_name(inv));
    runner v = {.cfg = o->t.cfg};
    v.cfg.file = path;
    cli_lib_dirs(o->t.cfg.file, &v.cfg, dirs, opts, sizeof opts);
    snprintf(run_line, sizeof run_line, "tcpsim run %s%s", path, opts);
    exp_schedule_format(from, first, sizeof first);
    if (mkdir(o->t.emit_dir, 0777) != 0 && errno != EEXIST)
        fprintf(stderr, "tcpsim: cannot make %s: %s\n", o->t.emit_dir, strerror(errno));
    cli_emit e = {path,   o->t.cfg.file, exp_inv_name(inv), r.msg, first,
                  replay, run_line,      o->t.settle,       &r,    0,
                  NULL,   NULL};
    if (!again || cli_explore_emit(&e) != 0) {
        printf("  emitted: none (%s)\n",
               again ? "the file could not be written" : "the shrunk schedule did not fail again");
        exp_run_free(&r);
        return;
    }
    uint64_t outcome = r.outcome;
    char msg[EXP_MSG_MAX];
    snprintf(msg, sizeof msg, "%s", r.msg);
    exp_run_free(&r);
    exp_run_init(&r, NULL, o->eo.settle_ns);
    bool fails = run_scenario(&v, &r) == 0 && (r.failed & (1u << inv));
    bool same = fails && r.outcome == outcome && strcmp(r.msg, msg) == 0;
    printf("  emitted: %s (%s)\n", run_line,
           same    ? "fails the same way: same invariant, message and outcome"
           : fails ? "fails the same invariant, with another message or outcome"
                   : "does NOT fail it: see the file's rules");
    exp_run_free(&r);
}

/* One group: the invariant, how many schedules broke it, the first of them
 * and, when the scenario is at hand, its shrunk form. */
static void print_group(const xopts *o, const exp_report *rep, exp_inv inv, bool shrink)
{
    const exp_fail_rec *first = NULL;
    for (uint32_t i = 0; i < rep->nfails && !first; i++)
        if (rep->fails[i].failed & (1u << inv))
            first = &rep->fails[i];
    char line[512];
    printf("invariant %s: %llu schedules fail\n", exp_inv_name(inv),
           (unsigned long long)rep->per_inv[inv]);
    replay_line(o, &first->sched, line, sizeof line);
    printf("  first:  %s\n          %s\n", line, first->msg);
    if (!shrink)
        return;
    exp_schedule small = first->sched;
    if (!o->t.no_shrink) {
        exp_shrink(&o->eo, inv, &first->sched, &small);
        replay_line(o, &small, line, sizeof line);
        printf("  shrunk: %s (%u fault%s)\n", line, (unsigned)small.n, small.n == 1 ? "" : "s");
    }
    if (o->t.emit_dir)
        emit_group(o, inv, &first->sched, &small, line);
}

static void print_report(const xopts *o, const exp_report *rep, bool shrink)
{
    char line[512];
    for (int inv = 0; inv < EXP_INV_COUNT; inv++)
        if (rep->per_inv[inv])
            print_group(o, rep, (exp_inv)inv, shrink);
    for (uint32_t i = 0; i < rep->nfails && i < 20; i++) {
        replay_line(o, &rep->fails[i].sched, line, sizeof line);
        printf("FAIL %s\n     %s\n", line, rep->fails[i].msg);
    }
    if (rep->nfails > 20)
        printf("(%u more failing schedules)\n", rep->nfails - 20);
    printf("outcomes (count, first schedule):\n");
    for (uint32_t i = 0; i < rep->noutcomes && i < 20; i++) {
        replay_line(o, &rep->outcomes[i].first, line, sizeof line);
        printf("  %8llu  %s\n", (unsigned long long)rep->outcomes[i].count, line);
    }
    if (rep->noutcomes > 20)
        printf("  (%u more outcomes)\n", rep->noutcomes - 20);
    exp_report_coverage_text(rep, stdout);
    printf("%llu schedules, %u outcomes, %u invariant failures\n",
           (unsigned long long)rep->schedules, rep->noutcomes, rep->nfails);
}

static int write_coverage(const xopts *o, const exp_report *rep)
{
    if (!o->coverage)
        return 0;
    char dot[1100];
    snprintf(dot, sizeof dot, "%s.dot", o->coverage);
    FILE *t = fopen(o->coverage, "w"), *d = fopen(dot, "w");
    if (t)
        exp_report_coverage_text(rep, t);
    if (d)
        exp_report_coverage_dot(rep, d);
    int bad = !t || !d;
    int t_err = t ? fclose(t) : 0, d_err = d ? fclose(d) : 0; /* close both */
    if (t_err || d_err || bad) {
        fprintf(stderr, "tcpsim: cannot write the coverage to %s: %s\n", o->coverage,
                strerror(errno));
        return 2;
    }
    return 0;
}

static int merge_reports(xopts *o)
{
    exp_report rep = {0};
    for (int i = 0; i < o->t.nmerge; i++) {
        FILE *f = fopen(o->t.merge[i], "r");
        char err[200];
        if (!f || exp_report_read(&rep, f, err, sizeof err) != 0) {
            fprintf(stderr, "tcpsim: %s: %s\n", o->t.merge[i], f ? err : strerror(errno));
            if (f)
                fclose(f);
            exp_report_free(&rep);
            return 2;
        }
        fclose(f);
    }
    exp_report_sort(&rep);
    print_report(o, &rep, false);
    int rc = write_coverage(o, &rep);
    int fails = rep.nfails != 0;
    exp_report_free(&rep);
    return rc ? rc : fails;
}

/* The fault-free run must pass before faults mean anything. */
static int check_root(const xopts *o, const runner *u, const exp_run *root)
{
    if (!root->failed && !u->err[0] && !u->expect[1])
        return 0;
    printf("%s fails before any fault is applied; not explored:\n", o->t.cfg.file);
    if (u->err[0])
        printf("  error: %s\n", u->err);
    if (u->expect[1])
        printf("  %ld of %ld expectations failed\n", u->expect[1], u->expect[0]);
    for (int i = 0; i < EXP_INV_COUNT; i++)
        if (root->failed & (1u << i))
            printf("  invariant %s: %s\n", exp_inv_name((exp_inv)i), root->msg);
    return 1;
}

/* Prints what the options imply and refuses above the limit. */
static int check_count(const xopts *o, const exp_run *root)
{
    uint32_t lo = o->eo.seg_lo ? o->eo.seg_lo : 1;
    uint32_t hi = o->eo.seg_hi && o->eo.seg_hi < root->npoints ? o->eo.seg_hi : root->npoints;
    uint32_t in = hi >= lo ? hi - lo + 1 : 0, nk = 0;
    for (int k = 0; k < EXP_KIND_COUNT; k++)
        nk += (o->eo.kinds >> k) & 1u;
    uint64_t est = exp_count_estimate(in, o->eo.faults, nk);
    fprintf(stderr,
            "explore %s: the fault-free run has %u decision points (%u in range); %u kinds; "
            "K=%u\n  1 fault: exactly %llu schedules\n  up to %u faults: about %llu schedules "
            "(an estimate: faults that add segments add more; the tree is found while running)\n",
            o->t.cfg.file, (unsigned)root->npoints, (unsigned)in, (unsigned)nk,
            (unsigned)o->eo.faults, (unsigned long long)in * nk, (unsigned)o->eo.faults,
            (unsigned long long)est);
    if (est <= o->eo.max_schedules)
        return 0;
    fprintf(stderr,
            "tcpsim: explore: about %llu schedules is above the limit of %llu; narrow it with "
            "--faults, --kinds or --segments A..B, or raise --max-schedules\n",
            (unsigned long long)est, (unsigned long long)o->eo.max_schedules);
    return 2;
}

/* CPU seconds (user + system) of this process and of the children it has
 * waited for (the jobs, the fork tree): for the rate shown on stderr. */
static double cpu_seconds(void)
{
    /* This process's own time from its scheduler clock: getrusage's user
     * and system split is made from ticks and kept monotonic, so over the
     * few milliseconds an exploration takes their sum can be off by more
     * than the span itself. The children are only known by getrusage. */
    struct timespec self;
    struct rusage kids;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    return (double)self.tv_sec + (double)self.tv_nsec / 1e9 + (double)kids.ru_utime.tv_sec +
           (double)kids.ru_utime.tv_usec / 1e6 + (double)kids.ru_stime.tv_sec +
           (double)kids.ru_stime.tv_usec / 1e6;
}

static int explore_runs(xopts *o, runner *u)
{
    exp_run root;
    if (exp_run_root(&o->eo, &root) != 0)
        return 2;
    exp_run_free(&root);
    int rc = check_root(o, u, &root);
    if (!rc)
        rc = check_count(o, &root);
    if (rc)
        return rc;
    double t0 = cli_wall_seconds(), c0 = cpu_seconds();
    exp_report rep = {0};
    if (exp_explore(&o->eo, &root, &rep) != 0) {
        exp_report_free(&rep);
        return 2;
    }
    double dt = cli_wall_seconds() - t0, dc = cpu_seconds() - c0;
    fprintf(stderr,
            "explore: %llu schedules in %.2f s (%.0f schedules/s); %.4f CPU-s (%.0f schedules per "
            "CPU-second)\n",
            (unsigned long long)rep.schedules, dt, dt > 0 ? (double)rep.schedules / dt : 0.0, dc,
            dc > 0 ? (double)rep.schedules / dc : 0.0);
    exp_report_sort(&rep);
    if (o->t.report_out) {
        FILE *f = fopen(o->t.report_out, "w");
        if (!f || exp_report_write(&rep, f) != 0 || fclose(f) != 0) {
            fprintf(stderr, "tcpsim: cannot write the report %s\n", o->t.report_out);
            rc = 2;
        }
    }
    print_report(o, &rep, o->eo.nshards <= 1);
    if (!rc)
        rc = write_coverage(o, &rep);
    if (!rc)
        rc = rep.nfails != 0;
    exp_report_free(&rep);
    return rc;
}

static int explore_file(xopts *o)
{
    runner u = {.cfg = o->t.cfg, .keep = true};
    o->eo.run = run_scenario;
    o->eo.ctx = &u;
    int rc = explore_runs(o, &u);
    lsim_keep_free(u.kept);
    return rc;
}

void cli_tool_keep_heap(void)
{
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
}

int cli_explore(int argc, char **argv)
{
    cli_tool_keep_heap();
    xopts o;
    int rc = parse_explore(argc, argv, &o);
    if (rc)
        return rc;
    return o.t.merging ? merge_reports(&o) : explore_file(&o);
}

/* ---- tcpsim run --schedule, and a scenario's own schedule ---- */

struct cli_sched {
    exp_run run;
    bool active;   /* a schedule applies to this run */
    bool from_cli; /* given by --schedule: the scenario's is ignored */
    bool swarm;    /* --swarm: knobs apply to this run */
    exp_knobs knobs;
    uint32_t nets; /* nets made so far */
};

static void sched_on_net(void *ctx, net *n)
{
    struct cli_sched *c = ctx;
    if (c->nets++ == 0 && c->swarm)
        exp_knobs_apply_run(&c->knobs, &c->run); /* before the first attach seeds the draws */
    if (c->active)
        exp_run_attach(&c->run, n);
}

/* --swarm: every link the scenario makes gets the knobs (exp_swarm.h rule 3). */
static void sched_on_link(void *ctx, net *n, sim_link_params *ab, sim_link_params *ba)
{
    struct cli_sched *c = ctx;
    (void)n;
    if (c->swarm)
        exp_knobs_apply_links(&c->knobs, ab, ba);
}

/* tcpsim.new{swarm = {...}}: ranges are for tcpsim swarm; a run checks
 * them and draws nothing (--swarm gives the values). */
static int sched_on_swarm(void *ctx, const char *ranges, char *err, size_t errlen)
{
    (void)ctx;
    exp_ranges r;
    exp_ranges_default(&r);
    return exp_ranges_parse(&r, ranges, err, errlen);
}

/* tcpsim.new{schedule = S, settle = D}: the first simulation carries the
 * run's schedule; the command line's --schedule wins over it. */
static int sched_on_lua(void *ctx, const char *text, uint64_t settle_ns, char *err, size_t errlen)
{
    struct cli_sched *c = ctx;
    if (c->from_cli)
        return 0;
    exp_schedule s;
    if (exp_schedule_parse(text, &s, err, errlen) != 0)
        return -1;
    if (c->active) {
        if (exp_schedule_cmp(&s, &c->run.sched) == 0)
            return 0;
        snprintf(err, errlen, "the run's schedule is set already (one schedule per run)");
        return -1;
    }
    if (c->nets) {
        snprintf(err, errlen, "give it to the first simulation the scenario makes");
        return -1;
    }
    exp_run_init(&c->run, &s, settle_ns != UINT64_MAX ? settle_ns : c->run.settle_ns);
    c->active = true;
    return 0;
}

/* tcpsim run: a scenario invariant failed; under a schedule it is one of
 * the run's invariants too (the expectation's FAIL line is printed anyway). */
static void sched_invariant(void *ctx, net *n, const char *msg)
{
    struct cli_sched *c = ctx;
    (void)n;
    if (c->active)
        exp_run_fail(&c->run, EXP_INV_SCENARIO, "%s", msg);
}

struct cli_sched *cli_schedule_begin(lsim_config *cfg, const char *text, const char *settle,
                                     const char *swarm)
{
    exp_knobs knobs;
    char kerr[200];
    if (swarm && exp_knobs_parse(swarm, &knobs, kerr, sizeof kerr) != 0) {
        fprintf(stderr, "tcpsim: --swarm: %s\n", kerr);
        return NULL;
    }
    uint64_t settle_ns = swarm ? CLI_SWARM_SETTLE_NS : 600ull * 1000000000ull;
    char derr[160];
    if (settle && sim_duration_parse(settle, &settle_ns, derr, sizeof derr) != 0) {
        fprintf(stderr, "tcpsim: --settle: %s\n", derr);
        return NULL;
    }
    exp_schedule s;
    char err[200];
    if (text && exp_schedule_parse(text, &s, err, sizeof err) != 0) {
        fprintf(stderr, "tcpsim: --schedule: %s\n", err);
        return NULL;
    }
    struct cli_sched *c = calloc(1, sizeof *c);
    if (!c) {
        fprintf(stderr, "tcpsim: out of memory\n");
        return NULL;
    }
    exp_run_init(&c->run, text ? &s : NULL, settle_ns);
    c->active = c->from_cli = text != NULL || swarm != NULL;
    c->swarm = swarm != NULL;
    if (swarm)
        c->knobs = knobs;
    cfg->on_net = sched_on_net;
    cfg->on_link = sched_on_link;
    cfg->on_swarm = sched_on_swarm;
    cfg->on_schedule = sched_on_lua;
    cfg->on_invariant = sched_invariant;
    cfg->on_net_ctx = c;
    return c;
}

int cli_schedule_end(struct cli_sched *c)
{
    exp_run *r = &c->run;
    int bad = 0;
    if (c->active) {
        exp_run_finish(r);
        char s[256];
        exp_schedule_format(&r->sched, s, sizeof s);
        if (c->swarm) {
            char k[512];
            exp_knobs_format(&c->knobs, k, sizeof k);
            printf("swarm %s: %u faults drawn%s\n", k, (unsigned)r->drawn,
                   r->overflow ? " (more than the schedule holds: not all in it)" : "");
        }
        printf("schedule %s: %u of %u faults applied over %u decision points\n", s,
               (unsigned)r->applied, (unsigned)r->sched.n, (unsigned)r->npoints);
        for (int i = 0; i < EXP_INV_COUNT; i++)
            if (r->failed & (1u << i)) {
                printf("INVARIANT %s failed: %s\n", exp_inv_name((exp_inv)i), r->msg);
                bad = 1;
            }
    }
    exp_run_free(r);
    free(c);
    return bad;
}
