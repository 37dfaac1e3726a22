/*
 * lsim_runtime — the Lua state a scenario runs in.
 *
 * What it promises:
 *  - Determinism: math.random draws from the simulator's seeded generator
 *    (stream "lua"), and pairs() and next() visit keys in a fixed order
 *    (lsim_walk.c), so Lua's randomised string hashing never reaches the
 *    simulation.
 *    tostring() and print() show a table, function, coroutine or handle
 *    by its type or name, never by its address.
 *  - Locations: every error names the scenario's file:line, including
 *    those Lua raises from C (a yield outside a coroutine, out of memory).
 *  - Limits: an instruction budget (a count hook), a memory budget (the
 *    allocator counts every Lua object; the heap the simulator holds in C
 *    is counted block by block (lsim_heap.c): the allocation that takes
 *    the run past max_memory less its reserve (GRACE_RESERVE) makes the
 *    next Lua instruction of the main thread, and the event loop at its
 *    next event, stop the run with an error naming the limit and the line;
 *    one that would pass max_memory itself is not made and ends the run
 *    at once with that error (heap_refused); where the heap can only be
 *    sampled, under Valgrind, it is sampled every HEAP_EVERY_MS from the
 *    count hook and the event loop), a wall-clock budget (checked by the
 *    count hook; the command adds a hard stop for time spent inside one C
 *    call), at most
 *    LSIM_SIMS_MAX simulations, and the world's event and virtual-time
 *    limits. The wall clock only ever stops a run: it never reaches the
 *    simulation, so it cannot change a trace.
 *  - A sandbox unless --unsafe: no io, os, debug, string.dump, binary
 *    chunks (load and require read text only), C modules, dofile or
 *    loadfile. require() finds Lua modules next to the scenario, in its
 *    lib/ and ../lib/ folders, and in -I paths: a search path fixed in C
 *    when the state is made (package.path is not read), module names of
 *    letters, digits, '_', '-' and '.' only. The metatables of handles are
 *    protected (getmetatable shows a copy of their method tables).
 */
#define _POSIX_C_SOURCE 200809L
#include <lualib.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lsim.h"

#define RT_KEY "tcpsim.runtime"

/* The last part of the budget, kept for the way to the next safe point.
 * Lua's blocks and the C heap together are held below max_memory minus
 * this reserve: the Lua allocator refuses past it (an ordinary memory
 * error), and the C allocation that passes it makes the run stop at the
 * next safe point. Meanwhile the reserve serves the simulator's blocks,
 * and Lua's while simulator code builds a callback's arguments inside the
 * event loop (outside any protected call, where a Lua error would unwind
 * through the loop). Only an allocation that would pass max_memory itself
 * is refused outright (heap_refused). GRACE_RESERVE, or an eighth of a
 * small budget. */
#define GRACE_RESERVE ((size_t)1 << 20)

/* Where the process heap cannot be counted exactly, it is sampled at most
 * this often (lsim_heap.c). */
#define HEAP_EVERY_MS 10

typedef struct runtime {
    /* What a run changes, from the start to `dir`: a kept state
     * (lsim_keep_*) puts it back before each run. */
    lsim_config cfg;
    lua_State *main;    /* NULL while the state is being made */
    lua_State *running; /* the coroutine coroutine.resume/wrap runs, or NULL (main) */
    size_t mem_used;
    uint64_t handles_made;       /* lsim_push_handle's handles, all told */
    bool mem_refused;            /* the allocator refused a request: the budget is spent */
    lsim_loop_flags loop;        /* grace: inside the event loop, outside every callback;
                                  * mem_over: the reserve was drawn on: stop at the next
                                  * safe point */
    size_t heap_base;            /* the process heap in use before the state was made */
    size_t other;                /* heap in use besides heap_base and Lua's blocks, as measured */
    size_t lua_heap;             /* Lua's blocks as the heap counts them (heap_exact) */
    bool heap_exact;             /* lsim_heap_in_use counts (else it samples) */
    bool heap_passed;            /* the count passed the budget less its reserve */
    bool heap_done;              /* the script ended: C memory is no longer watched */
    lua_State *hook_fast;        /* the thread whose count hook runs at every instruction */
    uint64_t heap_ms;            /* when the heap was last sampled (not heap_exact) */
    size_t stop_lua, stop_other; /* both figures when the budget was last found spent */
    char mem_where[256];         /* "file:line" running at the last refusal, or "" */
    uint64_t instructions;
    uint64_t wall_start_ms;
    sim_rng rng;
    uint32_t nsims; /* the scenario's simulations so far (sims[0..nsims)) */
    /* Fixed once the state is made. */
    char dir[1024];    /* the scenario's folder */
    lsim_arena *arena; /* a kept state's heap (lsim_keep_*), or NULL */
    lsim_arena *pool;  /* a plain state's heap (lua_pool), or NULL: malloc's */
    char path[24576];  /* require()'s search path, fixed at creation */
    char err[2048];    /* the last run's error message */
    /* Every simulation the scenario made, by number (lsim.number): the
     * registry's "tcpsim.sims" keeps each alive as long as the state, so
     * a handle's number always names a live userdata. A kept state resets
     * nsims, and a run's entries are never read after it. */
    lsim *sims[LSIM_SIMS_MAX];
} runtime;

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static runtime *rt_of(lua_State *L)
{
    void *ud;
    lua_getallocf(L, &ud);
    return ud;
}

const lsim_config *lsim_config_of(lua_State *L)
{
    return &rt_of(L)->cfg;
}

/* Records in rt->mem_where the file:line of the innermost Lua function of
 * the running thread (the coroutine resumed by coroutine.resume or wrap,
 * else the main thread); a refusal with no Lua function running (while an
 * error unwinds to the top) keeps the last one. Only when reading the stack is safe: a new block
 * (ptr NULL) is never a Lua stack being moved; Lua up to 5.4.4 also moves stacks into new blocks,
 * later releases realloc them in place with their pointers made relative. */
static void note_where(runtime *rt, const void *ptr)
{
#if LUA_VERSION_RELEASE_NUM > 50404
    if (ptr)
        return;
#else
    (void)ptr;
#endif
    lua_Debug ar;
    lua_State *T = rt->running ? rt->running : rt->main;
    for (int level = 0; T && lua_getstack(T, level, &ar); level++) {
        lua_getinfo(T, "Sl", &ar);
        if (ar.currentline > 0) {
            snprintf(rt->mem_where, sizeof rt->mem_where, "%s:%d", ar.short_src, ar.currentline);
            return;
        }
    }
}

