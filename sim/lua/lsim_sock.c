/*
 * lsim_sock — sockets seen from Lua: host:listen, host:connect and the
 * socket methods, and the record the runtime keeps of each socket (its state
 * trace, counters, error and the bytes read) for its whole life and after.
 *
 * send() never loses data: what the stack's send buffer cannot take now is
 * kept here and fed to the stack as acknowledgements free space; a close()
 * or shutdown() issued meanwhile waits until everything has been handed over,
 * as it would behind a blocking write.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lsim.h"

#define NO_SOCK UINT32_MAX

uint32_t lsim_sock_record(lsim *s, uint32_t host, tcp_sock_id id, uint32_t parent, tcp_state st)
{
    if (s->nsocks % LSIM_SOCK_CHUNK == 0) {
        uint32_t chunk = s->nsocks / LSIM_SOCK_CHUNK;
        s->sockchunks = lsim_grow(s->sockchunks, &s->capchunks, chunk + 1, sizeof *s->sockchunks);
        s->sockchunks[chunk] = malloc(LSIM_SOCK_CHUNK * sizeof(lsim_sock));
        if (!s->sockchunks[chunk])
            abort();
    }
    uint32_t idx = s->nsocks++;
    lsim_sock *k = lsim_sock_at(s, idx);
    memset(k, 0, sizeof *k);
    k->host = host;
    k->id = id;
    k->parent = parent;
    k->state = st;
    k->alive = true;
    k->on_state_ref = LUA_NOREF;
    lsim_host *h = s->hosts[host];
    if (id >= h->nsockmap) {
        uint32_t old = h->nsockmap;
        h->sockmap = lsim_grow(h->sockmap, &h->nsockmap, id + 1, sizeof *h->sockmap);
        for (uint32_t i = old; i < h->nsockmap; i++)
            h->sockmap[i] = NO_SOCK;
    }
    h->sockmap[id] = idx;
    return idx;
}

static void trace_append(lsim_sock *k, uint64_t t, tcp_state st, tcp_cause cause, const char *note)
{
    k->trace = lsim_grow(k->trace, &k->captrace, k->ntrace + 1, sizeof *k->trace);
    lsim_trace_step *step = &k->trace[k->ntrace++];
    step->time_ns = t;
    step->state = st;
    step->cause = cause;
    snprintf(step->note, sizeof step->note, "%s", note ? note : "");
}

static void queue_pending(lsim *s, uint32_t sock, tcp_state from, tcp_state to)
{
    s->pending = lsim_grow(s->pending, &s->cappending, s->npending + 1, sizeof *s->pending);
    s->pending[s->npending++] = (lsim_pending){sock, from, to};
}

static uint32_t record_for_event(lsim *s, lsim_host *h, const tcp_event *ev)
{
    if (ev->sock < h->nsockmap && h->sockmap[ev->sock] != NO_SOCK)
        return h->sockmap[ev->sock];
    /* A connection the runtime has not seen: a listener's child. It is
     * born in the state it enters (SYN_RECEIVED); a record made from another
     * kind of event starts with the current state. */
    uint32_t parent = NO_SOCK;
    if (ev->parent && ev->parent < h->nsockmap)
        parent = h->sockmap[ev->parent];
    uint32_t idx = lsim_sock_record(s, h->index, ev->sock, parent, ev->from);
    /* a listener's autoread applies to its connections from their birth */
    if (parent != NO_SOCK)
        lsim_sock_at(s, idx)->autoread = lsim_sock_at(s, parent)->autoread;
    if (ev->kind != TCP_EV_STATE)
        trace_append(lsim_sock_at(s, idx), ev->time_ns, ev->to, ev->cause, "");
    return idx;
}

