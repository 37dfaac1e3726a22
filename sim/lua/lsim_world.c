/*
 * lsim_world — the simulation object seen from Lua (tcpsim.new, sim:host,
 * run controls, timers) over one net (sim/net/net.h), and the net's
 * observer: stack events go to the run log, state changes to the sockets'
 * on_state callbacks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lsim.h"
#include "net_kern.h"

/* ---- Growing arrays ---- */

void *lsim_grow(void *p, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    uint32_t n = *cap ? *cap * 2 : 8;
    while (n < need)
        n *= 2;
    void *q = realloc(p, (size_t)n * elem);
    if (!q) {
        fprintf(stderr, "tcpsim: out of memory\n");
        abort();
    }
    *cap = n;
    return q;
}

/* ---- The net's observer: the run log and the Lua callbacks ---- */

/* At every trace record and stack event, looks whether the memory the run
 * holds (Lua and C) passed the budget (a flag, where the heap is counted:
 * read here, as the runtime would read it, before any call);
 * if so, stops the world (no Lua call here: this runs inside the core and
 * the stack) for lsim_check_run to raise the error. */
static void check_heap(lsim *s)
{
    if (!s->heap_spent && (!s->heap_flag || *s->heap_flag) && lsim_runtime_heap_over(s->L)) {
        s->heap_spent = true;
        sim_world_stop(net_world(s->net));
    }
}

static void obs_event(void *ctx, uint32_t host, const tcp_event *ev)
{
    lsim *s = ctx;
    rlog_tcp_event(s->log, host, ev);
    check_heap(s);
}

/* Whether the log wants this record. A log without connection entries is
 * read only by the scenario's link queries, which name a link through a
 * handle (or a raw peer): a packet on a link no handle reaches any more is
 * never asked about, unless the log already holds it (a packet sent while
 * a handle lived: its fate is still read). A link up or down is no packet. */
static bool trace_wanted(const lsim *s, const sim_trace_rec *rec)
{
    if (!s->lean_log || rec->kind == SIM_TR_HOST || lsim_link_held(s, rec->link_id))
        return true;
    if (rec->kind == SIM_TR_LINK)
        return false;
    return rlog_has_packet(s->log, rec->packet_id) ||
           (rec->kind == SIM_TR_DUPLICATE && rlog_has_packet(s->log, rec->origin_id));
}

/* The lean log's host source (rlog_set_host_source): the core's hosts,
 * whose addresses are distinct, under the ids and names the log would
 * have been given at sim:host or sim:raw_peer. */
static bool log_host_by_id(void *ctx, uint32_t id, const char **name, uint32_t *addr)
{
    const sim_world *w = net_world(((lsim *)ctx)->net);
    if (id >= sim_host_count(w))
        return false;
    const sim_host *h = sim_host_by_id(w, id);
    *name = sim_host_name(h);
    *addr = sim_host_addr(h);
    return true;
}

static bool log_host_by_addr(void *ctx, uint32_t addr, uint32_t *id)
{
    const sim_host *h = sim_host_by_addr(net_world(((lsim *)ctx)->net), addr);
    if (h)
        *id = sim_host_id(h);
    return h != NULL;
}

/* Registers a new host in the run log, unless the log learns its hosts
 * lazily: a log without connection entries is read only by the link
 * queries, which want a host only on a packet they may name, and at
 * thousands of hosts the table would be most of the log. */
void lsim_log_host(lsim *s, uint32_t id, const char *name, uint32_t addr)
{
    if (!s->lean_log)
        rlog_add_host(s->log, id, name, addr);
}

/* A small simulation (below SETUP_COLLECT_HOSTS hosts: no run control
 * collects) collects inside its run once its hosts have sent this many
 * packets, and again at each doubling of the count. */
#define RUN_COLLECT_SENDS 4096u

static void count_send(lsim *s);

static void obs_trace(void *ctx, const sim_trace_rec *rec)
{
    lsim *s = ctx;
    if (trace_wanted(s, rec))
        rlog_sim_trace(s->log, rec);
    if (rec->kind == SIM_TR_SEND)
        count_send(s);
    check_heap(s);
}

static void obs_note(void *ctx, uint64_t time_ns, const char *text)
{
    lsim *s = ctx;
    rlog_note(s->log, time_ns, text);
}

/* ---- Errors from inside the loop ---- */

void lsim_fail_in_loop(lsim *s)
{
    lua_State *L = s->L;
    if (!net_halted(s->net)) {
        s->error_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        net_halt(s->net);
    } else {
        lua_pop(L, 1);
    }
}

bool lsim_call_in_loop(lsim *s, int nargs, int nres)
{
    lua_State *L = s->L;
    lsim_loop_flags *f = s->loop_flags; /* as lsim_runtime_take_overdraft and _grace */
    bool over = f->mem_over;
    f->mem_over = false;
    if (over) { /* building the arguments spent the budget */
        lua_pop(L, nargs + 1);
        lua_pushliteral(L, "not enough memory");
        lsim_fail_in_loop(s);
        return false;
    }
    int base = lua_gettop(L) - nargs; /* the function's slot */
    lua_pushcfunction(L, lsim_runtime_msgh);
    lua_insert(L, base);
    s->in_hook++;
    bool grace = f->grace;
    f->grace = false;
    int rc = lua_pcall(L, nargs, nres, base);
    f->grace = grace;
    s->in_hook--;
    lua_remove(L, base);
    if (rc == LUA_OK)
        return true;
    lsim_fail_in_loop(s);
    return false;
}

