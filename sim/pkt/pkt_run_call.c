/*
 * pkt_run_call — the script's system calls on the host under test. File
 * descriptors are numbered as Linux numbers them (lowest free from 3);
 * socket(), setsockopt() and bind() before listen()/connect() are kept and
 * made in one net_listen/net_connect. A call that would block on a
 * blocking descriptor waits in virtual time for its return, which must
 * come at the script's "...END" time (at its start time without one).
 * Results and errno values are Linux's; an option or call the stack cannot
 * honour is "unsupported", never skipped.
 */
#include <stdio.h>
#include <string.h>

#include "pkt_run_int.h"

#define NS_PER_S       1000000000ull
#define O_NONBLOCK_BIT 04000
#define O_RDWR_BITS    2
#define SIOCINQ_       0x541B
#define SIOCOUTQ_      0x5411

static const char ZEROS[65536]; /* the payload of every write */

int run_errno(int err)
{
    switch (err) {
    case NET_ECLOSED:
        return 9; /* EBADF */
    case NET_EDOWN:
        return 101; /* ENETUNREACH: no stack */
    default:
        break;
    }
    int v = pkt_errno_value(tcp_err_name(err));
    return v > 0 ? v : 32; /* RFC 9293 "connection closing" is Linux's EPIPE */
}

/* ---- Arguments ---- */

static const pkt_expr *arg(const run *r, const pkt_call *c, unsigned i)
{
    uint32_t e = c->args;
    while (e != PKT_NONE && i--)
        e = pkt_script_expr(r->s, e)->next;
    return e == PKT_NONE ? NULL : pkt_script_expr(r->s, e);
}

/* An integer argument: a number, a symbol, a|b, or [x]. */
static bool int_of(const run *r, const pkt_expr *e, int64_t *out)
{
    if (!e)
        return false;
    switch (e->kind) {
    case PKT_EXPR_INT:
    case PKT_EXPR_WORD:
        *out = e->num;
        return true;
    case PKT_EXPR_LIST:
        return e->child != PKT_NONE && int_of(r, pkt_script_expr(r->s, e->child), out);
    case PKT_EXPR_OR: {
        int64_t acc = 0, v;
        for (uint32_t k = e->child; k != PKT_NONE; k = pkt_script_expr(r->s, k)->next) {
            if (!int_of(r, pkt_script_expr(r->s, k), &v))
                return false;
            acc |= v;
        }
        *out = acc;
        return true;
    }
    default:
        return false;
    }
}

static bool field_of(const run *r, const pkt_expr *st, const char *name, int64_t *out)
{
    if (!st || st->kind != PKT_EXPR_STRUCT)
        return false;
    for (uint32_t k = st->child; k != PKT_NONE; k = pkt_script_expr(r->s, k)->next) {
        const pkt_expr *f = pkt_script_expr(r->s, k);
        if (f->kind == PKT_EXPR_FIELD && !strcmp(f->text, name) && f->child != PKT_NONE)
            return int_of(r, pkt_script_expr(r->s, f->child), out);
    }
    return false;
}

/* ---- Results ---- */

static void check_result(run *r, const pkt_event *ev, long ret, int err)
{
    const pkt_call *c = &ev->u.call;
    const pkt_expr *want = pkt_script_expr(r->s, c->result);
    int64_t w = 0;
    char got[64], exp[64];
    if (ret < 0)
        snprintf(got, sizeof got, "-1 %s", pkt_errno_name(err) ? pkt_errno_name(err) : "?");
    else
        snprintf(got, sizeof got, "%ld", ret);
    if (want->kind == PKT_EXPR_ELLIPSIS && !c->errno_name)
        return;
    if (!int_of(r, want, &w)) {
        run_fail(r, PKT_RUN_NOT_RUN, ev, "%s(): result must be a number", c->name);
        return;
    }
    if (c->errno_name)
        snprintf(exp, sizeof exp, "%lld %s", (long long)w, c->errno_name);
    else
        snprintf(exp, sizeof exp, "%lld", (long long)w);
    bool ok = c->errno_name ? (ret < 0 && w == -1 && err == c->errno_value) : (ret == w);
    if (!ok)
        run_fail(r, PKT_RUN_MISMATCH, ev, "%s() = %s, expected %s", c->name, got, exp);
}

/* ---- Descriptors ---- */

static run_fd *fd_get(run *r, const pkt_event *ev, unsigned argi, uint32_t *fdno)
{
    int64_t v;
    if (!int_of(r, arg(r, &ev->u.call, argi), &v)) {
        run_fail(r, PKT_RUN_NOT_RUN, ev, "%s(): expected a file descriptor", ev->u.call.name);
        return NULL;
    }
    if (v < RUN_FD_FIRST || v >= RUN_FD_FIRST + RUN_FDS || !r->fds[v - RUN_FD_FIRST].used)
        return NULL;
    if (fdno)
        *fdno = (uint32_t)v;
    return &r->fds[v - RUN_FD_FIRST];
}

