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
 * Usage: bench_race [--warm] [--prefault] [--rules] K S [LOSS]. Prints the
 * virtual outcome (the same line as race.lua) and then the process's CPU
 * time, events and peak memory, the user CPU time split into building the
 * pairs and the rest of the run (getrusage: its split of user and system
 * time is sampled at the kernel's tick, 4 ms here), and a "phases" line:
 * each phase's CPU time read from CLOCK_PROCESS_CPUTIME_ID (nanoseconds,
 * user and system time together, so the kernel's first touch of fresh
 * pages is in it) and its minor page faults, for building the pairs,
 * connecting and running to the end, and freeing the net. Both splits
 * start once the net is made and its heap reserved (net_reserve). --warm
 * first builds and runs a race of WARM_PAIRS pairs, untimed, so that the
 * code's pages and the libraries' symbols are not charged to a small K;
 * --prefault touches the reserved heap before the clock starts
 * (prefault()). --rules adds one fault rule
 * to each pair's link that drops nothing (every segment matches its filter
 * and its when() says no): the cost of walking the rules, with every link
 * holding one (docs/performance.md, "Fault rules per link"). Clocks are
 * read here only, never in the library.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "net.h"

#define SERVER_PORT    80u
#define START_NS       1000000000ull   /* clients connect at t = 1 s */
#define MSL_NS         120000000000ull /* TIME_WAIT lasts 240 s */
#define DELAY_NS       5000000ull      /* 5 ms each way */
#define RATE_BPS       10000000ull     /* 10 Mbps */
#define WARM_PAIRS     256u            /* --warm's first race */
#define PREFAULT_SMALL (16 << 20)      /* --prefault's least: the heap below a reservation */

/* A point between phases: the process's CPU time and minor faults. */
typedef struct phase_mark {
    uint64_t cpu_ns;
    long minflt;
} phase_mark;