/* The net halts for two reasons: a Lua error inside the loop (kept in
 * error_ref) or a broken stack invariant (kept by the net, net_error). */
static void raise_if_failed(lua_State *L, lsim *s)
{
    if (!net_halted(s->net))
        return;
    if (s->error_ref != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, s->error_ref);
        luaL_unref(L, LUA_REGISTRYINDEX, s->error_ref);
        s->error_ref = LUA_NOREF;
    } else {
        const char *m = net_error(s->net);
        lua_pushstring(L, m ? m : "the simulation was halted");
    }
    net_unhalt(s->net);
    lua_error(L);
}

const char *lsim_unraised_error(lsim *s)
{
    if (!s->net || !net_halted(s->net))
        return NULL;
    if (s->error_ref == LUA_NOREF)
        return net_error(s->net);
    lua_rawgeti(s->L, LUA_REGISTRYINDEX, s->error_ref);
    const char *m = lua_tostring(s->L, -1); /* the registry keeps the string alive */
    lua_pop(s->L, 1);
    return m ? m : "error";
}

void lsim_check_no_reentry(lua_State *L, lsim *s, const char *what)
{
    if (net_in_stack(s->net))
        luaL_error(L,
                   "%s cannot be called while the stack is processing (from a fault "
                   "predicate or hook); use sim:at or on_state instead",
                   what);
}

/* ---- Lua: tcpsim.new ---- */

lsim *lsim_check(lua_State *L, int idx)
{
    lsim *s = lsim_checkudata(L, idx, LSIM_SIM);
    if (s->closed)
        luaL_error(L, "attempt to use a finished simulation");
    return s;
}

/* Checks an option table that takes `base` keys plus every profile knob. */
static void check_opts_with_knobs(lua_State *L, int idx, const char *where, const char *const *base)
{
    const char *const *knobs = lsim_profile_knobs();
    /* Room for every knob: a name left out would be refused as unknown. */
    const char *all[160];
    size_t n = 0;
    for (size_t i = 0; base[i]; i++)
        all[n++] = base[i];
    for (size_t i = 0; knobs[i]; i++) {
        if (n + 1 >= sizeof all / sizeof all[0])
            luaL_error(L, "%s: too many option names (internal limit)", where);
        all[n++] = knobs[i];
    }
    all[n] = NULL;
    lsim_opts_check(L, idx, where, all);
}

static const char *const NEW_OPTS[] = {"seed",          "profile", "max_events", "max_time",
                                       "schedule",      "settle",  "swarm",      "hosts",
                                       "keep_received", "draws",   NULL};

/* The most hosts `tcpsim.new{hosts = n}` may announce: room for 2 million
 * pairs, and the heap it reserves (2.5 KiB a host, net_reserve) still well
 * inside a 64-bit address space. */
#define NEW_MAX_HOSTS (1 << 22)
static const char *const HOST_OPTS[] = {"name", "addr", "profile", NULL};

static const tcp_profile *profile_named(lua_State *L, const char *name, const char *where)
{
    const tcp_profile *p = tcp_profile_find(name);
    if (!p) {
        const char *const *names = tcp_profile_names();
        lsim_push_nearest(L, name, names);
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        for (size_t i = 0; names[i]; i++) {
            if (i)
                luaL_addstring(&b, ", ");
            luaL_addstring(&b, names[i]);
        }
        luaL_pushresult(&b);
        luaL_error(L, "%s: unknown profile '%s'%s (expected one of: %s)", where, name,
                   lua_tostring(L, -2), lua_tostring(L, -1));
    }
    return p;
}