static long fd_new(run *r, uint32_t sock)
{
    for (uint32_t i = 0; i < RUN_FDS; i++)
        if (!r->fds[i].used) {
            memset(&r->fds[i], 0, sizeof r->fds[i]);
            r->fds[i].used = true;
            r->fds[i].sock = sock;
            return RUN_FD_FIRST + i;
        }
    return -1;
}

/* getsockopt(SO_ERROR): the stack's pending error as a Linux errno, read
 * and cleared (net_sock_take_error; Linux sock_error: xchg(&sk->sk_err,
 * 0)); 0 when none, or when the stack no longer has the connection. */
static int take_error(run *r, run_fd *f)
{
    int e = 0;
    if (f->sock == NET_NONE || net_sock_take_error(r->n, f->sock, &e) < 0)
        return 0;
    return e ? run_errno(e) : 0;
}

/* Whether the stack let the connection go while the descriptor is open
 * (a crash): its calls then answer TCP_EBADF, which the descriptor reads
 * as a socket shut both ways (Linux tcp_done). */
static bool sock_gone(const run *r, const run_fd *f)
{
    return f->sock != NET_NONE && !net_sock_at(r->n, f->sock)->alive;
}

/* ---- Socket options ---- */

enum { SOL_SOCKET_ = 1, SOL_TCP_ = 6 };

/* The stack option for (level, name, value); 1 for "accepted, nothing to
 * set", 0 for set *o, -1 unsupported (what named). */
static int map_opt(const run *r, int64_t level, int64_t name, const pkt_expr *val, net_opt *o,
                   const char **what)
{
    int64_t v = 0, on = 0, secs = 0;
    bool num = int_of(r, val, &v);
    *what = NULL;
    if (level == SOL_SOCKET_ && name == 2 && num && v) /* SO_REUSEADDR: binds never conflict */
        return 1;
    if (level == SOL_SOCKET_ && name == 9 && num)
        *o = (net_opt){TCP_OPT_KEEPALIVE, v != 0};
    else if (level == SOL_SOCKET_ && name == 13 && field_of(r, val, "onoff", &on) &&
             field_of(r, val, "linger", &secs)) {
        /* a timeout makes close() wait (do_close); only 0 aborts */
        *o = (net_opt){TCP_OPT_LINGER_ZERO, on && !secs};
    } else if (level == SOL_SOCKET_ && (name == 7 || name == 8) && num && v > 0)
        *o = (net_opt){name == 7 ? TCP_OPT_SNDBUF : TCP_OPT_RCVBUF, (uint64_t)v * 2};
    else if (level == SOL_TCP_ && name == 1 && num)
        *o = (net_opt){TCP_OPT_NODELAY, v != 0};
    else if (level == SOL_TCP_ && name == 2 && num && v > 0)
        *o = (net_opt){TCP_OPT_MSS, (uint64_t)v};
    else if (level == SOL_TCP_ && name == 3 && num) /* TCP_CORK */
        *o = (net_opt){TCP_OPT_CORK, v != 0};
    else if (level == SOL_TCP_ && (name == 4 || name == 5) && num && v > 0)
        *o = (net_opt){name == 4 ? TCP_OPT_KEEPIDLE_NS : TCP_OPT_KEEPINTVL_NS,
                       (uint64_t)v * NS_PER_S};
    else if (level == SOL_TCP_ && name == 6 && num && v > 0)
        *o = (net_opt){TCP_OPT_KEEPCNT, (uint64_t)v};
    else if (level == SOL_TCP_ && name == 18 && num && v >= 0) /* TCP_USER_TIMEOUT, ms */
        *o = (net_opt){TCP_OPT_USER_TIMEOUT_NS, (uint64_t)v * 1000000u};
    else
        return -1;
    return 0;
}

