/*
 * net_kern — the kernel endpoint inside a net: its namespace, its records
 * kept from sock_diag samples, and the datagrams between the link and the
 * TUN device (net_kern.h promises 1, 2, 4 and 5; the real-time loop is in
 * net_rt.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/tcp.h> /* struct tcp_info, TCP_USER_TIMEOUT */
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "kern.h"
#include "net_int.h"
#include "net_kern.h"

/* The sample's first buffer, in sockets; it grows to what the kernel holds. */
#define NET_KERN_DIAG_MIN 64
/* Dumps in one sample before it is taken as cut: the count may grow between
 * two dumps (a burst of connections), each retry with room for the last. */
#define NET_KERN_DIAG_TRIES 3

/* A kernel socket behind a record. fd -1: none (a request or orphan). */
typedef struct kern_rec {
    uint32_t sock;
    int fd;
    bool listener, autoread, eof;
    bool seen;  /* in the sample under way */
    bool ended; /* reached CLOSED: its tuple may be a new socket's later */
    kern_tuple t;
    tcp_state last;
    /* tcpi_total_retrans as the last sample that carried it saw it (the
     * kernel is sampled after every datagram it sends, so this holds
     * every retransmission of a socket that has since lost its
     * descriptor or ended) */
    bool has_retrans;
    uint32_t retrans;
} kern_rec;

struct net_kern {
    uint32_t host;
    kern_ns *ns;
    bool failed;
    uint64_t t0_ns;       /* wall clock at virtual time 0 */
    uint64_t last_io_ns;  /* wall clock of the last datagram either way */
    uint64_t last_smp_ns; /* wall clock of the last sample */
    kern_rec *recs;
    uint32_t nrecs, caprecs;
    tcp_sock_id next_id;
    int last_errno;
    bool gaps;
    bool quiet;   /* the last sample saw no socket with a peer */
    bool changed; /* a record changed since net_kern_take_change */
    /* The sample's buffers, smp_cap sockets each, kept for the next one. */
    kern_tuple *smp_t;
    kern_diag *smp_d;
    uint32_t smp_cap;
    char reason[256];
    uint8_t buf[KERN_DGRAM_MAX];
};

/* ---- Refusals: the profile ---- */

/* Knobs the kernel endpoint is given: a namespace sysctl
 * (kern_sysctls_from_profile), a route metric or the device (route_config,
 * below), or checked here (the TIME_WAIT length, rto_min in whole ms). */
static const char *const HANDLED[] = {"msl",
                                      "time_wait",
                                      "fin_timeout",
                                      "syn_retries",
                                      "synack_retries",
                                      "retries",
                                      "keepalive_idle",
                                      "keepalive_interval",
                                      "keepalive_probes",
                                      "rfc1337",
                                      "send_timestamps",
                                      "send_wscale",
                                      "send_sack_perm",
                                      "comp_sack_delay",
                                      "comp_sack_slack",
                                      "comp_sack_nr",
                                      "rcv_autotune",
                                      "rto_min",
                                      "init_cwnd_segs",
                                      "mss",
                                      NULL};

/* Every other knob must keep the linux profile's value: the kernel cannot
 * be told otherwise, and a run that ignored it would compare the kernel
 * with a simulation of something else. tcp_profile_diff compares every
 * field, so a knob added to the stack is refused here until it is given a
 * handle. */
static int check_profile(const tcp_profile *p, char *err, size_t len)
{
    const tcp_profile *l = tcp_profile_find("linux");
    const char *knob = NULL;
    if ((p->time_wait_ns ? p->time_wait_ns : 2 * p->msl_ns) !=
        (l->time_wait_ns ? l->time_wait_ns : 2 * l->msl_ns))
        knob = "msl/time_wait"; /* TCP_TIMEWAIT_LEN is fixed */
    else if (p->rto_min_ns % 1000000ull != 0 || p->rto_min_ns == 0)
        knob = "rto_min in whole ms"; /* a route metric in whole ms (route_config) */
    else
        knob = tcp_profile_diff(p, l, HANDLED);
    if (!knob)
        return 0;
    snprintf(err, len, NET_KERN_REFUSAL "change '%s' (no sysctl): keep the linux profile's value",
             knob);
    return -1;
}

int net_kern_attach(net *n, uint32_t host, char *err, size_t err_len)
{
    if (n->kern) {
        snprintf(err, err_len, NET_KERN_REFUSAL "play two hosts (already %s)",
                 sim_host_name(sim_host_by_id(n->world, n->kern->host)));
        return -1;
    }
    if (check_profile(net_host_at(n, host)->profile, err, err_len) != 0)
        return -1;
    kern_config cfg = {0};
    char why[200];
    if (kern_sysctls_from_profile(net_host_at(n, host)->profile, &cfg, why, sizeof why) != 0) {
        snprintf(err, err_len, NET_KERN_REFUSAL "take this profile: %s", why);
        return -1;
    }
    net_kern *k = calloc(1, sizeof *k);
    if (!k) {
        fprintf(stderr, "tcpsim: out of memory\n");
        abort();
    }
    k->host = host;
    k->next_id = 1; /* the host's stack holds no socket: no id is taken */
    n->kern = k;
    net_kern_install(n);
    return 0;
}

bool net_kern_host(const net *n, uint32_t host)
{
    return n->kern && n->kern->host == host;
}

int net_kern_errno(const net *n)
{
    return n->kern ? n->kern->last_errno : 0;
}