static int sim_new(lua_State *L)
{
    if (lua_isnoneornil(L, 1))
        lua_newtable(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    check_opts_with_knobs(L, 1, "tcpsim.new", NEW_OPTS);
    const lsim_config *cfg = lsim_config_of(L);
    uint64_t seed = (uint64_t)lsim_opt_int(L, 1, "seed", 1, 0, INT64_MAX, "tcpsim.new");
    if (cfg->seed_set)
        seed = cfg->seed;
    const char *pname = lsim_opt_string(L, 1, "profile", "rfc9293", "tcpsim.new");
    if (cfg->profile)
        pname = cfg->profile;
    const tcp_profile *base = profile_named(L, pname, "tcpsim.new");
    uint64_t max_events = (uint64_t)lsim_opt_int(L, 1, "max_events", (int64_t)cfg->max_events, 1,
                                                 INT64_MAX, "tcpsim.new");
    uint64_t max_time = lsim_opt_duration(L, 1, "max_time", cfg->max_time_ns, "tcpsim.new");
    uint32_t hosts = (uint32_t)lsim_opt_int(L, 1, "hosts", 0, 0, NEW_MAX_HOSTS, "tcpsim.new");
    bool keep_rx = lsim_opt_bool(L, 1, "keep_received", true, "tcpsim.new");
    const char *draws = lsim_opt_string(L, 1, "draws", "stream", "tcpsim.new");
    if (cfg->draws)
        draws = cfg->draws;
    if (strcmp(draws, "stream") != 0 && strcmp(draws, "keyed") != 0)
        return luaL_error(L, "tcpsim.new: draws must be \"stream\" or \"keyed\", got '%s'", draws);

    lsim *s = lua_newuserdatauv(L, sizeof *s, 1);
    memset(s, 0, sizeof *s);
    s->L = lsim_main_thread(L); /* never a coroutine, which may be collected */
    s->error_ref = LUA_NOREF;
    s->fns.ref = LUA_NOREF;
    s->handles.ref = LUA_NOREF;
    s->number = UINT32_MAX; /* names no simulation until registered (0 is the first's) */
    s->closed = true;       /* safe state until fully built */
    lsim_setmetatable(L, LSIM_SIM);
    lsim_runtime_own(L, -1);
    s->profile = *base;
    lsim_profile_apply(L, 1, &s->profile, "tcpsim.new");
    s->mss_knob = lua_getfield(L, 1, "mss") != LUA_TNIL;
    lua_pop(L, 1);
    s->seed = seed;
    s->net = net_new(seed);
    s->log = rlog_new();
    if (!s->net || !s->log)
        return luaL_error(L, "tcpsim.new: out of memory");
    rlog_set_payload(s->log, !cfg->no_payload);
    rlog_set_tcbs(s->log, !cfg->no_tcbs);
    rlog_set_conns(s->log, !cfg->no_conns);
    s->lean_log = cfg->no_conns;
    if (s->lean_log)
        rlog_set_host_source(s->log, &(rlog_host_source){log_host_by_id, log_host_by_addr, s});
    net_set_keep_rx(s->net, keep_rx);
    if (strcmp(draws, "keyed") == 0 && net_set_keyed_draws(s->net, true) != 0)
        return luaL_error(L, "tcpsim.new: out of memory");
    /* The reservation (net_reserve: NET_HOST_RESERVE_BYTES a host, grown by
     * probes of 30 MiB, sim_mem.c) counts against the memory budget while
     * it is made: one the budget could not hold is not asked for. */
    if (hosts && (size_t)hosts * NET_HOST_RESERVE_BYTES + ((size_t)64 << 20) <= cfg->max_memory)
        net_reserve(s->net, hosts);
    net_observer obs = {
        .ctx = s, .on_event = obs_event, .on_note = obs_note, .on_state = lsim_sock_on_state};
    net_set_observer(s->net, &obs);
    if (cfg->check && net_set_check(s->net, true) < 0)
        return luaL_error(L, "tcpsim.new: out of memory");
    sim_world_set_limits(net_world(s->net), max_events, max_time);
    sim_world_set_trace(net_world(s->net), obs_trace, s);
    lsim_swarm_opts(L, 1);
    lsim_schedule_opts(L, 1);
    if (cfg->on_net)
        cfg->on_net(cfg->on_net_ctx, s->net);
    s->closed = false;
    s->gc_sends = RUN_COLLECT_SENDS;
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, s); /* sim pointer -> userdata, for callbacks */
    lsim_runtime_register_sim(L, s);
    lsim_runtime_reseed(L, seed);
    return 1;
}

static void timers_free(lsim *s);

static int sim_gc(lua_State *L)
{
    lsim *s = lsim_checkudata(L, 1, LSIM_SIM);
    if (!s->net)
        return 0;
    if (s->in_hook > 0 || net_in_stack(s->net))
        return luaL_error(L, "a simulation cannot be freed from inside its own run");
    net_free(s->net);
    rlog_free(s->log);
    lsim_sock_release(s);
    /* The tables of its callbacks' functions and handles go too (only a
     * __gc called by hand finishes a simulation before the state closes). */
    luaL_unref(L, LUA_REGISTRYINDEX, s->fns.ref);
    luaL_unref(L, LUA_REGISTRYINDEX, s->handles.ref);
    s->fns.ref = LUA_NOREF;
    s->handles = (lsim_pins){.ref = LUA_NOREF};
    free(s->rule_refs);
    timers_free(s); /* after the world that held them */
    free(s->link_holds);
    s->link_holds = NULL;
    s->caplinkholds = 0;
    s->net = NULL;
    s->log = NULL;
    s->rule_refs = NULL;
    s->closed = true;
    return 0;
}

/* ---- sim:host ---- */

