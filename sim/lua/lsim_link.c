/*
 * lsim_link — links seen from Lua: creation with per-direction parameters,
 * partitions, faults aimed at one segment (drop/duplicate/delay/hold the
 * next segment matching a filter), a general per-packet hook, and queries
 * over the segments that crossed the link.
 *
 * Faults are the net's segment rules (net_rule_add); this file reads their
 * options and supplies the Lua predicates and hooks as rule callbacks,
 * which run under lua_pcall (from inside the world): an error there, or a
 * hook verdict that cannot be read, stops the run and is re-raised after it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lsim.h"

/* ---- parameters ---- */

/* LINK_KEYS by position: their bits in lsim_opts_present's answer. */
enum {
    K_DELAY,
    K_JITTER,
    K_BANDWIDTH,
    K_QUEUE,
    K_MTU,
    K_LOSS,
    K_DUPLICATE,
    K_REORDER,
    K_REORDER_DELAY,
    K_CORRUPT,
    K_UP,
    K_COUNT
};

static const char *const LINK_KEYS[] = {
    [K_DELAY] = "delay",         [K_JITTER] = "jitter",   [K_BANDWIDTH] = "bandwidth",
    [K_QUEUE] = "queue",         [K_MTU] = "mtu",         [K_LOSS] = "loss",
    [K_DUPLICATE] = "duplicate", [K_REORDER] = "reorder", [K_REORDER_DELAY] = "reorder_delay",
    [K_CORRUPT] = "corrupt",     [K_UP] = "up",           [K_COUNT] = NULL,
};
_Static_assert(K_COUNT <= LSIM_OPTS_PRESENT_MAX, "LINK_KEYS has a bit each in lsim_opts_present");

static uint64_t parse_bandwidth(lua_State *L, int idx, const char *where)
{
    if (lua_type(L, idx) == LUA_TNUMBER) {
        lua_Integer v = luaL_checkinteger(L, idx);
        if (v < 0)
            luaL_error(L, "%s: bandwidth must not be negative", where);
        return (uint64_t)v;
    }
    const char *t = luaL_checkstring(L, idx);
    char *end;
    unsigned long long n = strtoull(t, &end, 10);
    uint64_t mult = 0;
    if (strcmp(end, "bps") == 0)
        mult = 1;
    else if (strcmp(end, "kbps") == 0 || strcmp(end, "Kbps") == 0)
        mult = 1000;
    else if (strcmp(end, "Mbps") == 0)
        mult = 1000000;
    else if (strcmp(end, "Gbps") == 0)
        mult = 1000000000;
    if (mult && n > UINT64_MAX / mult)
        luaL_error(L, "%s: bandwidth '%s' is too large", where, t);
    if (!mult || end == t || t[0] == '-')
        luaL_error(L,
                   "%s: bandwidth must be bits per second or a string like \"10Mbps\", "
                   "got '%s'",
                   where, t);
    return n * mult;
}

/* The reorder_delay a direction gets when `reorder` is set without one:
 * its one-way delay, at least 1 ms. netem reorders by sending the chosen
 * packets without the configured delay, so they overtake what was sent up
 * to one delay before; holding a packet back by one delay here makes the
 * same size of gap, and scales with the path instead of being a constant
 * that is huge on a LAN and invisible on a long path. */
static uint64_t reorder_delay_default(const sim_link_params *p)
{
    return p->delay_ns > SIM_MS ? p->delay_ns : SIM_MS;
}

#define HAS(k) ((has >> (k)) & 1u)

/* Reads the parameters the table at idx gives over those in p, in
 * LINK_KEYS order (the first bad one is the one named), then checks them.
 * Only the names the table holds are looked up (a link made per pair
 * gives two or three of eleven). */
static void read_named(lua_State *L, int idx, sim_link_params *p, const char *where, uint64_t has)
{
    if (HAS(K_DELAY))
        p->delay_ns = lsim_opt_duration(L, idx, "delay", p->delay_ns, where);
    if (HAS(K_JITTER))
        p->jitter_ns = lsim_opt_duration(L, idx, "jitter", p->jitter_ns, where);
    if (HAS(K_BANDWIDTH)) {
        lua_getfield(L, idx, "bandwidth");
        p->bandwidth_bps = parse_bandwidth(L, -1, where);
        lua_pop(L, 1);
    }
    if (HAS(K_QUEUE))
        p->queue_packets =
            (uint32_t)lsim_opt_int(L, idx, "queue", p->queue_packets, 0, UINT32_MAX, where);
    if (HAS(K_MTU))
        p->mtu = (uint32_t)lsim_opt_int(L, idx, "mtu", p->mtu, 0, UINT32_MAX, where);
    if (HAS(K_LOSS))
        p->loss_ppb = lsim_opt_prob(L, idx, "loss", p->loss_ppb, where);
    if (HAS(K_DUPLICATE))
        p->duplicate_ppb = lsim_opt_prob(L, idx, "duplicate", p->duplicate_ppb, where);
    if (HAS(K_REORDER))
        p->reorder_ppb = lsim_opt_prob(L, idx, "reorder", p->reorder_ppb, where);
    if (HAS(K_REORDER_DELAY))
        p->reorder_delay_ns =
            lsim_opt_duration(L, idx, "reorder_delay", p->reorder_delay_ns, where);
    if (p->reorder_ppb > 0 && p->reorder_delay_ns == 0 && !HAS(K_REORDER_DELAY))
        p->reorder_delay_ns = reorder_delay_default(p);
    if (HAS(K_CORRUPT))
        p->corrupt_ppb = lsim_opt_prob(L, idx, "corrupt", p->corrupt_ppb, where);
    if (HAS(K_UP))
        p->up = lsim_opt_bool(L, idx, "up", p->up, where);
    char err[160];
    if (sim_link_params_check(p, err, sizeof err) != 0)
        luaL_error(L, "%s: %s", where, err);
}

