/*
 * lsim_sock — sockets seen from Lua: host:listen, host:connect, the socket
 * methods and fields over the net's socket records (net.h), and the
 * on_state callbacks. Each method checks every argument, then makes one
 * net_* call.
 *
 * accept() returns nil (and a message) when no connection is ready, as
 * accept(2) says EAGAIN; accept_wait() runs the simulation until one is;
 * on_accept(fn) hands each one to fn as it becomes ready (after the state
 * change of the listener's connection that readied it).
 * Where the last nil came from is kept, so that Lua's "attempt to index a
 * nil value" that usually follows can name it (lsim_sock_explain).
 */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lsim.h"
#include "net_kern.h"

/* ---- callbacks ---- */

/* The callbacks of record `sock`, the array grown as needed (new records
 * have none). */
static lsim_sock_cbs *sock_cbs(lsim *s, uint32_t sock)
{
    if (sock >= s->capsockcbs) {
        uint32_t old = s->capsockcbs;
        s->sock_cbs = lsim_grow(s->sock_cbs, &s->capsockcbs, sock + 1, sizeof *s->sock_cbs);
        for (uint32_t i = old; i < s->capsockcbs; i++)
            s->sock_cbs[i] = (lsim_sock_cbs){0, 0, 0};
    }
    return &s->sock_cbs[sock];
}

/* Pushes the table of callback functions (made on first use). */
static void fns_push_table(lua_State *L, lsim *s)
{
    if (s->fns.ref == LUA_NOREF) {
        lua_newtable(L);
        lua_pushvalue(L, -1);
        s->fns.ref = luaL_ref(L, LUA_REGISTRYINDEX);
        return;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->fns.ref);
}

/* Pushes the function in slot `slot`. */
static void fn_push(lua_State *L, lsim *s, uint32_t slot)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->fns.ref);
    lua_rawgeti(L, -1, slot);
    lua_remove(L, -2);
}

/* One more record naming the function at idx; returns its slot. A scenario
 * sets one function on thousands of sockets: it is held once (a registry
 * reference a socket was 16 to 26 bytes of each). The slot is found again
 * among the few named last, with no map from functions to slots: a script
 * making a closure a socket pays a slot each (16 bytes, as a reference). */
static uint32_t fn_hold(lua_State *L, lsim *s, int idx)
{
    lsim_fns *f = &s->fns;
    idx = lua_absindex(L, idx);
    fns_push_table(L, s);
    uint32_t slot = 0;
    for (size_t i = 0; i < sizeof f->recent / sizeof f->recent[0] && !slot; i++) {
        uint32_t r = f->recent[i];
        if (r && f->uses[r] > 0) {
            lua_rawgeti(L, -1, r);
            if (lua_rawequal(L, -1, idx))
                slot = r;
            lua_pop(L, 1);
        }
    }
    if (!slot) {
        /* The slot is taken off the free list (or past top) only once the
         * table holds the function: lua_rawseti may grow the table and
         * raise a memory error, which would lose a slot taken before. */
        uint32_t fresh = f->nfree ? f->free[f->nfree - 1] : f->top + 1;
        f->uses = lsim_grow(f->uses, &f->cap, fresh + 1, sizeof *f->uses);
        lua_pushvalue(L, idx);
        lua_rawseti(L, -2, fresh);
        if (f->nfree)
            f->nfree--;
        else
            f->top++;
        slot = fresh;
        f->uses[slot] = 0;
        f->recent[f->next_recent] = slot;
        f->next_recent = (f->next_recent + 1) % (sizeof f->recent / sizeof f->recent[0]);
    }
    lua_pop(L, 1);
    f->uses[slot]++;
    return slot;
}

/* One record fewer naming slot `slot` (0: none); the last lets it go. */
static void fn_drop(lua_State *L, lsim *s, uint32_t slot)
{
    lsim_fns *f = &s->fns;
    if (!slot || --f->uses[slot] > 0)
        return;
    fns_push_table(L, s);
    lua_pushnil(L);
    lua_rawseti(L, -2, slot);
    lua_pop(L, 1);
    f->free = lsim_grow(f->free, &f->capfree, f->nfree + 1, sizeof *f->free);
    f->free[f->nfree++] = slot;
}

void lsim_sock_release(lsim *s)
{
    free(s->sock_cbs);
    s->sock_cbs = NULL;
    s->capsockcbs = 0;
    free(s->fns.uses);
    free(s->fns.free);
    s->fns = (lsim_fns){.ref = s->fns.ref};
}

/* Hands every connection `listener` has ready to its on_accept callback,
 * in the order accept() returns them, each accepted as accept() does.
 * From the event loop (in_loop) an error in the callback halts the net
 * (lsim_call_in_loop); from a script's call (L: its thread) it is raised
 * there. Stops at the first error or when none is ready.
 *
 * Under bsd, after shutdown("rd") on the listener, one accept fails with
 * ECONNABORTED (FreeBSD solisten_dequeue returns so_error once) and the
 * connections queued behind it stay: the loop goes on past it, as a
 * server's accept loop does (accept(2): ECONNABORTED, try again), so that
 * none is left waiting for another connection's state change. */
static void accept_each(lua_State *L, lsim *s, uint32_t listener, bool in_loop)
{
    uint32_t child;
    int rc;
    while ((rc = net_accept(s->net, listener, &child)) == 0 || rc == TCP_ECONNABORTED) {
        if (rc != 0)
            continue;
        fn_push(L, s, s->sock_cbs[listener].on_accept);
        lsim_push_sock(L, s, child);
        if (in_loop) {
            if (!lsim_call_in_loop(s, 1, 0))
                return;
            continue;
        }
        lua_call(L, 1, 0);
        /* Outside the loop nothing refuses the simulation's __gc called by
         * hand (--unsafe) from the callback: its net is gone. */
        if (s->closed)
            luaL_error(L, "attempt to use a finished simulation");
    }
}