static void do_setsockopt(run *r, const pkt_event *ev)
{
    const pkt_call *c = &ev->u.call;
    run_fd *f = fd_get(r, ev, 0, NULL);
    int64_t level = 0, name = 0;
    if (r->verdict != PKT_RUN_PASS)
        return;
    if (!f) {
        check_result(r, ev, -1, 9);
        return;
    }
    const pkt_expr *lv = arg(r, c, 1), *nm = arg(r, c, 2);
    net_opt o;
    const char *what = NULL;
    int m = int_of(r, lv, &level) && int_of(r, nm, &name)
                ? map_opt(r, level, name, arg(r, c, 3), &o, &what)
                : -1;
    if (m < 0) {
        char buf[96];
        snprintf(buf, sizeof buf, "setsockopt %s", what ? what : (nm && nm->text ? nm->text : "?"));
        run_unsupported(r, ev, buf);
        return;
    }
    long ret = 0;
    int err = 0;
    int64_t on = 0, secs = 0;
    if (level == SOL_SOCKET_ && name == 13 && field_of(r, arg(r, c, 3), "onoff", &on) &&
        field_of(r, arg(r, c, 3), "linger", &secs))
        f->linger_ns = on && secs > 0 ? (uint64_t)secs * NS_PER_S : 0;
    if (m == 0 && f->sock == NET_NONE) {
        if (f->nopts == NET_OPTS_MAX) {
            run_unsupported(r, ev, "more than 16 options before listen/connect");
            return;
        }
        f->opts[f->nopts++] = o;
    } else if (m == 0) {
        uint32_t failed;
        int rc = net_setopt(r->n, f->sock, &o, 1, &failed);
        if (rc < 0) {
            ret = -1;
            err = run_errno(rc);
        }
    }
    check_result(r, ev, ret, err);
}

/* Linux's TCP_* state numbers (include/net/tcp_states.h). */
static int64_t linux_state(tcp_state st)
{
    static const int64_t NUM[TCP_STATE_COUNT] = {
        [TCP_CLOSED] = 7,      [TCP_LISTEN] = 10,    [TCP_SYN_SENT] = 2,   [TCP_SYN_RECEIVED] = 3,
        [TCP_ESTABLISHED] = 1, [TCP_FIN_WAIT_1] = 4, [TCP_FIN_WAIT_2] = 5, [TCP_CLOSE_WAIT] = 8,
        [TCP_CLOSING] = 11,    [TCP_LAST_ACK] = 9,   [TCP_TIME_WAIT] = 6,
    };
    return NUM[st];
}

/* A struct tcp_info field by Linux's name, with or without "tcpi_". */
static bool info_field(const tcp_sockinfo *i, const char *name, int64_t *v)
{
    if (!strncmp(name, "tcpi_", 5))
        name += 5;
    const struct {
        const char *name;
        uint32_t v;
    } F[] = {
        {"ca_state", i->ca_state}, {"retransmits", i->retransmits},
        {"probes", i->probes},     {"backoff", i->backoff},
        {"rto", i->rto_us},        {"ato", i->ato_us},
        {"snd_mss", i->snd_mss},   {"rcv_mss", i->rcv_mss},
        {"unacked", i->unacked},   {"lost", i->lost},
        {"retrans", i->retrans},   {"rtt", i->rtt_us},
        {"rttvar", i->rttvar_us},  {"snd_ssthresh", i->snd_ssthresh},
        {"snd_cwnd", i->snd_cwnd}, {"total_retrans", i->total_retrans},
    };
    if (!strcmp(name, "state")) {
        *v = linux_state(i->state);
        return true;
    }
    for (size_t k = 0; k < sizeof F / sizeof F[0]; k++)
        if (!strcmp(name, F[k].name)) {
            *v = F[k].v;
            return true;
        }
    return false;
}

/* getsockopt(fd, SOL_TCP, TCP_INFO, {tcpi_X=V, ...}, [len]): each field
 * written must hold its value (a tcpsim extension of packetdrill's
 * syntax, which checks TCP_INFO from python blocks). */
static void get_info(run *r, const pkt_event *ev, run_fd *f)
{
    const pkt_expr *st = arg(r, &ev->u.call, 3);
    tcp_sockinfo in;
    if (!st || st->kind != PKT_EXPR_STRUCT) {
        run_fail(r, PKT_RUN_NOT_RUN, ev, "getsockopt(TCP_INFO): expected {tcpi_field=value, ...}");
        return;
    }
    int rc = f->sock == NET_NONE ? TCP_EBADF : net_sock_info(r->n, f->sock, &in);
    if (rc < 0) {
        check_result(r, ev, -1, rc == TCP_EBADF ? 107 : run_errno(rc)); /* ENOTCONN */
        return;
    }
    check_result(r, ev, 0, 0);
    for (uint32_t k = st->child; k != PKT_NONE && r->verdict == PKT_RUN_PASS;
         k = pkt_script_expr(r->s, k)->next) {
        const pkt_expr *fe = pkt_script_expr(r->s, k);
        int64_t want = 0, got = 0;
        if (fe->kind != PKT_EXPR_FIELD || !info_field(&in, fe->text, &got)) {
            char what[96];
            snprintf(what, sizeof what, "TCP_INFO field %s", fe->text ? fe->text : "?");
            run_unsupported(r, ev, what);
        } else if (fe->child == PKT_NONE || !int_of(r, pkt_script_expr(r->s, fe->child), &want))
            run_fail(r, PKT_RUN_NOT_RUN, ev, "getsockopt(TCP_INFO): %s needs a number", fe->text);
        else if (want != got)
            run_fail(r, PKT_RUN_MISMATCH, ev, "getsockopt(TCP_INFO) %s = %lld, expected %lld",
                     fe->text, (long long)got, (long long)want);
    }
}

