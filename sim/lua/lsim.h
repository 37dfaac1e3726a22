/*
 * lsim — the Lua scenario runtime: bindings over the C simulation API
 * (sim/net/net.h), the sandbox and expectations. The only code that sees
 * Lua.
 *
 * Object model (what each Lua value is):
 *  - a simulation (metatable "tcpsim.sim") owns one net (its world, hosts,
 *    socket records and rules), one rlog fed by the net's observer, and
 *    the Lua references the net's callbacks need (on_state, predicates);
 *  - hosts, links and sockets seen from Lua are handles {sim, index}: an
 *    8-byte userdata naming its simulation by number (the runtime keeps
 *    every simulation as long as the state) and never holding a raw
 *    pointer to anything the simulation may free.
 *
 * Re-entrancy: each binding checks and converts all of its arguments
 * first, then makes one net_* call, so no Lua error can be raised while a
 * stack call is open (net.h rule 4). State-change callbacks run from the
 * net's deferred queue. Lua code run from inside the event loop
 * (callbacks, fault predicates, hooks, timers) always runs under lua_pcall;
 * an error halts the net and is re-raised once sim:run returns, so no
 * longjmp ever crosses the core, the net or the stack.
 */
#ifndef LSIM_H
#define LSIM_H

#include <lua.h>
#include <lauxlib.h>
#include <stdbool.h>
#include <stdint.h>

#include "net.h"
#include "rlog.h"
#include "sim_host.h"
#include "sim_link.h"
#include "sim_world.h"
#include "tcp.h"

/* LSIM_ASAN: built with AddressSanitizer (gcc defines __SANITIZE_ADDRESS__,
 * clang answers __has_feature), whose allocator owns the heap: lsim_heap
 * counts through its hooks, and Lua's blocks come from it (lsim_runtime). */
#if defined(__SANITIZE_ADDRESS__)
#define LSIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LSIM_ASAN 1
#endif
#endif

/* The classes' metatable names. Arrays, not literals: each one's address is
 * also its metatable's key (see lsim_checkudata), so it must be one object. */
extern const char LSIM_SIM[];
extern const char LSIM_HOST[];
extern const char LSIM_LINK[];
extern const char LSIM_SOCK[];
extern const char LSIM_HELD[];

typedef struct lsim lsim;
typedef struct lsim_timers lsim_timers; /* sim:at's timers (lsim_world.c) */
typedef struct lsim_timer lsim_timer;

/* The Lua functions a segment rule calls (indexed like the net's rules). */
typedef struct lsim_rule_refs {
    int when_ref;  /* LUA_NOREF or predicate() */
    int match_ref; /* LUA_NOREF or predicate(segment), or a hook's function */
} lsim_rule_refs;

/* Lua values kept alive for C by number (lsim_pins.c). */
typedef struct lsim_pins {
    int ref;       /* LUA_NOREF, or a registry ref to the table of chunks */
    uint32_t top;  /* numbers handed out so far: 1..top */
    uint32_t free; /* the last number let go (its slot holds the next), 0: none */
} lsim_pins;
/* Pins the value at idx: its number, from 1 (may raise a memory error,
 * before the store changes; never right after lsim_pins_reserve). */
uint32_t lsim_pins_add(lua_State *L, lsim_pins *p, int idx);
/* Makes the room the next lsim_pins_add takes (may raise a memory error). */
void lsim_pins_reserve(lua_State *L, lsim_pins *p);
/* Pushes the value pinned as `id`. */
void lsim_pins_push(lua_State *L, const lsim_pins *p, uint32_t id);
/* Lets `id` go; its number is handed out again. */
void lsim_pins_drop(lua_State *L, lsim_pins *p, uint32_t id);

/* A socket record's callbacks (lsim_sock.c). */
typedef struct lsim_sock_cbs {
    uint32_t handle;    /* 0, or the pin (in lsim.handles) of the handle whose on_state
                           set the callback: the same one is passed to every call */
    uint32_t on_state;  /* its function's slot in lsim_fns, 0: none */
    uint32_t on_accept; /* (a listener) the on_accept function's slot, 0: none */
} lsim_sock_cbs;

/* The functions sockets call back, each held once however many records
 * name it (lsim_sock.c): slot i (from 1) of the Lua table `ref` refers to,
 * uses[i] records naming it; slots freed are reused. */
