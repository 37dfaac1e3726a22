/*
 * exp_int — helpers private to sim/explore/: the library's one growth
 * helper. Out of memory aborts with a message: a report cut short would be
 * a silent lie about the schedules run.
 */
#ifndef EXP_INT_H
#define EXP_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Returns p (elements of `elem` bytes, capacity *cap) grown to hold `need`,
 * doubling from 8; aborts on out-of-memory. */
void *exp_grow(void *p, uint32_t *cap, uint32_t need, size_t elem);

/* Reads a report in text (explore's or swarm's): the first line must start
 * with `magic` (else "not an WHAT report"), then each line goes to
 * line(ctx, text, err, errlen), which returns 0, 1 at the last ("end") or
 * -1 (message in err). 0, or -1 with a message. */
int exp_read_lines(FILE *f, const char *magic, const char *what,
                   int (*line)(void *ctx, char *text, char *err, size_t errlen), void *ctx,
                   char *err, size_t errlen);

/* In a child just forked from `parent`: dies with it (Linux: a SIGKILL
 * when the parent ends), and at once if the parent is already gone. */
void exp_die_with_parent(pid_t parent);

/* Reads records of `size` bytes into rec from fd until every writer has
 * closed it, handing each to take(ctx, rec) (their results or-ed). A
 * record cut short is named on stderr ("tcpsim: WHO: a record was cut
 * short") and makes the result -1. */
int exp_read_records(int fd, void *rec, size_t size, int (*take)(void *ctx, const void *rec),
                     void *ctx, const char *who);
/* Writes one record of `size` bytes (at most PIPE_BUF: in one write). 0 or
 * -1. */
int exp_write_record(int fd, const void *rec, size_t size);

/* The job processes of explore and swarm (exp_jobs.c). */
#define EXP_JOBS_MAX 64
typedef struct exp_jobs {
    const char *who; /* "explore", "swarm": in messages */
    uint32_t n;      /* jobs to start (at most EXP_JOBS_MAX) */
    /* In job `job`'s process: its work, records written to fd with
     * exp_write_record; returns the process's exit status. */
    int (*job)(void *ctx, uint32_t job, int fd);
    /* In this process: each record read, as exp_read_records. */
    int (*take)(void *ctx, const void *rec);
    void *ctx;    /* both's */
    void *rec;    /* room for one record */
    size_t size;  /* of a record */
    int reported; /* an exit status that says the job told its failure (0: none) */
} exp_jobs;
/* Starts the jobs (each dies with this process), reads every record until
 * all of them have closed the pipe, and waits for each: 0 when every job
 * exited 0 and every record was taken (take returned 0), else -1 (a job
 * that failed otherwise than with `reported` named on stderr: "tcpsim: WHO:
 * job J failed"). */
int exp_jobs_run(const exp_jobs *j);

typedef struct exp_run exp_run;
typedef struct exp_opts exp_opts;
typedef struct exp_report exp_report;
/* exp_fork.c: at a decision point of a run in the fork tree, forks and
 * waits for each child schedule that adds its fault here; returns in the
 * child with the fault appended to r->sched, in the parent unchanged. */
void exp_fork_point(exp_run *r);
/* Explores o's share of the tree with the fork tree (explore.h rule 5). */
int exp_fork_explore(const exp_opts *o, const exp_run *root, exp_report *rep);

#endif
