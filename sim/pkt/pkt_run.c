/*
 * pkt_run — the runner's frame: settings to profile knobs, the world (the
 * host under test, a raw peer joined by a zero-delay link), script times
 * (relative times from the previous event; after a "*" or a range, from
 * when the segment really left, as packetdrill does) and the walk over the
 * events. Segments are pkt_run_seg.c's, system calls pkt_run_call.c's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt_run_int.h"

#define NS_PER_S           1000000000ull
#define RUN_TS_TICK_MAX_US 1000000u /* packetdrill's limit on --tcp_ts_tick_usecs */
/* How long a "*" segment may take to come. */
#define RUN_ANY_WAIT_NS (3600ull * NS_PER_S)

const char *run_time_str(uint64_t ns, char *buf, size_t len)
{
    snprintf(buf, len, "%llu.%06llu", (unsigned long long)(ns / NS_PER_S),
             (unsigned long long)(ns % NS_PER_S / NS_PER_US));
    return buf;
}

pkt_run_verdict run_fail(run *r, pkt_run_verdict v, const pkt_event *ev, const char *fmt, ...)
{
    if (r->verdict != PKT_RUN_PASS)
        return r->verdict;
    r->verdict = v;
    int k = ev ? snprintf(r->msg, r->msg_len, "%s:%u: ", r->file, ev->line) : 0;
    if (k < 0 || (size_t)k >= r->msg_len)
        return v;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg + k, r->msg_len - (size_t)k, fmt, ap);
    va_end(ap);
    return v;
}

pkt_run_verdict run_unsupported(run *r, const pkt_event *ev, const char *what)
{
    if (r->verdict != PKT_RUN_PASS)
        return r->verdict;
    r->verdict = PKT_RUN_NOT_RUN;
    snprintf(r->msg, r->msg_len, "unsupported: %s at %s:%u", what, r->file, ev ? ev->line : 0);
    return r->verdict;
}

/* ---- Settings ---- */

static bool parse_u64(const char *v, uint64_t *out)
{
    char *end;
    if (!v || !*v)
        return false;
    unsigned long long x = strtoull(v, &end, 0);
    *out = x;
    return *end == '\0' || *end == ' ';
}

/* An option's number: decimal digits only, as packetdrill reads them
 * (config.c: atoi, atol), so "010" is ten, not octal eight; false past
 * UINT64_MAX. (Sysctl values keep parse_u64's base 0: the kernel's
 * proc_dointvec reads them with base 0.) */
static bool parse_dec(const char *v, uint64_t *out)
{
    uint64_t x = 0;
    if (!v || !*v)
        return false;
    for (; *v; v++) {
        if (*v < '0' || *v > '9' || x > (UINT64_MAX - (uint64_t)(*v - '0')) / 10u)
            return false;
        x = x * 10u + (uint64_t)(*v - '0');
    }
    *out = x;
    return true;
}

/* The middle of "min default max". */
static bool parse_middle(const char *v, uint64_t *out)
{
    const char *sp = strchr(v, ' ');
    return sp && parse_u64(sp + 1, out);
}

/* The last of "min default max" (the buffer a connection may grow to). */
static bool parse_last(const char *v, uint64_t *out)
{
    const char *sp = strrchr(v, ' ');
    return sp && sp != strchr(v, ' ') && parse_u64(sp + 1, out);
}

