/*
 * exp_swarm — a swarm run over a seed range (exp_swarm.h): the seeds of a
 * shard dealt to jobs (forked processes, each sending one record per seed
 * over one pipe), the report they make, kept in seed order, and its text
 * form for shards and --merge.
 *
 * What it promises: the report holds the same records whatever the jobs
 * and shards (a seed's run depends on the seed only), sorted by seed; a
 * record crosses the pipe in one write of under PIPE_BUF bytes, so records
 * of several jobs never interleave.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exp_int.h"
#include "exp_swarm.h"

#define SWARM_MAGIC "tcpsim-swarm-report 1"

_Static_assert(sizeof(exp_swarm_rec) <= PIPE_BUF, "a record must cross the pipe in one write");

void exp_swarm_report_free(exp_swarm_report *rep)
{
    free(rep->fails);
    free(rep->outcomes);
    memset(rep, 0, sizeof *rep);
}

/* Counts `count` more runs ending as `hash`; keeps the lowest seed. */
static void add_outcome(exp_swarm_report *rep, uint64_t hash, uint64_t count,
                        const exp_swarm_rec *rec)
{
    for (uint32_t i = rep->noutcomes; i-- > 0;) {
        exp_swarm_outcome *o = &rep->outcomes[i];
        if (o->hash == hash) {
            o->count += count;
            if (rec->seed < o->first.seed)
                o->first = *rec;
            return;
        }
    }
    rep->outcomes =
        exp_grow(rep->outcomes, &rep->capoutcomes, rep->noutcomes + 1, sizeof *rep->outcomes);
    exp_swarm_outcome *o = &rep->outcomes[rep->noutcomes++];
    o->hash = hash;
    o->count = count;
    o->first = *rec;
}

static void add_fail(exp_swarm_report *rep, const exp_swarm_rec *rec)
{
    rep->fails = exp_grow(rep->fails, &rep->capfails, rep->nfails + 1, sizeof *rep->fails);
    rep->fails[rep->nfails++] = *rec;
    for (int i = 0; i < EXP_INV_COUNT; i++)
        if (rec->failed & (1u << i))
            rep->per_inv[i]++;
}

void exp_swarm_report_add(exp_swarm_report *rep, const exp_swarm_rec *rec)
{
    rep->runs++;
    if (rec->failed)
        add_fail(rep, rec);
    add_outcome(rep, rec->outcome, 1, rec);
}

static int seed_cmp(uint64_t a, uint64_t b)
{
    return a < b ? -1 : a > b;
}

static int fail_cmp(const void *a, const void *b)
{
    return seed_cmp(((const exp_swarm_rec *)a)->seed, ((const exp_swarm_rec *)b)->seed);
}

static int outcome_cmp(const void *a, const void *b)
{
    return seed_cmp(((const exp_swarm_outcome *)a)->first.seed,
                    ((const exp_swarm_outcome *)b)->first.seed);
}

void exp_swarm_report_sort(exp_swarm_report *rep)
{
    if (rep->nfails)
        qsort(rep->fails, rep->nfails, sizeof *rep->fails, fail_cmp);
    if (rep->noutcomes)
        qsort(rep->outcomes, rep->noutcomes, sizeof *rep->outcomes, outcome_cmp);
}

/* ---- The partial report's text ---- */

/* "SEED MASK DRAWN KNOBS SCHEDULE": what a replay line needs. */
static void put_rec(FILE *f, const exp_swarm_rec *r)
{
    char knobs[512], sched[256];
    exp_knobs_format(&r->knobs, knobs, sizeof knobs);
    exp_schedule_format(&r->sched, sched, sizeof sched);
    fprintf(f, "%" PRIu64 " %u %u %s %s", r->seed, r->failed, (unsigned)r->drawn, knobs, sched);
}

int exp_swarm_report_write(const exp_swarm_report *rep, FILE *f)
{
    fprintf(f, SWARM_MAGIC "\nruns %" PRIu64 "\n", rep->runs);
    for (uint32_t i = 0; i < rep->nfails; i++) {
        fprintf(f, "fail ");
        put_rec(f, &rep->fails[i]);
        fprintf(f, " %s\n", rep->fails[i].msg);
    }
    for (uint32_t i = 0; i < rep->noutcomes; i++) {
        fprintf(f, "outcome %016" PRIx64 " %" PRIu64 " ", rep->outcomes[i].hash,
                rep->outcomes[i].count);
        put_rec(f, &rep->outcomes[i].first);
        fprintf(f, "\n");
    }
    fprintf(f, "end\n");
    return ferror(f) ? -1 : 0;
}