void lsim_sock_on_event(lsim *s, lsim_host *h, const tcp_event *ev)
{
    if (ev->sock == 0)
        return;
    uint32_t idx = record_for_event(s, h, ev);
    lsim_sock *k = lsim_sock_at(s, idx);
    const tcp_stats *st = h->stack ? tcp_sock_stats(h->stack, ev->sock) : NULL;
    if (st)
        k->stats = *st;
    if ((k->lport == 0 || k->raddr == 0) && h->stack)
        tcp_sock_endpoints(h->stack, ev->sock, &k->lport, &k->raddr, &k->rport);
    switch (ev->kind) {
    case TCP_EV_STATE:
        k->state = ev->to;
        trace_append(k, ev->time_ns, ev->to, ev->cause, ev->note);
        queue_pending(s, idx, ev->from, ev->to);
        break;
    case TCP_EV_ERROR:
        k->error = ev->detail;
        break;
    case TCP_EV_SEG_IN:
        if (k->autoread || k->ntx > k->offtx)
            queue_pending(s, idx, k->state, k->state);
        break;
    default:
        break;
    }
}

/* ---- handles ---- */

void lsim_push_sock(lua_State *L, int sim_idx, uint32_t sock)
{
    sim_idx = lua_absindex(L, sim_idx);
    uint32_t *sd = lua_newuserdatauv(L, sizeof *sd, 1);
    *sd = sock;
    lua_pushvalue(L, sim_idx);
    lua_setiuservalue(L, -2, 1);
    luaL_setmetatable(L, LSIM_SOCK);
}

lsim_sock *lsim_sock_check(lua_State *L, int idx, lsim **out_sim)
{
    uint32_t *sd = luaL_checkudata(L, idx, LSIM_SOCK);
    lua_getiuservalue(L, idx, 1);
    lsim *s = lsim_check(L, -1);
    lua_pop(L, 1);
    if (out_sim)
        *out_sim = s;
    return lsim_sock_at(s, *sd);
}

static tcp_stack *live_stack(lua_State *L, lsim *s, lsim_sock *k, const char *what)
{
    lsim_check_no_reentry(L, s, what);
    lsim_host *h = s->hosts[k->host];
    if (!h->stack)
        luaL_error(L, "%s: host %s is down", what, sim_host_name(h->host));
    if (k->released)
        luaL_error(L, "%s: the socket was closed by this side (attempt to use a closed socket)",
                   what);
    return h->stack;
}

static void check_rc(lua_State *L, int rc, const char *what)
{
    if (rc < 0)
        luaL_error(L, "%s: %s", what, tcp_err_name(rc));
}

/* ---- socket options ---- */

typedef struct opt_map {
    const char *name;
    tcp_opt opt;
    int kind; /* 0 integer, 1 duration, 2 bool */
} opt_map;

static const opt_map OPTS[] = {
    {"linger0", TCP_OPT_LINGER_ZERO, 2},  {"keepalive", TCP_OPT_KEEPALIVE, 2},
    {"keepidle", TCP_OPT_KEEPIDLE_NS, 1}, {"keepintvl", TCP_OPT_KEEPINTVL_NS, 1},
    {"keepcnt", TCP_OPT_KEEPCNT, 0},      {"sndbuf", TCP_OPT_SNDBUF, 0},
    {"rcvbuf", TCP_OPT_RCVBUF, 0},        {"mss", TCP_OPT_MSS, 0},
    {"msl", TCP_OPT_MSL_NS, 1},           {"isn", TCP_OPT_ISN, 0},
    {"nodelay", TCP_OPT_NODELAY, 2},
};
#define NOPTS (sizeof OPTS / sizeof OPTS[0])

static void apply_opts(lua_State *L, tcp_stack *st, tcp_sock_id id, int idx, const char *where)
{
    for (size_t i = 0; i < NOPTS; i++) {
        lua_getfield(L, idx, OPTS[i].name);
        bool has = !lua_isnil(L, -1);
        lua_pop(L, 1);
        if (!has)
            continue;
        uint64_t v;
        if (OPTS[i].kind == 1)
            v = lsim_opt_duration(L, idx, OPTS[i].name, 0, where);
        else if (OPTS[i].kind == 2)
            v = lsim_opt_bool(L, idx, OPTS[i].name, false, where);
        else
            v = (uint64_t)lsim_opt_int(L, idx, OPTS[i].name, 0, 0, UINT32_MAX, where);
        int rc = tcp_setopt(st, id, OPTS[i].opt, v);
        if (rc < 0)
            luaL_error(L, "%s: option %s: %s", where, OPTS[i].name, tcp_err_name(rc));
    }
}

