/*
 * tcpsim — the command: `tcpsim run` runs one scenario and shows what
 * happened; `tcpsim test` runs many (cli_test.c); `profiles`, `new`, `help`
 * and `man` are in cli_cmds.c and cli_help.c.
 *
 * Exit status: 0 every expectation held; 1 an expectation failed, or the
 * scenario checked none; 2 the scenario or the command line is wrong
 * (syntax or runtime error, bad argument, a limit reached).
 *
 * When standard output carries the trace (--trace without --trace-out), all
 * else the run prints (the scenario's print(), FAIL lines, the summary) goes
 * to standard error, so `tcpsim run s.lua --trace json | jq` always reads
 * clean JSON.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "cli.h"
#include "lsim.h"
#include "render.h"
#include "rlog_html.h"
#include "rlog_why.h"

#define MAX_SIMS LSIM_SIMS_MAX

typedef struct run_opts {
    lsim_config cfg;
    const char *file; /* as given; "-" is standard input */
    bool ladder, quiet, watch;
    int width;
    uint32_t sim; /* 1-based; 0: every simulation */
    const char *trace, *trace_out, *pcap, *pcapng, *svg, *dot;
    bool why;                      /* the RFC rule behind each state change (text trace, ladder) */
    bool relative_seq;             /* ladder and SVG: seq/ack relative to each side's ISN */
    bool slides;                   /* --svg-style slides */
    const char *endpoint;          /* --endpoint: the state diagram of these sockets only */
    const char *pcap_at;           /* --pcap-at: a host, sender, receiver or HOST:PEER */
    const char *lang;              /* --lang: the HTML page's language (en, zh) */
    const char *html;              /* the stepper page */
    const char *schedule, *settle; /* tcpsim explore's replay (--schedule, --settle) */
    const char *swarm;             /* tcpsim swarm's replay (--swarm KNOBS) */
    uint64_t svg_from, svg_to;     /* --svg-window (ns): the part of the run the SVG draws */
    bool svg_control;              /* --svg-control: SYN, FIN and RST segments only */
} run_opts;

static const char *const RUN_OPTIONS[] = {
    "--seed",         "--profile",       "--ladder",   "--width",
    "--trace",        "--trace-out",     "--pcap",     "--pcapng",
    "--svg",          "--state-diagram", "--quiet",    "-I",
    "--unsafe",       "--max-events",    "--max-time", "--max-instructions",
    "--max-memory",   "--max-wall",      "--sim",      "--watch",
    "--html",         "--why",           "--check",    "--help",
    "--relative-seq", "--svg-style",     "--endpoint", "--pcap-at",
    "--svg-window",   "--svg-control",   "--lang",     "--schedule",
    "--settle",       "--swarm",         "--draws",    NULL};

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

/* A size in bytes: N, or N with K, M or G (binary units, an optional
 * "iB" or "B" after them). Returns 0, or -1 unless it is in [1 MiB, 1 TiB]. */
static int parse_size(const char *v, size_t *out)
{
    char digits[32];
    size_t n = strspn(v, "0123456789");
    if (n == 0 || n >= sizeof digits)
        return -1;
    memcpy(digits, v, n);
    digits[n] = 0;
    uint64_t num, shift = 0;
    if (cli_parse_u64(digits, &num) != 0)
        return -1;
    const char *unit = v + n;
    if (*unit == 'K' || *unit == 'k')
        shift = 10;
    else if (*unit == 'M')
        shift = 20;
    else if (*unit == 'G')
        shift = 30;
    if (shift)
        unit++;
    if (*unit && strcmp(unit, shift ? "iB" : "B") && strcmp(unit, "B"))
        return -1;
    if (num > (1ull << 40) >> shift)
        return -1;
    num <<= shift;
    if (num < (1u << 20))
        return -1;
    *out = (size_t)num;
    return 0;
}

/* --max-memory and --max-wall. Returns 0, or -1 (reported). */
static int limit_value(lsim_config *cfg, const char *a, const char *v)
{
    if (strcmp(a, "--max-memory") == 0) {
        if (parse_size(v, &cfg->max_memory) != 0) {
            fprintf(stderr,
                    "tcpsim: --max-memory needs a size from 1MiB to 1TiB (e.g. 512MiB, 2G), "
                    "got '%s'\n",
                    v);
            return -1;
        }
        return 0;
    }
    char err[160];
    sim_time_t ns;
    if (sim_duration_parse(v, &ns, err, sizeof err) != 0 || ns < SIM_MS ||
        ns > 30ull * 24 * SIM_H) {
        fprintf(stderr,
                "tcpsim: --max-wall needs a duration from 1ms to 30 days (e.g. 30s), "
                "got '%s'\n",
                v);
        return -1;
    }
    cfg->max_wall_ms = ns / SIM_MS;
    return 0;
}