/* Sets rt->other to the heap the run holds beyond Lua's blocks: where the
 * heap is counted, exactly (Lua's blocks are counted as the heap counts
 * them, in rt->lua_heap); else what the sample holds beyond mem_used. */
static void heap_measure(runtime *rt)
{
    size_t heap = lsim_heap_in_use();
    size_t lua = rt->heap_exact ? rt->lua_heap : rt->mem_used;
    size_t run = heap > rt->heap_base ? heap - rt->heap_base : 0;
    rt->other = run > lua ? run - lua : 0;
}

static void count_hook(lua_State *L, lua_Debug *ar);

/* The budget less its reserve (GRACE_RESERVE): where runs are stopped. */
static size_t mem_soft(const runtime *rt)
{
    size_t m = rt->cfg.max_memory, r = m / 8 < GRACE_RESERVE ? m / 8 : GRACE_RESERVE;
    return m - r;
}

static const char *run_error(runtime *rt, const char *m);

/* lsim_heap's watch: a C allocation took the run past its budget (only
 * flags are set here, inside malloc; the main thread's count hook is made
 * to run at its next instruction). */
static void heap_passed(void *ud)
{
    runtime *rt = ud;
    rt->heap_passed = true;
    lua_State *T = rt->running ? rt->running : rt->main;
    if (T) {
        rt->hook_fast = T;
        lua_sethook(T, count_hook, LUA_MASKCOUNT, 1);
    }
}

/* lsim_heap's cap: a C allocation would take the run past max_memory
 * itself. It cannot be refused to the simulator code that asked for it, and
 * no Lua error can unwind through that code, so the run ends here, with the
 * memory-limit error and the figures before that block (cfg.on_memory_stop,
 * else the message on stderr and exit status 2). Runs inside malloc: only
 * fixed buffers, write and _exit. */
static void heap_refused(void *ud)
{
    runtime *rt = ud;
    heap_measure(rt);
    rt->mem_refused = true;
    rt->stop_lua = rt->mem_used;
    rt->stop_other = rt->other;
    note_where(rt, NULL);
    const char *m = run_error(rt, "not enough memory");
    if (rt->cfg.on_memory_stop)
        rt->cfg.on_memory_stop(m);
    static const char pre[] = "tcpsim: error: ";
    ssize_t w = write(2, pre, sizeof pre - 1);
    w = write(2, m, strlen(m));
    w = write(2, "\n", 1);
    (void)w;
    _exit(2);
}

/* Where the heap is counted, sets the watch to the count at which C memory
 * and Lua's blocks together pass the budget less its reserve, and the cap
 * to the count at which they would pass max_memory: Lua's own blocks are
 * judged by rt_alloc (which lets Lua collect garbage and retry), never by
 * the watch. Once the script has ended, C memory (the outputs written from
 * the run log) is no longer watched. */
static void heap_watch(runtime *rt)
{
    if (!rt->heap_exact || rt->heap_done)
        return;
    size_t soft = mem_soft(rt), max = rt->cfg.max_memory, base = rt->heap_base + rt->lua_heap;
    size_t left = rt->mem_used < soft ? soft - rt->mem_used : 0;
    size_t room = rt->mem_used < max ? max - rt->mem_used : 0;
    lsim_heap_watch(base + left, base + room, heap_passed, heap_refused, rt);
}

/* realloc(ptr, nsize) for Lua (ptr's block holds osize bytes), keeping
 * rt->lua_heap and the watch up to date; Lua's blocks never trip the
 * watch. A kept state's blocks come from its arena, which says what it
 * holds of the heap. */
static void *lua_block(runtime *rt, void *ptr, size_t osize, size_t nsize)
{
    lsim_arena *a = rt->arena ? rt->arena : rt->pool;
    if (!a)
        return lsim_heap_resize_quiet(ptr, nsize, &rt->lua_heap);
    bool quiet = lsim_heap_quiet(true);
    void *p = lsim_arena_realloc(a, ptr, osize, nsize);
    rt->lua_heap = lsim_arena_heap(a);
    lsim_heap_quiet(quiet);
    return p;
}

/* The Lua allocator: counts every block against max_memory, with the C
 * heap as last measured (exact, when it is counted). */
static void *rt_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    runtime *rt = ud;
    if (ptr == NULL)
        osize = 0;
    if (nsize == 0) {
        lua_block(rt, ptr, osize, 0);
        rt->mem_used -= osize;
        heap_watch(rt);
        return NULL;
    }
    if (nsize > osize) {
        if (rt->heap_exact)
            heap_measure(rt);
        size_t soft = mem_soft(rt), grow = nsize - osize;
        size_t cap = rt->loop.grace ? rt->cfg.max_memory : soft;
        size_t used = rt->mem_used + rt->other;
        size_t room = used < soft ? soft - used : 0;
        cap = cap > rt->other ? cap - rt->other : 0;
        if (grow > room) {
            rt->mem_refused = true;
            rt->stop_lua = rt->mem_used;
            rt->stop_other = rt->other;
            note_where(rt, ptr);
            if (rt->mem_used > cap || grow > cap - rt->mem_used)
                return NULL;
            rt->loop.mem_over = true;
        }
    }
    void *p = lua_block(rt, ptr, osize, nsize);
    if (p)
        rt->mem_used = rt->mem_used - osize + nsize;
    heap_watch(rt);
    return p;
}

/* Whether Lua's blocks and the rest of the heap together pass the budget
 * less its reserve
 * (and then marks the budget spent). Where the heap is counted, only after
 * the watch saw a C allocation pass the budget (O(1)); else the heap is
 * sampled if HEAP_EVERY_MS passed since the last sample. */
static bool heap_over(runtime *rt)
{
    if (rt->heap_exact) {
        if (!rt->heap_passed)
            return false;
    } else {
        uint64_t now = wall_ms();
        if (now - rt->heap_ms < HEAP_EVERY_MS)
            return false;
        rt->heap_ms = now;
    }
    heap_measure(rt);
    size_t soft = mem_soft(rt);
    if (rt->other <= soft && rt->mem_used <= soft - rt->other) {
        rt->heap_passed = false; /* back under the budget (memory was freed) */
        heap_watch(rt);
        return false;
    }
    rt->mem_refused = true;
    rt->stop_lua = rt->mem_used;
    rt->stop_other = rt->other;
    return true;
}

