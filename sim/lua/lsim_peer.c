/*
 * lsim_peer — sim:raw_peer: a scripted endpoint with no stack (sim/net's
 * net_peer) linked to one host under test. The scenario sends crafted
 * segments and asserts the ones the stack sends, in packetdrill's one-line
 * notation or as tables; lines are parsed and compared by sim/pkt
 * (pkt_seg_parse_line, pkt_seg_mismatch), never here.
 *
 * Promises:
 *  - Every datagram the stack sends to the peer is queued, in arrival order,
 *    until expect or recv takes it; nothing is dropped or reordered here.
 *  - Sequence numbers are relative by default: the peer's own from its ISN
 *    (opts.isn), the stack's from the ISN of the last SYN the stack sent to
 *    the peer (read from the queue, taken or not). `absolute = true` (on the
 *    peer or per call) writes and shows them as on the wire.
 *  - A failed expect raises one error naming the scenario's file:line, what
 *    was expected and what arrived, both in the same notation and space.
 *  - Time only moves forward, in virtual time, through the net's run
 *    controls; expect waits until its deadline and no further.
 * A peer lives as long as its simulation (it is anchored in the
 * simulation's user value); stack hosts must be made before it (net.h).
 */
#include <stdlib.h>
#include <string.h>

#include "lsim.h"
#include "net_kern.h"
#include "pkt.h"
#include "tcp_seq.h"
#include "tcp_wire.h"

static const char LSIM_PEER[] = "tcpsim.raw_peer";

#define PEER_ISN_DEFAULT  100000u
#define PEER_SPORT        40000u /* the peer's port (packetdrill's remote side) */
#define PEER_DPORT        8080u  /* the host's port (packetdrill's) */
#define PEER_WIN_DEFAULT  65535u
#define PEER_WAIT_DEFAULT (10 * SIM_S)
#define PEER_LINE_MAX     512u

typedef struct lpeer {
    lsim *sim;
    net_peer *p;
    uint32_t host, link;
    uint32_t addr, host_addr;
    uint16_t sport, dport; /* the peer's port, the host's */
    uint32_t isn;          /* the peer's: its relative 0 */
    uint32_t stack_isn;    /* the stack's, once a SYN from it arrived */
    bool have_stack_isn;
    bool absolute;
    bool sent_any;
    uint32_t snd_nxt; /* relative: after the furthest byte, SYN or FIN the peer sent */
    uint32_t rcv_nxt; /* relative: after the last the stack sent that was taken */
    uint64_t tol_ns, wait_ns;
    uint64_t base_ns; /* where "+T" counts from: the last send or expect */
    uint8_t *buf;     /* NET_PEER_DGRAM_MAX bytes: the datagram being sent */
} lpeer;

/* ---- Handles ---- */

static lpeer *peer_check(lua_State *L, int idx)
{
    lpeer *pr = lsim_checkudata(L, idx, LSIM_PEER);
    if (!pr->p)
        luaL_error(L, "attempt to use a raw peer that was freed");
    lua_getiuservalue(L, idx, 1);
    lsim_check(L, -1); /* raises for a finished simulation */
    lua_pop(L, 1);
    return pr;
}

static int peer_gc(lua_State *L)
{
    lpeer *pr = lsim_checkudata(L, 1, LSIM_PEER);
    net_peer_free(pr->p);
    free(pr->buf);
    pr->p = NULL;
    pr->buf = NULL;
    return 0;
}

/* Anchors the userdata at the top in the simulation's user value (keyed by
 * its address, never iterated), so it lives as long as the simulation. */
static void anchor(lua_State *L, int sim_idx, const lpeer *pr)
{
    lua_getiuservalue(L, sim_idx, 1);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setiuservalue(L, sim_idx, 1);
    }
    lua_pushvalue(L, -2);
    lua_rawsetp(L, -2, pr);
    lua_pop(L, 1);
}

/* ---- sim:raw_peer ---- */

static const char *const PEER_OPTS[] = {"name",      "addr", "sport", "dport", "isn", "absolute",
                                        "tolerance", "wait", "delay", "mtu",   NULL};

/* The host under test: a host handle or the address of one. */
static uint32_t target_host(lua_State *L, lsim *s, int idx)
{
    if (lua_type(L, idx) != LUA_TSTRING) {
        lsim *hs;
        uint32_t h = lsim_host_of(L, idx, &hs);
        if (hs != s)
            luaL_error(L, "sim:raw_peer: the host belongs to another simulation");
        return h;
    }
    const char *text = lua_tostring(L, idx);
    uint32_t addr;
    if (lsim_parse_ipv4(text, &addr) != 0)
        luaL_error(L, "sim:raw_peer: expected a host or its dotted IPv4 address, got '%s'", text);
    for (uint32_t h = 0; h < net_host_count(s->net); h++)
        if (sim_host_addr(net_host_sim(s->net, h)) == addr)
            return h;
    return (uint32_t)luaL_error(L, "sim:raw_peer: no host has the address %s", text);
}