static const char *const LISTEN_OPTS[] = {
    "backlog", "autoread", "linger0", "keepalive", "keepidle", "keepintvl", "keepcnt",
    "sndbuf",  "rcvbuf",   "mss",     "msl",       "nodelay",  NULL};
static const char *const CONNECT_OPTS[] = {
    "port",   "autoread", "linger0", "keepalive", "keepidle", "keepintvl", "keepcnt",
    "sndbuf", "rcvbuf",   "mss",     "msl",       "isn",      "nodelay",   NULL};

static uint32_t new_socket(lua_State *L, lsim *s, lsim_host *h, const char *what)
{
    if (!h->stack)
        luaL_error(L, "%s: host %s is down", what, sim_host_name(h->host));
    tcp_sock_id id;
    lsim_stack_enter(s);
    int rc = tcp_socket(h->stack, &id);
    uint16_t mss = lsim_host_iface_mss(h);
    if (rc == 0 && mss)
        rc = tcp_setopt(h->stack, id, TCP_OPT_MSS, mss); /* socket options may override */
    lsim_stack_leave(s, h);
    check_rc(L, rc, what);
    uint32_t idx = lsim_sock_record(s, h->index, id, NO_SOCK, TCP_CLOSED);
    trace_append(lsim_sock_at(s, idx), sim_world_now(s->world), TCP_CLOSED, TCP_CAUSE_USER,
                 "socket()");
    return idx;
}

/* host:listen(port [, opts]) */
int lsim_host_listen(lua_State *L)
{
    lsim *s;
    lsim_host *h = lsim_host_of(L, 1, &s);
    lsim_check_no_reentry(L, s, "host:listen");
    lua_Integer port = luaL_checkinteger(L, 2);
    if (port < 1 || port > 65535)
        return luaL_error(L, "host:listen: port must be in [1,65535], got %I", (LUAI_UACINT)port);
    lsim_opts_check(L, 3, "host:listen", LISTEN_OPTS);
    uint32_t backlog = (uint32_t)lsim_opt_int(L, 3, "backlog", 128, 0, 65535, "host:listen");
    bool autoread = lsim_opt_bool(L, 3, "autoread", false, "host:listen");
    uint32_t idx = new_socket(L, s, h, "host:listen");
    lsim_sock *k = lsim_sock_at(s, idx);
    k->autoread = autoread;
    lsim_stack_enter(s);
    int rc = tcp_bind(h->stack, k->id, (uint16_t)port);
    if (rc == 0 && !lua_isnoneornil(L, 3))
        apply_opts(L, h->stack, k->id, 3, "host:listen");
    if (rc == 0)
        rc = tcp_listen(h->stack, k->id, backlog);
    lsim_stack_leave(s, h);
    check_rc(L, rc, "host:listen");
    lua_getiuservalue(L, 1, 1);
    lsim_push_sock(L, -1, idx);
    return 1;
}

static uint32_t peer_addr(lua_State *L, int idx, const char *what)
{
    uint32_t addr = 0;
    if (luaL_testudata(L, idx, LSIM_HOST)) {
        lsim_host *ph = lsim_host_of(L, idx, NULL);
        return sim_host_addr(ph->host);
    }
    const char *text = lua_tostring(L, idx);
    if (!text || lsim_parse_ipv4(text, &addr) != 0)
        luaL_error(L, "%s: expected a host or an IPv4 address string, got %s", what,
                   luaL_typename(L, idx));
    return addr;
}