static int common_value(lsim_config *cfg, const char *a, const char *v)
{
    uint64_t n;
    if (strcmp(a, "--max-memory") == 0 || strcmp(a, "--max-wall") == 0)
        return limit_value(cfg, a, v);
    if (strcmp(a, "-I") == 0) {
        if (cfg->nlib_paths >= CLI_MAX_LIB_PATHS) {
            fprintf(stderr, "tcpsim: at most %d -I paths\n", CLI_MAX_LIB_PATHS);
            return -1;
        }
        cfg->lib_paths[cfg->nlib_paths++] = v;
    } else if (strcmp(a, "--profile") == 0) {
        if (!tcp_profile_find(v)) {
            const char *near = cli_suggest(v, tcp_profile_names());
            fprintf(stderr, "tcpsim: unknown profile '%s'", v);
            if (near)
                fprintf(stderr, " (did you mean %s?)", near);
            fprintf(stderr, "; the profiles are rfc9293, linux and bsd\n");
            return -1;
        }
        cfg->profile = v;
    } else if (strcmp(a, "--draws") == 0) {
        if (strcmp(v, "stream") != 0 && strcmp(v, "keyed") != 0) {
            fprintf(stderr, "tcpsim: --draws must be stream or keyed, got '%s'\n", v);
            return -1;
        }
        cfg->draws = v;
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
    return 0;
}

/* Options shared with `tcpsim test` (passed on to each run). Returns the
 * number of argv entries used (1 or 2), 0 if not one of these, -1 on error. */
int cli_common_opt(lsim_config *cfg, int argc, char **argv, int i)
{
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--unsafe") == 0) {
        cfg->unsafe = true;
        return 1;
    }
    if (strcmp(a, "--check") == 0) {
        cfg->check = true;
        return 1;
    }
    if (strcmp(a, "-I") && strcmp(a, "--profile") && strcmp(a, "--draws") &&
        strcmp(a, "--max-events") && strcmp(a, "--max-time") && strcmp(a, "--max-instructions") &&
        strcmp(a, "--max-memory") && strcmp(a, "--max-wall"))
        return 0;
    if (!v) {
        fprintf(stderr, "tcpsim: %s needs a value\n", a);
        return -1;
    }
    return common_value(cfg, a, v) == 0 ? 2 : -1;
}

/* Prints "tcpsim run: MSG 'ARG'" and the hint; returns the exit status 2. */
static int usage_error(const char *msg, const char *arg)
{
    if (arg)
        fprintf(stderr, "tcpsim run: %s '%s'\n(try tcpsim run --help)\n", msg, arg);
    else
        fprintf(stderr, "tcpsim run: %s\n(try tcpsim run --help)\n", msg);
    return 2;
}

static const char **file_slot(run_opts *o, const char *a)
{
    if (strcmp(a, "--trace-out") == 0)
        return &o->trace_out;
    if (strcmp(a, "--pcap") == 0)
        return &o->pcap;
    if (strcmp(a, "--pcapng") == 0)
        return &o->pcapng;
    if (strcmp(a, "--svg") == 0)
        return &o->svg;
    if (strcmp(a, "--state-diagram") == 0)
        return &o->dot;
    if (strcmp(a, "--html") == 0)
        return &o->html;
    if (strcmp(a, "--schedule") == 0)
        return &o->schedule;
    if (strcmp(a, "--settle") == 0)
        return &o->settle;
    if (strcmp(a, "--swarm") == 0)
        return &o->swarm;
    return NULL;
}

/* One option with a value (--seed, --width, --trace, --sim). Returns 1 when
 * it was one (and consumed), 0 when not, 2 on error (already reported). */
/* --svg-window FROM-TO: whole milliseconds, TO > FROM, kept in ns. */
static int svg_window(run_opts *o, const char *v)
{
    const char *dash = v ? strchr(v, '-') : NULL;
    char from[24];
    uint64_t a, b;
    if (!dash || dash == v || (size_t)(dash - v) >= sizeof from)
        return -1;
    memcpy(from, v, (size_t)(dash - v));
    from[dash - v] = '\0';
    if (cli_parse_u64(from, &a) != 0 || cli_parse_u64(dash + 1, &b) != 0 || b <= a ||
        b > UINT64_MAX / 1000000u)
        return -1;
    o->svg_from = a * 1000000u;
    o->svg_to = b * 1000000u;
    return 0;
}