static void read_params(lua_State *L, int idx, sim_link_params *p, const char *where)
{
    read_named(L, idx, p, where, lsim_opts_present(L, idx, LINK_KEYS));
}

/* Reads {common..., ab = {...}, ba = {...}} into the two directions. */
static void read_both(lua_State *L, int idx, sim_link_params *ab, sim_link_params *ba)
{
    /* Only sim:link reads both directions, so the names its errors give
     * each direction are constants, not printed on every call. */
    static const char *const where = "sim:link";
    static const char *const dirs[2] = {"ab", "ba"};
    static const char *const dir_where[2] = {"sim:link (ab)", "sim:link (ba)"};
    const char *keys[16];
    size_t n = 0;
    for (; LINK_KEYS[n]; n++)
        keys[n] = LINK_KEYS[n];
    keys[n++] = "ab";
    keys[n++] = "ba";
    keys[n] = NULL;
    /* each table's keys checked and its names found in one pass */
    uint64_t has = lsim_opts_check_present(L, idx, where, keys, LINK_KEYS);
    if (lua_isnoneornil(L, idx))
        return;
    read_named(L, idx, ab, where, has);
    *ba = *ab;
    for (int d = 0; d < 2; d++) {
        lua_getfield(L, idx, dirs[d]);
        if (!lua_isnil(L, -1)) {
            has = lsim_opts_check_present(L, -1, dir_where[d], LINK_KEYS, LINK_KEYS);
            read_named(L, lua_gettop(L), d ? ba : ab, dir_where[d], has);
        }
        lua_pop(L, 1);
    }
}

/* Set in a handle's link index once its finalizer has run (link indices
 * stay far below: each link is a C object of hundreds of bytes). */
#define LINK_COLLECTED 0x80000000u

/* sim:link(a, b [, opts]) */
int lsim_sim_link(lua_State *L)
{
    lsim *s = lsim_check(L, 1);
    lsim *sa, *sb;
    uint32_t a = lsim_host_of(L, 2, &sa);
    uint32_t b = lsim_host_of(L, 3, &sb);
    if (sa != s || sb != s)
        return luaL_error(L, "sim:link: host %s belongs to another simulation",
                          sim_host_name(net_host_sim((sa != s ? sa : sb)->net, sa != s ? a : b)));
    sim_link_params ab, ba;
    sim_link_params_default(&ab);
    read_both(L, 4, &ab, &ba);
    if (lua_isnoneornil(L, 4))
        ba = ab;
    const lsim_config *cfg = lsim_config_of(L);
    if (cfg->on_link)
        cfg->on_link(cfg->on_net_ctx, s->net, &ab, &ba);
    /* The handle is made before the link: a memory error making it leaves
     * no link behind, so a script that catches the error can make the same
     * link again. Until the link exists the handle is marked collected, so
     * that its finalizer counts off no holder if the add fails. */
    lsim_push_handle(L, s, LINK_COLLECTED, LSIM_LINK);
    lsim_handle *hd = lua_touserdata(L, -1);
    uint32_t link;
    if (net_link_add(s->net, a, b, &ab, &ba, &link) != 0)
        return luaL_error(L, "sim:link: %s", sim_world_error(net_world(s->net)));
    hd->index = link;
    lsim_link_hold(s, link);
    return 1;
}

void lsim_link_hold(lsim *s, uint32_t link)
{
    if (link >= s->caplinkholds) {
        uint32_t old = s->caplinkholds;
        s->link_holds = lsim_grow(s->link_holds, &s->caplinkholds, link + 1, sizeof *s->link_holds);
        memset(s->link_holds + old, 0, (s->caplinkholds - old) * sizeof *s->link_holds);
    }
    s->link_holds[link]++;
}

bool lsim_link_held(const lsim *s, uint32_t link)
{
    return link < s->caplinkholds && s->link_holds[link] > 0;
}

void lsim_push_link(lua_State *L, lsim *s, uint32_t link)
{
    lsim_push_handle(L, s, link, LSIM_LINK);
    if (!s->closed)
        lsim_link_hold(s, link);
}

/* A link handle collected: one holder fewer. Once none is left (and no raw
 * peer stands at the link) no query can name the link again. When a
 * finalizer runs may differ between modes (a full collection near the
 * memory budget counts the log's C memory too), but a holder count changes
 * no output: it only says which packets a lean log may leave out. A handle
 * can outlive its finalizer (resurrected: handed back by a script's own
 * __gc; or __gc called by hand under --unsafe), with no holder counted for
 * it: it is marked, and lsim_link_check refuses it in every mode alike, not
 * only where a lean log would answer wrongly. (No weak table hands it back:
 * weak values are cleared before finalizers run, and pairs/next refuse
 * userdata keys.) */
static int link_gc(lua_State *L)
{
    lsim_handle *ld = lsim_checkudata(L, 1, LSIM_LINK);
    if (ld->index & LINK_COLLECTED)
        return 0;
    lsim *s = lsim_runtime_sim(L, ld->sim);
    if (s && !s->closed && lsim_link_held(s, ld->index))
        s->link_holds[ld->index]--;
    ld->index |= LINK_COLLECTED;
    return 0;
}