static int sim_add_host(lua_State *L)
{
    lsim *s = lsim_check(L, 1);
    const char *name;
    uint32_t addr = 0x0a000001u + net_host_count(s->net); /* 10.0.0.1, 10.0.0.2, ... */
    tcp_profile profile = s->profile;
    bool keep_mss = s->mss_knob;
    if (lua_type(L, 2) == LUA_TSTRING) {
        name = lua_tostring(L, 2);
    } else {
        luaL_checktype(L, 2, LUA_TTABLE);
        check_opts_with_knobs(L, 2, "sim:host", HOST_OPTS);
        name = lsim_opt_string(L, 2, "name", NULL, "sim:host");
        if (!name)
            return luaL_error(L, "sim:host: a host needs a name");
        const char *a = lsim_opt_string(L, 2, "addr", NULL, "sim:host");
        if (a && lsim_parse_ipv4(a, &addr) != 0)
            return luaL_error(L, "sim:host: addr must be a dotted IPv4 address, got '%s'", a);
        const char *pname = lsim_opt_string(L, 2, "profile", NULL, "sim:host");
        if (pname)
            profile = *profile_named(L, pname, "sim:host");
        lsim_profile_apply(L, 2, &profile, "sim:host");
        keep_mss = keep_mss || lua_getfield(L, 2, "mss") != LUA_TNIL;
        lua_pop(L, 1);
    }
    uint32_t h;
    if (net_host_add(s->net, name, addr, &profile, &h) != 0)
        return luaL_error(L, "sim:host: %s", sim_world_error(net_world(s->net)));
    if (keep_mss)
        net_host_keep_mss(s->net, h);
    const char *kh = lsim_config_of(L)->kernel_host;
    char kerr[256];
    if (kh && strcmp(kh, name) == 0 && net_kern_attach(s->net, h, kerr, sizeof kerr) != 0)
        return luaL_error(L, "sim:host: %s", kerr);
    lsim_log_host(s, h, name, addr);
    lsim_push_host(L, s, h);
    return 1;
}

/* ---- Run controls ---- */

void lsim_check_run(lua_State *L, lsim *s, sim_run_result r, const char *what)
{
    lsim_runtime_grace(L, false);
    bool overdraft = lsim_runtime_take_overdraft(L);
    if (s->heap_spent) { /* check_heap stopped the world */
        s->heap_spent = false;
        overdraft = true;
    }
    raise_if_failed(L, s);
    if (overdraft) { /* the reserve was drawn on and no callback followed */
        lua_pushliteral(L, "not enough memory");
        lua_error(L);
    }
    if (r == SIM_RUN_STOPPED && *net_kern_reason(s->net))
        luaL_error(L, "%s: %s", what, net_kern_reason(s->net));
    if (r == SIM_RUN_LIMIT_EVENTS || r == SIM_RUN_LIMIT_TIME)
        luaL_error(L, "%s stopped: %s", what, sim_world_error(net_world(s->net)));
}

/* The hosts from which a simulation's run controls collect the garbage
 * the script made before them (lsim_check_runnable), and the share of its
 * hosts (one handle in this many hosts) the script must have made handles
 * for since the last such collection for a later run control to collect
 * again. */
#define SETUP_COLLECT_HOSTS    1000u
#define SETUP_COLLECT_PER_HOST 4u

/* A large simulation's script works in phases: it builds, runs, acts on
 * many sockets or hosts at once (connects them, sets callbacks, drops what
 * it no longer needs) and runs again. Each phase makes most of its garbage
 * before the run control that ends it (option tables, names, the handles
 * and arrays it drops: a few hundred bytes a host), and the event loop
 * allocates little in Lua, so the incremental collector, paced by Lua's
 * allocations, would leave that garbage in the heap through the run while
 * the net grows beside it (race.lua at 10,000 pairs: 1.6 MiB of peak RSS
 * for its setup, 1.3 MiB for the host handles it drops once the clients
 * have connected); collected here, its room is what the run's first
 * allocations take. A full collection costs about what the heap holds
 * (30,000 instructions for a small scenario, 8 % of a small scenario's
 * explore), so only a simulation of many hosts has it: at its first run
 * control, and at a later one once the script has made a handle for a
 * quarter of its hosts since the last (a phase that touches every client
 * makes one each: a connection). A script sees when its garbage goes (a
 * weak table, __gc), so both counts are the script's work through the
 * binding, made alike in every mode: not Lua's heap (a kept state's holds
 * preloaded chunks a fresh one does not) nor its allocations (a fresh
 * state compiles the modules a kept one takes from its image), so
 * explore's runs and their replays collect at the same run controls. */
static void collect_setup(lua_State *L, lsim *s)
{
    uint32_t hosts = net_host_count(s->net);
    if (hosts < SETUP_COLLECT_HOSTS)
        return;
    uint64_t made = lsim_runtime_handles_made(L) - s->gc_handles;
    if (s->ran && made * SETUP_COLLECT_PER_HOST < hosts)
        return;
    lua_gc(L, LUA_GCCOLLECT);
    s->gc_handles = lsim_runtime_handles_made(L);
}