static void read_peer_opts(lua_State *L, int idx, lpeer *pr, const char **name, sim_link_params *lp)
{
    lsim_opts_check(L, idx, "sim:raw_peer", PEER_OPTS);
    *name = lsim_opt_string(L, idx, "name", "peer", "sim:raw_peer");
    const char *a = lsim_opt_string(L, idx, "addr", "192.0.2.1", "sim:raw_peer");
    if (lsim_parse_ipv4(a, &pr->addr) != 0)
        luaL_error(L, "sim:raw_peer: addr must be a dotted IPv4 address, got '%s'", a);
    pr->sport = (uint16_t)lsim_opt_int(L, idx, "sport", PEER_SPORT, 1, 65535, "sim:raw_peer");
    pr->dport = (uint16_t)lsim_opt_int(L, idx, "dport", PEER_DPORT, 1, 65535, "sim:raw_peer");
    pr->isn =
        (uint32_t)lsim_opt_int(L, idx, "isn", PEER_ISN_DEFAULT, 0, UINT32_MAX, "sim:raw_peer");
    pr->absolute = lsim_opt_bool(L, idx, "absolute", false, "sim:raw_peer");
    pr->tol_ns = lsim_opt_duration(L, idx, "tolerance", 4 * SIM_MS, "sim:raw_peer");
    pr->wait_ns = lsim_opt_duration(L, idx, "wait", PEER_WAIT_DEFAULT, "sim:raw_peer");
    sim_link_params_default(lp);
    lp->delay_ns = lsim_opt_duration(L, idx, "delay", lp->delay_ns, "sim:raw_peer");
    lp->mtu = (uint32_t)lsim_opt_int(L, idx, "mtu", lp->mtu, 68, SIM_PACKET_MAX, "sim:raw_peer");
    char err[160];
    if (sim_link_params_check(lp, err, sizeof err) != 0)
        luaL_error(L, "sim:raw_peer: %s", err);
}

/* sim:raw_peer(host_or_addr [, opts]) -> peer */
static int sim_raw_peer(lua_State *L)
{
    lsim *s = lsim_check(L, 1);
    uint32_t h = target_host(L, s, 2);
    if (lua_isnoneornil(L, 3)) {
        lua_settop(L, 2);
        lua_newtable(L);
    }
    luaL_checktype(L, 3, LUA_TTABLE);
    lsim_check_no_reentry(L, s, "sim:raw_peer");
    /* The kernel's namespace routes the address of every host that exists
     * when it opens (its first socket call or run), so a raw peer facing
     * the kernel host must come before that. */
    if (net_kern_host(s->net, h) && net_kern_ns_name(s->net)[0])
        return luaL_error(L,
                          "sim:raw_peer: " NET_KERN_REFUSAL "face a raw peer made after its "
                          "namespace opened (%s is played by the kernel: make the peer before "
                          "the host's first socket call or run)",
                          sim_host_name(net_host_sim(s->net, h)));
    lpeer *pr = lua_newuserdatauv(L, sizeof *pr, 1);
    memset(pr, 0, sizeof *pr);
    lsim_setmetatable(L, LSIM_PEER);
    lsim_runtime_own(L, -1);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);
    const char *name;
    sim_link_params lp;
    read_peer_opts(L, 3, pr, &name, &lp);
    pr->sim = s;
    pr->host = h;
    pr->host_addr = sim_host_addr(net_host_sim(s->net, h));
    pr->buf = malloc(NET_PEER_DGRAM_MAX);
    if (!pr->buf)
        return luaL_error(L, "sim:raw_peer: out of memory");
    pr->p = net_peer_new(s->net, name, pr->addr);
    if (!pr->p)
        return luaL_error(L, "sim:raw_peer: %s", sim_world_error(net_world(s->net)));
    anchor(L, 1, pr);
    sim_host *ph = net_peer_sim(pr->p);
    lsim_log_host(s, sim_host_id(ph), name, pr->addr);
    if (net_peer_link(s->net, pr->p, h, &lp, &lp, &pr->link) != 0)
        return luaL_error(L, "sim:raw_peer: %s", sim_world_error(net_world(s->net)));
    lsim_link_hold(s, pr->link); /* for good: peer.link hands out its link at any time */
    pr->base_ns = sim_world_now(net_world(s->net));
    return 1;
}

