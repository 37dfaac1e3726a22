/*
 * cmd_kernel — `tcpsim kernel FILE.lua`: the scenario run twice, once
 * entirely in simulation under the linux profile and once with one host
 * played by this machine's Linux kernel in real time (sim/net/net_kern.h),
 * then compared: the two ladders, both state traces, and a verdict per
 * check (states, segments, timing).
 *
 * The kernel host: --kernel-host NAME, else the scenario's own
 * `-- kernel-host: NAME` line, else the rule of kernel_rule() below.
 *
 * Exit status: 0 the runs agree, 1 they differ (the first divergence of
 * each failing check is named), 2 the command, the scenario or the machine
 * is wrong (no root, TUN or netns: one line saying which), 3 the kernel
 * endpoint cannot play the scenario (one line "refused: FILE:LINE: why").
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "cli.h"
#include "kern.h"
#include "net_kern.h"
#include "render.h"

typedef struct kopts {
    lsim_config cfg;
    const char *khost, *pcap; /* khost NULL: the header line or the rule */
    uint64_t tol_ns;
    int width;
    bool ladder;
} kopts;

/* One segment as compared: sender, flags, seq/ack relative to each side's
 * ISN, payload length, whether the link dropped it, when it was sent. */
typedef struct kseg {
    uint64_t t_ns;
    uint32_t from;
    uint8_t flags;
    uint32_t rseq, rack;
    uint32_t len;
    bool dropped;
} kseg;

typedef struct krun {
    lua_State *L;
    lsim *s;
    long checked, failed;
    kseg *segs;
    size_t nsegs;
} krun;

static int kusage(const char *msg, const char *arg)
{
    fprintf(stderr, "tcpsim kernel: %s%s%s\n(try tcpsim kernel --help)\n", msg, arg ? " " : "",
            arg ? arg : "");
    return 2;
}

static int parse(int argc, char **argv, kopts *o)
{
    memset(o, 0, sizeof *o);
    o->tol_ns = 20 * SIM_MS;
    o->width = 80;
    o->ladder = true;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--profile") == 0)
            return kusage("the comparison is with the linux profile; --profile is not taken", NULL);
        if (strcmp(a, "--draws") == 0)
            return kusage("both runs draw keyed (docs/kernel.md); --draws is not taken", NULL);
        int used = cli_common_opt(&o->cfg, argc, argv, i);
        if (used < 0)
            return 2;
        if (used) {
            i += used - 1;
            continue;
        }
        char err[160];
        uint64_t w;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(cli_help("kernel"), stdout);
            exit(0);
        } else if (strcmp(a, "--no-ladder") == 0) {
            o->ladder = false;
            continue;
        } else if (a[0] != '-') {
            if (o->cfg.file)
                return kusage("one scenario file at a time; also got", a);
            o->cfg.file = a;
            continue;
        } else if (!v) {
            return kusage("this option needs a value:", a);
        } else if (strcmp(a, "--kernel-host") == 0) {
            o->khost = v;
        } else if (strcmp(a, "--pcap") == 0) {
            o->pcap = v;
        } else if (strcmp(a, "--tolerance") == 0) {
            if (sim_duration_parse(v, &o->tol_ns, err, sizeof err) != 0)
                return kusage("--tolerance:", err);
        } else if (strcmp(a, "--width") == 0) {
            if (cli_parse_u64(v, &w) != 0 || w < 40 || w > 1000)
                return kusage("--width must be in [40,1000], got", v);
            o->width = (int)w;
        } else {
            return kusage("unknown option", a);
        }
        i++;
    }
    if (!o->cfg.file)
        return kusage("kernel needs a scenario file", NULL);
    o->cfg.profile = "linux";
    /* Both runs draw each segment's fate from the segment (net.h, keyed
     * draws): real-time timing moves segments, and a draw that followed the
     * order of datagrams would then fall on another one in each run. */
    o->cfg.draws = "keyed";
    return 0;
}