sim_link *lsim_link_check(lua_State *L, int idx, lsim **out_sim)
{
    lsim_handle *ld = lsim_checkudata(L, idx, LSIM_LINK);
    if (ld->index & LINK_COLLECTED)
        luaL_error(L, "link: this handle was collected (a finalizer handed it back, or its "
                      "__gc was called by hand) and the log may miss its packets: keep the "
                      "handle sim:link returned alive instead");
    lsim *s;
    lsim_handle_check(L, idx, LSIM_LINK, &s);
    if (out_sim)
        *out_sim = s;
    return sim_link_by_id(net_world(s->net), ld->index);
}

/* The direction named by opts.from (a host), or -1 for both. */
static int dir_from_opts(lua_State *L, int idx, sim_link *l, const char *where)
{
    if (lua_isnoneornil(L, idx))
        return -1;
    lua_getfield(L, idx, "from");
    int dir = -1;
    if (!lua_isnil(L, -1)) {
        lsim *s;
        uint32_t h = lsim_host_of(L, lua_gettop(L), &s);
        const sim_host *sh = net_host_sim(s->net, h);
        dir = sim_link_dir_from(l, sh);
        if (dir < 0)
            luaL_error(L, "%s: host %s is not on this link", where, sim_host_name(sh));
    }
    lua_pop(L, 1);
    return dir;
}

static int link_set(lua_State *L)
{
    lsim *s;
    sim_link *l = lsim_link_check(L, 1, &s);
    luaL_checktype(L, 2, LUA_TTABLE);
    const char *keys[16];
    size_t n = 0;
    for (; LINK_KEYS[n]; n++)
        keys[n] = LINK_KEYS[n];
    keys[n++] = "from";
    keys[n] = NULL;
    lsim_opts_check(L, 2, "link:set", keys);
    int dir = dir_from_opts(L, 2, l, "link:set");
    for (int d = 0; d < 2; d++) {
        if (dir >= 0 && d != dir)
            continue;
        sim_link_params p = *sim_link_params_get(l, d);
        read_params(L, 2, &p, "link:set");
        if (sim_link_params_set(l, d, &p) != 0)
            return luaL_error(L, "link:set: %s", sim_world_error(net_world(s->net)));
    }
    return 0;
}

/* link:partition([{from=, at=, heal=}]) and link:heal([{from=, at=}]) */
static int set_up(lua_State *L, bool up)
{
    const char *where = up ? "link:heal" : "link:partition";
    lsim *s;
    sim_link *l = lsim_link_check(L, 1, &s);
    static const char *const keys[] = {"from", "at", "heal", NULL};
    lsim_opts_check(L, 2, where, keys);
    int dir = dir_from_opts(L, 2, l, where);
    uint64_t now = sim_world_now(net_world(s->net));
    uint64_t at = lsim_opt_duration(L, 2, "at", now, where);
    uint64_t heal = lsim_opt_duration(L, 2, "heal", 0, where);
    if (at < now)
        return luaL_error(L, "%s: 'at' is in the past", where);
    if (heal && (up || heal <= at))
        return luaL_error(L, "%s: 'heal' must come after 'at' (and only with partition)", where);
    for (int d = 0; d < 2; d++) {
        if (dir >= 0 && d != dir)
            continue;
        if (at == now)
            sim_link_set_up(l, d, up);
        else if (sim_link_set_up_at(l, d, at, up) != 0)
            return luaL_error(L, "%s: %s", where, sim_world_error(net_world(s->net)));
        if (heal && sim_link_set_up_at(l, d, heal, true) != 0)
            return luaL_error(L, "%s: %s", where, sim_world_error(net_world(s->net)));
    }
    return 0;
}

static int link_partition(lua_State *L)
{
    return set_up(L, false);
}

static int link_heal(lua_State *L)
{
    return set_up(L, true);
}

/* ---- segment descriptions ---- */

static const char *host_name(const lsim *s, uint32_t host)
{
    /* a sim host id: a stack host's is its net index; a raw peer has one too */
    const sim_world *w = net_world(s->net);
    return host < sim_host_count(w) ? sim_host_name(sim_host_by_id(w, host)) : "?";
}

/* Sets opts and opts_text on the table at the top from the TCP options in
 * the datagram's bytes (as many as are held; a segment that parsed has its
 * headers whole). */
static void push_seg_opts(lua_State *L, const uint8_t *d, size_t n)
{
    size_t ihl = n ? (size_t)(d[0] & 0x0f) * 4 : 0;
    size_t doff = ihl + 12 < n ? (size_t)(d[ihl + 12] >> 4) * 4 : 0;
    size_t optlen = 0;
    if (ihl >= TCP_IPV4_HDR && doff > TCP_HDR_MIN && ihl + doff <= n)
        optlen = doff - TCP_HDR_MIN;
    const uint8_t *opts = optlen ? d + ihl + TCP_HDR_MIN : NULL;
    lsim_tcpopt_push(L, opts, optlen);
    lua_setfield(L, -2, "opts");
    lsim_tcpopt_push_text(L, opts, optlen);
    lua_setfield(L, -2, "opts_text");
}

/* The fields of a segment table sent by e->host to host `to`; `bytes` (n
 * of them) are its datagram. */