bool lsim_runtime_heap_over(lua_State *L)
{
    runtime *rt = rt_of(L);
    if (!heap_over(rt))
        return false;
    note_where(rt, NULL);
    return true;
}

#define HOOK_EVERY 10000

static void count_hook(lua_State *L, lua_Debug *ar)
{
    runtime *rt = rt_of(L);
    rt->loop.grace = false; /* Lua code runs: no longer between two callbacks */
    uint64_t ran = HOOK_EVERY;
    if (rt->hook_fast == L) { /* set by heap_passed */
        rt->hook_fast = NULL;
        lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_EVERY);
        ran = 1;
    }
    bool over = rt->loop.mem_over;
    if (!over && heap_over(rt)) {
        /* garbage first, as Lua's allocator does before it refuses */
        lua_gc(L, LUA_GCCOLLECT);
        over = heap_over(rt);
    }
    if (over) {
        rt->loop.mem_over = false;
        rt->heap_passed = false; /* a script that catches the error and goes on, */
        heap_watch(rt);          /* still past the budget, is stopped again */
        lua_getinfo(L, "Sl", ar);
        snprintf(rt->mem_where, sizeof rt->mem_where, "%s:%d", ar->short_src, ar->currentline);
        lua_pushliteral(L, "not enough memory");
        lua_error(L);
    }
    rt->instructions += ran;
    bool wall = rt->cfg.max_wall_ms && wall_ms() - rt->wall_start_ms > rt->cfg.max_wall_ms;
    if (rt->instructions <= rt->cfg.max_instructions && !wall)
        return;
    /* In a hook, luaL_where would name the hook; the running function's
     * record (ar) says where the script was. */
    lua_getinfo(L, "Sl", ar);
    if (wall)
        lua_pushfstring(L, "%s:%d: wall-clock limit of %I ms reached (raise it with --max-wall)",
                        ar->short_src, ar->currentline, (LUAI_UACINT)rt->cfg.max_wall_ms);
    else
        lua_pushfstring(L,
                        "%s:%d: instruction limit of %I reached (an endless loop? raise it with "
                        "--max-instructions)",
                        ar->short_src, ar->currentline, (LUAI_UACINT)rt->cfg.max_instructions);
    lua_error(L);
}

bool lsim_runtime_grace(lua_State *L, bool on)
{
    runtime *rt = rt_of(L);
    bool was = rt->loop.grace;
    rt->loop.grace = on;
    return was;
}

void lsim_runtime_before_run(lua_State *L)
{
    runtime *rt = rt_of(L);
    if (rt->mem_refused || rt->heap_passed) {
        /* The budget was found spent: the garbage a script let go of since
         * is collected before the event loop, where only Lua's allocator
         * would collect it, judges the memory the run holds. */
        lua_gc(L, LUA_GCCOLLECT);
        rt->mem_refused = false;
        if (rt->heap_passed)
            heap_over(rt);
    }
    rt->loop.grace = true;
}

uint64_t lsim_runtime_handles_made(lua_State *L)
{
    return rt_of(L)->handles_made;
}

bool lsim_runtime_take_overdraft(lua_State *L)
{
    runtime *rt = rt_of(L);
    bool over = rt->loop.mem_over;
    rt->loop.mem_over = false;
    return over;
}

/* ---- math.random on the seeded generator ---- */

void lsim_runtime_reseed(lua_State *L, uint64_t seed)
{
    sim_rng_seed(&rt_of(L)->rng, seed, "lua");
}

static int l_random(lua_State *L)
{
    sim_rng *r = &rt_of(L)->rng;
    lua_Integer lo, hi;
    switch (lua_gettop(L)) {
    case 0:
        lua_pushnumber(L, (lua_Number)(sim_rng_next(r) >> 11) * (1.0 / 9007199254740992.0));
        return 1;
    case 1:
        lo = 1;
        hi = luaL_checkinteger(L, 1);
        break;
    case 2:
        lo = luaL_checkinteger(L, 1);
        hi = luaL_checkinteger(L, 2);
        break;
    default:
        return luaL_error(L, "math.random: wrong number of arguments");
    }
    luaL_argcheck(L, lo <= hi, lua_gettop(L), "interval is empty");
    uint64_t span = (uint64_t)hi - (uint64_t)lo + 1;
    uint64_t v = span ? sim_rng_below(r, span) : sim_rng_next(r);
    lua_pushinteger(L, (lua_Integer)((uint64_t)lo + v));
    return 1;
}

static int l_randomseed(lua_State *L)
{
    lsim_runtime_reseed(L, (uint64_t)luaL_checkinteger(L, 1));
    return 0;
}

/* ---- tostring and print without addresses ---- */

/* tostring(v): as Lua's, except that a table, function, coroutine or
 * userdata without __tostring shows its type (or its __name), never its
 * address, which differs between runs. */
static int l_tostring(lua_State *L)
{
    luaL_checkany(L, 1);
    int t = lua_type(L, 1);
    bool addressed = t == LUA_TTABLE || t == LUA_TFUNCTION || t == LUA_TTHREAD ||
                     t == LUA_TUSERDATA || t == LUA_TLIGHTUSERDATA;
    if (addressed && luaL_getmetafield(L, 1, "__tostring") == LUA_TNIL) {
        if (luaL_getmetafield(L, 1, "__name") != LUA_TSTRING) {
            lua_settop(L, 1);
            lua_pushstring(L, luaL_typename(L, 1));
        }
        return 1;
    }
    lua_settop(L, 1);
    luaL_tolstring(L, 1, NULL);
    return 1;
}

/* print(...): as Lua's, each value through l_tostring. */
static int l_print(lua_State *L)
{
    if (lsim_config_of(L)->quiet_print)
        return 0;
    int n = lua_gettop(L);
    for (int i = 1; i <= n; i++) {
        lua_pushcfunction(L, l_tostring);
        lua_pushvalue(L, i);
        lua_call(L, 1, 1);
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        if (i > 1)
            fputc('\t', stdout);
        fwrite(s, 1, len, stdout);
        lua_pop(L, 1);
    }
    fputc('\n', stdout);
    fflush(stdout);
    return 0;
}

/* ---- coroutine.yield with a location ---- */

/* coroutine.yield(...): as Lua's, except that a yield that cannot happen is
 * an error naming the line of the yield (Lua raises it from C, where it has
 * no location). */