const char *net_kern_reason(const net *n)
{
    return n->kern ? n->kern->reason : "";
}

const char *net_kern_ns_name(const net *n)
{
    return n->kern && n->kern->ns ? kern_ns_name(n->kern->ns) : "";
}

bool net_kern_gaps(const net *n)
{
    return n->kern && n->kern->gaps;
}

void net_kern_free(net_kern *k)
{
    if (!k)
        return;
    kern_ns_close(k->ns);
    free(k->recs);
    free(k->smp_t);
    free(k->smp_d);
    free(k);
}

uint64_t net_kern_vnow(const net *n)
{
    return kern_clock_ns() - n->kern->t0_ns;
}

void net_kern_shift(net *n, int64_t ns)
{
    n->kern->t0_ns -= (uint64_t)ns;
}

/* ---- The namespace, opened at the first call that needs it ---- */

/* Every refusal's reason goes through here (printf's format). */
__attribute__((format(printf, 3, 4))) static int refuse(net *n, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(n->kern->reason, sizeof n->kern->reason, fmt, ap);
    va_end(ap);
    return code;
}

static int kerr(net *n, int rc)
{
    n->kern->last_errno = -rc;
    snprintf(n->kern->reason, sizeof n->kern->reason, "kernel: %s", strerror(-rc));
    return NET_EKERNEL;
}

/* What the profile and the link ask that only a route metric or the
 * device's MTU holds: the smallest link MTU from the host (the stack's
 * interface MSS + 40), rto_min, the initial window, and an MSS the scenario
 * fixed (advmss). Linux's own values are still written: the kernel run then
 * says them rather than leaving them to its defaults. */
static void route_config(const net *n, uint32_t host, kern_config *cfg)
{
    const net_host *h = net_host_at(n, host);
    uint32_t mtu = 0;
    for (uint32_t i = 0; i < sim_link_count(n->world); i++) {
        const sim_link *l = sim_link_by_id(n->world, i);
        int dir = sim_link_dir_from(l, net_host_simof(h));
        if (dir >= 0 && (mtu == 0 || sim_link_params_get(l, dir)->mtu < mtu))
            mtu = sim_link_params_get(l, dir)->mtu;
    }
    cfg->mtu = mtu;
    cfg->rto_min_ms = (uint32_t)(h->profile->rto_min_ns / 1000000ull);
    uint32_t smss = h->mss_fixed ? h->profile->mss : (mtu ? mtu - 40 : 1460);
    /* init_cwnd_segs 0 is RFC 5681 §3.1's rule, in segments of SMSS */
    cfg->initcwnd = h->profile->init_cwnd_segs ? h->profile->init_cwnd_segs
                    : smss > 2190              ? 2
                    : smss > 1095              ? 3
                                               : 4;
    cfg->advmss = h->mss_fixed ? h->profile->mss : 0;
}

int net_kern_open(net *n)
{
    net_kern *k = n->kern;
    if (k->ns)
        return 0;
    if (k->failed)
        return NET_ENOKERNEL;
    /* The namespace routes each other host's address through the TUN
     * device, raw peers' too (every host of the world, stack or not): with
     * none there is nothing for it to face, and past KERN_PEERS_MAX a host
     * would silently have no route. */
    uint32_t others = sim_host_count(n->world) - 1;
    if (others == 0)
        return refuse(n, NET_ENOKERNEL,
                      NET_KERN_REFUSAL "play a host alone (no other host in the simulation yet "
                                       "for it to face)");
    if (others > KERN_PEERS_MAX)
        return refuse(n, NET_ENOKERNEL,
                      NET_KERN_REFUSAL "face more than %d other hosts (one route each)",
                      KERN_PEERS_MAX);
    kern_config cfg = {0};
    const sim_host *self = sim_host_by_id(n->world, k->host);
    cfg.kernel_addr = sim_host_addr(self);
    for (uint32_t i = 0; i < sim_host_count(n->world); i++) {
        const sim_host *h = sim_host_by_id(n->world, i);
        if (h != self)
            cfg.peer_addrs[cfg.npeers++] = sim_host_addr(h);
    }
    route_config(n, k->host, &cfg);
    char err[256];
    if (kern_sysctls_from_profile(net_host_at(n, k->host)->profile, &cfg, err, sizeof err) != 0 ||
        kern_ns_open(&cfg, &k->ns, err, sizeof err) != 0) {
        k->failed = true;
        return refuse(n, NET_ENOKERNEL, "%s", err);
    }
    uint64_t now = sim_world_now(n->world);
    k->t0_ns = kern_clock_ns() - now;
    /* The simulated linux profile counts jiffies from time 0 (timer_hz,
     * stack/tcp_wheel.h); starting the run's clock on the kernel's tick
     * grid gives the kernel's timer wheel the same origin, so its timers
     * round where the simulation's do rather than at the phase of the
     * machine's boot. */
    if (net_host_at(n, k->host)->profile->timer_hz)
        k->t0_ns = kern_tick_align_ns(k->t0_ns, now);
    k->last_io_ns = kern_clock_ns();
    return 0;
}

/* ---- Records ---- */

static void kern_feed(net *n, kern_rec *r);
static bool tx_pending(const net *n, const kern_rec *r);

static kern_rec *rec_add(net *n, uint32_t sock, int fd)
{
    net_kern *k = n->kern;
    k->recs = net_grow(k->recs, &k->caprecs, k->nrecs + 1, sizeof *k->recs);
    kern_rec *r = &k->recs[k->nrecs++];
    memset(r, 0, sizeof *r);
    r->sock = sock;
    r->fd = fd;
    r->last = TCP_CLOSED;
    return r;
}