/* host:connect(peer, port [, opts]) */
int lsim_host_connect(lua_State *L)
{
    lsim *s;
    lsim_host *h = lsim_host_of(L, 1, &s);
    lsim_check_no_reentry(L, s, "host:connect");
    uint32_t raddr = peer_addr(L, 2, "host:connect");
    lua_Integer rport = luaL_checkinteger(L, 3);
    if (rport < 1 || rport > 65535)
        return luaL_error(L, "host:connect: port must be in [1,65535], got %I", (LUAI_UACINT)rport);
    lsim_opts_check(L, 4, "host:connect", CONNECT_OPTS);
    uint16_t lport = (uint16_t)lsim_opt_int(L, 4, "port", 0, 0, 65535, "host:connect");
    bool autoread = lsim_opt_bool(L, 4, "autoread", false, "host:connect");
    uint32_t idx = new_socket(L, s, h, "host:connect");
    lsim_sock *k = lsim_sock_at(s, idx);
    k->autoread = autoread;
    lsim_stack_enter(s);
    int rc = tcp_bind(h->stack, k->id, lport);
    if (rc == 0 && !lua_isnoneornil(L, 4))
        apply_opts(L, h->stack, k->id, 4, "host:connect");
    if (rc == 0)
        rc = tcp_connect(h->stack, k->id, raddr, (uint16_t)rport);
    lsim_stack_leave(s, h);
    check_rc(L, rc, "host:connect");
    lua_getiuservalue(L, 1, 1);
    lsim_push_sock(L, -1, idx);
    return 1;
}

/* ---- data ---- */

/* Appends bytes read from the stack to what the socket has received. */
static void rx_append(lsim_sock *k, const char *data, size_t n)
{
    if (k->nrx + n > k->caprx) {
        size_t cap = k->caprx ? k->caprx : 4096;
        while (cap < k->nrx + n)
            cap *= 2;
        char *rx = realloc(k->rx, cap);
        if (!rx)
            abort();
        k->rx = rx;
        k->caprx = cap;
    }
    memcpy(k->rx + k->nrx, data, n);
    k->nrx += n;
}

void lsim_sock_drain(lsim *s, lsim_sock *k)
{
    lsim_host *h = s->hosts[k->host];
    if (!h->stack || !k->alive)
        return;
    char buf[4096];
    for (;;) {
        lsim_stack_enter(s);
        long n = tcp_recv(h->stack, k->id, buf, sizeof buf);
        lsim_stack_leave(s, h);
        if (n <= 0)
            break;
        rx_append(k, buf, (size_t)n);
    }
}

/* Hands queued bytes to the stack; then a deferred shutdown/close. */
static void feed(lsim *s, lsim_sock *k)
{
    lsim_host *h = s->hosts[k->host];
    if (!h->stack)
        return;
    lsim_stack_enter(s);
    while (k->offtx < k->ntx) {
        long n = tcp_send(h->stack, k->id, k->tx + k->offtx, k->ntx - k->offtx);
        if (n <= 0)
            break;
        k->offtx += (size_t)n;
    }
    if (k->offtx == k->ntx) {
        free(k->tx);
        k->tx = NULL;
        k->ntx = k->offtx = 0;
        if (k->shutdown_pending) {
            k->shutdown_pending = false;
            tcp_shutdown(h->stack, k->id);
        }
        if (k->close_pending) {
            k->close_pending = false;
            tcp_close(h->stack, k->id);
        }
    }
    lsim_stack_leave(s, h);
}

void lsim_sock_service(lsim *s, lsim_sock *k)
{
    if (k->autoread)
        lsim_sock_drain(s, k);
    if (k->ntx > k->offtx || k->close_pending || k->shutdown_pending)
        feed(s, k);
}

/* sock:send(data) or sock:send(n): n bytes of a fixed pattern. Returns the
 * byte count accepted (always all of it; see the file comment). */