/* A small simulation's script drops handles (the link from sim:link it
 * never names again) that Lua's collector, paced by Lua's allocations and
 * so idle through a run that allocates little in Lua, leaves alive through
 * the whole run; a lean log records every packet on a link a live handle
 * reaches, so its memory would grow with the bytes moved (race.lua at 100
 * pairs: 3.6, 15.4, 118.7 MiB for 1 kB, 1 MB, 10 MB a pair). Collected
 * after the step in which the simulation's 4,096th send fell, such a link
 * is recorded no more: at most that many packets of it are kept. The
 * count is of packets, the same in every mode and every log, so explore's
 * runs and their replays collect after the same steps; a scenario that
 * sends fewer never collects inside its run (explore's small scenarios pay
 * nothing), and the doublings bound the collections to a few, each costing
 * what a small heap holds. A large simulation has its run controls'
 * collections (collect_setup) and none here. */
static void count_send(lsim *s)
{
    if (++s->sends < s->gc_sends)
        return;
    s->gc_sends = s->gc_sends > UINT64_MAX / 2 ? UINT64_MAX : 2 * s->gc_sends;
    if (net_host_count(s->net) >= SETUP_COLLECT_HOSTS)
        return;
    s->gc_due = true;
    lsim_want_after(s); /* obs_trace runs inside a stack call: not here */
}

static int collect(lua_State *L)
{
    lua_gc(L, LUA_GCCOLLECT);
    return 0;
}

/* After a step (net_set_after: outside every stack call, user calls
 * refused): the collection due, as a callback inside the run (a script's
 * finalizer runs as one), then the scenario's invariants. */
static void after_step(void *ctx)
{
    lsim *s = ctx;
    if (s->gc_due) {
        s->gc_due = false;
        lua_pushcfunction(s->L, collect);
        if (!lsim_call_in_loop(s, 0, 0))
            return;
    }
    if (!s->invariants)
        net_set_after(s->net, NULL, NULL); /* nothing to do until the next count */
    else if (!net_halted(s->net))
        lsim_inv_after_step(s);
}

void lsim_want_after(lsim *s)
{
    net_set_after(s->net, after_step, s);
}

void lsim_check_runnable(lua_State *L, lsim *s, const char *what)
{
    if (s->in_hook || net_in_stack(s->net))
        luaL_error(L, "%s cannot be called from inside the run (a callback or hook)", what);
    collect_setup(L, s);
    s->ran = true;
    lsim_runtime_before_run(L);
}

static int sim_run(lua_State *L)
{
    lsim *s = lsim_check(L, 1);
    lsim_check_runnable(L, s, "sim:run");
    sim_run_result r = net_run(s->net);
    lsim_check_run(L, s, r, "sim:run");
    return 0;
}

static int sim_run_for(lua_State *L)
{
    lsim *s = lsim_check(L, 1);
    uint64_t d = lsim_check_duration(L, 2, "sim:run_for");
    lsim_check_runnable(L, s, "sim:run_for");
    uint64_t now = sim_world_now(net_world(s->net));
    uint64_t until = d > UINT64_MAX - now ? UINT64_MAX : now + d;
    sim_run_result r = net_run_until_time(s->net, until);
    lsim_check_run(L, s, r, "sim:run_for");
    return 0;
}

static int sim_run_to(lua_State *L)
{
    lsim *s = lsim_check(L, 1);
    uint64_t t = lsim_check_duration(L, 2, "sim:run_to");
    if (t < sim_world_now(net_world(s->net)))
        return luaL_error(L, "sim:run_to: time %I is in the past (now %I)", (LUAI_UACINT)t,
                          (LUAI_UACINT)sim_world_now(net_world(s->net)));
    lsim_check_runnable(L, s, "sim:run_to");
    sim_run_result r = net_run_until_time(s->net, t);
    lsim_check_run(L, s, r, "sim:run_to");
    return 0;
}

typedef struct pred_ctx {
    lsim *s;
    int fn_idx;
} pred_ctx;

static bool pred_call(void *arg)
{
    pred_ctx *c = arg;
    lua_State *L = c->s->L;
    lua_pushvalue(L, c->fn_idx);
    if (!lsim_call_in_loop(c->s, 0, 1))
        return true;
    bool ok = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return ok;
}

/* Raises "the condition did not hold ..." for a run_until that stopped on
 * its deadline (timeout_ns) or with nothing left to run. */
static int raise_unmet(lua_State *L, lsim *s, sim_run_result r, uint64_t timeout_ns)
{
    char now[40], limit[40];
    sim_time_format(sim_world_now(net_world(s->net)), now, sizeof now);
    if (r == SIM_RUN_IDLE)
        return luaL_error(L,
                          "sim:run_until: the condition did not hold and nothing was left to "
                          "run (at %ss)",
                          now);
    sim_duration_format(timeout_ns, limit, sizeof limit);
    return luaL_error(L,
                      "sim:run_until: the condition did not hold within the timeout of %s "
                      "(at %ss; pass {soft = true} to get false instead)",
                      limit, now);
}

static const char *const RUN_UNTIL_OPTS[] = {"soft", NULL};

/* sim:run_until(pred [, timeout [, {soft = true}]]) -> true once pred held.
 * A timeout, or no event left, is an error naming the caller's line; with
 * soft it returns false instead. */
