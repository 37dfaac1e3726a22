/*
 * kern_diag — the kernel's TCP states, read as `ss` reads them.
 *
 * A NETLINK_SOCK_DIAG dump (inet_diag_req_v2, every state bit) lists every
 * IPv4 TCP socket of the namespace, including those no descriptor reaches:
 * request sockets (reported as SYN_RECV), orphans, and TIME_WAIT sockets,
 * whose idiag_state is their substate (an orphaned FIN_WAIT2 that Linux
 * keeps as a timewait socket is reported as FIN_WAIT2). The netlink socket
 * was made inside the namespace, so it sees that namespace only. A dump is
 * O(sockets in the namespace), which is a handful in a run.
 *
 * Each entry of a full socket also carries its struct tcp_info
 * (INET_DIAG_INFO, as `ss -i` asks): its counters outlive its descriptor.
 * TCP_INFO gives the same state for a socket that still has a descriptor,
 * with its MSS, RTO and option flags.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h> /* RTA_OK, RTA_NEXT: the dump's attributes */
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <linux/tcp.h> /* not netinet/tcp.h: its state enum clashes with tcp_state */
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "kern_internal.h"

/* include/net/tcp_states.h numbering, mapped to the RFC 9293 states. */
int kern_state_from_linux(uint8_t s, tcp_state *out)
{
    static const int8_t MAP[13] = {
        -1,              /* 0: unused */
        TCP_ESTABLISHED, /* 1 TCP_ESTABLISHED */
        TCP_SYN_SENT,    /* 2 TCP_SYN_SENT */
        TCP_SYN_RECEIVED,
        TCP_FIN_WAIT_1,
        TCP_FIN_WAIT_2,
        TCP_TIME_WAIT,
        TCP_CLOSED, /* 7 TCP_CLOSE */
        TCP_CLOSE_WAIT,
        TCP_LAST_ACK,
        TCP_LISTEN,
        TCP_CLOSING,
        TCP_SYN_RECEIVED, /* 12 TCP_NEW_SYN_RECV: a request socket */
    };
    if (s >= sizeof MAP || MAP[s] < 0)
        return -1;
    *out = (tcp_state)MAP[s];
    return 0;
}

static int diag_request(kern_ns *ns)
{
    struct {
        struct nlmsghdr nh;
        struct inet_diag_req_v2 req;
    } m;
    memset(&m, 0, sizeof m);
    m.nh.nlmsg_len = sizeof m;
    m.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    m.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    m.nh.nlmsg_seq = ++ns->diag_seq;
    m.req.sdiag_family = AF_INET;
    m.req.sdiag_protocol = IPPROTO_TCP;
    m.req.idiag_states = 0xffffffffu;
    m.req.idiag_ext = 1u << (INET_DIAG_INFO - 1); /* the counters, as ss -i */
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    ssize_t n = sendto(ns->diag_fd, &m, sizeof m, 0, (struct sockaddr *)&kernel, sizeof kernel);
    return n == (ssize_t)sizeof m ? 0 : n < 0 ? -errno : -EIO;
}

/* The message's INET_DIAG_INFO attribute, if any: its counters into out. */
static void fill_info(const struct nlmsghdr *h, kern_diag *out)
{
    const struct inet_diag_msg *d = NLMSG_DATA(h);
    int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof *d);
    for (const struct rtattr *a = (const void *)(d + 1); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type != INET_DIAG_INFO)
            continue;
        struct tcp_info ti;
        size_t n = RTA_PAYLOAD(a) < sizeof ti ? RTA_PAYLOAD(a) : sizeof ti;
        memset(&ti, 0, sizeof ti);
        memcpy(&ti, RTA_DATA(a), n);
        out->has_info =
            n >= offsetof(struct tcp_info, tcpi_total_retrans) + sizeof ti.tcpi_total_retrans;
        out->total_retrans = out->has_info ? ti.tcpi_total_retrans : 0;
    }
}

static void fill(const struct inet_diag_msg *d, kern_tuple *t, kern_diag *out)
{
    t->local_addr = ntohl(d->id.idiag_src[0]);
    t->remote_addr = ntohl(d->id.idiag_dst[0]);
    t->local_port = ntohs(d->id.idiag_sport);
    t->remote_port = ntohs(d->id.idiag_dport);
    memset(out, 0, sizeof *out);
    out->linux_state = d->idiag_state;
    if (kern_state_from_linux(d->idiag_state, &out->state) != 0)
        out->state = TCP_CLOSED;
    out->inode = d->idiag_inode;
    out->rqueue = d->idiag_rqueue;
    out->wqueue = d->idiag_wqueue;
    out->timer = d->idiag_timer;
    out->expires_ms = d->idiag_expires;
}