static int l_yield(lua_State *L)
{
    if (lua_isyieldable(L))
        return lua_yield(L, lua_gettop(L));
    if (lua_pushthread(L))
        return luaL_error(L, "attempt to yield from outside a coroutine");
    return luaL_error(L, "attempt to yield across a C-call boundary (from a function called by "
                         "C, such as a table.sort comparator or a string.gsub replacement)");
}

/* ---- coroutine.resume and coroutine.wrap that keep track of the thread ---- */

/* Resumes co with the narg values on top of L, as Lua's coroutine library
 * does, with rt->running naming co meanwhile (lua_resume never unwinds past
 * here). Returns the number of results moved to L, or -1 with the error
 * on top of L. */
static int resume_in(lua_State *L, lua_State *co, int narg)
{
    if (!lua_checkstack(co, narg)) {
        lua_pushliteral(L, "too many arguments to resume");
        return -1;
    }
    lua_xmove(L, co, narg);
    runtime *rt = rt_of(L);
    lua_State *outer = rt->running;
    rt->running = co;
    int nres, status = lua_resume(co, L, narg, &nres);
    rt->running = outer;
    if (status == LUA_OK || status == LUA_YIELD) {
        if (!lua_checkstack(L, nres + 1)) {
            lua_pop(co, nres);
            lua_pushliteral(L, "too many results to resume");
            return -1;
        }
        lua_xmove(co, L, nres);
        return nres;
    }
    lua_xmove(co, L, 1);
    return -1;
}

static int l_resume(lua_State *L)
{
    lua_State *co = lua_tothread(L, 1);
    luaL_argexpected(L, co, 1, "coroutine");
    int r = resume_in(L, co, lua_gettop(L) - 1);
    lua_pushboolean(L, r >= 0);
    lua_insert(L, r >= 0 ? -(r + 1) : -2);
    return r >= 0 ? r + 1 : 2;
}

/* Whether the message m starts with a location, "chunk:line: ". */
static bool has_location(const char *m)
{
    const char *c = strchr(m, ':');
    if (!c || c[1] < '0' || c[1] > '9')
        return false;
    for (c++; *c >= '0' && *c <= '9'; c++)
        ;
    return c[0] == ':' && c[1] == ' ';
}

/* The function coroutine.wrap returns. An error raised inside the coroutine
 * that names where it happened (or, out of memory, is located by the
 * allocator) goes on unchanged, so nested wraps do not repeat a location;
 * a string error without one (a C stack overflow, a dead coroutine) gets
 * the line that called the wrapped function, once. */
static int l_wrapped(lua_State *L)
{
    lua_State *co = lua_tothread(L, lua_upvalueindex(1));
    int r = resume_in(L, co, lua_gettop(L));
    if (r >= 0)
        return r;
    int status = lua_status(co);
    if (status != LUA_OK && status != LUA_YIELD) { /* the coroutine failed */
#if LUA_VERSION_RELEASE_NUM >= 50406
        lua_closethread(co, L); /* close its to-be-closed variables */
#else
        lua_resetthread(co);
#endif
        lua_xmove(co, L, 1); /* the error, or one raised while closing */
        if (status == LUA_ERRMEM)
            return lua_error(L);
    }
    if (lua_type(L, -1) == LUA_TSTRING && !has_location(lua_tostring(L, -1))) {
        luaL_where(L, 1);
        lua_insert(L, -2);
        lua_concat(L, 2);
    }
    return lua_error(L);
}

static int l_wrap(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_State *co = lua_newthread(L);
    lua_pushvalue(L, 1);
    lua_xmove(L, co, 1);
    lua_pushcclosure(L, l_wrapped, 1);
    return 1;
}

/* ---- sandbox ---- */

static int l_load_text(lua_State *L)
{
    /* load(chunk [, chunkname [, mode [, env]]]) with the mode forced to text */
    lua_settop(L, 4);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_pushliteral(L, "t");
    int nargs = 3;
    if (!lua_isnil(L, 4)) {
        lua_pushvalue(L, 4);
        nargs = 4;
    }
    lua_call(L, nargs, LUA_MULTRET);
    return lua_gettop(L) - 4;
}

/* Pushes "file:line: " of the innermost Lua function running (a C function
 * such as require or a searcher has no line of its own), or "". */
static void push_line_where(lua_State *L)
{
    lua_Debug ar;
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        lua_getinfo(L, "Sl", &ar);
        if (ar.currentline > 0) {
            lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
            return;
        }
    }
    lua_pushliteral(L, "");
}

/* A module name: letters, digits, '_', '-' and '.' (a folder separator),
 * not starting with '.', so no name climbs out of the search folders. */
static bool module_name_ok(const char *name)
{
    if (!*name || *name == '.')
        return false;
    for (const char *c = name; *c; c++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.", *c) ||
            (c[0] == '.' && c[1] == '.'))
            return false;
    return true;
}

/* ---- Compiled chunks kept for the process (cfg.cache_chunks) ---- */

typedef struct chunk {
    char *file;
    char *code; /* lua_dump of the compiled file, debug information kept; NULL: a
                 * file require() looked for and did not find */
    size_t len, cap;
} chunk;

static chunk *chunks;
static uint32_t nchunks, capchunks;

static int chunk_writer(lua_State *L, const void *p, size_t sz, void *ud)
{
    (void)L;
    chunk *c = ud;
    if (c->len + sz > c->cap) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap < c->len + sz)
            cap *= 2;
        char *code = realloc(c->code, cap);
        if (!code)
            return 1;
        c->code = code;
        c->cap = cap;
    }
    memcpy(c->code + c->len, p, sz);
    c->len += sz;
    return 0;
}

static chunk *chunk_find(const char *file)
{
    for (size_t i = 0; i < nchunks; i++)
        if (strcmp(chunks[i].file, file) == 0)
            return &chunks[i];
    return NULL;
}

/* Keeps the function on top of the stack, compiled from file (L NULL: the
 * file was not found). */
static void chunk_keep(lua_State *L, const char *file)
{
    chunks = lsim_grow(chunks, &capchunks, nchunks + 1, sizeof *chunks);
    chunk c = {strdup(file), NULL, 0, 0};
    if (c.file && (!L || (lua_dump(L, chunk_writer, &c, 0) == 0 && c.len))) {
        chunks[nchunks++] = c;
        return;
    }
    free(c.file);
    free(c.code);
}

