/*
 * tcpsim — the command: `tcpsim run` runs one scenario and shows what
 * happened; `tcpsim test` runs many (see cli_test.c).
 *
 * Exit status: 0 every expectation held; 1 an expectation failed; 2 the
 * scenario or the command line is wrong (syntax or runtime error, bad
 * argument, a limit reached).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lsim.h"
#include "render.h"

static const char RUN_HELP[] =
    "usage: tcpsim run FILE.lua [options]\n"
    "\n"
    "Runs one scenario, prints each endpoint's state trace and the verdict.\n"
    "\n"
    "options:\n"
    "  --seed N              override the scenario's seed\n"
    "  --profile P           override the scenario's profile (rfc9293, linux, bsd)\n"
    "  --ladder              print the ladder (sequence) diagram\n"
    "  --width N             ladder width in columns (default 80)\n"
    "  --trace text|json     print every record of the run, one per line\n"
    "  --trace-out FILE      write the trace there instead of standard output\n"
    "  --pcap FILE           write the packets as a pcap file (Wireshark, tshark)\n"
    "  --pcapng FILE         pcapng with each state change as a packet comment\n"
    "  --svg FILE            the ladder diagram as SVG\n"
    "  --state-diagram FILE  the RFC 9293 state diagram (Graphviz DOT), path taken highlighted\n"
    "  --quiet               print only failures and errors\n"
    "  --check               check the stack's invariants after every event (on in\n"
    "                        debug builds); a violation stops the run (exit 2)\n"
    "  -I DIR                also look for require()d modules in DIR\n"
    "  --unsafe              give the scenario io, os and C modules (no sandbox)\n"
    "  --max-events N        stop a run after N events (default 100000000)\n"
    "  --max-time D          stop a run at virtual time D (default 24h)\n"
    "  --max-instructions N  stop a script after N Lua instructions (default 1e9)\n"
    "  --schedule S          apply faults at decision points, e.g. 7:drop,12:dup (as\n"
    "                        tcpsim explore prints them), then check its invariants\n"
    "  --settle D            with --schedule: time the run may settle after the\n"
    "                        scenario before the invariants (default 10min)\n"
    "\n"
    "exit status: 0 all expectations held, 1 an expectation failed, 2 error\n"
    "\n"
    "examples:\n"
    "  tcpsim run scenarios/teardown/lost_final_ack.lua --ladder\n"
    "  tcpsim run scenarios/handshake/simultaneous_open.lua --pcapng open.pcapng\n"
    "  tcpsim run my.lua --seed 42 --trace json --quiet > run.jsonl\n";

static const char MAIN_HELP[] =
    "usage: tcpsim COMMAND [options]\n"
    "\n"
    "A deterministic network simulator with its own RFC 9293 TCP, driven by Lua.\n"
    "\n"
    "commands:\n"
    "  run FILE.lua    run one scenario (tcpsim run --help)\n"
    "  test [PATHS]    run many scenarios in parallel (tcpsim test --help)\n"
    "  explore FILE    run every small fault schedule (tcpsim explore --help)\n"
    "  profiles        list the behaviour profiles and their knobs\n"
    "  version         print the version\n";

typedef struct run_opts {
    lsim_config cfg;
    bool ladder, quiet;
    int width;
    const char *trace, *trace_out, *pcap, *pcapng, *svg, *dot, *schedule, *settle;
} run_opts;

/* Prints "tcpsim: MSG 'ARG'" and the hint; returns the exit status 2. */
static int usage_error(const char *msg, const char *arg)
{
    if (arg)
        fprintf(stderr, "tcpsim: %s '%s'\n(try tcpsim run --help)\n", msg, arg);
    else
        fprintf(stderr, "tcpsim: %s\n(try tcpsim run --help)\n", msg);
    return 2;
}

