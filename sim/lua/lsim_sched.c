/*
 * lsim_sched — the `schedule` and `settle` options of tcpsim.new: a
 * scenario carries its own fault schedule (the explorer's text form,
 * "7:drop,12:dup"; "-" for none, which still checks the invariants) and
 * the time its run may settle before they are checked. The runtime only
 * hands them on (lsim_config.on_schedule): the command that steers runs
 * applies them, as it does `tcpsim run --schedule`. Likewise the `swarm`
 * option (knob ranges for tcpsim swarm), handed on as text
 * (lsim_config.on_swarm).
 */
#include <stdlib.h>
#include <string.h>

#include "lsim.h"

void lsim_schedule_opts(lua_State *L, int idx)
{
    const char *text = lsim_opt_string(L, idx, "schedule", NULL, "tcpsim.new");
    bool has_settle = lua_getfield(L, idx, "settle") != LUA_TNIL;
    lua_pop(L, 1);
    if (!text) {
        if (has_settle)
            luaL_error(L, "tcpsim.new: settle is the settling time of a schedule: give schedule "
                          "too (\"-\" for no faults)");
        return;
    }
    uint64_t settle =
        has_settle ? lsim_opt_duration(L, idx, "settle", 0, "tcpsim.new") : UINT64_MAX;
    const lsim_config *cfg = lsim_config_of(L);
    if (!cfg->on_schedule)
        luaL_error(L, "tcpsim.new: schedule: this command runs no schedules (tcpsim run and "
                      "tcpsim explore do)");
    char err[256] = "";
    if (cfg->on_schedule(cfg->on_net_ctx, text, settle, err, sizeof err) != 0)
        luaL_error(L, "tcpsim.new: schedule '%s': %s", text, err);
}

/* One range of the swarm option as text: {lo, hi} -> "lo..hi", false ->
 * "off", a number or string as it reads. Pushes the text. */
static void push_range(lua_State *L, int idx, const char *name)
{
    if (lua_isboolean(L, idx) && !lua_toboolean(L, idx)) {
        lua_pushliteral(L, "off");
        return;
    }
    if (lua_type(L, idx) == LUA_TNUMBER || lua_type(L, idx) == LUA_TSTRING) {
        luaL_tolstring(L, idx, NULL);
        return;
    }
    if (!lua_istable(L, idx) || luaL_len(L, idx) != 2)
        luaL_error(L, "tcpsim.new: swarm.%s must be {low, high}, one value or false", name);
    lua_geti(L, idx, 1);
    lua_geti(L, idx, 2);
    int lo = lua_gettop(L) - 1;
    /* both ends: luaL_tolstring would write another value as its address */
    for (int end = lo; end <= lo + 1; end++)
        if (lua_type(L, end) != LUA_TNUMBER && lua_type(L, end) != LUA_TSTRING)
            luaL_error(L, "tcpsim.new: swarm.%s: the range's ends must be numbers or strings",
                       name);
    luaL_tolstring(L, lo, NULL);
    luaL_tolstring(L, lo + 1, NULL);
    lua_pushfstring(L, "%s..%s", lua_tostring(L, -2), lua_tostring(L, -1));
    lua_replace(L, lo);
    lua_settop(L, lo);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void lsim_swarm_opts(lua_State *L, int idx)
{
    if (lua_getfield(L, idx, "swarm") == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    int t = lua_gettop(L);
    if (!lua_istable(L, t))
        luaL_error(L, "tcpsim.new: swarm must be a table of ranges, e.g. { loss = {0, 0.2} }");
    const char *names[32];
    size_t n = 0;
    for (lua_pushnil(L); lua_next(L, t); lua_pop(L, 1)) { /* the names are sorted below */
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_error(L, "tcpsim.new: swarm: the keys are knob names (loss, delay, ...)");
        if (n == sizeof names / sizeof names[0])
            luaL_error(L, "tcpsim.new: swarm: too many knobs");
        names[n++] = lua_tostring(L, -2); /* kept alive by the table */
    }
    qsort(names, n, sizeof names[0], cmp_names);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (size_t i = 0; i < n; i++) {
        lua_getfield(L, t, names[i]);
        push_range(L, lua_gettop(L), names[i]);
        lua_pushfstring(L, "%s%s=%s", i ? "," : "", names[i], lua_tostring(L, -1));
        lua_replace(L, -3);
        lua_pop(L, 1);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    const lsim_config *cfg = lsim_config_of(L);
    char err[256] = "";
    if (cfg->on_swarm && cfg->on_swarm(cfg->on_net_ctx, lua_tostring(L, -1), err, sizeof err) != 0)
        luaL_error(L, "tcpsim.new: swarm: %s", err);
    lua_settop(L, t - 1);
}