/* getsockopt(fd, SOL_TCP, TCP_NODELAY | TCP_CORK | TCP_USER_TIMEOUT, [V],
 * [4]): the stack's value (Linux do_tcp_getsockopt: 0/1, milliseconds);
 * before listen/connect the last value set on the descriptor, else 0. */
static bool tcp_int_opt(int64_t name, tcp_opt *opt, uint64_t *unit)
{
    *unit = 1;
    if (name == 1)
        *opt = TCP_OPT_NODELAY;
    else if (name == 3)
        *opt = TCP_OPT_CORK;
    else if (name == 18) {
        *opt = TCP_OPT_USER_TIMEOUT_NS;
        *unit = 1000000u;
    } else
        return false;
    return true;
}

static void get_int_opt(run *r, const pkt_event *ev, run_fd *f, tcp_opt opt, uint64_t unit)
{
    uint64_t v = 0;
    int64_t want = 0;
    if (f->sock == NET_NONE) {
        for (uint32_t i = 0; i < f->nopts; i++)
            if (f->opts[i].opt == opt)
                v = f->opts[i].value;
    } else {
        int rc = net_getopt(r->n, f->sock, opt, &v);
        if (rc < 0) {
            check_result(r, ev, -1, run_errno(rc));
            return;
        }
    }
    v /= unit;
    check_result(r, ev, 0, 0);
    if (r->verdict == PKT_RUN_PASS && int_of(r, arg(r, &ev->u.call, 3), &want) &&
        want != (int64_t)v)
        run_fail(r, PKT_RUN_MISMATCH, ev, "getsockopt(%s) gave [%llu], expected [%lld]",
                 arg(r, &ev->u.call, 2)->text ? arg(r, &ev->u.call, 2)->text : "?",
                 (unsigned long long)v, (long long)want);
}

static void do_getsockopt(run *r, const pkt_event *ev)
{
    const pkt_call *c = &ev->u.call;
    run_fd *f = fd_get(r, ev, 0, NULL);
    int64_t level = 0, name = 0, want = 0;
    if (r->verdict != PKT_RUN_PASS)
        return;
    bool info = int_of(r, arg(r, c, 1), &level) && int_of(r, arg(r, c, 2), &name) &&
                level == SOL_TCP_ && name == 11;
    tcp_opt opt;
    uint64_t unit;
    bool tcp_int = level == SOL_TCP_ && tcp_int_opt(name, &opt, &unit);
    if (!info && !tcp_int && (level != SOL_SOCKET_ || name != 4)) {
        run_unsupported(r, ev,
                        "getsockopt other than SO_ERROR, TCP_INFO, TCP_NODELAY, TCP_CORK and "
                        "TCP_USER_TIMEOUT");
        return;
    }
    if (f && tcp_int) {
        get_int_opt(r, ev, f, opt, unit);
        return;
    }
    if (f && info) {
        get_info(r, ev, f);
        return;
    }
    if (!f) {
        check_result(r, ev, -1, 9);
        return;
    }
    int e = take_error(r, f);
    check_result(r, ev, 0, 0);
    if (r->verdict == PKT_RUN_PASS && int_of(r, arg(r, c, 3), &want) && want != e)
        run_fail(r, PKT_RUN_MISMATCH, ev, "getsockopt(SO_ERROR) gave [%s], expected [%s]",
                 e ? pkt_errno_name(e) : "0",
                 want ? (pkt_errno_name((int)want) ? pkt_errno_name((int)want) : "?") : "0");
}

/* ---- Calls that may block ---- */

static bool is_call(const pkt_event *ev, const char *name)
{
    return !strcmp(ev->u.call.name, name);
}

/* connect: established (0), or ended with an error. */
static bool poll_connect(run *r, run_fd *f, long *ret, int *err)
{
    const net_sock *k = net_sock_at(r->n, f->sock);
    if (k->state != TCP_SYN_SENT && k->state != TCP_CLOSED && k->state != TCP_SYN_RECEIVED) {
        *ret = 0;
        return true;
    }
    if (k->state == TCP_CLOSED && (k->error || !k->alive)) {
        *ret = -1;
        *err = take_error(r, f);
        if (!*err)
            *err = 111; /* ECONNREFUSED */
        return true;
    }
    return false;
}