/* ---- Sequence spaces ---- */

static uint32_t rd32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void wr32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

/* Adds `delta` to every SACK block edge of the option bytes; returns the
 * number of blocks. */
static uint32_t shift_sack(pkt_opts *o, uint32_t delta)
{
    uint32_t n = 0;
    for (size_t i = 0; i < o->len;) {
        uint8_t kind = o->bytes[i];
        if (kind == TCP_KIND_EOL)
            break;
        if (kind == TCP_KIND_NOP || i + 1 >= o->len || o->bytes[i + 1] < 2) {
            i++;
            continue;
        }
        uint8_t olen = o->bytes[i + 1];
        if (kind == TCP_KIND_SACK)
            for (size_t b = i + 2; b + 4 <= i + olen && b + 4 <= o->len; b += 4, n++)
                wr32(o->bytes + b, rd32(o->bytes + b) + delta);
        i += olen;
    }
    return n;
}

/* Learns the stack's ISN and the connection's ports from a segment the
 * stack sent: a SYN names its ISN; a SYN without ACK opens a connection
 * to the peer, whose ports become the peer's. */
static void learn(lpeer *pr, const tcp_seg *seg)
{
    if (!(seg->flags & TCP_SYN))
        return;
    pr->stack_isn = seg->seq;
    pr->have_stack_isn = true;
    if (!(seg->flags & TCP_ACK)) {
        pr->sport = seg->dst_port;
        pr->dport = seg->src_port;
    }
}

/* The stack's ISN is learnt when its SYN is taken; a SYN still queued
 * counts too, so an ACK can be sent before the SYN-ACK is read. */
static bool stack_isn_known(lpeer *pr)
{
    net_peer_dgram d;
    for (uint32_t i = 0; !pr->have_stack_isn && net_peer_peek(pr->p, i, &d); i++) {
        tcp_seg seg;
        if (tcp_wire_parse(d.data, d.len, &seg) == TCP_WIRE_OK && (seg.flags & TCP_SYN)) {
            pr->stack_isn = seg.seq;
            pr->have_stack_isn = true;
        }
    }
    return pr->have_stack_isn;
}

/* ---- Reading a segment from Lua ---- */

typedef struct peer_call {
    bool absolute;
    uint64_t wait_ns;
    const char *data; /* payload to send (tables only), NULL: zeros */
    size_t data_len;
} peer_call;

static const char *const CALL_OPTS[] = {"absolute", "wait", NULL};
static const char *const SEG_KEYS[] = {"time", "flags", "seq",  "ack",  "len",      "win",
                                       "urg",  "opts",  "data", "wait", "absolute", NULL};

static void read_call_opts(lua_State *L, int idx, const lpeer *pr, peer_call *c, const char *where)
{
    c->absolute = lsim_opt_bool(L, idx, "absolute", pr->absolute, where);
    c->wait_ns = lsim_opt_duration(L, idx, "wait", pr->wait_ns, where);
}

/* Appends " key N" for an integer field of the table at idx. */
static void add_num(lua_State *L, luaL_Buffer *b, int idx, const char *key, const char *word,
                    lua_Integer def, bool always, const char *where)
{
    lua_getfield(L, idx, key);
    bool given = !lua_isnil(L, -1);
    lua_Integer v = given ? lua_tointeger(L, -1) : def;
    if (given && (!lua_isinteger(L, -1) || v < 0 || v > (lua_Integer)UINT32_MAX))
        luaL_error(L, "%s: %s must be an integer from 0 to 4294967295", where, key);
    lua_pop(L, 1);
    if (given || always)
        lua_pushfstring(L, " %s %I", word, (LUAI_UACINT)v);
    else
        lua_pushliteral(L, "");
    luaL_addvalue(b);
}

/* A table as the one-line notation: "[time] flags seq:seq+len(len) [ack N]
 * [win N] [urg N] [<opts>]", so tables and lines share one parser. seq
 * and ack default to the next in each direction (relative), win to 65535
 * for segments sent and to "not checked" for expected ones. */
