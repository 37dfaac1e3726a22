/*
 * bench_race — the race workload in C over sim/net (bench/race/race.lua
 * is the same as a scenario): K client/server pairs, each pair two hosts on
 * its own 10 Mbps / 5 ms link. At t = 1 s each client connects; once
 * established it sends S bytes and closes; the server accepts the
 * connection as soon as it is established, reads everything and closes on
 * the client's FIN (CLOSE_WAIT). MSL 120 s; the run ends when every TIME_WAIT has expired. LOSS is
 * the share of client-to-server packets lost.
 *
 * Records count the bytes read without keeping them (net_set_keep_rx).
 *
 * Usage: bench_race K S [LOSS]. Prints the virtual outcome (the same line
 * as race.lua) and then the process's CPU time, events and peak memory,
 * and the user CPU time split into building the pairs and the rest of the
 * run.
 * Clocks are read here only, never in the library.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "net.h"

#define SERVER_PORT 80u
#define START_NS    1000000000ull   /* clients connect at t = 1 s */
#define MSL_NS      120000000000ull /* TIME_WAIT lasts 240 s */
#define DELAY_NS    5000000ull      /* 5 ms each way */
#define RATE_BPS    10000000ull     /* 10 Mbps */

typedef struct race {
    net *n;
    uint32_t pairs;
    uint64_t bytes_each;
    uint32_t *listeners; /* record of pair i's listener */
    uint32_t *peers;     /* record of pair i's accepted connection, or NET_NONE */
    double user_built;   /* user CPU time once every pair is built */
    double user_ran;     /* and once the run has ended */
} race;

static void fail(const char *what, int rc)
{
    fprintf(stderr, "bench_race: %s: %s\n", what, net_err_name(rc));
    exit(2);
}

/* The server side: accept a connection once it is established (autoread
 * starts there), close it when the client's FIN has arrived. */
static void server_on_state(race *r, const net_sock *k, tcp_state to)
{
    uint32_t pair = k->host / 2;
    if (to == TCP_ESTABLISHED && !k->accepted && k->parent != NET_NONE) {
        int rc = net_accept(r->n, r->listeners[pair], &r->peers[pair]);
        if (rc < 0)
            fail("accept", rc);
    } else if (to == TCP_CLOSE_WAIT && k->accepted) {
        int rc = net_close(r->n, r->peers[pair]);
        if (rc < 0)
            fail("server close", rc);
    }
}

/* Hosts 2i are clients, 2i + 1 their servers. */
static void on_state(void *ctx, uint32_t sock, tcp_state from, tcp_state to)
{
    (void)from;
    race *r = ctx;
    const net_sock *k = net_sock_at(r->n, sock);
    if (k->host % 2 != 0) {
        server_on_state(r, k, to);
        return;
    }
    if (to == TCP_ESTABLISHED) {
        int rc = net_send(r->n, sock, NULL, r->bytes_each);
        if (rc == 0)
            rc = net_close(r->n, sock);
        if (rc < 0)
            fail("send/close", rc);
    }
}

/* Pair i: hosts c<i+1> and s<i+1>, addresses in creation order from
 * 10.0.0.1 as the scenario's defaults, a link, a listener. */
static void build_pair(race *r, uint32_t i, const tcp_profile *p, const sim_link_params *ab,
                       const sim_link_params *ba)
{
    char name[24];
    uint32_t c, s, link;
    snprintf(name, sizeof name, "c%u", i + 1);
    if (net_host_add(r->n, name, 0x0a000001u + 2 * i, p, &c))
        fail("host", -1);
    snprintf(name, sizeof name, "s%u", i + 1);
    if (net_host_add(r->n, name, 0x0a000002u + 2 * i, p, &s))
        fail("host", -1);
    if (net_link_add(r->n, c, s, ab, ba, &link))
        fail("link", -1);
    net_listen_opts lo = {.port = SERVER_PORT, .backlog = 128, .autoread = true};
    int rc = net_listen(r->n, s, &lo, &r->listeners[i]);
    if (rc < 0)
        fail("listen", rc);
    r->peers[i] = NET_NONE;
}

/* User CPU time so far: the phases' split, read without the kernel's
 * share (first touch of pages), which follows the machine more than the
 * program. */
static double user_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6;
}

static void run(race *r, double loss)
{
    tcp_profile p = *tcp_profile_find("rfc9293");
    p.msl_ns = MSL_NS;
    sim_link_params ab, ba;
    sim_link_params_default(&ab);
    ab.delay_ns = DELAY_NS;
    ab.bandwidth_bps = RATE_BPS;
    ba = ab;
    ab.loss_ppb = (uint32_t)(loss * 1e9 + 0.5);
    for (uint32_t i = 0; i < r->pairs; i++)
        build_pair(r, i, &p, &ab, &ba);
    r->user_built = user_s();
    net_observer obs = {.ctx = r, .on_state = on_state};
    net_set_observer(r->n, &obs);
    sim_world *w = net_world(r->n);
    sim_world_run_until_time(w, START_NS);
    for (uint32_t i = 0; i < r->pairs; i++) {
        net_connect_opts co = {.raddr = 0x0a000002u + 2 * i, .rport = SERVER_PORT};
        uint32_t client;
        int rc = net_connect(r->n, 2 * i, &co, &client);
        if (rc < 0)
            fail("connect", rc);
    }
    sim_world_run(w);
    r->user_ran = user_s();
}

static double cpu_s(const struct rusage *ru)
{
    return (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec * 1e-6 +
           (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec * 1e-6;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: bench_race K S [LOSS]\n");
        return 2;
    }
    race r = {.pairs = (uint32_t)strtoul(argv[1], NULL, 10),
              .bytes_each = strtoull(argv[2], NULL, 10)};
    double loss = argc == 4 ? strtod(argv[3], NULL) : 0.0;
    if (r.pairs == 0 || r.pairs > 100000000u || !(loss >= 0.0 && loss <= 1.0)) {
        fprintf(stderr, "bench_race: K must be in [1, 1e8], LOSS in [0, 1]\n");
        return 2;
    }
    r.n = net_new(1);
    r.listeners = malloc(r.pairs * sizeof *r.listeners);
    r.peers = malloc(r.pairs * sizeof *r.peers);
    if (!r.n || !r.listeners || !r.peers)
        fail("memory", -1);
    net_set_keep_rx(r.n, false); /* count the bytes; keeping them is the scenario's job */
    net_reserve(r.n, 2 * r.pairs);
    run(&r, loss);
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < r.pairs; i++)
        if (r.peers[i] != NET_NONE)
            bytes += net_sock_at(r.n, r.peers[i])->nrx;
    const sim_world *w = net_world(r.n);
    unsigned long long events = (unsigned long long)sim_world_events(w);
    printf("pairs %u  bytes %llu  events %llu  virtual time %.3f s\n", r.pairs,
           (unsigned long long)bytes, events, (double)sim_world_now(w) / 1e9);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("cpu %.3f s  peak memory %ld KiB\n", cpu_s(&ru), ru.ru_maxrss);
    printf("user cpu: building %.3f s, connecting and running %.3f s\n", r.user_built,
           r.user_ran - r.user_built);
    net_free(r.n);
    free(r.listeners);
    free(r.peers);
    return 0;
}
