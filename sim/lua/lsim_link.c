/*
 * lsim_link — links seen from Lua: creation with per-direction parameters,
 * partitions, faults aimed at one segment (drop/duplicate/delay/hold the
 * next segment matching a filter), a general per-packet hook, and queries
 * over the segments that crossed the link.
 *
 * Faults are rules kept by the simulation; one C fault hook per link
 * direction walks them in the order they were added. A rule's Lua
 * predicates run under lua_pcall (the hook is called from inside the
 * world); an error there stops the run and is re-raised after it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lsim.h"

/* ---- parameters ---- */

static const char *const LINK_KEYS[] = {"delay",         "jitter",  "bandwidth", "queue",
                                        "mtu",           "loss",    "duplicate", "reorder",
                                        "reorder_delay", "corrupt", "up",        NULL};

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
    if (!mult || end == t || t[0] == '-')
        luaL_error(L,
                   "%s: bandwidth must be bits per second or a string like \"10Mbps\", "
                   "got '%s'",
                   where, t);
    return n * mult;
}

static void read_params(lua_State *L, int idx, sim_link_params *p, const char *where)
{
    p->delay_ns = lsim_opt_duration(L, idx, "delay", p->delay_ns, where);
    p->jitter_ns = lsim_opt_duration(L, idx, "jitter", p->jitter_ns, where);
    lua_getfield(L, idx, "bandwidth");
    if (!lua_isnil(L, -1))
        p->bandwidth_bps = parse_bandwidth(L, -1, where);
    lua_pop(L, 1);
    p->queue_packets =
        (uint32_t)lsim_opt_int(L, idx, "queue", p->queue_packets, 0, UINT32_MAX, where);
    p->mtu = (uint32_t)lsim_opt_int(L, idx, "mtu", p->mtu, 0, UINT32_MAX, where);
    p->loss_ppb = lsim_opt_prob(L, idx, "loss", p->loss_ppb, where);
    p->duplicate_ppb = lsim_opt_prob(L, idx, "duplicate", p->duplicate_ppb, where);
    p->reorder_ppb = lsim_opt_prob(L, idx, "reorder", p->reorder_ppb, where);
    p->reorder_delay_ns = lsim_opt_duration(L, idx, "reorder_delay", p->reorder_delay_ns, where);
    p->corrupt_ppb = lsim_opt_prob(L, idx, "corrupt", p->corrupt_ppb, where);
    p->up = lsim_opt_bool(L, idx, "up", p->up, where);
    char err[160];
    if (sim_link_params_check(p, err, sizeof err) != 0)
        luaL_error(L, "%s: %s", where, err);
}

/* Reads {common..., ab = {...}, ba = {...}} into the two directions. */
static void read_both(lua_State *L, int idx, sim_link_params *ab, sim_link_params *ba,
                      const char *where)
{
    const char *keys[16];
    size_t n = 0;
    for (; LINK_KEYS[n]; n++)
        keys[n] = LINK_KEYS[n];
    keys[n++] = "ab";
    keys[n++] = "ba";
    keys[n] = NULL;
    lsim_opts_check(L, idx, where, keys);
    if (lua_isnoneornil(L, idx))
        return;
    read_params(L, idx, ab, where);
    *ba = *ab;
    static const char *const dirs[2] = {"ab", "ba"};
    for (int d = 0; d < 2; d++) {
        lua_getfield(L, idx, dirs[d]);
        if (!lua_isnil(L, -1)) {
            char w[64];
            snprintf(w, sizeof w, "%s (%s)", where, dirs[d]);
            lsim_opts_check(L, -1, w, LINK_KEYS);
            read_params(L, lua_gettop(L), d ? ba : ab, w);
        }
        lua_pop(L, 1);
    }
}

/* sim:link(a, b [, opts]) */
int lsim_sim_link(lua_State *L)
{
    lsim *s = lsim_check(L, 1);
    lsim_host *a = lsim_host_of(L, 2, NULL);
    lsim_host *b = lsim_host_of(L, 3, NULL);
    sim_link_params ab, ba;
    sim_link_params_default(&ab);
    read_both(L, 4, &ab, &ba, "sim:link");
    if (lua_isnoneornil(L, 4))
        ba = ab;
    sim_link *l;
    if (sim_link_add(s->world, a->host, b->host, &ab, &ba, &l) != 0)
        return luaL_error(L, "sim:link: %s", sim_world_error(s->world));
    lsim_link_install(s, l);
    lsim_push_link(L, 1, sim_link_id(l));
    return 1;
}