static int sim_run_until(lua_State *L)
{
    lsim *s = lsim_check(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    uint64_t deadline = SIM_TIME_NEVER, timeout = 0;
    if (!lua_isnoneornil(L, 3)) {
        timeout = lsim_check_duration(L, 3, "sim:run_until timeout");
        uint64_t now = sim_world_now(net_world(s->net));
        deadline = timeout > SIM_TIME_NEVER - now ? SIM_TIME_NEVER : now + timeout;
    }
    lsim_opts_check(L, 4, "sim:run_until", RUN_UNTIL_OPTS);
    bool soft = lsim_opt_bool(L, 4, "soft", false, "sim:run_until");
    lsim_check_runnable(L, s, "sim:run_until");
    pred_ctx c = {s, 2};
    sim_run_result r = net_run_until(s->net, pred_call, &c, deadline);
    lsim_check_run(L, s, r, "sim:run_until");
    if (r != SIM_RUN_PREDICATE && !soft)
        return raise_unmet(L, s, r, timeout);
    lua_pushboolean(L, r == SIM_RUN_PREDICATE);
    return 1;
}

static int sim_step(lua_State *L)
{
    lsim *s = lsim_check(L, 1);
    lsim_check_runnable(L, s, "sim:step");
    sim_run_result r = sim_world_step(net_world(s->net));
    lsim_check_run(L, s, r, "sim:step");
    lua_pushboolean(L, r == SIM_RUN_STEPPED);
    return 1;
}

/* ---- sim:at / sim:after: Lua callbacks at a virtual time ---- */

/* A script timer is C memory the simulation owns, not a Lua object: a
 * script that polls from a timer every millisecond leaves only its
 * callbacks behind as garbage, and nothing needs anchoring while the world
 * holds the timer. They live in
 * chunks of TIMERS_PER_CHUNK, as the world's queue holds their address,
 * and a fired one goes back to a free list. */
#define TIMERS_PER_CHUNK 256

struct lsim_timer {
    sim_timer timer;
    lsim *sim;
    union {
        int ref;          /* armed: the callback's reference in the registry */
        lsim_timer *next; /* free: the next free timer */
    };
};

struct lsim_timers {
    struct lsim_timers *older;
    lsim_timer t[TIMERS_PER_CHUNK];
};

static lsim_timer *timer_take(lsim *s)
{
    if (!s->free_timer) {
        lsim_timers *c = malloc(sizeof *c);
        if (!c) {
            fprintf(stderr, "tcpsim: out of memory\n");
            abort(); /* as lsim_grow */
        }
        c->older = s->timers;
        s->timers = c;
        for (size_t i = 0; i < TIMERS_PER_CHUNK; i++)
            c->t[i].next = i + 1 < TIMERS_PER_CHUNK ? &c->t[i + 1] : NULL;
        s->free_timer = &c->t[0];
    }
    lsim_timer *lt = s->free_timer;
    s->free_timer = lt->next;
    return lt;
}

static void timers_free(lsim *s)
{
    while (s->timers) {
        lsim_timers *older = s->timers->older;
        free(s->timers);
        s->timers = older;
    }
    s->free_timer = NULL;
}

static void script_timer_fire(sim_timer *t, void *arg)
{
    (void)t;
    lsim_timer *lt = arg;
    lsim *s = lt->sim;
    lua_State *L = s->L;
    int top = lua_gettop(L);
    /* Fired: the world holds it no more (nor reads it after this call), so
     * it is free before the callback runs, which may arm another. The
     * callback's registry slot is freed before the call too: an error in
     * it is kept in that slot without allocating (a memory error then
     * names the callback's line, not the line that ran the simulation). */
    lua_rawgeti(L, LUA_REGISTRYINDEX, lt->ref);
    luaL_unref(L, LUA_REGISTRYINDEX, lt->ref);
    lt->next = s->free_timer;
    s->free_timer = lt;
    lsim_call_in_loop(s, 0, 0);
    lua_settop(L, top);
}

static int schedule(lua_State *L, lsim *s, uint64_t when)
{
    luaL_checktype(L, 3, LUA_TFUNCTION);
    lua_pushvalue(L, 3);
    int ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lsim_timer *lt = timer_take(s);
    lt->sim = s;
    lt->ref = ref;
    sim_timer_init(&lt->timer, script_timer_fire, lt);
    sim_world_arm_at(net_world(s->net), &lt->timer, when);
    return 0;
}

static int sim_at(lua_State *L)
{
    lsim *s = lsim_check(L, 1);
    uint64_t t = lsim_check_duration(L, 2, "sim:at");
    if (t < sim_world_now(net_world(s->net)))
        return luaL_error(L, "sim:at: time is in the past");
    return schedule(L, s, t);
}

static int sim_after(lua_State *L)
{
    lsim *s = lsim_check(L, 1);
    uint64_t d = lsim_check_duration(L, 2, "sim:after");
    uint64_t now = sim_world_now(net_world(s->net));
    return schedule(L, s, d > SIM_TIME_NEVER - now ? SIM_TIME_NEVER : now + d); /* saturated */
}

static int sim_log(lua_State *L)
{
    lsim *s = lsim_check(L, 1);
    rlog_note(s->log, sim_world_now(net_world(s->net)), luaL_checkstring(L, 2));
    return 0;
}

static int l_duration(lua_State *L)
{
    /* callable as tcpsim.duration(x) or sim.duration(x) / sim:duration(x) */
    int arg = lua_gettop(L);
    lua_pushinteger(L, (lua_Integer)lsim_check_duration(L, arg, "duration"));
    return 1;
}

/* tcpsim.ns(n): integer nanoseconds as a duration ("1500000ns"), for times
 * computed from the simulation's own (sim.now, seg.arrived, step.time). */
static int l_ns(lua_State *L)
{
    int isint = 0;
    lua_Integer n = lua_tointegerx(L, 1, &isint);
    if (!isint || lua_type(L, 1) != LUA_TNUMBER)
        return luaL_error(L, "tcpsim.ns: expected integer nanoseconds, got %s",
                          lua_type(L, 1) == LUA_TNUMBER ? lua_tostring(L, 1) : luaL_typename(L, 1));
    if (n < 0)
        return luaL_error(L, "tcpsim.ns: duration must not be negative, got %I", (LUAI_UACINT)n);
    lua_pushfstring(L, "%Ins", (LUAI_UACINT)n);
    return 1;
}

/* The fields sim_index and host_index answer, numbered from 1 in the
 * tables their __index closures look keys up in (new_class). */
static const char *const SIM_FIELDS[] = {"now", "seed", "profile", "events", NULL};
enum { SIM_NOW = 1, SIM_SEED, SIM_PROFILE, SIM_EVENTS };
static const char *const HOST_FIELDS[] = {"name", "addr", "profile", "up", "connections", NULL};
enum { HOST_NAME = 1, HOST_ADDR, HOST_PROFILE, HOST_UP, HOST_CONNECTIONS };

/* Looks the value on top up in the __index closure's table, in its place:
 * a method's function is left on top (0), a field's number is popped and
 * returned; -1 (popped) for neither. */
static inline lua_Integer index_raw(lua_State *L)
{
    switch (lua_rawget(L, lua_upvalueindex(1))) {
    case LUA_TFUNCTION:
        return 0;
    case LUA_TNUMBER: {
        lua_Integer f = lua_tointeger(L, -1);
        lua_pop(L, 1);
        return f;
    }
    default:
        lua_pop(L, 1);
        return -1;
    }
}

/* A key (index 2) index_raw did not find, read as the names were compared
 * before, by strcmp: a string with a NUL in it is looked up again by its
 * text up to the NUL (sim["now\0x"] is sim.now); anything else raises what
 * lsim_index_methods raises (a key that is not a string, as luaL_checkstring
 * does, first). Out of line: the reads that find a name stay short. */
__attribute__((cold, noinline)) static lua_Integer index_miss(lua_State *L, const char *what)
{
    size_t len;
    const char *key = luaL_checklstring(L, 2, &len);
    if (strlen(key) < len) {
        lua_pushstring(L, key);
        lua_Integer f = index_raw(L);
        if (f >= 0)
            return f;
    }
    lsim_index_methods(L, what, key); /* raises: no such name */
    return 0;
}

/* Looks key (index 2) up in the __index closure's table, as index_raw
 * answers; a key that is neither a method nor a field goes to index_miss. */
static lua_Integer index_lookup(lua_State *L, const char *what)
{
    lua_pushvalue(L, 2);
    lua_Integer f = index_raw(L);
    return f >= 0 ? f : index_miss(L, what);
}

static int sim_index(lua_State *L)
{
    lsim *s = lsim_check(L, 1);
    switch (index_lookup(L, "simulation")) {
    case SIM_NOW:
        lua_pushinteger(L, (lua_Integer)sim_world_now(net_world(s->net)));
        break;
    case SIM_SEED:
        lua_pushinteger(L, (lua_Integer)s->seed);
        break;
    case SIM_PROFILE:
        lua_pushstring(L, s->profile.name);
        break;
    case SIM_EVENTS:
        lua_pushinteger(L, (lua_Integer)sim_world_events(net_world(s->net)));
        break;
    default: /* a method, on top */
        break;
    }
    return 1;
}

static int sim_tostring(lua_State *L)
{
    lsim *s = lsim_checkudata(L, 1, LSIM_SIM);
    lua_pushfstring(L, "simulation (seed %I, profile %s)", (LUAI_UACINT)s->seed, s->profile.name);
    return 1;
}

uint32_t lsim_host_of(lua_State *L, int idx, lsim **out_sim)
{
    return lsim_handle_check(L, idx, LSIM_HOST, out_sim)->index;
}

void lsim_push_host(lua_State *L, const lsim *s, uint32_t host)
{
    lsim_push_handle(L, s, host, LSIM_HOST);
}

/* ---- host methods ---- */

static int host_crash(lua_State *L)
{
    lsim *s;
    uint32_t h = lsim_host_of(L, 1, &s);
    lsim_check_no_reentry(L, s, "host:crash");
    if (!net_host_up(s->net, h))
        return luaL_error(L, "host:crash: %s is already down",
                          sim_host_name(net_host_sim(s->net, h)));
    if (net_host_crash(s->net, h) != 0)
        return luaL_error(L, "host:crash: %s", net_kern_reason(s->net));
    return 0;
}

static int host_restart(lua_State *L)
{
    lsim *s;
    uint32_t h = lsim_host_of(L, 1, &s);
    if (net_host_up(s->net, h))
        return luaL_error(L, "host:restart: %s is running (crash it first)",
                          sim_host_name(net_host_sim(s->net, h)));
    if (net_host_restart(s->net, h) != 0)
        return luaL_error(L, "host:restart: out of memory");
    return 0;
}

static int host_index(lua_State *L)
{
    lsim *s;
    uint32_t h = lsim_host_of(L, 1, &s);
    char buf[16];
    switch (index_lookup(L, "host")) {
    case HOST_NAME:
        lua_pushstring(L, sim_host_name(net_host_sim(s->net, h)));
        break;
    case HOST_ADDR:
        lsim_format_ipv4(sim_host_addr(net_host_sim(s->net, h)), buf, sizeof buf);
        lua_pushstring(L, buf);
        break;
    case HOST_PROFILE:
        lua_pushstring(L, net_host_profile(s->net, h)->name);
        break;
    case HOST_UP:
        lua_pushboolean(L, net_host_up(s->net, h));
        break;
    case HOST_CONNECTIONS:
        lua_pushinteger(L, (lua_Integer)net_host_conns(s->net, h));
        break;
    default: /* a method, on top */
        break;
    }
    return 1;
}

static int host_tostring(lua_State *L)
{
    lsim *s;
    uint32_t h = lsim_host_of(L, 1, &s);
    lua_pushfstring(L, "host %s", sim_host_name(net_host_sim(s->net, h)));
    return 1;
}

static int host_eq(lua_State *L)
{
    const lsim_handle *a = lsim_testudata(L, 1, LSIM_HOST);
    const lsim_handle *b = lsim_testudata(L, 2, LSIM_HOST);
    lua_pushboolean(L, a && b && a->sim == b->sim && a->index == b->index);
    return 1;
}

/* A class's metatable: meta's functions, the "methods" table, __name, and
 * an __index closure over a table of every method (its function) and
 * field (fields[i] as i + 1): one raw lookup a read, where the key was
 * compared with each field's name in turn and then looked up in the
 * metatable's methods. */
static void new_class(lua_State *L, const char *name, const luaL_Reg *meta, const luaL_Reg *methods,
                      lua_CFunction index, const char *const *fields)
{
    lsim_newmetatable(L, name);
    luaL_setfuncs(L, meta, 0);
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "methods");
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    for (lua_Integer i = 0; fields[i]; i++) {
        lua_pushinteger(L, i + 1);
        lua_setfield(L, -2, fields[i]);
    }
    lua_pushcclosure(L, index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushstring(L, name);
    lua_setfield(L, -2, "__name");
    lua_pop(L, 1);
}

void lsim_open_sim(lua_State *L)
{
    static const luaL_Reg sim_meta[] = {
        {"__gc", sim_gc}, {"__tostring", sim_tostring}, {NULL, NULL}};
    static const luaL_Reg sim_methods[] = {{"host", sim_add_host},
                                           {"link", lsim_sim_link},
                                           {"run", sim_run},
                                           {"run_for", sim_run_for},
                                           {"run_to", sim_run_to},
                                           {"run_until", sim_run_until},
                                           {"step", sim_step},
                                           {"at", sim_at},
                                           {"after", sim_after},
                                           {"log", sim_log},
                                           {"duration", l_duration},
                                           {"invariant", lsim_sim_invariant},
                                           {NULL, NULL}};
    static const luaL_Reg host_meta[] = {
        {"__tostring", host_tostring}, {"__eq", host_eq}, {NULL, NULL}};
    static const luaL_Reg host_methods[] = {{"listen", lsim_host_listen},
                                            {"connect", lsim_host_connect},
                                            {"crash", host_crash},
                                            {"restart", host_restart},
                                            {NULL, NULL}};
    new_class(L, LSIM_SIM, sim_meta, sim_methods, sim_index, SIM_FIELDS);
    new_class(L, LSIM_HOST, host_meta, host_methods, host_index, HOST_FIELDS);

    /* the tcpsim table */
    lua_newtable(L);
    lua_pushcfunction(L, sim_new);
    lua_setfield(L, -2, "new");
    lua_pushcfunction(L, l_duration);
    lua_setfield(L, -2, "duration");
    lua_pushcfunction(L, l_ns);
    lua_setfield(L, -2, "ns");
    const char *const *names = tcp_profile_names();
    lua_newtable(L);
    for (int i = 0; names[i]; i++) {
        lua_pushstring(L, names[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "profiles");
    lua_setglobal(L, "tcpsim");
}