static bool poll_accept(run *r, run_fd *f, long *ret, int *err)
{
    uint32_t child;
    int rc = net_accept(r->n, f->sock, &child);
    if (rc == TCP_EAGAIN)
        return false;
    if (rc < 0) {
        *ret = -1;
        *err = run_errno(rc);
        return true;
    }
    *ret = fd_new(r, child);
    if (*ret < 0)
        *err = 24; /* EMFILE */
    return true;
}

/* A read: `woken` when the call was blocked and something happened. A
 * blocked recv() of 0 bytes then returns 0, even when the connection
 * ended with an error, which stays for the next call: tcp_recvmsg_locked
 * looks at sk_err only before it sleeps, sk_wait_data returns 0 when the
 * reset's state change wakes it (no skb came), and its loop, do { ... }
 * while (len > 0), ends there. Longer reads go round again and find it.
 * Such a call on a connection that ended does not ask the stack, whose
 * receive would report the error and, under err_once, clear it as
 * sock_error does. Otherwise the stack's answer is the call's: which call
 * reports the error, and how often, is the profile's (err_once,
 * recv_err_first). */
static bool poll_read(run *r, run_fd *f, size_t max, bool woken, long *ret, int *err)
{
    if (woken && max == 0 && net_sock_at(r->n, f->sock)->state == TCP_CLOSED) {
        *ret = 0;
        return true;
    }
    long got = net_recv(r->n, f->sock, (char *)r->scratch, max < RUN_SCRATCH ? max : RUN_SCRATCH);
    if (got == TCP_EAGAIN)
        return false;
    if (got >= 0 || (woken && max == 0) || (got == TCP_EBADF && sock_gone(r, f))) {
        *ret = got >= 0 ? got : 0;
        return true;
    }
    *ret = -1;
    *err = run_errno((int)got);
    return true;
}

/* The errno of a send the stack refused with rc: the stack's own answer,
 * in the profile's order (send_epipe_first), the connection's error as
 * often as the profile says (err_once; getsockopt(SO_ERROR) takes it as a
 * call does, take_error). A socket the stack let go is shut both ways:
 * EPIPE. */
static int write_errno(run *r, run_fd *f, long rc)
{
    if (rc == TCP_EBADF && sock_gone(r, f))
        rc = TCP_EPIPE;
    return run_errno((int)rc);
}

/* A blocking write returns once the send buffer took every byte (Linux
 * tcp_sendmsg waits in sk_stream_wait_memory), or when the connection
 * ends: with the count taken if any, the error staying for the next call
 * (tcp_sendmsg_locked do_error: "if (copied + copied_syn) goto out"),
 * else with the error. With bytes copied the stack is not asked once the
 * connection ended: its send would report the error and, under err_once,
 * clear it, where Linux leaves sk_err for the next call. */
static bool poll_write(run *r, run_fd *f, long total, long *ret, int *err)
{
    run_blocked *b = &r->blk;
    long copied = total - (long)b->left;
    if (copied && net_sock_at(r->n, f->sock)->state == TCP_CLOSED) {
        *ret = copied;
        return true;
    }
    long took = net_send_now(r->n, f->sock, ZEROS, b->left);
    if (took == TCP_EAGAIN)
        return false;
    if (took < 0) {
        *ret = copied ? copied : -1;
        *err = copied ? 0 : write_errno(r, f, took);
        return true;
    }
    b->left -= (size_t)took;
    if (b->left)
        return false;
    *ret = total;
    return true;
}

/* close() with SO_LINGER waits while the FIN is unacknowledged (Linux
 * sk_stream_wait_close: FIN_WAIT1, CLOSING, LAST_ACK), at most the linger
 * time, and returns 0 either way (inet_release); no RST on the timeout. */
static bool poll_close(run *r, run_fd *f, long *ret)
{
    tcp_state st = net_sock_at(r->n, f->sock)->state;
    bool closing = st == TCP_FIN_WAIT_1 || st == TCP_CLOSING || st == TCP_LAST_ACK;
    if (closing && sim_world_now(net_world(r->n)) < r->blk.limit)
        return false;
    if (sim_timer_armed(&r->wake))
        sim_world_cancel(net_world(r->n), &r->wake);
    f->used = false;
    *ret = 0;
    return true;
}

/* Tries the call: first as it is made, then (`woken`) once more each
 * time something happens while it is blocked. */
static bool poll_call(run *r, const pkt_event *ev, run_fd *f, bool woken, long *ret, int *err)
{
    int64_t max = 0;
    if (is_call(ev, "connect"))
        return poll_connect(r, f, ret, err);
    if (is_call(ev, "accept"))
        return poll_accept(r, f, ret, err);
    if (is_call(ev, "close"))
        return poll_close(r, f, ret);
    int_of(r, arg(r, &ev->u.call, 2), &max);
    if (is_call(ev, "write") || is_call(ev, "send"))
        return poll_write(r, f, (long)max, ret, err);
    return poll_read(r, f, max > 0 ? (size_t)max : 0, woken, ret, err);
}