static kern_rec *rec_of(const net *n, uint32_t sock)
{
    for (uint32_t i = 0; i < n->kern->nrecs; i++)
        if (n->kern->recs[i].sock == sock)
            return &n->kern->recs[i];
    return NULL;
}

static bool tuple_eq(const kern_tuple *a, const kern_tuple *b)
{
    return a->local_addr == b->local_addr && a->remote_addr == b->remote_addr &&
           a->local_port == b->local_port && a->remote_port == b->remote_port;
}

/* The live record of a tuple. A record that reached CLOSED is never
 * matched again: a later connection on the same four-tuple (a new SYN after
 * a reset, as in the recovery from an old duplicate SYN) is a new socket,
 * as it is in the stack. */
static kern_rec *rec_by_tuple(const net *n, const kern_tuple *t)
{
    for (uint32_t i = 0; i < n->kern->nrecs; i++) {
        kern_rec *r = &n->kern->recs[i];
        if (!r->listener && !r->ended && tuple_eq(&r->t, t))
            return r;
    }
    return NULL;
}

/* The error a kernel socket ended with, as the stack names it (0: none). */
static int sock_error(int fd)
{
    switch (fd >= 0 ? kern_sock_error(fd) : 0) {
    case -ECONNRESET:
    case -EPIPE:
        return TCP_ECONNRESET;
    case -ECONNREFUSED:
        return TCP_ECONNREFUSED;
    case -ETIMEDOUT:
        return TCP_ETIMEDOUT;
    default:
        return 0;
    }
}

/* A state change of a kernel record, told as the stack tells one: the
 * observer's event (the run log), the record's trace, then on_state. */
static void rec_change(net *n, kern_rec *r, tcp_state to, tcp_sock_id parent)
{
    net_host *h = net_host_at(n, n->kern->host);
    bool direct = kern_transition_direct(r->last, to);
    if (!direct)
        n->kern->gaps = true;
    net_sock *k = r->sock != NET_NONE ? net_sock_mut(n, r->sock) : NULL;
    tcp_event ev = {.kind = TCP_EV_STATE,
                    .time_ns = sim_world_now(n->world),
                    .sock = k ? k->id : n->kern->next_id++,
                    .parent = parent,
                    .from = r->last,
                    .to = to,
                    .cause = TCP_CAUSE_SEGMENT,
                    .note = direct ? "sampled" : "sampled: states missed"};
    r->last = to;
    r->ended = r->ended || to == TCP_CLOSED;
    n->kern->changed = true;
    if (n->obs.on_event)
        n->obs.on_event(n->obs.ctx, h->index, &ev);
    net_stack_enter(n);
    net_sock_on_event(n, h, &ev);
    if (!k) { /* a listener's child, first seen now */
        r->sock = net_host_sock(h, ev.sock);
        k = net_sock_mut(n, r->sock);
        k->autoread = false;
        k->lport = r->t.local_port;
        k->raddr = r->t.remote_addr;
        k->rport = r->t.remote_port;
    }
    if (to == TCP_CLOSED) {
        k->alive = false;
        k->error = k->error ? k->error : sock_error(r->fd);
    }
    net_stack_leave(n, h);
}

static void rec_drain(net *n, kern_rec *r)
{
    if (r->fd < 0 || r->eof || r->listener)
        return;
    char buf[4096];
    for (;;) {
        size_t got = 0;
        int rc = kern_sock_recv(r->fd, buf, sizeof buf, &got);
        if (rc != 0)
            return;
        if (got == 0) {
            r->eof = true;
            return;
        }
        net_rx_append(n, net_sock_mut(n, r->sock), buf, (size_t)got);
    }
}

/* A new connection the kernel made under one of our listeners. */
static void child_seen(net *n, const kern_tuple *t, tcp_state st)
{
    for (uint32_t i = 0; i < n->kern->nrecs; i++) {
        kern_rec *l = &n->kern->recs[i];
        if (!l->listener || l->t.local_port != t->local_port || l->last != TCP_LISTEN)
            continue;
        tcp_sock_id pid = net_sock_mut(n, l->sock)->id;
        bool autoread = l->autoread;
        kern_rec *r = rec_add(n, NET_NONE, -1); /* l may move: not used below */
        r->t = *t;
        r->autoread = autoread;
        r->last = TCP_LISTEN;
        rec_change(n, r, st, pid);
        return;
    }
}

/* A dump entry with no peer is never a connection: a listener, or (where
 * the kernel dumps them, as 6.18 does, in TCP_CLOSE) a socket bound to a
 * port and not connected, such as a listener that shutdown(SHUT_RD) stopped
 * (inet_shutdown -> tcp_disconnect: the socket leaves the listening table
 * in TCP_CLOSE and keeps its port). Only a live listener's own change is
 * taken from it. */
static void peerless_seen(net *n, const kern_tuple *t, tcp_state st)
{
    for (uint32_t i = 0; i < n->kern->nrecs; i++) {
        kern_rec *l = &n->kern->recs[i];
        if (l->listener && !l->ended && l->t.local_addr == t->local_addr &&
            l->t.local_port == t->local_port) {
            if (l->last != st)
                rec_change(n, l, st, 0);
            return;
        }
    }
}