/* Whether require() finds a file at path; with cfg.cache_chunks, asked of
 * the file system once per process. */
static bool module_file_exists(lua_State *L, const char *path)
{
    bool cache = rt_of(L)->cfg.cache_chunks;
    const chunk *c = cache ? chunk_find(path) : NULL;
    if (c)
        return c->code != NULL;
    FILE *f = fopen(path, "r");
    if (f)
        fclose(f);
    else if (cache)
        chunk_keep(NULL, path);
    return f != NULL;
}

#define PRELOADED_KEY "tcpsim.preloaded"

/* A kept state's function compiled from file when the state was made
 * (lsim_keep_new; registry PRELOADED_KEY[i] for chunks[i]), pushed at most
 * once per run (a second load of the file in the same run gets a function
 * of its own). */
static bool take_preloaded(lua_State *L, const chunk *c)
{
    if (!rt_of(L)->arena || !c)
        return false;
    lua_Integer i = (lua_Integer)(c - chunks) + 1;
    lua_getfield(L, LUA_REGISTRYINDEX, PRELOADED_KEY); /* made with the state */
    if (lua_rawgeti(L, -1, i) != LUA_TFUNCTION) {
        lua_pop(L, 2);
        return false;
    }
    lua_pushnil(L);
    lua_rawseti(L, -3, i);
    lua_remove(L, -2);
    return true;
}

/* luaL_loadfilex(L, file, "t"), or with cfg.cache_chunks the file's
 * compiled form from an earlier load: the same function, line numbers and
 * chunk name, without reading or parsing the file again. */
static int load_text_file(lua_State *L, const char *file)
{
    if (!file || !rt_of(L)->cfg.cache_chunks)
        return luaL_loadfilex(L, file, "t");
    const chunk *c = chunk_find(file);
    if (take_preloaded(L, c))
        return LUA_OK;
    if (c && c->code)
        return luaL_loadbufferx(L, c->code, c->len, file, "b");
    int rc = luaL_loadfilex(L, file, "t");
    if (rc == LUA_OK && !c) /* (a file once missing is compiled each time) */
        chunk_keep(L, file);
    return rc;
}

/* Modules require() found, with the search path they were found on
 * (cfg.cache_chunks: files do not change, so a name found once is not
 * searched for again in this process). */
typedef struct resolved {
    char *path, *name, *file;
} resolved;

static resolved *resolveds;
static uint32_t nresolved, capresolved;

static const char *resolved_find(const char *path, const char *name)
{
    for (size_t i = 0; i < nresolved; i++)
        if (strcmp(resolveds[i].name, name) == 0 && strcmp(resolveds[i].path, path) == 0)
            return resolveds[i].file;
    return NULL;
}

static void resolved_keep(const char *path, const char *name, const char *file)
{
    resolveds = lsim_grow(resolveds, &capresolved, nresolved + 1, sizeof *resolveds);
    resolved r = {strdup(path), strdup(name), strdup(file)};
    if (r.path && r.name && r.file) {
        resolveds[nresolved++] = r;
        return;
    }
    free(r.path);
    free(r.name);
    free(r.file);
}

/* The searcher's answer for module `name` found in `file`: its loader
 * and the file name, or an error if it does not compile. */
static int found_module(lua_State *L, const char *name, const char *file)
{
    if (load_text_file(L, file) != LUA_OK) {
        push_line_where(L);
        lua_pushfstring(L, "%serror loading module '%s' from file '%s': %s", lua_tostring(L, -1),
                        name, file, lua_tostring(L, -2));
        return lua_error(L);
    }
    lua_pushstring(L, file);
    return 2;
}

/* package.searchers[2] in the sandbox: a text-only Lua searcher over the
 * path fixed in C (package.path is never read). */
static int l_search_lua(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    if (!module_name_ok(name)) {
        push_line_where(L);
        lua_pushfstring(L,
                        "%srequire: module name '%s' may hold only letters, digits, '_', '-' "
                        "and '.'",
                        lua_tostring(L, -1), name);
        return lua_error(L);
    }
    runtime *rt = rt_of(L);
    const char *known = rt->cfg.cache_chunks ? resolved_find(rt->path, name) : NULL;
    if (known)
        return found_module(L, name, known);
    const char *file = luaL_gsub(L, name, ".", "/");
    const char *path = rt->path;
    while (*path) {
        const char *end = strchr(path, ';');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        lua_pushlstring(L, path, len);
        const char *candidate = luaL_gsub(L, lua_tostring(L, -1), "?", file);
        if (module_file_exists(L, candidate)) {
            if (rt->cfg.cache_chunks)
                resolved_keep(rt->path, name, candidate);
            return found_module(L, name, candidate);
        }
        lua_pop(L, 2);
        path += len + (end != NULL);
    }
    lua_pushfstring(
        L, "no file '%s.lua' in the scenario's folder, its lib/ and ../lib/ or -I paths", file);
    return 1;
}

static void open_lib(lua_State *L, const char *name, lua_CFunction fn)
{
    luaL_requiref(L, name, fn, 1);
    lua_pop(L, 1);
}

static void open_safe(lua_State *L)
{
    open_lib(L, LUA_GNAME, luaopen_base);
    open_lib(L, LUA_LOADLIBNAME, luaopen_package);
    open_lib(L, LUA_COLIBNAME, luaopen_coroutine);
    open_lib(L, LUA_TABLIBNAME, luaopen_table);
    open_lib(L, LUA_STRLIBNAME, luaopen_string);
    open_lib(L, LUA_MATHLIBNAME, luaopen_math);
    open_lib(L, LUA_UTF8LIBNAME, luaopen_utf8);
    static const char *const removed[] = {"dofile", "loadfile", "collectgarbage", NULL};
    for (int i = 0; removed[i]; i++) {
        lua_pushnil(L);
        lua_setglobal(L, removed[i]);
    }
    lua_getglobal(L, "load");
    lua_pushcclosure(L, l_load_text, 1);
    lua_setglobal(L, "load");
    lua_getglobal(L, "string");
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
    /* require: Lua text files only, over the fixed path */
    lua_getglobal(L, "package");
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "cpath");
    lua_pushnil(L);
    lua_setfield(L, -2, "loadlib");
    lua_pushnil(L);
    lua_setfield(L, -2, "searchpath");
    lua_getfield(L, -1, "searchers");
    lua_pushcfunction(L, l_search_lua);
    lua_rawseti(L, -2, 2);
    for (int i = 4; i >= 3; i--) { /* drop the C and all-in-one searchers */
        lua_pushnil(L);
        lua_rawseti(L, -2, i);
    }
    lua_pop(L, 2);
}

