/*
 * cmd_pkt — `tcpsim pkt FILE.pkt`: parses a packetdrill script and runs it
 * against a tcpsim host (sim/pkt's runner), prints the verdict and, on
 * request, the run's outputs (ladder, pcap, trace) from the run log.
 * Exit status: 0 pass, 1 mismatch, 2 unsupported, malformed or bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pkt_run.h"
#include "render.h"
#include "rlog.h"

typedef struct pkt_cli {
    const char *file, *profile, *trace, *pcap;
    int64_t tolerance;
    int64_t tolerance_pcm;
    uint64_t seed;
    bool ladder, quiet;
    rlog *log;
} pkt_cli;

static void on_event(void *ctx, uint32_t host, const tcp_event *ev)
{
    rlog_tcp_event(ctx, host, ev);
}

static void on_note(void *ctx, uint64_t t, const char *text)
{
    rlog_note(ctx, t, text);
}

/* Attaches the run log to the world the runner built. */
static void on_world(void *ctx, net *n)
{
    pkt_cli *c = ctx;
    sim_world *w = net_world(n);
    for (uint32_t i = 0; i < sim_host_count(w); i++) {
        sim_host *h = sim_host_by_id(w, i);
        rlog_add_host(c->log, i, sim_host_name(h), sim_host_addr(h));
    }
    net_observer obs = {.ctx = c->log, .on_event = on_event, .on_note = on_note};
    net_set_observer(n, &obs);
    sim_world_set_trace(w, rlog_sim_trace, c->log);
}

static int usage(const char *msg, const char *arg)
{
    fprintf(stderr, "tcpsim pkt: %s%s%s\n(tcpsim pkt --help)\n", msg, arg ? " " : "",
            arg ? arg : "");
    return 2;
}

static int parse_args(pkt_cli *c, int argc, char **argv)
{
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t u;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(cli_help("pkt"), stdout);
            exit(0);
        } else if (!strcmp(a, "--ladder")) {
            c->ladder = true;
        } else if (!strcmp(a, "--quiet")) {
            c->quiet = true;
        } else if (v && !strcmp(a, "--profile")) {
            c->profile = argv[++i];
        } else if (v && !strcmp(a, "--pcap")) {
            c->pcap = argv[++i];
        } else if (v && !strcmp(a, "--trace") && (!strcmp(v, "text") || !strcmp(v, "json"))) {
            c->trace = argv[++i];
        } else if (v && !strcmp(a, "--seed") && cli_parse_u64(v, &u) == 0) {
            c->seed = u;
            i++;
        } else if (v && !strcmp(a, "--tolerance_usecs") && cli_parse_u64(v, &u) == 0 &&
                   u < 1000000000ull) {
            c->tolerance = (int64_t)u;
            i++;
        } else if (v && !strcmp(a, "--tolerance_percent") && cli_parse_u64(v, &u) == 0 &&
                   u <= 1000) {
            c->tolerance_pcm = (int64_t)u * 1000;
            i++;
        } else if (a[0] == '-') {
            return usage("unknown option or missing value:", a);
        } else if (c->file) {
            return usage("one script at a time; also got", a);
        } else {
            c->file = a;
        }
    }
    return c->file ? 0 : usage("pkt needs a script file", NULL);
}

static int write_outputs(const pkt_cli *c)
{
    if (c->ladder)
        rlog_write_ladder(c->log, stdout, 100);
    if (c->trace)
        (!strcmp(c->trace, "json") ? rlog_write_json : rlog_write_text)(c->log, stdout);
    if (c->pcap) {
        FILE *f = fopen(c->pcap, "wb");
        if (!f || rlog_write_pcap(c->log, f) != 0) {
            fprintf(stderr, "tcpsim pkt: cannot write %s\n", c->pcap);
            if (f)
                fclose(f);
            return 2;
        }
        fclose(f);
    }
    return 0;
}

int cli_pkt(int argc, char **argv)
{
    pkt_cli c = {.tolerance = -1, .tolerance_pcm = -1, .seed = 1};
    int rc = parse_args(&c, argc, argv);
    if (rc)
        return rc;
    pkt_status st;
    char msg[PKT_MSG_MAX];
    pkt_script *s = pkt_parse_file(c.file, &st, msg, sizeof msg);
    if (!s) {
        fprintf(stderr, "%s\n", msg);
        return 2;
    }
    c.log = rlog_new();
    pkt_run_opts o = {.file = c.file,
                      .profile = c.profile,
                      .tolerance_usecs = c.tolerance,
                      .tolerance_pcm = c.tolerance_pcm,
                      .seed = c.seed,
                      .on_world = on_world,
                      .ctx = &c};
    pkt_run_info info;
    char out[1024];
    pkt_run_verdict v = pkt_run(s, &o, &info, out, sizeof out);
    pkt_script_free(s);
    int wr = write_outputs(&c);
    rlog_free(c.log);
    if (v == PKT_RUN_PASS && !c.quiet)
        printf("%s: pass (%u events, %llu.%06llu s of virtual time)\n", c.file, info.events,
               (unsigned long long)(info.end_ns / 1000000000u),
               (unsigned long long)(info.end_ns % 1000000000u / 1000u));
    if (v == PKT_RUN_MISMATCH && info.unmodelled)
        fprintf(stderr,
                "%s\nnote: defaults.sh settings no profile knob carries: %u (docs/pkt.md)\n", out,
                info.unmodelled);
    else if (v != PKT_RUN_PASS)
        fprintf(stderr, "%s\n", out);
    return v != PKT_RUN_PASS ? (int)v : wr;
}
