/*
 * exp_tree — the tree of schedules (explore.h rule 3): the root run, a
 * depth-first walk of each first-fault subtree run from scratch, subtrees
 * split among jobs (forked processes) and shards with no coordinator, and
 * the shrinker. The fork tree (rule 5) is exp_fork.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exp_int.h"
#include "explore.h"

static int run_one(const exp_opts *o, const exp_schedule *s, exp_run *r)
{
    exp_run_init(r, s, o->settle_ns);
    return o->run(o->ctx, r);
}

int exp_run_root(const exp_opts *o, exp_run *root)
{
    return run_one(o, NULL, root);
}

static bool in_range(const exp_opts *o, uint32_t point)
{
    return point >= o->seg_lo && (o->seg_hi == 0 || point <= o->seg_hi);
}

/* Runs s, then every child of s (depth first, in schedule order). */
static int walk(const exp_opts *o, exp_schedule *s, exp_report *rep)
{
    exp_run r;
    int rc = run_one(o, s, &r);
    uint32_t points = r.npoints;
    if (rc == 0)
        exp_report_add(rep, &r);
    exp_run_free(&r);
    if (rc != 0 || s->n >= o->faults)
        return rc;
    for (uint32_t q = s->f[s->n - 1].point + 1; q <= points; q++) {
        if (!in_range(o, q))
            continue;
        for (uint8_t k = 0; k < EXP_KIND_COUNT; k++) {
            if (!(o->kinds & (1u << k)))
                continue;
            s->f[s->n++] = (exp_fault){q, k};
            rc = walk(o, s, rep);
            s->n--;
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

/* Every first-fault subtree whose number falls to `worker` of `workers`. */
static int walk_part(const exp_opts *o, const exp_run *root, uint32_t worker, uint32_t workers,
                     exp_report *rep)
{
    if (worker == 0)
        exp_report_add(rep, root);
    uint32_t nth = 0;
    for (uint32_t p = 1; p <= root->npoints; p++) {
        if (!in_range(o, p))
            continue;
        for (uint8_t k = 0; k < EXP_KIND_COUNT; k++) {
            if (!(o->kinds & (1u << k)) || nth++ % workers != worker)
                continue;
            exp_schedule s = {.f = {{p, k}}, .n = 1};
            if (walk(o, &s, rep) != 0)
                return -1;
        }
    }
    return 0;
}

/* Reads a child's partial report from fd into rep; waits for the child. */
static int collect(int fd, pid_t pid, exp_report *rep)
{
    FILE *f = fdopen(fd, "r");
    char err[200] = "";
    int rc = f ? exp_report_read(rep, f, err, sizeof err) : -1;
    if (f)
        fclose(f);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (rc != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "tcpsim: explore: a job failed%s%s\n", *err ? ": " : "", err);
        return -1;
    }
    return 0;
}

int exp_explore(const exp_opts *o, const exp_run *root, exp_report *rep)
{
    uint32_t jobs = o->jobs ? o->jobs : 1, shards = o->nshards ? o->nshards : 1;
    if (o->faults == 0)
        return o->shard == 0 ? (exp_report_add(rep, root), 0) : 0;
    if (o->fork_tree)
        return exp_fork_explore(o, root, rep);
    if (jobs == 1)
        return walk_part(o, root, o->shard, shards, rep);
    int fds[64];
    pid_t pids[64];
    if (jobs > 64)
        jobs = 64;
    fflush(NULL);
    for (uint32_t j = 0; j < jobs; j++) {
        int p[2];
        if (pipe(p) != 0 || (pids[j] = fork()) < 0) {
            fprintf(stderr, "tcpsim: explore: cannot start job %u: %s\n", j, strerror(errno));
            return -1;
        }
        if (pids[j] == 0) {
            close(p[0]);
            exp_report part = {0};
            FILE *f = fdopen(p[1], "w");
            int rc = walk_part(o, root, o->shard * jobs + j, shards * jobs, &part);
            rc |= !f || exp_report_write(&part, f) != 0 || fclose(f) != 0;
            _exit(rc ? 1 : 0);
        }
        close(p[1]);
        fds[j] = p[0];
    }
    int rc = 0;
    for (uint32_t j = 0; j < jobs; j++)
        rc |= collect(fds[j], pids[j], rep);
    return rc ? -1 : 0;
}

/* Whether s, run again, applies all its faults and still fails inv. */
static bool still_fails(const exp_opts *o, exp_inv inv, const exp_schedule *s)
{
    exp_run r;
    int rc = run_one(o, s, &r);
    bool fails = rc == 0 && r.applied == s->n && (r.failed & (1u << inv));
    exp_run_free(&r);
    return fails;
}

/* Removing a fault changes the numbering of the points after it (a lost
 * segment's retransmission is one more point): the faults after it are
 * tried where they were, then shifted together by 1, 2 or 3 points either
 * way. True with *out set when one of these still fails. */
static bool try_without(const exp_opts *o, exp_inv inv, const exp_schedule *cur, uint32_t i,
                        exp_schedule *out, uint32_t *runs)
{
    static const int SHIFT[] = {0, -1, 1, -2, 2, -3, 3};
    for (size_t t = 0; t < sizeof SHIFT / sizeof SHIFT[0]; t++) {
        exp_schedule c = *cur;
        memmove(&c.f[i], &c.f[i + 1], (c.n - i - 1) * sizeof c.f[0]);
        c.n--;
        if (SHIFT[t] && i == c.n)
            break; /* no fault after it to shift */
        uint32_t floor = i ? c.f[i - 1].point : 0;
        if ((int64_t)c.f[i].point + SHIFT[t] <= (int64_t)floor)
            continue;
        for (uint32_t j = i; j < c.n; j++)
            c.f[j].point = (uint32_t)((int64_t)c.f[j].point + SHIFT[t]);
        ++*runs;
        if (still_fails(o, inv, &c)) {
            *out = c;
            return true;
        }
    }
    return false;
}

uint32_t exp_shrink(const exp_opts *o, exp_inv inv, const exp_schedule *in, exp_schedule *out)
{
    exp_schedule cur = *in;
    uint32_t runs = 0;
    for (bool changed = true; changed;) { /* remove faults one at a time */
        changed = false;
        for (uint32_t i = 0; i < cur.n && !changed; i++)
            changed = try_without(o, inv, &cur, i, &cur, &runs);
    }
    for (uint32_t i = 0; i < cur.n; i++) { /* then move each fault earlier, first first */
        uint32_t lo = i ? cur.f[i - 1].point + 1 : 1;
        for (uint32_t p = lo; p < cur.f[i].point; p++) {
            exp_schedule c = cur;
            c.f[i].point = p;
            runs++;
            if (still_fails(o, inv, &c)) {
                cur = c;
                break;
            }
        }
    }
    *out = cur;
    return runs;
}