static void set_path(lua_State *L, runtime *rt)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    const char *d = rt->dir;
    const char *const suffix[] = {"/?.lua;", "/lib/?.lua;", "/../lib/?.lua;"};
    char part[1200];
    for (int i = 0; i < 3; i++) {
        snprintf(part, sizeof part, "%s%s", d, suffix[i]);
        luaL_addstring(&b, part);
    }
    for (int i = 0; i < rt->cfg.nlib_paths; i++) {
        snprintf(part, sizeof part, "%s/?.lua;", rt->cfg.lib_paths[i]);
        luaL_addstring(&b, part);
    }
    luaL_pushresult(&b);
    snprintf(rt->path, sizeof rt->path, "%s", lua_tostring(L, -1));
    lua_getglobal(L, "package");
    lua_insert(L, -2);
    lua_setfield(L, -2, "path");
    lua_pop(L, 1);
}

static void replace_globals(lua_State *L)
{
    lua_getglobal(L, "math");
    lua_pushcfunction(L, l_random);
    lua_setfield(L, -2, "random");
    lua_pushcfunction(L, l_randomseed);
    lua_setfield(L, -2, "randomseed");
    lua_pop(L, 1);
    lsim_walk_open(L);
    lua_getglobal(L, "coroutine");
    lua_pushcfunction(L, l_yield);
    lua_setfield(L, -2, "yield");
    lua_pushcfunction(L, l_resume);
    lua_setfield(L, -2, "resume");
    lua_pushcfunction(L, l_wrap);
    lua_setfield(L, -2, "wrap");
    lua_pop(L, 1);
    lua_pushcfunction(L, l_tostring);
    lua_setglobal(L, "tostring");
    lua_pushcfunction(L, l_print);
    lua_setglobal(L, "print");
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "tcpsim.sims");
}

/* Copies the table at `from` (a table field of the metatable at -2) into
 * the table at -1 under the same name. */
static void copy_field(lua_State *L, const char *name)
{
    if (lua_getfield(L, -2, name) != LUA_TTABLE) {
        lua_pop(L, 1);
        return;
    }
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, -3)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
    lua_setfield(L, -3, name);
    lua_pop(L, 1);
}

/* Whether the registry entry (key at -2, value at -1) is a tcpsim
 * metatable: a "tcpsim.*" key and a table with a __name. */
static bool is_tcpsim_metatable(lua_State *L)
{
    if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TTABLE ||
        strncmp(lua_tostring(L, -2), "tcpsim.", 7) != 0)
        return false;
    bool named = lua_getfield(L, -1, "__name") == LUA_TSTRING;
    lua_pop(L, 1);
    return named;
}

/* Every "tcpsim.*" metatable is protected: getmetatable() answers a copy
 * holding its name and method tables (for introspection), so a script can
 * neither call __gc by hand nor change what a handle does. */
static void protect_metatables(lua_State *L)
{
    lua_pushnil(L);
    while (lua_next(L, LUA_REGISTRYINDEX)) {
        if (is_tcpsim_metatable(L)) {
            lua_newtable(L); /* the face shown to scripts */
            lua_getfield(L, -2, "__name");
            lua_setfield(L, -2, "__name");
            copy_field(L, "methods");
            copy_field(L, "__index");
            lua_setfield(L, -2, "__metatable");
        }
        lua_pop(L, 1);
    }
}

lua_State *lsim_main_thread(lua_State *L)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
    lua_State *main = lua_tothread(L, -1);
    lua_pop(L, 1);
    return main;
}

/* A runtime for cfg with its defaults filled in; NULL if out of memory. */
static runtime *runtime_make(const lsim_config *cfg)
{
    runtime *rt = calloc(1, sizeof *rt);
    if (!rt)
        return NULL;
    rt->cfg = *cfg;
    if (!rt->cfg.max_instructions)
        rt->cfg.max_instructions = 1000000000ull;
    if (!rt->cfg.max_memory)
        rt->cfg.max_memory = (size_t)2 << 30;
    if (!rt->cfg.max_events)
        rt->cfg.max_events = SIM_DEFAULT_MAX_EVENTS;
    if (!rt->cfg.max_time_ns)
        rt->cfg.max_time_ns = SIM_DEFAULT_MAX_TIME;
    const char *slash = cfg->file ? strrchr(cfg->file, '/') : NULL;
    if (slash)
        snprintf(rt->dir, sizeof rt->dir, "%.*s", (int)(slash - cfg->file), cfg->file);
    else
        snprintf(rt->dir, sizeof rt->dir, ".");
    rt->heap_exact = lsim_heap_exact();
    return rt;
}

/* The budgets' clocks and counts start now (the memory the process holds
 * already is not the run's). */
static void runtime_start(runtime *rt)
{
    rt->wall_start_ms = wall_ms();
    rt->heap_ms = rt->wall_start_ms;
    rt->heap_base = lsim_heap_in_use();
    heap_watch(rt);
}

/* The libraries, the sandbox, the tcpsim modules and the budget's hook. */
static void open_all(lua_State *L, runtime *rt)
{
    if (rt->cfg.unsafe)
        luaL_openlibs(L);
    else
        open_safe(L);
    replace_globals(L);
    set_path(L, rt);
    lsim_runtime_reseed(L, rt->cfg.seed_set ? rt->cfg.seed : 1);
    lsim_open_sim(L);
    lsim_open_sock(L);
    lsim_open_link(L);
    lsim_open_peer(L);
    lsim_open_expect(L);
    protect_metatables(L);
    lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_EVERY);
}

/* A plain state's Lua blocks come from a pool of size classes
 * (lsim_arena_pool): a quarter less time building race.lua's 100,000
 * pairs than glibc's malloc. Not under AddressSanitizer, whose own
 * allocator is what finds a block used after Lua freed it (a pool's
 * freed blocks stay addressable); there, and if the pool cannot be made,
 * malloc's (NULL). */
static lsim_arena *lua_pool(void)
{
#if defined(LSIM_ASAN)
    return NULL;
#else
    return lsim_arena_pool();
#endif
}