/* After a record's call for its step to CLOSED: a connection the user has
 * closed or aborted is reclaimed there (stack/tcp.h rule 3), and one whose
 * host crashed is gone with its stack (net.h rule 5), so the record never
 * changes state again, and its on_state callback lets go of the function
 * and the handle it held for it: a script opening connection after
 * connection, each with a closure of its own, holds only the live ones'.
 * (A connection still the user's may be closed later: it keeps them until
 * then, closed_let_go.) */
static void on_state_let_go(lua_State *L, lsim *s, uint32_t sock)
{
    const net_sock *k = net_sock_at(s->net, sock);
    if (k->state != TCP_CLOSED || (k->alive && !k->released))
        return;
    lsim_sock_cbs *cb = &s->sock_cbs[sock];
    fn_drop(L, s, cb->on_state);
    cb->on_state = 0;
    if (cb->handle)
        lsim_pins_drop(L, &s->handles, cb->handle);
    cb->handle = 0;
}

void lsim_sock_on_state(void *ctx, uint32_t sock, tcp_state from, tcp_state to)
{
    lsim *s = ctx;
    lua_State *L = s->L;
    if (sock < s->capsockcbs && s->sock_cbs[sock].on_state) {
        /* The handle that set the callback, the same one every time: making
         * a new one per call was 5 % of a scenario's instructions (race.lua). */
        fn_push(L, s, s->sock_cbs[sock].on_state);
        lsim_pins_push(L, &s->handles, s->sock_cbs[sock].handle);
        lua_pushstring(L, tcp_state_name(from));
        lua_pushstring(L, tcp_state_name(to));
        if (!lsim_call_in_loop(s, 3, 0))
            return;
        if (to == TCP_CLOSED)
            on_state_let_go(L, s, sock);
    }
    /* A listener's connection changed state: it may have joined the accept
     * queue (ESTABLISHED, or past it in the same segment). */
    const net_sock *k = net_sock_at(s->net, sock);
    uint32_t ls = k->parent;
    if (ls != NET_NONE && !k->accepted && ls < s->capsockcbs && s->sock_cbs[ls].on_accept)
        accept_each(L, s, ls, true);
}

/* ---- handles ---- */

void lsim_push_sock(lua_State *L, const lsim *s, uint32_t sock)
{
    lsim_push_handle(L, s, sock, LSIM_SOCK);
}

uint32_t lsim_sock_check(lua_State *L, int idx, lsim **out_sim)
{
    return lsim_handle_check(L, idx, LSIM_SOCK, out_sim)->index;
}

static const char *host_name(const lsim *s, uint32_t host)
{
    return sim_host_name(net_host_sim(s->net, host));
}

/* The checks every socket call makes before its arguments are read. */
static const net_sock *live_sock(lua_State *L, lsim *s, uint32_t sock, const char *what)
{
    lsim_check_no_reentry(L, s, what);
    const net_sock *k = net_sock_at(s->net, sock);
    if (!net_host_up(s->net, k->host))
        luaL_error(L, "%s: host %s is down", what, host_name(s, k->host));
    if (k->released)
        luaL_error(L, "%s: the socket was closed by this side (attempt to use a closed socket)",
                   what);
    return k;
}

static void check_rc(lua_State *L, int rc, const char *what)
{
    if (rc == NET_EKERNEL || rc == NET_ENOKERNEL) { /* arg 1 is a host or socket */
        lsim *s;
        lsim_handle_check(L, 1, lsim_testudata(L, 1, LSIM_HOST) ? LSIM_HOST : LSIM_SOCK, &s);
        luaL_error(L, "%s: %s", what, net_kern_reason(s->net));
    }
    if (rc < 0)
        luaL_error(L, "%s: %s", what, net_err_name(rc));
}

/* ---- socket options ---- */

typedef struct opt_map {
    const char *name;
    tcp_opt opt;
    int kind;       /* 0 integer, 1 duration (ns), 2 bool */
    int64_t lo, hi; /* the values tcp_setopt takes (kinds 0 and 1) */
} opt_map;

/* The ranges are tcp_setopt's (stack/tcp_user.c, setopt_held), checked
 * here so that a value out of them is named with the range at the
 * scenario's line; a value in range the state refuses (rcvbuf once the
 * window was offered, msl in TIME_WAIT) is still the stack's EINVAL. */
#define DURATION_MAX ((int64_t)(UINT64_MAX / 4))
static const opt_map OPTS[] = {
    {"linger0", TCP_OPT_LINGER_ZERO, 2, 0, 0},
    {"keepalive", TCP_OPT_KEEPALIVE, 2, 0, 0},
    {"keepidle", TCP_OPT_KEEPIDLE_NS, 1, 1, DURATION_MAX},
    {"keepintvl", TCP_OPT_KEEPINTVL_NS, 1, 1, DURATION_MAX},
    {"keepcnt", TCP_OPT_KEEPCNT, 0, 1, UINT8_MAX},
    {"sndbuf", TCP_OPT_SNDBUF, 0, 1, TCP_BUF_MAX},
    {"rcvbuf", TCP_OPT_RCVBUF, 0, 1, TCP_BUF_MAX},
    {"mss", TCP_OPT_MSS, 0, 64, 65495},
    {"msl", TCP_OPT_MSL_NS, 1, 0, DURATION_MAX},
    {"isn", TCP_OPT_ISN, 0, 0, UINT32_MAX},
    {"nodelay", TCP_OPT_NODELAY, 2, 0, 0},
    {"user_timeout", TCP_OPT_USER_TIMEOUT_NS, 1, 0, DURATION_MAX},
    {"cork", TCP_OPT_CORK, 2, 0, 0},
};
#define NOPTS (sizeof OPTS / sizeof OPTS[0])
_Static_assert(NOPTS <= LSIM_OPTS_PRESENT_MAX, "OPTS has a bit each in lsim_opts_present");

