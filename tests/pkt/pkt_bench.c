/*
 * pkt_bench — how long a script takes to run: parses each file once, runs
 * it N times (default 200) in process, and prints the mean wall time per
 * run (parse included once per run as well) and the script's event count.
 * A measurement, not a test: nothing here decides a verdict.
 *   pkt_bench [-n N] FILE.pkt...
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pkt_run.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int bench_one(const char *path, int n)
{
    pkt_status st;
    char msg[1024];
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        pkt_script *s = pkt_parse_file(path, &st, msg, sizeof msg);
        if (!s) {
            fprintf(stderr, "%s\n", msg);
            return 2;
        }
        pkt_run_opts o = {.file = path, .tolerance_usecs = -1, .seed = 1};
        pkt_run_info info;
        pkt_run_verdict v = pkt_run(s, &o, &info, msg, sizeof msg);
        size_t lines = pkt_script_events(s);
        pkt_script_free(s);
        if (i == n - 1)
            printf("%8.1f us  %-6s %3zu events  %s\n", (now_s() - t0) / n * 1e6,
                   v == PKT_RUN_PASS       ? "pass"
                   : v == PKT_RUN_MISMATCH ? "differ"
                                           : "unsup",
                   lines, path);
    }
    return 0;
}

int main(int argc, char **argv)
{
    int n = 200, first = 1, rc = 0;
    if (argc > 2 && !strcmp(argv[1], "-n")) {
        n = atoi(argv[2]);
        first = 3;
    }
    if (n <= 0 || first >= argc) {
        fprintf(stderr, "usage: pkt_bench [-n N] FILE.pkt...\n");
        return 2;
    }
    for (int i = first; i < argc; i++)
        rc |= bench_one(argv[i], n);
    return rc;
}