lua_State *lsim_runtime_new(const lsim_config *cfg)
{
    runtime *rt = runtime_make(cfg);
    if (!rt)
        return NULL;
    runtime_start(rt);
    rt->pool = lua_pool();
    lua_State *L = lua_newstate(rt_alloc, rt);
    if (!L) {
        lsim_heap_unwatch(rt);
        lsim_arena_free(rt->pool);
        free(rt);
        return NULL;
    }
    rt->main = L;
    /* Incremental collection, Lua's default, as in a kept state
     * (lsim_keep_new): a script can see when its garbage is collected (a
     * weak table, __gc), so explore's runs from a kept image and the replay
     * of a schedule they found (`tcpsim run --schedule`) must collect the
     * same way. Generational mode saved race.lua 1.5 MiB of 89 and was
     * given up for that (docs/performance.md, tenth round). */
    open_all(L, rt);
    return L;
}

void lsim_runtime_free(lua_State *L)
{
    runtime *rt = rt_of(L);
    lsim_heap_unwatch(rt);
    lua_close(L);
    lsim_arena_free(rt->pool);
    free(rt);
}

void lsim_runtime_register_sim(lua_State *L, lsim *s)
{
    runtime *rt = rt_of(L);
    if (rt->nsims >= LSIM_SIMS_MAX)
        luaL_error(L, "tcpsim.new: at most %d simulations per scenario", LSIM_SIMS_MAX);
    lua_getfield(L, LUA_REGISTRYINDEX, "tcpsim.sims");
    lua_rawgetp(L, LUA_REGISTRYINDEX, s);
    lua_rawseti(L, -2, (lua_Integer)rt->nsims + 1);
    lua_pop(L, 1);
    s->number = rt->nsims;
    s->heap_flag = rt->heap_exact ? &rt->heap_passed : NULL;
    s->loop_flags = &rt->loop;
    rt->sims[rt->nsims++] = s;
}

lsim *lsim_runtime_sim(lua_State *L, uint32_t n)
{
    const runtime *rt = rt_of(L);
    return n < rt->nsims ? rt->sims[n] : NULL;
}

uint32_t lsim_runtime_sims(lua_State *L, lsim **out, uint32_t max)
{
    const runtime *rt = rt_of(L);
    uint32_t n = rt->nsims < max ? rt->nsims : max;
    for (uint32_t i = 0; i < n; i++)
        out[i] = rt->sims[i];
    return n;
}

int lsim_runtime_msgh(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TSTRING) {
        lsim_sock_explain(L);
        return 1;
    }
    push_line_where(L);
    if (lua_type(L, 1) == LUA_TNUMBER)
        lua_pushfstring(L, "%s%s", lua_tostring(L, -1), lua_tostring(L, 1));
    else
        lua_pushfstring(L, "%serror object is a %s value", lua_tostring(L, -1),
                        luaL_typename(L, 1));
    return 1;
}

/* The message of a failed run; out of memory names the budget. An error
 * raised after the script caught an out-of-memory error is its own. */
static const char *run_error(runtime *rt, const char *m)
{
    bool memory =
        !m || strcmp(m, "not enough memory") == 0 || strcmp(m, "error in error handling") == 0;
    if (rt->mem_refused && memory)
        snprintf(rt->err, sizeof rt->err,
                 "%s: memory limit of %zu MiB reached (%s; raise it with --max-memory): Lua "
                 "held %zu MiB, the simulation %zu MiB",
                 rt->mem_where[0] ? rt->mem_where : rt->cfg.file, rt->cfg.max_memory >> 20,
                 m ? m : "not enough memory", rt->stop_lua >> 20, rt->stop_other >> 20);
    else
        snprintf(rt->err, sizeof rt->err, "%s", m ? m : "error");
    return rt->err;
}

static int run_chunk(lua_State *L, const char **err);

int lsim_runtime_run(lua_State *L, const char **err)
{
    int rc = run_chunk(L, err);
    runtime *rt = rt_of(L);
    rt->heap_done = true;
    lsim_heap_unwatch(rt);
    return rc;
}

static int run_chunk(lua_State *L, const char **err)
{
    runtime *rt = rt_of(L);
    *err = NULL;
    lua_pushcfunction(L, lsim_runtime_msgh);
    if (load_text_file(L, rt->cfg.file) != LUA_OK) {
        const char *m = lua_tostring(L, -1), *file = rt->cfg.file ? rt->cfg.file : "stdin";
        if (!m)
            m = "cannot load";
        /* a syntax error names file:line; a binary chunk, a folder do not */
        if (strstr(m, file) || strncmp(m, "...", 3) == 0)
            snprintf(rt->err, sizeof rt->err, "%s", m);
        else
            snprintf(rt->err, sizeof rt->err, "%s: %s", file, m);
        *err = rt->err;
        lua_pop(L, 2);
        return 2;
    }
    int rc = lua_pcall(L, 0, 0, -2);
    rt->loop.grace = false;
    if (rc == LUA_OK && rt->loop.mem_over) {
        lua_pop(L, 1);
        lua_pushliteral(L, "not enough memory");
        rc = LUA_ERRMEM;
    }
    if (rc != LUA_OK) {
        *err = run_error(rt, lua_tostring(L, -1));
        lua_pop(L, 2);
        return 2;
    }
    lua_pop(L, 1);
    /* A stack invariant broken during a user call made outside sim:run
     * stopped nothing; it still fails the run. */
    lsim *sims[LSIM_SIMS_MAX];
    uint32_t n = lsim_runtime_sims(L, sims, LSIM_SIMS_MAX);
    for (uint32_t i = 0; i < n; i++) {
        const char *m = lsim_unraised_error(sims[i]);
        if (m) {
            *err = run_error(rt, m);
            return 2;
        }
    }
    return 0;
}

/* ---- Handles ---- */

const char LSIM_SIM[] = "tcpsim.sim";
const char LSIM_HOST[] = "tcpsim.host";
const char LSIM_LINK[] = "tcpsim.link";
const char LSIM_SOCK[] = "tcpsim.socket";
const char LSIM_HELD[] = "tcpsim.held";

/* metatable[MT_TAG] holds the light userdata tname: a script can read it
 * but cannot make a light userdata, nor set a userdata's metatable, so a
 * handle whose metatable carries the tag is one this class made. */
#define MT_TAG 1

int lsim_newmetatable(lua_State *L, const char *tname)
{
    int made = luaL_newmetatable(L, tname);
    lua_pushlightuserdata(L, (void *)tname);
    lua_rawseti(L, -2, MT_TAG);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, tname);
    return made;
}