typedef struct lsim_fns {
    int ref;        /* LUA_NOREF, or a registry ref to the table */
    uint32_t *uses; /* by slot (uses[0] unused) */
    uint32_t cap;   /* slots uses has room for */
    uint32_t top;   /* slots made so far: 1..top */
    uint32_t *free; /* slots whose count fell to 0, to reuse */
    uint32_t nfree, capfree;
    uint32_t recent[4]; /* the slots named last: a function set again is found there */
    uint32_t next_recent;
} lsim_fns;

/* The runtime's flags every call into Lua from the event loop reads and sets
 * (lsim_call_in_loop), reached without looking the runtime up: those
 * lsim_runtime_grace and lsim_runtime_take_overdraft read and set. */
typedef struct lsim_loop_flags {
    bool grace;    /* inside the event loop, outside every callback */
    bool mem_over; /* the reserve was drawn on: stop at the next safe point */
} lsim_loop_flags;

/* A simulation seen from Lua: the net it drives and what only Lua needs. */
struct lsim {
    lua_State *L;
    uint32_t number; /* its place among the scenario's simulations (handles name it) */
    net *net;
    rlog *log;
    uint64_t seed;
    tcp_profile profile;
    bool mss_knob;           /* tcpsim.new{} set mss: every host keeps it over the MTU */
    lsim_sock_cbs *sock_cbs; /* per socket record (lsim_sock.c) */
    uint32_t capsockcbs;
    lsim_fns fns;      /* the functions they name, each held once */
    lsim_pins handles; /* the handles on_state calls pass (lsim_sock.c) */
    lsim_rule_refs *rule_refs;
    uint32_t caprulerefs;
    /* Per link: how many of its handles are alive, plus one for ever once a
     * raw peer stands at its end (peer.link makes a handle at any time).
     * In a log read only by link queries (`lean_log`) a link none can reach
     * is asked about no more: its packets are not recorded (lsim_world.c). */
    uint32_t *link_holds;
    uint32_t caplinkholds;
    bool lean_log;          /* the run log keeps no connection entries (lsim_config.no_conns) */
    lsim_timers *timers;    /* the chunks of sim:at's timers, newest first */
    lsim_timer *free_timer; /* their free list */
    int in_hook;            /* > 0 while Lua runs inside the event loop */
    int error_ref;          /* the error value to re-raise (the net is halted) */
    bool heap_spent;        /* the heap passed the budget: the world was stopped */
    /* Where the heap is counted, the runtime's flag that a C allocation took
     * it past the budget: while it is clear lsim_runtime_heap_over answers
     * false, and the observer need not ask (NULL where the heap is sampled). */
    const bool *heap_flag;
    lsim_loop_flags *loop_flags; /* the runtime's (lsim_call_in_loop) */
    bool ran;                    /* a run control was called: the setup is over */
    uint64_t gc_handles; /* lsim_runtime_handles_made at its last collection (lsim_world.c) */
    uint64_t sends;      /* packets its hosts handed to links (SIM_TR_SEND records) */
    uint64_t gc_sends;   /* the count of sends at which a small simulation next collects */
    bool gc_due;         /* collect after the step under way (lsim_world.c, after_step) */
    bool invariants;     /* sim:invariant made one: run them after every step */
    bool closed;
};

/* ---- lsim_world.c ---- */
/* The library's one growth helper (aborts on out-of-memory). */
void *lsim_grow(void *p, uint32_t *cap, uint32_t need, size_t elem);
lsim *lsim_check(lua_State *L, int idx);
void lsim_open_sim(lua_State *L);
/* Runs Lua function at the top of the stack (nargs args) under pcall from
 * inside the loop; on error keeps the error and halts the net. Returns
 * true on success (results left on the stack as nres values). */
bool lsim_call_in_loop(lsim *s, int nargs, int nres);
/* Stops the run with the error message at the top of the Lua stack (it is
 * raised once the run returns). */
void lsim_fail_in_loop(lsim *s);
/* The host index of a host handle. */
uint32_t lsim_host_of(lua_State *L, int idx, lsim **out_sim);
void lsim_push_host(lua_State *L, const lsim *s, uint32_t host);
void lsim_check_no_reentry(lua_State *L, lsim *s, const char *what);
/* Raises unless the scenario may run the simulation now (not from inside
 * the run: a callback, predicate or hook). */