/* Room for need sockets in the sample's buffers (grown, never shrunk: no
 * allocation per sample once the kernel's count has been seen). */
static void smp_reserve(net_kern *k, uint32_t need)
{
    uint32_t cap = k->smp_cap;
    k->smp_t = net_grow(k->smp_t, &cap, need, sizeof *k->smp_t);
    k->smp_d = net_grow(k->smp_d, &k->smp_cap, need, sizeof *k->smp_d);
}

/* Every socket of the namespace into the sample's buffers: the count, which
 * *cut says exceeds what they hold (the count outgrew each retry), or -errno. */
static int smp_dump(net_kern *k, bool *cut)
{
    int cnt = 0;
    for (int i = 0; i < NET_KERN_DIAG_TRIES; i++) {
        smp_reserve(k, cnt > NET_KERN_DIAG_MIN ? (uint32_t)cnt : NET_KERN_DIAG_MIN);
        cnt = kern_diag_list(k->ns, k->smp_t, k->smp_d, k->smp_cap);
        if (cnt <= (int)k->smp_cap)
            break;
    }
    *cut = cnt > (int)k->smp_cap;
    return cnt < 0 || !*cut ? cnt : (int)k->smp_cap;
}

/* Whether a tuple last seen in TIME_WAIT now shows a new connection. A SYN
 * may reopen a tuple in TIME_WAIT (RFC 1122 §4.2.2.13); Linux then ends the
 * timewait socket and hands the SYN to the listener, which makes a new
 * request socket (tcp_timewait_state_process returns TCP_TW_SYN,
 * tcp_v4_rcv deschedules the timewait socket and looks the listener up).
 * So the old record ends and the new connection is the listener's child,
 * as in the stack, which ends TIME_WAIT and opens a new socket. */
static bool reopened(const kern_rec *r, tcp_state now)
{
    return r->last == TCP_TIME_WAIT && now != TCP_TIME_WAIT && now != TCP_CLOSED;
}

/* One sample of every kernel socket: new connections, changes, ends. */
void net_kern_sample(net *n)
{
    net_kern *k = n->kern;
    if (!k->ns)
        return;
    bool cut;
    int cnt = smp_dump(k, &cut);
    const kern_tuple *ts = k->smp_t;
    const kern_diag *ds = k->smp_d;
    k->last_smp_ns = kern_clock_ns();
    k->quiet = false;
    if (cnt < 0)
        return;
    k->quiet = !cut;
    for (int i = 0; i < cnt; i++)
        k->quiet = k->quiet && (ds[i].state == TCP_LISTEN || ts[i].remote_port == 0);
    for (uint32_t i = 0; i < k->nrecs; i++)
        k->recs[i].seen = false;
    for (int i = 0; i < cnt; i++) {
        if (ts[i].remote_port == 0) {
            peerless_seen(n, &ts[i], ds[i].state);
            continue;
        }
        kern_rec *r = rec_by_tuple(n, &ts[i]);
        if (r && reopened(r, ds[i].state)) {
            rec_change(n, r, TCP_CLOSED, 0);
            r = NULL;
        }
        if (!r) {
            child_seen(n, &ts[i], ds[i].state);
            r = rec_by_tuple(n, &ts[i]);
            if (r)
                r->seen = true;
            continue;
        }
        r->seen = true;
        if (ds[i].has_info) {
            r->has_retrans = true;
            r->retrans = ds[i].total_retrans;
        }
        if (r->last != ds[i].state)
            rec_change(n, r, ds[i].state, 0);
    }
    /* Missing from a whole dump is ended; from a cut one, perhaps only left
     * out: the next whole dump decides. */
    for (uint32_t i = 0; i < k->nrecs && !cut; i++) {
        kern_rec *r = &k->recs[i];
        if (!r->listener && r->t.remote_port && !r->seen && r->last != TCP_CLOSED &&
            r->sock != NET_NONE)
            rec_change(n, r, TCP_CLOSED, 0);
    }
    for (uint32_t i = 0; i < k->nrecs; i++) {
        kern_rec *r = &k->recs[i];
        if (r->sock == NET_NONE)
            continue;
        if (r->autoread)
            rec_drain(n, r);
        if (r->fd >= 0 && !r->listener && tx_pending(n, r))
            kern_feed(n, r);
    }
}

/* 1 when the kernel holds no connection, only sockets with no peer (or none),
 * as the last sample saw it, taken again when older than the idle sampling
 * interval: a dump walks the machine's whole connection table, so it is not
 * repeated for every turn of the loop. */
bool net_kern_quiet(net *n)
{
    if (!n->kern->ns)
        return true;
    if (kern_clock_ns() - n->kern->last_smp_ns >= NET_KERN_SAMPLE_IDLE_NS)
        net_kern_sample(n);
    return n->kern->quiet;
}

bool net_kern_take_change(net *n)
{
    bool c = n->kern->changed;
    n->kern->changed = false;
    return c;
}

uint64_t net_kern_last_io(const net *n)
{
    return n->kern->last_io_ns;
}

uint64_t net_kern_last_sample(const net *n)
{
    return n->kern->last_smp_ns;
}

/* ---- Datagrams ---- */

