/*
 * exp_jobs — the job processes explore and swarm share (exp_int.h): each
 * forked from the explorer, dying with it, and sending its results as
 * records of one size through one pipe, one write each (at most PIPE_BUF
 * bytes: atomic, whatever the writers); the explorer reads them as they
 * come, then reaps every job it made.
 */
#define _GNU_SOURCE
#include <errno.h>
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

int exp_write_record(int fd, const void *rec, size_t size)
{
    ssize_t w;
    while ((w = write(fd, rec, size)) < 0 && errno == EINTR)
        ;
    return w == (ssize_t)size ? 0 : -1;
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

/* Waits for job `job` (pid): 0 if it exited 0, else -1, named on stderr
 * unless it exited with j->reported. */
static int reap_job(const exp_jobs *j, uint32_t job, pid_t pid)
{
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (!j->reported || !WIFEXITED(status) || WEXITSTATUS(status) != j->reported)
        fprintf(stderr, "tcpsim: %s: job %u failed\n", j->who, job);
    return -1;
}

int exp_jobs_run(const exp_jobs *j)
{
    uint32_t n = j->n > EXP_JOBS_MAX ? EXP_JOBS_MAX : j->n;
    pid_t pids[EXP_JOBS_MAX];
    uint32_t made = 0;
    int p[2], rc = 0;
    fflush(NULL);
    if (pipe(p) != 0) {
        fprintf(stderr, "tcpsim: %s: cannot make a pipe: %s\n", j->who, strerror(errno));
        return -1;
    }
    pid_t self = getpid();
    for (; made < n; made++) {
        pid_t pid = fork();
        if (pid == 0) {
            exp_die_with_parent(self);
            close(p[0]);
            _exit(j->job(j->ctx, made, p[1]));
        }
        if (pid < 0) {
            fprintf(stderr, "tcpsim: %s: cannot start job %u: %s\n", j->who, made, strerror(errno));
            rc = -1;
            break;
        }
        pids[made] = pid;
    }
    close(p[1]);
    rc |= exp_read_records(p[0], j->rec, j->size, j->take, j->ctx, j->who);
    close(p[0]);
    for (uint32_t k = 0; k < made; k++)
        rc |= reap_job(j, k, pids[k]);
    return rc ? -1 : 0;
}