static int sock_send(lua_State *L)
{
    lsim *s;
    lsim_sock *k = lsim_sock_check(L, 1, &s);
    live_stack(L, s, k, "socket:send");
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
    char *nb = realloc(k->tx, k->ntx + len + 1);
    if (!nb)
        return luaL_error(L, "socket:send: out of memory");
    k->tx = nb;
    for (size_t i = 0; i < len; i++)
        k->tx[k->ntx + i] = data ? data[i] : (char)('a' + (k->ntx + i) % 26);
    k->ntx += len;
    /* Errors (not connected, EPIPE) surface now, not later. */
    lsim_host *h = s->hosts[k->host];
    lsim_stack_enter(s);
    long n = tcp_send(h->stack, k->id, k->tx + k->offtx, k->ntx - k->offtx);
    lsim_stack_leave(s, h);
    if (n < 0 && n != TCP_EAGAIN) {
        k->ntx -= len;
        return luaL_error(L, "socket:send: %s", tcp_err_name((int)n));
    }
    if (n > 0)
        k->offtx += (size_t)n;
    lsim_sock_service(s, k);
    lua_pushinteger(L, (lua_Integer)len);
    return 1;
}

/* sock:recv([max]) -> string ("" if nothing is ready), nil at end of stream */
static int sock_recv(lua_State *L)
{
    lsim *s;
    lsim_sock *k = lsim_sock_check(L, 1, &s);
    tcp_stack *st = live_stack(L, s, k, "socket:recv");
    lua_Integer max = luaL_optinteger(L, 2, 1 << 20);
    if (max <= 0)
        return luaL_error(L, "socket:recv: max must be positive");
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, (size_t)max);
    lsim_host *h = s->hosts[k->host];
    lsim_stack_enter(s);
    long n = tcp_recv(st, k->id, p, (size_t)max);
    lsim_stack_leave(s, h);
    if (n == 0) {
        lua_pushnil(L);
        return 1;
    }
    if (n == TCP_EAGAIN)
        n = 0;
    if (n < 0)
        return luaL_error(L, "socket:recv: %s", tcp_err_name((int)n));
    rx_append(k, p, (size_t)n);
    luaL_pushresultsize(&b, (size_t)n);
    return 1;
}

static int sock_shutdown(lua_State *L)
{
    lsim *s;
    lsim_sock *k = lsim_sock_check(L, 1, &s);
    tcp_stack *st = live_stack(L, s, k, "socket:shutdown");
    if (k->ntx > k->offtx) {
        k->shutdown_pending = true;
        return 0;
    }
    lsim_host *h = s->hosts[k->host];
    lsim_stack_enter(s);
    int rc = tcp_shutdown(st, k->id);
    lsim_stack_leave(s, h);
    check_rc(L, rc, "socket:shutdown");
    return 0;
}

static int sock_close(lua_State *L)
{
    lsim *s;
    lsim_sock *k = lsim_sock_check(L, 1, &s);
    tcp_stack *st = live_stack(L, s, k, "socket:close");
    k->released = true;
    if (k->ntx > k->offtx) {
        k->close_pending = true;
        return 0;
    }
    lsim_host *h = s->hosts[k->host];
    lsim_stack_enter(s);
    int rc = tcp_close(st, k->id);
    lsim_stack_leave(s, h);
    check_rc(L, rc, "socket:close");
    return 0;
}

static int sock_abort(lua_State *L)
{
    lsim *s;
    lsim_sock *k = lsim_sock_check(L, 1, &s);
    tcp_stack *st = live_stack(L, s, k, "socket:abort");
    k->released = true;
    k->close_pending = k->shutdown_pending = false;
    free(k->tx);
    k->tx = NULL;
    k->ntx = k->offtx = 0;
    lsim_host *h = s->hosts[k->host];
    lsim_stack_enter(s);
    int rc = tcp_abort(st, k->id);
    lsim_stack_leave(s, h);
    check_rc(L, rc, "socket:abort");
    return 0;
}