/* Each ends with OPTS's names in OPTS's order (lsim_open_sock checks). */
static const char *const LISTEN_OPTS[] = {
    "backlog", "autoread", "linger0", "keepalive", "keepidle", "keepintvl",    "keepcnt", "sndbuf",
    "rcvbuf",  "mss",      "msl",     "isn",       "nodelay",  "user_timeout", "cork",    NULL};
static const char *const CONNECT_OPTS[] = {
    "port",   "autoread", "linger0", "keepalive", "keepidle", "keepintvl",    "keepcnt", "sndbuf",
    "rcvbuf", "mss",      "msl",     "isn",       "nodelay",  "user_timeout", "cork",    NULL};

/* OPTS's names, NULL-terminated. */
static const char *const *const OPT_NAMES = LISTEN_OPTS + 2;

/* Reads the socket options present in the table at idx, in OPTS order,
 * each checked; nothing is applied here. */
static uint32_t read_opts(lua_State *L, int idx, net_opt *out, const char *where)
{
    uint32_t n = 0;
    if (lua_isnoneornil(L, idx))
        return 0;
    uint64_t named = lsim_opts_present(L, idx, OPT_NAMES); /* most tables name none */
    for (size_t i = 0; i < NOPTS; i++) {
        if (!((named >> i) & 1u))
            continue;
        lua_getfield(L, idx, OPTS[i].name);
        bool has = !lua_isnil(L, -1);
        lua_pop(L, 1);
        if (!has)
            continue;
        const opt_map *o = &OPTS[i];
        uint64_t v;
        if (o->kind == 1) {
            v = lsim_opt_duration(L, idx, o->name, 0, where);
            if (v < (uint64_t)o->lo || v > (uint64_t)o->hi) {
                /* v may pass INT64_MAX (a duration reaches 2^64 - 1 ns):
                 * %I would print it negative */
                char got[24];
                snprintf(got, sizeof got, "%" PRIu64, v);
                luaL_error(L, "%s: %s must be in [%I,%I] ns, got %s", where, o->name,
                           (LUAI_UACINT)o->lo, (LUAI_UACINT)o->hi, got);
            }
        } else if (o->kind == 2) {
            v = lsim_opt_bool(L, idx, o->name, false, where);
        } else {
            v = (uint64_t)lsim_opt_int(L, idx, o->name, 0, o->lo, o->hi, where);
        }
        out[n++] = (net_opt){o->opt, v};
    }
    return n;
}

/* The name of the option at position i of a read_opts result. */
static const char *opt_name(tcp_opt opt)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (OPTS[i].opt == opt)
            return OPTS[i].name;
    return "?";
}

static void check_opt_rc(lua_State *L, int rc, const net_opt *opts, uint32_t failed,
                         const char *where)
{
    if (rc < 0 && failed != NET_NONE && rc != NET_EKERNEL && rc != NET_ENOKERNEL)
        luaL_error(L, "%s: option %s: %s", where, opt_name(opts[failed].opt), net_err_name(rc));
    check_rc(L, rc, where);
}

static void check_host_up(lua_State *L, lsim *s, uint32_t h, const char *what)
{
    if (!net_host_up(s->net, h))
        luaL_error(L, "%s: host %s is down", what, host_name(s, h));
}

/* host:listen(port [, opts]) */
int lsim_host_listen(lua_State *L)
{
    lsim *s;
    uint32_t h = lsim_host_of(L, 1, &s);
    lsim_check_no_reentry(L, s, "host:listen");
    lua_Integer port = luaL_checkinteger(L, 2);
    if (port < 1 || port > 65535)
        return luaL_error(L, "host:listen: port must be in [1,65535], got %I", (LUAI_UACINT)port);
    lsim_opts_check(L, 3, "host:listen", LISTEN_OPTS);
    net_listen_opts o = {.port = (uint16_t)port};
    o.backlog = (uint32_t)lsim_opt_int(L, 3, "backlog", 128, 0, 65535, "host:listen");
    o.autoread = lsim_opt_bool(L, 3, "autoread", false, "host:listen");
    o.nopts = read_opts(L, 3, o.opts, "host:listen");
    check_host_up(L, s, h, "host:listen");
    uint32_t idx;
    int rc = net_listen(s->net, h, &o, &idx);
    check_opt_rc(L, rc, o.opts, o.failed_opt, "host:listen");
    lsim_push_sock(L, s, idx);
    return 1;
}

static uint32_t peer_addr(lua_State *L, int idx, const char *what)
{
    uint32_t addr = 0;
    if (lsim_testudata(L, idx, LSIM_HOST)) {
        lsim *s;
        uint32_t ph = lsim_host_of(L, idx, &s);
        return sim_host_addr(net_host_sim(s->net, ph));
    }
    const char *text = lua_tostring(L, idx);
    if (!text || lsim_parse_ipv4(text, &addr) != 0)
        luaL_error(L, "%s: expected a host or an IPv4 address string, got %s", what,
                   luaL_typename(L, idx));
    return addr;
}

/* The stack answers a connect with EADDRNOTAVAIL only when it has no
 * ephemeral port left to bind (RFC 6056 §3.3.1's search found none, as
 * Linux's connect() does): the error says so in words, with the range. */
static void check_ports_left(lua_State *L, lsim *s, uint32_t h, int rc)
{
    if (rc != TCP_EADDRNOTAVAIL)
        return;
    const tcp_profile *p = net_host_profile(s->net, h);
    const char *name = sim_host_name(net_host_sim(s->net, h));
    int lo = p->port_lo, hi = p->port_hi; /* lua_pushfstring has %d, not %u */
    if (lo == 0 || hi < lo)
        luaL_error(L,
                   "host:connect: ephemeral ports exhausted (EADDRNOTAVAIL): host %s's range "
                   "%d..%d holds no port",
                   name, lo, hi);
    luaL_error(L,
               "host:connect: ephemeral ports exhausted (EADDRNOTAVAIL): host %s has all %d ports "
               "of its range %d..%d in use",
               name, hi - lo + 1, lo, hi);
}