/* The link delivered p to the kernel host: to the TUN device now. */
static void kern_receive(void *ctx, sim_host *host, sim_packet *p)
{
    (void)host;
    net *n = ctx;
    if (net_kern_open(n) == 0) {
        const uint8_t *bytes = sim_flat_bytes(&n->rx_flat, p); /* as a stack's delivery */
        if (!bytes)
            net_oom();
        kern_tun_write(n->kern->ns, bytes, p->len);
        n->kern->last_io_ns = kern_clock_ns();
    } else {
        net_note(n, "packet to the kernel endpoint discarded: no namespace");
    }
    sim_packet_free(n->world, p);
    net_kern_sample(n);
}

void net_kern_install(net *n)
{
    sim_host_set_receiver(sim_host_by_id(n->world, n->kern->host), kern_receive, n);
}

/* Reads one datagram the kernel wrote, waiting at most wait_ns: 1 if one
 * was sent into the link (the clock already set to now, or to limit), else 0. */
int net_kern_pump(net *n, uint64_t wait_ns, sim_time_t limit)
{
    net_kern *k = n->kern;
    if (!k->ns)
        return 0;
    size_t len = 0;
    if (kern_tun_read(k->ns, k->buf, sizeof k->buf, wait_ns, &len) != 1)
        return 0;
    k->last_io_ns = kern_clock_ns();
    net_rt_catch_up(n, limit);
    net_kern_sample(n);
    sim_packet *p = sim_packet_new(n->world, len);
    if (!p) {
        fprintf(stderr, "tcpsim: out of memory for a packet\n");
        abort();
    }
    memcpy(p->data, k->buf, len);
    sim_host_send(sim_host_by_id(n->world, k->host), p);
    return 1;
}

/* ---- User calls ---- */

static int new_record(net *n, int fd, uint32_t *out)
{
    net_host *h = net_host_at(n, n->kern->host);
    uint32_t idx = net_sock_record(n, h->index, n->kern->next_id++, NET_NONE, TCP_CLOSED);
    net_trace_append(n, net_sock_mut(n, idx), sim_world_now(n->world), TCP_CLOSED, TCP_CAUSE_USER,
                     "socket()");
    rec_add(n, idx, fd);
    *out = idx;
    return 0;
}

/* The scenario's name of an option the kernel endpoint does not map. */
static const char *opt_name(tcp_opt opt)
{
    switch (opt) {
    case TCP_OPT_SNDBUF:
        return "sndbuf";
    case TCP_OPT_RCVBUF:
        return "rcvbuf";
    case TCP_OPT_MSS:
        return "mss";
    case TCP_OPT_MSL_NS:
        return "msl";
    case TCP_OPT_ISN:
        return "isn";
    default:
        return "?";
    }
}

/* TCP_USER_TIMEOUT takes whole milliseconds. */
static int user_timeout(net *n, int fd, uint64_t v)
{
    if (v % 1000000u || v / 1000000u > 0x7fffffffu)
        return refuse(n, NET_ENOKERNEL,
                      NET_KERN_REFUSAL "take a user timeout that is not whole milliseconds");
    unsigned int ms = (unsigned int)(v / 1000000u);
    return setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof ms) == 0 ? 0 : -errno;
}

/* The options the kernel has: linger0, keepalive and its times, nodelay, cork,
 * user timeout, and on a listener (before its first SYN, as the stack takes
 * it) rcvbuf. */
static int apply_opts(net *n, int fd, const net_opt *o, uint32_t nopts, uint32_t *failed,
                      bool listener)
{
    int idle = 0, intvl = 0, cnt = 0;
    bool ka = false, ka_set = false;
    for (uint32_t i = 0; i < nopts; i++) {
        int rc = 0;
        uint64_t v = o[i].value;
        switch (o[i].opt) {
        case TCP_OPT_LINGER_ZERO:
            rc = kern_sock_linger(fd, v != 0, 0);
            break;
        case TCP_OPT_NODELAY:
            rc = kern_sock_nodelay(fd, v != 0);
            break;
        case TCP_OPT_CORK: {
            int on = v != 0;
            rc = setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on) == 0 ? 0 : -errno;
            break;
        }
        case TCP_OPT_RCVBUF:
            if (!listener || v > UINT32_MAX)
                goto no_equivalent;
            rc = kern_sock_rcvbuf(fd, (uint32_t)v);
            if (rc == -ERANGE) {
                *failed = i;
                return refuse(n, NET_ENOKERNEL,
                              NET_KERN_REFUSAL "take this rcvbuf (SO_RCVBUF holds an even "
                                               "size from its floor to net.core.rmem_max)");
            }
            break;
        case TCP_OPT_KEEPALIVE:
            ka = v != 0;
            ka_set = true;
            break;
        case TCP_OPT_KEEPIDLE_NS:
        case TCP_OPT_KEEPINTVL_NS:
            if (v % 1000000000ull || v == 0) {
                *failed = i;
                return refuse(n, NET_ENOKERNEL,
                              NET_KERN_REFUSAL "take keepalive times that are not whole "
                                               "seconds");
            }
            if (o[i].opt == TCP_OPT_KEEPIDLE_NS)
                idle = (int)(v / 1000000000ull);
            else
                intvl = (int)(v / 1000000000ull);
            break;
        case TCP_OPT_KEEPCNT:
            cnt = (int)v;
            break;
        case TCP_OPT_USER_TIMEOUT_NS:
            rc = user_timeout(n, fd, v);
            if (rc == NET_ENOKERNEL) {
                *failed = i;
                return rc;
            }
            break;
        default:
        no_equivalent:
            *failed = i;
            return refuse(n, NET_ENOKERNEL,
                          NET_KERN_REFUSAL "take the socket option '%s' (no equivalent)",
                          opt_name(o[i].opt));
        }
        if (rc < 0) {
            *failed = i;
            return kerr(n, rc);
        }
    }
    if (ka_set || idle || intvl || cnt) {
        int rc = kern_sock_keepalive(fd, ka_set ? ka : true, idle, intvl, cnt);
        if (rc < 0)
            return kerr(n, rc);
    }
    return 0;
}