void lsim_push_link(lua_State *L, int sim_idx, uint32_t link)
{
    sim_idx = lua_absindex(L, sim_idx);
    uint32_t *ld = lua_newuserdatauv(L, sizeof *ld, 1);
    *ld = link;
    lua_pushvalue(L, sim_idx);
    lua_setiuservalue(L, -2, 1);
    luaL_setmetatable(L, LSIM_LINK);
}

sim_link *lsim_link_check(lua_State *L, int idx, lsim **out_sim)
{
    uint32_t *ld = luaL_checkudata(L, idx, LSIM_LINK);
    lua_getiuservalue(L, idx, 1);
    lsim *s = lsim_check(L, -1);
    lua_pop(L, 1);
    if (out_sim)
        *out_sim = s;
    return sim_link_by_id(s->world, *ld);
}

/* The direction named by opts.from (a host), or -1 for both. */
static int dir_from_opts(lua_State *L, int idx, sim_link *l, const char *where)
{
    if (lua_isnoneornil(L, idx))
        return -1;
    lua_getfield(L, idx, "from");
    int dir = -1;
    if (!lua_isnil(L, -1)) {
        lsim_host *h = lsim_host_of(L, lua_gettop(L), NULL);
        dir = sim_link_dir_from(l, h->host);
        if (dir < 0)
            luaL_error(L, "%s: host %s is not on this link", where, sim_host_name(h->host));
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
            return luaL_error(L, "link:set: %s", sim_world_error(s->world));
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
    uint64_t now = sim_world_now(s->world);
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
            return luaL_error(L, "%s: %s", where, sim_world_error(s->world));
        if (heal && sim_link_set_up_at(l, d, heal, true) != 0)
            return luaL_error(L, "%s: %s", where, sim_world_error(s->world));
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
    return host < s->nhosts ? sim_host_name(s->hosts[host]->host) : "?";
}

static void push_seg_fields(lua_State *L, const lsim *s, const rlog_entry *e)
{
    lua_pushstring(L, host_name(s, e->host));
    lua_setfield(L, -2, "from");
    lua_pushstring(L, host_name(s, e->peer_host));
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
    tcp_flags_str(e->seg.flags, flags, sizeof flags);
    lua_pushstring(L, flags);
    lua_setfield(L, -2, "flags");
    lua_pushinteger(L, e->seg.seq);
    lua_setfield(L, -2, "seq");
    lua_pushinteger(L, e->seg.ack);
    lua_setfield(L, -2, "ack");
    lua_pushinteger(L, e->seg.len);
    lua_setfield(L, -2, "len");
    lua_pushinteger(L, e->seg.wnd);
    lua_setfield(L, -2, "win");
    lua_pushinteger(L, e->seg.src_port);
    lua_setfield(L, -2, "sport");
    lua_pushinteger(L, e->seg.dst_port);
    lua_setfield(L, -2, "dport");
}

/* The fate of packet `id` after entry `from`: DELIVER or DROP entry index. */
static const rlog_entry *fate_of(const lsim *s, size_t from, uint32_t id)
{
    size_t n = rlog_count(s->log);
    for (size_t i = from + 1; i < n; i++) {
        const rlog_entry *e = rlog_at(s->log, i);
        if (e->packet_id == id && (e->kind == RLOG_DELIVER || e->kind == RLOG_DROP))
            return e;
    }
    return NULL;
}

void lsim_push_segment(lua_State *L, const lsim *s, size_t send_entry)
{
    const rlog_entry *e = rlog_at(s->log, send_entry);
    lua_createtable(L, 0, 16);
    push_seg_fields(L, s, e);
    lua_pushinteger(L, (lua_Integer)e->time_ns);
    lua_setfield(L, -2, "sent");
    const rlog_entry *f = fate_of(s, send_entry, e->packet_id);
    lua_pushboolean(L, f && f->kind == RLOG_DROP);
    lua_setfield(L, -2, "dropped");
    if (f && f->kind == RLOG_DELIVER) {
        lua_pushinteger(L, (lua_Integer)f->time_ns);
        lua_setfield(L, -2, "arrived");
    } else if (f) {
        lua_pushstring(L, sim_drop_reason_name(f->drop));
        lua_setfield(L, -2, "reason");
    }
}

/* ---- filters ---- */

typedef struct seg_filter {
    int dir;
    uint8_t flags;
    bool exact;
    int64_t len;
} seg_filter;

static const char *const FILTER_KEYS[] = {"from", "flags", "exact", "len", NULL};

static void read_filter(lua_State *L, int idx, sim_link *l, seg_filter *f, const char *where)
{
    f->dir = dir_from_opts(L, idx, l, where);
    f->flags = 0;
    const char *fl = lsim_opt_string(L, idx, "flags", NULL, where);
    if (fl && tcp_flags_parse(fl, &f->flags) != 0)
        luaL_error(L, "%s: unknown flags '%s' (use names like \"SYN,ACK\")", where, fl);
    f->exact = lsim_opt_bool(L, idx, "exact", false, where);
    f->len = lsim_opt_int(L, idx, "len", -1, -1, 65535, where);
}

static bool seg_matches(const seg_filter *f, int dir, const tcp_seg *seg)
{
    if (f->dir >= 0 && f->dir != dir)
        return false;
    uint8_t fl = seg->flags & (uint8_t)~TCP_PSH;
    if (f->exact ? fl != (f->flags & (uint8_t)~TCP_PSH) : (seg->flags & f->flags) != f->flags)
        return false;
    return f->len < 0 || (int64_t)seg->len == f->len;
}

/* ---- rules and the fault hook ---- */

static bool call_when(lsim *s, const lsim_rule *r)
{
    if (r->when_ref == LUA_NOREF)
        return true;
    lua_rawgeti(s->L, LUA_REGISTRYINDEX, r->when_ref);
    if (!lsim_call_in_loop(s, 0, 1))
        return false;
    bool ok = lua_toboolean(s->L, -1);
    lua_pop(s->L, 1);
    return ok;
}

static void push_live_segment(lua_State *L, const lsim *s, sim_link *l, int dir,
                              const sim_packet *p, const tcp_seg *seg)
{
    rlog_entry e;
    memset(&e, 0, sizeof e);
    e.host = sim_host_id(sim_link_host(l, dir));
    e.peer_host = sim_host_id(sim_link_host(l, 1 - dir));
    e.packet_id = p->id;
    e.origin_id = p->origin_id;
    e.seg_ok = true;
    e.seg = *seg;
    lua_createtable(L, 0, 12);
    push_seg_fields(L, s, &e);
    lua_pushinteger(L, (lua_Integer)sim_world_now(s->world));
    lua_setfield(L, -2, "sent");
}

static bool call_match(lsim *s, const lsim_rule *r, sim_link *l, int dir, const sim_packet *p,
                       const tcp_seg *seg)
{
    if (r->match_ref == LUA_NOREF)
        return true;
    lua_rawgeti(s->L, LUA_REGISTRYINDEX, r->match_ref);
    push_live_segment(s->L, s, l, dir, p, seg);
    if (!lsim_call_in_loop(s, 1, 1))
        return false;
    bool ok = lua_toboolean(s->L, -1);
    lua_pop(s->L, 1);
    return ok;
}

/* A general hook's answer: nil/"pass", "drop", "duplicate", "hold", or
 * {delay = d} / {duplicate = n}. */
static sim_fault_verdict hook_verdict(lsim *s, lsim_rule *r, sim_link *l, int dir,
                                      const sim_packet *p, const tcp_seg *seg)
{
    sim_fault_verdict v = {SIM_FAULT_PASS, 0, 0};
    lua_State *L = s->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->match_ref);
    push_live_segment(L, s, l, dir, p, seg);
    if (!lsim_call_in_loop(s, 1, 1))
        return v;
    if (lua_type(L, -1) == LUA_TSTRING) {
        const char *a = lua_tostring(L, -1);
        if (strcmp(a, "drop") == 0)
            v.action = SIM_FAULT_DROP;
        else if (strcmp(a, "duplicate") == 0)
            v = (sim_fault_verdict){SIM_FAULT_DUPLICATE, 0, 1};
        else if (strcmp(a, "hold") == 0)
            v.action = SIM_FAULT_HOLD;
    } else if (lua_type(L, -1) == LUA_TTABLE) {
        lua_getfield(L, -1, "delay");
        if (lua_type(L, -1) == LUA_TSTRING || lua_isinteger(L, -1)) {
            char err[128];
            sim_time_t d;
            if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 0)
                v = (sim_fault_verdict){SIM_FAULT_DELAY, (sim_time_t)lua_tointeger(L, -1), 0};
            else if (lua_type(L, -1) == LUA_TSTRING &&
                     sim_duration_parse(lua_tostring(L, -1), &d, err, sizeof err) == 0)
                v = (sim_fault_verdict){SIM_FAULT_DELAY, d, 0};
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return v;
}

static void rule_hold(lsim_rule *r, uint32_t id)
{
    r->held = lsim_grow(r->held, &r->capheld, r->nheld + 1, sizeof *r->held);
    r->held[r->nheld++] = id;
}

static sim_fault_verdict rule_verdict(lsim_rule *r, uint32_t packet_id)
{
    switch (r->action) {
    case LSIM_RULE_DROP:
        return (sim_fault_verdict){SIM_FAULT_DROP, 0, 0};
    case LSIM_RULE_DUPLICATE:
        return (sim_fault_verdict){SIM_FAULT_DUPLICATE, 0, r->copies};
    case LSIM_RULE_DELAY:
        return (sim_fault_verdict){SIM_FAULT_DELAY, r->delay_ns, 0};
    case LSIM_RULE_HOLD:
        rule_hold(r, packet_id);
        return (sim_fault_verdict){SIM_FAULT_HOLD, 0, 0};
    case LSIM_RULE_HOOK:
        break;
    }
    return (sim_fault_verdict){SIM_FAULT_PASS, 0, 0};
}

static sim_fault_verdict fault_hook(void *ctx, sim_link *l, int dir, const sim_packet *p)
{
    lsim *s = ctx;
    sim_fault_verdict pass = {SIM_FAULT_PASS, 0, 0};
    tcp_seg seg;
    if (s->failed || tcp_wire_parse(p->data, p->len, &seg) != TCP_WIRE_OK)
        return pass;
    uint32_t link = sim_link_id(l);
    for (uint32_t i = 0; i < s->nrules && !s->failed; i++) {
        lsim_rule *r = &s->rules[i];
        if (r->link != link || r->count == 0 || (r->dir >= 0 && r->dir != dir))
            continue;
        seg_filter f = {r->dir, r->exact ? r->flags_exact : r->flags_all, r->exact, r->len};
        if (!seg_matches(&f, dir, &seg))
            continue;
        if (r->action == LSIM_RULE_HOOK) {
            sim_fault_verdict v = hook_verdict(s, r, l, dir, p, &seg);
            if (v.action != SIM_FAULT_PASS)
                return v;
            continue;
        }
        if (!call_when(s, r) || !call_match(s, r, l, dir, p, &seg))
            continue;
        if (r->skip) {
            r->skip--;
            continue;
        }
        r->count--;
        r->fired++;
        return rule_verdict(r, p->id);
    }
    return pass;
}

void lsim_link_install(lsim *s, sim_link *l)
{
    sim_link_set_fault_hook(l, 0, fault_hook, s);
    sim_link_set_fault_hook(l, 1, fault_hook, s);
}

void lsim_rules_free(lsim *s)
{
    for (uint32_t i = 0; i < s->nrules; i++)
        free(s->rules[i].held);
    free(s->rules);
    s->rules = NULL;
    s->nrules = 0;
}

static const char *const RULE_KEYS[] = {"from", "flags", "exact", "len",    "nth", "count",
                                        "when", "match", "by",    "copies", NULL};

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

/* A rule on link l for segments matching f; counts and predicates unset. */
static lsim_rule rule_new(sim_link *l, const seg_filter *f, lsim_rule_action action)
{
    lsim_rule r;
    memset(&r, 0, sizeof r);
    r.link = sim_link_id(l);
    r.dir = f->dir;
    r.action = action;
    r.exact = f->exact;
    r.flags_all = r.flags_exact = f->flags;
    r.len = f->len;
    r.when_ref = r.match_ref = LUA_NOREF;
    return r;
}

static int add_rule(lua_State *L, lsim_rule_action action, const char *where)
{
    lsim *s;
    sim_link *l = lsim_link_check(L, 1, &s);
    if (lua_isnoneornil(L, 2))
        lua_newtable(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    lsim_opts_check(L, 2, where, RULE_KEYS);
    seg_filter f;
    read_filter(L, 2, l, &f, where);
    lsim_rule r = rule_new(l, &f, action);
    r.skip = (uint32_t)lsim_opt_int(L, 2, "nth", 1, 1, UINT32_MAX, where) - 1;
    r.count = (uint32_t)lsim_opt_int(L, 2, "count", 1, 1, UINT32_MAX, where);
    r.copies = (uint32_t)lsim_opt_int(L, 2, "copies", 1, 1, 100, where);
    r.delay_ns = lsim_opt_duration(L, 2, "by", 0, where);
    if (action == LSIM_RULE_DELAY && r.delay_ns == 0)
        return luaL_error(L, "%s: needs by = <duration>", where);
    r.when_ref = ref_fn(L, 2, "when", where);
    r.match_ref = ref_fn(L, 2, "match", where);
    s->rules = lsim_grow(s->rules, &s->caprules, s->nrules + 1, sizeof *s->rules);
    s->rules[s->nrules++] = r;
    /* a handle to the rule: rule:fired(), rule:release() */
    uint32_t *rd = lua_newuserdatauv(L, sizeof *rd, 1);
    *rd = s->nrules - 1;
    lua_getiuservalue(L, 1, 1);
    lua_setiuservalue(L, -2, 1);
    luaL_setmetatable(L, LSIM_HELD);
    return 1;
}

static int link_drop_next(lua_State *L)
{
    return add_rule(L, LSIM_RULE_DROP, "link:drop_next");
}
static int link_duplicate_next(lua_State *L)
{
    return add_rule(L, LSIM_RULE_DUPLICATE, "link:duplicate_next");
}
static int link_delay_next(lua_State *L)
{
    return add_rule(L, LSIM_RULE_DELAY, "link:delay_next");
}
static int link_hold_next(lua_State *L)
{
    return add_rule(L, LSIM_RULE_HOLD, "link:hold_next");
}

/* link:hook(fn [, filter]) — fn(segment) returns nil, "drop", "duplicate",
 * "hold" or {delay = "10ms"} for every matching segment. */
static int link_hook(lua_State *L)
{
    lsim *s;
    sim_link *l = lsim_link_check(L, 1, &s);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lsim_opts_check(L, 3, "link:hook", FILTER_KEYS);
    seg_filter f;
    read_filter(L, 3, l, &f, "link:hook");
    lsim_rule r = rule_new(l, &f, LSIM_RULE_HOOK);
    r.count = UINT32_MAX;
    r.when_ref = LUA_NOREF;
    lua_pushvalue(L, 2);
    r.match_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    s->rules = lsim_grow(s->rules, &s->caprules, s->nrules + 1, sizeof *s->rules);
    s->rules[s->nrules++] = r;
    return 0;
}

static lsim_rule *rule_check(lua_State *L, lsim **out)
{
    uint32_t *rd = luaL_checkudata(L, 1, LSIM_HELD);
    lua_getiuservalue(L, 1, 1);
    lsim *s = lsim_check(L, -1);
    lua_pop(L, 1);
    *out = s;
    return &s->rules[*rd];
}

/* rule:release() — lets every packet this rule holds continue now. */
static int rule_release(lua_State *L)
{
    lsim *s;
    lsim_rule *r = rule_check(L, &s);
    lsim_check_no_reentry(L, s, "rule:release");
    sim_link *l = sim_link_by_id(s->world, r->link);
    uint32_t n = 0;
    for (uint32_t i = 0; i < r->nheld; i++)
        for (int d = 0; d < 2; d++)
            n += sim_link_release(l, d, r->held[i]);
    r->nheld = 0;
    lua_pushinteger(L, n);
    return 1;
}

static int rule_index(lua_State *L)
{
    lsim *s;
    lsim_rule *r = rule_check(L, &s);
    const char *key = luaL_checkstring(L, 2);
    if (strcmp(key, "fired") == 0)
        lua_pushinteger(L, r->fired);
    else if (strcmp(key, "held") == 0)
        lua_pushinteger(L, r->nheld);
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
    uint32_t n = sim_link_release(l, 0, 0) + sim_link_release(l, 1, 0);
    for (uint32_t i = 0; i < s->nrules; i++)
        if (s->rules[i].link == sim_link_id(l))
            s->rules[i].nheld = 0;
    lua_pushinteger(L, n);
    return 1;
}

static void each_sent(lua_State *L, const lsim *s, uint32_t link, const seg_filter *f,
                      void (*fn)(lua_State *, const lsim *, size_t, void *), void *arg);
static void remember(lua_State *L, const lsim *s, size_t i, void *arg);

/* ---- crafted segments ---- */

/* link:inject{from = host, flags = "RST", seq = n, ack = n, win = n,
 * data = "...", sport = n, dport = n}: sends a crafted segment from `from`
 * across the link. Fields not given are taken from the last segment `from`
 * sent on this link (so "an RST in the current connection" needs only
 * flags and seq); it goes through the link like any other packet. */
static const char *const INJECT_KEYS[] = {"from", "flags", "seq",   "ack", "win",
                                          "data", "sport", "dport", NULL};

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
    seg_filter f = {dir, 0, false, -1};
    size_t last = 0;
    each_sent(L, s, sim_link_id(l), &f, remember, &last);
    tcp_seg seg;
    memset(&seg, 0, sizeof seg);
    if (last)
        seg = rlog_at(s->log, last - 1)->seg;
    seg.src_addr = sim_host_addr(sim_link_host(l, dir));
    seg.dst_addr = sim_host_addr(sim_link_host(l, 1 - dir));
    seg.has_mss = seg.has_wscale = seg.has_sack_perm = seg.has_ts = false;
    const char *fl = lsim_opt_string(L, 2, "flags", NULL, "link:inject");
    if (!fl || tcp_flags_parse(fl, &seg.flags) != 0)
        return luaL_error(L, "link:inject: needs flags (like \"RST\"), got '%s'", fl ? fl : "");
    seg.seq = (uint32_t)lsim_opt_int(L, 2, "seq", seg.seq, 0, UINT32_MAX, "link:inject");
    seg.ack = (uint32_t)lsim_opt_int(L, 2, "ack", seg.ack, 0, UINT32_MAX, "link:inject");
    seg.wnd = (uint16_t)lsim_opt_int(L, 2, "win", seg.wnd, 0, 65535, "link:inject");
    seg.src_port = (uint16_t)lsim_opt_int(L, 2, "sport", seg.src_port, 1, 65535, "link:inject");
    seg.dst_port = (uint16_t)lsim_opt_int(L, 2, "dport", seg.dst_port, 1, 65535, "link:inject");
    size_t len = 0;
    const char *data = NULL;
    lua_getfield(L, 2, "data");
    if (!lua_isnil(L, -1))
        data = luaL_checklstring(L, -1, &len);
    if (len > 1400)
        return luaL_error(L, "link:inject: data is limited to 1400 bytes");
    seg.payload = (const uint8_t *)data;
    seg.len = (uint32_t)len;
    if (!seg.src_port || !seg.dst_port)
        return luaL_error(L, "link:inject: no earlier segment to copy ports from; give "
                             "sport and dport");
    uint8_t buf[1600];
    size_t n = tcp_wire_encode(&seg, buf, sizeof buf);
    sim_packet *p = n ? sim_packet_new(s->world, n) : NULL;
    if (!p)
        return luaL_error(L, "link:inject: could not build the segment");
    memcpy(p->data, buf, n);
    sim_host_send(sim_link_host(l, dir), p);
    lua_pop(L, 1);
    return 0;
}

/* ---- queries ---- */

/* Calls fn for every SEND entry on the link matching the filter. */
static void each_sent(lua_State *L, const lsim *s, uint32_t link, const seg_filter *f,
                      void (*fn)(lua_State *, const lsim *, size_t, void *), void *arg)
{
    size_t n = rlog_count(s->log);
    for (size_t i = 0; i < n; i++) {
        const rlog_entry *e = rlog_at(s->log, i);
        if (e->kind != RLOG_SEND || e->link != link || !e->seg_ok)
            continue;
        if (f && !seg_matches(f, e->dir, &e->seg))
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
    seg_filter f;
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
    seg_filter f;
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
    tcp_flags_str(e->seg.flags & (uint8_t)~TCP_PSH, flags, sizeof flags);
    const rlog_entry *f = fate_of(s, i, e->packet_id);
    lua_pushfstring(L, "%s>%s %s%s", host_name(s, e->host), host_name(s, e->peer_host), flags,
                    f && f->kind == RLOG_DROP ? " X" : "");
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
            const sim_link_stats *st = sim_link_stats_get(l, d);
            lua_createtable(L, 0, 12);
#define F(name)                                                                                    \
    lua_pushinteger(L, (lua_Integer)st->name);                                                     \
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
    luaL_getmetafield(L, 1, "methods");
    lua_getfield(L, -1, key);
    if (lua_isnil(L, -1))
        return luaL_error(L, "link has no field or method '%s'", key);
    return 1;
}

void lsim_open_link(lua_State *L)
{
    static const luaL_Reg meta[] = {{"__index", link_index}, {NULL, NULL}};
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
    luaL_newmetatable(L, LSIM_LINK);
    luaL_setfuncs(L, meta, 0);
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "methods");
    lua_pop(L, 1);
    static const luaL_Reg rmeta[] = {{"__index", rule_index}, {NULL, NULL}};
    luaL_newmetatable(L, LSIM_HELD);
    luaL_setfuncs(L, rmeta, 0);
    lua_pop(L, 1);
}