static int valued_opt(run_opts *o, const char *a, const char *v)
{
    uint64_t n;
    if (strcmp(a, "--seed") == 0) {
        if (cli_parse_u64(v, &o->cfg.seed) != 0 || o->cfg.seed > INT64_MAX)
            return usage_error("--seed needs a non-negative integer, got", v ? v : "");
        o->cfg.seed_set = true;
    } else if (strcmp(a, "--width") == 0) {
        if (cli_parse_u64(v, &n) != 0 || n < 40 || n > 1000)
            return usage_error("--width must be in [40,1000], got", v ? v : "");
        o->width = (int)n;
    } else if (strcmp(a, "--trace") == 0) {
        if (!v || (strcmp(v, "text") && strcmp(v, "json")))
            return usage_error("--trace takes text or json, got", v ? v : "");
        o->trace = v;
    } else if (strcmp(a, "--svg-style") == 0) {
        if (!v || (strcmp(v, "plain") && strcmp(v, "slides")))
            return usage_error("--svg-style takes plain or slides, got", v ? v : "");
        o->slides = strcmp(v, "slides") == 0;
    } else if (strcmp(a, "--lang") == 0) {
        if (!v || (strcmp(v, "en") && strcmp(v, "zh")))
            return usage_error("--lang takes en or zh, got", v ? v : "");
        o->lang = v;
    } else if (strcmp(a, "--svg-window") == 0) {
        if (svg_window(o, v) != 0)
            return usage_error(
                "--svg-window takes FROM-TO in whole milliseconds, TO after FROM, got", v ? v : "");
    } else if (strcmp(a, "--pcap-at") == 0) {
        if (!v || !*v)
            return usage_error("--pcap-at needs a host, sender, receiver or HOST:PEER, got", "");
        o->pcap_at = v;
    } else if (strcmp(a, "--endpoint") == 0) {
        if (!v || !*v)
            return usage_error("--endpoint needs a host name (HOST or HOST#SOCKET), got", "");
        o->endpoint = v;
    } else if (strcmp(a, "--sim") == 0) {
        if (cli_parse_u64(v, &n) != 0 || n < 1 || n > MAX_SIMS)
            return usage_error("--sim needs a simulation number from 1, got", v ? v : "");
        o->sim = (uint32_t)n;
    } else {
        const char **slot = file_slot(o, a);
        if (!slot)
            return 0;
        if (!v)
            return usage_error("this option needs a file name:", a);
        *slot = v;
    }
    return 1;
}

static int parse_run(int argc, char **argv, run_opts *o)
{
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        int used = cli_common_opt(&o->cfg, argc, argv, i);
        if (used < 0)
            return 2;
        if (used) {
            i += used - 1;
            continue;
        }
        int r = valued_opt(o, a, i + 1 < argc ? argv[i + 1] : NULL);
        if (r == 2)
            return 2;
        if (r == 1) {
            i++;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(cli_help("run"), stdout);
            exit(0);
        } else if (strcmp(a, "--ladder") == 0) {
            o->ladder = true;
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            o->quiet = true;
        } else if (strcmp(a, "--why") == 0) {
            o->why = true;
        } else if (strcmp(a, "--relative-seq") == 0) {
            o->relative_seq = true;
        } else if (strcmp(a, "--svg-control") == 0) {
            o->svg_control = true;
        } else if (strcmp(a, "--watch") == 0) {
            o->watch = true;
        } else if (a[0] == '-' && a[1]) {
            return cli_unknown_option("run", a, RUN_OPTIONS);
        } else if (!o->file) {
            o->file = a;
        } else {
            return usage_error("one scenario file at a time (use tcpsim test); also got", a);
        }
    }
    if (!o->file)
        return usage_error("run needs a scenario file (or - for standard input)", NULL);
    if (o->watch && strcmp(o->file, "-") == 0)
        return usage_error("--watch needs a file, not standard input", NULL);
    return 0;
}

typedef int (*writer_fn)(const rlog *, FILE *);

/* path with ".TAG" before the extension of its last component: "out.pcap"
 * and "sim2" give "out.sim2.pcap"; a name without an extension (or only a
 * leading dot) gets it at the end: "out.sim2". Returns the length wanted
 * (snprintf's). */
static int path_tagged(const char *path, const char *tag, char *buf, size_t len)
{
    const char *base = strrchr(path, '/');
    const char *dot = strrchr(base ? base + 1 : path, '.');
    if (!dot || dot == (base ? base + 1 : path))
        return snprintf(buf, len, "%s.%s", path, tag);
    return snprintf(buf, len, "%.*s.%s%s", (int)(dot - path), path, tag, dot);
}

/* "out.pcap" for simulation k of n > 1 becomes "out.sim2.pcap". */
static void sim_path(const char *path, uint32_t k, uint32_t n, char *buf, size_t len)
{
    char tag[16];
    if (n <= 1) {
        snprintf(buf, len, "%s", path);
        return;
    }
    snprintf(tag, sizeof tag, "sim%u", k);
    path_tagged(path, tag, buf, len);
}

/* ---- Outputs written whole or not at all ----
 * Each output is written to PATH.tmp-PID and renamed over PATH once it is
 * complete; a failed write removes the temporary file, so no run leaves a
 * half-written pcap, SVG or JSON, and the hard stop of the wall-clock limit
 * removes the one being written. */

static char out_tmp[4200]; /* the temporary file being written, "" if none */

static void cli_outputs_abandon(void)
{
    if (out_tmp[0])
        unlink(out_tmp);
}