/* The start of a call that makes a kernel socket: the namespace (opened by
 * the first such call), and the kernel host's address in *addr. */
static int sock_begin(net *n, uint32_t *addr)
{
    n->kern->last_io_ns = kern_clock_ns(); /* what it sends may follow: settle first */
    *addr = sim_host_addr(sim_host_by_id(n->world, n->kern->host));
    return net_kern_open(n);
}

int net_kern_listen(net *n, net_listen_opts *o, uint32_t *out)
{
    uint32_t addr;
    int rc = sock_begin(n, &addr);
    if (rc < 0)
        return rc;
    int fd = -1;
    rc = kern_sock_listen(n->kern->ns, addr, o->port, (int)o->backlog, &fd);
    if (rc < 0)
        return kerr(n, rc);
    uint32_t idx;
    new_record(n, fd, &idx);
    kern_rec *r = rec_of(n, idx);
    r->listener = true;
    r->autoread = o->autoread;
    r->t.local_addr = addr;
    r->t.local_port = o->port;
    net_sock_mut(n, idx)->lport = o->port;
    rc = apply_opts(n, fd, o->opts, o->nopts, &o->failed_opt, true);
    if (rc < 0)
        return rc;
    rec_change(n, r, TCP_LISTEN, 0);
    *out = idx;
    return 0;
}

