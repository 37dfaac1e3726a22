/*
 * lsim_inv — sim:invariant(name, fn): a scenario's own invariant, run
 * after every step of its simulation that reached a stack (a segment
 * arriving, a timer, a user call; lsim_want_after).
 *
 * What it promises: fn runs with no argument after each step, once the
 * on_state callbacks have run, as a callback inside the run (it may look,
 * not act: a user call from it is refused). A result of false or nil, or
 * an error, is that invariant's failure, reported once (the first) with
 * the virtual time: printed as "FAIL file:line: invariant 'name' ..." and
 * counted with the expectations (so tcpsim run fails), and handed to
 * lsim_config.on_invariant (tcpsim explore: an invariant failure). The run
 * goes on; an invariant that failed is not run again.
 */
#include <stdio.h>
#include <string.h>

#include "lsim.h"

/* Registry: this key holds {[lightuserdata lsim] = {entry...}}, an entry
 * being {name =, fn =, where =, failed =}. */
static const char INV_KEY = 0;

/* Pushes s's list of invariants (made when `make`), or nil. */
static void push_list(lua_State *L, lsim *s, bool make)
{
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &INV_KEY) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &INV_KEY);
    }
    if (lua_rawgetp(L, -1, s) != LUA_TTABLE && make) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, -3, s);
    }
    lua_remove(L, -2);
}

/* Reports the failure (in words: `what`) of the entry at the top of the
 * stack and marks it failed. */
static void report(lsim *s, const char *what)
{
    lua_State *L = s->L;
    char now[40], line[EXPECT_LINE_MAX];
    sim_time_format(sim_world_now(net_world(s->net)), now, sizeof now);
    lua_getfield(L, -1, "name");
    lua_getfield(L, -2, "where");
    snprintf(line, sizeof line, "invariant '%s' failed at %ss: %s", lua_tostring(L, -2), now, what);
    lsim_expect_fail(L, lua_tostring(L, -1), line);
    lua_pop(L, 2);
    const lsim_config *cfg = lsim_config_of(L);
    if (cfg->on_invariant)
        cfg->on_invariant(cfg->on_net_ctx, s->net, line);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "failed");
}

/* Runs the entry at the top of the stack, reporting its failure. */
static void run_one(lsim *s)
{
    lua_State *L = s->L;
    lua_pushcfunction(L, lsim_runtime_msgh);
    lua_getfield(L, -2, "fn");
    s->in_hook++;
    bool grace = lsim_runtime_grace(L, false);
    int rc = lua_pcall(L, 0, 1, -2);
    lsim_runtime_grace(L, grace);
    s->in_hook--;
    if (rc == LUA_ERRMEM) { /* the memory budget: the run's own error */
        lua_remove(L, -2);
        lsim_fail_in_loop(s);
        return;
    }
    if (rc != LUA_OK) {
        char what[EXPECT_LINE_MAX];
        snprintf(what, sizeof what, "it raised: %s",
                 lua_isstring(L, -1) ? lua_tostring(L, -1) : luaL_typename(L, -1));
        lua_pop(L, 2);
        report(s, what);
    } else if (!lua_toboolean(L, -1)) {
        const char *got = lua_isnil(L, -1) ? "it returned nil (an invariant returns true when it "
                                             "holds)"
                                           : "it returned false";
        lua_pop(L, 2);
        report(s, got);
    } else {
        lua_pop(L, 2);
    }
}

void lsim_inv_after_step(lsim *s)
{
    lua_State *L = s->L;
    push_list(L, s, false);
    lua_Integer n = lua_istable(L, -1) ? (lua_Integer)lua_rawlen(L, -1) : 0;
    for (lua_Integer i = 1; i <= n && !net_halted(s->net); i++) {
        lua_rawgeti(L, -1, i);
        lua_getfield(L, -1, "failed");
        bool failed = lua_toboolean(L, -1);
        lua_pop(L, 1);
        if (!failed)
            run_one(s);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

/* sim:invariant(name, fn) */
int lsim_sim_invariant(lua_State *L)
{
    lsim *s = lsim_check(L, 1);
    const char *name = luaL_checkstring(L, 2);
    luaL_checktype(L, 3, LUA_TFUNCTION);
    if (!name[0])
        return luaL_error(L, "sim:invariant: the name must not be empty");
    push_list(L, s, true);
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i);
        lua_getfield(L, -1, "name");
        if (strcmp(lua_tostring(L, -1), name) == 0)
            return luaL_error(L, "sim:invariant: '%s' is made already", name);
        lua_pop(L, 2);
    }
    lua_createtable(L, 0, 4);
    lua_pushvalue(L, 2);
    lua_setfield(L, -2, "name");
    lua_pushvalue(L, 3);
    lua_setfield(L, -2, "fn");
    lua_Debug ar; /* the caller's file:line, the path whole as in expect's FAIL lines */
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar) && ar.currentline > 0)
        lua_pushfstring(L, "%s:%d: ", ar.source[0] == '@' ? ar.source + 1 : ar.short_src,
                        ar.currentline);
    else
        lua_pushliteral(L, "");
    lua_setfield(L, -2, "where");
    lua_rawseti(L, -2, n + 1);
    lsim_expect_checked(L);
    s->invariants = true;
    lsim_want_after(s);
    return 0;
}