/* listener:accept() -> socket, or nil when the accept queue is empty */
static int sock_accept(lua_State *L)
{
    lsim *s;
    lsim_sock *k = lsim_sock_check(L, 1, &s);
    tcp_stack *st = live_stack(L, s, k, "socket:accept");
    lsim_host *h = s->hosts[k->host];
    tcp_sock_id child;
    lsim_stack_enter(s);
    int rc = tcp_accept(st, k->id, &child);
    lsim_stack_leave(s, h);
    if (rc == TCP_EAGAIN) {
        lua_pushnil(L);
        return 1;
    }
    check_rc(L, rc, "socket:accept");
    uint32_t idx;
    if (child < h->nsockmap && h->sockmap[child] != NO_SOCK) {
        idx = h->sockmap[child];
    } else {
        uint32_t self = h->sockmap[k->id];
        idx = lsim_sock_record(s, h->index, child, self, tcp_sock_state(st, child));
        lsim_sock *c = lsim_sock_at(s, idx);
        trace_append(c, sim_world_now(s->world), c->state, TCP_CAUSE_USER, "accept()");
    }
    lsim_sock *c = lsim_sock_at(s, idx);
    c->accepted = true;
    c->autoread = c->autoread || k->autoread;
    lsim_sock_service(s, c); /* data that arrived before accept() */
    lua_getiuservalue(L, 1, 1);
    lsim_push_sock(L, -1, idx);
    return 1;
}

static int sock_setopt(lua_State *L)
{
    lsim *s;
    lsim_sock *k = lsim_sock_check(L, 1, &s);
    tcp_stack *st = live_stack(L, s, k, "socket:setopt");
    luaL_checktype(L, 2, LUA_TTABLE);
    static const char *const names[] = {"linger0", "keepalive", "keepidle", "keepintvl", "keepcnt",
                                        "sndbuf",  "rcvbuf",    "mss",      "msl",       "isn",
                                        "nodelay", "autoread",  NULL};
    lsim_opts_check(L, 2, "socket:setopt", names);
    k->autoread = lsim_opt_bool(L, 2, "autoread", k->autoread, "socket:setopt");
    lsim_host *h = s->hosts[k->host];
    lsim_stack_enter(s);
    apply_opts(L, st, k->id, 2, "socket:setopt");
    lsim_stack_leave(s, h);
    return 0;
}