bool run_blocked_poll(run *r)
{
    run_blocked *b = &r->blk;
    run_fd *f = &r->fds[b->fd - RUN_FD_FIRST];
    if (!poll_call(r, b->ev, f, true, &b->ret, &b->err))
        return false;
    b->done = true;
    b->done_ns = sim_world_now(net_world(r->n));
    check_result(r, b->ev, b->ret, b->err);
    return true;
}

/* The script's return time of a call made at t ("...END", else t). */
static uint64_t end_of(const pkt_event *ev, uint64_t t)
{
    const pkt_call *c = &ev->u.call;
    if (!c->blocking)
        return t;
    return c->end.kind == PKT_TIME_ABS ? c->end.start_ns : t - ev->time.start_ns + c->end.start_ns;
}

/* The call waits from t (whatever the descriptor's mode) until it can
 * return, which the script says is at its end time. */
static void wait_for(run *r, const pkt_event *ev, uint32_t fdno, uint64_t t, run_blocked how)
{
    if (r->blk.active) {
        run_unsupported(r, ev, "two blocking calls at once");
        return;
    }
    how.active = true;
    how.ev = ev;
    how.fd = fdno;
    how.start_ns = t;
    how.end_ns = end_of(ev, t);
    how.tol = run_tolerance(r, how.end_ns, t); /* the wait's length sets the share */
    r->blk = how;
    if (run_blocked_poll(r))
        run_blocked_check(r);
}

/* The call would block now: on a non-blocking descriptor it fails with
 * `nb_err`; otherwise it waits until the script's return time. */
static void block(run *r, const pkt_event *ev, uint32_t fdno, uint64_t t, int nb_err)
{
    if (r->fds[fdno - RUN_FD_FIRST].nonblock) {
        check_result(r, ev, -1, nb_err);
        return;
    }
    wait_for(r, ev, fdno, t, (run_blocked){0});
}

/* A call that returned at once: with "...END" it had to block until END. */
static void returned(run *r, const pkt_event *ev, uint64_t t, long ret, int err)
{
    check_result(r, ev, ret, err);
    if (r->verdict == PKT_RUN_PASS && ev->u.call.blocking) {
        r->blk = (run_blocked){.active = true, .done = true, .ev = ev, .start_ns = t, .done_ns = t};
        r->blk.end_ns = end_of(ev, t);
        r->blk.tol = run_tolerance(r, r->blk.end_ns, t);
        run_blocked_check(r);
    }
}

/* ---- Calls ---- */

static void do_socket(run *r, const pkt_event *ev, uint64_t t)
{
    long fd = fd_new(r, NET_NONE);
    returned(r, ev, t, fd, fd < 0 ? 24 : 0);
}

static void do_listen(run *r, const pkt_event *ev, run_fd *f, uint64_t t)
{
    int64_t backlog = 0;
    if (!int_of(r, arg(r, &ev->u.call, 1), &backlog) || backlog < 0) {
        run_fail(r, PKT_RUN_NOT_RUN, ev, "listen(): expected a backlog");
        return;
    }
    net_listen_opts lo = {
        .port = f->bound ? f->port : r->bind_port, .backlog = (uint32_t)backlog, .nopts = f->nopts};
    memcpy(lo.opts, f->opts, sizeof lo.opts);
    int rc = net_listen(r->n, r->host, &lo, &f->sock);
    if (rc == 0) {
        r->lport = lo.port;
        r->rport = RUN_PEER_PORT;
        r->await_child = true;
    }
    returned(r, ev, t, rc ? -1 : 0, rc ? run_errno(rc) : 0);
}

/* connect() on a listening descriptor: the stack's active OPEN in LISTEN
 * (profile listen_connect: EISCONN under linux). */
static int connect_listener(run *r, run_fd *f)
{
    if (net_sock_at(r->n, f->sock)->state != TCP_LISTEN)
        return TCP_EISCONN; /* one connect per socket here */
    int rc = net_connect_sock(r->n, f->sock, r->remote_ip, r->connect_port);
    if (rc == 0)
        r->await_child = false;
    return rc;
}

static void do_connect(run *r, const pkt_event *ev, uint32_t fdno, run_fd *f, uint64_t t)
{
    net_connect_opts co = {.raddr = r->remote_ip,
                           .rport = r->connect_port,
                           .lport = f->bound ? f->port : 0,
                           .nopts = f->nopts};
    memcpy(co.opts, f->opts, sizeof co.opts);
    int rc =
        f->sock != NET_NONE ? connect_listener(r, f) : net_connect(r->n, r->host, &co, &f->sock);
    if (rc < 0) {
        returned(r, ev, t, -1, run_errno(rc));
        return;
    }
    net_sock_ports(r->n, f->sock);
    r->lport = net_sock_at(r->n, f->sock)->lport;
    r->rport = r->connect_port;
    r->have_isn = false;
    r->have_ts = false;
    r->nts = 0;
    block(r, ev, fdno, t, 115); /* EINPROGRESS */
}