/* ---- The segments of a run ---- */

static bool was_dropped(const rlog *log, size_t send)
{
    for (size_t i = send + 1; i < rlog_count(log); i++) {
        const rlog_entry *e = rlog_at(log, i);
        if (e->kind == RLOG_DROP && e->send_index == send)
            return true;
    }
    return false;
}

static void collect(krun *r)
{
    const rlog *log = r->s->log;
    uint32_t isn[64];
    bool have[64] = {false};
    r->segs = calloc(rlog_count(log) + 1, sizeof *r->segs);
    if (!r->segs)
        abort();
    for (size_t i = 0; i < rlog_count(log); i++) {
        const rlog_entry *e = rlog_at(log, i);
        if (e->kind != RLOG_SEND || !e->seg_ok || e->src_host >= 64 || e->dst_host >= 64)
            continue;
        if (!have[e->src_host] || (e->seg->flags & TCP_SYN)) {
            isn[e->src_host] = e->seg->seq;
            have[e->src_host] = true;
        }
        kseg *k = &r->segs[r->nsegs++];
        k->t_ns = e->time_ns;
        k->from = e->src_host;
        k->flags = e->seg->flags & (uint8_t)~TCP_PSH;
        k->rseq = e->seg->seq - isn[e->src_host];
        k->rack =
            (e->seg->flags & TCP_ACK) && have[e->dst_host] ? e->seg->ack - isn[e->dst_host] : 0;
        k->len = e->seg->len;
        k->dropped = was_dropped(log, i);
    }
}

static void seg_text(const krun *r, const kseg *k, char *buf, size_t len)
{
    static const struct {
        uint8_t bit;
        const char *name;
    } F[] = {{TCP_SYN, "SYN"}, {TCP_FIN, "FIN"}, {TCP_RST, "RST"}, {TCP_ACK, "ACK"}};
    char fl[32] = "";
    for (size_t i = 0; i < 4; i++)
        if (k->flags & F[i].bit)
            snprintf(fl + strlen(fl), sizeof fl - strlen(fl), "%s%s", *fl ? "," : "", F[i].name);
    snprintf(buf, len, "%s %s seq %u ack %u len %u%s", rlog_host_name(r->s->log, k->from), fl,
             k->rseq, k->rack, k->len, k->dropped ? " (dropped)" : "");
}

/* ---- Runs ---- */

static int run_once(const lsim_config *cfg, krun *r, const char *what)
{
    memset(r, 0, sizeof *r);
    r->L = lsim_runtime_new(cfg);
    if (!r->L) {
        fprintf(stderr, "tcpsim kernel: out of memory\n");
        return 2;
    }
    const char *err;
    if (lsim_runtime_run(r->L, &err) != 0) {
        fflush(stdout);
        if (strcmp(what, "kernel") == 0 && strstr(err, NET_KERN_REFUSAL)) {
            fprintf(stderr, "tcpsim kernel: refused: %s\n", err);
            return 3;
        }
        fprintf(stderr, "tcpsim kernel: %s run: error: %s\n", what, err);
        return 2;
    }
    lsim *sims[1];
    if (lsim_runtime_sims(r->L, sims, 1) != 1) {
        fprintf(stderr, "tcpsim kernel: %s run: the scenario made no simulation\n", what);
        return 2;
    }
    r->s = sims[0];
    lsim_expect_counts(r->L, &r->checked, &r->failed);
    collect(r);
    return 0;
}

static void free_run(krun *r)
{
    free(r->segs);
    if (r->L)
        lsim_runtime_free(r->L);
}

/* ---- Which host the kernel plays ---- */

/* The NAME of the scenario's first line `-- kernel-host: NAME`: 1 found,
 * 0 none (or the file cannot be read: the run reports that). */