/* Reads put_rec's fields from text; returns the bytes used, or -1. */
static int get_rec(const char *text, exp_swarm_rec *r, char *err, size_t errlen)
{
    char knobs[512], sched[256];
    unsigned failed, drawn;
    int used = 0;
    memset(r, 0, sizeof *r);
    if (sscanf(text, "%" SCNu64 " %u %u %511s %255s%n", &r->seed, &failed, &drawn, knobs, sched,
               &used) != 5 ||
        exp_knobs_parse(knobs, &r->knobs, err, errlen) != 0 ||
        exp_schedule_parse(sched, &r->sched, err, errlen) != 0)
        return -1;
    r->failed = failed;
    r->drawn = drawn;
    return used;
}

static int read_line(void *ctx, char *line, char *err, size_t errlen)
{
    exp_swarm_report *rep = ctx;
    uint64_t n, h;
    int used = 0;
    exp_swarm_rec r;
    line[strcspn(line, "\n")] = 0;
    if (strcmp(line, "end") == 0)
        return 1;
    if (sscanf(line, "runs %" SCNu64, &n) == 1) {
        rep->runs += n;
    } else if (strncmp(line, "fail ", 5) == 0 && (used = get_rec(line + 5, &r, err, errlen)) > 0) {
        const char *msg = line + 5 + used;
        snprintf(r.msg, sizeof r.msg, "%s", *msg == ' ' ? msg + 1 : msg);
        add_fail(rep, &r);
    } else if (sscanf(line, "outcome %" SCNx64 " %" SCNu64 " %n", &h, &n, &used) == 2 && used &&
               get_rec(line + used, &r, err, errlen) > 0) {
        add_outcome(rep, h, n, &r);
    } else {
        snprintf(err, errlen, "not a swarm report line: '%.60s'", line);
        return -1;
    }
    return 0;
}

int exp_swarm_report_read(exp_swarm_report *rep, FILE *f, char *err, size_t errlen)
{
    return exp_read_lines(f, SWARM_MAGIC, "a swarm", read_line, rep, err, errlen);
}

/* ---- Running the seeds ---- */

uint64_t exp_swarm_share(const exp_swarm_opts *o)
{
    uint64_t total = o->seed_hi - o->seed_lo + 1, shards = o->nshards ? o->nshards : 1;
    return total / shards + (o->shard < total % shards ? 1 : 0);
}

/* Runs the seeds of job `job` of `jobs` in this shard; each record goes to
 * `put` (the report, or the pipe). */
static int run_part(const exp_swarm_opts *o, uint32_t job, uint32_t jobs,
                    int (*put)(void *ctx, const exp_swarm_rec *rec), void *ctx)
{
    uint64_t shards = o->nshards ? o->nshards : 1, nth = 0;
    for (uint64_t i = o->shard; i <= o->seed_hi - o->seed_lo; i += shards, nth++) {
        if (nth % jobs != job)
            continue;
        exp_swarm_rec rec;
        memset(&rec, 0, sizeof rec);
        if (o->run(o->ctx, o->seed_lo + i, &rec) != 0 || put(ctx, &rec) != 0)
            return -1;
    } /* no wrap: seeds are at most INT64_MAX, shards at most 4096 */
    return 0;
}

struct local {
    const exp_swarm_opts *o;
    exp_swarm_report *rep;
};

static int put_local(void *ctx, const exp_swarm_rec *rec)
{
    struct local *l = ctx;
    exp_swarm_report_add(l->rep, rec);
    if (l->o->tick)
        l->o->tick(l->o->ctx, l->rep);
    return 0;
}

static int put_pipe(void *ctx, const exp_swarm_rec *rec)
{
    return exp_write_record(*(int *)ctx, rec, sizeof *rec);
}

struct swarm_jobs {
    struct local l;
    uint32_t n;
    exp_swarm_rec rec; /* the one being read */
};

static int put_any(void *ctx, const void *rec)
{
    return put_local(&((struct swarm_jobs *)ctx)->l, rec);
}

/* Job `job` of exp_swarm_run: its exit status. */
static int run_job(void *ctx, uint32_t job, int fd)
{
    const struct swarm_jobs *j = ctx;
    return run_part(j->l.o, job, j->n, put_pipe, &fd) != 0 ? 1 : 0;
}

int exp_swarm_run(const exp_swarm_opts *o, exp_swarm_report *rep)
{
    uint32_t jobs = o->jobs ? (o->jobs > EXP_JOBS_MAX ? EXP_JOBS_MAX : o->jobs) : 1;
    struct swarm_jobs sj = {{o, rep}, jobs, {0}};
    if (jobs == 1)
        return run_part(o, 0, 1, put_local, &sj.l);
    exp_jobs j = {.who = "swarm",
                  .n = jobs,
                  .job = run_job,
                  .take = put_any,
                  .ctx = &sj,
                  .rec = &sj.rec,
                  .size = sizeof sj.rec};
    return exp_jobs_run(&j);
}