static phase_mark mark(void)
{
    struct timespec ts;
    struct rusage ru;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    getrusage(RUSAGE_SELF, &ru);
    return (phase_mark){(uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec, ru.ru_minflt};
}

typedef struct race {
    net *n;
    uint32_t pairs;
    bool rules; /* --rules: one rule that drops nothing on each link */
    uint64_t bytes_each;
    uint32_t *listeners; /* record of pair i's listener */
    uint32_t *peers;     /* record of pair i's accepted connection, or NET_NONE */
    double user_built;   /* user CPU time once every pair is built */
    double user_ran;     /* and once the run has ended */
    double user_start;   /* user CPU time when the timed phases begin */
    phase_mark start, built, ran, freed;
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

/* --rules' predicate: the rule never acts. */
static bool never(void *ctx, uint32_t rule)
{
    (void)ctx;
    (void)rule;
    return false;
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
    if (r->rules) {
        net_rule_opts ro = {
            .action = NET_RULE_DROP, .filter = {.dir = -1, .len = -1}, .count = 1, .when = never};
        int rc = net_rule_add(r->n, link, &ro, NULL);
        if (rc < 0)
            fail("rule", rc);
    }
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
    r->built = mark();
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
    r->ran = mark();
}

/* "phases" and, for each, its CPU time in ns, in ns a pair, and its minor
 * faults: one line for scripts (scripts/bench-race.sh --runs). */
static void print_phases(const race *r)
{
    const phase_mark *m[] = {&r->start, &r->built, &r->ran, &r->freed};
    const char *name[] = {"building", "running", "freeing"};
    printf("phases (cpu ns, ns a pair, minor faults):");
    for (int i = 0; i < 3; i++) {
        uint64_t ns = m[i + 1]->cpu_ns - m[i]->cpu_ns;
        printf(" %s %llu %.1f %ld", name[i], (unsigned long long)ns, (double)ns / r->pairs,
               m[i + 1]->minflt - m[i]->minflt);
    }
    printf("\n");
}

static double cpu_s(const struct rusage *ru)
{
    return (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec * 1e-6 +
           (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec * 1e-6;
}

/* Touches `bytes` of the heap's free top once, before the clock starts:
 * with --prefault the phases then read the program's own work, without
 * the kernel's first touch of the pages (on this VM 2.5 s a GiB, which
 * follows the machine: docs/performance.md, twelfth round). The block
 * goes back to the top, which the reservation keeps (sim_mem.c), so the
 * heap's later blocks are cut from pages already resident; the peak RSS
 * then counts the whole touched range. Below the reservation's smallest
 * size (sim_mem.c) there is no reserved top: the block is taken from the
 * heap (not a mapping of its own) and kept there, which glibc does once
 * trimming is off and the mmap threshold is above the block. */
static void prefault(size_t bytes)
{
#ifdef __GLIBC__
    mallopt(M_TRIM_THRESHOLD, -1);
    mallopt(M_MMAP_THRESHOLD, PREFAULT_SMALL);
    if (bytes < PREFAULT_SMALL)
        bytes = PREFAULT_SMALL - (1 << 20);
#endif
    volatile char *p = malloc(bytes);
    if (!p)
        fail("prefault", -1);
    for (size_t i = 0; i < bytes; i += 4096)
        p[i] = 1;
    free((void *)p);
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 128 << 10); /* glibc's default, as sim_mem leaves it */
#endif
}

/* Makes the net and its arrays for r->pairs pairs. */
static void race_new(race *r)
{
    r->n = net_new(1);
    r->listeners = malloc(r->pairs * sizeof *r->listeners);
    r->peers = malloc(r->pairs * sizeof *r->peers);
    if (!r->n || !r->listeners || !r->peers)
        fail("memory", -1);
    net_set_keep_rx(r->n, false); /* count the bytes; keeping them is the scenario's job */
}

static void race_free(race *r)
{
    net_free(r->n);
    r->freed = mark();
    free(r->listeners);
    free(r->peers);
}

int main(int argc, char **argv)
{
    bool warm = false, fault_first = false, rules = false;
    int a = 1;
    for (; a < argc && argv[a][0] == '-' && argv[a][1] == '-'; a++) {
        if (strcmp(argv[a], "--warm") == 0)
            warm = true;
        else if (strcmp(argv[a], "--prefault") == 0)
            fault_first = true;
        else if (strcmp(argv[a], "--rules") == 0)
            rules = true;
        else
            break; /* an unknown option: the usage below */
    }
    if (argc - a < 2 || argc - a > 3 || argv[a][0] == '-') {
        fprintf(stderr, "usage: bench_race [--warm] [--prefault] [--rules] K S [LOSS]\n");
        return 2;
    }
    race r = {.pairs = (uint32_t)strtoul(argv[a], NULL, 10),
              .bytes_each = strtoull(argv[a + 1], NULL, 10),
              .rules = rules};
    double loss = argc - a == 3 ? strtod(argv[a + 2], NULL) : 0.0;
    if (r.pairs == 0 || r.pairs > 100000000u || !(loss >= 0.0 && loss <= 1.0)) {
        fprintf(stderr, "bench_race: K must be in [1, 1e8], LOSS in [0, 1]\n");
        return 2;
    }
    if (warm) { /* the code's pages and the libraries' symbols, untimed */
        race first = {.pairs = WARM_PAIRS, .bytes_each = r.bytes_each, .rules = rules};
        race_new(&first);
        run(&first, loss);
        race_free(&first);
    }
    race_new(&r);
    net_reserve(r.n, 2 * r.pairs);
    if (fault_first) /* two thirds of the reservation: the race peaks at 58 % of it */
        prefault((size_t)2 * r.pairs * NET_HOST_RESERVE_BYTES * 2 / 3);
    r.user_start = user_s();
    r.start = mark();
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
    printf("user cpu: building %.3f s, connecting and running %.3f s\n",
           r.user_built - r.user_start, r.user_ran - r.user_built);
    race_free(&r);
    print_phases(&r);
    return 0;
}