static int header_host(const char *file, char *out, size_t len)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return 0;
    char line[512];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        static const char key[] = "-- kernel-host:";
        if (strncmp(line, key, sizeof key - 1) != 0)
            continue;
        const char *p = line + sizeof key - 1;
        while (*p == ' ' || *p == '\t')
            p++;
        size_t n = 0;
        while (p[n] && !isspace((unsigned char)p[n]))
            n++;
        if (n > 0 && n < len) {
            snprintf(out, len, "%.*s", (int)n, p);
            found = 1;
        }
    }
    fclose(f);
    return found;
}

/* The rule when the scenario names no host: of the hosts that hold a
 * socket in the simulated run, the last one made whose sockets never enter
 * TIME_WAIT (the kernel's TIME_WAIT costs 60 s of wall time, a simulated
 * one none); when every such host enters TIME_WAIT, the last one made.
 * NULL when no host holds a socket. */
static const char *kernel_rule(const krun *sr)
{
    const net *n = sr->s->net;
    long best = -1, any = -1;
    for (uint32_t h = 0; h < net_host_count(n); h++) {
        bool holds = false, tw = false;
        for (uint32_t i = 0; i < net_sock_count(n); i++) {
            const net_sock *k = net_sock_at(n, i);
            if (k->host != h)
                continue;
            holds = true;
            for (uint32_t j = 0; j < k->ntrace; j++)
                tw = tw || net_sock_step(k, j)->state == TCP_TIME_WAIT;
        }
        if (holds)
            any = h;
        if (holds && !tw)
            best = h;
    }
    if (best < 0)
        best = any;
    return best < 0 ? NULL : sim_host_name(net_host_sim(n, (uint32_t)best));
}

/* ---- Verdicts ---- */

static void print_traces(const krun *r, const char *what)
{
    const net *n = r->s->net;
    printf("%s states:\n", what);
    for (uint32_t i = 0; i < net_sock_count(n); i++) {
        const net_sock *k = net_sock_at(n, i);
        printf("  %-3s %-5u", sim_host_name(net_host_sim(n, k->host)), (unsigned)k->lport);
        for (uint32_t j = 0; j < k->ntrace; j++) {
            const net_trace_step *st = net_sock_step(k, j);
            printf("%s%s%s", j ? " -> " : " ", strstr(net_step_note(n, st), "missed") ? "(?) " : "",
                   tcp_state_name(st->state));
        }
        printf("\n");
    }
}

/* The states of a record without repeats, and (when entered is given) the
 * virtual time each was entered. */
static size_t states_of(const net_sock *k, tcp_state *out, uint64_t *entered, size_t cap)
{
    size_t m = 0;
    for (uint32_t j = 0; j < k->ntrace && m < cap; j++) {
        const net_trace_step *st = net_sock_step(k, j);
        if (m > 0 && out[m - 1] == st->state)
            continue;
        if (entered)
            entered[m] = st->time_ns;
        out[m++] = (tcp_state)st->state;
    }
    return m;
}

/* Whether the kernel's sampled states y follow the simulation's x. A state
 * the simulation left at the instant it entered it (within one segment or
 * call: on a FIN that also acknowledges ours, FIN_WAIT_1 -> FIN_WAIT_2 ->
 * TIME_WAIT, as Linux's tcp_rcv_state_process passes it too) lies between
 * two samples of the kernel, which cannot see it; the kernel run may lack
 * it, and *unseen counts it (*which names the last). Otherwise *ix and *iy
 * are where the two part. */
static bool states_follow(const tcp_state *x, const uint64_t *ex, size_t nx, const tcp_state *y,
                          size_t ny, size_t *ix, size_t *iy, unsigned *unseen, tcp_state *which)
{
    size_t i = 0, j = 0;
    while (i < nx && j < ny) {
        if (x[i] == y[j]) {
            i++, j++;
        } else if (i > 0 && i + 1 < nx && ex[i] == ex[i + 1]) {
            *which = x[i++];
            (*unseen)++;
        } else {
            break;
        }
    }
    *ix = i, *iy = j;
    return i == nx && j == ny;
}