/* host:connect(peer, port [, opts]) */
int lsim_host_connect(lua_State *L)
{
    lsim *s;
    uint32_t h = lsim_host_of(L, 1, &s);
    lsim_check_no_reentry(L, s, "host:connect");
    net_connect_opts o = {.raddr = peer_addr(L, 2, "host:connect")};
    lua_Integer rport = luaL_checkinteger(L, 3);
    if (rport < 1 || rport > 65535)
        return luaL_error(L, "host:connect: port must be in [1,65535], got %I", (LUAI_UACINT)rport);
    o.rport = (uint16_t)rport;
    lsim_opts_check(L, 4, "host:connect", CONNECT_OPTS);
    o.lport = (uint16_t)lsim_opt_int(L, 4, "port", 0, 0, 65535, "host:connect");
    o.autoread = lsim_opt_bool(L, 4, "autoread", false, "host:connect");
    o.nopts = read_opts(L, 4, o.opts, "host:connect");
    check_host_up(L, s, h, "host:connect");
    uint32_t idx;
    int rc = net_connect(s->net, h, &o, &idx);
    check_ports_left(L, s, h, rc);
    check_opt_rc(L, rc, o.opts, o.failed_opt, "host:connect");
    lsim_push_sock(L, s, idx);
    return 1;
}

/* listener:connect(peer, port): RFC 9293 §3.10.1 OPEN in LISTEN, the
 * socket itself going to SYN_SENT; the profile's listen_connect may refuse
 * it (linux: EISCONN, bsd: EOPNOTSUPP), which raises an error. */
static int sock_connect(lua_State *L)
{
    lsim *s;
    uint32_t sock = lsim_sock_check(L, 1, &s);
    live_sock(L, s, sock, "socket:connect");
    uint32_t raddr = peer_addr(L, 2, "socket:connect");
    lua_Integer rport = luaL_checkinteger(L, 3);
    if (rport < 1 || rport > 65535)
        return luaL_error(L, "socket:connect: port must be in [1,65535], got %I",
                          (LUAI_UACINT)rport);
    check_rc(L, net_connect_sock(s->net, sock, raddr, (uint16_t)rport), "socket:connect");
    return 0;
}

/* listener:pending() -> the listener's connections accept() has not
 * handed out, oldest first, as socket handles: those in SYN_RECEIVED,
 * those waiting on the accept queue, and those that ended before accept:
 * reset in SYN_RECEIVED, a passive connection returns to LISTEN (RFC 9293
 * §3.10.7.4) and its state reads LISTEN; dropped otherwise, CLOSED. Their
 * traces start at their birth in SYN_RECEIVED. Reading is all they allow
 * until accept(). */
static int sock_pending(lua_State *L)
{
    lsim *s;
    uint32_t sock = lsim_sock_check(L, 1, &s);
    lsim_check_no_reentry(L, s, "socket:pending");
    lua_newtable(L);
    lua_Integer n = 0;
    for (uint32_t i = 0; i < net_sock_count(s->net); i++) {
        const net_sock *k = net_sock_at(s->net, i);
        if (k->parent != sock || k->accepted)
            continue;
        lsim_push_sock(L, s, i);
        lua_rawseti(L, -2, ++n);
    }
    return 1;
}

/* ---- data ---- */

/* sock:send(data) or sock:send(n): n bytes of a fixed pattern. Returns the
 * byte count accepted (always all of it; see net_send). */
static int sock_send(lua_State *L)
{
    lsim *s;
    uint32_t sock = lsim_sock_check(L, 1, &s);
    const net_sock *k = live_sock(L, s, sock, "socket:send");
    if (k->close_pending || k->shutdown_pending)
        return luaL_error(L, "socket:send: the send side is closed (EPIPE)");
    size_t len;
    const char *data = NULL;
    if (lua_type(L, 2) == LUA_TNUMBER) {
        lua_Integer n = luaL_checkinteger(L, 2);
        if (n < 0 || n > (1 << 30))
            return luaL_error(L, "socket:send: byte count must be in [0, 2^30], got %I",
                              (LUAI_UACINT)n);
        len = (size_t)n;
    } else {
        data = luaL_checklstring(L, 2, &len);
    }
    check_rc(L, net_send(s->net, sock, data, len), "socket:send");
    lua_pushinteger(L, (lua_Integer)len);
    return 1;
}

/* sock:recv([max]) -> string ("" if nothing is ready), nil at end of stream */
static int sock_recv(lua_State *L)
{
    lsim *s;
    uint32_t sock = lsim_sock_check(L, 1, &s);
    live_sock(L, s, sock, "socket:recv");
    lua_Integer max = luaL_optinteger(L, 2, 1 << 20);
    if (max <= 0)
        return luaL_error(L, "socket:recv: max must be positive");
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, (size_t)max);
    long n = net_recv(s->net, sock, p, (size_t)max);
    if (n == 0) {
        lua_pushnil(L);
        return 1;
    }
    if (n == TCP_EAGAIN)
        n = 0;
    if (n < 0)
        return luaL_error(L, "socket:recv: %s", net_err_name((int)n));
    luaL_pushresultsize(&b, (size_t)n);
    return 1;
}

/* shutdown([how]): "wr" (the default) sends the FIN after the queued
 * bytes, "rd" closes the receive side (tcp_shutdown_read), "rdwr" both.
 * "wr" is skipped after "rd" closed a listener ("rdwr" succeeds there, as
 * Linux's inet_shutdown); on a connection already CLOSED (reset) the
 * stack's ENOTCONN is raised. */
static int sock_shutdown(lua_State *L)
{
    lsim *s;
    uint32_t sock = lsim_sock_check(L, 1, &s);
    static const char *const hows[] = {"rd", "wr", "rdwr", NULL};
    int how = luaL_checkoption(L, 2, "wr", hows);
    live_sock(L, s, sock, "socket:shutdown");
    bool was_closed = net_sock_at(s->net, sock)->state == TCP_CLOSED;
    if (how != 1)
        check_rc(L, net_shutdown_read(s->net, sock), "socket:shutdown");
    if (how != 0 && (was_closed || net_sock_at(s->net, sock)->state != TCP_CLOSED))
        check_rc(L, net_shutdown(s->net, sock), "socket:shutdown");
    return 0;
}