static void table_to_line(lua_State *L, int idx, lpeer *pr, bool outbound, peer_call *c,
                          const char *where)
{
    lsim_opts_check(L, idx, where, SEG_KEYS);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    const char *time = lsim_opt_string(L, idx, "time", NULL, where);
    const char *flags = lsim_opt_string(L, idx, "flags", NULL, where);
    if (!flags)
        luaL_error(L, "%s: a segment table needs flags (\"S\", \"S.\", \".\", \"F.\", \"R\"...)",
                   where);
    lua_getfield(L, idx, "data");
    if (!lua_isnil(L, -1))
        c->data = luaL_checklstring(L, -1, &c->data_len); /* kept on the stack below */
    lua_pop(L, 1);
    lua_Integer len =
        lsim_opt_int(L, idx, "len", (lua_Integer)c->data_len, 0, PKT_PAYLOAD_MAX, where);
    if (c->data && (size_t)len != c->data_len)
        luaL_error(L, "%s: len %I differs from the %d bytes of data", where, (LUAI_UACINT)len,
                   (int)c->data_len);
    uint32_t seq_def = outbound ? pr->rcv_nxt : pr->snd_nxt;
    uint32_t ack_def = outbound ? pr->snd_nxt : pr->rcv_nxt;
    if (c->absolute) {
        seq_def += outbound ? pr->stack_isn : pr->isn;
        ack_def += outbound ? pr->isn : pr->stack_isn;
    }
    lua_Integer seq = lsim_opt_int(L, idx, "seq", seq_def, 0, UINT32_MAX, where);
    lua_pushfstring(L, "%s %s %I:%I(%I)", time ? time : "", flags, (LUAI_UACINT)seq,
                    (LUAI_UACINT)(seq + len), (LUAI_UACINT)len);
    luaL_addvalue(&b);
    if (strchr(flags, '.'))
        add_num(L, &b, idx, "ack", "ack", ack_def, true, where);
    add_num(L, &b, idx, "win", "win", PEER_WIN_DEFAULT, !outbound, where);
    add_num(L, &b, idx, "urg", "urg", 0, false, where);
    lua_getfield(L, idx, "opts");
    if (lua_type(L, -1) == LUA_TSTRING) {
        const char *o = lua_tostring(L, -1);
        lua_pushfstring(L, o[0] == '<' ? " %s" : " <%s>", o);
        luaL_addvalue(&b);
    } else if (!lua_isnil(L, -1)) { /* a table: to bytes, then to the notation */
        pkt_opts o = {.len = 0};
        char text[PKT_MSG_MAX];
        o.len = (uint8_t)lsim_tcpopt_check(L, lua_gettop(L), where, o.bytes);
        lua_pushfstring(L, " <%s>", pkt_opts_format(&o, text, sizeof text));
        luaL_addvalue(&b);
    }
    lua_pop(L, 1);
    luaL_pushresult(&b);
}

/* The segment argument at idx (a line or a table) and the call's options
 * (at idx + 1 for a line, in the table itself for a table): parsed into
 * *seg and *t. Leaves one value on the stack (the line parsed), plus the
 * data string of a table under it. */
static void read_segment(lua_State *L, int idx, lpeer *pr, bool outbound, pkt_seg *seg, pkt_time *t,
                         peer_call *c, const char *where)
{
    memset(c, 0, sizeof *c);
    if (lua_type(L, idx) == LUA_TTABLE) {
        read_call_opts(L, idx, pr, c, where);
        lua_getfield(L, idx, "data"); /* keeps c->data alive */
        table_to_line(L, idx, pr, outbound, c, where);
    } else {
        luaL_checkstring(L, idx);
        lsim_opts_check(L, idx + 1, where, CALL_OPTS);
        read_call_opts(L, idx + 1, pr, c, where);
        lua_pushnil(L);
        lua_pushvalue(L, idx);
    }
    char msg[PKT_MSG_MAX];
    const char *line = lua_tostring(L, -1);
    if (strlen(line) > PEER_LINE_MAX)
        luaL_error(L, "%s: a segment line is limited to %d characters", where, (int)PEER_LINE_MAX);
    if (pkt_seg_parse_line(line, outbound, t, seg, msg, sizeof msg) != PKT_OK)
        luaL_error(L, "%s: %s in \"%s\"", where, msg, line);
}

/* ---- Time ---- */

static const char *time_str(uint64_t ns, char *buf, size_t len)
{
    snprintf(buf, len, "%llu.%06llu", (unsigned long long)(ns / SIM_S),
             (unsigned long long)(ns % SIM_S / SIM_US));
    return buf;
}

/* The instant `ns` of a time names: from the run's start, or from the
 * base for "+T". */
static uint64_t time_at(const lpeer *pr, const pkt_time *t, uint64_t ns)
{
    bool rel = t->kind == PKT_TIME_REL || t->kind == PKT_TIME_REL_RANGE;
    return rel ? pr->base_ns + ns : ns;
}

static bool queued_pred(void *arg)
{
    const lpeer *pr = arg;
    return net_peer_queued(pr->p) > 0;
}