static bool check_states(const krun *sr, const krun *kr)
{
    const net *a = sr->s->net, *b = kr->s->net;
    if (net_sock_count(a) != net_sock_count(b)) {
        printf("states:   DIFFER  simulation has %u sockets, kernel run %u\n", net_sock_count(a),
               net_sock_count(b));
        return false;
    }
    unsigned unseen = 0;
    tcp_state which = TCP_CLOSED;
    for (uint32_t i = 0; i < net_sock_count(a); i++) {
        tcp_state x[64], y[64];
        uint64_t ex[64];
        size_t nx = states_of(net_sock_at(a, i), x, ex, 64);
        size_t ny = states_of(net_sock_at(b, i), y, NULL, 64), ix, iy;
        if (states_follow(x, ex, nx, y, ny, &ix, &iy, &unseen, &which))
            continue;
        printf("states:   DIFFER  socket %u (%s), state %zu: simulation %s, kernel run %s\n", i,
               sim_host_name(net_host_sim(a, net_sock_at(a, i)->host)), ix + 1,
               ix < nx ? tcp_state_name(x[ix]) : "(ends)",
               iy < ny ? tcp_state_name(y[iy]) : "(ends)");
        return false;
    }
    if (unseen)
        printf("states:   agree   (%u sockets; %u state%s the simulation left at the instant it "
               "entered it, such as %s, not sampled)\n",
               net_sock_count(a), unseen, unseen == 1 ? "" : "s", tcp_state_name(which));
    else
        printf("states:   agree   (%u sockets)\n", net_sock_count(a));
    return true;
}

static bool seg_same(const kseg *x, const kseg *y)
{
    return x->from == y->from && x->flags == y->flags && x->rseq == y->rseq && x->rack == y->rack &&
           x->len == y->len && x->dropped == y->dropped;
}

/* The index in r of the n-th segment (from 0) sent by host `from`, or -1. */
static long nth_from(const krun *r, uint32_t from, size_t n)
{
    for (size_t i = 0; i < r->nsegs; i++)
        if (r->segs[i].from == from && n-- == 0)
            return (long)i;
    return -1;
}

/* How many segments host `from` sent before index i. */
static size_t ordinal(const krun *r, size_t i)
{
    size_t n = 0;
    for (size_t j = 0; j < i; j++)
        n += r->segs[j].from == r->segs[i].from;
    return n;
}

/* Segments are matched per sender, each host's in the order it sent them:
 * two hosts sending at the same instant may be logged in either order. The
 * first simulated segment without its twin is the divergence. match[i] is
 * the kernel run's index of simulated segment i (or -1). */
static bool check_segments(const krun *sr, const krun *kr, long *match)
{
    size_t i;
    long j = 0;
    for (i = 0; i < sr->nsegs; i++) {
        j = nth_from(kr, sr->segs[i].from, ordinal(sr, i));
        match[i] = j;
        if (j < 0 || !seg_same(&sr->segs[i], &kr->segs[j]))
            break;
    }
    if (i == sr->nsegs && sr->nsegs == kr->nsegs) {
        printf("segments: agree   (%zu segments)\n", sr->nsegs);
        return true;
    }
    char a[96] = "(none)", b[96] = "(none)";
    if (i < sr->nsegs) {
        seg_text(sr, &sr->segs[i], a, sizeof a);
        if (j >= 0)
            seg_text(kr, &kr->segs[j], b, sizeof b);
        match[i] = -1;
    } else { /* the kernel run sent more: its first segment without a twin */
        for (size_t k = 0; k < kr->nsegs; k++)
            if (nth_from(sr, kr->segs[k].from, ordinal(kr, k)) < 0) {
                seg_text(kr, &kr->segs[k], b, sizeof b);
                break;
            }
    }
    printf("segments: DIFFER  simulated segment %zu: simulation %s; kernel run %s\n", i + 1, a, b);
    return false;
}