/* info(): Linux's TCP_INFO fields (without tcpi_), times in ns, and the
 * SIOCINQ/SIOCOUTQ counts as inq/outq; nil once the connection is gone. */
static int sock_info(lua_State *L)
{
    lsim *s;
    uint32_t sock = lsim_sock_check(L, 1, &s);
    tcp_sockinfo in;
    if (net_sock_info(s->net, sock, &in) < 0) {
        lua_pushnil(L);
        return 1;
    }
    lua_createtable(L, 0, 20);
    lua_pushstring(L, tcp_state_name(in.state));
    lua_setfield(L, -2, "state");
    static const char *const CA[] = {"open", "disorder", "cwr", "recovery", "loss"};
    lua_pushstring(L, in.ca_state < 5 ? CA[in.ca_state] : "?");
    lua_setfield(L, -2, "ca_state");
#define F(name, v)                                                                                 \
    lua_pushinteger(L, (lua_Integer)(v));                                                          \
    lua_setfield(L, -2, name)
    F("retransmits", in.retransmits);
    F("probes", in.probes);
    F("backoff", in.backoff);
    F("rto", (uint64_t)in.rto_us * 1000u);
    F("ato", (uint64_t)in.ato_us * 1000u);
    F("snd_mss", in.snd_mss);
    F("rcv_mss", in.rcv_mss);
    F("unacked", in.unacked);
    F("lost", in.lost);
    F("retrans", in.retrans);
    F("rtt", (uint64_t)in.rtt_us * 1000u);
    F("rttvar", (uint64_t)in.rttvar_us * 1000u);
    F("snd_ssthresh", in.snd_ssthresh);
    F("snd_cwnd", in.snd_cwnd);
    F("total_retrans", in.total_retrans);
    F("inq", in.inq);
    F("outq", in.outq);
#undef F
    return 1;
}

/* take_error() -> getsockopt(SO_ERROR): the name of the error the next
 * send or receive would report ("ECONNRESET"...), which reading clears as
 * such a call does (net_sock_take_error), or nil if none. s.error (STATUS)
 * keeps naming the error that ended the connection. A kernel host's error
 * cannot be read this way (an error: s.error has it once it closes). */
static int sock_take_error(lua_State *L)
{
    lsim *s;
    uint32_t sock = lsim_sock_check(L, 1, &s);
    live_sock(L, s, sock, "socket:take_error");
    int err;
    int rc = net_sock_take_error(s->net, sock, &err);
    if (rc == TCP_EINVAL)
        return luaL_error(L, "socket:take_error: not on a kernel host (read s.error)");
    check_rc(L, rc, "socket:take_error");
    if (err)
        lua_pushstring(L, tcp_err_name(err));
    else
        lua_pushnil(L);
    return 1;
}

/* After close or abort from the script's own code: a connection that was
 * already CLOSED (reset by its peer, refused) changes state no more, and
 * no call for it is left to make (the queue of state changes is empty
 * outside the event loop), so its on_state lets go now, as it does after
 * its call for CLOSED. Inside a callback a CLOSED step of its may still be
 * queued: it keeps them. */
static void closed_let_go(lua_State *L, lsim *s, uint32_t sock)
{
    if (s->in_hook == 0 && !net_in_stack(s->net) && sock < s->capsockcbs &&
        s->sock_cbs[sock].on_state)
        on_state_let_go(L, s, sock);
}

/* close(): releases the socket whatever the stack answers; an error it
 * answers (rfc9293's ENOTCONN once the TCB was deleted, RFC 9293 §3.10.4
 * CLOSED) is raised after the release. */
static int sock_close(lua_State *L)
{
    lsim *s;
    uint32_t sock = lsim_sock_check(L, 1, &s);
    live_sock(L, s, sock, "socket:close");
    int rc = net_close(s->net, sock);
    closed_let_go(L, s, sock);
    check_rc(L, rc, "socket:close");
    return 0;
}

static int sock_abort(lua_State *L)
{
    lsim *s;
    uint32_t sock = lsim_sock_check(L, 1, &s);
    live_sock(L, s, sock, "socket:abort");
    check_rc(L, net_abort(s->net, sock), "socket:abort");
    closed_let_go(L, s, sock);
    return 0;
}

/* ---- accepting ---- */

#define ACCEPT_NIL        "tcpsim.accept_nil"
#define NO_CONNECTION     "no connection has been accepted (use accept_wait)"
#define ACCEPT_WAIT_LIMIT (10 * SIM_MIN) /* accept_wait's default timeout */

/* Where the last accept() that found no connection was called; cleared by
 * an accept that returns a socket. Fixed buffers: accept() runs in
 * predicates after every event and allocates nothing. The "file:line" text
 * is made only when an error needs it (lsim_sock_explain), not per call. */
typedef struct accept_nil {
    bool set;
    bool known; /* src and line were ever recorded */
    int line;
    char src[LUA_IDSIZE];
} accept_nil;

static accept_nil *accept_nil_of(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, ACCEPT_NIL);
    accept_nil *a = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return a;
}

static void note_accept(lua_State *L, bool got)
{
    accept_nil *a = accept_nil_of(L);
    lua_Debug ar;
    a->set = !got;
    if (got || !lua_getstack(L, 1, &ar) || !lua_getinfo(L, "Sl", &ar))
        return;
    memcpy(a->src, ar.short_src, sizeof a->src);
    a->line = ar.currentline;
    a->known = true;
}