static void push_seg_fields(lua_State *L, const lsim *s, const rlog_entry *e, uint32_t to,
                            const uint8_t *bytes, size_t n)
{
    lua_pushstring(L, host_name(s, e->host));
    lua_setfield(L, -2, "from");
    lua_pushstring(L, host_name(s, to));
    lua_setfield(L, -2, "to");
    lua_pushinteger(L, e->packet_id);
    lua_setfield(L, -2, "id");
    if (e->origin_id != e->packet_id) {
        lua_pushinteger(L, e->origin_id);
        lua_setfield(L, -2, "dup_of");
    }
    if (!e->seg_ok)
        return;
    char flags[48];
    tcp_flags_str(e->seg->flags, flags, sizeof flags);
    lua_pushstring(L, flags);
    lua_setfield(L, -2, "flags");
    lua_pushinteger(L, e->seg->seq);
    lua_setfield(L, -2, "seq");
    lua_pushinteger(L, e->seg->ack);
    lua_setfield(L, -2, "ack");
    lua_pushinteger(L, e->seg->len);
    lua_setfield(L, -2, "len");
    lua_pushinteger(L, e->seg->wnd);
    lua_setfield(L, -2, "win");
    lua_pushinteger(L, e->seg->src_port);
    lua_setfield(L, -2, "sport");
    lua_pushinteger(L, e->seg->dst_port);
    lua_setfield(L, -2, "dport");
    push_seg_opts(L, bytes, n);
}

void lsim_push_segment(lua_State *L, const lsim *s, size_t send_entry)
{
    const rlog_entry *e = rlog_at(s->log, send_entry);
    lua_createtable(L, 0, 16);
    push_seg_fields(L, s, e, rlog_peer_host(e), e->bytes, e->nheld);
    lua_pushinteger(L, (lua_Integer)e->time_ns);
    lua_setfield(L, -2, "sent");
    rlog_fate f;
    bool ended = rlog_send_fate(s->log, send_entry, &f);
    lua_pushboolean(L, ended && f.kind == RLOG_DROP);
    lua_setfield(L, -2, "dropped");
    if (ended && f.kind == RLOG_DELIVER) {
        lua_pushinteger(L, (lua_Integer)f.time_ns);
        lua_setfield(L, -2, "arrived");
    } else if (ended) {
        lua_pushstring(L, sim_drop_reason_name(f.drop));
        lua_setfield(L, -2, "reason");
    }
}

/* ---- filters ---- */

static const char *const FILTER_KEYS[] = {"from", "flags", "exact",  "len", "seq",
                                          "ack",  "after", "before", NULL};

/* Reads an absolute sequence number field; false when absent. */
static bool read_seqno(lua_State *L, int idx, const char *key, uint32_t *out, const char *where)
{
    if (lua_isnoneornil(L, idx))
        return false;
    lua_getfield(L, idx, key);
    bool given = !lua_isnil(L, -1);
    lua_pop(L, 1);
    if (given)
        *out = (uint32_t)lsim_opt_int(L, idx, key, 0, 0, UINT32_MAX, where);
    return given;
}

static void read_filter(lua_State *L, int idx, sim_link *l, net_filter *f, const char *where)
{
    memset(f, 0, sizeof *f);
    f->dir = dir_from_opts(L, idx, l, where);
    const char *fl = lsim_opt_string(L, idx, "flags", NULL, where);
    if (fl && tcp_flags_parse(fl, &f->flags) != 0)
        luaL_error(L, "%s: unknown flags '%s' (use names like \"SYN,ACK\")", where, fl);
    f->exact = lsim_opt_bool(L, idx, "exact", false, where);
    f->len = lsim_opt_int(L, idx, "len", -1, -1, 65535, where);
    f->has_seq = read_seqno(L, idx, "seq", &f->seq, where);
    f->has_ack = read_seqno(L, idx, "ack", &f->ack, where);
    f->after_ns = lsim_opt_duration(L, idx, "after", 0, where);
    f->before_ns = lsim_opt_duration(L, idx, "before", 0, where);
    bool before_given = false;
    if (!lua_isnoneornil(L, idx)) {
        lua_getfield(L, idx, "before");
        before_given = !lua_isnil(L, -1);
        lua_pop(L, 1);
    }
    if (before_given && f->before_ns <= f->after_ns)
        luaL_error(L, "%s: 'before' must come after 'after' (the window is [after, before))",
                   where);
}

/* ---- rules: the Lua side of the net's rule callbacks ---- */

static lsim_rule_refs *rule_refs(lsim *s, uint32_t rule)
{
    if (rule >= s->caprulerefs) {
        uint32_t old = s->caprulerefs;
        s->rule_refs = lsim_grow(s->rule_refs, &s->caprulerefs, rule + 1, sizeof *s->rule_refs);
        for (uint32_t i = old; i < s->caprulerefs; i++)
            s->rule_refs[i] = (lsim_rule_refs){LUA_NOREF, LUA_NOREF};
    }
    return &s->rule_refs[rule];
}

static bool call_when(void *ctx, uint32_t rule)
{
    lsim *s = ctx;
    lua_rawgeti(s->L, LUA_REGISTRYINDEX, rule_refs(s, rule)->when_ref);
    if (!lsim_call_in_loop(s, 0, 1))
        return false;
    bool ok = lua_toboolean(s->L, -1);
    lua_pop(s->L, 1);
    return ok;
}

