/*
 * exp_fork — the fork tree (explore.h rule 5): the common prefix of every
 * subtree of schedules runs once. A job process runs the fault-free run;
 * at each decision point where a schedule of its share adds a fault, it
 * forks one child per kind and waits for it; the child appends the fault
 * to its schedule, applies it and runs on (forking in turn), and when its
 * run is over sends its result and exits.
 *
 * What it promises: the same schedules as the walk from scratch, so the
 * same report; every result travels as one write of at most PIPE_BUF bytes
 * to one pipe (atomic, whatever the writers); a process has at most one
 * child alive and dies with its parent (Linux: PR_SET_PDEATHSIG), so at
 * most K + 1 processes per job exist and none outlives the explorer; a
 * child that dies of a signal (or cannot run) stops its job with an error
 * naming its schedule, and the explorer reaps every process it made.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

#include "exp_int.h"
#include "explore.h"

/* One finished schedule, or the death of one, as it crosses the pipe. */
typedef struct fork_rec {
    uint32_t died; /* 0: a result; else the signal (or 256 + exit status) */
    exp_schedule sched;
    unsigned failed;
    uint64_t outcome;
    char msg[EXP_MSG_MAX];
    exp_cov cov;
} fork_rec;

_Static_assert(sizeof(fork_rec) <= PIPE_BUF, "a result must cross the pipe in one write");

/* A process's exit status when one of its children died (reported). */
#define EXIT_BROKEN 3

struct exp_tree {
    const exp_opts *o;
    int fd;                   /* the write end of the results pipe */
    uint32_t worker, workers; /* this job's share of the first faults */
    uint32_t nth;             /* first faults seen so far (the share's count) */
    bool child;               /* this process is a forked schedule */
    bool broken;              /* a child failed: make no more, exit 1 */
};

/* Waits for child pid (schedule s); a death is sent to the explorer. */
static void wait_child(exp_tree *t, pid_t pid, const exp_schedule *s)
{
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return;
    t->broken = true;
    if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_BROKEN)
        return; /* a process below it died: that one was reported */
    fork_rec rec;
    memset(&rec, 0, sizeof rec);
    rec.died = WIFSIGNALED(status) ? (uint32_t)WTERMSIG(status) : 256u + WEXITSTATUS(status);
    rec.sched = *s;
    exp_write_record(t->fd, &rec, sizeof rec);
}

static bool wanted(exp_tree *t, const exp_run *r, uint32_t point)
{
    const exp_opts *o = t->o;
    if (t->broken || r->sched.n >= o->faults || r->next < r->sched.n)
        return false;
    if (r->sched.n && point <= r->sched.f[r->sched.n - 1].point)
        return false;
    return point >= o->seg_lo && (o->seg_hi == 0 || point <= o->seg_hi);
}

void exp_fork_point(exp_run *r)
{
    exp_tree *t = r->tree;
    uint32_t q = r->npoints;
    if (!wanted(t, r, q))
        return;
    for (uint8_t k = 0; k < EXP_KIND_COUNT && !t->broken; k++) {
        if (!(t->o->kinds & (1u << k)))
            continue;
        if (r->sched.n == 0 && t->nth++ % t->workers != t->worker)
            continue;
        exp_schedule s = r->sched;
        s.f[s.n++] = (exp_fault){q, k};
        pid_t parent = getpid(), pid = fork();
        if (pid == 0) {
            exp_die_with_parent(parent);
            r->sched = s;
            t->child = true;
            return; /* the run goes on with the fault: exp_run_point applies it */
        }
        if (pid < 0) {
            fprintf(stderr, "tcpsim: explore: cannot fork: %s\n", strerror(errno));
            t->broken = true;
            return;
        }
        wait_child(t, pid, &s);
    }
}

/* What the jobs of exp_fork_explore share. */
struct fork_jobs {
    const exp_opts *o;
    uint32_t jobs; /* in this shard */
    exp_report *rep;
    fork_rec rec; /* the one being read */
};

/* A job: the fault-free run with its share of the tree forked from it; in
 * it and in each process forked below it, the exit status. */
static int run_job(void *ctx, uint32_t job, int fd)
{
    const struct fork_jobs *f = ctx;
    const exp_opts *o = f->o;
    uint32_t shards = o->nshards ? o->nshards : 1;
    exp_tree t = {
        .o = o, .fd = fd, .worker = o->shard * f->jobs + job, .workers = shards * f->jobs};
    exp_run r;
    exp_run_init(&r, NULL, o->settle_ns);
    r.tree = &t;
    int rc = o->run(o->ctx, &r);
    if (t.child && rc == 0 && !t.broken) {
        fork_rec rec;
        memset(&rec, 0, sizeof rec);
        rec.sched = r.sched;
        rec.failed = r.failed;
        rec.outcome = r.outcome;
        memcpy(rec.msg, r.msg, sizeof rec.msg);
        rec.cov = r.cov;
        rc = exp_write_record(fd, &rec, sizeof rec);
    }
    return t.broken ? EXIT_BROKEN : rc != 0 ? 1 : 0;
}

static int take_rec(const fork_rec *rec, exp_report *rep)
{
    char s[256];
    if (rec->died) {
        exp_schedule_format(&rec->sched, s, sizeof s);
        if (rec->died < 256)
            fprintf(stderr, "tcpsim: explore: the run of schedule %s died of signal %u (%s)\n", s,
                    (unsigned)rec->died, strsignal((int)rec->died));
        else
            fprintf(stderr, "tcpsim: explore: the run of schedule %s could not be made\n", s);
        return -1;
    }
    static exp_run r; /* large: kept off the stack */
    memset(&r, 0, sizeof r);
    r.sched = rec->sched;
    r.failed = rec->failed;
    r.outcome = rec->outcome;
    memcpy(r.msg, rec->msg, sizeof r.msg);
    r.msg[sizeof r.msg - 1] = 0;
    r.cov = rec->cov;
    exp_report_add(rep, &r);
    return 0;
}

static int take_any(void *ctx, const void *rec)
{
    return take_rec(rec, ((struct fork_jobs *)ctx)->rep);
}

/* The processes of a job that died before its children are ours to reap
 * (Linux: the explorer is their subreaper); they die with their parents. */
static void adopt_orphans(bool on)
{
#if defined(__linux__)
    prctl(PR_SET_CHILD_SUBREAPER, on ? 1 : 0);
#else
    (void)on;
#endif
}

static void reap_orphans(void)
{
    while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
        ;
    adopt_orphans(false);
}

int exp_fork_explore(const exp_opts *o, const exp_run *root, exp_report *rep)
{
    if (o->shard == 0)
        exp_report_add(rep, root);
    uint32_t jobs = o->jobs ? (o->jobs > EXP_JOBS_MAX ? EXP_JOBS_MAX : o->jobs) : 1;
    struct fork_jobs f = {.o = o, .jobs = jobs, .rep = rep};
    exp_jobs j = {.who = "explore",
                  .n = jobs,
                  .job = run_job,
                  .take = take_any,
                  .ctx = &f,
                  .rec = &f.rec,
                  .size = sizeof f.rec,
                  .reported = EXIT_BROKEN};
    adopt_orphans(true);
    int rc = exp_jobs_run(&j);
    reap_orphans();
    return rc;
}