/* Writes `path` through fn(ctx, f) atomically. Returns 0 or -1 (reported). */
static int write_atomic(const char *path, const char *what, int (*fn)(const void *, FILE *),
                        const void *ctx)
{
    char tmp[sizeof out_tmp];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        fprintf(stderr, "tcpsim: cannot write %s %s: %s\n", what, path, strerror(errno));
        return -1;
    }
    memcpy(out_tmp, tmp, sizeof tmp);
    errno = 0;
    int rc = fn(ctx, f);
    int closed = fclose(f);
    if (rc != 0 || closed != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "tcpsim: error writing %s %s%s%s\n", what, path, errno ? ": " : "",
                errno ? strerror(errno) : "");
        unlink(tmp);
        out_tmp[0] = 0;
        return -1;
    }
    out_tmp[0] = 0;
    return 0;
}

typedef struct log_writer {
    const rlog *log;
    writer_fn fn;
} log_writer;

static int write_log(const void *ctx, FILE *f)
{
    const log_writer *w = ctx;
    return w->fn(w->log, f);
}

static int write_file(const char *path, const rlog *log, writer_fn fn, const char *what)
{
    log_writer w = {log, fn};
    return write_atomic(path, what, write_log, &w);
}

static int write_named(const char *path, uint32_t k, uint32_t n, const rlog *log, writer_fn fn,
                       const char *what)
{
    char name[4096];
    sim_path(path, k, n, name, sizeof name);
    return write_file(name, log, fn, what);
}

typedef struct html_writer {
    const rlog *log;
    rlog_html_opts opts;
} html_writer;

static int write_html_page(const void *ctx, FILE *f)
{
    const html_writer *w = ctx;
    return rlog_write_html(w->log, f, &w->opts);
}

typedef struct svg_writer {
    const rlog *log;
    rlog_ladder_opts opts;
} svg_writer;

static int write_svg_page(const void *ctx, FILE *f)
{
    const svg_writer *w = ctx;
    return rlog_write_svg_opts(w->log, f, &w->opts);
}

static int write_svg(const char *path, const run_opts *o, const lsim *s, uint32_t k, uint32_t n)
{
    char name[4096], title[512];
    snprintf(title, sizeof title, "%s \xe2\x80\x94 profile %s, seed %llu",
             o->cfg.file ? o->cfg.file : "stdin", s->profile.name, (unsigned long long)s->seed);
    sim_path(path, k, n, name, sizeof name);
    svg_writer w = {s->log, {.width = o->width, .relative_seq = o->relative_seq}};
    w.opts.slides = o->slides;
    w.opts.title = title;
    w.opts.from_ns = o->svg_from;
    w.opts.to_ns = o->svg_to;
    w.opts.control_only = o->svg_control;
    return write_atomic(name, "svg", write_svg_page, &w);
}

/* The host called name[0..len), or -1. */
static int64_t host_named(const rlog *log, const char *name, size_t len)
{
    for (size_t h = 0; h < rlog_host_count(log); h++) {
        const char *hn = rlog_host_name(log, (uint32_t)h);
        if (strlen(hn) == len && strncmp(hn, name, len) == 0)
            return (int64_t)h;
    }
    return -1;
}

/* --pcap-at's value: a host (its name wins), `sender`, `receiver`, or
 * HOST:PEER (HOST's end of the links to PEER). -1 with an error naming the
 * hosts there are. */
static int capture_point(const rlog *log, const char *v, rlog_capture_point *at)
{
    int64_t h = host_named(log, v, strlen(v)), p = -1;
    *at = (rlog_capture_point){.kind = RLOG_CAPTURE_HOST, .host = (uint32_t)h};
    if (h >= 0)
        return 0;
    if (strcmp(v, "sender") == 0 || strcmp(v, "receiver") == 0) {
        at->kind = v[0] == 's' ? RLOG_CAPTURE_SENDERS : RLOG_CAPTURE_RECEIVERS;
        return 0;
    }
    for (const char *c = strchr(v, ':'); c && (h < 0 || p < 0); c = strchr(c + 1, ':')) {
        h = host_named(log, v, (size_t)(c - v));
        p = host_named(log, c + 1, strlen(c + 1));
    }
    if (h >= 0 && p >= 0 && h != p) {
        *at = (rlog_capture_point){RLOG_CAPTURE_LINK_END, (uint32_t)h, (uint32_t)p};
        return 0;
    }
    fprintf(stderr, "tcpsim: --pcap-at %s: no such host; the hosts are", v);
    for (size_t k = 0; k < rlog_host_count(log); k++)
        fprintf(stderr, "%s %s", k ? "," : "", rlog_host_name(log, (uint32_t)k));
    fputs(" (or sender, receiver, HOST:PEER for HOST's end of the link to PEER)\n", stderr);
    return -1;
}

typedef struct capture_writer {
    const rlog *log;
    rlog_capture_point at;
    bool ng;
} capture_writer;

static int write_capture_file(const void *ctx, FILE *f)
{
    const capture_writer *w = ctx;
    return w->ng ? rlog_write_pcapng_point(w->log, f, &w->at)
                 : rlog_write_pcap_point(w->log, f, &w->at);
}