static void push_live_segment(lua_State *L, const lsim *s, const net_seg_view *v)
{
    sim_link *l = sim_link_by_id(net_world(s->net), v->link);
    rlog_entry e;
    memset(&e, 0, sizeof e);
    e.host = sim_host_id(sim_link_host(l, v->dir));
    e.packet_id = v->packet->id;
    e.origin_id = v->packet->origin_id;
    e.seg_ok = true;
    e.seg = v->seg;
    lua_createtable(L, 0, 12);
    push_seg_fields(L, s, &e, sim_host_id(sim_link_host(l, 1 - v->dir)), v->bytes, v->packet->len);
    lua_pushinteger(L, (lua_Integer)sim_world_now(net_world(s->net)));
    lua_setfield(L, -2, "sent");
}

static bool call_match(void *ctx, uint32_t rule, const net_seg_view *v)
{
    lsim *s = ctx;
    lua_rawgeti(s->L, LUA_REGISTRYINDEX, rule_refs(s, rule)->match_ref);
    push_live_segment(s->L, s, v);
    if (!lsim_call_in_loop(s, 1, 1))
        return false;
    bool ok = lua_toboolean(s->L, -1);
    lua_pop(s->L, 1);
    return ok;
}

/* Pushes t.delay of the table at idx without metamethods: the verdict is
 * read outside the hook's protected call, where an __index that raises
 * would unwind through the event loop. */
static void get_delay_raw(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    lua_pushliteral(L, "delay");
    lua_rawget(L, idx);
}

/* Reads a hook's answer at the top of the stack: nil or "pass", "drop",
 * "duplicate", "hold", or {delay = d}. Returns false for anything else. */
static bool read_verdict(lua_State *L, sim_fault_verdict *v)
{
    *v = (sim_fault_verdict){SIM_FAULT_PASS, 0, 0};
    if (lua_isnil(L, -1))
        return true;
    if (lua_type(L, -1) == LUA_TSTRING) {
        const char *a = lua_tostring(L, -1);
        if (strcmp(a, "drop") == 0)
            v->action = SIM_FAULT_DROP;
        else if (strcmp(a, "duplicate") == 0)
            *v = (sim_fault_verdict){SIM_FAULT_DUPLICATE, 0, 1};
        else if (strcmp(a, "hold") == 0)
            v->action = SIM_FAULT_HOLD;
        else if (strcmp(a, "pass") != 0)
            return false;
        return true;
    }
    if (lua_type(L, -1) != LUA_TTABLE)
        return false;
    get_delay_raw(L, -1);
    char err[128];
    sim_time_t d;
    bool ok = true;
    if (lua_isinteger(L, -1) && lua_tointeger(L, -1) == 0)
        *v = (sim_fault_verdict){SIM_FAULT_DELAY, 0, 0};
    else if (lua_type(L, -1) == LUA_TSTRING &&
             sim_duration_parse(lua_tostring(L, -1), &d, err, sizeof err) == 0)
        *v = (sim_fault_verdict){SIM_FAULT_DELAY, d, 0};
    else
        ok = false;
    lua_pop(L, 1);
    return ok;
}

/* Pushes a description of the value at idx that names no address:
 * 'dorp', {delay = "soon"}, a table without delay, 42, a function. */
static void push_value_text(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    switch (lua_type(L, idx)) {
    case LUA_TSTRING:
        lua_pushfstring(L, "'%s'", lua_tostring(L, idx));
        break;
    case LUA_TNUMBER:
    case LUA_TBOOLEAN:
        luaL_tolstring(L, idx, NULL);
        break;
    case LUA_TTABLE:
        get_delay_raw(L, idx);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            lua_pushliteral(L, "a table without delay");
        } else {
            push_value_text(L, -1);
            lua_pushfstring(L, "{delay = %s}", lua_tostring(L, -1));
            lua_replace(L, -3);
            lua_pop(L, 1);
        }
        break;
    default:
        lua_pushfstring(L, "a %s", luaL_typename(L, idx));
        break;
    }
}

/* For a verdict {delay = n}, n a number: why it was refused. */
static const char *bare_delay_hint(lua_State *L, int idx)
{
    if (lua_type(L, idx) != LUA_TTABLE)
        return "";
    get_delay_raw(L, idx);
    bool number = lua_type(L, -1) == LUA_TNUMBER;
    lua_pop(L, 1);
    return number ? ": a bare number is ambiguous, write \"10ms\" or tcpsim.ns(n)" : "";
}

/* A hook's verdict for one segment. A verdict it cannot read is a script
 * mistake: it stops the run with the hook's file:line and the value. */
static sim_fault_verdict call_hook(void *ctx, uint32_t rule, const net_seg_view *v)
{
    lsim *s = ctx;
    lua_State *L = s->L;
    sim_fault_verdict pass = {SIM_FAULT_PASS, 0, 0};
    lua_rawgeti(L, LUA_REGISTRYINDEX, rule_refs(s, rule)->match_ref);
    lua_Debug ar;
    lua_pushvalue(L, -1);
    lua_getinfo(L, ">S", &ar);
    push_live_segment(L, s, v);
    if (!lsim_call_in_loop(s, 1, 1))
        return pass;
    sim_fault_verdict verdict;
    if (read_verdict(L, &verdict)) {
        lua_pop(L, 1);
        return verdict;
    }
    push_value_text(L, -1);
    const char *got = lua_tostring(L, -1);
    lua_pushfstring(L,
                    "%s:%d: link:hook returned %s, which is not a verdict (expected nil, "
                    "\"pass\", \"drop\", \"duplicate\", \"hold\" or {delay = d})%s",
                    ar.short_src, ar.linedefined, got, bare_delay_hint(L, -2));
    lua_remove(L, -2);
    lua_remove(L, -2);
    lsim_fail_in_loop(s);
    return pass;
}