void lsim_check_runnable(lua_State *L, lsim *s, const char *what);
/* After a run: re-raises an error from inside the loop; a limit reached
 * is an error too. */
void lsim_check_run(lua_State *L, lsim *s, sim_run_result r, const char *what);
/* The error that halted s's net and has not been raised yet, or NULL. */
const char *lsim_unraised_error(lsim *s);

/* Registers host `id` (just made by sim:host or sim:raw_peer) in the run
 * log, or leaves it to the log's lazy registration (a lean log). */
void lsim_log_host(lsim *s, uint32_t id, const char *name, uint32_t addr);

/* ---- lsim_sock.c ---- */
int lsim_host_listen(lua_State *L);  /* host:listen */
int lsim_host_connect(lua_State *L); /* host:connect */
void lsim_open_sock(lua_State *L);
void lsim_push_sock(lua_State *L, const lsim *s, uint32_t sock);
/* The record index of a socket handle. */
uint32_t lsim_sock_check(lua_State *L, int idx, lsim **out_sim);
/* If the error message at the top of the stack is Lua's "attempt to index
 * a nil value" and the last accept() returned nil, replaces it with the
 * message plus the hint to use accept_wait. */
void lsim_sock_explain(lua_State *L);
/* Runs the on_state callback of record `sock` (the net's observer), then,
 * if it is a listener's connection not accepted yet, the listener's
 * on_accept for each connection now ready. */
void lsim_sock_on_state(void *ctx, uint32_t sock, tcp_state from, tcp_state to);
/* Frees what the sockets' callbacks hold in C (the simulation's __gc). */
void lsim_sock_release(lsim *s);

/* ---- lsim_link.c ---- */
int lsim_sim_link(lua_State *L); /* sim:link */
void lsim_open_link(lua_State *L);
void lsim_push_link(lua_State *L, lsim *s, uint32_t link);
/* One more holder of `link` (a handle, or a raw peer for good): while it
 * has one, a script may ask about its packets. */
void lsim_link_hold(lsim *s, uint32_t link);
/* Whether a script may still ask about `link`'s packets. */
bool lsim_link_held(const lsim *s, uint32_t link);
sim_link *lsim_link_check(lua_State *L, int idx, lsim **out_sim);
/* Pushes a table describing the packet with id `packet_id` (from the log). */
void lsim_push_segment(lua_State *L, const lsim *s, size_t send_entry);
/* Pushes a list of "A>B SYN,ACK" strings, one per segment sent on the link
 * (" X" appended when it was dropped), in order. */
void lsim_link_push_exchange(lua_State *L, const lsim *s, uint32_t link);

/* ---- lsim_tcpopt.c: TCP options as Lua values ---- */
#define LSIM_TCPOPT_MAX 40 /* option bytes in a TCP header (RFC 9293 §3.1) */
/* Reads the TCP options at idx into raw bytes (out: LSIM_TCPOPT_MAX bytes)
 * and returns how many. Accepts packetdrill's notation as a string
 * ("<mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>", brackets optional),
 * named fields ({mss = 1460, wscale = 7, sack_ok = true, ts = {val = 100,
 * ecr = 0}, sack = {{left, right}, ...}}, laid out as Linux writes them) or
 * an array of option tables in wire order (the shape lsim_tcpopt_push
 * makes). Raises "<where>: ..." on a mistake or past 40 bytes. */
size_t lsim_tcpopt_check(lua_State *L, int idx, const char *where, uint8_t *out);
/* Pushes option bytes as an array of option tables in wire order:
 * {kind = "mss", mss = 1460}, {kind = "nop"}, {kind = "wscale", wscale = 7},
 * {kind = "sack_ok"}, {kind = "ts", val = v, ecr = e}, {kind = "sack",
 * blocks = {{left, right}, ...}}, {kind = "eol"}; any other kind as
 * {kind = <number>, data = <bytes>}; bytes that are no option end the list
 * as {kind = "malformed", data = <the rest>}. */
void lsim_tcpopt_push(lua_State *L, const uint8_t *bytes, size_t len);
/* Pushes the same options in packetdrill's notation, "<mss 1460,nop,wscale
 * 7>", or "" when there are none. */
void lsim_tcpopt_push_text(lua_State *L, const uint8_t *bytes, size_t len);