static int write_capture(const char *name, const rlog *log, const rlog_capture_point *at, bool ng)
{
    capture_writer w = {log, *at, ng};
    return write_atomic(name, ng ? "pcapng" : "pcap", write_capture_file, &w);
}

/* More hosts than this and the default (one capture per host) is refused:
 * a run of thousands of hosts would fill a folder; --pcap-at picks one. */
#define CAPTURE_HOSTS_MAX 64

/* Host h's name as it goes into a file name: letters, digits, '-' and '_'
 * kept, every other byte written as '_'. */
static void host_file_tag(const rlog *log, uint32_t h, char *buf, size_t len)
{
    const char *name = rlog_host_name(log, h);
    size_t i = 0;
    for (; name[i] && i + 1 < len; i++) {
        unsigned char c = (unsigned char)name[i];
        buf[i] = (isalnum(c) && c < 128) || c == '-' || c == '_' ? (char)c : '_';
    }
    buf[i] = '\0';
}

/* The default capture with more than two hosts: one file per host, as a
 * tcpdump on each machine would write, named "out.HOST.pcap" (after the
 * simulation's tag: "out.sim2.HOST.pcap"). Two hosts whose names give the
 * same file name are an error, as is a run of more than CAPTURE_HOSTS_MAX. */
static int write_host_captures(const char *path, const rlog *log, bool ng, uint32_t k, uint32_t n,
                               bool quiet)
{
    uint32_t hosts = (uint32_t)rlog_host_count(log);
    char tags[CAPTURE_HOSTS_MAX][64], base[4096], name[4096];
    if (hosts > CAPTURE_HOSTS_MAX) {
        fprintf(stderr,
                "tcpsim: --%s: %u hosts; one capture per host (the default above two) is for "
                "at most %d: choose one with --pcap-at HOST, sender or receiver\n",
                ng ? "pcapng" : "pcap", hosts, CAPTURE_HOSTS_MAX);
        return -1;
    }
    for (uint32_t h = 0; h < hosts; h++) {
        host_file_tag(log, h, tags[h], sizeof tags[h]);
        for (uint32_t j = 0; j < h; j++)
            if (strcmp(tags[j], tags[h]) == 0) {
                fprintf(stderr,
                        "tcpsim: --%s: hosts %s and %s would share the file name %s; "
                        "choose one with --pcap-at\n",
                        ng ? "pcapng" : "pcap", rlog_host_name(log, j), rlog_host_name(log, h),
                        tags[h]);
                return -1;
            }
    }
    sim_path(path, k, n, base, sizeof base);
    int bad = 0;
    for (uint32_t h = 0; h < hosts; h++) {
        rlog_capture_point at = {.kind = RLOG_CAPTURE_HOST, .host = h};
        if (path_tagged(base, tags[h], name, sizeof name) >= (int)sizeof name) {
            fprintf(stderr, "tcpsim: --%s %s: the name is too long\n", ng ? "pcapng" : "pcap",
                    path);
            return -1;
        }
        bad |= write_capture(name, log, &at, ng);
        if (!quiet)
            fprintf(stderr, "%s%s", h ? ", " : "tcpsim: one capture per host: ", name);
    }
    if (!quiet)
        fputs(" (--pcap-at sender for one file)\n", stderr);
    return bad;
}

/* --pcap and --pcapng: where --pcap-at says; by default at the links'
 * sending ends with one or two hosts, one capture per host with more. */
static int write_captures(const run_opts *o, const rlog *log, uint32_t k, uint32_t n)
{
    rlog_capture_point at = {.kind = RLOG_CAPTURE_SENDERS};
    if (o->pcap_at && capture_point(log, o->pcap_at, &at) != 0)
        return -1;
    bool per_host = !o->pcap_at && rlog_host_count(log) > 2;
    int bad = 0;
    for (int ng = 0; ng <= 1; ng++) {
        const char *path = ng ? o->pcapng : o->pcap;
        char name[4096];
        if (!path)
            continue;
        if (per_host) {
            bad |= write_host_captures(path, log, ng, k, n, o->quiet);
            continue;
        }
        sim_path(path, k, n, name, sizeof name);
        bad |= write_capture(name, log, &at, ng);
    }
    return bad;
}

typedef struct dot_writer {
    const rlog *log;
    const char *endpoint;
} dot_writer;

static int write_dot_file(const void *ctx, FILE *f)
{
    const dot_writer *w = ctx;
    return rlog_write_dot_opts(w->log, f, w->endpoint);
}

/* The state diagram; with --endpoint, of the endpoints it names only (one
 * at least, else an error naming those there are). */
static int write_dot(const char *path, const run_opts *o, const rlog *log, uint32_t k, uint32_t n)
{
    char names[1024], name[4096];
    if (o->endpoint && rlog_dot_endpoints(log, o->endpoint, names, sizeof names) == 0) {
        fprintf(stderr, "tcpsim: --endpoint %s: no such endpoint; this run has %s\n", o->endpoint,
                names[0] ? names : "none");
        return -1;
    }
    sim_path(path, k, n, name, sizeof name);
    dot_writer w = {log, o->endpoint};
    return write_atomic(name, "state diagram", write_dot_file, &w);
}