/* Whether times x (simulation) and y (kernel run) of one interval agree. */
static bool close_enough(uint64_t x, uint64_t y, uint64_t tol_ns)
{
    uint64_t d = x > y ? x - y : y - x;
    return d <= tol_ns + x / 20;
}

/* The time of segment i since the one before it in the run and since the
 * one before it from the same host (0: the run's start). */
static void since(const krun *r, size_t i, uint64_t *prev, uint64_t *same)
{
    *prev = r->segs[i].t_ns - (i ? r->segs[i - 1].t_ns : 0);
    *same = r->segs[i].t_ns;
    for (size_t j = i; j-- > 0;)
        if (r->segs[j].from == r->segs[i].from) {
            *same = r->segs[i].t_ns - r->segs[j].t_ns;
            break;
        }
}

/* A segment's timing agrees when its time since the run began, since the
 * segment before it, or since its sender's previous segment is within the
 * tolerance: a segment the kernel sent late then does not make every later
 * one late, and a timer is measured from what armed it. */
static bool check_timing(const krun *sr, const krun *kr, const long *match, uint64_t tol_ns)
{
    size_t n = 0;
    for (size_t i = 0; i < sr->nsegs && match[i] >= 0; i++, n++) {
        size_t j = (size_t)match[i];
        uint64_t sp, ss, kp, ks;
        since(sr, i, &sp, &ss);
        since(kr, j, &kp, &ks);
        if (close_enough(sr->segs[i].t_ns, kr->segs[j].t_ns, tol_ns) ||
            close_enough(sp, kp, tol_ns) || close_enough(ss, ks, tol_ns))
            continue;
        char a[96];
        seg_text(sr, &sr->segs[i], a, sizeof a);
        printf("timing:   DIFFER  segment %zu (%s): at %.3f ms, %.3f ms after the segment before, "
               "%.3f ms after its sender's last; kernel run %.3f, %.3f, %.3f ms\n",
               i + 1, a, (double)sr->segs[i].t_ns / 1e6, (double)sp / 1e6, (double)ss / 1e6,
               (double)kr->segs[j].t_ns / 1e6, (double)kp / 1e6, (double)ks / 1e6);
        return false;
    }
    printf("timing:   agree   (%zu segments compared, tolerance %.0f ms + 5 %%)\n", n,
           (double)tol_ns / 1e6);
    return true;
}

static bool seg_named_alike(const kseg *x, const kseg *y)
{
    return x->from == y->from && x->flags == y->flags && x->rseq == y->rseq && x->rack == y->rack &&
           x->len == y->len;
}

/* The index in r of the n-th (from 0) segment named as x, or -1. */
static long nth_alike(const krun *r, const kseg *x, size_t n)
{
    for (size_t i = 0; i < r->nsegs; i++)
        if (seg_named_alike(&r->segs[i], x) && n-- == 0)
            return (long)i;
    return -1;
}

/* Keyed draws (docs/kernel.md): the n-th sending of a segment meets the
 * same fate on the link in both runs, whatever the timing. Checked over
 * every segment both runs sent, matched by name and occurrence, not by
 * position; a report of the draws, not part of the verdict. */
static bool check_fates(const krun *sr, const krun *kr)
{
    size_t both = 0, dropped = 0;
    for (size_t i = 0; i < sr->nsegs; i++) {
        size_t n = 0;
        for (size_t j = 0; j < i; j++)
            n += seg_named_alike(&sr->segs[j], &sr->segs[i]);
        long k = nth_alike(kr, &sr->segs[i], n);
        if (k < 0)
            continue;
        both++;
        if (sr->segs[i].dropped == kr->segs[k].dropped) {
            dropped += sr->segs[i].dropped;
            continue;
        }
        char a[96];
        seg_text(sr, &sr->segs[i], a, sizeof a);
        printf("fates:    DIFFER  %s, sending %zu: %s in the simulation only\n", a, n + 1,
               sr->segs[i].dropped ? "dropped" : "delivered");
        return false;
    }
    printf("fates:    agree   (%zu segments sent in both runs, %zu of them dropped in both)\n",
           both, dropped);
    return true;
}