void lsim_setmetatable(lua_State *L, const char *tname)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, tname);
    lua_setmetatable(L, -2);
}

/* As luaL_testudata, without its registry lookup by name: every socket
 * call and field read checks its handle, and that lookup was the largest
 * single cost of a scenario's callbacks. */
void *lsim_testudata(lua_State *L, int idx, const char *tname)
{
    void *p = lua_touserdata(L, idx);
    if (!p || !lua_getmetatable(L, idx))
        return NULL;
    bool same = lua_rawgeti(L, -1, MT_TAG) == LUA_TLIGHTUSERDATA && lua_touserdata(L, -1) == tname;
    lua_pop(L, 2);
    return same ? p : NULL;
}

void *lsim_checkudata(lua_State *L, int idx, const char *tname)
{
    void *p = lsim_testudata(L, idx, tname);
    if (!p)
        luaL_typeerror(L, idx, tname);
    return p;
}

void lsim_push_handle(lua_State *L, const lsim *s, uint32_t index, const char *mt)
{
    lsim_handle *hd = lua_newuserdatauv(L, sizeof *hd, 0);
    hd->sim = s->number;
    hd->index = index;
    lsim_setmetatable(L, mt);
    rt_of(L)->handles_made++;
}

lsim_handle *lsim_handle_check(lua_State *L, int idx, const char *mt, lsim **out_sim)
{
    lsim_handle *hd = lsim_checkudata(L, idx, mt);
    /* Only this state's bindings make handles, each of a registered sim. */
    lsim *s = lsim_runtime_sim(L, hd->sim);
    if (!s || s->closed)
        luaL_error(L, "attempt to use a finished simulation");
    if (out_sim)
        *out_sim = s;
    return hd;
}

int lsim_index_methods(lua_State *L, const char *what, const char *key)
{
    luaL_getmetafield(L, 1, "methods");
    lua_getfield(L, -1, key);
    if (lua_isnil(L, -1))
        return luaL_error(L, "%s has no field or method '%s'", what, key);
    return 1;
}

/* ---- A state kept for many runs (lsim_keep_*) ---- */

/* The image a kept state is made in (lsim_arena.c): the libraries, the
 * tcpsim modules and the preloaded chunks take a few hundred KiB; only the
 * bytes used are touched and copied. */
#define KEEP_IMAGE_MAX ((size_t)16 << 20)
#define OWNED_KEY      "tcpsim.owned"

struct lsim_keep {
    runtime *rt;
    runtime saved; /* rt as sealed, up to `dir` (what a run changes) */
};

void lsim_runtime_own(lua_State *L, int idx)
{
    if (!rt_of(L)->arena)
        return;
    idx = lua_absindex(L, idx);
    lua_getfield(L, LUA_REGISTRYINDEX, OWNED_KEY);
    lua_pushvalue(L, idx);
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    lua_pop(L, 1);
}

/* Makes the state in protected mode (the image may run out): everything
 * lsim_runtime_new opens, every chunk the process has compiled, loaded
 * once (take_preloaded), and the list of objects to release. */
static int keep_setup(lua_State *L)
{
    open_all(L, rt_of(L));
    lua_newtable(L);
    for (size_t i = 0; i < nchunks; i++) {
        if (!chunks[i].code) /* a file found missing */
            continue;
        if (luaL_loadbufferx(L, chunks[i].code, chunks[i].len, chunks[i].file, "b") != LUA_OK)
            return lua_error(L);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, LUA_REGISTRYINDEX, PRELOADED_KEY);
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, OWNED_KEY);
    return 0;
}

lsim_keep *lsim_keep_new(const lsim_config *cfg)
{
    if (cfg->unsafe || cfg->kernel_host) /* files, sockets: resources outside the heap */
        return NULL;
    lsim_keep *k = calloc(1, sizeof *k);
    runtime *rt = runtime_make(cfg);
    lsim_arena *arena = lsim_arena_new(KEEP_IMAGE_MAX);
    lua_State *L = NULL;
    if (k && rt && arena) {
        rt->cfg.cache_chunks = true;
        rt->arena = arena;
        runtime_start(rt);
        L = lua_newstate(rt_alloc, rt);
    }
    if (L) {
        rt->main = L;
        lua_pushcfunction(L, keep_setup);
        if (lua_pcall(L, 0, 0, 0) != LUA_OK || lsim_arena_seal(arena) != 0)
            L = NULL;
    }
    if (rt)
        lsim_heap_unwatch(rt);
    if (!L) { /* a half-made state lies wholly in the arena: freed with it */
        lsim_arena_free(arena);
        free(rt);
        free(k);
        return NULL;
    }
    k->rt = rt;
    memcpy(&k->saved, rt, offsetof(runtime, dir));
    return k;
}

lua_State *lsim_keep_begin(lsim_keep *k, void *on_net_ctx)
{
    runtime *rt = k->rt;
    memcpy(rt, &k->saved, offsetof(runtime, dir));
    rt->cfg.on_net_ctx = on_net_ctx;
    runtime_start(rt);
    return rt->main;
}

static int release_one(lua_State *L)
{
    luaL_callmeta(L, 1, "__gc");
    return 0;
}

void lsim_keep_end(lsim_keep *k)
{
    runtime *rt = k->rt;
    lua_State *L = rt->main;
    /* The run is over: releasing must not fail (half of SIZE_MAX: the
     * budget's sums must not wrap). */
    rt->cfg.max_memory = SIZE_MAX / 2;
    lua_settop(L, 0);
    lua_getfield(L, LUA_REGISTRYINDEX, OWNED_KEY);
    /* Newest first, as lua_close calls finalizers: a raw peer before its
     * simulation. */
    for (lua_Integer i = (lua_Integer)lua_rawlen(L, 1); i >= 1; i--) {
        lua_pushcfunction(L, release_one);
        lua_rawgeti(L, 1, i);
        if (lua_pcall(L, 1, 0, 0) != LUA_OK)
            lua_pop(L, 1);
    }
    lua_settop(L, 0);
    lsim_heap_unwatch(rt);
    lsim_arena_reset(rt->arena);
}

void lsim_keep_free(lsim_keep *k)
{
    if (!k)
        return;
    /* Every block of the state is in the arena, and the image owns nothing
     * else (no handle exists outside a run): no lua_close needed. */
    lsim_arena_free(k->rt->arena);
    free(k->rt);
    free(k);
}