/* The stepper page, told the scenario, seed and each host's profile. */
static int write_html(const char *path, const run_opts *o, const lsim *s, uint32_t k, uint32_t n)
{
    const tcp_profile *profiles[RLOG_HTML_MAX_HOSTS];
    uint32_t nh = net_host_count(s->net);
    if (nh > RLOG_HTML_MAX_HOSTS)
        nh = RLOG_HTML_MAX_HOSTS;
    for (uint32_t i = 0; i < nh; i++)
        profiles[i] = net_host_profile(s->net, i); /* host i is the run log's host id i */
    html_writer w = {s->log, {o->cfg.file, s->profile.name, s->seed, profiles, nh, o->lang}};
    char name[4096];
    sim_path(path, k, n, name, sizeof name);
    return write_atomic(name, "html", write_html_page, &w);
}

/* The outputs of simulation k of n (1-based). With several, text on
 * standard output is headed "== simulation K of N ==" (not JSON: a JSON
 * stream stays one record per line). */
static int write_outputs(const run_opts *o, const lsim *s, uint32_t k, uint32_t n)
{
    const rlog *log = s->log;
    char why[256];
    /* --check (on in debug builds): the run log's invariants too, once per
     * simulation before anything is written from it; O(entries). */
    if (net_check(s->net) && rlog_check(log, why, sizeof why) != 0) {
        fprintf(stderr, "tcpsim: simulation %u: run log invariant broken: %s\n", k, why);
        return -1;
    }
    int bad = 0;
    bool header =
        n > 1 && ((o->trace && !o->trace_out && strcmp(o->trace, "text") == 0) || o->ladder);
    if (header)
        printf("== simulation %u of %u ==\n", k, n);
    if (o->trace) {
        writer_fn fn = strcmp(o->trace, "json") == 0 ? rlog_write_json
                       : o->why                      ? rlog_write_text_why
                                                     : rlog_write_text;
        if (o->trace_out)
            bad |= write_named(o->trace_out, k, n, log, fn, "trace");
        else
            bad |= fn(log, stdout);
    }
    if (o->pcap || o->pcapng)
        bad |= write_captures(o, log, k, n);
    if (o->svg)
        bad |= write_svg(o->svg, o, s, k, n);
    if (o->dot)
        bad |= write_dot(o->dot, o, log, k, n);
    if (o->ladder) {
        rlog_ladder_opts lo = {.width = o->width, .relative_seq = o->relative_seq};
        bad |= rlog_write_ladder_opts(log, stdout, &lo);
    }
    if (o->ladder && o->why)
        bad |= rlog_write_why_list(log, stdout);
    if (o->html)
        bad |= write_html(o->html, o, s, k, n);
    return bad ? -1 : 0;
}

static void print_endpoint(FILE *out, const lsim *s, const net_sock *k)
{
    char label[96], peer[24] = "";
    const char *hname = sim_host_name(net_host_sim(s->net, k->host));
    if (k->raddr) {
        const sim_host *ph = sim_host_by_addr(net_world(s->net), k->raddr);
        snprintf(peer, sizeof peer, " > %s:%u", ph ? sim_host_name(ph) : "?", (unsigned)k->rport);
    }
    snprintf(label, sizeof label, "%s:%u%s", hname, (unsigned)k->lport, peer);
    fprintf(out, "  %-24s", label);
    for (uint32_t i = 0; i < k->ntrace; i++)
        fprintf(out, "%s%s", i ? " -> " : "", tcp_state_name(net_sock_step(k, i)->state));
    if (k->error)
        fprintf(out, "  [%s]", tcp_err_name(k->error));
    fprintf(out, "\n");
}

static void print_sim(FILE *out, const run_opts *o, const lsim *s, uint32_t k, uint32_t n)
{
    char t[40];
    sim_time_format(sim_world_now(net_world(s->net)), t, sizeof t);
    fprintf(out, "%s", strcmp(o->file, "-") == 0 ? "stdin" : o->file);
    if (n > 1)
        fprintf(out, "  simulation %u of %u", k, n);
    fprintf(out, "  seed %llu  profile %s  ended at t=%ss\n", (unsigned long long)s->seed,
            s->profile.name, t);
    for (uint32_t i = 0; i < net_sock_count(s->net); i++)
        print_endpoint(out, s, net_sock_at(s->net, i));
}

static void print_verdict(FILE *out, const run_opts *o, long checked, long failed)
{
    if (failed)
        fprintf(out, "FAIL: %ld of %ld expectations failed\n", failed, checked);
    else if (!checked)
        fprintf(out, "FAIL: no expectations were checked (state what must happen with expect)\n");
    else if (!o->quiet)
        fprintf(out, "PASS: %ld expectations held\n", checked);
}

/* True when standard output carries the trace: then the rest goes to stderr. */
static bool stdout_is_data(const run_opts *o)
{
    return o->trace && !o->trace_out;
}