/* ---- lsim_peer.c: sim:raw_peer (adds the method to the simulation's) ---- */
void lsim_open_peer(lua_State *L);

/* ---- lsim_expect.c ---- */
void lsim_open_expect(lua_State *L);
/* Expectations checked and failed in this Lua state. */
void lsim_expect_counts(lua_State *L, long *checked, long *failed);
/* One more expectation checked (a scenario invariant counts once). */
void lsim_expect_checked(lua_State *L);
/* One failed: "FAIL <where><what>" printed (unless quiet_expect). */
void lsim_expect_fail(lua_State *L, const char *where, const char *what);
#define EXPECT_LINE_MAX 400

/* Has the simulation's after-step (lsim_world.c) run after every step that
 * reached a stack (net_set_after) from now on, until it has nothing left
 * to do: a collection due, invariants to run. */
void lsim_want_after(lsim *s);

/* ---- lsim_inv.c ---- */
int lsim_sim_invariant(lua_State *L); /* sim:invariant(name, fn) */
/* After a step: every invariant of s not yet failed, in the order made. */
void lsim_inv_after_step(lsim *s);

/* ---- lsim_opts.c: option tables ---- */
/* Raises "unknown option 'x' in WHERE (expected one of: ...)" for any key of
 * the table at idx not in `allowed` (NULL-terminated). */
void lsim_opts_check(lua_State *L, int idx, const char *where, const char *const *allowed);
/* Which of `names` (NULL-terminated, at most LSIM_OPTS_PRESENT_MAX: each
 * caller asserts its list's length at compile time, lsim_opts_present at
 * run time) the table at idx gives a value (not nil): bit i for names[i];
 * 0 if idx holds no table. One pass over the keys a script wrote (a
 * handful) instead of a lookup per name a reader knows (a dozen, most
 * absent); a table with a metatable is asked for each name (its __index
 * may answer any), so a set bit always means lua_getfield finds a value. */
#define LSIM_OPTS_PRESENT_MAX 64 /* the bits of the answer */
uint64_t lsim_opts_present(lua_State *L, int idx, const char *const *names);
/* lsim_opts_check(L, idx, where, allowed), then lsim_opts_present(L, idx,
 * names), with one pass over the keys for both where the table has no
 * metatable. */
uint64_t lsim_opts_check_present(lua_State *L, int idx, const char *where,
                                 const char *const *allowed, const char *const *names);
/* The name in `names` (NULL-terminated) nearest to `word` (case and '-'/'_'
 * ignored), if it is a few edits away; else NULL. */
const char *lsim_nearest(const char *word, const char *const *names);
/* Pushes "; did you mean 'x'?" for the nearest name, or "". */
void lsim_push_nearest(lua_State *L, const char *word, const char *const *names);
/* Reads a duration field (a string with a unit, "50ms"; a bare number is
 * refused unless it is 0); returns def if absent. */
uint64_t lsim_opt_duration(lua_State *L, int idx, const char *key, uint64_t def, const char *where);
uint64_t lsim_check_duration(lua_State *L, int arg, const char *where);
uint32_t lsim_opt_prob(lua_State *L, int idx, const char *key, uint32_t def, const char *where);
int64_t lsim_opt_int(lua_State *L, int idx, const char *key, int64_t def, int64_t lo, int64_t hi,
                     const char *where);
bool lsim_opt_bool(lua_State *L, int idx, const char *key, bool def, const char *where);
const char *lsim_opt_string(lua_State *L, int idx, const char *key, const char *def,
                            const char *where);
/* Applies profile knob overrides found in the table at idx. */
void lsim_profile_apply(lua_State *L, int idx, tcp_profile *p, const char *where);
/* Names of the profile knobs accepted in option tables, NULL-terminated. */
const char *const *lsim_profile_knobs(void);
/* The i-th knob's value in p (a duration, number, true/false or name). */
void lsim_profile_knob_format(const tcp_profile *p, size_t i, char *buf, size_t len);
int lsim_parse_ipv4(const char *text, uint32_t *out);
void lsim_format_ipv4(uint32_t addr, char *buf, size_t len);

/* ---- lsim_sched.c: tcpsim.new's schedule and settle options ---- */
/* Hands the options of the table at idx to lsim_config.on_schedule
 * (a Lua error if they are bad or refused). */