static void show_run(const kopts *o, const krun *r, const char *what)
{
    printf("==== %s ====\n", what);
    if (o->ladder) {
        rlog_ladder_opts lo = {.width = o->width, .relative_seq = true};
        rlog_write_ladder_opts(r->s->log, stdout, &lo);
    }
    print_traces(r, what);
    printf("expectations: %ld checked, %ld failed\n\n", r->checked, r->failed);
}

static int write_pcap(const char *path, const rlog *log)
{
    FILE *f = fopen(path, "wb");
    if (!f || rlog_write_pcap(log, f) != 0) {
        fprintf(stderr, "tcpsim kernel: cannot write %s\n", path);
        if (f)
            fclose(f);
        return -1;
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* The host the kernel plays: --kernel-host, the scenario's line, or the
 * rule; *how says which. NULL when the rule finds no host. */
static const char *choose_host(const kopts *o, const krun *sr, char *named, size_t len,
                               const char **how)
{
    *how = "--kernel-host";
    if (o->khost)
        return o->khost;
    *how = "the scenario's kernel-host line";
    if (header_host(o->cfg.file, named, len))
        return named;
    *how = "the rule: the last host made whose sockets avoid TIME_WAIT";
    return kernel_rule(sr);
}

/* Prints both runs and the verdicts; returns the exit status. */
static int report(const kopts *o, const krun *sr, const krun *kr, const char *how)
{
    struct utsname u;
    if (uname(&u) != 0)
        snprintf(u.release, sizeof u.release, "(unknown)");
    printf("%s: host %s played by Linux %s (namespace %s; host chosen by %s), the rest by "
           "tcpsim (linux profile)\n\n",
           o->cfg.file, o->cfg.kernel_host, u.release, net_kern_ns_name(kr->s->net), how);
    show_run(o, sr, "simulation");
    show_run(o, kr, "kernel run");
    long *match = calloc(sr->nsegs + 1, sizeof *match);
    if (!match)
        abort();
    bool ok = check_states(sr, kr);
    ok = check_segments(sr, kr, match) && ok;
    ok = check_timing(sr, kr, match, o->tol_ns) && ok;
    check_fates(sr, kr);
    free(match);
    if (net_kern_gaps(kr->s->net))
        printf("note: (?) marks a state entered after one the sampling missed\n");
    printf("%s\n", ok ? "AGREE" : "DIFFER");
    if (o->pcap && write_pcap(o->pcap, kr->s->log) != 0)
        return 2;
    return ok ? 0 : 1;
}

int cli_kernel(int argc, char **argv)
{
    kopts o;
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc;
    char why[256];
    if (kern_probe(why, sizeof why) != 0) {
        fprintf(stderr, "tcpsim kernel: %s\n", why);
        return 2;
    }
    krun sr, kr;
    memset(&kr, 0, sizeof kr);
    char named[64];
    const char *how = "";
    rc = run_once(&o.cfg, &sr, "simulated");
    if (rc == 0 && !(o.cfg.kernel_host = choose_host(&o, &sr, named, sizeof named, &how))) {
        fprintf(stderr, "tcpsim kernel: no host of the scenario holds a socket\n");
        rc = 2;
    }
    o.cfg.kernel_tol_ns = o.tol_ns;
    if (rc == 0)
        rc = run_once(&o.cfg, &kr, "kernel");
    if (rc == 0 && !net_kern_ns_name(kr.s->net)[0]) {
        fprintf(stderr, "tcpsim kernel: no host named '%s' reached the kernel\n",
                o.cfg.kernel_host);
        rc = 2;
    }
    if (rc == 0)
        rc = report(&o, &sr, &kr, how);
    free_run(&kr);
    free_run(&sr);
    return rc;
}