void lsim_sock_explain(lua_State *L)
{
    accept_nil *a = accept_nil_of(L);
    const char *m = lua_tostring(L, -1);
    if (!a || !a->set || !m || !strstr(m, "attempt to index a nil value"))
        return;
    if (a->known)
        lua_pushfstring(L, "%s; " NO_CONNECTION ": accept() at %s:%d returned nil", m, a->src,
                        a->line);
    else
        lua_pushfstring(L, "%s; " NO_CONNECTION ": accept() at  returned nil", m);
    lua_remove(L, -2);
}

/* Pushes the accepted socket, or nil and the message. */
static int push_accepted(lua_State *L, const lsim *s, int rc, uint32_t child)
{
    if (rc == TCP_EAGAIN) {
        note_accept(L, false);
        lua_pushnil(L);
        lua_pushliteral(L, NO_CONNECTION);
        return 2;
    }
    check_rc(L, rc, "socket:accept");
    note_accept(L, true);
    lsim_push_sock(L, s, child);
    return 1;
}

/* listener:accept() -> socket, or nil and "no connection has been
 * accepted (use accept_wait)" when the accept queue is empty */
static int sock_accept(lua_State *L)
{
    lsim *s;
    uint32_t sock = lsim_sock_check(L, 1, &s);
    live_sock(L, s, sock, "socket:accept");
    uint32_t child = NET_NONE;
    int rc = net_accept(s->net, sock, &child);
    return push_accepted(L, s, rc, child);
}

/* listener:on_accept(fn): fn(conn) for every connection accept() would
 * return, accepted: those ready now at once, each later one after the
 * state change that readied it (its ESTABLISHED), from the event loop like
 * on_state. What polling accept() from a timer does, without the timers. */
static int sock_on_accept(lua_State *L)
{
    lsim *s;
    uint32_t sock = lsim_sock_check(L, 1, &s);
    const net_sock *k = live_sock(L, s, sock, "socket:on_accept");
    luaL_checktype(L, 2, LUA_TFUNCTION);
    if (net_kern_host(s->net, k->host))
        return luaL_error(L,
                          "socket:on_accept: host %s is played by the kernel, whose "
                          "connections are seen only by accept() (use accept_wait)",
                          host_name(s, k->host));
    if (k->state != TCP_LISTEN)
        return luaL_error(L, "socket:on_accept: the socket is not listening (it is %s)",
                          tcp_state_name(k->state));
    uint32_t slot = fn_hold(L, s, 2);
    lsim_sock_cbs *cb = sock_cbs(s, sock);
    fn_drop(L, s, cb->on_accept);
    cb->on_accept = slot;
    accept_each(L, s, sock, false);
    return 0;
}

typedef struct accept_wait_ctx {
    net *n;
    uint32_t listener, child;
    int rc;
} accept_wait_ctx;

static bool accept_ready(void *arg)
{
    accept_wait_ctx *c = arg;
    c->rc = net_accept(c->n, c->listener, &c->child);
    return c->rc != TCP_EAGAIN;
}

/* listener:accept_wait([timeout]) -> socket: runs the simulation until a
 * connection can be accepted (checked after each event), at most timeout
 * (default 10 min) of simulated time; an error otherwise. */
static int sock_accept_wait(lua_State *L)
{
    lsim *s;
    uint32_t sock = lsim_sock_check(L, 1, &s);
    live_sock(L, s, sock, "socket:accept_wait");
    lsim_check_runnable(L, s, "socket:accept_wait");
    uint64_t timeout = ACCEPT_WAIT_LIMIT;
    if (!lua_isnoneornil(L, 2))
        timeout = lsim_check_duration(L, 2, "socket:accept_wait timeout");
    lua_settop(L, 1);
    accept_wait_ctx c = {s->net, sock, NET_NONE, TCP_EAGAIN};
    uint64_t now = sim_world_now(net_world(s->net));
    uint64_t deadline = timeout > SIM_TIME_NEVER - now ? SIM_TIME_NEVER : now + timeout;
    sim_run_result r = SIM_RUN_PREDICATE;
    if (!accept_ready(&c)) /* a connection already queued needs no run */
        r = net_run_until(s->net, accept_ready, &c, deadline);
    lsim_check_run(L, s, r, "socket:accept_wait");
    if (c.rc != TCP_EAGAIN)
        return push_accepted(L, s, c.rc, c.child);
    char limit[40], at[40];
    sim_duration_format(timeout, limit, sizeof limit);
    sim_time_format(sim_world_now(net_world(s->net)), at, sizeof at);
    if (r == SIM_RUN_IDLE)
        return luaL_error(L,
                          "socket:accept_wait: no connection to accept, and nothing was left "
                          "to run (at %ss)",
                          at);
    return luaL_error(L, "socket:accept_wait: no connection to accept within %s (at %ss)", limit,
                      at);
}

static int sock_setopt(lua_State *L)
{
    lsim *s;
    uint32_t sock = lsim_sock_check(L, 1, &s);
    const net_sock *k = live_sock(L, s, sock, "socket:setopt");
    luaL_checktype(L, 2, LUA_TTABLE);
    static const char *const names[] = {
        "linger0", "keepalive", "keepidle", "keepintvl", "keepcnt",      "sndbuf", "rcvbuf", "mss",
        "msl",     "isn",       "nodelay",  "autoread",  "user_timeout", "cork",   NULL};
    lsim_opts_check(L, 2, "socket:setopt", names);
    bool autoread = lsim_opt_bool(L, 2, "autoread", k->autoread, "socket:setopt");
    net_opt opts[NET_OPTS_MAX];
    uint32_t nopts = read_opts(L, 2, opts, "socket:setopt");
    /* every argument is checked: from here on nothing raises before the call */
    net_set_autoread(s->net, sock, autoread);
    uint32_t failed;
    int rc = net_setopt(s->net, sock, opts, nopts, &failed);
    check_opt_rc(L, rc, opts, failed, "socket:setopt");
    return 0;
}