void lsim_schedule_opts(lua_State *L, int idx);
/* Hands the `swarm` option (a table of knob ranges) to
 * lsim_config.on_swarm as text (a Lua error if it is malformed or refused). */
void lsim_swarm_opts(lua_State *L, int idx);

/* ---- lsim_runtime.c: the Lua state, sandbox, limits, running a file ---- */
/* A message handler for lua_pcall: an error value that is no string
 * (error({}), error(nil), error(42)) gets the file:line of the Lua function
 * that raised it; a string is left as it is. */
int lsim_runtime_msgh(lua_State *L);
/* The state's main thread: what objects living past a coroutine keep. */
lua_State *lsim_main_thread(lua_State *L);
typedef struct lsim_config {
    const char *file;
    bool seed_set;
    uint64_t seed;
    const char *profile; /* NULL: the scenario's */
    const char *draws;   /* NULL: the scenario's; "stream" or "keyed" (tcpsim.new) */
    bool unsafe;
    bool check; /* tcp_check on every stack (also on by default in debug builds) */
    const char *lib_paths[16];
    int nlib_paths;
    uint64_t max_instructions;
    uint64_t max_events;
    uint64_t max_time_ns;
    size_t max_memory;
    uint64_t max_wall_ms;    /* wall-clock limit of the whole run, 0: none (a safety
                              * limit: it may stop a run, never change it) */
    const char *kernel_host; /* NULL, or the host the kernel plays (net_kern.h) */
    /* In a kernel run, the least timing tolerance of a raw peer's expect
     * (the command's --tolerance): the kernel answers in real time. */
    uint64_t kernel_tol_ns;
    /* Called with each net a scenario makes, before it is used (a tool
     * that steers runs attaches its probe here). May be NULL. */
    void (*on_net)(void *ctx, net *n);
    void *on_net_ctx;
    /* Called (with on_net_ctx) when a simulation is made with the
     * `schedule` option, before on_net for it: the schedule's text and the
     * `settle` duration (UINT64_MAX when not given). Returns 0, or -1 with
     * a message in err. NULL: the command steers no runs, the option is
     * refused. */
    int (*on_schedule)(void *ctx, const char *schedule, uint64_t settle_ns, char *err,
                       size_t errlen);
    /* Called (with on_net_ctx) when a scenario's invariant (sim:invariant)
     * first fails in simulation n: "invariant 'name' failed at T: ...".
     * May be NULL. */
    void (*on_invariant)(void *ctx, net *n, const char *msg);
    /* Called (with on_net_ctx) with the parameters of each link a scenario
     * makes, before it is made: a tool that varies the links (tcpsim
     * swarm) changes them here. May be NULL. */
    void (*on_link)(void *ctx, net *n, sim_link_params *ab, sim_link_params *ba);
    /* Called (with on_net_ctx) when a simulation is made with the `swarm`
     * option, before on_net for it: its ranges as text, "NAME=RANGE" items
     * in name order ("delay=1ms..5ms,loss=0..0.2,mtu=off"). Returns 0, or
     * -1 with a message in err. NULL: the option is ignored (a command that
     * draws no knobs). */
    int (*on_swarm)(void *ctx, const char *ranges, char *err, size_t errlen);
    bool quiet_expect; /* count failed expectations without printing them */
    bool quiet_print;  /* the scenario's print() writes nothing (a tool running
                        * it many times prints its own report) */
    bool no_payload;   /* run logs keep no payload bytes (nothing writes pcap) */
    bool no_tcbs;      /* run logs keep no TCB records (nothing writes the stepper page) */
    bool no_conns;     /* run logs keep no connection entries (nothing writes an output:
                        * the scenario's link queries read packet entries only) */
    bool cache_chunks; /* compile each file, and find each module, once per process (a
                        * tool running one scenario many times; files must not change
                        * meanwhile) */
    /* Called when a C allocation would take the run past max_memory (it is
     * not made): `msg` is the memory-limit error ("file:line: memory limit
     * of N MiB reached ..."). Runs inside malloc, must not return (the
     * process ends). NULL: the runtime writes "tcpsim: error: msg" to
     * stderr and exits with status 2. */
    void (*on_memory_stop)(const char *msg);
} lsim_config;

/* The most simulations one scenario makes (tcpsim.new says so past it). */
#define LSIM_SIMS_MAX 1024