/* Lua's short source names shorten a long path to "...tail"; the message
 * gets the whole path back, as given, so editors and CI can link to it. */
static void print_error(const run_opts *o, const char *err)
{
    const char *shown = strcmp(o->file, "-") == 0 ? "stdin" : o->file;
    if (strncmp(err, "...", 3) == 0) {
        const char *colon = strchr(err + 3, ':');
        size_t tail = colon ? (size_t)(colon - (err + 3)) : 0;
        size_t len = strlen(shown);
        if (colon && tail <= len && strncmp(shown + len - tail, err + 3, tail) == 0) {
            fprintf(stderr, "tcpsim: error: %s%s\n", shown, colon);
            return;
        }
    }
    fprintf(stderr, "tcpsim: error: %s\n", err);
}

static int run_script(const run_opts *o, lua_State *L, FILE *out)
{
    int saved = -1;
    if (out == stderr) {
        fflush(stdout);
        saved = dup(1);
        if (saved >= 0)
            dup2(2, 1);
    }
    const char *err;
    int rc = lsim_runtime_run(L, &err);
    if (saved >= 0) {
        fflush(stdout);
        dup2(saved, 1);
        close(saved);
    }
    if (rc != 0) {
        fflush(stdout);
        print_error(o, err);
    }
    return rc;
}

static int run_limited(const run_opts *o, const lsim_config *limits);

/* A run that failed writes no output; one an earlier run left under a name
 * of this command line would pass for this run's: those names are found
 * before the run (cli_stale.c), and removed if it fails (also from the hard
 * stops). */
static void stale_scan(const run_opts *o)
{
    const char *paths[] = {o->trace_out, o->pcap, o->pcapng, o->svg, o->dot, o->html};
    cli_stale_scan(paths, sizeof paths / sizeof *paths, strcmp(o->file, "-") == 0 ? NULL : o->file);
}

/* The run in progress, for the hard stops (wall clock, memory). */
static const run_opts *stopping;

/* ---- The wall-clock limit's hard stop ---- */

/* The count hook stops Lua code at --max-wall with its file:line; time
 * spent inside one C call (a pathological string.find) is stopped by this
 * alarm, a second later: the message, no output left behind, exit 2.
 * Once the run has failed and said why, the alarm stays armed, since
 * lua_close still runs the scenario's finalizers, but adds no second
 * error: freeing a large heap on a loaded machine may outlast the second. */
#define WALL_GRACE_MS   1000u
#define WALL_DEFAULT_MS (3600u * 1000u)

static char wall_msg[512];
static size_t wall_msg_len;
static volatile sig_atomic_t wall_said; /* the run's error is out */

static void wall_expired(int sig)
{
    (void)sig;
    ssize_t w = wall_said ? 0 : write(2, wall_msg, wall_msg_len);
    (void)w;
    cli_outputs_abandon();
    cli_stale_remove();
    _exit(2);
}

static void wall_arm(const lsim_config *cfg, const char *file)
{
    uint64_t ms = cfg->max_wall_ms + WALL_GRACE_MS;
    int n = snprintf(wall_msg, sizeof wall_msg,
                     "tcpsim: error: %s: wall-clock limit of %llu ms reached inside a library "
                     "call (raise it with --max-wall)\n",
                     file, (unsigned long long)cfg->max_wall_ms);
    wall_msg_len = n > 0 && (size_t)n < sizeof wall_msg ? (size_t)n : sizeof wall_msg - 1;
    wall_said = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = wall_expired;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {(time_t)(ms / 1000), (suseconds_t)(ms % 1000 * 1000)}};
    setitimer(ITIMER_REAL, &it, NULL);
}

static void wall_disarm(void)
{
    struct itimerval it = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &it, NULL);
}

/* Runs the scenario once: outputs, summary, verdict. Returns the exit status. */
static int run_once(const run_opts *o)
{
    lsim_config cfg = o->cfg;
    if (!cfg.max_wall_ms)
        cfg.max_wall_ms = WALL_DEFAULT_MS;
    stale_scan(o);
    wall_arm(&cfg, strcmp(o->file, "-") == 0 ? "stdin" : o->file);
    int rc = run_limited(o, &cfg);
    wall_disarm();
    cli_stale_forget();
    return rc;
}

/* The run whose C allocation was refused at the memory budget
 * (lsim_config.on_memory_stop): it ends as a failed run does, from inside
 * malloc: the scenario's printed output, the error, no output left. */
static void memory_stop(const char *msg)
{
    fflush(stdout);
    print_error(stopping, msg);
    cli_outputs_abandon();
    cli_stale_remove();
    _exit(2);
}