/* Runs the world until a datagram is queued or `deadline` (the clock then
 * reads the deadline, even if nothing was left to run); whether one is. */
static bool wait_for(lua_State *L, lpeer *pr, uint64_t deadline, const char *where)
{
    lsim *s = pr->sim;
    if (net_peer_queued(pr->p) > 0)
        return true;
    if (deadline <= sim_world_now(net_world(s->net)))
        return false;
    lsim_check_runnable(L, s, where);
    sim_run_result r = net_run_until(s->net, queued_pred, pr, deadline);
    lsim_check_run(L, s, r, where);
    if (r == SIM_RUN_IDLE && deadline != SIM_TIME_NEVER) { /* nothing left: the wait ends */
        lsim_check_runnable(L, s, where);
        r = net_run_until_time(s->net, deadline);
        lsim_check_run(L, s, r, where);
    }
    return net_peer_queued(pr->p) > 0;
}

static void run_to(lua_State *L, lpeer *pr, uint64_t when, const char *where)
{
    lsim *s = pr->sim;
    lsim_check_runnable(L, s, where);
    sim_run_result r = net_run_until_time(s->net, when);
    lsim_check_run(L, s, r, where);
}

/* ---- peer:send ---- */

static uint32_t seq_end(uint32_t seq, const pkt_seg *seg)
{
    return seq + seg->len + ((seg->flags & TCP_SYN) ? 1u : 0u) + ((seg->flags & TCP_FIN) ? 1u : 0u);
}

/* Maps the peer's relative numbers to the wire's. Raises if an ACK or a
 * SACK block refers to the stack's ISN before any SYN from it arrived. */
static void to_wire(lua_State *L, lpeer *pr, pkt_seg *seg)
{
    seg->seq += pr->isn;
    pkt_opts probe = seg->opts;
    bool sack = seg->has_opts && shift_sack(&probe, 0) > 0;
    if (!(seg->flags & TCP_ACK) && !sack)
        return;
    if (!stack_isn_known(pr))
        luaL_error(L, "peer:send: the stack's ISN is not known yet (no SYN from it arrived), so "
                      "a relative ack cannot be mapped; give absolute = true");
    if (seg->flags & TCP_ACK)
        seg->ack += pr->stack_isn;
    if (seg->has_opts)
        shift_sack(&seg->opts, pr->stack_isn);
}

static int peer_send(lua_State *L)
{
    lpeer *pr = peer_check(L, 1);
    lsim *s = pr->sim;
    lsim_check_no_reentry(L, s, "peer:send");
    pkt_seg seg;
    pkt_time t;
    peer_call c;
    read_segment(L, 2, pr, false, &seg, &t, &c, "peer:send");
    uint64_t now = sim_world_now(net_world(s->net)), when = now;
    if (t.kind != PKT_TIME_NONE) {
        char b1[32], b2[32];
        when = time_at(pr, &t, t.start_ns);
        if (when < now)
            return luaL_error(L, "peer:send: time %s is in the past (now %s)",
                              time_str(when, b1, sizeof b1), time_str(now, b2, sizeof b2));
        run_to(L, pr, when, "peer:send");
    }
    if (!c.absolute)
        to_wire(L, pr, &seg);
    tcp_seg ts = {.src_addr = pr->addr,
                  .dst_addr = pr->host_addr,
                  .src_port = seg.src_port ? seg.src_port : pr->sport,
                  .dst_port = seg.dst_port ? seg.dst_port : pr->dport,
                  .seq = seg.seq,
                  .ack = (seg.flags & TCP_ACK) ? seg.ack : 0,
                  .flags = seg.flags,
                  .wnd = seg.win,
                  .urg = seg.urg,
                  .payload = (const uint8_t *)c.data,
                  .len = seg.len};
    size_t n = net_peer_encode(&ts, seg.opts.bytes, seg.has_opts ? seg.opts.len : 0, pr->buf,
                               NET_PEER_DGRAM_MAX);
    if (n == 0 || net_peer_send(pr->p, pr->buf, n) != 0)
        return luaL_error(L, "peer:send: the segment does not fit one IPv4 datagram");
    uint32_t rel = seg.seq - pr->isn, end = seq_end(rel, &seg);
    /* a crafted SYN after the first does not move the default */
    if (!pr->sent_any || (!(seg.flags & TCP_SYN) && tcp_seq_gt(end, pr->snd_nxt)))
        pr->snd_nxt = end;
    pr->sent_any = true;
    pr->base_ns = when;
    return 0;
}

/* ---- Segments the stack sent ---- */

/* Pushes {time, flags, seq, ack, len, win, urg, opts, sport, dport, data,
 * line} for a segment in the peer's space. */
