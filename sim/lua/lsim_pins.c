/*
 * lsim_pins — Lua values kept alive for C by number, as luaL_ref keeps them
 * in the registry, in chunks of PIN_CHUNK slots instead of one array.
 *
 * A simulation pins the handle of every socket whose on_state callback is
 * set (the same handle is passed to each call): 20,000 of them in the race
 * at 10,000 pairs. As registry references they took an array grown by
 * doubling, 16 bytes a slot: 32,768 slots (512 KiB) for 20,000, and each
 * growth left the old array's room behind. Here each chunk is a table made
 * at its full size once (16 bytes a slot and a 56-byte header), so the
 * store holds at most one chunk's slots unused and never copies; the chunk
 * list is the only array that doubles (one slot a chunk).
 *
 * What it promises:
 *  - lsim_pins_add returns a number from 1 that lsim_pins_push pushes the value
 *    of, until lsim_pins_drop; a number let go is handed out again (last freed,
 *    first reused), through a free list threaded through the freed slots
 *    themselves, as luaL_ref does, so the store has no C memory.
 *  - lsim_pins_add may raise Lua's memory error (making the chunk list or a
 *    chunk, or growing the list), before it changes the store; after
 *    lsim_pins_reserve (which may raise the same way, leaving at most an
 *    empty chunk made early) the next add cannot. The others never allocate
 *    and never raise.
 *  - The chunks live in a table the registry holds (p->ref) for the
 *    life of the state: a simulation's pins outlive it as its other
 *    registry references do, and a kept state resets them with its heap.
 */
#include "lsim.h"

#define PIN_CHUNK 256u

static lua_Integer chunk_of(uint32_t id)
{
    return (lua_Integer)((id - 1) / PIN_CHUNK) + 1;
}

static lua_Integer slot_of(uint32_t id)
{
    return (lua_Integer)((id - 1) % PIN_CHUNK) + 1;
}

/* Pushes the chunk holding `id`, which exists (lua_copy and a pop, not
 * lua_remove, whose rotation cost more than the lookups: this is on every
 * on_state call). */
static void chunk_push(lua_State *L, const lsim_pins *p, uint32_t id)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->ref);
    lua_rawgeti(L, -1, chunk_of(id));
    lua_copy(L, -1, -2);
    lua_pop(L, 1);
}

void lsim_pins_reserve(lua_State *L, lsim_pins *p)
{
    if (p->ref == LUA_NOREF) {
        lua_newtable(L);
        p->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    if (p->free || slot_of(p->top + 1) != 1)
        return; /* a freed slot, or one in the last chunk made */
    /* the next number opens a chunk: made at its full size now */
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->ref);
    if (lua_rawgeti(L, -1, chunk_of(p->top + 1)) == LUA_TNIL) {
        lua_createtable(L, (int)PIN_CHUNK, 0);
        lua_rawseti(L, -3, chunk_of(p->top + 1));
    }
    lua_pop(L, 2);
}

uint32_t lsim_pins_add(lua_State *L, lsim_pins *p, int idx)
{
    idx = lua_absindex(L, idx);
    lsim_pins_reserve(L, p); /* the only step that may raise */
    uint32_t id;
    if (p->free) {
        id = p->free;
        chunk_push(L, p, id);
        lua_rawgeti(L, -1, slot_of(id));
        p->free = (uint32_t)lua_tointeger(L, -1);
        lua_pop(L, 1);
    } else {
        id = ++p->top;
        chunk_push(L, p, id);
    }
    lua_pushvalue(L, idx);
    lua_rawseti(L, -2, slot_of(id)); /* the chunk's array part has the room */
    lua_pop(L, 1);
    return id;
}

void lsim_pins_push(lua_State *L, const lsim_pins *p, uint32_t id)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->ref);
    lua_rawgeti(L, -1, chunk_of(id));
    lua_rawgeti(L, -1, slot_of(id));
    lua_copy(L, -1, -3);
    lua_pop(L, 2);
}

void lsim_pins_drop(lua_State *L, lsim_pins *p, uint32_t id)
{
    chunk_push(L, p, id);
    lua_pushinteger(L, (lua_Integer)p->free);
    lua_rawseti(L, -2, slot_of(id));
    lua_pop(L, 1);
    p->free = id;
}