/* Sets the knob carrying sysctl `name`; false when none does. */
static bool set_knob(tcp_profile *p, const char *name, const char *value, bool *bad)
{
    uint64_t v = 0;
    *bad = false;
    if (!pkt_sysctl_knob(name))
        return false;
    bool mid = !strcmp(name, "tcp_rmem") || !strcmp(name, "tcp_wmem");
    *bad = !(mid ? parse_middle(value, &v) : parse_u64(value, &v));
    if (*bad)
        return true;
    if (!strcmp(name, "tcp_syn_retries"))
        p->syn_retries = (uint32_t)v;
    else if (!strcmp(name, "tcp_synack_retries"))
        p->synack_retries = (uint32_t)v;
    else if (!strcmp(name, "tcp_retries2"))
        p->data_retries = (uint32_t)v;
    else if (!strcmp(name, "tcp_keepalive_time"))
        p->keepalive_idle_ns = v * NS_PER_S;
    else if (!strcmp(name, "tcp_keepalive_intvl"))
        p->keepalive_intvl_ns = v * NS_PER_S;
    else if (!strcmp(name, "tcp_keepalive_probes"))
        p->keepalive_probes = (uint32_t)v;
    else if (!strcmp(name, "tcp_fin_timeout"))
        p->fin_wait_2_timeout_ns = v * NS_PER_S;
    else if (!strcmp(name, "tcp_timestamps"))
        p->send_timestamps = v != 0;
    else if (!strcmp(name, "tcp_window_scaling"))
        p->send_wscale = v != 0;
    else if (!strcmp(name, "tcp_sack"))
        p->send_sack_perm = v != 0;
    else if (!strcmp(name, "tcp_rmem")) {
        /* Linux takes the window scale from max(tcp_rmem[2], rmem_max)
         * (tcp_select_initial_window); rmem_max is smaller by default. */
        uint64_t max = 0;
        *bad = !parse_last(value, &max) || max > UINT32_MAX;
        p->rcvbuf = (uint32_t)v;
        p->rcvbuf_max = (uint32_t)max;
    } else if (!strcmp(name, "tcp_wmem"))
        p->sndbuf = (uint32_t)v;
    else if (!strcmp(name, "tcp_rfc1337"))
        p->tw_rst = v ? TCP_TW_RST_IGNORE : TCP_TW_RST_CLOSE;
    else if (!strcmp(name, "tcp_abort_on_overflow"))
        p->backlog_full = v ? TCP_BACKLOG_RST : TCP_BACKLOG_DROP;
    else if (!strcmp(name, "tcp_rto_min_us")) {
        *bad = v < 1 || v > INT32_MAX; /* proc_dointvec_minmax, extra1 SYSCTL_ONE */
        p->rto_min_ns = v * NS_PER_US;
    } else if (!strcmp(name, "tcp_rto_max_ms")) {
        *bad = v < 1000 || v > 120000; /* SYSCTL_ONE_THOUSAND .. TCP_RTO_MAX_SEC s */
        p->rto_max_ns = v * 1000000ull;
    } else if (!strcmp(name, "tcp_syn_linear_timeouts"))
        p->syn_linear_timeouts = (uint32_t)v;
    else if (!strcmp(name, "tcp_early_retrans"))
        p->tlp = v == 3 || v == 4; /* tcp_schedule_loss_probe */
    else if (!strcmp(name, "tcp_comp_sack_delay_ns"))
        p->comp_sack_delay_ns = v;
    else if (!strcmp(name, "tcp_comp_sack_slack_ns"))
        p->comp_sack_slack_ns = v;
    else if (!strcmp(name, "tcp_comp_sack_nr")) {
        *bad = v > 255; /* a u8 sysctl: Linux refuses a larger value */
        p->comp_sack_nr = (uint32_t)v;
    } else
        return false;
    return true;
}

/* One setting of a leading shell line: a knob, a default noted as not
 * modelled, or unsupported. */
static void apply_setting(run *r, const pkt_event *ev, const pkt_setting *st, pkt_run_info *info)
{
    bool bad = false;
    char what[160];
    if (set_knob(&r->prof, st->name, st->value, &bad)) {
        if (bad) {
            snprintf(what, sizeof what, "value '%s' of %s", st->value, st->name);
            run_unsupported(r, ev, what);
        }
        return;
    }
    if (st->from_defaults) {
        if (info->unmodelled < sizeof info->unmodelled_names / sizeof *info->unmodelled_names)
            info->unmodelled_names[info->unmodelled++] = st->name;
        return;
    }
    snprintf(what, sizeof what, "sysctl net.ipv4.%s=%s (no profile knob)", st->name, st->value);
    run_unsupported(r, ev, what);
}