int cli_parse_u64(const char *text, uint64_t *out)
{
    if (!text || !*text || *text == '-')
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

/* Options shared with `tcpsim test` (passed on to each run). Returns the
 * number of argv entries used (1 or 2), 0 if not one of these, -1 on error. */
int cli_common_opt(lsim_config *cfg, int argc, char **argv, int i)
{
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    uint64_t n;
    if (strcmp(a, "--unsafe") == 0) {
        cfg->unsafe = true;
        return 1;
    }
    if (strcmp(a, "--check") == 0) {
        cfg->check = true;
        return 1;
    }
    if (strcmp(a, "-I") == 0 || strcmp(a, "--profile") == 0 || strcmp(a, "--max-events") == 0 ||
        strcmp(a, "--max-time") == 0 || strcmp(a, "--max-instructions") == 0) {
        if (!v) {
            fprintf(stderr, "tcpsim: %s needs a value\n", a);
            return -1;
        }
    } else {
        return 0;
    }
    if (strcmp(a, "-I") == 0) {
        if (cfg->nlib_paths >= 16) {
            fprintf(stderr, "tcpsim: at most 16 -I paths\n");
            return -1;
        }
        cfg->lib_paths[cfg->nlib_paths++] = v;
    } else if (strcmp(a, "--profile") == 0) {
        if (!tcp_profile_find(v)) {
            fprintf(stderr, "tcpsim: unknown profile '%s' (expected rfc9293, linux or bsd)\n", v);
            return -1;
        }
        cfg->profile = v;
    } else if (strcmp(a, "--max-time") == 0) {
        char err[160];
        if (sim_duration_parse(v, &cfg->max_time_ns, err, sizeof err) != 0) {
            fprintf(stderr, "tcpsim: --max-time: %s\n", err);
            return -1;
        }
    } else {
        if (cli_parse_u64(v, &n) != 0 || n == 0) {
            fprintf(stderr, "tcpsim: %s needs a positive integer, got '%s'\n", a, v);
            return -1;
        }
        if (strcmp(a, "--max-events") == 0)
            cfg->max_events = n;
        else
            cfg->max_instructions = n;
    }
    return 2;
}

static int parse_run(int argc, char **argv, run_opts *o)
{
    memset(o, 0, sizeof *o);
    o->width = 80;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int used = cli_common_opt(&o->cfg, argc, argv, i);
        if (used < 0)
            return 2;
        if (used) {
            i += used - 1;
            continue;
        }
        const char **slot = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(RUN_HELP, stdout);
            exit(0);
        } else if (strcmp(a, "--ladder") == 0) {
            o->ladder = true;
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            o->quiet = true;
        } else if (strcmp(a, "--seed") == 0) {
            if (cli_parse_u64(v, &o->cfg.seed) != 0 || o->cfg.seed > INT64_MAX)
                return usage_error("--seed needs a non-negative integer, got", v ? v : "");
            o->cfg.seed_set = true;
            i++;
        } else if (strcmp(a, "--width") == 0) {
            uint64_t w;
            if (cli_parse_u64(v, &w) != 0 || w < 40 || w > 1000)
                return usage_error("--width must be in [40,1000], got", v ? v : "");
            o->width = (int)w;
            i++;
        } else if (strcmp(a, "--trace") == 0) {
            if (!v || (strcmp(v, "text") && strcmp(v, "json")))
                return usage_error("--trace takes text or json, got", v ? v : "");
            o->trace = v;
            i++;
        } else if (strcmp(a, "--trace-out") == 0) {
            slot = &o->trace_out;
        } else if (strcmp(a, "--pcap") == 0) {
            slot = &o->pcap;
        } else if (strcmp(a, "--pcapng") == 0) {
            slot = &o->pcapng;
        } else if (strcmp(a, "--svg") == 0) {
            slot = &o->svg;
        } else if (strcmp(a, "--state-diagram") == 0) {
            slot = &o->dot;
        } else if (strcmp(a, "--schedule") == 0) {
            slot = &o->schedule;
        } else if (strcmp(a, "--settle") == 0) {
            slot = &o->settle;
        } else if (a[0] == '-') {
            return usage_error("unknown option", a);
        } else if (!o->cfg.file) {
            o->cfg.file = a;
        } else {
            return usage_error("one scenario file at a time (use tcpsim test); also got", a);
        }
        if (slot) {
            if (!v)
                return usage_error("this option needs a file name:", a);
            *slot = v;
            i++;
        }
    }
    if (!o->cfg.file)
        return usage_error("run needs a scenario file", NULL);
    return 0;
}

typedef int (*writer_fn)(const rlog *, FILE *);

static int write_file(const char *path, const rlog *log, writer_fn fn, const char *what)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "tcpsim: cannot write %s %s: %s\n", what, path, strerror(errno));
        return -1;
    }
    int rc = fn(log, f);
    if (fclose(f) != 0 || rc != 0) {
        fprintf(stderr, "tcpsim: error writing %s %s\n", what, path);
        return -1;
    }
    return 0;
}

static void print_endpoint(const lsim *s, const net_sock *k)
{
    char label[96], peer[24] = "";
    const char *hname = sim_host_name(net_host_sim(s->net, k->host));
    if (k->raddr) {
        const sim_host *ph = sim_host_by_addr(net_world(s->net), k->raddr);
        snprintf(peer, sizeof peer, " > %s:%u", ph ? sim_host_name(ph) : "?", (unsigned)k->rport);
    }
    snprintf(label, sizeof label, "%s:%u%s", hname, (unsigned)k->lport, peer);
    printf("  %-24s", label);
    for (uint32_t i = 0; i < k->ntrace; i++)
        printf("%s%s", i ? " -> " : "", tcp_state_name(k->trace[i].state));
    if (k->error)
        printf("  [%s]", tcp_err_name(k->error));
    printf("\n");
}

