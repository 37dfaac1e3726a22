/*
 * cli_cmds — the small subcommands (`profiles`, `new`) and the helpers every
 * subcommand shares: "did you mean", the processor count, the growth
 * helper, and where require() looks beyond the scenario's own folder.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* ---- Did you mean ---- */

/* Edit distance (insert, delete, substitute, swap two neighbours), capped:
 * words longer than 63 bytes count as far from everything. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return SIZE_MAX;
    size_t d[64][64];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

const char *cli_suggest(const char *word, const char *const *candidates)
{
    size_t len = strlen(word), limit = len < 6 ? 1 : len < 12 ? 2 : 3;
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    for (int i = 0; candidates[i]; i++) {
        size_t d = edit_distance(word, candidates[i]);
        /* a prefix of at least 4 characters also counts: --lad, --trac */
        if (len >= 4 && strncmp(candidates[i], word, len) == 0 && d > limit)
            d = limit;
        if (d <= limit && d < best_d) {
            best = candidates[i];
            best_d = d;
        }
    }
    return best;
}

int cli_unknown_option(const char *cmd, const char *arg, const char *const *options)
{
    const char *near = cli_suggest(arg, options);
    fprintf(stderr, "tcpsim %s: unknown option '%s'", cmd, arg);
    if (near)
        fprintf(stderr, " (did you mean %s?)", near);
    fprintf(stderr, "\n(try tcpsim %s --help)\n", cmd);
    return 2;
}

long cli_cores(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}

void *cli_grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap : 64;
    while (c < need)
        c *= 2;
    p = c <= SIZE_MAX / elem ? realloc(p, c * elem) : NULL;
    if (!p) {
        fputs("tcpsim: out of memory\n", stderr);
        abort();
    }
    *cap = c;
    return p;
}

char *cli_slurp(FILE *f, size_t max)
{
    fflush(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    size_t keep = len > 0 ? (size_t)len : 0;
    if (keep > max)
        keep = max;
    char *text = malloc(keep + 80);
    if (!text)
        abort();
    size_t n = keep ? fread(text, 1, keep, f) : 0;
    text[n] = 0;
    for (size_t i = 0; i < n; i++)
        if (text[i] == 0)
            text[i] = '?';
    if (len > 0 && (size_t)len > keep)
        snprintf(text + n, 80, "\n[... %ld more bytes of output left out]\n", len - (long)keep);
    fclose(f);
    return text;
}

bool cli_ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

void cli_scan_scenarios(const char *dir, void (*add)(void *ctx, const char *path), void *ctx)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "lib") == 0)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s%s%s", dir, cli_ends_with(dir, "/") ? "" : "/", e->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            cli_scan_scenarios(path, add, ctx);
        else if (cli_ends_with(e->d_name, ".lua") || cli_ends_with(e->d_name, ".pkt"))
            add(ctx, path);
    }
    closedir(d);
}

/* ---- require() paths ---- */

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int add_lib(lsim_config *cfg, const char *dir)
{
    if (cfg->nlib_paths >= CLI_MAX_LIB_PATHS) {
        fprintf(stderr, "tcpsim: too many library folders (-I and TCPSIM_PATH: at most %d)\n",
                CLI_MAX_LIB_PATHS);
        return -1;
    }
    cfg->lib_paths[cfg->nlib_paths++] = dir;
    return 0;
}

int cli_add_lib_paths(lsim_config *cfg, const char *argv0)
{
    /* The config keeps pointers: these strings live as long as the process. */
    static char env[4096], installed[PATH_MAX + 32];
    const char *tp = getenv("TCPSIM_PATH");
    if (tp && *tp) {
        snprintf(env, sizeof env, "%s", tp);
        for (char *part = strtok(env, ":"); part; part = strtok(NULL, ":"))
            if (add_lib(cfg, part) != 0)
                return -1;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        if (!argv0 || !realpath(argv0, exe))
            return 0;
    } else {
        exe[n] = 0;
    }
    char *slash = strrchr(exe, '/');
    if (!slash)
        return 0;
    *slash = 0;
    snprintf(installed, sizeof installed, "%s/../share/tcpsim/lib", exe);
    return is_dir(installed) ? add_lib(cfg, installed) : 0;
}

/* ---- tcpsim profiles ---- */

/* What a profile fixes and no knob changes. */
static void print_fixed(const tcp_profile *p)
{
    printf("  fixed (no knob):\n");
    printf("    %-24s %s\n", "models", tcp_profile_system(p->name));
    printf("    %-24s %s\n", "syn_in_time_wait",
           p->tw_syn == TCP_TW_SYN_CHALLENGE      ? "challenge ACK (RFC 5961 §4)"
           : p->tw_syn == TCP_TW_SYN_ACCEPT_NEWER ? "reopens when above RCV.NXT (RFC 1122)"
                                                  : "reopens when above RCV.NXT or with a newer "
                                                    "timestamp (RFC 1122, RFC 6191)");
    printf("    %-24s %s\n", "backlog_full",
           p->backlog_full == TCP_BACKLOG_DROP ? "drop the SYN" : "answer RST");
    printf("    %-24s %s\n", "send_timestamps", p->send_timestamps ? "true" : "false");
    printf("    %-24s %s\n", "send_wscale", p->send_wscale ? "true" : "false");
    printf("    %-24s %s\n", "send_sack_perm", p->send_sack_perm ? "true" : "false");
    printf("    %-24s %s\n", "rst_on_data_after_close",
           p->rst_on_data_after_close ? "true" : "false");
    if (p->init_cwnd_segs)
        printf("    %-24s %u segments\n", "initial_window", p->init_cwnd_segs);
    else
        printf("    %-24s %s\n", "initial_window", "RFC 5681 §3.1 rule");
}