/* Global knobs the runtime reads when a scenario creates a simulation. */
const lsim_config *lsim_config_of(lua_State *L);
lua_State *lsim_runtime_new(const lsim_config *cfg);
/* Runs the scenario file; returns 0 on success, 2 on error (message in
 * *err, a static buffer owned by the runtime). */
int lsim_runtime_run(lua_State *L, const char **err);
/* Every simulation the scenario created, in creation order. */
uint32_t lsim_runtime_sims(lua_State *L, lsim **out, uint32_t max);
/* The simulation numbered n (lsim.number), or NULL. */
lsim *lsim_runtime_sim(lua_State *L, uint32_t n);
void lsim_runtime_register_sim(lua_State *L, lsim *s);
/* The grace window: `on` while the event loop runs outside every callback
 * (binding code there may not raise). A Lua allocation past max_memory in
 * the window is granted from a 1 MiB reserve and marks the run over its
 * budget. Returns the previous setting. */
bool lsim_runtime_grace(lua_State *L, bool on);
/* Whether the reserve was drawn on since the last call (which forgets it):
 * the caller then fails with Lua's "not enough memory", and the run ends
 * with the memory-limit error unless the script catches it. */
bool lsim_runtime_take_overdraft(lua_State *L);
/* The handles lsim_push_handle has made so far in this state: how much
 * work the script did through the binding between two moments, counted
 * alike in a kept state and a fresh one (unlike Lua's allocations, which
 * loading a chunk, the string table's size and the collector's shrinking
 * of stacks make differ between them). */
uint64_t lsim_runtime_handles_made(lua_State *L);
/* Samples the process heap (at most every 10 ms): whether Lua's blocks and
 * the memory the simulator holds in C together pass max_memory. When they
 * do, the caller stops the run with Lua's "not enough memory" (the run then
 * ends with the memory-limit error and the line the script was at). */
/* Before a run enters the event loop: if the memory budget was found spent,
 * collects garbage first; then marks the loop as between callbacks. */
void lsim_runtime_before_run(lua_State *L);
bool lsim_runtime_heap_over(lua_State *L);
/* Reseeds the scenario's math.random stream ("lua") with `seed`. */
void lsim_runtime_reseed(lua_State *L, uint64_t seed);
void lsim_runtime_free(lua_State *L);

/* A state kept for many runs of one scenario (a tool running it under many
 * schedules): made once, then put back before each run, byte for byte, as
 * it was made (its heap is an lsim_arena), instead of a new state per run.
 * What callers may rely on:
 *  1. A run in a kept state behaves as the same run in a state of its own
 *     (lsim_runtime_new): what an earlier run changed (globals, library
 *     tables, package.loaded, the registry, the garbage collector's
 *     progress, math.random's stream, the budgets) is gone.
 *  2. Every file the process compiled before lsim_keep_new (cache_chunks)
 *     is loaded into the state once; a run takes that function instead of
 *     loading the file (once per file per run). Files must not change
 *     meanwhile, as with cache_chunks (which a kept state sets).
 *  3. lsim_keep_end releases what the run's simulations and raw peers hold
 *     in C (their __gc, newest first, as lua_close would) and frees every
 *     block the run allocated at once.
 * NULL when the state cannot be made, or cannot be kept (cfg.unsafe and
 * cfg.kernel_host hold resources outside the heap): run fresh states. */
typedef struct lsim_keep lsim_keep;
lsim_keep *lsim_keep_new(const lsim_config *cfg);
/* Starts a run: the state as made, with cfg.on_net_ctx set to on_net_ctx
 * (everything else as given to lsim_keep_new). Run it with
 * lsim_runtime_run; end with lsim_keep_end, never lsim_runtime_free. */
lua_State *lsim_keep_begin(lsim_keep *k, void *on_net_ctx);
void lsim_keep_end(lsim_keep *k);
void lsim_keep_free(lsim_keep *k);
/* In a kept state, lsim_keep_end calls the __gc of the value at idx (a
 * userdata owning memory or other resources in C); elsewhere nothing. */
void lsim_runtime_own(lua_State *L, int idx);

/* ---- lsim_arena.c: a heap that returns to an image (lsim_keep_*), or a pool ---- */
typedef struct lsim_arena lsim_arena;
/* An arena whose image holds at most cap bytes; NULL if out of memory. */
lsim_arena *lsim_arena_new(size_t cap);
/* An arena with no image, sealed: every block from the run region, all
 * freed by lsim_arena_free (a plain state's heap); NULL if out of memory. */
