/*
 * bench_net — the whole-workload figure without Lua: 10,000 connections
 * between two hosts over sim/net, each moving 1 kB from client to server
 * and closing both ways, until every TIME_WAIT has expired (the workload of
 * bench/pairs.lua, with no run log and no interpreter). Prints the virtual
 * outcome (which must match pairs.lua's), then CPU time, wall time and peak
 * memory. Clocks are read here only, never in the library.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "net.h"

#define PAIRS        10000u
#define BYTES_EACH   1000u
#define SERVER_PORT  80u
#define MSL_NS       1000000000ull /* 1 s: TIME_WAIT ends 2 s after it starts */
#define LINK_DELAY   1000000ull    /* 1 ms each way */
#define ACCEPT_AFTER 1000000000ull /* every handshake is done well within 1 s */

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The server closes each accepted connection as soon as its peer has. */
static void on_state(void *ctx, uint32_t sock, tcp_state from, tcp_state to)
{
    (void)from;
    net *n = ctx;
    if (to == TCP_CLOSE_WAIT && net_sock_at(n, sock)->accepted)
        net_close(n, sock);
}

static void fail(const char *what, int rc)
{
    fprintf(stderr, "bench_net: %s: %s\n", what, net_err_name(rc));
    exit(1);
}

/* Builds the world and runs the workload; returns the bytes received. */
static uint64_t workload(net *n)
{
    tcp_profile p = *tcp_profile_find("rfc9293");
    p.msl_ns = MSL_NS;
    uint32_t a, b, link;
    if (net_host_add(n, "A", 0x0a000001u, &p, &a) || net_host_add(n, "B", 0x0a000002u, &p, &b))
        fail("hosts", -1);
    sim_link_params lp;
    sim_link_params_default(&lp);
    lp.delay_ns = LINK_DELAY;
    if (net_link_add(n, a, b, &lp, &lp, &link) != 0)
        fail("link", -1);
    net_observer obs = {.ctx = n, .on_state = on_state};
    net_set_observer(n, &obs);
    net_listen_opts lo = {.port = SERVER_PORT, .backlog = PAIRS, .autoread = true};
    uint32_t server, *clients = malloc(PAIRS * sizeof *clients);
    uint32_t *peers = malloc(PAIRS * sizeof *peers);
    if (!clients || !peers)
        fail("memory", -1);
    int rc = net_listen(n, b, &lo, &server);
    for (uint32_t i = 0; i < PAIRS && rc == 0; i++) {
        net_connect_opts co = {.raddr = 0x0a000002u, .rport = SERVER_PORT};
        rc = net_connect(n, a, &co, &clients[i]);
    }
    if (rc < 0)
        fail("listen/connect", rc);
    sim_world *w = net_world(n);
    sim_world_run_until_time(w, sim_world_now(w) + ACCEPT_AFTER);
    for (uint32_t i = 0; i < PAIRS && rc == 0; i++)
        rc = net_accept(n, server, &peers[i]);
    for (uint32_t i = 0; i < PAIRS && rc == 0; i++) {
        rc = net_send(n, clients[i], NULL, BYTES_EACH);
        if (rc == 0)
            rc = net_close(n, clients[i]);
    }
    if (rc < 0)
        fail("accept/send/close", rc);
    sim_world_run(w);
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < PAIRS; i++)
        bytes += net_sock_at(n, peers[i])->nrx;
    free(clients);
    free(peers);
    return bytes;
}

int main(void)
{
    double cpu0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), wall0 = clock_s(CLOCK_MONOTONIC);
    net *n = net_new(1);
    if (!n)
        fail("net_new", -1);
    uint64_t bytes = workload(n);
    const sim_world *w = net_world(n);
    printf("connections %u  bytes %llu  events %llu  virtual time %.3f s\n", PAIRS,
           (unsigned long long)bytes, (unsigned long long)sim_world_events(w),
           (double)sim_world_now(w) / 1e9);
    net_free(n);
    double cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0, wall = clock_s(CLOCK_MONOTONIC) - wall0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("cpu %.2f s  wall %.2f s  peak memory %ld KiB\n", cpu, wall, ru.ru_maxrss);
    if (bytes != (uint64_t)PAIRS * BYTES_EACH) {
        fprintf(stderr, "bench_net: %llu bytes received, expected %llu\n",
                (unsigned long long)bytes, (unsigned long long)PAIRS * BYTES_EACH);
        return 1;
    }
    return 0;
}