/* Linux tcp_sendmsg: what the send buffer takes now; a non-blocking
 * descriptor returns that count, or EAGAIN when it is 0; a blocking one
 * waits until every byte is taken. */
static void do_write(run *r, const pkt_event *ev, uint32_t fdno, run_fd *f, uint64_t t)
{
    int64_t len = 0;
    if (!int_of(r, arg(r, &ev->u.call, 2), &len) || len < 0 || len > (int64_t)sizeof ZEROS) {
        run_unsupported(r, ev, "write() of more than 65536 bytes");
        return;
    }
    long took =
        f->sock == NET_NONE ? TCP_ENOTCONN : net_send_now(r->n, f->sock, ZEROS, (size_t)len);
    if (took >= 0 || took == TCP_EAGAIN) {
        size_t done = took > 0 ? (size_t)took : 0;
        if (done == (size_t)len || (f->nonblock && done))
            returned(r, ev, t, (long)done, 0);
        else if (f->nonblock)
            returned(r, ev, t, -1, 11); /* EAGAIN */
        else
            wait_for(r, ev, fdno, t, (run_blocked){.left = (size_t)len - done});
        return;
    }
    returned(r, ev, t, -1, write_errno(r, f, took));
}

static void do_fcntl(run *r, const pkt_event *ev, run_fd *f, uint64_t t)
{
    int64_t cmd = 0, flags = 0;
    if (!int_of(r, arg(r, &ev->u.call, 1), &cmd) || (cmd != 3 && cmd != 4) ||
        (cmd == 4 && !int_of(r, arg(r, &ev->u.call, 2), &flags))) {
        run_unsupported(r, ev, "fcntl other than F_GETFL/F_SETFL");
        return;
    }
    if (cmd == 4)
        f->nonblock = (flags & O_NONBLOCK_BIT) != 0;
    returned(r, ev, t, cmd == 3 ? (O_RDWR_BITS | (f->nonblock ? O_NONBLOCK_BIT : 0)) : 0, 0);
}

static void do_close(run *r, const pkt_event *ev, uint32_t fdno, run_fd *f, uint64_t t)
{
    int rc = 0;
    if (f->sock != NET_NONE && !net_sock_at(r->n, f->sock)->released)
        rc = net_close(r->n, f->sock);
    /* close() releases the descriptor whatever the connection did. The
     * stack's own refusal is the profile's answer: rfc9293 ENOTCONN once
     * the TCB was deleted (RFC 9293 §3.10.4 CLOSED, closed_deletes_tcb),
     * with no connection left to linger on; Linux 0 (inet_release). A
     * record the net found dead (a crashed host) closes with 0. */
    if (rc == TCP_ENOTCONN) {
        f->used = false;
        returned(r, ev, t, -1, run_errno(rc));
        return;
    }
    if (f->sock != NET_NONE && f->linger_ns) {
        uint64_t limit = t + f->linger_ns;
        sim_world_arm_at(net_world(r->n), &r->wake, limit);
        wait_for(r, ev, fdno, t, (run_blocked){.limit = limit});
        return;
    }
    f->used = false;
    returned(r, ev, t, 0, 0);
}

/* SHUT_RD, SHUT_WR, SHUT_RDWR (Linux inet_shutdown: how + 1 is the mask).
 * The write side is shut unless the read side's shutdown just closed a
 * listener (SHUT_RDWR: tcp_disconnect, 0); on a connection already CLOSED
 * (a reset) the stack answers ENOTCONN ("case TCP_CLOSE"). */
static void do_shutdown(run *r, const pkt_event *ev, run_fd *f, uint64_t t)
{
    int64_t how = -1;
    if (!int_of(r, arg(r, &ev->u.call, 1), &how) || how < 0 || how > 2) {
        run_fail(r, PKT_RUN_NOT_RUN, ev, "shutdown(): expected SHUT_RD, SHUT_WR or SHUT_RDWR");
        return;
    }
    int rc = f->sock == NET_NONE ? TCP_ENOTCONN : 0;
    bool was_closed = rc == 0 && net_sock_at(r->n, f->sock)->state == TCP_CLOSED;
    if (rc == 0 && how != 1)
        rc = net_shutdown_read(r->n, f->sock);
    if (rc == 0 && how != 0 && (was_closed || net_sock_at(r->n, f->sock)->state != TCP_CLOSED))
        rc = net_shutdown(r->n, f->sock);
    returned(r, ev, t, rc ? -1 : 0, rc ? run_errno(rc) : 0);
}