static void push_seg(lua_State *L, const pkt_seg *got, const tcp_seg *seg, uint64_t time_ns)
{
    char buf[PKT_MSG_MAX];
    lua_createtable(L, 0, 12);
    lua_pushinteger(L, (lua_Integer)time_ns);
    lua_setfield(L, -2, "time");
    lua_pushstring(L, pkt_flags_format(got->flags, buf, sizeof buf));
    lua_setfield(L, -2, "flags");
    lua_pushinteger(L, got->seq);
    lua_setfield(L, -2, "seq");
    lua_pushinteger(L, got->ack);
    lua_setfield(L, -2, "ack");
    lua_pushinteger(L, got->len);
    lua_setfield(L, -2, "len");
    lua_pushinteger(L, got->win);
    lua_setfield(L, -2, "win");
    lua_pushinteger(L, got->urg);
    lua_setfield(L, -2, "urg");
    if (got->has_opts) {
        lua_pushstring(L, pkt_opts_format(&got->opts, buf, sizeof buf));
        lua_setfield(L, -2, "opts");
        lsim_tcpopt_push(L, got->opts.bytes, got->opts.len);
        lua_setfield(L, -2, "options");
    }
    lua_pushinteger(L, got->src_port);
    lua_setfield(L, -2, "sport");
    lua_pushinteger(L, got->dst_port);
    lua_setfield(L, -2, "dport");
    lua_pushlstring(L, (const char *)seg->payload, seg->len);
    lua_setfield(L, -2, "data");
    lua_pushstring(L, pkt_seg_format(got, buf, sizeof buf));
    lua_setfield(L, -2, "line");
}

/* Takes the oldest queued datagram into *seg and *got (in the peer's
 * space unless absolute) and learns from it. Raises if it is malformed. */
static uint64_t take(lua_State *L, lpeer *pr, bool absolute, tcp_seg *seg, pkt_seg *got,
                     const char *where)
{
    net_peer_dgram d;
    net_peer_take(pr->p, &d);
    if (pkt_seg_from_dgram(d.data, d.len, seg, got) != 0)
        luaL_error(L, "%s: the stack sent a malformed datagram (%u bytes)", where, (unsigned)d.len);
    if ((seg->flags & TCP_SYN) && (!pr->have_stack_isn || seg->seq != pr->stack_isn))
        pr->rcv_nxt = 0; /* a new connection */
    learn(pr, seg);
    uint32_t rel = seg->seq - pr->stack_isn, end = seq_end(rel, got);
    if (tcp_seq_gt(end, pr->rcv_nxt))
        pr->rcv_nxt = end;
    if (!absolute) {
        got->seq = rel;
        if (got->flags & TCP_ACK)
            got->ack -= pr->isn;
        if (got->has_opts)
            shift_sack(&got->opts, (uint32_t)0 - pr->isn);
    }
    return d.time_ns;
}

/* ---- peer:expect ---- */

/* When an expected segment may arrive: [lo, hi], and the instant it is due. */
typedef struct window {
    uint64_t due, lo, hi;
    bool checked; /* a time was given (not none and not "*") */
} window;

/* The peer's tolerance; in a kernel run at least the command's, since the
 * kernel answers in real time and a machine under load reads its segments
 * late (the comparison's timing check judges them). */
static uint64_t tolerance(lua_State *L, const lpeer *pr)
{
    const lsim_config *cfg = lsim_config_of(L);
    uint64_t k = cfg->kernel_host ? cfg->kernel_tol_ns : 0;
    return pr->tol_ns > k ? pr->tol_ns : k;
}

static window expect_window(const lpeer *pr, const pkt_time *t, uint64_t now, uint64_t wait_ns,
                            uint64_t tol)
{
    window w = {now, 0, wait_ns > SIM_TIME_NEVER - now ? SIM_TIME_NEVER : now + wait_ns, false};
    if (t->kind == PKT_TIME_NONE || t->kind == PKT_TIME_ANY)
        return w;
    w.checked = true;
    w.due = time_at(pr, t, t->start_ns);
    w.lo = w.due > tol ? w.due - tol : 0;
    bool range = t->kind == PKT_TIME_ABS_RANGE || t->kind == PKT_TIME_REL_RANGE;
    uint64_t end = range ? time_at(pr, t, t->end_ns) : w.due;
    w.hi = end > SIM_TIME_NEVER - tol ? SIM_TIME_NEVER : end + tol;
    return w;
}

/* "0.100000 > F. 1:1(0) ack 1" as the scenario wrote it, times from the
 * run's start ("*" or none when so written). */
