/*
 * lsim_walk — pairs() and next() that walk a table in one fixed order.
 *
 * Lua seeds its string hash once per process (from addresses and the
 * time), so the stock next() visits string keys in an order that differs
 * between two runs of the same scenario. These replacements visit:
 *   1. the integer keys 1..n, where n is the table's border when the walk
 *      starts (t[1] .. t[n] all present, t[n+1] absent);
 *   2. every other key, numbers ascending, then strings (byte order), then
 *      false, then true.
 * Keys of any other type (tables, functions, coroutines, userdata) have no
 * order that is the same in every run: a walk over them is refused.
 *
 * What it promises:
 *  - The order depends on the keys only, never on insertion order, the hash
 *    seed, addresses or the garbage collector.
 *  - A full walk costs O(n log n): next(t, nil) sorts the keys once into a
 *    walk kept beside the table (a weak-keyed registry table, so it dies
 *    with the table); each later next(t, k) finds k's successor by binary
 *    search. The walk is dropped when it reaches the end.
 *  - As with Lua's next, a walk may clear fields (they are skipped); a key
 *    no longer in the table still has a successor (the next key in the
 *    order), so nested walks over one table and walks that clear the key
 *    they stand on both go on. Keys added during a walk are seen by the
 *    next walk.
 */
#include <string.h>

#include "lsim.h"

#define WALKS_KEY "tcpsim.walks" /* registry: table -> its walk, weak keys */

enum { RANK_NUMBER, RANK_STRING, RANK_BOOLEAN, RANK_NONE };

static int key_rank(lua_State *L, int idx)
{
    switch (lua_type(L, idx)) {
    case LUA_TNUMBER:
        return RANK_NUMBER;
    case LUA_TSTRING:
        return RANK_STRING;
    case LUA_TBOOLEAN:
        return RANK_BOOLEAN;
    default:
        return RANK_NONE;
    }
}

/* <0, 0 or >0 as the key at a comes before, with or after the one at b. */
static int key_cmp(lua_State *L, int a, int b)
{
    int ra = key_rank(L, a), rb = key_rank(L, b);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    switch (ra) {
    case RANK_NUMBER: /* never NaN: NaN is not a key */
        return lua_compare(L, a, b, LUA_OPLT) ? -1 : lua_compare(L, b, a, LUA_OPLT);
    case RANK_STRING: {
        size_t la, lb;
        const char *sa = lua_tolstring(L, a, &la), *sb = lua_tolstring(L, b, &lb);
        int c = memcmp(sa, sb, la < lb ? la : lb);
        return c ? c : (la > lb) - (la < lb);
    }
    case RANK_BOOLEAN:
        return lua_toboolean(L, a) - lua_toboolean(L, b);
    default:
        return 0;
    }
}

static int key_less(lua_State *L)
{
    lua_pushboolean(L, key_cmp(L, 1, 2) < 0);
    return 1;
}

static int refuse(lua_State *L, const char *fn, int key)
{
    return luaL_error(L,
                      "%s: a table with %s keys has no deterministic order (use numbers, "
                      "strings or booleans as keys)",
                      fn, luaL_typename(L, key));
}

/* Whether the key at idx is an integer in 1..n. */
static bool in_border(lua_State *L, int idx, lua_Integer n, lua_Integer *out)
{
    int isint = 0;
    lua_Integer i = lua_type(L, idx) == LUA_TNUMBER ? lua_tointegerx(L, idx, &isint) : 0;
    if (!isint || i < 1 || i > n)
        return false;
    *out = i;
    return true;
}

/* Builds the walk of the table at t, stores it beside t and pushes it: a
 * table holding the border in field "n" and the other keys, sorted, at
 * 1..m. upvalue 1 is table.sort. */
static int walk_build(lua_State *L, int t, const char *fn)
{
    lua_Integer n = 0, m = 0, i;
    while (lua_rawgeti(L, t, n + 1) != LUA_TNIL) {
        lua_pop(L, 1);
        n++;
    }
    lua_pop(L, 1);
    lua_newtable(L);
    int w = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        if (in_border(L, -1, n, &i))
            continue;
        if (key_rank(L, -1) == RANK_NONE)
            return refuse(L, fn, -1);
        lua_pushvalue(L, -1);
        lua_rawseti(L, w, ++m);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, w);
    lua_pushcfunction(L, key_less);
    lua_call(L, 2, 0);
    lua_pushinteger(L, n);
    lua_setfield(L, w, "n");
    lua_getfield(L, LUA_REGISTRYINDEX, WALKS_KEY);
    lua_pushvalue(L, t);
    lua_pushvalue(L, w);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    return w;
}

/* How many of the sorted keys w[1..m] come before or equal the key at k. */
static lua_Integer count_not_after(lua_State *L, int w, lua_Integer m, int k)
{
    lua_Integer lo = 0, hi = m; /* w[1..lo] <= k < w[hi+1..m] */
    while (lo < hi) {
        lua_Integer mid = lo + (hi - lo + 1) / 2;
        lua_rawgeti(L, w, mid);
        bool after = key_cmp(L, -1, k) > 0;
        lua_pop(L, 1);
        if (after)
            hi = mid - 1;
        else
            lo = mid;
    }
    return lo;
}

/* next(t [, k]) in the fixed order. upvalue 1 is table.sort. */
static int l_next(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    lua_getfield(L, LUA_REGISTRYINDEX, WALKS_KEY);
    lua_pushvalue(L, 1);
    int w = lua_gettop(L); /* where t's walk (or nil) lands */
    if (lua_rawget(L, -2) == LUA_TNIL || lua_isnil(L, 2)) {
        lua_pop(L, 1);
        w = walk_build(L, 1, "next");
    }
    lua_getfield(L, w, "n");
    lua_Integer n = lua_tointeger(L, -1), m = (lua_Integer)lua_rawlen(L, w), pos;
    lua_pop(L, 1);
    if (lua_isnil(L, 2))
        pos = 1;
    else if (in_border(L, 2, n, &pos))
        pos++;
    else
        pos = n + 1 + count_not_after(L, w, m, 2);
    for (; pos <= n + m; pos++) {
        if (pos <= n)
            lua_pushinteger(L, pos);
        else
            lua_rawgeti(L, w, pos - n);
        lua_pushvalue(L, -1);
        if (lua_rawget(L, 1) != LUA_TNIL)
            return 2;
        lua_pop(L, 2); /* cleared during the walk */
    }
    lua_getfield(L, LUA_REGISTRYINDEX, WALKS_KEY);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    lua_rawset(L, -3);
    lua_pushnil(L);
    return 1;
}

/* pairs(t): t's __pairs if it has one, else next, t, nil. A table with
 * keys that have no order is refused here, naming pairs. upvalue 1 is the
 * fixed-order next. */
static int l_pairs(lua_State *L)
{
    luaL_checkany(L, 1);
    if (luaL_getmetafield(L, 1, "__pairs") != LUA_TNIL) {
        lua_pushvalue(L, 1);
        lua_call(L, 1, 3);
        return 3;
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_pop(L, 1);
        if (key_rank(L, -1) == RANK_NONE)
            return refuse(L, "pairs", -1);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

void lsim_walk_open(lua_State *L)
{
    lua_newtable(L);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, WALKS_KEY);
    lua_getglobal(L, "table");
    lua_getfield(L, -1, "sort");
    lua_pushcclosure(L, l_next, 1);
    lua_pushvalue(L, -1);
    lua_setglobal(L, "next");
    lua_pushcclosure(L, l_pairs, 1);
    lua_setglobal(L, "pairs");
    lua_pop(L, 1);
}