/* ioctl(fd, SIOCINQ or SIOCOUTQ, [N]): Linux tcp_ioctl; EINVAL on a
 * listener, 0 before the connection is synchronized. */
static void do_ioctl(run *r, const pkt_event *ev, run_fd *f, uint64_t t)
{
    int64_t cmd = 0, want = 0;
    if (!int_of(r, arg(r, &ev->u.call, 1), &cmd) || (cmd != SIOCINQ_ && cmd != SIOCOUTQ_)) {
        run_unsupported(r, ev, "ioctl other than SIOCINQ/SIOCOUTQ");
        return;
    }
    tcp_sockinfo in = {0};
    if (f->sock != NET_NONE && net_sock_info(r->n, f->sock, &in) < 0)
        memset(&in, 0, sizeof in); /* the connection is gone: nothing queued */
    if (f->sock != NET_NONE && in.state == TCP_LISTEN) {
        returned(r, ev, t, -1, 22); /* EINVAL */
        return;
    }
    returned(r, ev, t, 0, 0);
    long got = cmd == SIOCINQ_ ? (long)in.inq : (long)in.outq;
    if (r->verdict == PKT_RUN_PASS && int_of(r, arg(r, &ev->u.call, 2), &want) && want != got)
        run_fail(r, PKT_RUN_MISMATCH, ev, "ioctl(%s) gave [%ld], expected [%lld]",
                 cmd == SIOCINQ_ ? "SIOCINQ" : "SIOCOUTQ", got, (long long)want);
}

/* accept, read, recv: now, or block. A read() of 0 bytes returns 0 on
 * any socket without asking TCP (Linux sock_read_iter: "Match SYS5
 * behaviour"); recv() of 0 bytes goes to tcp_recvmsg, which answers as a
 * read that finds no byte (ENOTCONN on a listener). */
static void do_waiting(run *r, const pkt_event *ev, uint32_t fdno, run_fd *f, uint64_t t)
{
    long ret = 0;
    int err = 0;
    int64_t count = -1;
    if (is_call(ev, "read") && int_of(r, arg(r, &ev->u.call, 2), &count) && count == 0) {
        returned(r, ev, t, 0, 0);
        return;
    }
    if (f->sock == NET_NONE) {
        returned(r, ev, t, -1, is_call(ev, "accept") ? 22 : 107);
        return;
    }
    if (poll_call(r, ev, f, false, &ret, &err)) {
        returned(r, ev, t, ret, err);
        return;
    }
    block(r, ev, fdno, t, 11); /* EAGAIN */
}

static void dispatch(run *r, const pkt_event *ev, uint32_t fdno, run_fd *f, uint64_t t)
{
    if (is_call(ev, "bind")) {
        f->bound = true;
        f->port = r->bind_port;
        returned(r, ev, t, f->sock == NET_NONE ? 0 : -1, f->sock == NET_NONE ? 0 : 22);
    } else if (is_call(ev, "listen"))
        do_listen(r, ev, f, t);
    else if (is_call(ev, "connect"))
        do_connect(r, ev, fdno, f, t);
    else if (is_call(ev, "accept") || is_call(ev, "read") || is_call(ev, "recv"))
        do_waiting(r, ev, fdno, f, t);
    else if (is_call(ev, "write") || is_call(ev, "send"))
        do_write(r, ev, fdno, f, t);
    else if (is_call(ev, "fcntl"))
        do_fcntl(r, ev, f, t);
    else if (is_call(ev, "close"))
        do_close(r, ev, fdno, f, t);
    else if (is_call(ev, "shutdown"))
        do_shutdown(r, ev, f, t);
    else if (is_call(ev, "ioctl"))
        do_ioctl(r, ev, f, t);
    else {
        char what[64];
        snprintf(what, sizeof what, "system call %s()", ev->u.call.name);
        run_unsupported(r, ev, what);
    }
}

void run_call(run *r, const pkt_event *ev, uint64_t t)
{
    uint32_t fdno = 0;
    if (is_call(ev, "socket")) {
        do_socket(r, ev, t);
        return;
    }
    if (is_call(ev, "setsockopt")) {
        do_setsockopt(r, ev);
        return;
    }
    if (is_call(ev, "getsockopt")) {
        do_getsockopt(r, ev);
        return;
    }
    run_fd *f = fd_get(r, ev, 0, &fdno);
    if (r->verdict != PKT_RUN_PASS)
        return;
    if (!f) {
        returned(r, ev, t, -1, 9); /* EBADF */
        return;
    }
    dispatch(r, ev, fdno, f, t);
}