static int write_outputs(const run_opts *o, lsim *s)
{
    const rlog *log = s->log;
    int bad = 0;
    if (o->trace) {
        writer_fn fn = strcmp(o->trace, "json") == 0 ? rlog_write_json : rlog_write_text;
        if (o->trace_out)
            bad |= write_file(o->trace_out, log, fn, "trace");
        else
            bad |= fn(log, stdout);
    }
    if (o->pcap)
        bad |= write_file(o->pcap, log, rlog_write_pcap, "pcap");
    if (o->pcapng)
        bad |= write_file(o->pcapng, log, rlog_write_pcapng, "pcapng");
    if (o->svg)
        bad |= write_file(o->svg, log, rlog_write_svg, "svg");
    if (o->dot)
        bad |= write_file(o->dot, log, rlog_write_dot, "state diagram");
    if (o->ladder)
        bad |= rlog_write_ladder(log, stdout, o->width);
    return bad ? -1 : 0;
}

static void print_summary(const run_opts *o, lsim *s, long checked, long failed)
{
    if (!o->quiet) {
        if (s) {
            printf("%s  seed %llu  profile %s  ended at t=", o->cfg.file,
                   (unsigned long long)s->seed, s->profile.name);
            char t[40];
            sim_time_format(sim_world_now(net_world(s->net)), t, sizeof t);
            printf("%ss\n", t);
            for (uint32_t i = 0; i < net_sock_count(s->net); i++)
                print_endpoint(s, net_sock_at(s->net, i));
        }
        if (failed)
            printf("FAIL: %ld of %ld expectations failed\n", failed, checked);
        else if (checked)
            printf("PASS: %ld expectations held\n", checked);
        else
            printf("PASS (no expectations were checked)\n");
    }
}

static int cmd_run(int argc, char **argv)
{
    run_opts o;
    int rc = parse_run(argc, argv, &o);
    if (rc)
        return rc;
    struct exp_run *sched = NULL;
    if (o.schedule && !(sched = cli_schedule_begin(&o.cfg, o.schedule, o.settle)))
        return 2;
    lua_State *L = lsim_runtime_new(&o.cfg);
    if (!L) {
        fprintf(stderr, "tcpsim: out of memory\n");
        return 2;
    }
    const char *err;
    rc = lsim_runtime_run(L, &err);
    if (rc != 0) {
        fflush(stdout);
        fprintf(stderr, "tcpsim: error: %s\n", err);
        if (sched)
            cli_schedule_end(sched);
        lsim_runtime_free(L);
        return 2;
    }
    lsim *sims[8];
    uint32_t nsims = lsim_runtime_sims(L, sims, 8);
    lsim *s = nsims ? sims[0] : NULL;
    if (nsims > 1 && (o.trace || o.pcap || o.pcapng || o.svg || o.dot || o.ladder))
        fprintf(stderr, "tcpsim: note: the scenario made %u simulations; outputs show the first\n",
                nsims);
    if (s && write_outputs(&o, s) != 0)
        rc = 2;
    long checked, failed;
    lsim_expect_counts(L, &checked, &failed);
    print_summary(&o, s, checked, failed);
    if (sched && cli_schedule_end(sched))
        rc = 1;
    lsim_runtime_free(L);
    if (rc)
        return rc;
    return failed ? 1 : 0;
}

static int cmd_profiles(void)
{
    const char *const *names = tcp_profile_names();
    for (int i = 0; names[i]; i++) {
        const tcp_profile *p = tcp_profile_find(names[i]);
        char msl[32], tw[32], fin[32], rmin[32];
        sim_duration_format(p->msl_ns, msl, sizeof msl);
        sim_duration_format(p->time_wait_ns ? p->time_wait_ns : 2 * p->msl_ns, tw, sizeof tw);
        sim_duration_format(p->fin_wait_2_timeout_ns, fin, sizeof fin);
        sim_duration_format(p->rto_min_ns, rmin, sizeof rmin);
        printf("%-8s msl %-6s time_wait %-6s fin_timeout %-6s rto_min %-6s syn_retries %u\n",
               p->name, msl, tw, p->fin_wait_2_timeout_ns ? fin : "none", rmin, p->syn_retries);
    }
    printf("\nknobs (in tcpsim.new{...} or sim:host{...}):");
    const char *const *k = lsim_profile_knobs();
    for (int i = 0; k[i]; i++)
        printf("%s%s", i % 6 ? " " : "\n  ", k[i]);
    printf("\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(MAIN_HELP, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "run") == 0)
        return cmd_run(argc, argv);
    if (strcmp(argv[1], "test") == 0)
        return cli_test(argc, argv);
    if (strcmp(argv[1], "explore") == 0)
        return cli_explore(argc, argv);
    if (strcmp(argv[1], "profiles") == 0)
        return cmd_profiles();
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("tcpsim 0.1.0\n");
        return 0;
    }
    fprintf(stderr, "tcpsim: unknown command '%s'\n%s", argv[1], MAIN_HELP);
    return 2;
}