int net_kern_connect(net *n, net_connect_opts *o, uint32_t *out)
{
    uint32_t addr;
    int rc = sock_begin(n, &addr);
    if (rc < 0)
        return rc;
    int fd = -1;
    /* options first: SO_LINGER, keepalive and nodelay apply before the SYN */
    rc = kern_sock_connect(n->kern->ns, addr, o->lport, o->raddr, o->rport, &fd);
    if (rc < 0 && rc != -EINPROGRESS)
        return kerr(n, rc);
    uint32_t idx;
    new_record(n, fd, &idx);
    kern_rec *r = rec_of(n, idx);
    r->autoread = o->autoread;
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    if (getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
        r->t.local_port = ntohs(sa.sin_port);
    r->t.local_addr = addr;
    r->t.remote_addr = o->raddr;
    r->t.remote_port = o->rport;
    net_sock *k = net_sock_mut(n, idx);
    k->lport = r->t.local_port;
    k->raddr = o->raddr;
    k->rport = o->rport;
    rc = apply_opts(n, fd, o->opts, o->nopts, &o->failed_opt, false);
    if (rc < 0)
        return rc;
    net_kern_sample(n);
    *out = idx;
    return 0;
}

/* Hands the record's queued bytes to its kernel socket as far as its send
 * buffer takes them (non-blocking), then makes a deferred shutdown or close
 * once the queue is empty. Called at each send and each sample, so the rest
 * follows as the kernel's buffer drains (about every NET_KERN_SAMPLE_NS). */
static void kern_feed(net *n, kern_rec *r)
{
    net_sock *k = net_sock_mut(n, r->sock);
    char chunk[16384];
    while (r->fd >= 0 && net_tx_waiting(k)) {
        net_txq *q = k->txq;
        size_t len = q->ntx - q->offtx;
        const char *p = q->tx ? q->tx + q->offtx : chunk;
        if (!q->tx) {
            len = len < sizeof chunk ? len : sizeof chunk;
            for (size_t i = 0; i < len; i++)
                chunk[i] = net_pattern_byte(q->offtx + i);
        }
        size_t sent = 0;
        int rc = kern_sock_send(r->fd, p, len, &sent);
        if (rc == -EAGAIN || (rc == 0 && sent == 0))
            return;
        if (rc < 0) { /* reset or closed: what is queued can never go */
            net_note(n, "data queued for the kernel endpoint discarded: the connection ended");
            q->offtx = q->ntx;
            break;
        }
        q->offtx += sent;
        n->kern->last_io_ns = kern_clock_ns();
    }
    if (net_tx_waiting(k))
        return;
    net_tx_reset(k);
    if (k->shutdown_pending && r->fd >= 0)
        kern_sock_shutdown(r->fd, SHUT_WR);
    if (k->close_pending && r->fd >= 0) {
        kern_sock_close(n->kern->ns, r->fd);
        r->fd = -1;
    }
    k->shutdown_pending = k->close_pending = false;
}

static bool tx_pending(const net *n, const kern_rec *r)
{
    const net_sock *k = net_sock_at(n, r->sock);
    return net_tx_waiting(k) || k->close_pending || k->shutdown_pending;
}

/* send(): queued, then fed to the kernel as its send buffer takes it, as
 * sim/net does for the stack. Errors of the socket surface now. */
int net_kern_send(net *n, uint32_t sock, const char *data, size_t len)
{
    n->kern->last_io_ns = kern_clock_ns(); /* what it sends may follow: settle first */
    kern_rec *r = rec_of(n, sock);
    if (!r || r->fd < 0)
        return TCP_ENOTCONN;
    net_sock *k = net_sock_mut(n, sock);
    if (!net_tx_waiting(k)) { /* nothing queued: an error shows at once */
        size_t sent = 0;
        int rc = kern_sock_send(r->fd, "", 0, &sent);
        if (rc < 0 && rc != -EAGAIN)
            return rc == -EPIPE ? TCP_EPIPE : kerr(n, rc);
    }
    net_tx_queue(k, data, len);
    kern_feed(n, r);
    return 0;
}

long net_kern_recv(net *n, uint32_t sock, char *buf, size_t max)
{
    kern_rec *r = rec_of(n, sock);
    if (!r || r->fd < 0)
        return TCP_ENOTCONN;
    size_t got = 0;
    int rc = kern_sock_recv(r->fd, buf, max, &got);
    if (rc == -EAGAIN)
        return TCP_EAGAIN;
    if (rc < 0)
        return kerr(n, rc);
    if (got > 0)
        net_rx_append(n, net_sock_mut(n, sock), buf, (size_t)got);
    return (long)got;
}

void net_kern_drain(net *n, uint32_t sock)
{
    kern_rec *r = rec_of(n, sock);
    if (r)
        rec_drain(n, r);
}

int net_kern_shutdown(net *n, uint32_t sock)
{
    n->kern->last_io_ns = kern_clock_ns(); /* what it sends may follow: settle first */
    kern_rec *r = rec_of(n, sock);
    if (!r || r->fd < 0)
        return TCP_ENOTCONN;
    if (tx_pending(n, r)) { /* after the queued data, as the stack does */
        net_sock_mut(n, sock)->shutdown_pending = true;
        return 0;
    }
    int rc = kern_sock_shutdown(r->fd, SHUT_WR);
    net_kern_sample(n);
    return rc < 0 ? kerr(n, rc) : 0;
}

int net_kern_sock_info(net *n, uint32_t sock, tcp_sockinfo *o)
{
    kern_rec *r = rec_of(n, sock);
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    if (!r || r->fd < 0)
        return TCP_EBADF;
    memset(&ti, 0, sizeof ti);
    if (getsockopt(r->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
        return kerr(n, -errno);
    memset(o, 0, sizeof *o);
    if (kern_state_from_linux(ti.tcpi_state, &o->state) != 0)
        return TCP_EINVAL;
    o->ca_state = ti.tcpi_ca_state;
    o->retransmits = ti.tcpi_retransmits;
    o->probes = ti.tcpi_probes;
    o->backoff = ti.tcpi_backoff;
    o->rto_us = ti.tcpi_rto;
    o->ato_us = ti.tcpi_ato;
    o->snd_mss = ti.tcpi_snd_mss;
    o->rcv_mss = ti.tcpi_rcv_mss;
    o->unacked = ti.tcpi_unacked;
    o->lost = ti.tcpi_lost;
    o->retrans = ti.tcpi_retrans;
    o->rtt_us = ti.tcpi_rtt;
    o->rttvar_us = ti.tcpi_rttvar;
    o->snd_ssthresh = ti.tcpi_snd_ssthresh;
    o->snd_cwnd = ti.tcpi_snd_cwnd;
    o->total_retrans = ti.tcpi_total_retrans;
    int q = 0;
    if (o->state != TCP_LISTEN && ioctl(r->fd, FIONREAD, &q) == 0)
        o->inq = (uint32_t)q;
    if (o->state != TCP_LISTEN && ioctl(r->fd, TIOCOUTQ, &q) == 0)
        o->outq = (uint32_t)q;
    return 0;
}

/* A listener's state read from its descriptor: SHUT_RD stops a Linux
 * listener at once (TCP_CLOSE), which a kernel that does not dump a bound
 * socket that is not connected never shows in a sample. */
static void listener_follow(net *n, kern_rec *r)
{
    kern_tcp_info ti;
    if (kern_tcp_info_get(r->fd, &ti) == 0 && ti.state != r->last)
        rec_change(n, r, ti.state, 0);
}

int net_kern_shutdown_read(net *n, uint32_t sock)
{
    n->kern->last_io_ns = kern_clock_ns();
    kern_rec *r = rec_of(n, sock);
    if (!r || r->fd < 0)
        return TCP_ENOTCONN;
    int rc = kern_sock_shutdown(r->fd, SHUT_RD);
    if (rc == 0 && r->listener)
        listener_follow(n, r);
    net_kern_sample(n);
    return rc < 0 ? kerr(n, rc) : 0;
}

int net_kern_close(net *n, uint32_t sock, bool abort_it)
{
    n->kern->last_io_ns = kern_clock_ns(); /* what it sends may follow: settle first */
    kern_rec *r = rec_of(n, sock);
    net_sock_mut(n, sock)->released = true;
    if (!r || r->fd < 0)
        return 0;
    net_sock *k = net_sock_mut(n, sock);
    if (abort_it) { /* an abort discards what is queued */
        net_tx_reset(k);
        k->close_pending = k->shutdown_pending = false;
        kern_sock_linger(r->fd, true, 0);
    } else if (tx_pending(n, r)) {
        k->close_pending = true;
        return 0;
    }
    int rc = kern_sock_close(n->kern->ns, r->fd);
    r->fd = -1;
    if (r->listener) {
        if (r->last != TCP_CLOSED) /* shutdown(SHUT_RD) may have stopped it */
            rec_change(n, r, TCP_CLOSED, 0);
        return 0;
    }
    net_kern_sample(n);
    return rc < 0 ? kerr(n, rc) : 0;
}

int net_kern_accept(net *n, uint32_t listener, uint32_t *out)
{
    n->kern->last_io_ns = kern_clock_ns(); /* what it sends may follow: settle first */
    kern_rec *l = rec_of(n, listener);
    if (!l || !l->listener || l->fd < 0)
        return TCP_EINVAL;
    net_kern_sample(n);
    int fd;
    int rc = kern_sock_accept(n->kern->ns, l->fd, &fd);
    if (rc == -EAGAIN)
        return TCP_EAGAIN;
    if (rc < 0)
        return kerr(n, rc);
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    kern_tuple t = {.local_addr = l->t.local_addr, .local_port = l->t.local_port};
    if (getpeername(fd, (struct sockaddr *)&sa, &sl) == 0) {
        t.remote_addr = ntohl(sa.sin_addr.s_addr);
        t.remote_port = ntohs(sa.sin_port);
    }
    kern_rec *r = rec_by_tuple(n, &t);
    if (!r) {
        child_seen(n, &t, TCP_ESTABLISHED);
        r = rec_by_tuple(n, &t);
    }
    if (!r || r->sock == NET_NONE)
        return TCP_EINVAL;
    r->fd = fd;
    net_sock *k = net_sock_mut(n, r->sock);
    k->accepted = true;
    if (r->autoread) /* data that arrived before accept() */
        rec_drain(n, r);
    *out = r->sock;
    return 0;
}

int net_kern_setopt(net *n, uint32_t sock, const net_opt *opts, uint32_t nopts,
                    uint32_t *failed_opt)
{
    kern_rec *r = rec_of(n, sock);
    *failed_opt = NET_NONE;
    if (!r || r->fd < 0)
        return TCP_EBADF;
    r->autoread = net_sock_mut(n, sock)->autoread;
    net_sock_mut(n, sock)->autoread = false;
    return apply_opts(n, r->fd, opts, nopts, failed_opt, false);
}

int net_kern_refuse(net *n, const char *why)
{
    return refuse(n, NET_ENOKERNEL, "%s", why);
}

/* ---- Counters ---- */

/* Connections the kernel host has had (records with a peer). */
static uint32_t connections(const net *n)
{
    uint32_t c = 0;
    for (uint32_t i = 0; i < n->kern->nrecs; i++)
        c += !n->kern->recs[i].listener && n->kern->recs[i].t.remote_port != 0;
    return c;
}

/* challenge_acks: Linux counts the challenge ACKs it sends
 * (tcp_send_challenge_ack: LINUX_MIB_TCPCHALLENGEACK, once past both rate
 * limits), per namespace, not per socket. The namespace's count is a
 * socket's while the kernel host has had one connection; a count of 0 is
 * every socket's, however many it has had. */
static int stat_challenge(net *n, const kern_rec *r, uint64_t *out, char *why, size_t len)
{
    if (!r || r->listener) {
        snprintf(why, len,
                 NET_KERN_REFUSAL "count a listener's challenge ACKs (Linux counts "
                                  "them per namespace)");
        return NET_ENOKERNEL;
    }
    int rc = kern_ns_mib_read(n->kern->ns, "TcpExt", "TCPChallengeACK", out);
    if (rc != 0) {
        snprintf(why, len, NET_KERN_REFUSAL "read TcpExt TCPChallengeACK: %s", strerror(-rc));
        return NET_ENOKERNEL;
    }
    uint32_t c = connections(n);
    if (*out != 0 && c != 1) {
        snprintf(why, len,
                 NET_KERN_REFUSAL "count challenge ACKs per socket: Linux counts them per "
                                  "namespace (TcpExt TCPChallengeACK, %llu), and the kernel host "
                                  "has had %u connections",
                 (unsigned long long)*out, c);
        return NET_ENOKERNEL;
    }
    return 0;
}

int net_kern_stat(net *n, uint32_t sock, const char *name, uint64_t *out, char *why, size_t why_len)
{
    kern_rec *r = rec_of(n, sock);
    if (strcmp(name, "challenge_acks") == 0)
        return stat_challenge(n, r, out, why, why_len);
    bool info = strcmp(name, "segs_in") == 0 || strcmp(name, "segs_out") == 0 ||
                strcmp(name, "bytes_in") == 0 || strcmp(name, "bytes_out") == 0 ||
                strcmp(name, "retransmits") == 0;
    if (!info) {
        snprintf(why, why_len,
                 NET_KERN_REFUSAL "read stats.%s (Linux keeps no such count per socket)", name);
        return NET_ENOKERNEL;
    }
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (r && r->fd < 0 && r->has_retrans && strcmp(name, "retransmits") == 0) {
        *out = r->retrans; /* a retransmission never ends a socket: the last sample has it */
        return 0;
    }
    if (!r || r->fd < 0 || getsockopt(r->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0) {
        snprintf(why, why_len,
                 NET_KERN_REFUSAL "read stats.%s once the socket's descriptor is closed "
                                  "(TCP_INFO needs it; the samples' counts miss the segment "
                                  "that ended it)",
                 name);
        return NET_ENOKERNEL;
    }
    *out = strcmp(name, "segs_in") == 0     ? ti.tcpi_segs_in
           : strcmp(name, "segs_out") == 0  ? ti.tcpi_segs_out
           : strcmp(name, "bytes_in") == 0  ? ti.tcpi_bytes_received
           : strcmp(name, "bytes_out") == 0 ? ti.tcpi_bytes_sent
                                            : ti.tcpi_total_retrans;
    return 0;
}