static int profiles_verbose(void)
{
    const char *const *names = tcp_profile_names();
    const char *const *knobs = lsim_profile_knobs();
    for (int i = 0; names[i]; i++) {
        const tcp_profile *p = tcp_profile_find(names[i]);
        printf("%s%s\n", i ? "\n" : "", p->name);
        for (size_t k = 0; knobs[k]; k++) {
            char v[32];
            lsim_profile_knob_format(p, k, v, sizeof v);
            printf("  %-26s %s\n", knobs[k], v);
        }
        print_fixed(p);
    }
    printf("\nEach knob can be set in tcpsim.new{...} or sim:host{...}; docs/stack.md gives the\n"
           "kernel source and constant behind each value.\n");
    return 0;
}

static int profiles_short(void)
{
    const char *const *names = tcp_profile_names();
    for (int i = 0; names[i]; i++)
        printf("%-8s models %s\n", names[i], tcp_profile_system(names[i]));
    printf("\n");
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
    printf("\nknobs (in tcpsim.new{...} or sim:host{...}; tcpsim profiles -v shows each value):");
    const char *const *k = lsim_profile_knobs();
    for (int i = 0; k[i]; i++)
        printf("%s%s", i % 6 ? " " : "\n  ", k[i]);
    printf("\n");
    return 0;
}

int cli_profiles(int argc, char **argv)
{
    static const char *const opts[] = {"-v", "--verbose", "--help", NULL};
    bool verbose = false;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(cli_help("profiles"), stdout);
            return 0;
        }
        if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0)
            verbose = true;
        else
            return cli_unknown_option("profiles", argv[i], opts);
    }
    return verbose ? profiles_verbose() : profiles_short();
}

/* ---- tcpsim new ---- */

static const char TEMPLATE[] =
    "-- %s: what this scenario shows, in one line.\n"
    "--\n"
    "-- Run it with `tcpsim run %s --ladder`. The API is in docs/scenarios.md\n"
    "-- (/usr/share/doc/tcpsim when installed); `tcpsim profiles -v` lists the knobs.\n"
    "\n"
    "-- A simulation: the seed makes it repeatable (same seed, same run), the\n"
    "-- profile picks the behaviour: \"rfc9293\", \"linux\" or \"bsd\".\n"
    "local sim = tcpsim.new { seed = 1, profile = \"rfc9293\" }\n"
    "\n"
    "-- Two hosts (addresses 10.0.0.1 and .2) and a link between them. Link options:\n"
    "-- delay, jitter, bandwidth, loss, duplicate, reorder, mtu, ...\n"
    "local a, b = sim:host \"A\", sim:host \"B\"\n"
    "local link = sim:link(a, b, { delay = \"10ms\" })\n"
    "\n"
    "-- B listens on port 80 and A connects; accept_wait runs the simulation\n"
    "-- until B can accept the connection (the argument bounds the wait in\n"
    "-- simulated time; without one it is 10 minutes).\n"
    "local server = b:listen(80)\n"
    "local client = a:connect(b, 80)\n"
    "local peer = server:accept_wait \"1s\"\n"
    "\n"
    "-- Faults aim at single segments. Uncomment to lose B's first FIN and see\n"
    "-- it retransmitted (then fix the expected traces below):\n"
    "-- link:drop_next { from = b, flags = \"FIN\" }\n"
    "local _ = link\n"
    "\n"
    "-- A closes first, then B; sim:run() goes on until nothing is left to do.\n"
    "client:close()\n"
    "sim:run_for \"1s\"\n"
    "peer:close()\n"
    "sim:run()\n"
    "\n"
    "-- What must have happened. A scenario that checks nothing fails.\n"
    "expect(client):trace { \"CLOSED\", \"SYN_SENT\", \"ESTABLISHED\", \"FIN_WAIT_1\",\n"
    "                       \"FIN_WAIT_2\", \"TIME_WAIT\", \"CLOSED\" }\n"
    "expect(peer):trace { \"SYN_RECEIVED\", \"ESTABLISHED\", \"CLOSE_WAIT\", \"LAST_ACK\", "
    "\"CLOSED\" }\n";

int cli_new(int argc, char **argv)
{
    if (argc != 3 || argv[2][0] == '-') {
        bool help = argc > 2 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0);
        fputs(cli_help("new"), help ? stdout : stderr);
        return help ? 0 : 2;
    }
    char path[PATH_MAX];
    size_t len = strlen(argv[2]);
    bool has_ext = len > 4 && strcmp(argv[2] + len - 4, ".lua") == 0;
    snprintf(path, sizeof path, "%s%s", argv[2], has_ext ? "" : ".lua");
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) {
        fprintf(stderr, "tcpsim new: cannot create %s: %s\n", path,
                errno == EEXIST ? "it exists (tcpsim new never overwrites)" : strerror(errno));
        return 2;
    }
    FILE *f = fdopen(fd, "w");
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (!f || fprintf(f, TEMPLATE, base, path) < 0 || fclose(f) != 0) {
        fprintf(stderr, "tcpsim new: error writing %s\n", path);
        return 2;
    }
    printf("wrote %s; run it with: tcpsim run %s\n", path, path);
    return 0;
}

int cli_parse_seeds(const char *v, uint64_t *lo, uint64_t *hi)
{
    const char *dots = v ? strstr(v, "..") : NULL;
    char left[32];
    if (!dots || (size_t)(dots - v) >= sizeof left)
        return -1;
    snprintf(left, sizeof left, "%.*s", (int)(dots - v), v);
    if (cli_parse_u64(left, lo) || cli_parse_u64(dots + 2, hi) || *lo > *hi || *hi > INT64_MAX)
        return -1;
    return 0;
}

double cli_wall_seconds(void)
{
    struct timespec ts; /* for rates and progress on stderr only */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