static int sock_on_state(lua_State *L)
{
    lsim *s;
    lsim_sock *k = lsim_sock_check(L, 1, &s);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    if (k->on_state_ref != LUA_NOREF)
        luaL_unref(L, LUA_REGISTRYINDEX, k->on_state_ref);
    lua_pushvalue(L, 2);
    k->on_state_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

/* ---- fields ---- */

static void push_trace(lua_State *L, const lsim_sock *k)
{
    lua_createtable(L, (int)k->ntrace, 0);
    for (uint32_t i = 0; i < k->ntrace; i++) {
        lua_pushstring(L, tcp_state_name(k->trace[i].state));
        lua_rawseti(L, -2, i + 1);
    }
}

static void push_steps(lua_State *L, const lsim_sock *k)
{
    static const char *const causes[] = {"user", "segment", "timer"};
    lua_createtable(L, (int)k->ntrace, 0);
    for (uint32_t i = 0; i < k->ntrace; i++) {
        const lsim_trace_step *st = &k->trace[i];
        lua_createtable(L, 0, 4);
        lua_pushstring(L, tcp_state_name(st->state));
        lua_setfield(L, -2, "state");
        lua_pushinteger(L, (lua_Integer)st->time_ns);
        lua_setfield(L, -2, "time");
        lua_pushstring(L, causes[st->cause]);
        lua_setfield(L, -2, "cause");
        lua_pushstring(L, st->note);
        lua_setfield(L, -2, "note");
        lua_rawseti(L, -2, i + 1);
    }
}

static void push_stats(lua_State *L, lsim *s, lsim_sock *k)
{
    lsim_host *h = s->hosts[k->host];
    const tcp_stats *live = h->stack && k->alive ? tcp_sock_stats(h->stack, k->id) : NULL;
    if (live)
        k->stats = *live;
    const tcp_stats *st = &k->stats;
    lua_createtable(L, 0, 9);
#define F(name)                                                                                    \
    lua_pushinteger(L, (lua_Integer)st->name);                                                     \
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

static bool push_ports(lua_State *L, lsim *s, lsim_sock *k, const char *key)
{
    lsim_host *h = s->hosts[k->host];
    if (k->lport == 0 && h->stack && k->alive)
        tcp_sock_endpoints(h->stack, k->id, &k->lport, &k->raddr, &k->rport);
    if (strcmp(key, "port") == 0)
        lua_pushinteger(L, k->lport);
    else if (strcmp(key, "peer_port") == 0)
        lua_pushinteger(L, k->rport);
    else
        return false;
    return true;
}

static int sock_index(lua_State *L)
{
    lsim *s;
    lsim_sock *k = lsim_sock_check(L, 1, &s);
    const char *key = luaL_checkstring(L, 2);
    lsim_host *h = s->hosts[k->host];
    if (strcmp(key, "state") == 0) {
        lua_pushstring(L, tcp_state_name(k->state));
    } else if (strcmp(key, "trace") == 0) {
        push_trace(L, k);
    } else if (strcmp(key, "steps") == 0) {
        push_steps(L, k);
    } else if (strcmp(key, "error") == 0) {
        if (k->error)
            lua_pushstring(L, tcp_err_name(k->error));
        else
            lua_pushnil(L);
    } else if (strcmp(key, "stats") == 0) {
        push_stats(L, s, k);
    } else if (strcmp(key, "received") == 0) {
        lsim_sock_drain(s, k);
        lua_pushlstring(L, k->rx ? k->rx : "", k->nrx);
    } else if (strcmp(key, "readable") == 0) {
        lua_pushinteger(L, h->stack && k->alive ? (lua_Integer)tcp_readable(h->stack, k->id) : 0);
    } else if (strcmp(key, "host") == 0) {
        lua_getiuservalue(L, 1, 1);
        lsim_push_host(L, -1, k->host);
    } else if (strcmp(key, "id") == 0) {
        lua_pushinteger(L, k->id);
    } else if (!push_ports(L, s, k, key)) {
        luaL_getmetafield(L, 1, "methods");
        lua_getfield(L, -1, key);
        if (lua_isnil(L, -1))
            return luaL_error(L, "socket has no field or method '%s'", key);
    }
    return 1;
}

static int sock_tostring(lua_State *L)
{
    lsim *s;
    lsim_sock *k = lsim_sock_check(L, 1, &s);
    lua_pushfstring(L, "socket %s#%d (%s)", sim_host_name(s->hosts[k->host]->host), (int)k->id,
                    tcp_state_name(k->state));
    return 1;
}

void lsim_sock_free_all(lsim *s)
{
    for (uint32_t i = 0; i < s->nsocks; i++) {
        lsim_sock *k = lsim_sock_at(s, i);
        free(k->trace);
        free(k->rx);
        free(k->tx);
    }
    for (uint32_t c = 0; c * LSIM_SOCK_CHUNK < s->nsocks; c++)
        free(s->sockchunks[c]);
    free(s->sockchunks);
    s->sockchunks = NULL;
    s->nsocks = 0;
}

void lsim_open_sock(lua_State *L)
{
    static const luaL_Reg meta[] = {
        {"__index", sock_index}, {"__tostring", sock_tostring}, {NULL, NULL}};
    static const luaL_Reg methods[] = {
        {"send", sock_send},     {"recv", sock_recv},         {"shutdown", sock_shutdown},
        {"close", sock_close},   {"abort", sock_abort},       {"accept", sock_accept},
        {"setopt", sock_setopt}, {"on_state", sock_on_state}, {NULL, NULL}};
    luaL_newmetatable(L, LSIM_SOCK);
    luaL_setfuncs(L, meta, 0);
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "methods");
    lua_pop(L, 1);
}