static int sock_on_state(lua_State *L)
{
    lsim *s;
    uint32_t sock = lsim_sock_check(L, 1, &s);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    /* Both steps that may raise come before anything is counted: a memory
     * error leaves no pin or function held (a script catching it sets the
     * callback again). */
    lsim_pins_reserve(L, &s->handles);
    uint32_t slot = fn_hold(L, s, 2);
    uint32_t pin = lsim_pins_add(L, &s->handles, 1); /* reserved: cannot raise */
    lsim_sock_cbs *cb = sock_cbs(s, sock);
    fn_drop(L, s, cb->on_state);
    cb->on_state = slot;
    if (cb->handle)
        lsim_pins_drop(L, &s->handles, cb->handle);
    cb->handle = pin;
    return 0;
}

/* ---- fields ---- */

static void push_trace(lua_State *L, const net_sock *k)
{
    lua_createtable(L, (int)k->ntrace, 0);
    for (uint32_t i = 0; i < k->ntrace; i++) {
        lua_pushstring(L, tcp_state_name(net_sock_step(k, i)->state));
        lua_rawseti(L, -2, i + 1);
    }
}

/* Each step is copied before the Lua calls that read it: any of them may
 * collect garbage, and a script's finalizer may then make a socket call
 * whose step moves the record's later steps (net_trace_append). */
static void push_steps(lua_State *L, const net *n, const net_sock *k)
{
    lua_createtable(L, (int)k->ntrace, 0);
    for (uint32_t i = 0; i < k->ntrace; i++) {
        const net_trace_step st = *net_sock_step(k, i);
        lua_createtable(L, 0, 4);
        lua_pushstring(L, tcp_state_name(st.state));
        lua_setfield(L, -2, "state");
        lua_pushinteger(L, (lua_Integer)st.time_ns);
        lua_setfield(L, -2, "time");
        lua_pushstring(L, tcp_cause_name(st.cause));
        lua_setfield(L, -2, "cause");
        lua_pushstring(L, net_step_note(n, &st));
        lua_setfield(L, -2, "note");
        lua_rawseti(L, -2, i + 1);
    }
}

static const char *const stat_names[] = {
    "segs_in",     "segs_out",       "retransmits",      "bytes_in",       "bytes_out",
    "dup_acks_in", "challenge_acks", "keepalive_probes", "persist_probes", NULL};

/* __index of a kernel socket's stats (upvalue 1: the reason of every count
 * Linux cannot give): reading such a count stops the kernel run as refused,
 * naming the scenario's line, where the stack's zero would pass unseen. */
static int kstats_index(lua_State *L)
{
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TSTRING)
        return 1; /* not a count: nil, as for the stack's table */
    return luaL_error(L, "sock.stats.%s: %s", luaL_checkstring(L, 2), lua_tostring(L, -1));
}

/* A kernel socket's stats (net_kern_stat): the counts Linux keeps, read
 * now; the others absent, with the reason behind __index. */
static void push_kernel_stats(lua_State *L, lsim *s, uint32_t sock)
{
    lua_createtable(L, 0, 9);
    lua_createtable(L, 0, 1); /* the metatable */
    lua_createtable(L, 0, 4); /* the reasons */
    for (size_t i = 0; stat_names[i]; i++) {
        uint64_t v;
        char why[256];
        if (net_kern_stat(s->net, sock, stat_names[i], &v, why, sizeof why) == 0) {
            lua_pushinteger(L, (lua_Integer)v);
            lua_setfield(L, -4, stat_names[i]);
        } else {
            lua_pushstring(L, why);
            lua_setfield(L, -2, stat_names[i]);
        }
    }
    lua_pushcclosure(L, kstats_index, 1);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
}

