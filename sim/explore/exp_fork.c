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

static int send_rec(int fd, const fork_rec *rec)
{
    ssize_t w;
    while ((w = write(fd, rec, sizeof *rec)) < 0 && errno == EINTR)
        ;
    return w == (ssize_t)sizeof *rec ? 0 : -1;
}

/* In a new process: dies with its parent (whose pid was `parent`). */
void exp_die_with_parent(pid_t parent)
{
#if defined(__linux__)
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
        _exit(1);
#else
    (void)parent;
#endif
}

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
    send_rec(t->fd, &rec);
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

/* A job: the fault-free run with its share of the tree forked from it. */
static void run_job(const exp_opts *o, int fd, uint32_t worker, uint32_t workers)
{
    exp_tree t = {.o = o, .fd = fd, .worker = worker, .workers = workers};
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
        rc = send_rec(fd, &rec);
    }
    _exit(t.broken ? EXIT_BROKEN : rc != 0 ? 1 : 0);
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

int exp_read_records(int fd, void *rec, size_t size, int (*take)(void *ctx, const void *rec),
                     void *ctx, const char *who)
{
    int rc = 0;
    size_t have = 0;
    for (;;) {
        ssize_t got = read(fd, (char *)rec + have, size - have);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        have += (size_t)got;
        if (have == size) {
            rc |= take(ctx, rec);
            have = 0;
        }
    }
    if (have) {
        fprintf(stderr, "tcpsim: %s: a record was cut short\n", who);
        rc = -1;
    }
    return rc;
}

static int take_any(void *ctx, const void *rec)
{
    return take_rec(rec, ctx);
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
    uint32_t jobs = o->jobs ? (o->jobs > 64 ? 64 : o->jobs) : 1;
    uint32_t shards = o->nshards ? o->nshards : 1;
    int p[2];
    pid_t pids[64];
    uint32_t made = 0;
    if (o->shard == 0)
        exp_report_add(rep, root);
    fflush(NULL);
    if (pipe(p) != 0) {
        fprintf(stderr, "tcpsim: explore: cannot make a pipe: %s\n", strerror(errno));
        return -1;
    }
    pid_t self = getpid();
    int rc = 0;
    adopt_orphans(true);
    for (; made < jobs; made++) {
        pid_t pid = fork();
        if (pid == 0) {
            exp_die_with_parent(self);
            close(p[0]);
            run_job(o, p[1], o->shard * jobs + made, shards * jobs);
        }
        if (pid < 0) {
            fprintf(stderr, "tcpsim: explore: cannot start job %u: %s\n", made, strerror(errno));
            rc = -1;
            break;
        }
        pids[made] = pid;
    }
    close(p[1]);
    fork_rec rec; /* a death makes it -1 */
    rc |= exp_read_records(p[0], &rec, sizeof rec, take_any, rep, "explore");
    close(p[0]);
    for (uint32_t j = 0; j < made; j++) {
        int status = 0;
        while (waitpid(pids[j], &status, 0) < 0 && errno == EINTR)
            ;
        if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_BROKEN) {
            rc = -1;
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "tcpsim: explore: job %u failed\n", j);
            rc = -1;
        }
    }
    reap_orphans();
    return rc ? -1 : 0;
}