static void format_expected(const lpeer *pr, const pkt_time *t, const pkt_seg *want, char *buf,
                            size_t len)
{
    char t1[32] = "", t2[48] = "", seg[PKT_MSG_MAX];
    if (t->kind == PKT_TIME_ANY) {
        snprintf(t1, sizeof t1, "* ");
    } else if (t->kind != PKT_TIME_NONE) {
        char a[32];
        snprintf(t1, sizeof t1, "%s", time_str(time_at(pr, t, t->start_ns), a, sizeof a));
        if (t->kind == PKT_TIME_ABS_RANGE || t->kind == PKT_TIME_REL_RANGE)
            snprintf(t2, sizeof t2, "~%s ", time_str(time_at(pr, t, t->end_ns), a, sizeof a));
        else
            snprintf(t2, sizeof t2, " ");
    }
    snprintf(buf, len, "%s%s> %s", t1, t2, pkt_seg_format(want, seg, sizeof seg));
}

/* A raw peer's check that failed. In simulation an error, which stops the
 * scenario (the library's contract: segments are exact there). In a kernel
 * run a failed expectation, counted and printed as expect()'s are, and the
 * scenario goes on: the kernel answers in real time, and what it did is
 * judged by the comparison of the two runs, not by the first late or
 * different segment. */
static void peer_fail(lua_State *L, const char *msg)
{
    luaL_where(L, 1);
    if (!lsim_config_of(L)->kernel_host) {
        lua_pushstring(L, msg);
        lua_concat(L, 2);
        lua_error(L);
    }
    lsim_expect_checked(L);
    lsim_expect_fail(L, lua_tostring(L, -1), msg);
    lua_pop(L, 1);
}

static int peer_expect(lua_State *L)
{
    lpeer *pr = peer_check(L, 1);
    lsim *s = pr->sim;
    pkt_seg want, got;
    pkt_time t;
    peer_call c;
    tcp_seg seg;
    char exp[PKT_MSG_MAX], act[PKT_MSG_MAX], tb[32];
    read_segment(L, 2, pr, true, &want, &t, &c, "peer:expect");
    format_expected(pr, &t, &want, exp, sizeof exp);
    window w = expect_window(pr, &t, sim_world_now(net_world(s->net)), c.wait_ns, tolerance(L, pr));
    char msg[3 * PKT_MSG_MAX];
    if (!wait_for(L, pr, w.hi, "peer:expect")) {
        snprintf(msg, sizeof msg,
                 "peer:expect: expected segment not sent: expected %s, actual: none by %s", exp,
                 time_str(sim_world_now(net_world(s->net)), tb, sizeof tb));
        peer_fail(L, msg);
        pr->base_ns = sim_world_now(net_world(s->net));
        lua_pushnil(L);
        return 1;
    }
    uint64_t at = take(L, pr, c.absolute, &seg, &got, "peer:expect");
    const char *diff = pkt_seg_mismatch(&want, &got);
    if (!diff && w.checked && (at < w.lo || at > w.hi))
        diff = "time";
    bool exact = t.kind == PKT_TIME_ABS || t.kind == PKT_TIME_REL;
    pr->base_ns = exact ? w.due : at;
    if (diff) {
        pkt_seg_format(&got, act, sizeof act);
        snprintf(msg, sizeof msg, "peer:expect: %s mismatch: expected %s, actual %s > %s", diff,
                 exp, time_str(at, tb, sizeof tb), act);
        peer_fail(L, msg);
    } else {
        lsim_expect_checked(L);
    }
    push_seg(L, &got, &seg, at);
    return 1;
}

/* peer:expect_none(duration): nothing may arrive for that long. */
static int peer_expect_none(lua_State *L)
{
    lpeer *pr = peer_check(L, 1);
    lsim *s = pr->sim;
    uint64_t d = lsim_check_duration(L, 2, "peer:expect_none");
    uint64_t now = sim_world_now(net_world(s->net));
    uint64_t until = d > SIM_TIME_NEVER - now ? SIM_TIME_NEVER : now + d;
    char dur[32], tb[32], act[PKT_MSG_MAX];
    if (wait_for(L, pr, until, "peer:expect_none")) {
        tcp_seg seg;
        pkt_seg got;
        char msg[2 * PKT_MSG_MAX];
        uint64_t at = take(L, pr, pr->absolute, &seg, &got, "peer:expect_none");
        sim_duration_format(d, dur, sizeof dur);
        snprintf(msg, sizeof msg, "peer:expect_none: expected no segment for %s, actual %s > %s",
                 dur, time_str(at, tb, sizeof tb), pkt_seg_format(&got, act, sizeof act));
        peer_fail(L, msg);
    } else {
        lsim_expect_checked(L);
    }
    run_to(L, pr, until, "peer:expect_none");
    pr->base_ns = until;
    return 0;
}

