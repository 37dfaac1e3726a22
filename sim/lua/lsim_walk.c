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
 *  - A full walk costs O(n log n): next(t, nil) sorts the keys once, in C
 *    (qsort, no Lua call per comparison), into a walk kept beside the table
 *    (a weak-keyed registry table, so it dies with the table); each later
 *    next(t, k) finds k's successor in O(1) when k is the key the previous
 *    call returned, else by binary search. The walk is dropped when it
 *    reaches the end.
 *  - As with Lua's next, a walk may clear fields (they are skipped); a key
 *    no longer in the table still has a successor (the next key in the
 *    order), so nested walks over one table and walks that clear the key
 *    they stand on both go on. Keys added during a walk are seen by the
 *    next walk.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
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

/* A key of the walk as C sorts it: its rank and value. A string's bytes
 * stay valid while the walk is built (the key is held by the table); its
 * first 8 bytes, big-endian and zero-padded, decide most comparisons
 * without reaching them. */
typedef struct walk_key {
    union {
        lua_Integer i; /* an integer; a boolean as 0 or 1 */
        lua_Number f;
        const char *s;
    } v;
    uint64_t prefix;
    size_t len;
    uint32_t slot; /* where the key sits in the unsorted list, from 1 */
    uint8_t rank;
    bool isint;
} walk_key;

/* <0, 0 or >0 as the integer i is below, equal to or above the float f,
 * exactly (as Lua compares them), f never NaN. */
static int int_float_cmp(lua_Integer i, lua_Number f)
{
    if (f >= -(lua_Number)LUA_MININTEGER) /* 2^63: above every integer */
        return -1;
    if (f < (lua_Number)LUA_MININTEGER)
        return 1;
    lua_Number fl = floor(f);
    lua_Integer fi = (lua_Integer)fl;
    if (i != fi)
        return i < fi ? -1 : 1;
    return f > fl ? -1 : 0;
}

/* The order of key_cmp, on keys read into C (qsort's comparator). */
static int walk_key_cmp(const void *pa, const void *pb)
{
    const walk_key *a = pa, *b = pb;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    switch (a->rank) {
    case RANK_NUMBER:
        if (a->isint && b->isint)
            return (a->v.i > b->v.i) - (a->v.i < b->v.i);
        if (!a->isint && !b->isint)
            return (a->v.f > b->v.f) - (a->v.f < b->v.f);
        return a->isint ? int_float_cmp(a->v.i, b->v.f) : -int_float_cmp(b->v.i, a->v.f);
    case RANK_STRING: {
        if (a->prefix != b->prefix)
            return a->prefix < b->prefix ? -1 : 1;
        int c = memcmp(a->v.s, b->v.s, a->len < b->len ? a->len : b->len);
        return c ? c : (a->len > b->len) - (a->len < b->len);
    }
    default: /* RANK_BOOLEAN */
        return (int)(a->v.i - b->v.i);
    }
}

/* Reads the key at idx into k (its rank is not RANK_NONE). */
static void walk_key_read(lua_State *L, int idx, walk_key *k)
{
    int isint = 0;
    k->rank = (uint8_t)key_rank(L, idx);
    k->prefix = 0;
    if (k->rank == RANK_NUMBER) {
        k->v.i = lua_tointegerx(L, idx, &isint);
        if (!isint)
            k->v.f = lua_tonumber(L, idx);
    } else if (k->rank == RANK_STRING) {
        k->v.s = lua_tolstring(L, idx, &k->len);
        for (size_t j = 0; j < 8; j++)
            k->prefix = k->prefix << 8 | (j < k->len ? (unsigned char)k->v.s[j] : 0);
    } else {
        k->v.i = lua_toboolean(L, idx);
    }
    k->isint = isint;
}

/* Pushes the keys of the table at t that are not in 1..n into a new list
 * (their order is the table's), and returns how many. */
static lua_Integer walk_collect(lua_State *L, int t, lua_Integer n, const char *fn)
{
    lua_Integer m = 0, i;
    lua_newtable(L);
    int u = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        if (in_border(L, -1, n, &i))
            continue;
        if (key_rank(L, -1) == RANK_NONE)
            return refuse(L, fn, -1);
        lua_pushvalue(L, -1);
        lua_rawseti(L, u, ++m);
    }
    return m;
}

/* Builds the walk of the table at t, stores it beside t and pushes it: a
 * table holding the border in field "n" and the other keys, sorted in C
 * (qsort over walk_key; keys are distinct, so the order is total), at
 * 1..m. */
static int walk_build(lua_State *L, int t, const char *fn)
{
    lua_Integer n = 0;
    while (lua_rawgeti(L, t, n + 1) != LUA_TNIL) {
        lua_pop(L, 1);
        n++;
    }
    lua_pop(L, 1);
    lua_Integer m = walk_collect(L, t, n, fn);
    int u = lua_gettop(L);
    if (m > (lua_Integer)UINT32_MAX || (lua_Unsigned)m > (size_t)-1 / sizeof(walk_key))
        return luaL_error(L, "%s: too many keys", fn);
    walk_key *keys = lua_newuserdatauv(L, (size_t)m * sizeof *keys, 0);
    for (lua_Integer j = 0; j < m; j++) {
        lua_rawgeti(L, u, j + 1);
        walk_key_read(L, -1, &keys[j]);
        keys[j].slot = (uint32_t)(j + 1);
        lua_pop(L, 1); /* the string stays held by the list */
    }
    qsort(keys, (size_t)m, sizeof *keys, walk_key_cmp);
    lua_createtable(L, (int)(m < INT_MAX ? m : INT_MAX), 1);
    int w = lua_gettop(L);
    for (lua_Integer j = 0; j < m; j++) {
        lua_rawgeti(L, u, keys[j].slot);
        lua_rawseti(L, w, j + 1);
    }
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

/* How many of the sorted keys w[1..m] come before or equal the key at k:
 * w[0], the slot of the key the last call returned, answers a walk going
 * key by key in O(1); any other key is found by binary search. */
static lua_Integer key_slot(lua_State *L, int w, lua_Integer m, int k)
{
    lua_Integer last = lua_rawgeti(L, w, 0) == LUA_TNUMBER ? lua_tointeger(L, -1) : 0;
    lua_pop(L, 1);
    if (last >= 1 && last <= m) {
        lua_rawgeti(L, w, last);
        bool same = lua_rawequal(L, -1, k);
        lua_pop(L, 1);
        if (same)
            return last;
    }
    return count_not_after(L, w, m, k);
}

/* next(t [, k]) in the fixed order. */
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
        pos = n + 1 + key_slot(L, w, m, 2);
    for (; pos <= n + m; pos++) {
        if (pos <= n)
            lua_pushinteger(L, pos);
        else
            lua_rawgeti(L, w, pos - n);
        lua_pushvalue(L, -1);
        if (lua_rawget(L, 1) != LUA_TNIL) {
            if (pos > n) {
                lua_pushinteger(L, pos - n);
                lua_rawseti(L, w, 0);
            }
            return 2;
        }
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
    lua_pushcfunction(L, l_next);
    lua_pushvalue(L, -1);
    lua_setglobal(L, "next");
    lua_pushcclosure(L, l_pairs, 1);
    lua_setglobal(L, "pairs");
}