/* Calls each(ctx, tuple, diag) for every socket of the dump. */
typedef void (*diag_fn)(void *ctx, const kern_tuple *t, const kern_diag *d);

/* One recv'd buffer: 1 when the dump is done, 0 for more, -errno. */
static int diag_batch(kern_ns *ns, const char *buf, size_t n, diag_fn each, void *ctx)
{
    for (const struct nlmsghdr *h = (const void *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
        if (h->nlmsg_seq != ns->diag_seq)
            continue; /* an answer to an earlier, abandoned dump */
        if (h->nlmsg_type == NLMSG_DONE)
            return 1;
        if (h->nlmsg_type == NLMSG_ERROR) {
            const struct nlmsgerr *e = NLMSG_DATA(h);
            return e->error ? e->error : -EPROTO;
        }
        if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
            h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
            continue;
        kern_tuple t;
        kern_diag d;
        fill(NLMSG_DATA(h), &t, &d);
        fill_info(h, &d);
        each(ctx, &t, &d);
    }
    return 0;
}

static int diag_dump(kern_ns *ns, diag_fn each, void *ctx)
{
    int rc = diag_request(ns);
    if (rc != 0)
        return rc;
    _Alignas(struct nlmsghdr) char buf[16384];
    for (int rounds = 0; rounds < 1000; rounds++) {
        ssize_t n = recv(ns->diag_fd, buf, sizeof buf, 0);
        if (n < 0)
            return errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
        rc = diag_batch(ns, buf, (size_t)n, each, ctx);
        if (rc != 0)
            return rc < 0 ? rc : 0;
    }
    return -EOVERFLOW;
}

struct lookup_ctx {
    const kern_tuple *want;
    kern_diag *out;
    int found;
};

static void lookup_each(void *ctx, const kern_tuple *t, const kern_diag *d)
{
    struct lookup_ctx *c = ctx;
    const kern_tuple *w = c->want;
    if (t->local_addr == w->local_addr && t->remote_addr == w->remote_addr &&
        t->local_port == w->local_port && t->remote_port == w->remote_port) {
        *c->out = *d;
        c->found = 1;
    }
}

int kern_diag_lookup(kern_ns *ns, const kern_tuple *t, kern_diag *out)
{
    struct lookup_ctx c = {.want = t, .out = out, .found = 0};
    int rc = diag_dump(ns, lookup_each, &c);
    return rc != 0 ? rc : c.found;
}

struct list_ctx {
    kern_tuple *tuples;
    kern_diag *diags;
    size_t cap, n;
};

static void list_each(void *ctx, const kern_tuple *t, const kern_diag *d)
{
    struct list_ctx *c = ctx;
    if (c->n < c->cap) {
        c->tuples[c->n] = *t;
        c->diags[c->n] = *d;
    }
    c->n++;
}

int kern_diag_list(kern_ns *ns, kern_tuple *tuples, kern_diag *diags, size_t cap)
{
    struct list_ctx c = {.tuples = tuples, .diags = diags, .cap = cap, .n = 0};
    int rc = diag_dump(ns, list_each, &c);
    return rc != 0 ? rc : (int)c.n;
}

int kern_tcp_info_get(int fd, kern_tcp_info *out)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
        return -errno;
    memset(out, 0, sizeof *out);
    out->linux_state = ti.tcpi_state;
    if (kern_state_from_linux(ti.tcpi_state, &out->state) != 0)
        return -EPROTO;
    out->snd_mss = ti.tcpi_snd_mss;
    out->rcv_mss = ti.tcpi_rcv_mss;
    out->rto_us = ti.tcpi_rto;
    out->rtt_us = ti.tcpi_rtt;
    out->snd_cwnd = ti.tcpi_snd_cwnd;
    out->unacked = ti.tcpi_unacked;
    out->retrans = ti.tcpi_retransmits;
    out->probes = ti.tcpi_probes;
    out->backoff = ti.tcpi_backoff;
    out->timestamps = (ti.tcpi_options & TCPI_OPT_TIMESTAMPS) != 0;
    out->sack = (ti.tcpi_options & TCPI_OPT_SACK) != 0;
    out->wscale = (ti.tcpi_options & TCPI_OPT_WSCALE) != 0;
    out->snd_wscale = ti.tcpi_snd_wscale;
    out->rcv_wscale = ti.tcpi_rcv_wscale;
    return 0;
}