/* ---- Reading without asserting, and time ---- */

static const char *const RECV_OPTS[] = {"wait", "absolute", NULL};

/* peer:recv([{wait = d, absolute = b}]) -> the oldest queued segment as a
 * table, or nil; with wait, runs up to that long for one to arrive. */
static int peer_recv(lua_State *L)
{
    lpeer *pr = peer_check(L, 1);
    lsim *s = pr->sim;
    lsim_opts_check(L, 2, "peer:recv", RECV_OPTS);
    uint64_t wait = lsim_opt_duration(L, 2, "wait", 0, "peer:recv");
    bool absolute = lsim_opt_bool(L, 2, "absolute", pr->absolute, "peer:recv");
    uint64_t now = sim_world_now(net_world(s->net));
    if (!wait_for(L, pr, wait > SIM_TIME_NEVER - now ? SIM_TIME_NEVER : now + wait, "peer:recv")) {
        lua_pushnil(L);
        return 1;
    }
    tcp_seg seg;
    pkt_seg got;
    uint64_t at = take(L, pr, absolute, &seg, &got, "peer:recv");
    push_seg(L, &got, &seg, at);
    return 1;
}

/* peer:advance(duration): runs the world that long; "+T" counts from then. */
static int peer_advance(lua_State *L)
{
    lpeer *pr = peer_check(L, 1);
    uint64_t d = lsim_check_duration(L, 2, "peer:advance");
    uint64_t now = sim_world_now(net_world(pr->sim->net));
    uint64_t until = d > SIM_TIME_NEVER - now ? SIM_TIME_NEVER : now + d;
    run_to(L, pr, until, "peer:advance");
    pr->base_ns = until;
    return 0;
}

static int peer_index(lua_State *L)
{
    lpeer *pr = peer_check(L, 1);
    const char *key = luaL_checkstring(L, 2);
    char buf[16];
    if (strcmp(key, "addr") == 0) {
        lsim_format_ipv4(pr->addr, buf, sizeof buf);
        lua_pushstring(L, buf);
    } else if (strcmp(key, "name") == 0) {
        lua_pushstring(L, sim_host_name(net_peer_sim(pr->p)));
    } else if (strcmp(key, "sport") == 0) {
        lua_pushinteger(L, pr->sport);
    } else if (strcmp(key, "dport") == 0) {
        lua_pushinteger(L, pr->dport);
    } else if (strcmp(key, "isn") == 0) {
        lua_pushinteger(L, pr->isn);
    } else if (strcmp(key, "stack_isn") == 0) {
        if (stack_isn_known(pr))
            lua_pushinteger(L, pr->stack_isn);
        else
            lua_pushnil(L);
    } else if (strcmp(key, "queued") == 0) {
        lua_pushinteger(L, net_peer_queued(pr->p));
    } else if (strcmp(key, "link") == 0) {
        lua_getiuservalue(L, 1, 1);
        lsim_push_link(L, lua_touserdata(L, -1), pr->link);
        lua_remove(L, -2);
    } else if (strcmp(key, "host") == 0) {
        lua_getiuservalue(L, 1, 1);
        lsim_push_host(L, lua_touserdata(L, -1), pr->host);
        lua_remove(L, -2);
    } else {
        return lsim_index_methods(L, "raw peer", key);
    }
    return 1;
}

static int peer_tostring(lua_State *L)
{
    lpeer *pr = peer_check(L, 1);
    lua_pushfstring(L, "raw peer %s", sim_host_name(net_peer_sim(pr->p)));
    return 1;
}

void lsim_open_peer(lua_State *L)
{
    static const luaL_Reg meta[] = {
        {"__index", peer_index}, {"__gc", peer_gc}, {"__tostring", peer_tostring}, {NULL, NULL}};
    static const luaL_Reg methods[] = {
        {"send", peer_send}, {"expect", peer_expect},   {"expect_none", peer_expect_none},
        {"recv", peer_recv}, {"advance", peer_advance}, {NULL, NULL}};
    lsim_newmetatable(L, LSIM_PEER);
    luaL_setfuncs(L, meta, 0);
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "methods");
    lua_pop(L, 1);
    /* sim:raw_peer joins the simulation's methods */
    luaL_getmetatable(L, LSIM_SIM);
    lua_getfield(L, -1, "methods");
    lua_pushcfunction(L, sim_raw_peer);
    lua_setfield(L, -2, "raw_peer");
    lua_pop(L, 2);
}