lsim_arena *lsim_arena_pool(void);
/* Lua's allocator contract (osize: the block's size; nsize 0 frees): until
 * sealed, blocks come from the image (NULL once it is full); after, from
 * the run region. */
void *lsim_arena_realloc(lsim_arena *a, void *p, size_t osize, size_t nsize);
/* Saves the image as it is: lsim_arena_reset returns to it. 0, or -1. */
int lsim_arena_seal(lsim_arena *a);
/* Frees every run block at once and copies the saved image back. */
void lsim_arena_reset(lsim_arena *a);
/* Bytes the run region holds from malloc, as lsim_heap_block counts them. */
size_t lsim_arena_heap(const lsim_arena *a);
void lsim_arena_free(lsim_arena *a);
/* Handles: every object a binding hands to Lua (host, socket, link, rule)
 * is a full userdata of 8 bytes with no user value and the metatable `mt`:
 * its simulation's number (lsim.number) and the object's index. The
 * runtime keeps each simulation for the life of the state, so a handle
 * needs no reference to it: 40 bytes of Lua's heap a handle, against 60
 * with the simulation as a user value (a scenario holds thousands). */
typedef struct lsim_handle {
    uint32_t sim;
    uint32_t index;
} lsim_handle;
void lsim_push_handle(lua_State *L, const lsim *s, uint32_t index, const char *mt);
/* The handle at idx of class mt (else a type error, as luaL_checkudata),
 * with its simulation in *out_sim (may be NULL); raises "attempt to use a
 * finished simulation" for one whose simulation was freed. */
lsim_handle *lsim_handle_check(lua_State *L, int idx, const char *mt, lsim **out_sim);
/* luaL_newmetatable, luaL_setmetatable, luaL_testudata and luaL_checkudata
 * for a class whose name `tname` is one object (LSIM_SOCK, a static array):
 * the metatable is also registered under the light userdata `tname`, and
 * the checks compare against it by that pointer key instead of hashing
 * the name on every call. Same results and the same error text. */
int lsim_newmetatable(lua_State *L, const char *tname);
void lsim_setmetatable(lua_State *L, const char *tname);
void *lsim_testudata(lua_State *L, int idx, const char *tname);
void *lsim_checkudata(lua_State *L, int idx, const char *tname);
/* The last case of every __index: pushes method `key` from the metatable's
 * "methods" table of the object at index 1, or raises "<what> has no field
 * or method '<key>'". Returns 1. */
int lsim_index_methods(lua_State *L, const char *what, const char *key);

/* ---- lsim_heap.c: the process heap ---- */
/* Bytes the process holds on its heap (0 where that cannot be measured). */
size_t lsim_heap_in_use(void);
/* Whether lsim_heap_in_use is an exact count costing O(1) (else a sample
 * costing a pass over the allocator's state, or 0). */
bool lsim_heap_exact(void);
/* Calls passed(ud) once, from inside the allocation, when the count first
 * passes limit; passed may only set flags. An allocation that would take
 * the count past cap is not made (under ASan: is the last one made):
 * refused(ud) is called instead, once, and must not return. */
void lsim_heap_watch(size_t limit, size_t cap, void (*passed)(void *ud), void (*refused)(void *ud),
                     void *ud);
/* The size a block counts for in lsim_heap_in_use (0 if not exact). */
size_t lsim_heap_block(const void *p);
/* While on, growth is neither watched nor capped; returns the old
 * setting. */
bool lsim_heap_quiet(bool on);
/* realloc(p, n), or free(p) when n is 0, with lsim_heap_quiet on for the
 * call; unless a realloc failed, adds to *held what the new block counts
 * for less what p counted for (lsim_heap_block of each). */
void *lsim_heap_resize_quiet(void *p, size_t n, size_t *held);
/* Ends the watch set with ud, if it is still the current one. */
void lsim_heap_unwatch(void *ud);

/* ---- lsim_walk.c: pairs() and next() in a fixed order ---- */
/* Sets the globals pairs and next to versions that walk a table's keys in
 * one order in every run (integers 1..n, then numbers, strings, booleans). */
void lsim_walk_open(lua_State *L);

#endif
