/*
 * test_net_oom — the net's allocations refused one at a time. A world of
 * two hosts runs eight connections to their end (the records' spilled
 * steps from the net's pool, their kept counters from its chunks), a
 * crash and a restart with live connections, a trace grown through every
 * room up to 30 spilled steps, and is freed. The run is counted once;
 * then each allocation in turn is refused in a child of its own, which
 * must either finish (a call that reports the failure, the net then freed:
 * under ASan, nothing may leak) or stop as the net does when the heap is
 * gone ("tcpsim: out of memory", abort): never crash.
 */
#define _POSIX_C_SOURCE 200809L /* mkstemp */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "net.h"
#include "net_int.h" /* a record's trace grown directly */
#include "../oom_wrap.h"

#define A_ADDR 0x0a000001u
#define B_ADDR 0x0a000002u
#define MS     1000000ull
#define PORT   80u

static void run_for(net *n, uint64_t ns)
{
    sim_world *w = net_world(n);
    sim_world_run_until_time(w, sim_world_now(w) + ns);
}

/* Whether the last run reached the pools: chunks of spilled steps and of
 * kept counters past their first, a trace of 32 steps. */
static bool reached;

/* The world's life; a call that reports a failure ends it early (the net
 * is freed all the same). */
static void scenario(void)
{
    enum { N = 8 };
    net *n = net_new(1);
    if (!n)
        return;
    const tcp_profile *p = tcp_profile_find("rfc9293");
    uint32_t a, b, link, l, c[N], s[N];
    sim_link_params lp;
    sim_link_params_default(&lp);
    lp.delay_ns = 10 * MS;
    net_listen_opts lo = {.port = PORT, .backlog = N, .autoread = true};
    net_connect_opts co = {.raddr = B_ADDR, .rport = PORT};
    if (net_host_add(n, "A", A_ADDR, p, &a) || net_host_add(n, "B", B_ADDR, p, &b) ||
        net_link_add(n, a, b, &lp, &lp, &link) || net_listen(n, b, &lo, &l))
        goto out;
    for (uint32_t i = 0; i < N; i++)
        if (net_connect(n, a, &co, &c[i]))
            goto out;
    run_for(n, 100 * MS);
    for (uint32_t i = 0; i < N; i++) {
        if (net_accept(n, l, &s[i]) || net_send(n, c[i], "abcdefgh", i + 1))
            goto out;
        if (i < N - 2 && net_close(n, c[i]))
            goto out;
    }
    run_for(n, 100 * MS);
    for (uint32_t i = 0; i < N - 2; i++)
        if (net_close(n, s[i]))
            goto out;
    run_for(n, 500 * MS);
    /* two connections still open on each side: their counters are kept
     * as B's stack goes */
    if (net_host_crash(n, b) || net_host_restart(n, b))
        goto out;
    run_for(n, 5000 * MS);
    uint32_t r = net_sock_record(n, a, 9999, NET_NONE, TCP_CLOSED);
    for (uint32_t i = 0; i < 32; i++)
        net_trace_append(n, net_sock_mut(n, r), i, TCP_SYN_SENT, TCP_CAUSE_USER,
                         i % 3 ? "a step" : "");
    reached = n->steps.nchunks >= 3 && n->nstats_chunks >= 4 && net_sock_at(n, r)->ntrace == 32;
out:
    net_free(n);
}

static void each_allocation_refused_in_turn(void **state)
{
    (void)state;
    armed = true;
    fail_at = 0;
    allocs = 0;
    scenario();
    armed = false;
    unsigned long total = allocs;
    assert_true(reached);
    unsigned long finished = 0, stopped = 0;
    char path[] = "/tmp/tcpsim-net-oom-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    for (unsigned long at = 1; at <= total; at++) {
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            if (!freopen(path, "w", stderr))
                _exit(3);
            setvbuf(stderr, NULL, _IONBF, 0); /* abort flushes nothing */
            armed = true;
            allocs = 0;
            failed = 0;
            fail_at = at;
            scenario();
            armed = false;
            exit(failed == 1 ? 0 : 4); /* exit: ASan's leak check runs */
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        char err[4096] = "";
        FILE *f = fopen(path, "r");
        if (f) {
            size_t got = fread(err, 1, sizeof err - 1, f);
            err[got] = '\0';
            fclose(f);
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            finished++;
            continue;
        }
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT &&
            strstr(err, "tcpsim: out of memory")) {
            stopped++;
            continue;
        }
        fprintf(stderr, "allocation %lu of %lu refused: status %#x\n%s\n", at, total,
                (unsigned)status, err);
        fail();
    }
    unlink(path);
    print_message("%lu allocations: %lu runs finished, %lu stopped out of memory\n", total,
                  finished, stopped);
    assert_int_equal(finished + stopped, total);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_allocation_refused_in_turn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
