/*
 * bench_time — runs a command and prints, on standard error after the
 * command's own output, one line:
 *
 *   TIME <user s> <system s> <peak RSS KiB>
 *
 * the command's user and system CPU time to the microsecond and its peak
 * resident set, from wait4's rusage. /usr/bin/time prints the same figures
 * rounded to 10 ms, which at 1,000 pairs (about 10 ms in all) reads as
 * nothing; scripts/bench-race.sh measures every run with this instead.
 *
 * Usage: bench_time COMMAND [ARG...]. Exits with the command's status (128
 * plus the signal's number if a signal ended it; 127 if it could not be
 * started, 2 on a usage error).
 */
#define _DEFAULT_SOURCE

#include <stdio.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static double seconds(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_time COMMAND [ARG...]\n");
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("bench_time: fork");
        return 127;
    }
    if (pid == 0) {
        execvp(argv[1], argv + 1);
        perror("bench_time: exec");
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) {
        perror("bench_time: wait4");
        return 127;
    }
    fprintf(stderr, "TIME %.6f %.6f %ld\n", seconds(ru.ru_utime), seconds(ru.ru_stime),
            ru.ru_maxrss);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}