static void apply_commands(run *r, pkt_run_info *info)
{
    size_t nev = pkt_script_events(r->s);
    bool started = false;
    for (size_t i = 0; i < nev && r->verdict == PKT_RUN_PASS; i++) {
        const pkt_event *ev = pkt_script_event(r->s, i);
        if (ev->kind != PKT_EV_COMMAND) {
            started = true;
            continue;
        }
        if (started && ev->time.kind == PKT_TIME_NONE)
            continue; /* a closing command runs after the verdict: no effect on it */
        if (started) {
            run_unsupported(r, ev, "shell command during the script");
            return;
        }
        for (uint32_t k = 0; k < ev->u.cmd.count && r->verdict == PKT_RUN_PASS; k++)
            apply_setting(r, ev, pkt_script_setting(r->s, ev->u.cmd.first + k), info);
    }
}

/* ---- Script options ---- */

static bool parse_ipv4(const char *v, uint32_t *out)
{
    unsigned a, b, c, d;
    char tail;
    if (sscanf(v, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4 || a > 255 || b > 255 || c > 255 ||
        d > 255)
        return false;
    *out = a << 24 | b << 16 | c << 8 | d;
    return true;
}

/* "5" or "2.5" (percent, up to three decimals) as thousandths of a
 * percent; at most 1000 %. */
static bool parse_pcm(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    int frac = -1;
    for (; *s; s++) {
        if (*s == '.' && frac < 0) {
            frac = 0;
            continue;
        }
        if (*s < '0' || *s > '9' || frac == 3 || v > 1000000u)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
        if (frac >= 0)
            frac++;
    }
    for (int k = frac < 0 ? 0 : frac; k < 3; k++)
        v *= 10;
    *out = v;
    return v <= 1000000u;
}

uint64_t run_tolerance(const run *r, uint64_t t, uint64_t prev)
{
    uint64_t delta = t > prev ? t - prev : 0;
    /* delta * pcm / 100000 without overflow (pcm <= 1000000) */
    uint64_t dyn = delta / 100000u * r->tol_pcm + delta % 100000u * r->tol_pcm / 100000u;
    return dyn > r->tol_ns ? dyn : r->tol_ns;
}

static void apply_option(run *r, const pkt_option *op)
{
    uint64_t v = 0;
    pkt_event at = {.line = op->line};
    char what[96];
    if (!strcmp(op->name, "tolerance_usecs")) {
        /* in nanoseconds it must fit 64 bits: a product that wrapped would
         * be a tolerance of a few nanoseconds (verify_time, check_ts_val) */
        if (!parse_dec(op->value, &v) || v > UINT64_MAX / NS_PER_US)
            run_fail(r, PKT_RUN_NOT_RUN, &at, "--tolerance_usecs: expected 0 to %llu, got '%s'",
                     (unsigned long long)(UINT64_MAX / NS_PER_US), op->value);
        else if (r->o->tolerance_usecs < 0)
            r->tol_ns = v * NS_PER_US;
    } else if (!strcmp(op->name, "tolerance_percent")) {
        if (!parse_pcm(op->value, &v))
            run_fail(r, PKT_RUN_NOT_RUN, &at,
                     "--tolerance_percent: expected 0 to 1000 with at most 3 decimals, got '%s'",
                     op->value);
        else if (r->o->tolerance_pcm <= 0)
            r->tol_pcm = v;
    } else if (!strcmp(op->name, "local_ip") && parse_ipv4(op->value, &r->local_ip)) {
    } else if (!strcmp(op->name, "remote_ip") && parse_ipv4(op->value, &r->remote_ip)) {
    } else if (!strcmp(op->name, "bind_port") && parse_dec(op->value, &v) && v && v < 65536) {
        r->bind_port = (uint16_t)v;
    } else if (!strcmp(op->name, "connect_port") && parse_dec(op->value, &v) && v && v < 65536) {
        r->connect_port = (uint16_t)v;
    } else if (!strcmp(op->name, "mtu") && parse_dec(op->value, &v) && v >= 576 && v <= 65535) {
        r->prof.mss = (uint16_t)(v - 40);
    } else if (!strcmp(op->name, "tcp_ts_tick_usecs")) {
        /* packetdrill's config->tcp_ts_tick_usecs: 0 (its default) leaves
         * outbound TS values unchecked; see run_seg.c, check_ts_val. Above
         * one second packetdrill refuses it (config.c: "bad
         * --tcp_ts_tick_usecs"). */
        if (!parse_dec(op->value, &v) || v > RUN_TS_TICK_MAX_US)
            run_fail(r, PKT_RUN_NOT_RUN, &at, "--tcp_ts_tick_usecs: expected 0 to %u, got '%s'",
                     RUN_TS_TICK_MAX_US, op->value);
        else
            r->ts_tick_us = v;
    } else if (!strcmp(op->name, "mss")) {
        /* packetdrill's config->mss is not an MSS either side announces:
         * every inbound TCP datagram goes to the tun device as a GSO packet
         * of that gso_size (netdev.c, linux_tun_write: virtio_net_hdr
         * gso_type TCPV4). gso_size is 16 bits; packetdrill refuses <= 0. */
        if (!parse_dec(op->value, &v) || v < 1 || v > 65535)
            run_fail(r, PKT_RUN_NOT_RUN, &at, "--mss: expected 1 to 65535, got '%s'", op->value);
        else
            r->gso_mss = (uint32_t)v;
    } else if (!strcmp(op->name, "ip_version") || !strcmp(op->name, "gateway_ip") ||
               !strcmp(op->name, "netmask_ip")) {
        /* ipv4 only (the parser checks); no gateway or netmask to set up */
    } else {
        snprintf(what, sizeof what, "--%s", op->name);
        run_unsupported(r, &at, what);
    }
}

/* Under --mss=N an inbound segment carrying more than N bytes reaches a
 * kernel as one GSO skb of ceil(len / N) segments of gso_size N, which its
 * receive path counts and measures as such (tcp_measure_rcv_mss reads
 * gso_size); one of N bytes or fewer is a plain segment, as
 * virtio_net_hdr_to_skb keeps the GSO mark only when the payload exceeds
 * gso_size ("Too small packets are not really GSO ones"). The raw peer
 * delivers a datagram as one segment and the stack has no GSO receive
 * path: the first case is unsupported, the second is what it does. */
static void check_gso_segments(run *r)
{
    char what[128];
    if (!r->gso_mss)
        return;
    for (size_t i = 0; i < pkt_script_events(r->s) && r->verdict == PKT_RUN_PASS; i++) {
        const pkt_event *ev = pkt_script_event(r->s, i);
        if (ev->kind != PKT_EV_SEGMENT || ev->u.seg.outbound || ev->u.seg.len <= r->gso_mss)
            continue;
        snprintf(what, sizeof what,
                 "an inbound segment of %u bytes under --mss=%u (a GSO packet of %u segments)",
                 ev->u.seg.len, r->gso_mss, (ev->u.seg.len + r->gso_mss - 1) / r->gso_mss);
        run_unsupported(r, ev, what);
    }
}

/* ---- The world ---- */

static int build_world(run *r)
{
    r->n = net_new(r->o->seed);
    if (!r->n)
        return -1;
    if (net_host_add(r->n, "local", r->local_ip, &r->prof, &r->host) != 0)
        return -1;
    /* The host's MSS is packetdrill's tun MTU (1500, or --mtu) less 40, held in
     * the profile: not the oversized link below, which only lets crafted
     * GRO-sized segments through. */
    net_host_keep_mss(r->n, r->host);
    r->peer = net_peer_new(r->n, "remote", r->remote_ip);
    if (!r->peer)
        return -1;
    sim_link_params lp;
    sim_link_params_default(&lp);
    lp.mtu = SIM_PACKET_MAX; /* a tun device takes GRO-sized segments */
    if (net_peer_link(r->n, r->peer, r->host, &lp, &lp, &r->link) != 0)
        return -1;
    if (r->o->on_world)
        r->o->on_world(r->o->ctx, r->n);
    return 0;
}

/* ---- Time ---- */

/* The linger limit's event: it only makes the world stop at that instant,
 * where the blocked close() is polled like after any other event. */
static void wake_nothing(sim_timer *t, void *arg)
{
    (void)t;
    (void)arg;
}

static bool blocked_pred(void *arg)
{
    run *r = arg;
    return r->blk.active && !r->blk.done && run_blocked_poll(r);
}

void run_advance(run *r, uint64_t until)
{
    sim_world *w = net_world(r->n);
    if (until < sim_world_now(w))
        until = sim_world_now(w);
    if (r->blk.active && !r->blk.done) {
        sim_world_run_until(w, blocked_pred, r, until);
        if (r->blk.done)
            run_blocked_check(r);
    }
    if (r->verdict == PKT_RUN_PASS)
        sim_world_run_until_time(w, until);
}

void run_blocked_check(run *r)
{
    run_blocked *b = &r->blk;
    const pkt_call *c = &b->ev->u.call;
    char t1[32], t2[32];
    b->active = false;
    if (b->done_ns + b->tol < b->end_ns || b->done_ns > b->end_ns + b->tol) {
        run_fail(r, PKT_RUN_MISMATCH, b->ev, "%s() returned at %s, expected at %s", c->name,
                 run_time_str(b->done_ns, t1, sizeof t1), run_time_str(b->end_ns, t2, sizeof t2));
    }
}

/* A blocking call whose end has passed must have returned by then. */
static void finish_blocked(run *r, uint64_t before)
{
    run_blocked *b = &r->blk;
    if (!b->active || before <= b->end_ns)
        return;
    if (!b->done)
        sim_world_run_until(net_world(r->n), blocked_pred, r, b->end_ns + b->tol);
    char t[32];
    if (!b->done) {
        run_fail(r, PKT_RUN_MISMATCH, b->ev, "%s() still blocked at %s, expected to return at %s",
                 b->ev->u.call.name, run_time_str(sim_world_now(net_world(r->n)), t, sizeof t),
                 run_time_str(b->end_ns, (char[32]){0}, 32));
        return;
    }
    run_blocked_check(r);
}

/* The instant an event is due: its script time from the base. */
static uint64_t event_time(const pkt_event *ev, uint64_t base)
{
    switch (ev->time.kind) {
    case PKT_TIME_ABS:
    case PKT_TIME_ABS_RANGE:
        return ev->time.start_ns;
    case PKT_TIME_REL:
    case PKT_TIME_REL_RANGE:
        return base + ev->time.start_ns;
    case PKT_TIME_ANY:
    case PKT_TIME_NONE:
        break;
    }
    return base;
}

/* The latest instant an outbound segment may leave. */
static uint64_t event_deadline(const run *r, const pkt_event *ev, uint64_t t, uint64_t base)
{
    switch (ev->time.kind) {
    case PKT_TIME_ANY:
        return t + RUN_ANY_WAIT_NS;
    case PKT_TIME_ABS_RANGE:
        return ev->time.end_ns + r->ev_tol;
    case PKT_TIME_REL_RANGE:
        return base + ev->time.end_ns + r->ev_tol;
    default:
        return t + r->ev_tol;
    }
}

static void run_event(run *r, const pkt_event *ev, uint64_t *base)
{
    uint64_t t = event_time(ev, *base);
    r->ev_tol = run_tolerance(r, t, *base);
    finish_blocked(r, t);
    if (r->verdict != PKT_RUN_PASS)
        return;
    if (ev->kind == PKT_EV_SEGMENT && ev->u.seg.outbound) {
        uint64_t actual = 0;
        run_expect(r, ev, t, event_deadline(r, ev, t, *base), &actual);
        bool moves = ev->time.kind == PKT_TIME_ANY || ev->time.kind == PKT_TIME_ABS_RANGE ||
                     ev->time.kind == PKT_TIME_REL_RANGE;
        *base = moves ? actual : t;
        return;
    }
    *base = t;
    run_advance(r, t);
    if (r->verdict != PKT_RUN_PASS)
        return;
    if (ev->kind == PKT_EV_SEGMENT)
        run_inject(r, ev);
    else
        run_call(r, ev, t);
}

static void run_init(run *r, const pkt_script *s, const pkt_run_opts *o, char *msg, size_t len)
{
    memset(r, 0, sizeof *r);
    r->s = s;
    r->o = o;
    r->file = o->file ? o->file : "script";
    r->msg = msg;
    r->msg_len = len;
    r->local_ip = 0xc0a80001u;  /* 192.168.0.1 */
    r->remote_ip = 0xc0000201u; /* 192.0.2.1 */
    r->bind_port = r->connect_port = 8080;
    r->tol_ns =
        (uint64_t)(o->tolerance_usecs >= 0 ? o->tolerance_usecs : PKT_TOLERANCE_DEFAULT_US) *
        NS_PER_US;
    r->tol_pcm = o->tolerance_pcm > 0 ? (uint64_t)o->tolerance_pcm : 0;
    for (uint32_t i = 0; i < RUN_FDS; i++)
        r->fds[i].sock = NET_NONE;
}

pkt_run_verdict pkt_run(const pkt_script *s, const pkt_run_opts *o, pkt_run_info *info, char *msg,
                        size_t msg_len)
{
    run r;
    msg[0] = '\0';
    memset(info, 0, sizeof *info);
    run_init(&r, s, o, msg, msg_len);
    const tcp_profile *p = tcp_profile_find(o->profile ? o->profile : "linux");
    if (!p)
        return run_fail(&r, PKT_RUN_NOT_RUN, NULL, "unknown profile '%s'", o->profile);
    r.prof = *p;
    /* Exact timers: a script states each segment's time within its
     * tolerance (4 ms by default), written for timers that fire on time;
     * the timer wheel's lateness (timer_hz, up to a bucket of the timeout's
     * level) is not what a script checks. */
    r.prof.timer_hz = 0;
    r.scratch = malloc(RUN_SCRATCH);
    if (!r.scratch)
        return run_fail(&r, PKT_RUN_NOT_RUN, NULL, "out of memory");
    for (size_t i = 0; i < pkt_script_options(s) && r.verdict == PKT_RUN_PASS; i++)
        apply_option(&r, pkt_script_option(s, i));
    apply_commands(&r, info);
    check_gso_segments(&r);
    if (r.verdict == PKT_RUN_PASS && build_world(&r) != 0)
        run_fail(&r, PKT_RUN_NOT_RUN, NULL, "cannot build the world: %s",
                 r.n ? sim_world_error(net_world(r.n)) : "out of memory");
    sim_timer_init(&r.wake, wake_nothing, NULL);
    uint64_t base = 0;
    size_t nev = pkt_script_events(s);
    for (size_t i = 0; i < nev && r.verdict == PKT_RUN_PASS; i++) {
        const pkt_event *ev = pkt_script_event(s, i);
        if (ev->kind == PKT_EV_COMMAND)
            continue;
        run_event(&r, ev, &base);
        info->events++;
    }
    if (r.verdict == PKT_RUN_PASS)
        finish_blocked(&r, UINT64_MAX);
    info->end_ns = r.n ? sim_world_now(net_world(r.n)) : 0;
    if (r.n && sim_timer_armed(&r.wake))
        sim_world_cancel(net_world(r.n), &r.wake);
    net_peer_free(r.peer);
    net_free(r.n);
    free(r.scratch);
    return r.verdict;
}