static const char *const RULE_KEYS[] = {"from",  "flags",  "exact", "len",   "seq",  "ack",
                                        "after", "before", "nth",   "count", "when", "match",
                                        "by",    "copies", "last",  NULL};
static const char *const HOOK_KEYS[] = {"from", "flags", "exact",  "len",  "seq",
                                        "ack",  "after", "before", "last", NULL};

static int ref_fn(lua_State *L, int idx, const char *key, const char *where)
{
    lua_getfield(L, idx, key);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return LUA_NOREF;
    }
    if (!lua_isfunction(L, -1))
        luaL_error(L, "%s: %s must be a function, got %s", where, key, luaL_typename(L, -1));
    return luaL_ref(L, LUA_REGISTRYINDEX);
}

/* Pushes a handle to rule `rule` of s: rule.fired, rule.held,
 * rule:release(). */
static void push_rule(lua_State *L, const lsim *s, uint32_t rule)
{
    lsim_push_handle(L, s, rule, LSIM_HELD);
}

static int add_rule(lua_State *L, net_rule_action action, const char *where)
{
    lsim *s;
    sim_link *l = lsim_link_check(L, 1, &s);
    if (lua_isnoneornil(L, 2))
        lua_newtable(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    lsim_opts_check(L, 2, where, RULE_KEYS);
    net_rule_opts o = {.action = action, .ctx = s};
    read_filter(L, 2, l, &o.filter, where);
    o.skip = (uint32_t)lsim_opt_int(L, 2, "nth", 1, 1, UINT32_MAX, where) - 1;
    o.count = (uint32_t)lsim_opt_int(L, 2, "count", 1, 1, UINT32_MAX, where);
    o.copies = (uint32_t)lsim_opt_int(L, 2, "copies", 1, 1, 100, where);
    o.delay_ns = lsim_opt_duration(L, 2, "by", 0, where);
    o.last = lsim_opt_bool(L, 2, "last", false, where);
    if (action == NET_RULE_DELAY && o.delay_ns == 0)
        return luaL_error(L, "%s: needs by = <duration>", where);
    int when_ref = ref_fn(L, 2, "when", where);
    int match_ref = ref_fn(L, 2, "match", where);
    o.when = when_ref == LUA_NOREF ? NULL : call_when;
    o.match = match_ref == LUA_NOREF ? NULL : call_match;
    uint32_t rule;
    int rc = net_rule_add(s->net, sim_link_id(l), &o, &rule);
    if (rc != 0) {
        luaL_unref(L, LUA_REGISTRYINDEX, when_ref);
        luaL_unref(L, LUA_REGISTRYINDEX, match_ref);
        return luaL_error(L, "%s: %s", where, net_err_name(rc));
    }
    *rule_refs(s, rule) = (lsim_rule_refs){when_ref, match_ref};
    push_rule(L, s, rule);
    return 1;
}

static int link_drop_next(lua_State *L)
{
    return add_rule(L, NET_RULE_DROP, "link:drop_next");
}
static int link_duplicate_next(lua_State *L)
{
    return add_rule(L, NET_RULE_DUPLICATE, "link:duplicate_next");
}
static int link_delay_next(lua_State *L)
{
    return add_rule(L, NET_RULE_DELAY, "link:delay_next");
}
static int link_hold_next(lua_State *L)
{
    return add_rule(L, NET_RULE_HOLD, "link:hold_next");
}

/* link:hook(fn [, filter]) — fn(segment) returns nil, "drop", "duplicate",
 * "hold" or {delay = "10ms"} for every matching segment. */
static int link_hook(lua_State *L)
{
    lsim *s;
    sim_link *l = lsim_link_check(L, 1, &s);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lsim_opts_check(L, 3, "link:hook", HOOK_KEYS);
    net_rule_opts o = {.action = NET_RULE_HOOK, .count = UINT32_MAX, .hook = call_hook, .ctx = s};
    read_filter(L, 3, l, &o.filter, "link:hook");
    o.last = lsim_opt_bool(L, 3, "last", false, "link:hook");
    lua_pushvalue(L, 2);
    int match_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    uint32_t rule;
    int rc = net_rule_add(s->net, sim_link_id(l), &o, &rule);
    if (rc != 0) {
        luaL_unref(L, LUA_REGISTRYINDEX, match_ref);
        return luaL_error(L, "link:hook: %s", net_err_name(rc));
    }
    *rule_refs(s, rule) = (lsim_rule_refs){LUA_NOREF, match_ref};
    return 0;
}

static uint32_t rule_check(lua_State *L, lsim **out)
{
    return lsim_handle_check(L, 1, LSIM_HELD, out)->index;
}

/* rule:release() — lets every packet this rule holds continue now. */
static int rule_release(lua_State *L)
{
    lsim *s;
    uint32_t rule = rule_check(L, &s);
    lsim_check_no_reentry(L, s, "rule:release");
    lua_pushinteger(L, net_rule_release(s->net, rule));
    return 1;
}

static int rule_index(lua_State *L)
{
    lsim *s;
    uint32_t rule = rule_check(L, &s);
    const char *key = luaL_checkstring(L, 2);
    if (strcmp(key, "fired") == 0)
        lua_pushinteger(L, net_rule_fired(s->net, rule));
    else if (strcmp(key, "held") == 0)
        lua_pushinteger(L, net_rule_held(s->net, rule));
    else if (strcmp(key, "release") == 0)
        lua_pushcfunction(L, rule_release);
    else
        return luaL_error(L, "fault rule has no field or method '%s'", key);
    return 1;
}

/* link:release() — every held packet on the link. */
static int link_release(lua_State *L)
{
    lsim *s;
    sim_link *l = lsim_link_check(L, 1, &s);
    lsim_check_no_reentry(L, s, "link:release");
    lua_pushinteger(L, net_link_release(s->net, sim_link_id(l)));
    return 1;
}

static void each_sent(lua_State *L, const lsim *s, uint32_t link, const net_filter *f,
                      void (*fn)(lua_State *, const lsim *, size_t, void *), void *arg);
static void remember(lua_State *L, const lsim *s, size_t i, void *arg);

/* ---- crafted segments ---- */

/* link:inject{from = host, flags = "RST", seq = n, ack = n, win = n,
 * data = "...", opts = ..., sport = n, dport = n}: sends a crafted segment
 * from `from` across the link. Fields not given are taken from the last
 * segment `from` sent on this link (so "an RST in the current connection"
 * needs only flags and seq), options excepted: it carries `opts` (any form
 * lsim_tcpopt_check reads) or none. It goes through the link like any other
 * packet; a datagram over the direction's MTU is refused here rather than
 * dropped unseen. */
static const char *const INJECT_KEYS[] = {"from", "flags", "seq",   "ack",   "win",
                                          "data", "opts",  "sport", "dport", NULL};

/* The segment's header fields: the last one `from` sent, then the table's. */
static void inject_header(lua_State *L, const lsim *s, sim_link *l, int dir, tcp_seg *seg)
{
    net_filter f = {.dir = dir, .len = -1};
    size_t last = 0;
    each_sent(L, s, sim_link_id(l), &f, remember, &last);
    memset(seg, 0, sizeof *seg);
    if (last)
        *seg = *rlog_at(s->log, last - 1)->seg;
    seg->src_addr = sim_host_addr(sim_link_host(l, dir));
    seg->dst_addr = sim_host_addr(sim_link_host(l, 1 - dir));
    seg->has_mss = seg->has_wscale = seg->has_sack_perm = seg->has_ts = false;
    seg->nsack = 0;
    seg->sack = NULL;
    seg->payload = NULL;
    seg->len = 0;
    const char *fl = lsim_opt_string(L, 2, "flags", NULL, "link:inject");
    if (!fl || tcp_flags_parse(fl, &seg->flags) != 0)
        luaL_error(L, "link:inject: needs flags (like \"RST\"), got '%s'", fl ? fl : "");
    seg->seq = (uint32_t)lsim_opt_int(L, 2, "seq", seg->seq, 0, UINT32_MAX, "link:inject");
    seg->ack = (uint32_t)lsim_opt_int(L, 2, "ack", seg->ack, 0, UINT32_MAX, "link:inject");
    seg->wnd = (uint16_t)lsim_opt_int(L, 2, "win", seg->wnd, 0, 65535, "link:inject");
    seg->src_port = (uint16_t)lsim_opt_int(L, 2, "sport", seg->src_port, 1, 65535, "link:inject");
    seg->dst_port = (uint16_t)lsim_opt_int(L, 2, "dport", seg->dst_port, 1, 65535, "link:inject");
    if (!seg->src_port || !seg->dst_port)
        luaL_error(L, "link:inject: no earlier segment to copy ports from; give sport and dport");
}

static int link_inject(lua_State *L)
{
    lsim *s;
    sim_link *l = lsim_link_check(L, 1, &s);
    lsim_check_no_reentry(L, s, "link:inject");
    luaL_checktype(L, 2, LUA_TTABLE);
    lsim_opts_check(L, 2, "link:inject", INJECT_KEYS);
    int dir = dir_from_opts(L, 2, l, "link:inject");
    if (dir < 0)
        return luaL_error(L, "link:inject: needs from = <host>");
    tcp_seg seg;
    inject_header(L, s, l, dir, &seg);
    uint8_t opts[LSIM_TCPOPT_MAX];
    size_t optlen = 0;
    lua_getfield(L, 2, "opts");
    if (!lua_isnil(L, -1))
        optlen = lsim_tcpopt_check(L, -1, "link:inject", opts);
    lua_pop(L, 1);
    size_t len = 0, hdr = TCP_IPV4_HDR + TCP_HDR_MIN + (optlen + 3) / 4 * 4;
    /* data stays on the Lua stack (so alive) until net_inject_opts has copied it */
    lua_getfield(L, 2, "data");
    if (!lua_isnil(L, -1))
        seg.payload = (const uint8_t *)luaL_checklstring(L, -1, &len);
    if (len > NET_INJECT_OPTS_DGRAM_MAX - hdr)
        return luaL_error(L,
                          "link:inject: data is limited to %d bytes with these options (one "
                          "IPv4 datagram holds 65535 bytes, %d of them headers), got %d",
                          (int)(NET_INJECT_OPTS_DGRAM_MAX - hdr), (int)hdr, (int)len);
    seg.len = (uint32_t)len;
    uint32_t mtu = sim_link_params_get(l, dir)->mtu;
    if (hdr + len > mtu)
        return luaL_error(L,
                          "link:inject: a datagram of %d bytes does not pass this link's mtu "
                          "(%d from %s); raise it (link:set{from = ..., mtu = 65535}) to inject "
                          "larger segments",
                          (int)(hdr + len), (int)mtu, sim_host_name(sim_link_host(l, dir)));
    int rc = net_inject_opts(s->net, sim_link_id(l), dir, &seg, opts, optlen);
    if (rc < 0)
        return luaL_error(L, "link:inject: %s", net_err_name(rc));
    lua_pop(L, 1);
    return 0;
}

/* ---- queries ---- */

/* Calls fn for every SEND entry on the link matching the filter. */
static void each_sent(lua_State *L, const lsim *s, uint32_t link, const net_filter *f,
                      void (*fn)(lua_State *, const lsim *, size_t, void *), void *arg)
{
    size_t n = rlog_count(s->log);
    for (size_t i = 0; i < n; i++) {
        const rlog_entry *e = rlog_at(s->log, i);
        if (e->kind != RLOG_SEND || e->link != link || !e->seg_ok)
            continue;
        if (f && !net_filter_matches(f, e->dir, e->seg, e->time_ns))
            continue;
        fn(L, s, i, arg);
    }
}

static void collect(lua_State *L, const lsim *s, size_t i, void *arg)
{
    (void)arg;
    lsim_push_segment(L, s, i);
    lua_rawseti(L, -2, (lua_Integer)luaL_len(L, -2) + 1);
}

static void remember(lua_State *L, const lsim *s, size_t i, void *arg)
{
    (void)L;
    (void)s;
    *(size_t *)arg = i + 1;
}

static int link_segments(lua_State *L)
{
    lsim *s;
    sim_link *l = lsim_link_check(L, 1, &s);
    lsim_opts_check(L, 2, "link:segments", FILTER_KEYS);
    net_filter f;
    read_filter(L, 2, l, &f, "link:segments");
    lua_newtable(L);
    each_sent(L, s, sim_link_id(l), &f, collect, NULL);
    return 1;
}

static int link_last(lua_State *L)
{
    lsim *s;
    sim_link *l = lsim_link_check(L, 1, &s);
    lsim_opts_check(L, 2, "link:last", FILTER_KEYS);
    net_filter f;
    read_filter(L, 2, l, &f, "link:last");
    size_t last = 0;
    each_sent(L, s, sim_link_id(l), &f, remember, &last);
    if (last)
        lsim_push_segment(L, s, last - 1);
    else
        lua_pushnil(L);
    return 1;
}

static void describe(lua_State *L, const lsim *s, size_t i, void *arg)
{
    (void)arg;
    const rlog_entry *e = rlog_at(s->log, i);
    char flags[48];
    tcp_flags_str(e->seg->flags & (uint8_t)~TCP_PSH, flags, sizeof flags);
    rlog_fate f;
    bool dropped = rlog_send_fate(s->log, i, &f) && f.kind == RLOG_DROP;
    lua_pushfstring(L, "%s>%s %s%s", host_name(s, e->host), host_name(s, rlog_peer_host(e)), flags,
                    dropped ? " X" : "");
    lua_rawseti(L, -2, (lua_Integer)luaL_len(L, -2) + 1);
}

void lsim_link_push_exchange(lua_State *L, const lsim *s, uint32_t link)
{
    lua_newtable(L);
    each_sent(L, s, link, NULL, describe, NULL);
}

static int link_index(lua_State *L)
{
    lsim *s;
    sim_link *l = lsim_link_check(L, 1, &s);
    const char *key = luaL_checkstring(L, 2);
    if (strcmp(key, "stats") == 0) {
        lua_createtable(L, 2, 0);
        for (int d = 0; d < 2; d++) {
            const sim_link_stats st = sim_link_stats_get(l, d);
            lua_createtable(L, 0, 12);
#define F(name)                                                                                    \
    lua_pushinteger(L, (lua_Integer)st.name);                                                      \
    lua_setfield(L, -2, #name)
            F(sent);
            F(delivered);
            F(dropped_loss);
            F(dropped_queue);
            F(dropped_mtu);
            F(dropped_down);
            F(dropped_fault);
            F(duplicated);
            F(reordered);
            F(corrupted);
            F(held);
            F(bytes_delivered);
#undef F
            lua_pushfstring(L, "%s>%s", sim_host_name(sim_link_host(l, d)),
                            sim_host_name(sim_link_host(l, 1 - d)));
            lua_pushvalue(L, -2);
            lua_settable(L, -4);
            lua_rawseti(L, -2, d + 1);
        }
        return 1;
    }
    if (strcmp(key, "exchange") == 0) {
        lsim_link_push_exchange(L, s, sim_link_id(l));
        return 1;
    }
    return lsim_index_methods(L, "link", key);
}

void lsim_open_link(lua_State *L)
{
    static const luaL_Reg meta[] = {{"__index", link_index}, {"__gc", link_gc}, {NULL, NULL}};
    static const luaL_Reg methods[] = {{"set", link_set},
                                       {"partition", link_partition},
                                       {"heal", link_heal},
                                       {"drop_next", link_drop_next},
                                       {"duplicate_next", link_duplicate_next},
                                       {"delay_next", link_delay_next},
                                       {"hold_next", link_hold_next},
                                       {"hook", link_hook},
                                       {"release", link_release},
                                       {"segments", link_segments},
                                       {"last", link_last},
                                       {"inject", link_inject},
                                       {NULL, NULL}};
    lsim_newmetatable(L, LSIM_LINK);
    luaL_setfuncs(L, meta, 0);
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "methods");
    lua_pop(L, 1);
    static const luaL_Reg rmeta[] = {{"__index", rule_index}, {NULL, NULL}};
    lsim_newmetatable(L, LSIM_HELD);
    luaL_setfuncs(L, rmeta, 0);
    lua_pop(L, 1);
}