static int run_limited(const run_opts *o, const lsim_config *limits)
{
    lsim_config cfg = *limits;
    stopping = o;
    cfg.on_memory_stop = memory_stop;
    /* --schedule, or the scenario's own: tcpsim explore steers the nets */
    struct cli_sched *sched = cli_schedule_begin(&cfg, o->schedule, o->settle, o->swarm);
    if (!sched) {
        cli_stale_remove();
        return 2;
    }
    lua_State *L = lsim_runtime_new(&cfg);
    if (!L) {
        fprintf(stderr, "tcpsim: out of memory\n");
        cli_stale_remove();
        if (sched)
            cli_schedule_end(sched);
        return 2;
    }
    FILE *out = stdout_is_data(o) ? stderr : stdout;
    int rc = run_script(o, L, out);
    if (rc != 0) {
        wall_said = 1; /* run_script printed the error */
        cli_stale_remove();
        if (sched)
            cli_schedule_end(sched);
        lsim_runtime_free(L);
        return rc;
    }
    lsim *sims[MAX_SIMS];
    uint32_t n = lsim_runtime_sims(L, sims, MAX_SIMS);
    if (o->sim > n) {
        fprintf(stderr, "tcpsim: --sim %u: the scenario made %u simulation%s\n", o->sim, n,
                n == 1 ? "" : "s");
        cli_stale_remove();
        cli_schedule_end(sched);
        lsim_runtime_free(L);
        return 2;
    }
    uint32_t first = o->sim ? o->sim : 1, last = o->sim ? o->sim : n;
    for (uint32_t k = first; k <= last; k++)
        if (!sims[k - 1]->net) { /* finished by hand (__gc): nothing left to write */
            if (o->trace || o->pcap || o->pcapng || o->svg || o->dot || o->html || o->ladder) {
                fprintf(stderr, "tcpsim: simulation %u was freed by the scenario: no outputs\n", k);
                rc = 2;
            }
        } else if (write_outputs(o, sims[k - 1], k, o->sim ? 1 : n) != 0)
            rc = 2;
    if (rc == 2)
        cli_stale_remove(); /* failed as the paths above do: no output passes for this run's */
    long checked, failed;
    lsim_expect_counts(L, &checked, &failed);
    fflush(stdout);
    for (uint32_t k = first; k <= last && !o->quiet; k++)
        if (sims[k - 1]->net)
            print_sim(out, o, sims[k - 1], k, n);
    print_verdict(out, o, checked, failed);
    fflush(out);
    if (sched && cli_schedule_end(sched) && rc == 0)
        rc = 1; /* an invariant failed under the schedule (printed); an exit 2 stays */
    lsim_runtime_free(L);
    if (rc)
        return rc;
    return failed || !checked ? 1 : 0;
}

static int run_cb(void *ctx)
{
    return run_once(ctx);
}

static int cmd_run(int argc, char **argv)
{
    run_opts o;
    memset(&o, 0, sizeof o);
    o.width = 80;
    int rc = parse_run(argc, argv, &o);
    if (rc)
        return rc;
    o.cfg.file = strcmp(o.file, "-") == 0 ? NULL : o.file;
    o.cfg.no_payload = !o.pcap && !o.pcapng; /* the only outputs that read payload */
    o.cfg.no_tcbs = !o.html;                 /* the stepper page is the only one that reads TCBs */
    /* Only the outputs read connection entries (the scenario's link queries
     * read packets); --check keeps them, so the log's joins are checked. */
    o.cfg.no_conns = !o.trace && !o.pcap && !o.pcapng && !o.svg && !o.dot && !o.ladder && !o.html &&
                     !o.cfg.check;
    if (cli_add_lib_paths(&o.cfg, argv[0]) != 0)
        return 2;
    if (o.watch)
        return cli_watch(o.file, run_cb, &o);
    return run_once(&o);
}

static const char *const COMMANDS[] = {"run",  "test", "pkt",     "profiles", "new",
                                       "help", "man",  "version", NULL};

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(cli_help("tcpsim"), stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0)
        return cli_help_cmd(argc, argv);
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc, argv);
    if (strcmp(cmd, "test") == 0)
        return cli_test(argc, argv);
    if (strcmp(cmd, "explore") == 0)
        return cli_explore(argc, argv);
    if (strcmp(cmd, "swarm") == 0)
        return cli_swarm(argc, argv);
    if (strcmp(cmd, "kernel") == 0)
        return cli_kernel(argc, argv);
    if (strcmp(cmd, "pkt") == 0)
        return cli_pkt(argc, argv);
    if (strcmp(cmd, "profiles") == 0)
        return cli_profiles(argc, argv);
    if (strcmp(cmd, "new") == 0)
        return cli_new(argc, argv);
    if (strcmp(cmd, "man") == 0)
        return cli_man(argc, argv);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        if (argc > 2 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
            fputs(cli_help("version"), stdout);
            return 0;
        }
        printf("tcpsim %s\n", CLI_VERSION);
        return 0;
    }
    const char *near = cli_suggest(cmd, COMMANDS);
    fprintf(stderr, "tcpsim: unknown command '%s'", cmd);
    if (near)
        fprintf(stderr, " (did you mean %s?)", near);
    fprintf(stderr, "\n(try tcpsim --help)\n");
    return 2;
}