static void push_stats(lua_State *L, lsim *s, uint32_t sock)
{
    if (net_kern_host(s->net, net_sock_at(s->net, sock)->host)) {
        push_kernel_stats(L, s, sock);
        return;
    }
    /* Copied first: the table's allocations can run a script's finalizer,
     * which may close or abort this socket, and an open connection's
     * counters live in the stack's connection (as push_steps copies its
     * steps). */
    const tcp_stats st = *net_sock_stats(s->net, sock);
    lua_createtable(L, 0, 9);
#define F(name)                                                                                    \
    lua_pushinteger(L, (lua_Integer)st.name);                                                      \
    lua_setfield(L, -2, #name)
    F(segs_in);
    F(segs_out);
    F(retransmits);
    F(bytes_in);
    F(bytes_out);
    F(dup_acks_in);
    F(challenge_acks);
    F(keepalive_probes);
    F(persist_probes);
#undef F
}

/* sock.iss, irs, snd_una, snd_nxt, snd_max, rcv_nxt, snd_wnd, rcv_wnd
 * (RFC 9293 §3.3.1; windows in bytes, scaled): nil while the variable
 * means nothing (LISTEN; IRS, RCV.* and SND.WND in SYN_SENT) and once the
 * connection is gone (CLOSED: RFC 9293 §3.3.2 has no TCB there).
 */
static const char *const seqvar_names[] = {"iss",     "irs",     "snd_una", "snd_nxt",
                                           "snd_max", "rcv_nxt", "snd_wnd", "rcv_wnd"};
#define NSEQVARS (sizeof seqvar_names / sizeof seqvar_names[0])

static void push_seqvar(lua_State *L, lsim *s, uint32_t sock, size_t i)
{
    tcp_tcb t;
    int rc = net_sock_tcb(s->net, sock, &t);
    if (rc == TCP_EINVAL)
        luaL_error(L, "socket.%s: a kernel host's sequence variables cannot be read",
                   seqvar_names[i]);
    bool peer_given = i == 1 || i == 5 || i == 6 || i == 7; /* SND.WND comes with the SYN,ACK */
    if (rc != 0 || t.state == TCP_CLOSED || t.state == TCP_LISTEN ||
        (peer_given && t.state == TCP_SYN_SENT)) {
        lua_pushnil(L);
        return;
    }
    const uint32_t v[] = {t.iss,     t.irs,     t.snd_una, t.snd_nxt,
                          t.snd_max, t.rcv_nxt, t.snd_wnd, t.rcv_wnd};
    lua_pushinteger(L, v[i]);
}

/* The socket's fields; a field's number in sock_index's table is its
 * enum value, the sequence variables follow from F_SEQVAR. */
enum sock_field {
    F_STATE = 1,
    F_TRACE,
    F_STEPS,
    F_ERROR,
    F_STATS,
    F_RECEIVED,
    F_NRECEIVED,
    F_READABLE,
    F_HOST,
    F_ID,
    F_PORT,
    F_PEER_PORT,
    F_SEQVAR,
};

static const char *const field_names[] = {
    [F_STATE] = "state",         [F_TRACE] = "trace",
    [F_STEPS] = "steps",         [F_ERROR] = "error",
    [F_STATS] = "stats",         [F_RECEIVED] = "received",
    [F_NRECEIVED] = "nreceived", [F_READABLE] = "readable",
    [F_HOST] = "host",           [F_ID] = "id",
    [F_PORT] = "port",           [F_PEER_PORT] = "peer_port",
};

static void push_field(lua_State *L, lsim *s, uint32_t sock, lua_Integer f)
{
    const net_sock *k = net_sock_at(s->net, sock);
    switch (f) {
    case F_STATE:
        lua_pushstring(L, tcp_state_name(k->state));
        break;
    case F_TRACE:
        push_trace(L, k);
        break;
    case F_STEPS:
        push_steps(L, s->net, k);
        break;
    case F_ERROR:
        if (k->error)
            lua_pushstring(L, tcp_err_name(k->error));
        else
            lua_pushnil(L);
        break;
    case F_STATS:
        push_stats(L, s, sock);
        break;
    case F_RECEIVED:
        if (!net_keeps_rx(s->net))
            luaL_error(L, "sock.received: this sim keeps no received bytes "
                          "(tcpsim.new{keep_received = false}); sock.nreceived counts them");
        net_drain(s->net, sock);
        lua_pushlstring(L, k->rx ? k->rx : "", k->nrx);
        break;
    case F_NRECEIVED:
        net_drain(s->net, sock);
        lua_pushinteger(L, (lua_Integer)k->nrx);
        break;
    case F_READABLE:
        lua_pushinteger(L, (lua_Integer)net_readable(s->net, sock));
        break;
    case F_HOST:
        lsim_push_host(L, s, k->host);
        break;
    case F_ID:
        lua_pushinteger(L, k->id);
        break;
    case F_PORT:
    case F_PEER_PORT:
        net_sock_ports(s->net, sock);
        lua_pushinteger(L, f == F_PORT ? k->lport : k->rport);
        break;
    default:
        push_seqvar(L, s, sock, (size_t)(f - F_SEQVAR));
        break;
    }
}

/* __index, with upvalue 1 the table of every method (its function) and
 * every field (its enum sock_field): one raw lookup by the interned key
 * replaces comparing it with each name in turn. A key in neither (or not
 * a string) takes lsim_index_methods' path and error. */
static int sock_index(lua_State *L)
{
    lsim *s;
    uint32_t sock = lsim_sock_check(L, 1, &s);
    lua_settop(L, 2);
    lua_pushvalue(L, 2);
    switch (lua_rawget(L, lua_upvalueindex(1))) {
    case LUA_TFUNCTION:
        return 1;
    case LUA_TNUMBER:
        push_field(L, s, sock, lua_tointeger(L, -1));
        return 1;
    default:
        lua_pop(L, 1);
        return lsim_index_methods(L, "socket", luaL_checkstring(L, 2));
    }
}

/* The table sock_index looks keys up in: the methods and the fields. */
static void push_index_table(lua_State *L, const luaL_Reg *methods)
{
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    for (lua_Integer f = F_STATE; f < F_SEQVAR; f++) {
        lua_pushinteger(L, f);
        lua_setfield(L, -2, field_names[f]);
    }
    for (size_t i = 0; i < NSEQVARS; i++) {
        lua_pushinteger(L, F_SEQVAR + (lua_Integer)i);
        lua_setfield(L, -2, seqvar_names[i]);
    }
}

static int sock_tostring(lua_State *L)
{
    lsim *s;
    uint32_t sock = lsim_sock_check(L, 1, &s);
    const net_sock *k = net_sock_at(s->net, sock);
    lua_pushfstring(L, "socket %s#%d (%s)", host_name(s, k->host), (int)k->id,
                    tcp_state_name(k->state));
    return 1;
}

void lsim_open_sock(lua_State *L)
{
    for (size_t i = 0; i < NOPTS; i++) /* read_opts finds OPTS[i] at bit i */
        assert(OPT_NAMES[i] && strcmp(OPT_NAMES[i], OPTS[i].name) == 0);
    assert(!OPT_NAMES[NOPTS]);
    static const luaL_Reg meta[] = {{"__tostring", sock_tostring}, {NULL, NULL}};
    static const luaL_Reg methods[] = {{"send", sock_send},
                                       {"recv", sock_recv},
                                       {"shutdown", sock_shutdown},
                                       {"close", sock_close},
                                       {"abort", sock_abort},
                                       {"accept", sock_accept},
                                       {"accept_wait", sock_accept_wait},
                                       {"pending", sock_pending},
                                       {"connect", sock_connect},
                                       {"setopt", sock_setopt},
                                       {"info", sock_info},
                                       {"take_error", sock_take_error},
                                       {"on_state", sock_on_state},
                                       {"on_accept", sock_on_accept},
                                       {NULL, NULL}};
    accept_nil *a = lua_newuserdatauv(L, sizeof *a, 0);
    memset(a, 0, sizeof *a);
    lua_setfield(L, LUA_REGISTRYINDEX, ACCEPT_NIL);
    lsim_newmetatable(L, LSIM_SOCK);
    luaL_setfuncs(L, meta, 0);
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    push_index_table(L, methods);
    lua_pushcclosure(L, sock_index, 1);
    lua_setfield(L, -3, "__index");
    lua_setfield(L, -2, "methods");
    lua_pop(L, 1);
}
